"""One failed poll costs one interval: after a 503 or a timeout, the first poll
after the back-off sends its request, and the figures are back within one interval.

Run with timers firing at their own time (``run_timers``), as in a real Home
Assistant, where a coordinator's next poll falls due up to a second before a
back-off of the same length ends.
"""

from dataclasses import replace

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.solar_gateway.const import DOMAIN
from simulator.faults import Fault, FaultName

from .harness import ENVOY, LEGACY, LIVE_INTERVAL, VARSERVER, FaultRun, fault_run

# Failed requests that make one poll fail: an Envoy tries a timed-out read twice.
TIMEOUTS_PER_POLL = {ENVOY: 2, VARSERVER: 1, LEGACY: 1}
# Time for the fault to be met, the back-off, one interval and some to spare.
WATCH = {ENVOY: 180.0, VARSERVER: 420.0, LEGACY: 1500.0}
# A gateway takes its time to answer, a 503 too: a poll fails a little later than its
# timer fired.
ANSWER_SECONDS = 0.35
# Slack for a poll's own stagger (Home Assistant's 0.05 to 0.5 s) and the read time.
SLACK = 1.5


class PowerWatch:
    """When the site's solar power went unavailable and came back."""

    def __init__(self, run: FaultRun) -> None:
        """Find the entity and follow its states."""
        entity_id = er.async_get(run.hass).async_get_entity_id(
            "sensor", DOMAIN, f"{run.gateway.identity.serial}_solar_power"
        )
        assert entity_id is not None
        self.entity_id = entity_id
        self.run = run
        self.lost: list[float] = []
        self.back: list[float] = []
        run.entry.async_on_unload(
            run.hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)
        )

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] != self.entity_id:
            return
        old, new = event.data["old_state"], event.data["new_state"]
        was = old is not None and old.state == STATE_UNAVAILABLE
        now = new is not None and new.state == STATE_UNAVAILABLE
        if now and not was:
            self.lost.append(self.run.now)
        elif was and not now:
            self.back.append(self.run.now)


@pytest.mark.parametrize("scenario", [ENVOY, VARSERVER, LEGACY])
@pytest.mark.parametrize("fault", [FaultName.UNAVAILABLE, FaultName.HANG])
async def test_recovery_within_one_interval(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
    fault: FaultName,
) -> None:
    """One poll fails (a 503, or no answer until the read timeout); the next poll,
    due as the back-off ends, reads the gateway and the power is shown again."""
    async with fault_run(hass, freezer, caplog, scenario) as run:
        gateway = run.gateway
        gateway.options = replace(gateway.options, answer_seconds=ANSWER_SECONDS)
        watch = PowerWatch(run)
        count = TIMEOUTS_PER_POLL[scenario] if fault is FaultName.HANG else 1
        start = run.now
        run.gateway.add_fault(Fault(fault, count=count))
        await run.run_timers(WATCH[scenario])
        requests = [r.time for r in run.gateway.requests if r.time > start]
        # Before the entry is unloaded (which leaves every entity unavailable).
        losses, returns = list(watch.lost), list(watch.back)
        run.outcome(
            f"one {fault} ({scenario})",
            start,
            run.now,
            returns[0] - losses[0] if losses and returns else None,
        )
        assert not run.tracebacks()
    assert len(losses) == 1, (losses, returns)
    assert len(returns) == 1, (losses, returns)
    lost, back = losses[0], returns[0]
    interval = LIVE_INTERVAL[scenario]
    # The figures are back within one interval of the failed poll...
    assert back - lost <= interval + SLACK, back - lost
    # ...because the first poll after it sent its request: nothing was asked
    # between the failure and the poll that brought the figures back.
    after = [t for t in requests if lost < t]
    assert after, "nothing was asked after the failure"
    assert after[0] - lost >= interval - SLACK, after[0] - lost
    assert after[0] <= back
