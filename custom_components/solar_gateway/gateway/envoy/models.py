"""Typed models of what an Enphase IQ Gateway (Envoy) reports.

One dataclass per kind of record the gateway sends. Units are the site model's (W, Wh,
V, A, Hz, °C, %); a value the gateway did not send, or sent in a form we cannot read, is
None. Documents the gateway wants back whole on a write (the tariff, a relay's
settings) keep their original JSON next to the typed view.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Self

from custom_components.solar_gateway.gateway.values import JsonObject


class CtType(StrEnum):
    """What a current transformer measures (``measurementType`` of ``/ivp/meters``)."""

    PRODUCTION = "production"
    NET_CONSUMPTION = "net-consumption"
    TOTAL_CONSUMPTION = "total-consumption"
    STORAGE = "storage"
    BACKFEED = "backfeed"  # what the site sends back through the collar
    LOAD = "load"  # one load circuit
    EVSE = "evse"  # an EV charger
    PV3P = "pv3p"  # third-party PV, part of the site's solar


# ``devType`` of an AC Battery in ``/api/v1/production/inverters``.
ACB_DEV_TYPE = 11


class StorageMode(StrEnum):
    """Battery modes of the tariff's ``storage_settings.mode``."""

    BACKUP = "backup"
    SELF_CONSUMPTION = "self-consumption"
    ECONOMY = "economy"
    SAVINGS = "savings-mode"


@dataclass(frozen=True, slots=True)
class EnvoyInfo:
    """``GET /info``: what the gateway is, readable without authentication."""

    serial: str
    part_number: str | None
    firmware: str | None  # as sent, e.g. "D8.2.4286"
    metered: bool | None
    web_tokens: bool | None = None

    @property
    def firmware_version(self) -> tuple[int, ...]:
        """The numeric firmware version, e.g. (8, 2, 4286); () when unknown."""
        if not self.firmware:
            return ()
        digits = self.firmware.lstrip(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        )
        parts: list[int] = []
        for piece in digits.split("."):
            number = "".join(ch for ch in piece if ch.isdigit())
            if not number:
                break
            parts.append(int(number))
        return tuple(parts)

    @property
    def uses_tokens(self) -> bool:
        """Whether the gateway wants a JWT (firmware 7 and later)."""
        version = self.firmware_version
        return bool(self.web_tokens) or (bool(version) and version[0] >= 7)


@dataclass(frozen=True, slots=True)
class PhaseReading:
    """One line of an ``eim`` entry of ``/production.json?details=1``."""

    power: float | None  # W
    lifetime_energy: float | None  # Wh
    energy_today: float | None  # Wh
    voltage: float | None  # V
    current: float | None  # A
    apparent_power: float | None  # VA
    reactive_power: float | None  # var
    power_factor: float | None


@dataclass(frozen=True, slots=True)
class EimReading:
    """A meter-based total of ``/production.json`` (``type: eim``)."""

    measurement_type: str
    active_count: int | None
    reading_time: datetime | None
    power: float | None  # W
    lifetime_energy: float | None  # Wh
    energy_today: float | None  # Wh
    energy_last_seven_days: float | None  # Wh
    voltage: float | None
    current: float | None
    apparent_power: float | None
    reactive_power: float | None
    power_factor: float | None
    lines: tuple[PhaseReading, ...] = ()

    @property
    def active(self) -> bool:
        """Whether a CT feeds this total (``activeCount`` 0 means it does not)."""
        return bool(self.active_count)


@dataclass(frozen=True, slots=True)
class InverterTotals:
    """The ``type: inverters`` entry of ``/production.json``."""

    active_count: int | None
    reading_time: datetime | None
    power: float | None
    lifetime_energy: float | None


@dataclass(frozen=True, slots=True)
class AcbTotals:
    """The ``type: acb`` entry of ``/production.json`` (AC Batteries)."""

    active_count: int | None
    reading_time: datetime | None
    power: float | None  # W, positive = discharging
    energy_now: float | None  # Wh stored
    state: str | None  # idle, charging, discharging, full
    state_of_charge: float | None  # %


