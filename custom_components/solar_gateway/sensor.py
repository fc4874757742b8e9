"""Sensors: the site figures and every numeric or text measurement of every device."""

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
import logging
from typing import Any, Self, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfReactivePower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import ExtraStoredData, RestoreEntity
from homeassistant.util import dt as dt_util

from .coordinator import GatewayCoordinator, SolarGatewayConfigEntry
from .counter_guard import CounterGuard
from .entity import SolarGatewayEntity
from .gateway.site import Device, DeviceKind, Measurement, Phase, Quantity, SiteFigures
from .measurement import MeasurementEntity

_LOGGER = logging.getLogger(__name__)

# Coordinators poll; entities never do.
PARALLEL_UPDATES = 0

# The fastest a lifetime counter can plausibly grow, as an average power (W = Wh/h).
# Far above any home (so real data never trips it) and far below the leaps that
# glitching gateways report.
SITE_MAX_RATE = 250_000.0
DEVICE_MAX_RATE = {DeviceKind.INVERTER: 5_000.0, DeviceKind.BATTERY: 20_000.0}

# Derived energy is not integrated across a gap longer than this: the power in between
# is unknown, and guessing it would invent energy.
MAX_INTEGRATION_GAP = timedelta(minutes=20)


@dataclass(frozen=True, kw_only=True)
class SiteSensorDescription(SensorEntityDescription):
    """A site figure shown as a sensor."""

    value_fn: Callable[[SiteFigures], float | None]


def _power(
    key: str, value_fn: Callable[[SiteFigures], float | None]
) -> SiteSensorDescription:
    return SiteSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=value_fn,
    )


def _counter(
    key: str, value_fn: Callable[[SiteFigures], float | None]
) -> SiteSensorDescription:
    return SiteSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=value_fn,
    )


SITE_SENSORS: tuple[SiteSensorDescription, ...] = (
    _power("solar_power", lambda f: f.solar_power),
    _counter("solar_energy", lambda f: f.solar_energy),
    _power("consumption_power", lambda f: f.consumption_power),
    _counter("consumption_energy", lambda f: f.consumption_energy),
    _power("grid_power", lambda f: f.grid_power),
    _counter("grid_import_energy", lambda f: f.grid_import_energy),
    _counter("grid_export_energy", lambda f: f.grid_export_energy),
    _power("battery_power", lambda f: f.battery_power),
    _counter("battery_charged_energy", lambda f: f.battery_charged_energy),
    _counter("battery_discharged_energy", lambda f: f.battery_discharged_energy),
    SiteSensorDescription(
        key="battery_state_of_charge",
        translation_key="battery_state_of_charge",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda f: f.battery_state_of_charge,
    ),
    SiteSensorDescription(
        key="battery_available_energy",
        translation_key="battery_available_energy",
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda f: f.battery_available_energy,
    ),
    SiteSensorDescription(
        key="battery_capacity",
        translation_key="battery_capacity",
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=2,
        value_fn=lambda f: f.battery_capacity,
    ),
    SiteSensorDescription(
        key="battery_very_low_soc",
        translation_key="battery_very_low_soc",
        native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value_fn=lambda f: f.battery_very_low_soc,
    ),
    # The backup reserve is the reserve number; no sensor repeats it.
    *(
        SiteSensorDescription(
            key=key,
            translation_key=key,
            device_class=SensorDeviceClass.ENERGY,
            native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
            suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            # The gateway's own day and week: they restart, so no statistics.
            suggested_display_precision=2,
            value_fn=value_fn,
        )
        for key, value_fn in (
            ("solar_energy_today", lambda f: f.solar_energy_today),
            ("solar_energy_last_seven_days", lambda f: f.solar_energy_last_seven_days),
            ("consumption_energy_today", lambda f: f.consumption_energy_today),
            (
                "consumption_energy_last_seven_days",
                lambda f: f.consumption_energy_last_seven_days,
            ),
        )
    ),
)

# Energy derived from power where the gateway counts none: grid import and export
# from grid power, the house's consumption from its load. (key, power figure, sign)
DERIVED_ENERGY: tuple[tuple[str, str, int], ...] = (
    ("grid_import_energy", "grid_power", 1),
    ("grid_export_energy", "grid_power", -1),
    ("consumption_energy", "consumption_power", 1),
)


