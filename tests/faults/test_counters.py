"""Counter faults: nothing of a glitch or a leap ever reaches a total_increasing state."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from simulator.faults import Fault, FaultName

from .harness import fault_run

SCENARIOS = ["envoy/metered_battery", "pvs/varserver", "pvs/legacy_basic"]
# Long enough for the counter guard to confirm a lasting change (30 minutes).
WATCH_SECONDS = 45 * 60
LEAP_WH = 1_000_000.0  # +1000 kWh


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_reboot_resets_counters(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
) -> None:
    """Uptime and counters restart from zero: each counter shows one reset at most
    (Home Assistant books what the new count says), never a run of decreases, and
    nothing goes unavailable."""
    async with fault_run(hass, freezer, caplog, scenario) as run:
        start = run.now
        run.gateway.add_fault(Fault(FaultName.REBOOT))
        never_unavailable = True
        for _ in range(WATCH_SECONDS // 5):
            await run.step()
            never_unavailable &= run.recovered()
        outcome = run.outcome(
            f"reboot ({scenario})", start, run.now, 0.0, resets_allowed=1
        )
        assert not run.tracebacks()
    assert outcome.counter_states > 0
    assert outcome.glitches == 0, outcome.notes
    assert never_unavailable


@pytest.mark.parametrize(
    ("scenario", "leap_wh"),
    [
        *((scenario, LEAP_WH) for scenario in SCENARIOS),
        # The step seen on a legacy PVS in the field.
        ("pvs/legacy_basic", 2 * LEAP_WH),
    ],
)
async def test_lasting_counter_jump(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
    leap_wh: float,
) -> None:
    """Counters leap (+1000 kWh, +2000 kWh) for good: the states go on from where
    they were."""
    async with fault_run(hass, freezer, caplog, scenario) as run:
        start = run.now
        run.gateway.add_fault(Fault(FaultName.COUNTER_JUMP, amount=leap_wh))
        await run.run(WATCH_SECONDS)
        outcome = run.outcome(
            f"counter jump +{leap_wh / 1000:.0f} kWh ({scenario})",
            start,
            run.now,
            0.0,
        )
        assert not run.tracebacks()
        grown = {
            entity_id: series.points[-1][1] - series.points[0][1]
            for entity_id, series in run.counters.items()
        }
    assert outcome.counter_states > 0
    assert outcome.glitches == 0, outcome.notes
    # The guard re-based: no counter shows the leap, and the site's solar energy
    # still grew along the new track.
    solar = [e for e in grown if e.endswith("_solar_energy")]
    assert len(solar) == 1, sorted(grown)
    assert 0 < grown[solar[0]] < leap_wh / 2, grown
    assert all(delta < leap_wh / 2 for delta in grown.values()), grown


@pytest.mark.parametrize(
    ("scenario", "fault"),
    [
        ("envoy/metered_battery", FaultName.COUNTER_SPIKE),
        ("envoy/metered_battery", FaultName.COUNTER_DIP),
        ("pvs/varserver", FaultName.COUNTER_SPIKE),
        ("pvs/varserver", FaultName.COUNTER_DIP),
        ("pvs/legacy_basic", FaultName.COUNTER_SPIKE),
    ],
)
async def test_counter_glitch_for_one_read(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
    fault: FaultName,
) -> None:
    """One answer with every counter at +1000 kWh (or at 0): never shown, and the
    polling goes on as before."""
    async with fault_run(hass, freezer, caplog, scenario) as run:
        # The busiest minute of one whole cycle of the slower reads (setup left out).
        await run.run(300)
        before = run.max_per_minute(run.now - 290, run.now + 1)
        start = run.now
        run.gateway.add_fault(Fault(fault, count=1, amount=LEAP_WH))
        await run.run(10 * 60)
        outcome = run.outcome(f"{fault} ({scenario})", start, run.now, 0.0)
        assert not run.tracebacks()
    assert outcome.counter_states > 0
    assert outcome.glitches == 0, outcome.notes
    # The same load as before the glitch (within a settings read).
    assert outcome.max_per_minute <= before + 5