@dataclass(frozen=True, slots=True)
class ProductionJson:
    """``GET /production.json?details=1``."""

    inverters: InverterTotals | None = None
    production: EimReading | None = None
    total_consumption: EimReading | None = None
    net_consumption: EimReading | None = None
    acb: AcbTotals | None = None


@dataclass(frozen=True, slots=True)
class SimpleProduction:
    """``/api/v1/production`` or the legacy ``/production`` page: production only."""

    power: float | None  # W
    energy_today: float | None  # Wh
    energy_last_seven_days: float | None  # Wh
    lifetime_energy: float | None  # Wh

    @property
    def all_zero(self) -> bool:
        """Whether every figure is 0 (a firmware quirk meaning "not measured")."""
        values = (
            self.power,
            self.energy_today,
            self.energy_last_seven_days,
            self.lifetime_energy,
        )
        return all(value in (None, 0) for value in values)

    @property
    def counters_missing(self) -> bool:
        """Power but every energy counter 0: CTs installed but disabled (7.3.x)."""
        counters = (
            self.energy_today,
            self.energy_last_seven_days,
            self.lifetime_energy,
        )
        return bool(self.power) and all(value in (None, 0) for value in counters)


@dataclass(frozen=True, slots=True)
class MeterConfig:
    """One CT of ``GET /ivp/meters``."""

    eid: int
    state: str | None
    measurement_type: str | None
    phase_mode: str | None
    phase_count: int | None
    metering_status: str | None
    status_flags: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        """Whether the CT is switched on in the gateway's configuration."""
        return self.state == "enabled"


@dataclass(frozen=True, slots=True)
class MeterChannel:
    """A reading of one CT or one of its phases (``/ivp/meters/readings``)."""

    eid: int | None
    timestamp: datetime | None
    energy_delivered: float | None  # Wh, towards the house
    energy_received: float | None  # Wh, away from the house
    active_power: float | None  # W, positive towards the house
    apparent_power: float | None
    reactive_power: float | None
    power_factor: float | None
    voltage: float | None
    current: float | None
    frequency: float | None


@dataclass(frozen=True, eq=False)  # not slots: the phases are kept once read
class MeterReading:
    """A CT's whole reading with its phases.

    A CT poll every few seconds needs the totals alone (they make the site
    figures); the phases feed the CT meter's own device, rebuilt every few minutes,
    so they are read when first asked for. Compared as the object it is: every
    read makes a new one.
    """

    total: MeterChannel
    read_channels: Callable[[], tuple[MeterChannel, ...]] = field(
        default=tuple, repr=False
    )

    @classmethod
    def of(cls, total: MeterChannel, channels: tuple[MeterChannel, ...]) -> Self:
        """A reading whose phases are already read."""
        return cls(total, lambda: channels)

    @cached_property
    def channels(self) -> tuple[MeterChannel, ...]:
        """The phases' readings, in phase order."""
        return self.read_channels()

    @property
    def eid(self) -> int | None:
        """The CT's id, matching ``MeterConfig.eid``."""
        return self.total.eid


@dataclass(frozen=True, slots=True)
class CtMeter:
    """An enabled CT: its configuration and (when read) its reading."""

    config: MeterConfig
    reading: MeterReading | None

    @property
    def phases(self) -> tuple[MeterChannel, ...]:
        """The phase readings that carry data (``phaseCount`` of them)."""
        if self.reading is None:
            return ()
        count = self.config.phase_count or 0
        if count < 2:
            return ()
        return self.reading.channels[:count]


@dataclass(frozen=True, slots=True)
class Inverter:
    """One microinverter of ``/api/v1/production/inverters``."""

    serial: str
    last_report: datetime | None
    power: float | None  # W
    max_power: float | None  # W
    dev_type: int | None = None