@dataclass(frozen=True, kw_only=True)
class MeasurementSensorDescription(SensorEntityDescription):
    """How a device measurement of one quantity is shown."""

    counter: bool = False  # an energy counter, guarded against glitches
    daily: bool = False  # the counter restarts at local midnight


_DIAGNOSTIC = EntityCategory.DIAGNOSTIC
_MEASUREMENT = SensorStateClass.MEASUREMENT

type _Entry = tuple[Quantity, MeasurementSensorDescription]


def _kind(**shared: Any) -> Callable[..., list[_Entry]]:
    """A maker of descriptions that share a class, unit, state class and precision.

    Each call describes ``quantities`` alike; keywords given there add to or
    override the shared ones (``state_class=None`` for a value with no statistics).
    """

    def make(*quantities: Quantity, **own: Any) -> list[_Entry]:
        fields = {**shared, **own}
        return [
            (
                quantity,
                MeasurementSensorDescription(
                    key=quantity.value, translation_key=quantity.value, **fields
                ),
            )
            for quantity in quantities
        ]

    return make


_watts = _kind(
    device_class=SensorDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.WATT,
    state_class=_MEASUREMENT,
    suggested_display_precision=0,
)
_energy_counter = _kind(
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
    suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    state_class=SensorStateClass.TOTAL_INCREASING,
    suggested_display_precision=2,
    counter=True,
)
_stored_energy = _kind(
    device_class=SensorDeviceClass.ENERGY_STORAGE,
    native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
    suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    state_class=_MEASUREMENT,
    suggested_display_precision=2,
)
_volts = _kind(
    device_class=SensorDeviceClass.VOLTAGE,
    native_unit_of_measurement=UnitOfElectricPotential.VOLT,
    state_class=_MEASUREMENT,
    suggested_display_precision=1,
    entity_category=_DIAGNOSTIC,
)
_amps = _kind(
    device_class=SensorDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    state_class=_MEASUREMENT,
    suggested_display_precision=2,
    entity_category=_DIAGNOSTIC,
)
_degrees = _kind(
    device_class=SensorDeviceClass.TEMPERATURE,
    native_unit_of_measurement=UnitOfTemperature.CELSIUS,
    state_class=_MEASUREMENT,
    suggested_display_precision=0,
    entity_category=_DIAGNOSTIC,
)
_seconds = _kind(
    device_class=SensorDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.SECONDS,
    suggested_display_precision=1,
)
_percent = _kind(
    native_unit_of_measurement=PERCENTAGE,
    state_class=_MEASUREMENT,
    suggested_display_precision=0,
)
_other = _kind()
# Off by default: detail for those who look for it.
_HIDDEN = {"entity_registry_enabled_default": False}

