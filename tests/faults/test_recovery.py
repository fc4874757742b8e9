"""Lasting faults: no storm while they last, recovery within one live interval after."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from simulator.faults import Fault, FaultName

from .harness import ENVOY, LEGACY, LIVE_INTERVAL, STEP, VARSERVER, fault_run

# Requests one poll may send while failing: a varserver logs in again first (its
# session is not trusted after a failure).
PER_POLL = {ENVOY: 1, VARSERVER: 2, LEGACY: 1}
# A request sent just before a hang ends is still held; it ends at its read timeout
# (the gateway never answers it), and recovery can only start then.
HANG_TAIL = {ENVOY: 30.0, VARSERVER: 30.0, LEGACY: 120.0}
FAULT_SECONDS = 300.0


@pytest.mark.parametrize(
    ("scenario", "fault"),
    [
        (ENVOY, FaultName.TRUNCATED_JSON),
        (ENVOY, FaultName.HANG),
        (ENVOY, FaultName.UNAVAILABLE),
        (VARSERVER, FaultName.HANG),
        (VARSERVER, FaultName.MALFORMED_JSON),
        (VARSERVER, FaultName.UNAVAILABLE),
        (LEGACY, FaultName.HANG),
        (LEGACY, FaultName.UNAVAILABLE),
    ],
)
async def test_lasting_fault(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
    fault: FaultName,
) -> None:
    """Five minutes of the fault, then the gateway answers normally again."""
    async with fault_run(hass, freezer, caplog, scenario) as run:
        start = run.now
        run.gateway.add_fault(Fault(fault, duration=FAULT_SECONDS))
        await run.run(FAULT_SECONDS)
        end = run.now
        recovery = await run.until_recovered(limit=4 * LIVE_INTERVAL[scenario])
        outcome = run.outcome(f"{fault} ({scenario})", start, end, recovery)
        assert not run.tracebacks()
    assert outcome.glitches == 0, outcome.notes
    assert recovery is not None
    tail = HANG_TAIL[scenario] if fault is FaultName.HANG else 0.0
    assert recovery <= LIVE_INTERVAL[scenario] + tail + STEP.total_seconds(), recovery
    # One poll per live interval while the gateway fails, plus the devices and
    # settings polls that fell due.
    polls = FAULT_SECONDS / LIVE_INTERVAL[scenario] + 2
    assert outcome.requests_during_fault <= polls * PER_POLL[scenario]
