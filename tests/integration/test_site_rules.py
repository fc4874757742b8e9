"""The integration's own rules, on a scripted gateway: entities, counters, devices."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.entity_component import DATA_INSTANCES
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.solar_gateway.const import DOMAIN
from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.errors import (
    GatewayConnectionError,
    InvalidCredentialsError,
)
from custom_components.solar_gateway.gateway.site import SiteFigures

from .fake_gateway import SERIAL, SNAPSHOT, FakeGatewayClient, inverter


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up the entry."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def entity_id(hass: HomeAssistant, unique_id: str, platform: str = "sensor") -> str:
    """The entity id registered for a unique id."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None, unique_id
    return found


def state_of(hass: HomeAssistant, unique_id: str, platform: str = "sensor") -> Any:
    """The state object of the entity with ``unique_id``."""
    state = hass.states.get(entity_id(hass, unique_id, platform))
    assert state is not None
    return state


async def poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 30
) -> None:
    """Let time pass so that the live coordinator polls once."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_site_figures_become_sensors(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Each figure the gateway measures is a sensor; the others do not exist."""
    await setup(hass, fake_entry)
    assert fake_entry.state is ConfigEntryState.LOADED

    solar = state_of(hass, f"{SERIAL}_solar_power")
    assert solar.state == "3200.0"
    # Lifetime counters are kept in Wh and shown in kWh.
    assert state_of(hass, f"{SERIAL}_solar_energy").state == "12500.0"
    assert solar.attributes["unit_of_measurement"] == "W"
    assert solar.attributes["device_class"] == "power"
    energy = state_of(hass, f"{SERIAL}_grid_import_energy")
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["device_class"] == "energy"
    assert state_of(hass, f"{SERIAL}_grid_connected", "binary_sensor").state == "on"

    registry = er.async_get(hass)
    for absent in ("battery_power", "battery_state_of_charge", "backup_reserve"):
        assert (
            registry.async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_{absent}") is None
        )


