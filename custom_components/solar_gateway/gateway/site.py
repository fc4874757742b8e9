"""The vendor-neutral picture of a site that every gateway is turned into.

Units are fixed here so that nothing above the protocol layer converts: power in W,
energy in Wh, voltage in V, current in A, frequency in Hz, temperature in °C,
state of charge and reserve in %.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


# Where gateway counters wrap, in Wh. Old Envoy firmware keeps lifetime production
# as a 32-bit count of joules: at 2**32 J (1.19 MWh) it restarts from zero (metered
# without CTs, before 8) or steps down by that much (standard): a continuation,
# never a reset.
COUNTER_WRAPS: tuple[float, ...] = (2**32 / 3600,)


class DataGroup(StrEnum):
    """Endpoints grouped by how fast their data changes."""

    LIVE = "live"  # site power, CT meters, battery power: seconds
    DEVICES = "devices"  # inverters, PVS device list: minutes
    SETTINGS = (
        "settings"  # inventory, tariff, relay settings: after a write, else rarely
    )


class Brand(StrEnum):
    """Who made the gateway."""

    ENPHASE = "enphase"
    SUNPOWER = "sunpower"

    @property
    def manufacturer(self) -> str:
        """The maker's name as shown on every device of this brand."""
        return "Enphase Energy" if self is Brand.ENPHASE else "SunPower"


class DeviceKind(StrEnum):
    """What a device on the site is."""

    GATEWAY = "gateway"
    METER = "meter"
    INVERTER = "inverter"
    BATTERY = "battery"
    SYSTEM_CONTROLLER = "system_controller"
    RELAY = "relay"
    COLLAR = "collar"
    COMBINER = "combiner"
    ESS = "ess"
    ESS_HUB = "ess_hub"
    BATTERY_MANAGEMENT = "battery_management"
    STORAGE_INVERTER = "storage_inverter"
    PV_DISCONNECT = "pv_disconnect"
    TRANSFER_SWITCH = "transfer_switch"
    GENERATOR = "generator"


class Phase(StrEnum):
    """A line of a split-phase or three-phase service."""

    L1 = "l1"
    L2 = "l2"
    L3 = "l3"


class Quantity(StrEnum):
    """What a device measurement is; the unit is implied (see module docstring)."""

    # Electrical, numbers
    POWER = "power"  # W, positive towards the house / produced
    APPARENT_POWER = "apparent_power"  # VA
    REACTIVE_POWER = "reactive_power"  # var
    ENERGY_DELIVERED = "energy_delivered"  # Wh lifetime, towards the house
    ENERGY_RECEIVED = "energy_received"  # Wh lifetime, away from the house
    LIFETIME_ENERGY = "lifetime_energy"  # Wh lifetime produced
    ENERGY_TODAY = "energy_today"  # Wh since local midnight
    VOLTAGE = "voltage"  # V
    CURRENT = "current"  # A
    FREQUENCY = "frequency"  # Hz
    POWER_FACTOR = "power_factor"  # -1..1
    DC_VOLTAGE = "dc_voltage"  # V
    DC_CURRENT = "dc_current"  # A
    DC_POWER = "dc_power"  # W
    MAX_POWER = "max_power"  # W, the highest reported power
    MAX_CHARGE_POWER = "max_charge_power"  # W, the charge limit now
    MAX_DISCHARGE_POWER = "max_discharge_power"  # W, the discharge limit now
    # Storage
    STATE_OF_CHARGE = "state_of_charge"  # %
    AVAILABLE_ENERGY = "available_energy"  # Wh
    CAPACITY = "capacity"  # Wh
    STATE_OF_HEALTH = "state_of_health"  # %
    BACKUP_TIME = "backup_time"  # s the battery would carry the house in an outage
    # Environment and health
    TEMPERATURE = "temperature"  # °C
    MIN_CELL_TEMPERATURE = "min_cell_temperature"  # °C
    MAX_CELL_TEMPERATURE = "max_cell_temperature"  # °C
    UPTIME = "uptime"  # s
    MEMORY_USED = "memory_used"  # %
    CPU_LOAD = "cpu_load"  # load average
    FLASH_FREE = "flash_free"  # %
    FLASH_WEAR = "flash_wear"  # %
    ERROR_COUNT = "error_count"  # errors the gateway logged since it started
    COMM_ERRORS = "comm_errors"  # failed reads of its devices since it started
    UNTRANSMITTED = "untransmitted"  # readings not yet sent to the vendor's cloud
    # Limits on what the site produces or exports (set by the installer)
    EXPORT_LIMIT_MODE = "export_limit_mode"  # str: "off", "soft" (curtail), "hard"
    EXPORT_LIMIT = "export_limit"  # W, the most the site may export
    EXPORT_LIMIT_SHARE = "export_limit_share"  # %, of the nameplate
    PRODUCTION_LIMIT = "production_limit"  # %, of the nameplate (100: no cap)
    # States, bools and strings
    COMMUNICATING = "communicating"  # bool
    PRODUCING = "producing"  # bool
    WORKING = "working"  # bool, False when the device reports a fault
    DC_SWITCH_ON = "dc_switch_on"  # bool, the battery's DC switch is closed
    GRID_CONNECTED = "grid_connected"  # bool
    RELAY_CLOSED = "relay_closed"  # bool
    STATE = "state"  # str, the device's status, a code of the gateway's own
    MODE = "mode"  # str, the device's operating mode, a code of the gateway's own
    LAST_REPORT = "last_report"  # datetime


