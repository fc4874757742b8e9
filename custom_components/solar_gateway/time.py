"""Times of day: when the generator's exercise run starts."""

from datetime import time
from typing import override

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import ControlEntity, async_track_controls
from .coordinator import SolarGatewayConfigEntry
from .gateway.site import ControlKey, ControlKind, ControlValue

# One write at a time: each is confirmed by a read before the next is sent.
PARALLEL_UPDATES = 1

TIMES: dict[ControlKey, TimeEntityDescription] = {
    ControlKey.GENERATOR_EXERCISE_START: TimeEntityDescription(
        key=ControlKey.GENERATOR_EXERCISE_START,
        translation_key="generator_exercise_start",
        entity_category=EntityCategory.CONFIG,
    )
}
MINUTES_PER_DAY = 24 * 60


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a time entity for every time-of-day control the gateway offers."""
    async_track_controls(
        entry, async_add_entities, ControlKind.TIME, TIMES, ControlTime
    )


class ControlTime(ControlEntity[float], TimeEntity):
    """A time of day the gateway keeps as whole minutes after midnight."""

    @override
    def convert(self, value: ControlValue) -> float | None:
        # Minutes within the day; anything else is no time of day (shown unknown).
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value if 0 <= value < MINUTES_PER_DAY else None

    @property
    @override
    def native_value(self) -> time | None:
        """The requested time while a write is confirmed, else the reported one."""
        minutes = self.displayed()
        return None if minutes is None else time(int(minutes) // 60, int(minutes) % 60)

    @override
    async def async_set_value(self, value: time) -> None:
        """Change the time, confirmed by the gateway (to the minute it keeps)."""
        await self.async_change(float(value.hour * 60 + value.minute))