@dataclass(frozen=True, slots=True)
class PdmDevice:
    """Detailed data of one device from ``/ivp/pdm/device_data`` (firmware 8.2+)."""

    key: str
    serial: str
    dev_name: str | None
    active: bool | None
    power: float | None  # W
    max_power: float | None  # W
    energy_today: float | None  # Wh
    energy_yesterday: float | None  # Wh
    energy_last_seven_days: float | None  # Wh
    lifetime_energy: float | None  # Wh
    ac_voltage: float | None  # V
    ac_current: float | None  # A
    ac_frequency: float | None  # Hz
    dc_voltage: float | None  # V
    dc_current: float | None  # A
    temperature: float | None  # °C
    last_report: datetime | None


@dataclass(frozen=True, slots=True)
class InventoryDevice:
    """A device of ``/inventory.json?deleted=1`` (PCU, ACB, NSRB, ESUB)."""

    group: str  # the inventory section: PCU, ACB, NSRB, ESUB
    serial: str
    part_number: str | None
    firmware: str | None
    installed: datetime | None
    last_report: datetime | None
    producing: bool | None
    communicating: bool | None
    operating: bool | None
    deleted: bool
    phase: str | None = None
    state_of_charge: float | None = None  # ACB percentFull
    charge_status: str | None = None  # ACB
    temperature: float | None = None  # ACB maxCellTemp, °C
    sleep_enabled: bool | None = None
    sleep_min_soc: float | None = None  # ACB: the sleep band's low end, %
    sleep_max_soc: float | None = None  # ACB: the sleep band's high end, %
    # ACB: whether its status says it sleeps (reached its band); None: no status.
    sleeping: bool | None = None


@dataclass(frozen=True, slots=True)
class AcbSleepSetting:
    """One AC Battery's sleep setting as ``/admin/lib/acb_config`` holds it.

    What was last written, whether or not the battery has reached its band yet.
    """

    serial: str
    enabled: bool | None
    min_soc: float | None  # %
    max_soc: float | None  # %


@dataclass(frozen=True, slots=True)
class Encharge:
    """An IQ Battery (Encharge) of ``/ivp/ensemble/inventory``."""

    serial: str
    part_number: str | None
    firmware: str | None
    bmu_firmware: str | None
    state_of_charge: float | None  # %
    temperature: float | None  # °C
    max_cell_temperature: float | None  # °C
    communicating: bool | None
    dc_switch_off: bool | None
    sleep_enabled: bool | None
    last_report: datetime | None
    capacity: float | None  # Wh
    admin_state: str | None
    grid_state: str | None
    phase: str | None


@dataclass(frozen=True, slots=True)
class EnchargePower:
    """One battery's power from ``/ivp/ensemble/power`` (key ``"devices:"``)."""

    serial: str
    real_power: float | None  # W, positive = discharging
    apparent_power: float | None  # VA
    state_of_charge: float | None  # %


@dataclass(frozen=True, slots=True)
class Enpower:
    """The IQ System Controller (Enpower) of ``/ivp/ensemble/inventory``."""

    serial: str
    part_number: str | None
    firmware: str | None
    communicating: bool | None
    temperature: float | None  # °C (the gateway reports °F)
    mains_admin_state: str | None  # "closed" = on grid requested
    mains_oper_state: str | None  # "closed" = on grid
    grid_mode: str | None
    admin_state: str | None
    last_report: datetime | None


@dataclass(frozen=True, slots=True)
class Collar:
    """The IQ Meter Collar of ``/ivp/ensemble/inventory``."""

    serial: str
    part_number: str | None
    firmware: str | None
    communicating: bool | None
    temperature: float | None  # °C
    mid_state: str | None  # "close" = connected
    grid_state: str | None  # "on_grid" / "off_grid"
    collar_state: str | None
    admin_state: str | None
    last_report: datetime | None


@dataclass(frozen=True, slots=True)
class C6Combiner:
    """The C6 Combiner Controller of ``/ivp/ensemble/inventory``."""

    serial: str
    part_number: str | None
    firmware: str | None
    communicating: bool | None
    admin_state: str | None
    last_report: datetime | None


