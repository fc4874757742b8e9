"""Buttons: actions without a state (an AC Battery's sleep and wake)."""

from typing import override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import ControlEntity, async_track_controls
from .coordinator import SolarGatewayConfigEntry
from .gateway.site import ControlKey, ControlKind, ControlValue

# One write at a time: each is confirmed by a read before the next is sent.
PARALLEL_UPDATES = 1

BUTTONS: dict[ControlKey, ButtonEntityDescription] = {
    key: ButtonEntityDescription(key=key, translation_key=key.value)
    for key in (ControlKey.ACB_SLEEP, ControlKey.ACB_WAKE)
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a button for every action the gateway offers, now and later."""
    async_track_controls(
        entry, async_add_entities, ControlKind.BUTTON, BUTTONS, ControlButton
    )


class ControlButton(ControlEntity[bool], ButtonEntity):
    """A gateway action: sent through the control path, what it changes read back."""

    @override
    def convert(self, value: ControlValue) -> bool | None:
        return value if isinstance(value, bool) else None

    @override
    def confirmed(self, requested: bool, reported: bool | None) -> bool:
        # An action has no state to read back: the gateway taking it is enough.
        return True

    @override
    async def async_press(self) -> None:
        """Send the action; a refusal or failure is a translated error."""
        await self.async_change(True)