MEASUREMENT_SENSORS: dict[Quantity, MeasurementSensorDescription] = dict(
    (
        *_watts(Quantity.POWER),
        *_watts(
            Quantity.APPARENT_POWER,
            device_class=SensorDeviceClass.APPARENT_POWER,
            native_unit_of_measurement=UnitOfApparentPower.VOLT_AMPERE,
            **_HIDDEN,
        ),
        *_watts(
            Quantity.REACTIVE_POWER,
            device_class=SensorDeviceClass.REACTIVE_POWER,
            native_unit_of_measurement=UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
            **_HIDDEN,
        ),
        *_energy_counter(
            Quantity.LIFETIME_ENERGY,
            Quantity.ENERGY_DELIVERED,
            Quantity.ENERGY_RECEIVED,
        ),
        *_energy_counter(Quantity.ENERGY_TODAY, daily=True),
        *_volts(Quantity.VOLTAGE),
        *_amps(Quantity.CURRENT),
        *_other(
            Quantity.FREQUENCY,
            device_class=SensorDeviceClass.FREQUENCY,
            native_unit_of_measurement=UnitOfFrequency.HERTZ,
            state_class=_MEASUREMENT,
            suggested_display_precision=2,
            entity_category=_DIAGNOSTIC,
        ),
        *_other(
            Quantity.POWER_FACTOR,
            device_class=SensorDeviceClass.POWER_FACTOR,
            state_class=_MEASUREMENT,
            suggested_display_precision=2,
            entity_category=_DIAGNOSTIC,
            **_HIDDEN,
        ),
        *_volts(Quantity.DC_VOLTAGE, **_HIDDEN),
        *_amps(Quantity.DC_CURRENT, **_HIDDEN),
        *_watts(Quantity.DC_POWER, entity_category=_DIAGNOSTIC, **_HIDDEN),
        *_watts(
            Quantity.MAX_POWER, state_class=None, entity_category=_DIAGNOSTIC, **_HIDDEN
        ),
        *_percent(Quantity.STATE_OF_CHARGE, device_class=SensorDeviceClass.BATTERY),
        *_stored_energy(Quantity.AVAILABLE_ENERGY),
        *_stored_energy(
            Quantity.CAPACITY, state_class=None, entity_category=_DIAGNOSTIC
        ),
        *_degrees(Quantity.TEMPERATURE),
        *_seconds(
            Quantity.UPTIME,
            suggested_unit_of_measurement=UnitOfTime.DAYS,
            entity_category=_DIAGNOSTIC,
            **_HIDDEN,
        ),
        *_percent(
            Quantity.MEMORY_USED,
            Quantity.FLASH_FREE,
            Quantity.FLASH_WEAR,
            entity_category=_DIAGNOSTIC,
            **_HIDDEN,
        ),
        *_other(
            Quantity.CPU_LOAD,
            state_class=_MEASUREMENT,
            suggested_display_precision=2,
            entity_category=_DIAGNOSTIC,
            **_HIDDEN,
        ),
        *_percent(Quantity.STATE_OF_HEALTH, entity_category=_DIAGNOSTIC),
        *_seconds(
            Quantity.BACKUP_TIME,
            suggested_unit_of_measurement=UnitOfTime.HOURS,
            state_class=_MEASUREMENT,
        ),
        *_watts(
            Quantity.MAX_CHARGE_POWER,
            Quantity.MAX_DISCHARGE_POWER,
            entity_category=_DIAGNOSTIC,
        ),
        *_degrees(Quantity.MIN_CELL_TEMPERATURE, Quantity.MAX_CELL_TEMPERATURE),
        *_other(
            Quantity.ERROR_COUNT,
            Quantity.COMM_ERRORS,
            Quantity.UNTRANSMITTED,
            state_class=SensorStateClass.TOTAL,
            entity_category=_DIAGNOSTIC,
            **_HIDDEN,
        ),
        # The installer's limits on export and production, read with the settings.
        *_watts(Quantity.EXPORT_LIMIT, state_class=None, entity_category=_DIAGNOSTIC),
        *_percent(
            Quantity.EXPORT_LIMIT_SHARE,
            Quantity.PRODUCTION_LIMIT,
            state_class=None,
            entity_category=_DIAGNOSTIC,
        ),
        *_other(
            Quantity.LAST_REPORT,
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=_DIAGNOSTIC,
            **_HIDDEN,
        ),
    )
)


# Quantities a meter reports per phase; other quantities are whole-device values.
PHASED = frozenset(
    {
        Quantity.POWER,
        Quantity.APPARENT_POWER,
        Quantity.REACTIVE_POWER,
        Quantity.ENERGY_DELIVERED,
        Quantity.ENERGY_RECEIVED,
        Quantity.LIFETIME_ENERGY,
        Quantity.VOLTAGE,
        Quantity.CURRENT,
        Quantity.FREQUENCY,
        Quantity.POWER_FACTOR,
    }
)


# The finest step worth a state write, by unit (a power factor has none): a change
# below it is noise and writes nothing.
RESOLUTION: Mapping[str | None, float] = {
    UnitOfPower.WATT: 1.0,
    UnitOfApparentPower.VOLT_AMPERE: 1.0,
    UnitOfReactivePower.VOLT_AMPERE_REACTIVE: 1.0,
    UnitOfEnergy.WATT_HOUR: 1.0,
    UnitOfElectricPotential.VOLT: 0.1,
    UnitOfElectricCurrent.AMPERE: 0.01,
    UnitOfFrequency.HERTZ: 0.01,
    UnitOfTemperature.CELSIUS: 0.1,
    PERCENTAGE: 0.1,
    None: 0.01,
}
# Quantities that move slowly or matter only in sums are written at most this often.
SLOW_WRITE_SECONDS = 60.0
SLOW_CLASSES = frozenset(
    {
        SensorDeviceClass.ENERGY,
        SensorDeviceClass.VOLTAGE,
        SensorDeviceClass.CURRENT,
        SensorDeviceClass.FREQUENCY,
        SensorDeviceClass.POWER_FACTOR,
    }
)