@dataclass(frozen=True, slots=True)
class EnsembleInventory:
    """``GET /ivp/ensemble/inventory`` sorted by device type."""

    encharges: tuple[Encharge, ...] = ()
    enpowers: tuple[Enpower, ...] = ()
    collars: tuple[Collar, ...] = ()
    combiners: tuple[C6Combiner, ...] = ()


@dataclass(frozen=True, slots=True)
class SecCtrl:
    """``GET /ivp/ensemble/secctrl``: aggregate battery state."""

    state_of_charge: float | None  # %, all batteries
    max_energy: float | None  # Wh, all batteries
    encharge_state_of_charge: float | None
    encharge_available_energy: float | None  # Wh
    encharge_capacity: float | None  # Wh
    acb_state_of_charge: float | None
    acb_energy: float | None  # Wh
    configured_backup_soc: float | None
    adjusted_backup_soc: float | None


@dataclass(frozen=True, slots=True)
class Generator:
    """``GET /ivp/ensemble/generator``."""

    present: bool
    admin_state: str | None
    oper_state: str | None  # "close" when running, "open" when not
    admin_mode: int | None
    kind: int | None

    @property
    def exists(self) -> bool:
        """Whether a generator is wired: firmware without one still reports
        ``present`` with ``type`` 0 and ``admin_state`` "unknown"."""
        return self.present and not (self.kind == 0 and self.admin_state == "unknown")

    @property
    def relay_closed(self) -> bool | None:
        """Whether the generator relay is closed (the generator feeds the site)."""
        if self.oper_state is None:
            return None
        return self.oper_state in ("close", "closed")


@dataclass(frozen=True, slots=True)
class DryContactStatus:
    """One relay of ``GET /ivp/ensemble/dry_contacts``."""

    id: str
    status: str | None  # "open" / "closed"


@dataclass(frozen=True, slots=True)
class DryContactSettings:
    """One relay of ``GET /ivp/ss/dry_contact_settings``.

    ``document`` is the relay's complete JSON as read: a write must send all of it.
    """

    id: str
    type: str | None
    load_name: str | None
    mode: str | None
    grid_action: str | None
    micro_grid_action: str | None
    gen_action: str | None
    soc_low: float | None
    soc_high: float | None
    priority: float | None
    document: JsonObject = field(repr=False)


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """``tariff.storage_settings`` of ``/admin/lib/tariff``."""

    mode: str | None
    reserved_soc: float | None
    charge_from_grid: bool | None
    very_low_soc: float | None
    # Enphase's optimised schedules (firmware 8.2.42xx+; None: absent). While on, the
    # battery controller ignores the mode.
    opt_schedules: bool | None = None


@dataclass(frozen=True, slots=True)
class Tariff:
    """``GET /admin/lib/tariff``; ``document`` is the whole JSON, for writes."""

    storage: StorageSettings | None
    document: JsonObject = field(repr=False)
    # ``tariff.date``: when the tariff was last pushed (epoch seconds, as a string);
    # a local write sends it back unchanged, the Enphase cloud's push sets a new one.
    date: str | None = None


class GeneratorCommand(StrEnum):
    """The generator's mode in ``/ivp/ss/gen_mode`` (``gen_cmd``, lower case)."""

    OFF = "off"
    ON = "on"
    AUTO = "auto"


@dataclass(frozen=True, slots=True)
class GeneratorMode:
    """``/ivp/ss/gen_mode``: what the system controller tells the generator to do."""

    command: GeneratorCommand | None
    last_updated_by: str | None


@dataclass(frozen=True, slots=True)
class GeneratorSchedule:
    """``/ivp/ss/gen_schedule``: the exercise run and the default start/stop charge.

    ``document`` is the whole answer (the time-of-use ``schedule`` too), for
    diagnostics; a write sends only the keys it changes.
    """

    exercise_weeks: int | None  # run every N weeks
    exercise_day: str | None  # "Mon".."Sun"
    exercise_start: int | None  # minutes after local midnight
    exercise_duration: int | None  # minutes
    start_soc: float | None  # %: below it the generator starts
    stop_soc: float | None  # %: above it the generator stops
    document: JsonObject


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    """``/ivp/ss/gen_config``: the generator as installed; written back whole."""

    manufacturer: str | None
    model: str | None
    rating: float | None  # kW, the name plate
    start_method: str | None  # "auto" (two-wire start) or "manual"
    charge_from_generator: bool | None
    document: JsonObject