type MeasurementValue = float | int | bool | str | datetime


@dataclass(frozen=True, slots=True)
class Measurement:
    """One value a device reports; ``phase`` is None for a whole-device value."""

    quantity: Quantity
    value: MeasurementValue
    phase: Phase | None = None


@dataclass(frozen=True, slots=True)
class Device:
    """A device on the site, keyed by its serial within the gateway."""

    kind: DeviceKind
    serial: str
    manufacturer: str
    model: str | None = None  # the product's name, e.g. "IQ Battery 5P"
    model_id: str | None = None  # the part number, e.g. "836-01250-r00"
    firmware: str | None = None
    hardware: str | None = None
    name: str | None = None  # a label the owner knows it by, e.g. a relay's load name
    parent: str | None = None  # serial of the device it hangs off; None: the gateway
    measurements: tuple[Measurement, ...] = ()
    data_time: datetime | None = None  # when the gateway last measured it
    mac: str | None = None  # the network address of a device on the LAN

    def get(
        self, quantity: Quantity, phase: Phase | None = None
    ) -> MeasurementValue | None:
        """Return the value of one measurement, or None when the device lacks it."""
        for measurement in self.measurements:
            if measurement.quantity is quantity and measurement.phase is phase:
                return measurement.value
        return None

    def __iter__(self) -> Iterator[Measurement]:
        """Iterate over the measurements."""
        return iter(self.measurements)


@dataclass(frozen=True, slots=True)
class SiteFigures:
    """The site-wide figures that drive the Energy dashboard.

    None means the gateway cannot measure that figure on this site (no entity is made),
    never "zero".
    """

    solar_power: float | None = None  # W
    solar_energy: float | None = None  # Wh lifetime
    consumption_power: float | None = None  # W
    consumption_energy: float | None = None  # Wh lifetime
    grid_power: float | None = None  # W, positive = importing
    grid_import_energy: float | None = None  # Wh lifetime
    grid_export_energy: float | None = None  # Wh lifetime
    battery_power: float | None = None  # W, positive = discharging
    battery_charged_energy: float | None = None  # Wh lifetime
    battery_discharged_energy: float | None = None  # Wh lifetime
    solar_energy_today: float | None = None  # Wh, as the gateway counts its day
    solar_energy_last_seven_days: float | None = None  # Wh
    consumption_energy_today: float | None = None  # Wh
    consumption_energy_last_seven_days: float | None = None  # Wh
    battery_state_of_charge: float | None = None  # %
    battery_available_energy: float | None = None  # Wh
    battery_capacity: float | None = None  # Wh
    backup_reserve: float | None = None  # %
    # %, the charge below which the batteries stop discharging to protect themselves
    battery_very_low_soc: float | None = None
    grid_connected: bool | None = None


@dataclass(frozen=True, slots=True)
class GatewayIdentity:
    """What a probe learns about a host before any authentication."""

    brand: Brand
    serial: str
    model: str | None
    firmware: str | None
    api: str  # "envoy", "pvs_legacy" or "pvs_varserver"
    metered: bool | None = None  # Envoy only: a metered model (CT inputs)


class ControlKind(StrEnum):
    """How a setting is changed."""

    SWITCH = "switch"  # on or off
    SELECT = "select"  # one of ``options``
    NUMBER = "number"  # a number within ``minimum``..``maximum``
    TIME = "time"  # a time of day, in minutes after midnight (0..1439)


class ControlKey(StrEnum):
    """What a control is, whichever brand offers it (also its entity's key)."""

    # The site and its batteries
    GRID_CONNECTION = "grid_connection"  # switch: the system controller's mains relay
    BATTERY_MODE = "battery_mode"  # select
    BACKUP_RESERVE = "backup_reserve"  # number, %
    CHARGE_FROM_GRID = "charge_from_grid"  # switch
    OPTIMISED_SCHEDULES = "optimised_schedules"  # switch: Enphase's own optimisation
    PRODUCTION = "production"  # switch: the inverters produce
    DYNAMIC_EXPORT_LIMIT = "dynamic_export_limit"  # switch: export limited
    DYNAMIC_EXPORT_LIMIT_POWER = "dynamic_export_limit_power"  # number, W
    # A dry contact relay and its settings
    RELAY = "relay"  # switch: closed or open
    RELAY_MODE = "relay_mode"  # select
    GRID_ACTION = "grid_action"  # select
    MICRO_GRID_ACTION = "micro_grid_action"  # select
    GENERATOR_ACTION = "generator_action"  # select
    CUTOFF_SOC = "cutoff_soc"  # number, %
    RESTORE_SOC = "restore_soc"  # number, %
    # The generator
    GENERATOR_MODE = "generator_mode"  # select
    GENERATOR_EXERCISE_DAY = "generator_exercise_day"  # select
    GENERATOR_EXERCISE_WEEKS = "generator_exercise_weeks"  # number
    GENERATOR_EXERCISE_START = "generator_exercise_start"  # time, minutes in the day
    GENERATOR_EXERCISE_DURATION = "generator_exercise_duration"  # number, minutes
    GENERATOR_START_SOC = "generator_start_soc"  # number, %
    GENERATOR_STOP_SOC = "generator_stop_soc"  # number, %
    CHARGE_FROM_GENERATOR = "charge_from_generator"  # switch
    # An AC Battery
    SLEEP_MIN_SOC = "sleep_min_soc"  # number, %
    SLEEP_MAX_SOC = "sleep_max_soc"  # number, %
    ACB_SLEEP = "acb_sleep"  # switch: on sleeps in the band, off wakes