def rounded(value: object, description: SensorEntityDescription) -> Hashable:
    """``value`` at its unit's resolution (what decides whether a state is written)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    step = RESOLUTION.get(description.native_unit_of_measurement, 0.01)
    return round(value / step)


def write_interval(description: SensorEntityDescription) -> float:
    """The seconds a measurement sensor waits at least between two state writes.

    A CT meter's own device follows its readings every 5 minutes (the client's
    device cache): the site's power sensors carry its power fresh.
    """
    return SLOW_WRITE_SECONDS if description.device_class in SLOW_CLASSES else 0.0


@dataclass(frozen=True, kw_only=True)
class EnumSensorDescription(SensorEntityDescription):
    """A device's status or mode word, shown as one of translated options."""

    codes: dict[str, str]  # the gateway's word (any case) -> the option


def _enum(
    quantity: Quantity, name: str, codes: dict[str, str]
) -> EnumSensorDescription:
    # The key (so the unique id) stays the quantity's, as before options existed.
    return EnumSensorDescription(
        key=quantity.value,
        translation_key=name,
        device_class=SensorDeviceClass.ENUM,
        entity_category=_DIAGNOSTIC,
        options=sorted(set(codes.values())),
        codes={code.lower(): option for code, option in codes.items()},
    )


# The words each kind of device reports as its status or mode. A word that is not
# here is logged once and shown as unknown: never a raw code.
ENUM_SENSORS: dict[tuple[DeviceKind, Quantity], EnumSensorDescription] = {
    (DeviceKind.BATTERY, Quantity.STATE): _enum(
        Quantity.STATE,
        "battery_status",
        {
            "ENCHG_STATE_READY": "ready",
            "ENCMN_MDE_ENCHARGE_READY": "ready",  # IQ Battery 5P
            "charging": "charging",
            "discharging": "discharging",
            "idle": "idle",
            "full": "full",  # AC Batteries
        },
    ),
    (DeviceKind.SYSTEM_CONTROLLER, Quantity.MODE): _enum(
        Quantity.MODE,
        "grid_mode",
        {
            "multimode-ongrid": "multimode_on_grid",
            "multimode-offgrid": "multimode_off_grid",
            "grid-tied": "grid_tied",
        },
    ),
    (DeviceKind.COLLAR, Quantity.STATE): _enum(
        Quantity.STATE,
        "collar_status",
        {"Installed": "installed"},
    ),
    (DeviceKind.COMBINER, Quantity.STATE): _enum(
        Quantity.STATE, "combiner_status", {"ENCMN_C6_CC_READY": "ready"}
    ),
    (DeviceKind.GATEWAY, Quantity.EXPORT_LIMIT_MODE): _enum(
        Quantity.EXPORT_LIMIT_MODE,
        "export_limit_mode",
        {"off": "off", "soft": "soft", "hard": "hard"},
    ),
}

# Quantities that are words: shown only where a device kind's words are known.
ENUM_QUANTITIES = frozenset(quantity for _, quantity in ENUM_SENSORS)

_unknown_codes: set[tuple[str, str]] = set()


def enum_option(description: EnumSensorDescription, code: str) -> str | None:
    """The option of a gateway's word, or None (logged once) for a word not known."""
    if code.lower() == "unknown":
        return None  # the gateway's own word for it: nothing to report
    option = description.codes.get(code.lower())
    name = str(description.translation_key)
    if option is None and (name, code) not in _unknown_codes:
        _unknown_codes.add((name, code))
        _LOGGER.warning(
            "The gateway reports %s %r, which this version does not know; "
            "it is shown as unknown",
            name.replace("_", " "),
            code,
        )
    return option


# A site may have hundreds of inverters: each shows its power; its detail (energy,
# voltages, temperature, last report) is there for whoever enables it, instead of
# thousands of states written every 5 minutes.
INVERTER_SHOWN = frozenset({Quantity.POWER})


