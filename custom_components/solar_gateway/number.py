"""Numbers: battery reserve, relay and generator thresholds, exercise run, sleep bands,
export limit."""

import math
from typing import override

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import ControlEntity, async_track_controls
from .coordinator import GatewayCoordinator, SolarGatewayConfigEntry
from .gateway.site import Control, ControlKey, ControlKind, ControlValue

# One write at a time: each is confirmed by a read before the next is sent.
PARALLEL_UPDATES = 1

# Battery states of charge in percent (reserves, thresholds, sleep bands).
NUMBERS: dict[ControlKey, NumberEntityDescription] = (
    {
        key: NumberEntityDescription(
            key=key,
            translation_key=key.value,
            device_class=NumberDeviceClass.BATTERY,
            native_unit_of_measurement=PERCENTAGE,
            mode=NumberMode.BOX,
            entity_category=EntityCategory.CONFIG,
        )
        for key in (
            ControlKey.BACKUP_RESERVE,
            ControlKey.CUTOFF_SOC,
            ControlKey.RESTORE_SOC,
            ControlKey.GENERATOR_START_SOC,
            ControlKey.GENERATOR_STOP_SOC,
            ControlKey.SLEEP_MIN_SOC,
            ControlKey.SLEEP_MAX_SOC,
        )
    }
    | {
        # The generator's exercise run: every N weeks, from a time of day, for minutes.
        key: NumberEntityDescription(
            key=key,
            translation_key=key.value,
            native_unit_of_measurement=unit,
            device_class=NumberDeviceClass.DURATION if unit else None,
            mode=NumberMode.BOX,
            entity_category=EntityCategory.CONFIG,
        )
        for key, unit in (
            (ControlKey.GENERATOR_EXERCISE_WEEKS, None),
            (ControlKey.GENERATOR_EXERCISE_DURATION, UnitOfTime.MINUTES),
        )
    }
    | {
        # The most the site may export while the export limit is on; setting it turns the
        # limit on. The only power number: the negative-price blueprint finds it by that.
        ControlKey.DYNAMIC_EXPORT_LIMIT_POWER: NumberEntityDescription(
            key=ControlKey.DYNAMIC_EXPORT_LIMIT_POWER,
            translation_key="dynamic_export_limit_power",
            device_class=NumberDeviceClass.POWER,
            native_unit_of_measurement=UnitOfPower.WATT,
            mode=NumberMode.BOX,
            entity_category=EntityCategory.CONFIG,
        )
    }
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a number for every numeric control the gateway offers."""
    async_track_controls(
        entry, async_add_entities, ControlKind.NUMBER, NUMBERS, ControlNumber
    )


class ControlNumber(ControlEntity[float], NumberEntity):
    """A numeric gateway setting within the range the gateway accepts."""

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        control: Control,
        description: NumberEntityDescription,
    ) -> None:
        """Show ``control`` as described, within its range."""
        super().__init__(coordinator, control, description)
        self._attr_native_min_value = control.minimum
        self._attr_native_max_value = control.maximum
        self._attr_native_step = control.step

    @override
    def convert(self, value: ControlValue) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value

    @property
    @override
    def native_value(self) -> float | None:
        """The requested value while a write is confirmed, else the reported one."""
        return self.displayed()

    @override
    def confirmed(self, requested: float, reported: float | None) -> bool:
        # How finely the gateway stores the value: a read-back within half of it.
        control = self.control
        resolution = control.resolution if control is not None else 0.0
        return reported is not None and math.isclose(
            reported, requested, abs_tol=resolution / 2 + 1e-9
        )

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Change the setting, confirmed by the gateway."""
        await self.async_change(value)