async def test_device_hierarchy(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Meters and inverters are devices under the gateway, with model and serial."""
    await setup(hass, fake_entry)
    devices = dr.async_get(hass)
    gateway = devices.async_get_device_by_identifier(
        (DOMAIN, SERIAL), fake_entry.entry_id
    )
    assert gateway is not None
    assert gateway.sw_version == "8.2.4286"
    assert gateway.configuration_url == "https://192.0.2.10"
    inverter_device = devices.async_get_device_by_identifier(
        (DOMAIN, "482301000001"), fake_entry.entry_id
    )
    assert inverter_device is not None
    assert inverter_device.via_device_id == gateway.id
    assert inverter_device.model == "IQ8M"
    meter = devices.async_get_device_by_identifier(
        (DOMAIN, f"{SERIAL}EIM1"), fake_entry.entry_id
    )
    assert meter is not None
    # Named after its gateway, whose name ends with the end of its serial: a second
    # Envoy's CT gets a name (and entity ids) of its own.
    assert meter.name == "Envoy 344455 Production CT"
    assert gateway.name == "Envoy 344455"
    assert gateway.manufacturer == meter.manufacturer == "Enphase Energy"


async def test_per_phase_detail_is_disabled_by_default(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Per-phase values exist but are disabled until the user wants them."""
    await setup(hass, fake_entry)
    entry = er.async_get(hass).async_get(entity_id(hass, f"{SERIAL}EIM1_voltage_l1"))
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert entry.translation_key == "voltage_phase"


async def test_problem_sensor_is_inverted(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """A device that reports it works shows no problem."""
    await setup(hass, fake_entry)
    assert state_of(hass, f"{SERIAL}EIM1_problem", "binary_sensor").state == "off"


async def test_counter_glitches_never_reach_the_state(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """normal, 0, normal; a drop for 3 cycles; a reboot reset: states stay monotonic."""
    await setup(hass, fake_entry)
    uid = f"{SERIAL}_solar_energy"
    sequence = [12_500_100.0, 0.0, 12_500_200.0]  # a dip to 0 for one read
    sequence += [12_000_000.0] * 3 + [12_500_400.0]  # a drop for three cycles
    sequence += [0.0, 0.0, 12_500_600.0]  # a reboot that reports 0, then recovers
    shown: list[float] = []
    for value in sequence:
        fake_client.set_figures(solar_energy=value)
        await poll(hass, freezer)
        shown.append(float(state_of(hass, uid).state) * 1000)
    assert shown == sorted(shown)
    assert shown[-1] == 12_500_600.0


async def test_lasting_counter_reset_is_accepted(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """A replaced meter that counts from zero is shown once the reset has lasted."""
    await setup(hass, fake_entry)
    uid = f"{SERIAL}_grid_import_energy"
    values: list[float] = []
    for step in range(80):  # 40 minutes of 30-second polls on the new meter
        fake_client.set_figures(grid_import_energy=float(step))
        await poll(hass, freezer)
        values.append(float(state_of(hass, uid).state) * 1000)
    assert values[0] == 4_000_000.0  # held at first
    # Then the new meter's count is the state (a counter is written once a minute).
    assert values[-1] in (78.0, 79.0)


async def test_gateway_unreachable_marks_entities_unavailable_then_recovers(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """Entities go unavailable while the gateway is away and come back with it."""
    await setup(hass, fake_entry)
    fake_client.error = GatewayConnectionError("no route to host")
    await poll(hass, freezer)
    assert state_of(hass, f"{SERIAL}_solar_power").state == STATE_UNAVAILABLE
    fake_client.error = None
    await poll(hass, freezer)
    assert state_of(hass, f"{SERIAL}_solar_power").state == "3200.0"


async def test_new_inverter_gets_entities_without_reload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """An inverter that appears later is added while running, at the device poll."""
    await setup(hass, fake_entry)
    fake_client.snapshot = type(SNAPSHOT)(
        identity=SNAPSHOT.identity,
        figures=SNAPSHOT.figures,
        devices=(*SNAPSHOT.devices, inverter("482301000003", 5000.0)),
        data_time=SNAPSHOT.data_time,
    )
    await poll(hass, freezer)
    # A live poll brings values, not devices: the scan waits for the device poll.
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, "482301000003_power") is None
    await poll(hass, freezer, 270)
    assert state_of(hass, "482301000003_power").state == "250.0"
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, "482301000003"), fake_entry.entry_id
    )
    assert device is not None


async def test_device_gone_is_removed_after_a_complete_read(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """A device missing from a complete read at setup is removed from the registry."""
    await setup(hass, fake_entry)
    await hass.config_entries.async_unload(fake_entry.entry_id)
    fake_client.snapshot = type(SNAPSHOT)(
        identity=SNAPSHOT.identity,
        figures=SNAPSHOT.figures,
        devices=SNAPSHOT.devices[:2],
        data_time=SNAPSHOT.data_time,
    )
    await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    devices = dr.async_get(hass)
    assert (
        devices.async_get_device_by_identifier(
            (DOMAIN, "482301000002"), fake_entry.entry_id
        )
        is None
    )
    assert (
        devices.async_get_device_by_identifier(
            (DOMAIN, "482301000001"), fake_entry.entry_id
        )
        is not None
    )


async def test_setup_errors(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Unreachable: retried later. Rejected credentials: the user is asked."""
    fake_client.setup_error = GatewayConnectionError("refused")
    await setup(hass, fake_entry)
    assert fake_entry.state is ConfigEntryState.SETUP_RETRY

    fake_client.setup_error = InvalidCredentialsError("wrong password")
    await hass.config_entries.async_reload(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert fake_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert any(flow["context"]["source"] == "reauth" for flow in flows)


async def test_each_group_polls_at_its_own_rate(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """In 10 minutes: 20 live polls, 2 device polls, no settings poll."""
    await setup(hass, fake_entry)
    fake_client.refreshed.clear()
    for _ in range(20):
        await poll(hass, freezer, 30)
    counts = {
        group: sum(1 for groups in fake_client.refreshed if groups == {group})
        for group in DataGroup
    }
    assert counts == {DataGroup.LIVE: 20, DataGroup.DEVICES: 2, DataGroup.SETTINGS: 0}


async def test_derived_grid_energy_integrates_grid_power(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """Without grid counters, import and export are integrated from grid power."""
    fake_client.snapshot = type(SNAPSHOT)(
        identity=SNAPSHOT.identity,
        figures=SiteFigures(solar_power=0.0, grid_power=1200.0),
        devices=(),
        data_time=None,
    )
    await setup(hass, fake_entry)
    for _ in range(10):  # 5 minutes importing 1200 W = 100 Wh
        await poll(hass, freezer)
    imported = state_of(hass, f"{SERIAL}_grid_import_energy")
    assert float(imported.state) == 0.1  # kWh
    assert imported.attributes["derived"] is True
    assert float(state_of(hass, f"{SERIAL}_grid_export_energy").state) == 0.0


async def test_house_energy_integrates_the_load_where_no_counter_holds_it(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """A battery site whose gateway counts no house energy (only a total that
    includes battery charging): consumption energy is the load integrated, so
    power and energy of the consumption figure mean the same."""
    fake_client.snapshot = type(SNAPSHOT)(
        identity=SNAPSHOT.identity,
        figures=SiteFigures(
            solar_power=1200.0,
            grid_power=400.0,
            battery_power=-400.0,
            consumption_power=1200.0,
        ),
        devices=(),
        data_time=None,
    )
    await setup(hass, fake_entry)
    for _ in range(10):  # 5 minutes of a 1200 W load = 100 Wh
        await poll(hass, freezer)
    consumed = state_of(hass, f"{SERIAL}_consumption_energy")
    assert float(consumed.state) == 0.1  # kWh
    assert consumed.attributes["derived"] is True
    assert consumed.attributes["derived_from"] == "consumption_power"
    assert consumed.attributes["state_class"] == "total_increasing"


def _entity(hass: HomeAssistant, unique_id: str) -> Any:
    """The sensor entity object registered for ``unique_id``."""
    return hass.data[DATA_INSTANCES]["sensor"].get_entity(entity_id(hass, unique_id))


async def test_asking_what_an_entity_shows_changes_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """``shown()`` is a query: a counter's guard and an energy integral move only
    when data arrives, however often anyone asks."""
    fake_client.snapshot = type(SNAPSHOT)(
        identity=SNAPSHOT.identity,
        figures=SiteFigures(solar_energy=12_500_000.0, grid_power=1200.0),
    )
    await setup(hass, fake_entry)
    await poll(hass, freezer)
    counter = _entity(hass, f"{SERIAL}_solar_energy")
    derived = _entity(hass, f"{SERIAL}_grid_import_energy")
    kept = (counter.extra_restore_state_data.as_dict(), derived.native_value)

    # New figures reach the hub without a poll telling the entities (a glitching
    # counter, more imported power), and time passes.
    fake_client.snapshot = type(SNAPSHOT)(
        identity=SNAPSHOT.identity,
        figures=SiteFigures(solar_energy=0.0, grid_power=5000.0),
    )
    fake_entry.runtime_data.snapshot = fake_client.snapshot
    freezer.tick(timedelta(minutes=5))
    for _ in range(10):
        counter.shown()
        derived.shown()
    assert (counter.extra_restore_state_data.as_dict(), derived.native_value) == kept

    # The next poll is data arriving: the guard holds the dip, the integral moves.
    await poll(hass, freezer)
    assert float(state_of(hass, f"{SERIAL}_solar_energy").state) == 12_500.0
    assert derived.native_value > kept[1]
