"""Setup, polling failures, firmware changes, restarts and device removal."""

from dataclasses import replace
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, restore_state
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from custom_components.solar_gateway import async_remove_config_entry_device
from custom_components.solar_gateway.const import CONF_LIVE_INTERVAL, DOMAIN
from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.errors import (
    GatewayBusyError,
    GatewayError,
    TokenExpiredError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.site import (
    Device,
    DeviceKind,
    Measurement,
    Quantity,
    SiteFigures,
)

from .fake_gateway import SERIAL, SNAPSHOT, FakeGatewayClient
from .test_site_rules import entity_id, poll, setup, state_of


@pytest.mark.parametrize(
    "error",
    [
        GatewayBusyError("503", 120),
        UnexpectedPayloadError("truncated JSON"),
        GatewayError("something else"),
    ],
)
async def test_poll_failures_make_entities_unavailable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
    error: GatewayError,
) -> None:
    """Whatever the failure, entities show unavailable rather than stale values."""
    await setup(hass, fake_entry)
    fake_client.error = error
    await poll(hass, freezer)
    assert state_of(hass, f"{SERIAL}_grid_power").state == STATE_UNAVAILABLE
    coordinator = fake_entry.runtime_data.coordinators[DataGroup.LIVE]
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key in {
        "gateway_busy",
        "unexpected_payload",
        "update_failed",
    }


async def test_a_failed_group_greys_out_only_the_data_it_reports(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """A failed settings read leaves live power available; a failed live read
    leaves inverter data, read with the devices, available."""
    await setup(hass, fake_entry)
    hub = fake_entry.runtime_data
    fake_client.error = UnexpectedPayloadError("tariff truncated")
    fake_client.failing = frozenset({DataGroup.SETTINGS})
    await hub.coordinators[DataGroup.SETTINGS].async_refresh()
    await hass.async_block_till_done()
    assert not hub.coordinators[DataGroup.SETTINGS].last_update_success
    assert state_of(hass, f"{SERIAL}_grid_power").state == "-2000.0"
    assert state_of(hass, "482301000001_power").state == "250.0"

    fake_client.failing = frozenset({DataGroup.LIVE})
    await poll(hass, freezer)
    assert state_of(hass, f"{SERIAL}_grid_power").state == STATE_UNAVAILABLE
    assert state_of(hass, "482301000001_power").state == "250.0"

    fake_client.error = None
    await poll(hass, freezer)
    assert state_of(hass, f"{SERIAL}_grid_power").state == "-2000.0"


async def test_expired_token_while_running_asks_the_user(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """A token that expires while running starts reauthentication."""
    await setup(hass, fake_entry)
    fake_client.error = TokenExpiredError("expired")
    await poll(hass, freezer)
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_poll_is_aligned_to_the_gateway_data_cadence(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """A gateway with fixed data times is read just after new data is due."""
    await setup(hass, fake_entry)
    fake_client.next_due = dt_util.utcnow() + timedelta(seconds=200)
    await poll(hass, freezer)
    coordinator = fake_entry.runtime_data.coordinators[DataGroup.LIVE]
    # Due in 170 s, but never later than twice the configured 30 s...
    assert coordinator.update_interval == timedelta(seconds=60)
    fake_client.next_due = dt_util.utcnow() + timedelta(seconds=61)
    await poll(hass, freezer, 60)
    # ...and never sooner than the gateway's minimum.
    assert coordinator.update_interval == timedelta(seconds=5)


async def test_interval_options_are_bounded_by_the_gateway(
    hass: HomeAssistant, fake_client: FakeGatewayClient
) -> None:
    """An interval below what the gateway bears is raised to its minimum."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SERIAL,
        data={"host": "192.0.2.10", "brand": "enphase"},
        options={CONF_LIVE_INTERVAL: 1},
    )
    await setup(hass, entry)
    assert entry.runtime_data.coordinators[DataGroup.LIVE].update_interval == timedelta(
        seconds=5
    )


async def test_new_firmware_reloads_the_entry(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """A firmware update is noticed at the device poll; the entry reloads and the
    device shows it."""
    await setup(hass, fake_entry)
    fake_client.snapshot = replace(
        SNAPSHOT, identity=replace(SNAPSHOT.identity, firmware="8.3.5167")
    )
    await poll(hass, freezer, 300)
    await hass.async_block_till_done()
    assert fake_entry.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, SERIAL), fake_entry.entry_id
    )
    assert device is not None
    assert device.sw_version == "8.3.5167"


async def test_manual_update_polls_the_entitys_group(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """homeassistant.update_entity reads what the entity shows now, nothing more."""
    await setup(hass, fake_entry)
    assert await async_setup_component(hass, "homeassistant", {})
    fake_client.refreshed.clear()
    await hass.services.async_call(
        "homeassistant",
        "update_entity",
        {"entity_id": entity_id(hass, f"{SERIAL}_solar_power")},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert fake_client.refreshed == [frozenset({DataGroup.LIVE})]


async def test_user_may_remove_only_devices_the_gateway_dropped(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """A reported device cannot be deleted; a stale one can."""
    await setup(hass, fake_entry)
    registry = dr.async_get(hass)
    reported = registry.async_get_device_by_identifier(
        (DOMAIN, "482301000001"), fake_entry.entry_id
    )
    assert reported is not None
    assert not await async_remove_config_entry_device(hass, fake_entry, reported)
    stale = registry.async_get_or_create(
        config_entry_id=fake_entry.entry_id, identifiers={(DOMAIN, "999999999999")}
    )
    assert await async_remove_config_entry_device(hass, fake_entry, stale)


async def test_counter_guard_and_derived_energy_survive_a_restart(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Restored guards hold back a glitch at start; derived totals continue."""
    solar_id = "sensor.envoy_344455_solar_energy"
    derived_id = "sensor.envoy_344455_grid_import_energy"
    fake_client.snapshot = replace(
        SNAPSHOT,
        figures=SiteFigures(solar_power=100.0, solar_energy=0.0, grid_power=500.0),
        devices=(),
        data_time=None,
    )
    now = dt_util.utcnow().isoformat()
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(solar_id, "5.0"),
                {"guard": {"accepted": 5000.0, "accepted_at": now, "suspects": []}},
            ),
            (
                State(derived_id, "2.0"),
                {"total": 2000.0, "last_power": 500.0, "last_time": now},
            ),
        ],
    )
    await setup(hass, fake_entry)
    assert entity_id(hass, f"{SERIAL}_solar_energy") == solar_id
    # The gateway's 0 right after start is a glitch: the restored 5 kWh stays.
    assert state_of(hass, f"{SERIAL}_solar_energy").state == "5.0"
    assert float(state_of(hass, f"{SERIAL}_grid_import_energy").state) >= 2.0