def measurement_description(
    device: Device, measurement: Measurement
) -> SensorEntityDescription | None:
    """Return how to show a measurement as a sensor, or None when it is not one."""
    if measurement.quantity in ENUM_QUANTITIES:
        if measurement.phase is not None:
            return None
        return ENUM_SENSORS.get((device.kind, measurement.quantity))
    return _description(
        measurement.quantity,
        measurement.phase,
        detail=device.kind is DeviceKind.INVERTER
        and measurement.quantity not in INVERTER_SHOWN,
    )


@cache
def _description(
    quantity: Quantity, phase: Phase | None, *, detail: bool
) -> MeasurementSensorDescription | None:
    # Cached: the new-entity scan asks for every measurement of every device.
    base = MEASUREMENT_SENSORS.get(quantity)
    if base is not None and detail:
        base = replace(base, entity_registry_enabled_default=False)
    if base is None or phase is None:
        return base
    if quantity not in PHASED:
        return None
    # Per-phase detail is there for those who want it, off by default.
    return replace(
        base,
        key=f"{base.key}_{phase.value}",
        translation_key=f"{base.key}_phase",
        entity_registry_enabled_default=False,
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create sensors for what the site reports now, and later for what appears."""
    runtime = entry.runtime_data
    client = runtime.client
    known: set[str] = set()

    @callback
    def add_new() -> None:
        entities: list[Entity] = []
        snapshot = runtime.snapshot
        figures = snapshot.figures
        for description in SITE_SENSORS:
            if description.key in known:
                continue
            if description.value_fn(figures) is not None:
                known.add(description.key)
                coordinator = runtime.coordinator(client.figure_group(description.key))
                entities.append(_site_sensor(coordinator, description))
        for key, power, sign in DERIVED_ENERGY:
            if key not in known and getattr(figures, power) is not None:
                known.add(key)
                coordinator = runtime.coordinator(client.figure_group(power))
                entities.append(DerivedEnergySensor(coordinator, key, power, sign))
        for device in snapshot.devices:
            coordinator = runtime.coordinator(client.device_group(device))
            for measurement in device.measurements:
                found = measurement_description(device, measurement)
                if found is None:
                    continue
                marker = f"{device.serial}_{found.key}"
                if marker not in known:
                    known.add(marker)
                    entities.append(
                        _measurement_sensor(coordinator, device, found, measurement)
                    )
        if entities:
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(runtime.async_add_structure_listener(add_new))


def _site_sensor(
    coordinator: GatewayCoordinator, description: SiteSensorDescription
) -> SensorEntity:
    if description.state_class is SensorStateClass.TOTAL_INCREASING:
        return SiteCounterSensor(coordinator, description)
    return SiteSensor(coordinator, description)


def _measurement_sensor(
    coordinator: GatewayCoordinator,
    device: Device,
    description: SensorEntityDescription,
    measurement: Measurement,
) -> SensorEntity:
    if isinstance(description, EnumSensorDescription):
        return EnumSensor(coordinator, device, description, measurement)
    assert isinstance(description, MeasurementSensorDescription)
    if description.counter:
        return MeasurementCounterSensor(coordinator, device, description, measurement)
    return MeasurementSensor(coordinator, device, description, measurement)


class SiteSensor(SolarGatewayEntity, SensorEntity):
    """A site figure."""

    entity_description: SiteSensorDescription

    def __init__(
        self, coordinator: GatewayCoordinator, description: SiteSensorDescription
    ) -> None:
        """Show ``description``'s figure on the gateway's device."""
        super().__init__(coordinator, None, description.key)
        self.entity_description = description

    @property
    @override
    def available(self) -> bool:
        """A power figure the stream carries stays available while it streams,
        even when the poll of the counters beside it fails."""
        return super().available or self.coordinator.streams(
            self.entity_description.key
        )

    @property
    @override
    def native_value(self) -> float | None:
        """The figure from the latest data."""
        return self.entity_description.value_fn(self.coordinator.data.figures)

    @override
    def shown(self) -> Hashable:
        return rounded(self.native_value, self.entity_description)


class MeasurementSensor(MeasurementEntity, SensorEntity):
    """One measurement of one device."""

    entity_description: MeasurementSensorDescription

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        device: Device,
        description: MeasurementSensorDescription,
        measurement: Measurement,
    ) -> None:
        """Show ``measurement`` of ``device``, written as often as its quantity needs."""
        super().__init__(coordinator, device, description, measurement)
        self._min_write_interval = write_interval(description)

    @property
    @override
    def native_value(self) -> float | int | str | datetime | None:
        """The measurement from the latest snapshot."""
        value = self.reading()
        if isinstance(value, bool):
            # A boolean belongs to a binary sensor; never show it as 0/1 here.
            return None
        return value

    @override
    def shown(self) -> Hashable:
        return rounded(self.native_value, self.entity_description)


class EnumSensor(SolarGatewayEntity, SensorEntity):
    """A device's status or mode word as a translated option."""

    entity_description: EnumSensorDescription

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        device: Device,
        description: EnumSensorDescription,
        measurement: Measurement,
    ) -> None:
        """Show ``measurement`` of ``device`` as one of ``description``'s options."""
        super().__init__(coordinator, device.serial, description.key)
        self.entity_description = description
        self.quantity = measurement.quantity

    @property
    @override
    def native_value(self) -> str | None:
        """The option of the word in the latest snapshot."""
        device = self.device
        value = device.get(self.quantity) if device else None
        if not isinstance(value, str):
            return None
        return enum_option(self.entity_description, value)

    @override
    def shown(self) -> Hashable:
        return self.native_value