type ControlValue = bool | str | float


class SettingSource(StrEnum):
    """Who changed a setting last, as far as the client can tell."""

    CLIENT = "client"  # a write of this client, which the gateway reads back
    # A push of the Enphase cloud (a new tariff date no local write sent): a change
    # in the Enphase app, or the cloud putting its own settings back.
    ENPHASE_CLOUD = "enphase_cloud"


@dataclass(frozen=True, slots=True)
class SettingOverride:
    """A setting this client wrote that its vendor's cloud put back soon after."""

    key: ControlKey
    device: str | None  # the control's device; None: the gateway
    written: ControlValue  # what this client wrote
    value: ControlValue | None  # what the gateway holds now
    written_at: datetime
    changed_at: datetime  # when the cloud changed it (its push time where known)
    changed_by: SettingSource = SettingSource.ENPHASE_CLOUD


@dataclass(frozen=True, slots=True)
class Control:
    """A setting the gateway lets the owner change, as last read.

    ``key`` says what it is whichever brand offers it; with ``device`` it names the
    control. Options are vendor-neutral keys: the client
    turns them into its gateway's own spelling.
    """

    key: ControlKey
    kind: ControlKind
    value: ControlValue | None  # None: the gateway does not say right now
    device: str | None = None  # serial of the device it belongs to; None: the gateway
    options: tuple[str, ...] = ()  # SELECT: the values a write accepts
    minimum: float = 0  # NUMBER
    maximum: float = 100  # NUMBER
    step: float = 1  # NUMBER
    resolution: float = 0.0  # NUMBER: how finely the gateway stores it
    # A change on its way: the gateway took it, the site has not followed yet.
    pending: bool = False
    source: DataGroup = DataGroup.SETTINGS  # the group whose read reports it
    # The groups a write changes (and that the client reads back after it).
    groups: frozenset[DataGroup] = frozenset({DataGroup.SETTINGS})
    # Who changed it last and when, where the client can tell (None: unknown).
    changed_by: SettingSource | None = None
    changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ControlChange:
    """A request to set control ``key`` of ``device`` to ``value``."""

    key: ControlKey
    device: str | None
    value: ControlValue


@dataclass(frozen=True)  # not slots: the serial and control indexes are cached on it
class SiteSnapshot:
    """One consistent update of a whole site."""

    identity: GatewayIdentity
    figures: SiteFigures
    devices: tuple[Device, ...] = field(default_factory=tuple)
    data_time: datetime | None = None  # when the gateway measured the site figures
    controls: tuple[Control, ...] = ()
    # Settings this client wrote that the vendor's cloud put back, while they stand
    # (until the next write of the same setting).
    overrides: tuple[SettingOverride, ...] = ()

    @cached_property
    def _controls_by_key(self) -> dict[tuple[ControlKey, str | None], Control]:
        # Each control entity looks its control up after every poll (the first
        # control of a key and device wins, as a scan would find it).
        index: dict[tuple[ControlKey, str | None], Control] = {}
        for control in self.controls:
            index.setdefault((control.key, control.device), control)
        return index

    def control(self, key: ControlKey, device: str | None = None) -> Control | None:
        """Return control ``key`` of ``device`` (None: the gateway), or None."""
        return self._controls_by_key.get((key, device))

    @cached_property
    def _by_serial(self) -> dict[str, Device]:
        # Every entity looks its device up after every poll: by serial, not by a scan
        # (the first device of a serial wins, as a scan would find it).
        index: dict[str, Device] = {}
        for device in self.devices:
            index.setdefault(device.serial, device)
        return index

    def device(self, serial: str) -> Device | None:
        """Return the device with this serial, or None."""
        return self._by_serial.get(serial)

    def of_kind(self, kind: DeviceKind) -> list[Device]:
        """Return the devices of one kind, in gateway order."""
        return [device for device in self.devices if device.kind is kind]


def same_objects(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    """Whether two tuples hold the very same objects, in order."""
    return len(old) == len(new) and all(a is b for a, b in zip(old, new, strict=True))
