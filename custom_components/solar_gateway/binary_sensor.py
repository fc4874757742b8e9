"""Binary sensors: grid connection, and every on/off state of every device."""

from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import GatewayCoordinator, SolarGatewayConfigEntry
from .entity import SolarGatewayEntity
from .gateway.site import DeviceKind, Quantity
from .measurement import MeasurementEntity

# Coordinators poll; entities never do.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class StateBinarySensorDescription(BinarySensorEntityDescription):
    """How a device's on/off measurement is shown."""

    quantity: Quantity
    invert: bool = False  # the measurement is "good" while the sensor reports a problem


def _state(
    quantity: Quantity,
    key: str,
    device_class: BinarySensorDeviceClass,
    *,
    diagnostic: bool = True,
    invert: bool = False,
) -> StateBinarySensorDescription:
    """Describe one on/off measurement: its key is also its translation key."""
    return StateBinarySensorDescription(
        quantity=quantity,
        key=key,
        translation_key=key,
        device_class=device_class,
        entity_category=EntityCategory.DIAGNOSTIC if diagnostic else None,
        invert=invert,
    )


BINARY_SENSORS: dict[Quantity, StateBinarySensorDescription] = {
    description.quantity: description
    for description in (
        _state(
            Quantity.COMMUNICATING,
            "communicating",
            BinarySensorDeviceClass.CONNECTIVITY,
        ),
        _state(Quantity.PRODUCING, "producing", BinarySensorDeviceClass.RUNNING),
        _state(
            Quantity.WORKING, "problem", BinarySensorDeviceClass.PROBLEM, invert=True
        ),
        _state(Quantity.DC_SWITCH_ON, "dc_switch", BinarySensorDeviceClass.POWER),
        _state(
            Quantity.GRID_CONNECTED,
            "grid_connected",
            BinarySensorDeviceClass.POWER,
            diagnostic=False,
        ),
        _state(
            Quantity.RELAY_CLOSED,
            "relay_closed",
            BinarySensorDeviceClass.POWER,
            diagnostic=False,
        ),
    )
}

# The site's grid connection is shown as a device's would be.
SITE_GRID_CONNECTED = BINARY_SENSORS[Quantity.GRID_CONNECTED]

# Where a reading means more on one kind of device, it is named for it (the key,
# and so the unique id, stays). A dry contact's device is the relay: its state is
# just "Closed". A generator's relay closes while it runs.
KIND_BINARY_SENSORS: dict[tuple[DeviceKind, Quantity], StateBinarySensorDescription] = {
    (DeviceKind.RELAY, Quantity.RELAY_CLOSED): replace(
        BINARY_SENSORS[Quantity.RELAY_CLOSED], translation_key="contact_closed"
    ),
    (DeviceKind.GENERATOR, Quantity.RELAY_CLOSED): replace(
        BINARY_SENSORS[Quantity.RELAY_CLOSED],
        translation_key="generator_running",
        device_class=BinarySensorDeviceClass.RUNNING,
    ),
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create binary sensors for what the site reports now, and later what appears."""
    runtime = entry.runtime_data
    known: set[str] = set()

    @callback
    def add_new() -> None:
        entities: list[BinarySensorEntity] = []
        snapshot = runtime.snapshot
        if (
            "grid_connected" not in known
            and snapshot.figures.grid_connected is not None
        ):
            known.add("grid_connected")
            group = runtime.client.figure_group("grid_connected")
            entities.append(SiteGridConnectedSensor(runtime.coordinator(group)))
        for device in snapshot.devices:
            for measurement in device.measurements:
                description = KIND_BINARY_SENSORS.get(
                    (device.kind, measurement.quantity)
                ) or BINARY_SENSORS.get(measurement.quantity)
                if (
                    description is None
                    or measurement.phase is not None
                    or not isinstance(measurement.value, bool)
                ):
                    continue
                marker = f"{device.serial}_{description.key}"
                if marker not in known:
                    known.add(marker)
                    coordinator = runtime.coordinator(
                        runtime.client.device_group(device)
                    )
                    entities.append(
                        StateBinarySensor(coordinator, device, description, measurement)
                    )
        if entities:
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(runtime.async_add_structure_listener(add_new))


class SiteGridConnectedSensor(SolarGatewayEntity, BinarySensorEntity):
    """Whether the site is connected to the grid (off: islanded on backup)."""

    entity_description = SITE_GRID_CONNECTED

    def __init__(self, coordinator: GatewayCoordinator) -> None:
        """Show the site's grid connection on the gateway's device."""
        super().__init__(coordinator, None, SITE_GRID_CONNECTED.key)

    @property
    @override
    def is_on(self) -> bool | None:
        """The site figure from the latest data."""
        return self.coordinator.data.figures.grid_connected

    @override
    def shown(self) -> Hashable:
        return self.is_on


class StateBinarySensor(MeasurementEntity, BinarySensorEntity):
    """One on/off measurement of one device."""

    entity_description: StateBinarySensorDescription

    @property
    @override
    def is_on(self) -> bool | None:
        """The state from the latest snapshot."""
        value = self.reading()
        if not isinstance(value, bool):
            return None
        return not value if self.entity_description.invert else value

    @override
    def shown(self) -> Hashable:
        return self.is_on
