"""Buttons: actions without a state (an AC Battery's sleep and wake)."""

from typing import override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .control import ControlEntity, async_track_controls, control_error, invalid_value
from .coordinator import SolarGatewayConfigEntry
from .gateway.errors import GatewayError
from .gateway.site import ControlChange, ControlKind, ControlValue

# One write at a time: each is confirmed by a read before the next is sent.
PARALLEL_UPDATES = 1

BUTTONS: dict[str, ButtonEntityDescription] = {
    key: ButtonEntityDescription(key=key, translation_key=key)
    for key in ("acb_sleep", "acb_wake")
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
    """A gateway action: sent, then what it changes is read back."""

    @override
    def convert(self, value: ControlValue) -> bool | None:
        return value if isinstance(value, bool) else None

    @override
    async def async_press(self) -> None:
        """Send the action; a refusal or failure is a translated error."""
        control = self.control
        if control is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="control_failed",
                translation_placeholders={
                    "control": self.entity_id,
                    "error": "no longer offered",
                },
            )
        change = ControlChange(self.key, self.control_device, True)
        client = self.hub.client
        try:
            await self.hub.async_write(lambda: client.apply(change), control.groups)
        except GatewayError as err:
            raise control_error(err, self.entity_id) from err
        except ValueError as err:  # refused before sending
            raise invalid_value(err, self.entity_id) from err
