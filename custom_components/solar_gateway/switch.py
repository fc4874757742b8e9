"""Switches: grid connection, relays, charging from grid or generator, production,
the export limit and AC Battery sleep."""

from collections.abc import Hashable
from typing import Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.components.switch.const import SwitchDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import ControlEntity, async_track_controls
from .coordinator import SolarGatewayConfigEntry
from .gateway.site import ControlKey, ControlKind, ControlValue

# One write at a time: each is confirmed by a read before the next is sent.
PARALLEL_UPDATES = 1

SWITCHES: dict[ControlKey, SwitchEntityDescription] = {
    ControlKey(description.key): description
    for description in (
        SwitchEntityDescription(
            key=ControlKey.GRID_CONNECTION, translation_key="grid_connection"
        ),
        # A dry contact relay is its device's main feature: named after its load.
        SwitchEntityDescription(key=ControlKey.RELAY, name=None),
        SwitchEntityDescription(
            key=ControlKey.CHARGE_FROM_GRID,
            translation_key="charge_from_grid",
            entity_category=EntityCategory.CONFIG,
        ),
        SwitchEntityDescription(
            key=ControlKey.CHARGE_FROM_GENERATOR,
            translation_key="charge_from_generator",
            entity_category=EntityCategory.CONFIG,
        ),
        # The controls that curtail solar are the only ones with a device class: the
        # negative-price blueprint finds them (and nothing else) by it.
        SwitchEntityDescription(
            key=ControlKey.PRODUCTION,
            translation_key="production",
            device_class=SwitchDeviceClass.SWITCH,
        ),
        SwitchEntityDescription(
            key=ControlKey.DYNAMIC_EXPORT_LIMIT,
            translation_key="dynamic_export_limit",
            device_class=SwitchDeviceClass.SWITCH,
        ),
        # Enphase's own optimisation of the battery mode (off: the mode chosen here
        # is followed; a mode change turns it off).
        SwitchEntityDescription(
            key=ControlKey.OPTIMISED_SCHEDULES,
            translation_key="optimised_schedules",
            entity_category=EntityCategory.CONFIG,
        ),
        # An AC Battery's sleep: on until woken, pending while it moves into its band.
        SwitchEntityDescription(key=ControlKey.ACB_SLEEP, translation_key="acb_sleep"),
    )
}
# Switches whose change the site follows slowly: ``pending`` until it has.
FOLLOWED = frozenset({ControlKey.PRODUCTION, ControlKey.ACB_SLEEP})


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a switch for every on/off control the gateway offers, now and later."""
    async_track_controls(
        entry, async_add_entities, ControlKind.SWITCH, SWITCHES, ControlSwitch
    )


class ControlSwitch(ControlEntity[bool], SwitchEntity):
    """An on/off gateway setting: on closes a relay or enables the setting."""

    @override
    def convert(self, value: ControlValue) -> bool | None:
        return value if isinstance(value, bool) else None

    @property
    @override
    def is_on(self) -> bool | None:
        """The requested state while a write is confirmed, else the reported one."""
        return self.displayed()

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """``pending`` while the site follows a change the gateway took; who changed
        the setting last, where the gateway tells."""
        attributes = dict(super().extra_state_attributes or {})
        control = self.control
        if control is not None and control.key in FOLLOWED:
            attributes["pending"] = control.pending
        return attributes or None

    @override
    def shown(self) -> Hashable:
        control = self.control
        return (
            self.displayed(),
            control is not None and control.pending,
            self.origin(),
        )

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on, confirmed by the gateway."""
        await self.async_change(True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off, confirmed by the gateway."""
        await self.async_change(False)