@dataclass(frozen=True, slots=True)
class ProductionPower:
    """``/ivp/mod/603980032/mode/power``: whether the gateway holds production off."""

    forced_off: bool | None  # everything: solar and batteries
    pv_forced_off: bool | None  # solar only
    battery_forced_off: bool | None  # IQ Batteries only


@dataclass(frozen=True, slots=True)
class ExportLimit:
    """``/ivp/ss/pel_settings``: the export limit (power export limiting)."""

    enabled: bool | None  # PEL
    hard: bool | None  # Hard_PEL: trips when exceeded
    soft: bool | None  # Soft_PEL: curtails the inverters
    limit_type: str | None  # Export_Limit_Type, e.g. "Aggregate"
    in_percent: bool | None  # the limit is a share of the nameplate, not watts
    limit: float | None  # PEL_Limit: % or W, by ``in_percent``


@dataclass(frozen=True, slots=True)
class DynamicExportLimit:
    """``/ivp/ss/dpel``: the limit an installer token may set on export or production.

    The gateway curtails the inverters so that the site exports at most
    ``limit_w`` (``export_limit`` true) or produces at most ``limit_w`` (false).
    A disabled limit is reported as ``{"enable": false}`` alone.
    """

    enabled: bool
    export_limit: bool | None  # True: export is limited; False: production is
    limit_w: float | None  # W
    slew_rate: float | None  # how fast the inverters are moved to the limit
    dynamic: bool | None  # enable_dynamic_limiting


@dataclass(frozen=True, slots=True)
class PvLimit:
    """``/ivp/sc/pvlimit``: a cap on solar production as a share of its nameplate."""

    enabled: bool | None
    percent: float | None  # %


@dataclass(frozen=True)  # not slots: its CT meters are cached on it
class EnvoyData:
    """Everything last read from one gateway; absent endpoints leave their default."""

    info: EnvoyInfo
    production: ProductionJson | None = None
    api_production: SimpleProduction | None = None
    legacy_production: SimpleProduction | None = None
    meter_configs: tuple[MeterConfig, ...] = ()
    meter_readings: tuple[MeterReading, ...] = ()
    inverters: tuple[Inverter, ...] = ()
    pdm_devices: tuple[PdmDevice, ...] = ()
    inventory: tuple[InventoryDevice, ...] = ()
    ensemble: EnsembleInventory | None = None
    ensemble_power: tuple[EnchargePower, ...] = ()
    secctrl: SecCtrl | None = None
    generator: Generator | None = None
    dry_contacts: tuple[DryContactStatus, ...] = ()
    dry_contact_settings: tuple[DryContactSettings, ...] = ()
    tariff: Tariff | None = None
    generator_mode: GeneratorMode | None = None
    generator_schedule: GeneratorSchedule | None = None
    generator_config: GeneratorConfig | None = None
    production_power: ProductionPower | None = None
    export_limit: ExportLimit | None = None
    pv_limit: PvLimit | None = None
    # AC Battery sleep settings; None: not read (no AC Battery, or not offered).
    acb_config: tuple[AcbSleepSetting, ...] | None = None
    dynamic_export_limit: DynamicExportLimit | None = None

    @cached_property
    def ct_meters(self) -> tuple[CtMeter, ...]:
        """Enabled CTs with their readings, in configuration order."""
        readings = {reading.eid: reading for reading in self.meter_readings}
        return tuple(
            CtMeter(config, readings.get(config.eid))
            for config in self.meter_configs
            if config.enabled
        )

    def ct(self, kind: CtType) -> CtMeter | None:
        """The enabled CT of one type, or None."""
        for meter in self.ct_meters:
            if meter.config.measurement_type == kind:
                return meter
        return None
