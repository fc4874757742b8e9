"""The base entity shared by every platform."""

from collections.abc import Hashable
from typing import override

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from .const import DOMAIN
from .coordinator import SiteHub
from .gateway.site import Device


class SolarGatewayEntity(Entity):
    """An entity showing something one device of the site reports.

    It listens to every coordinator of its gateway through the hub, and writes its
    state only when what it shows has changed, so fast polls of other data cost it
    nothing.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: SiteHub, device: Device | None, key: str) -> None:
        """Bind to ``device`` (None: the gateway) and build the unique id from ``key``."""
        self.hub = hub
        self.serial = device.serial if device else None
        self._attr_unique_id = f"{self.serial or hub.snapshot.identity.serial}_{key}"
        # The registrar has created the device, with its place in the hierarchy.
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, self.serial or hub.snapshot.identity.serial)}
        )
        self._last_written: Hashable = None

    @property
    def device(self) -> Device | None:
        """The device in the latest snapshot (None when it is gone or is the gateway)."""
        if self.serial is None:
            return None
        return self.hub.snapshot.device(self.serial)

    @property
    @override
    def available(self) -> bool:
        """Available while the gateway answers and still reports the device."""
        if not self.hub.available:
            return False
        return self.serial is None or self.device is not None

    def shown(self) -> Hashable:
        """What the entity shows; a change of it is what triggers a state write."""
        return None

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the hub once added."""
        await super().async_added_to_hass()
        self._last_written = (self.available, self.shown())
        self.async_on_remove(self.hub.async_add_listener(self._handle_hub_update))

    @callback
    def _handle_hub_update(self) -> None:
        current = (self.available, self.shown())
        if current != self._last_written:
            self._last_written = current
            self.async_write_ha_state()

    async def async_update(self) -> None:
        """Poll the gateway now (``homeassistant.update_entity``)."""
        await self.hub.async_refresh_all()
