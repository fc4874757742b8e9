"""The base entity shared by every platform."""

from collections.abc import Hashable
import time
from typing import override

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN
from .coordinator import SiteHub
from .gateway.client import DataGroup
from .gateway.site import Device, Measurement, MeasurementValue

# Polls wander by milliseconds: a slow quantity due now is not put off by a whole
# interval for that.
_TIMING_SLACK = 1.0


class SolarGatewayEntity(Entity):
    """An entity showing something one device of the site reports.

    It listens to every coordinator of its gateway through the hub, and writes its
    state only when what it shows has changed, so fast polls of other data cost it
    nothing. It is unavailable only while the group that reports its data fails.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    # Seconds between two looks at the data at least (so between two state writes),
    # for a quantity that needs no more (a lifetime counter, a voltage): 0 writes
    # every change at once. Becoming available or unavailable is written at once.
    _min_write_interval = 0.0
    # The site figure (a ``SiteFigures`` field) the entity shows, if it shows one.
    figure: str | None = None

    def __init__(self, hub: SiteHub, device: Device | None, key: str) -> None:
        """Bind to ``device`` (None: the gateway) and build the unique id from ``key``."""
        self.hub = hub
        self.serial = device.serial if device else None
        self._attr_unique_id = f"{self.serial or hub.snapshot.identity.serial}_{key}"
        # The registrar has created the device, with its place in the hierarchy.
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, self.serial or hub.snapshot.identity.serial)}
        )
        self._last_written: tuple[bool, Hashable] = (False, None)
        self._last_source: object = None
        self._checked_at = 0.0
        self._epoch = -1  # the hub's availability epoch when last looked at

    @property
    def device(self) -> Device | None:
        """The device in the latest snapshot (None when it is gone or is the gateway)."""
        if self.serial is None:
            return None
        return self.hub.snapshot.device(self.serial)

    @property
    def data_group(self) -> DataGroup:
        """The group whose read reports what this entity shows."""
        client = self.hub.client
        if self.figure is not None:
            return client.figure_group(self.figure)
        device = self.device
        return DataGroup.LIVE if device is None else client.device_group(device)

    @property
    @override
    def available(self) -> bool:
        """Available while its data is read successfully and the device is reported."""
        if self.serial is not None and self.device is None:
            return False
        if self.figure is not None:
            return self.hub.figure_available(self.figure, self.data_group)
        return self.hub.group_available(self.data_group)

    def shown(self) -> Hashable:
        """What the entity shows; a change of it is what triggers a state write.

        Asked as often as anyone likes: it never changes the entity's own state.
        """
        return None

    # Whether the state is made of the entity's own device alone (and its group's
    # availability): the hub then tells it only of updates that bring a new object
    # for that device, which a gateway client hands over unchanged while the device
    # was not read again.
    device_only = False
    # Whether the state is made of the entity's control alone: the hub then tells it
    # only of updates that bring new controls.
    controls_only = False

    def source(self) -> object | None:
        """What the state is made of: the very same object means nothing new to show.

        Together with the hub's availability epoch it decides the entity's
        availability too, so it is None while the entity's device is gone. None
        (the default): anything may have changed, look at every update. An entity
        that shows only its device's measurements (``device_only``) returns the
        device.
        """
        return self.device if self.device_only else None

    def take_update(self) -> None:
        """Take in the hub's latest data, where the entity keeps state of its own.

        Called once per hub update whose ``source`` is new, before ``shown``: a
        counter guard or an energy integral moves here, not in a query.
        """

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the hub once added."""
        await super().async_added_to_hass()
        self._last_written = (self.available, self.shown())
        self._last_source = self.source()
        self._checked_at = time.monotonic()
        self._epoch = self.hub.availability_epoch
        self.async_on_remove(
            self.hub.async_add_listener(
                self._handle_hub_update,
                serial=self.serial if self.device_only else None,
                controls=self.controls_only,
            )
        )

    @callback
    def _handle_hub_update(self) -> None:
        # Most updates change nothing an entity shows (a fast poll of other data):
        # they are told apart by identity, before any value is looked at.
        source = self.source()
        epoch = self.hub.availability_epoch
        if epoch == self._epoch and source is not None:
            if source is self._last_source:
                return
            if self._last_written[0] and self._min_write_interval:
                now = self.hub.notified_at
                if now - self._checked_at < self._min_write_interval - _TIMING_SLACK:
                    # A slow quantity looked at moments ago: a later update shows it.
                    return
                self._checked_at = now
        self._epoch = epoch
        self.take_update()
        current = (self.available, self.shown())
        self._last_source = source
        if current == self._last_written:
            return
        self._last_written = current
        self.async_write_ha_state()

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Go on under a new entity id, in place (Home Assistant 2026.11 and later).

        Nothing the entity follows is keyed on its entity id. Before 2026.11 Home
        Assistant has no such hook and adds the entity again instead.
        """
        if (parent := getattr(super(), "async_entity_id_changed", None)) is not None:
            parent(old_entity_id)

    async def async_update(self) -> None:
        """Poll the gateway now (``homeassistant.update_entity``)."""
        await self.hub.async_refresh_all()


class MeasurementEntity(SolarGatewayEntity):
    """An entity showing one measurement of one device (per phase where it has one)."""

    device_only = True

    def __init__(
        self,
        hub: SiteHub,
        device: Device,
        description: EntityDescription,
        measurement: Measurement,
    ) -> None:
        """Show ``measurement`` of ``device`` as ``description`` says."""
        super().__init__(hub, device, description.key)
        self.entity_description = description
        self.quantity = measurement.quantity
        self.phase = measurement.phase
        if self.phase is not None:
            self._attr_translation_placeholders = {"phase": self.phase.value.upper()}

    def reading(self) -> MeasurementValue | None:
        """The measurement in the latest snapshot (None: the device lacks it now)."""
        device = self.device
        return device.get(self.quantity, self.phase) if device else None
