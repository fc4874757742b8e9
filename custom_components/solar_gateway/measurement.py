"""The base of the entities that show one measurement of one device."""

from homeassistant.helpers.entity import EntityDescription

from .coordinator import GatewayCoordinator
from .entity import SolarGatewayEntity
from .gateway.site import Device, Measurement, MeasurementValue


class MeasurementEntity(SolarGatewayEntity):
    """An entity showing one measurement of one device (per phase where it has one)."""

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        device: Device,
        description: EntityDescription,
        measurement: Measurement,
    ) -> None:
        """Show ``measurement`` of ``device`` as ``description`` says."""
        super().__init__(coordinator, device.serial, description.key)
        self.entity_description = description
        self.quantity = measurement.quantity
        self.phase = measurement.phase
        if self.phase is not None:
            self._attr_translation_placeholders = {"phase": self.phase.value.upper()}

    def reading(self) -> MeasurementValue | None:
        """The measurement in the latest data (None: the device lacks it now)."""
        device = self.device
        return device.get(self.quantity, self.phase) if device else None
