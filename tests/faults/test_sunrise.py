"""Sunrise on a large site: 300 microinverters wake one after another."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import RELOAD_AFTER_UPDATE_DELAY
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pytest

from simulator.capture import load_source
from simulator.large_site import envoy_with_inverters
from tests.integration.simulated import FIXTURES, NOON

from .harness import LoopWatch, fault_run

SITE = "envoy/metered_battery"
INVERTERS = 300
INVERTER = "sensor.inverter_4822"  # the grown inverters' entities
# 05:45 at the site (UTC): dark; the simulated sun rises at 06:00.
DAWN = NOON - 6.25 * 3600
# To 07:00: by then every inverter is awake and reporting.
RAMP_SECONDS = 75 * 60
LIVE_SECONDS = 15.0  # the fastest polling interval (CT readings)
# The event loop is shared by everything in Home Assistant: a callback that holds it
# this long freezes the UI and automations (measured: under 0.2 s of CPU; CPU time,
# so other processes on a busy machine do not count).
LOOP_CEILING_S = 1.0


async def test_sunrise_ramp_of_300_inverters(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """From dark until all 300 inverters report: no endpoint is asked more often
    than its polling interval, no counter of the site or of an inverter falls or
    leaps (young ones start from 0 kWh), nothing is logged with a traceback, and no
    callback holds the event loop long."""
    site = envoy_with_inverters(load_source(FIXTURES / SITE), INVERTERS, dawn=True)
    async with fault_run(
        hass, freezer, caplog, f"{SITE} x{INVERTERS}", start=DAWN, source=site
    ) as run:
        # Inverter energy is disabled by default; an owner who wants it per panel
        # turns it on, and its counters are watched too.
        registry = er.async_get(hass)
        for entity in er.async_entries_for_config_entry(registry, run.entry.entry_id):
            if entity.entity_id.startswith(INVERTER) and "energy" in entity.entity_id:
                registry.async_update_entity(entity.entity_id, disabled_by=None)
        # Home Assistant reloads the entry for them half a minute later.
        await run.run(RELOAD_AFTER_UPDATE_DELAY + 5)
        run.start_recording()
        dark = {state.entity_id: state.state for state in _inverter_power(hass)}
        start = run.now
        with LoopWatch.watching() as loop:
            await run.run(RAMP_SECONDS)
        outcome = run.outcome(
            f"sunrise, {INVERTERS} inverters (envoy)", start, run.now, 0.0, loop=loop
        )
        shortest_gap = run.shortest_gap(start, run.now)
        assert not run.tracebacks()
        awake = [state for state in _inverter_power(hass) if float(state.state) > 0]
        young = [
            (entity_id, series)
            for entity_id, series in run.counters.items()
            if entity_id.startswith(INVERTER) and series.points[0][1] == 0.0
        ]
    assert len(dark) == INVERTERS
    assert {float(power) for power in dark.values()} == {0.0}
    assert len(awake) == INVERTERS
    # Inverters whose lifetime started at 0 kWh count up from it.
    assert young
    stuck = [entity_id for entity_id, series in young if series.points[-1][1] <= 0]
    assert not stuck, stuck[:4]
    assert outcome.glitches == 0, outcome.notes
    assert shortest_gap is not None
    assert shortest_gap >= LIVE_SECONDS, shortest_gap
    assert loop.longest_s < LOOP_CEILING_S, loop.longest


def _inverter_power(hass: HomeAssistant) -> list[State]:
    return [
        state
        for state in hass.states.async_all("sensor")
        if state.entity_id.startswith(INVERTER) and state.entity_id.endswith("_power")
    ]
