"""The write discipline every control entity (switch, select, number) follows.

Each control is one the client describes in the site snapshot (``Control``): what it
is, its value, its options or range and the groups a write changes. A write is sent
between two polls (the hub's gate) as a vendor-neutral ``ControlChange``; the
requested state is shown at once, and the client reads the settings back straight
away. The state stays only when the gateway's own answer shows it; otherwise the
entity shows what the gateway reports and the action fails with a translated error,
so an automation knows.
"""

from collections.abc import Callable, Hashable, Mapping
from typing import Any, override

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import GatewayCoordinator, SolarGatewayConfigEntry
from .entity import SolarGatewayEntity
from .gateway.errors import (
    ControlNotAppliedError,
    ControlRefusedError,
    GatewayError,
    GatewayTimeoutError,
    InvalidControlValueError,
    InvalidValueReason,
)
from .gateway.site import (
    Control,
    ControlChange,
    ControlKey,
    ControlKind,
    ControlValue,
    SettingSource,
)

# Who changed a setting last, as the ``changed_by`` attribute says it.
CHANGED_BY: Mapping[SettingSource, str] = {
    SettingSource.CLIENT: "home_assistant",
    SettingSource.ENPHASE_CLOUD: "enphase_cloud",
}


def origin_attributes(control: Control | None) -> dict[str, Any]:
    """``changed_by`` and ``changed_at`` of a setting, where the gateway tells."""
    if control is None or control.changed_by is None:
        return {}
    return {
        "changed_by": CHANGED_BY[control.changed_by],
        "changed_at": None
        if control.changed_at is None
        else control.changed_at.isoformat(),
    }


def control_error(err: GatewayError, control: str) -> HomeAssistantError:
    """The translated error an action raises when the gateway did not take a change."""
    if isinstance(err, ControlRefusedError) and err.needs_installer:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="control_needs_installer",
            translation_placeholders={"control": control, "status": str(err.status)},
        )
    if isinstance(err, ControlRefusedError) and err.status == 400:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="control_rejected",
            translation_placeholders={"control": control, "error": str(err)},
        )
    if isinstance(err, ControlNotAppliedError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="control_not_applied",
            translation_placeholders={"control": control, "error": str(err)},
        )
    if isinstance(err, ControlRefusedError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="control_refused",
            translation_placeholders={"control": control, "status": str(err.status)},
        )
    if isinstance(err, GatewayTimeoutError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="control_timeout",
            translation_placeholders={"control": control},
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="control_failed",
        translation_placeholders={"control": control, "error": str(err)},
    )


def _invalid_key(reason: InvalidValueReason) -> str:
    """The translation key of the error for a value refused for ``reason``."""
    match reason:
        case InvalidValueReason.SLEEP_BAND_ORDER:
            return "invalid_sleep_band"
        case InvalidValueReason.GENERATOR_SOC_ORDER:
            return "invalid_generator_levels"
        case InvalidValueReason.RELAY_SOC_ORDER:
            return "invalid_relay_levels"
        case _:
            return "invalid_out_of_range"


def invalid_value(err: ValueError, control: str) -> ServiceValidationError:
    """The translated error for a value the client refuses to send.

    The user's input is at fault, not the gateway: Home Assistant shows it as such
    (HTTP 400, no error logged).
    """
    if isinstance(err, InvalidControlValueError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=_invalid_key(err.reason),
            translation_placeholders={"control": control, **err.values},
        )
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="control_invalid",
        translation_placeholders={"control": control, "error": str(err)},
    )


@callback
def async_track_controls[D: EntityDescription](
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    kind: ControlKind,
    descriptions: Mapping[ControlKey, D],
    create: Callable[[GatewayCoordinator, Control, D], Entity],
) -> None:
    """Add an entity for every control of ``kind`` the gateway offers, now and later.

    A control whose key the platform has no description for is not shown.
    """
    runtime = entry.runtime_data
    known: set[tuple[ControlKey, str | None]] = set()

    @callback
    def add_new() -> None:
        entities: list[Entity] = []
        for control in runtime.snapshot.controls:
            marker = (control.key, control.device)
            description = descriptions.get(control.key)
            if control.kind is kind and description and marker not in known:
                known.add(marker)
                coordinator = runtime.coordinator(control.source)
                entities.append(create(coordinator, control, description))
        if entities:
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(runtime.async_add_structure_listener(add_new))


class ControlEntity[T: ControlValue](SolarGatewayEntity):
    """An entity that changes a gateway setting, optimistically and then confirmed.

    A ``CoordinatorEntity`` of the coordinator whose group reports the setting.
    """

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        control: Control,
        description: EntityDescription,
    ) -> None:
        """Show ``control`` (on its device, or the gateway) as described."""
        on_device = control.device and coordinator.data.device(control.device)
        super().__init__(
            coordinator, control.device if on_device else None, control.key
        )
        self.entity_description = description
        self.key = control.key
        self.control_device = control.device
        self._pending: T | None = None
        self._writing = False

    @property
    def control(self) -> Control | None:
        """The control as last read (None: the gateway no longer offers it)."""
        return self.coordinator.data.control(self.key, self.control_device)

    def convert(self, value: ControlValue) -> T | None:
        """``value`` as this platform shows it (None: not of its type)."""
        raise NotImplementedError

    def reported(self) -> T | None:
        """What the gateway last reported for this setting (None: unknown)."""
        control = self.control
        return (
            None
            if control is None or control.value is None
            else self.convert(control.value)
        )

    def exists(self) -> bool:
        """Whether the gateway still reports the setting."""
        control = self.control
        if control is None:
            return False
        # A choice may be unknown for a while; an on/off or a number must be known.
        return control.value is not None or control.kind is ControlKind.SELECT

    def displayed(self) -> T | None:
        """What the entity shows: the requested value while a write is confirmed."""
        return self._pending if self._writing else self.reported()

    def confirmed(self, requested: T, reported: T | None) -> bool:
        """Whether the read-back shows the requested value."""
        return reported == requested

    @property
    @override
    def available(self) -> bool:
        """Available while the gateway answers and reports the setting."""
        return super().available and self.exists()

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Who changed the setting last and when (``home_assistant`` or
        ``enphase_cloud``), where the gateway lets that be told."""
        return origin_attributes(self.control) or None

    def origin(self) -> Hashable:
        """Who changed the setting last and when, as shown in the attributes."""
        control = self.control
        return None if control is None else (control.changed_by, control.changed_at)

    @override
    def shown(self) -> Hashable:
        return (self.displayed(), self.origin())

    def _write_state(self) -> None:
        self._written = (self.available, self.shown())
        self.async_write_ha_state()

    async def async_change(self, requested: T) -> None:
        """Show ``requested`` now, apply it and keep it only when confirmed."""
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
        change = ControlChange(self.key, self.control_device, requested)
        client = self.coordinator.client
        try:
            client.check(change)
        except ValueError as err:
            raise invalid_value(err, self.entity_id) from err
        self._pending = requested
        self._writing = True
        self._write_state()
        try:
            await self.coordinator.runtime.async_write(
                lambda: client.apply(change), control.groups
            )
        except GatewayError as err:
            raise control_error(err, self.entity_id) from err
        except ValueError as err:  # refused before sending (e.g. an upside-down band)
            raise invalid_value(err, self.entity_id) from err
        finally:
            self._writing = False
            self._pending = None
            self._write_state()
        reported = self.reported()
        if not self.confirmed(requested, reported):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="control_not_confirmed",
                translation_placeholders={
                    "control": self.entity_id,
                    "requested": str(requested),
                    "reported": str(reported),
                },
            )
