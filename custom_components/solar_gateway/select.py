"""Selects: battery mode (Envoy storage, SunVault) and dry contact relay settings."""

from typing import override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import ControlEntity, async_track_controls
from .coordinator import SolarGatewayConfigEntry
from .gateway.site import ControlKey, ControlKind, ControlValue

# One write at a time: each is confirmed by a read before the next is sent.
PARALLEL_UPDATES = 1

# Battery modes are the site's main settings; a relay's are configuration.
SELECTS: dict[ControlKey, SelectEntityDescription] = {
    key: SelectEntityDescription(
        key=key, translation_key=key.value, entity_category=category
    )
    for key, category in (
        (ControlKey.BATTERY_MODE, None),
        (ControlKey.RELAY_MODE, EntityCategory.CONFIG),
        (ControlKey.GRID_ACTION, EntityCategory.CONFIG),
        (ControlKey.MICRO_GRID_ACTION, EntityCategory.CONFIG),
        (ControlKey.GENERATOR_ACTION, EntityCategory.CONFIG),
        (ControlKey.GENERATOR_MODE, None),
        (ControlKey.GENERATOR_EXERCISE_DAY, EntityCategory.CONFIG),
    )
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a select for every multi-choice control the gateway offers."""
    async_track_controls(
        entry, async_add_entities, ControlKind.SELECT, SELECTS, ControlSelect
    )


class ControlSelect(ControlEntity[str], SelectEntity):
    """A gateway setting shown as a select; options are translated keys."""

    @override
    def convert(self, value: ControlValue) -> str | None:
        return value if isinstance(value, str) and value in self.options else None

    @property
    @override
    def options(self) -> list[str]:
        """The values the gateway takes now."""
        control = self.control
        return list(control.options) if control is not None else []

    @property
    @override
    def current_option(self) -> str | None:
        """The requested option while a write is confirmed, else the reported one."""
        return self.displayed()

    @override
    async def async_select_option(self, option: str) -> None:
        """Change the setting, confirmed by the gateway."""
        await self.async_change(option)
