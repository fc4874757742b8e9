"""The base entity shared by every platform."""

from collections.abc import Hashable
import time
from typing import override

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import GatewayCoordinator
from .gateway.site import Device

# Polls wander by milliseconds: a slow quantity due now is not put off by a whole
# interval for that.
_TIMING_SLACK = 1.0


class SolarGatewayEntity(CoordinatorEntity[GatewayCoordinator]):
    """An entity showing something one device of the site reports.

    A ``CoordinatorEntity`` of the coordinator whose group reports its data: it is
    unavailable while that group's poll fails, and it writes its state only when
    what it shows (``shown``) has changed.
    """

    _attr_has_entity_name = True
    # Seconds between two state writes at least, for a quantity that needs no more
    # (a lifetime counter, a voltage): 0 writes every change at once. Becoming
    # available or unavailable is written at once.
    _min_write_interval = 0.0

    def __init__(
        self, coordinator: GatewayCoordinator, serial: str | None, key: str
    ) -> None:
        """Bind to device ``serial`` (None: the gateway); the unique id ends in ``key``."""
        super().__init__(coordinator)
        self.serial = serial
        own = serial or coordinator.data.identity.serial
        self._attr_unique_id = f"{own}_{key}"
        # The registrar has created the device, with its place in the hierarchy.
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, own)})
        self._written: tuple[bool, Hashable] = (False, None)
        self._written_at = 0.0

    @property
    def device(self) -> Device | None:
        """The device in the latest data (None when it is gone or is the gateway)."""
        if self.serial is None:
            return None
        return self.coordinator.data.device(self.serial)

    @property
    @override
    def available(self) -> bool:
        """Available while its group is read successfully and the device reported."""
        return super().available and (self.serial is None or self.device is not None)

    def shown(self) -> Hashable:
        """What the entity shows; a change of it is what triggers a state write."""
        return None

    def take_update(self) -> None:
        """Take in the coordinator's data, where the entity keeps state of its own
        (a counter guard, an energy integral); called before ``shown``."""

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the coordinator once added."""
        await super().async_added_to_hass()
        self._written = (self.available, self.shown())
        self._written_at = time.monotonic()

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        available = self.available
        now = time.monotonic()
        if (
            available == self._written[0]
            and now - self._written_at < self._min_write_interval - _TIMING_SLACK
        ):
            return  # a slow quantity written moments ago: a later update shows it
        self.take_update()
        current = (available, self.shown())
        if current == self._written:
            return
        self._written = current
        self._written_at = now
        self.async_write_ha_state()

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Go on in place under a new entity id (Home Assistant 2026.11 and later)."""
        # Nothing here is keyed on the entity id; 2026.10 has no such hook.
        if (parent := getattr(super(), "async_entity_id_changed", None)) is not None:
            parent(old_entity_id)