@dataclass(slots=True)
class GuardStoredData(ExtraStoredData):
    """What a guarded counter keeps across restarts."""

    guard: dict[str, Any]

    @override
    def as_dict(self) -> dict[str, Any]:
        return {"guard": self.guard}

    @classmethod
    def from_dict(cls, stored: dict[str, Any] | None) -> Self | None:
        """Read back what ``as_dict`` stored."""
        if not stored or not isinstance(stored.get("guard"), dict):
            return None
        return cls(guard=stored["guard"])


class _GuardedCounter(SolarGatewayEntity, SensorEntity, RestoreEntity):
    """A lifetime counter whose glitches never reach the state.

    Written at most once a minute: its sums, not each step, are what counts.
    """

    _guard: CounterGuard
    _value: float | None = None
    _min_write_interval = SLOW_WRITE_SECONDS

    def _raw(self) -> float | None:
        raise NotImplementedError

    @override
    async def async_added_to_hass(self) -> None:
        """Restore the guard, then take the current reading."""
        if (stored := await self.async_get_last_extra_data()) is not None:
            restored = GuardStoredData.from_dict(stored.as_dict())
            if restored is not None:
                self._guard.restore(restored.guard)
        self._value = self._guard.update(self._raw(), dt_util.now())
        await super().async_added_to_hass()

    @callback
    @override
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Go on in place: what it restored at start is kept in the entity."""
        super().async_entity_id_changed(old_entity_id)

    @property
    @override
    def native_value(self) -> float | None:
        """The last value the guard let through."""
        return self._value

    @property
    @override
    def extra_restore_state_data(self) -> GuardStoredData:
        """Keep the guard's state across restarts."""
        return GuardStoredData(guard=self._guard.as_dict())

    @override
    def take_update(self) -> None:
        self._value = self._guard.update(self._raw(), dt_util.now())

    @override
    def shown(self) -> Hashable:
        return self._value


class SiteCounterSensor(_GuardedCounter):
    """A lifetime site counter (solar, consumption, grid, battery energy)."""

    entity_description: SiteSensorDescription

    def __init__(
        self, coordinator: GatewayCoordinator, description: SiteSensorDescription
    ) -> None:
        """Show ``description``'s counter on the gateway's device."""
        super().__init__(coordinator, None, description.key)
        self.entity_description = description
        self._guard = CounterGuard(max_rate=SITE_MAX_RATE)

    @override
    def _raw(self) -> float | None:
        return self.entity_description.value_fn(self.coordinator.data.figures)


