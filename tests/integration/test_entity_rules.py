"""How entities read to a user: translated states, devices that come and go, ids kept."""

from dataclasses import replace
from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.solar_gateway.const import DOMAIN
from custom_components.solar_gateway.devices import STALE_DEVICE_HOLD
from custom_components.solar_gateway.gateway.errors import GatewayConnectionError
from custom_components.solar_gateway.gateway.site import (
    Device,
    DeviceKind,
    Measurement,
    Quantity,
)
from custom_components.solar_gateway.migration import CURRENT_MINOR_VERSION

from .fake_gateway import SERIAL, SNAPSHOT, FakeGatewayClient, inverter
from .test_site_rules import entity_id, setup, state_of

BATTERY = "492320000140"


def battery(status: str) -> Device:
    """An IQ Battery reporting ``status`` as its state word."""
    return Device(
        kind=DeviceKind.BATTERY,
        serial=BATTERY,
        manufacturer="Enphase Energy",
        model="IQ Battery",
        model_id="836-01826-r76",
        measurements=(Measurement(Quantity.STATE, status),),
    )


async def poll_all(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let every group poll once (the slowest polls hourly)."""
    freezer.tick(timedelta(hours=1, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_status_words_are_translated_options(
    hass: HomeAssistant,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A status is an enum of options; a word not known is absent, logged once."""
    fake_client.snapshot = replace(
        SNAPSHOT, devices=(*SNAPSHOT.devices, battery("ENCHG_STATE_READY"))
    )
    await setup(hass, fake_entry)
    status = state_of(hass, f"{BATTERY}_state")
    assert status.state == "ready"
    assert status.attributes["device_class"] == "enum"
    assert status.attributes["options"] == [
        "charging",
        "discharging",
        "full",
        "idle",
        "ready",
    ]
    entry = er.async_get(hass).async_get(entity_id(hass, f"{BATTERY}_state"))
    assert entry is not None
    assert entry.translation_key == "battery_status"

    fake_client.snapshot = replace(
        SNAPSHOT, devices=(*SNAPSHOT.devices, battery("ENCHG_STATE_WHATEVER"))
    )
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            await poll_all(hass, freezer)
    assert state_of(hass, f"{BATTERY}_state").state == "unknown"
    warned = [r for r in caplog.records if "ENCHG_STATE_WHATEVER" in r.getMessage()]
    assert len(warned) == 1


async def test_a_status_of_a_kind_without_options_makes_no_entity(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Never a sensor showing the gateway's raw word: no vocabulary, no entity."""
    meter = replace(
        SNAPSHOT.devices[0],
        measurements=(Measurement(Quantity.STATE, "normal"),),
    )
    fake_client.snapshot = replace(SNAPSHOT, devices=(meter, *SNAPSHOT.devices[1:]))
    await setup(hass, fake_entry)
    registry = er.async_get(hass)
    assert (
        registry.async_get_entity_id("sensor", DOMAIN, f"{meter.serial}_state") is None
    )


async def test_device_registry_shows_product_and_part_number(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Model is the product's name, model id the part number; the MAC connects."""
    gateway = Device(
        kind=DeviceKind.GATEWAY,
        serial=SERIAL,
        manufacturer="Enphase Energy",
        model="IQ Gateway",
        model_id="800-00664-r05",
        mac="00:22:F2:AA:BB:CC",
    )
    fake_client.snapshot = replace(
        SNAPSHOT, devices=(gateway, *SNAPSHOT.devices, battery("ENCHG_STATE_READY"))
    )
    await setup(hass, fake_entry)
    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), fake_entry.entry_id
    )
    assert device is not None
    assert (device.model, device.model_id) == ("IQ Gateway", "800-00664-r05")
    assert device.connections == {(dr.CONNECTION_NETWORK_MAC, "00:22:f2:aa:bb:cc")}
    stored = registry.async_get_device_by_identifier(
        (DOMAIN, BATTERY), fake_entry.entry_id
    )
    assert stored is not None
    assert (stored.model, stored.model_id) == ("IQ Battery", "836-01826-r76")
    assert stored.name == f"Battery {BATTERY}"


async def test_a_device_gone_for_a_day_is_removed_while_running(
    hass: HomeAssistant,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Missing from every read for a day: removed; back within the day: kept."""
    await setup(hass, fake_entry)
    registry = dr.async_get(hass)
    gone = "482301000002"
    kept = "482301000001"
    without = replace(SNAPSHOT, devices=SNAPSHOT.devices[:2])

    # A night without one inverter, then it is back: nothing is removed.
    fake_client.snapshot = without
    for _ in range(12):
        await poll_all(hass, freezer)
    fake_client.snapshot = SNAPSHOT
    await poll_all(hass, freezer)
    fake_client.snapshot = without
    for _ in range(12):
        await poll_all(hass, freezer)
    assert (
        registry.async_get_device_by_identifier((DOMAIN, gone), fake_entry.entry_id)
        is not None
    )

    # A day of reads after it was last seen (each poll is an hour and a second).
    for _ in range(int(STALE_DEVICE_HOLD / timedelta(hours=1)) - 12 + 1):
        await poll_all(hass, freezer)
    assert (
        registry.async_get_device_by_identifier((DOMAIN, gone), fake_entry.entry_id)
        is None
    )
    assert (
        registry.async_get_device_by_identifier((DOMAIN, kept), fake_entry.entry_id)
        is not None
    )
    assert (
        er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{gone}_power")
        is None
    )


async def test_failed_reads_never_remove_a_device(
    hass: HomeAssistant,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Time without answers does not count: the day starts again after an outage."""
    await setup(hass, fake_entry)
    fake_client.snapshot = replace(SNAPSHOT, devices=SNAPSHOT.devices[:2])
    for _ in range(12):
        await poll_all(hass, freezer)
    fake_client.error = GatewayConnectionError("no route to host")
    for _ in range(30):
        await poll_all(hass, freezer)
    fake_client.error = None
    for _ in range(12):
        await poll_all(hass, freezer)
    registry = dr.async_get(hass)
    assert registry.async_get_device_by_identifier(
        (DOMAIN, "482301000002"), fake_entry.entry_id
    )


async def test_unique_ids_of_battery_controls_are_migrated(
    hass: HomeAssistant, fake_client: FakeGatewayClient
) -> None:
    """Version 1.1 entries: mode and reserve keep their entity ids (and history)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Envoy",
        unique_id=SERIAL,
        data={"host": "192.0.2.10", "brand": "enphase"},
        minor_version=1,
    )
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    old = {
        ("select", "storage_mode"): "select.envoy_battery_mode",
        ("select", "battery_control_mode"): "select.pvs6_battery_control_mode",
        ("number", "reserve_soc"): "number.envoy_battery_backup_reserve",
        ("number", "min_customer_soc"): "number.pvs6_battery_backup_reserve",
        ("sensor", "backup_reserve"): "sensor.envoy_backup_reserve",
        ("sensor", "solar_power"): "sensor.envoy_solar_power",
    }
    for (domain, suffix), wanted in old.items():
        serial = "ZT244285000549W8841" if "pvs6" in wanted else SERIAL
        registry.async_get_or_create(
            domain,
            DOMAIN,
            f"{serial}_{suffix}",
            config_entry=entry,
            suggested_object_id=wanted.split(".", 1)[1],
        )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.minor_version == CURRENT_MINOR_VERSION
    unique = {e.entity_id: e.unique_id for e in registry.entities.values()}
    assert unique["select.envoy_battery_mode"] == f"{SERIAL}_battery_mode"
    assert unique["select.pvs6_battery_control_mode"] == (
        "ZT244285000549W8841_battery_mode"
    )
    assert unique["number.envoy_battery_backup_reserve"] == f"{SERIAL}_backup_reserve"
    assert unique["number.pvs6_battery_backup_reserve"] == (
        "ZT244285000549W8841_backup_reserve"
    )
    assert unique["sensor.envoy_solar_power"] == f"{SERIAL}_solar_power"
    # The reserve sensor repeated the number: gone.
    assert "sensor.envoy_backup_reserve" not in unique


async def test_new_inverter_gets_a_serial_name(
    hass: HomeAssistant,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A device that appears later is registered and named like the others."""
    await setup(hass, fake_entry)
    fake_client.snapshot = replace(
        SNAPSHOT, devices=(*SNAPSHOT.devices, inverter("482301000003", 5.0))
    )
    await poll_all(hass, freezer)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, "482301000003"), fake_entry.entry_id
    )
    assert device is not None
    assert device.name == "Inverter 482301000003"
