"""Polling load on real clients and simulated gateways: the product's request figures."""

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.solar_gateway.entity import SolarGatewayEntity
from custom_components.solar_gateway.gateway.site import DeviceKind
from simulator.clock import ManualClock

from .simulated import NOON, OPTIONS, simulated_entry

# Let the integration reach the simulator on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


async def run_for(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    clock: ManualClock,
    duration: timedelta,
    step: timedelta = timedelta(seconds=5),
) -> None:
    """Move Home Assistant's time and the simulated gateway's together."""
    for _ in range(int(duration / step)):
        clock.advance(step.total_seconds())
        freezer.tick(step)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def test_legacy_pvs_device_list_once_per_data_interval(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A legacy PVS is asked for its DeviceList once per 5-minute data interval."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    async with simulated_entry(hass, "pvs/legacy_basic", clock) as (entry, _):
        stats = entry.runtime_data.client.transport.stats
        before = stats.by_path["/cgi-bin/dl_cgi"]
        # 55 minutes: the hourly settings read does not fall inside.
        await run_for(hass, freezer, clock, timedelta(minutes=55))
        device_lists = stats.by_path["/cgi-bin/dl_cgi"] - before
    assert 10 <= device_lists <= 11, device_lists


async def test_legacy_pvs_asks_only_for_its_device_list(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Over an hour and more, a legacy PVS is asked for nothing but DeviceList.

    Get_Comm, GridProfileGet and CheckFW feed no entity: a diagnostics capture reads
    them, a poll never does.
    """
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    async with simulated_entry(hass, "pvs/legacy_basic", clock) as (entry, _):
        transport = entry.runtime_data.client.transport
        sent: list[str] = []
        original = transport.request

        async def spy(method: str, path: str, **kwargs: Any) -> Any:
            sent.append(path)
            return await original(method, path, **kwargs)

        before = transport.stats.requests
        with patch.object(transport, "request", spy):
            await run_for(hass, freezer, clock, timedelta(minutes=65))
        sent_to_gateway = transport.stats.requests - before
    # Both groups ask, one DeviceList answers both (cached for the cycle).
    assert set(sent) == {"/cgi-bin/dl_cgi?Command=DeviceList"}
    assert 12 <= sent_to_gateway <= 14, sent_to_gateway


async def test_metered_envoy_request_schedule(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A metered Envoy with batteries: each endpoint at the rate its data changes.

    Setup asks each endpoint once and that is the first refresh (the token is not
    checked apart: the gateway accepts it on every read); an owner's token is never
    sent to the installer-only production record. Then the CT readings (all of the
    site's power) every 15 s, battery SOC every minute; production.json (energy
    today and last seven days), inverters, device data, the ensemble and relays
    every 5 minutes; settings and /info (a new firmware) hourly. The generator
    endpoint says there is none: its configuration is never asked, and it is not
    asked again.
    """
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    async with simulated_entry(hass, "envoy/metered_battery", clock) as (entry, _):
        stats = entry.runtime_data.client.transport.stats
        assert stats.by_path == {
            "/ivp/meters": 1,
            "/ivp/meters/readings": 1,
            "/inventory.json": 1,
            "/ivp/pdm/device_data": 1,
            "/api/v1/production/inverters": 1,
            "/ivp/ensemble/inventory": 1,
            "/ivp/ensemble/power": 1,
            "/ivp/ensemble/secctrl": 1,
            "/ivp/ensemble/generator": 1,
            "/ivp/ensemble/dry_contacts": 1,
            "/ivp/ss/dry_contact_settings": 1,
            "/admin/lib/tariff": 1,
            "/production.json": 1,
            "/ivp/ss/pel_settings": 1,
            "/ivp/sc/pvlimit": 1,
        }
        before = stats.by_path.copy()
        await run_for(hass, freezer, clock, timedelta(hours=1))
        polled = stats.by_path - before
    assert polled == {
        "/ivp/meters/readings": 240,
        "/ivp/ensemble/secctrl": 60,
        "/production.json": 12,
        # Timed from the inverters' reports, 20 s after each: at 5:00, 10:20, ...,
        # 55:20 in the first hour, then every 5 minutes.
        "/ivp/pdm/device_data": 11,
        "/api/v1/production/inverters": 11,
        "/ivp/ensemble/inventory": 11,
        "/ivp/ensemble/power": 12,
        "/ivp/ensemble/dry_contacts": 12,
        "/ivp/meters": 1,
        "/ivp/ss/dry_contact_settings": 1,
        "/admin/lib/tariff": 1,
        "/info": 1,
    }


async def test_a_wired_generator_is_read_at_the_relays_rate(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Where a generator is wired, its state every 5 minutes and its configuration,
    mode and schedule with the settings (hourly, and at once after a write)."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    async with simulated_entry(hass, "envoy/generator_running", clock) as (entry, _):
        stats = entry.runtime_data.client.transport.stats
        for path in ("/ivp/ss/gen_config", "/ivp/ss/gen_mode", "/ivp/ss/gen_schedule"):
            assert stats.by_path[path] == 1, path
        before = stats.by_path.copy()
        await run_for(hass, freezer, clock, timedelta(minutes=15))
        polled = stats.by_path - before
    assert polled["/ivp/ensemble/generator"] == 3
    assert "/ivp/ss/gen_config" not in polled


async def test_inverters_read_just_after_they_report(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The device poll is timed from the inverters' last report: each read finds a
    report under a minute old (what polling every minute would give), with one
    request every 5 minutes."""
    # Set up half-way between two reports: a plain 5-minute timer would read each
    # report 2.5 minutes late.
    start = NOON + 150
    freezer.move_to(datetime.fromtimestamp(start, UTC))
    clock = ManualClock(start)
    async with simulated_entry(hass, "envoy/metered_battery", clock) as (entry, _):
        hub = entry.runtime_data
        stats = hub.client.transport.stats
        ages: list[float] = []
        reads = stats.by_path["/api/v1/production/inverters"]
        for _ in range(int(timedelta(minutes=30) / timedelta(seconds=5))):
            await run_for(hass, freezer, clock, timedelta(seconds=5))
            if stats.by_path["/api/v1/production/inverters"] > reads:
                reads = stats.by_path["/api/v1/production/inverters"]
                newest = max(
                    d.data_time
                    for d in hub.snapshot.of_kind(DeviceKind.INVERTER)
                    if d.data_time is not None
                )
                ages.append((dt_util.utcnow() - newest).total_seconds())
    assert 5 <= len(ages) <= 7, ages  # one read per 5-minute report
    # The first read follows setup's, whose data (the simulator's capture) has
    # reports from long ago; from then on each read comes just after a report.
    assert max(ages[1:]) < 60, ages


async def test_varserver_session_expiry_costs_one_login(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The PVS drops its session every 10 minutes (8 by default, as real ones):
    the polls that find it expired together log in once, not once each."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    ten_minutes = replace(OPTIONS, session_seconds=600.0)
    async with simulated_entry(hass, "pvs/varserver", clock, simulator=ten_minutes) as (
        entry,
        _,
    ):
        stats = entry.runtime_data.client.transport.stats
        before = stats.by_path.copy()
        await run_for(hass, freezer, clock, timedelta(hours=1))
        polled = stats.by_path - before
    assert polled["/auth"] == 6
    # livedata every minute, devices just after each 5-minute measurement (11 in
    # the first hour), the SunVault settings every 10 minutes, and the two requests
    # each expiry refused.
    assert polled["/vars"] == 60 + 11 + 6 + 2 * 6


async def _state_changes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    scenario: str,
    duration: timedelta,
) -> dict[str, list[str]]:
    """Each entity's states written in ``duration`` after setup, in order."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    seen: dict[str, list[str]] = defaultdict(list)

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            seen[event.data["entity_id"]].append(new.state)

    async with simulated_entry(hass, scenario, clock):
        unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, record)
        await run_for(hass, freezer, clock, duration)
        unsubscribe()
    return seen


async def test_device_poll_and_live_poll_due_together_keep_both_reads(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Every 5 minutes the inverter, battery and live polls fall due together: an
    inverter's power and a battery's charge move to their new report once, never
    back to the value read before (which one poll writing back its stale start did,
    a state change and a recorder row each way)."""
    seen = await _state_changes(
        hass, freezer, "envoy/metered_battery", timedelta(minutes=20)
    )
    for entity_id in (
        "sensor.inverter_202330057501_power",
        "sensor.battery_492320000140_state_of_charge",
    ):
        # Four reports in 20 minutes: one change each at most.
        assert 1 <= len(seen[entity_id]) <= 4, (entity_id, seen[entity_id])


async def test_states_written_at_the_rate_each_quantity_needs(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Over 15 minutes of a metered Envoy: the site's power at every CT poll that
    changes it, its lifetime counters at most once a minute, a CT meter's own
    measurements (its power is the site's) at most every 5 minutes."""
    seen = await _state_changes(
        hass, freezer, "envoy/metered_battery", timedelta(minutes=15)
    )
    site = "sensor.envoy_000789_"
    # 60 CT polls; the simulated power moves at most of them.
    assert len(seen[f"{site}solar_power"]) >= 45
    assert len(seen[f"{site}consumption_power"]) >= 45
    for counter in ("solar_energy", "grid_import_energy", "consumption_energy"):
        assert len(seen[site + counter]) <= 15, counter
    meter_states = {
        entity_id: states
        for entity_id, states in seen.items()
        if entity_id.startswith((f"{site}production_ct_", f"{site}storage_ct_"))
    }
    assert meter_states
    assert all(len(states) <= 3 for states in meter_states.values()), meter_states
    # ... and no less: the meters' own power follows within those 5 minutes.
    for meter in ("production_ct_power", "storage_ct_power"):
        assert len(seen[site + meter]) >= 2, seen[site + meter]


async def test_a_ct_poll_looks_only_at_what_it_changed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Between the 5-minute reads of a metered Envoy, a CT poll wakes only the
    entities of the live group: the settings' controls do not even look at their
    data (the relays, whose state comes with the live readings, do; the CT meters'
    own figures write only every 5 minutes, see above)."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    looked: list[str] = []
    original = SolarGatewayEntity.take_update

    def take_update(entity: SolarGatewayEntity) -> None:
        looked.append(entity.entity_id)
        original(entity)

    async with simulated_entry(hass, "envoy/metered_battery", clock):
        await run_for(hass, freezer, clock, timedelta(seconds=20))
        with patch.object(SolarGatewayEntity, "take_update", take_update):
            await run_for(hass, freezer, clock, timedelta(seconds=30))
    site = "sensor.envoy_000789_"
    assert f"{site}solar_power" in looked
    assert f"{site}grid_power" in looked
    controls = [
        e
        for e in looked
        if e.startswith(("select.", "number.")) or e.endswith("charge_from_grid")
    ]
    assert controls == []