async def test_rebased_counter_keeps_its_offset_across_a_restart(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """A counter re-based twice after lasting leaps (offset -3 MWh) goes on from the
    value it showed after a restart, and stores the same offset again."""
    solar_id = "sensor.envoy_344455_solar_energy"
    fake_client.snapshot = replace(
        SNAPSHOT,
        figures=SiteFigures(solar_power=100.0, solar_energy=3_005_400.0),
        devices=(),
        data_time=None,
    )
    stored = {
        "accepted": 3_005_300.0,
        "accepted_at": dt_util.utcnow().isoformat(),
        "offset": -3_000_000.0,
        "suspects": [],
    }
    mock_restore_cache_with_extra_data(
        hass, [(State(solar_id, "5.3"), {"guard": stored})]
    )
    await setup(hass, fake_entry)
    assert state_of(hass, f"{SERIAL}_solar_energy").state == "5.4"
    kept = {
        state.state.entity_id: state.extra_data
        for state in restore_state.async_get(hass).async_get_stored_states()
    }
    extra = kept[solar_id]
    assert extra is not None
    assert extra.as_dict()["guard"] == {
        **stored,
        "accepted": 3_005_400.0,
        "accepted_at": extra.as_dict()["guard"]["accepted_at"],
    }


async def test_corrupt_restored_data_is_ignored(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Unreadable stored data starts the counters afresh instead of failing."""
    fake_client.snapshot = replace(
        SNAPSHOT,
        figures=SiteFigures(solar_energy=700.0, grid_power=-10.0),
        devices=(),
    )
    mock_restore_cache_with_extra_data(
        hass,
        [
            (State("sensor.envoy_344455_solar_energy", "1"), {"guard": "nonsense"}),
            (State("sensor.envoy_344455_grid_export_energy", "1"), {"total": "x"}),
        ],
    )
    await setup(hass, fake_entry)
    assert state_of(hass, f"{SERIAL}_solar_energy").state == "0.7"
    assert state_of(hass, f"{SERIAL}_grid_export_energy").state == "0.0"


async def test_boolean_in_a_numeric_measurement_is_not_shown_as_a_number(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """A gateway sending true where a number belongs shows unknown, not 1."""
    odd = Device(
        kind=DeviceKind.BATTERY,
        serial="BAT1",
        manufacturer="Enphase Energy",
        measurements=(
            Measurement(Quantity.TEMPERATURE, True),
            Measurement(Quantity.LIFETIME_ENERGY, "n/a"),
            Measurement(Quantity.STATE_OF_CHARGE, 55),
        ),
    )
    fake_client.snapshot = replace(SNAPSHOT, devices=(odd,))
    await setup(hass, fake_entry)
    assert state_of(hass, "BAT1_temperature").state == "unknown"
    assert state_of(hass, "BAT1_lifetime_energy").state == "unknown"
    assert state_of(hass, "BAT1_state_of_charge").state == "55"


async def test_device_gone_while_running_is_unavailable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """A device the gateway stops reporting turns unavailable at its group's next
    poll, until it returns."""
    await setup(hass, fake_entry)
    fake_client.snapshot = replace(SNAPSHOT, devices=SNAPSHOT.devices[:2])
    await poll(hass, freezer, seconds=301)
    assert state_of(hass, "482301000002_power").state == STATE_UNAVAILABLE
    assert state_of(hass, "482301000001_power").state == "250.0"
    await hass.config_entries.async_unload(fake_entry.entry_id)
    assert fake_entry.state is ConfigEntryState.NOT_LOADED