class MeasurementCounterSensor(MeasurementEntity, _GuardedCounter):
    """A lifetime counter of one device (an inverter's production, a meter's energy)."""

    entity_description: MeasurementSensorDescription

    def __init__(
        self,
        coordinator: GatewayCoordinator,
        device: Device,
        description: MeasurementSensorDescription,
        measurement: Measurement,
    ) -> None:
        """Show ``measurement`` of ``device`` through a guard."""
        super().__init__(coordinator, device, description, measurement)
        self._guard = CounterGuard(
            max_rate=DEVICE_MAX_RATE.get(device.kind, SITE_MAX_RATE),
            daily=description.daily,
        )

    @override
    def _raw(self) -> float | None:
        value = self.reading()
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)


@dataclass(slots=True)
class IntegratorStoredData(ExtraStoredData):
    """What a derived energy counter keeps across restarts."""

    total: float
    last_power: float | None
    last_time: datetime | None

    @override
    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "last_power": self.last_power,
            "last_time": self.last_time.isoformat() if self.last_time else None,
        }

    @classmethod
    def from_dict(cls, stored: dict[str, Any] | None) -> Self | None:
        """Read back what ``as_dict`` stored; None when it is unusable."""
        if not stored:
            return None
        try:
            last_time = stored.get("last_time")
            last_power = stored.get("last_power")
            return cls(
                total=float(stored["total"]),
                last_power=float(last_power) if last_power is not None else None,
                last_time=datetime.fromisoformat(last_time) if last_time else None,
            )
        except KeyError, TypeError, ValueError:
            return None


class DerivedEnergySensor(SolarGatewayEntity, SensorEntity, RestoreEntity):
    """Energy integrated from a power figure where the gateway counts none.

    Grid import and export on sites whose meter measures house consumption rather
    than the grid connection; the house's consumption on battery sites whose
    gateway counts only a total that includes battery charging. The integral is
    trapezoidal between readings, never across a gap longer than
    ``MAX_INTEGRATION_GAP``, and persists across restarts.
    """

    _attr_device_class = SensorDeviceClass.ENERGY
    _attr_native_unit_of_measurement = UnitOfEnergy.WATT_HOUR
    _attr_suggested_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_suggested_display_precision = 2

    def __init__(
        self, coordinator: GatewayCoordinator, key: str, power: str, sign: int
    ) -> None:
        """Count the part of the ``power`` figure with ``sign`` (1: the figure as
        it is, -1: its negative part, e.g. grid export)."""
        super().__init__(coordinator, None, key)
        self._attr_translation_key = key
        self._power = power
        self._sign = sign
        self._total = 0.0
        self._last_power: float | None = None
        self._last_time: datetime | None = None
        self._attr_extra_state_attributes = {"derived": True, "derived_from": power}

    @override
    async def async_added_to_hass(self) -> None:
        """Restore the running total, then take the current reading."""
        if (stored := await self.async_get_last_extra_data()) is not None:
            restored = IntegratorStoredData.from_dict(stored.as_dict())
            if restored is not None:
                self._total = restored.total
                self._last_power = restored.last_power
                self._last_time = restored.last_time
        self._integrate()
        await super().async_added_to_hass()

    @callback
    @override
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Go on in place: what it restored at start is kept in the entity."""
        super().async_entity_id_changed(old_entity_id)

    @property
    @override
    def native_value(self) -> float:
        """The energy counted so far."""
        return round(self._total, 3)

    @property
    @override
    def extra_restore_state_data(self) -> IntegratorStoredData:
        """Keep the total and the last reading across restarts."""
        return IntegratorStoredData(self._total, self._last_power, self._last_time)

    @property
    @override
    def available(self) -> bool:
        """Available while its power figure is: polled, or carried by the stream."""
        return super().available or self.coordinator.streams(self._power)

    def _integrate(self) -> None:
        snapshot = self.coordinator.data
        reading: float | None = getattr(snapshot.figures, self._power)
        if reading is None:
            return
        now = snapshot.data_time or dt_util.utcnow()
        power = max(reading * self._sign, 0.0)
        if self._last_time is not None and self._last_power is not None:
            elapsed = now - self._last_time
            if elapsed <= timedelta(0):
                return  # the same reading again: nothing new to count
            if elapsed <= MAX_INTEGRATION_GAP:
                hours = elapsed.total_seconds() / 3600
                self._total += (self._last_power + power) / 2 * hours
        self._last_power = power
        self._last_time = now

    @override
    def take_update(self) -> None:
        self._integrate()

    @override
    def shown(self) -> Hashable:
        return self.native_value
