"""Typed vendor models of what a SunPower PVS5/PVS6 reports.

Both local APIs (the legacy ``DeviceList`` and the new-firmware varserver) are parsed
into these same models, in the PVS's own units (kW, kWh, V, A, °C, fractions), so that
control entities and diagnostics can read them; ``site_mapping`` turns them into the
vendor-neutral site model.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class PvsApi(StrEnum):
    """Which local API a PVS answers on."""

    LEGACY = "pvs_legacy"
    VARSERVER = "pvs_varserver"


class MeterRole(StrEnum):
    """What a PVS meter measures."""

    PRODUCTION = "production"
    CONSUMPTION = "consumption"


class ConsumptionSubtype(StrEnum):
    """Where a consumption meter's CTs sit (``subtype`` in the DeviceList)."""

    NET_LOADSIDE = "NET_CONSUMPTION_LOADSIDE"  # grid import/export
    GROSS_LINESIDE = "GROSS_CONSUMPTION_LINESIDE"  # what the house uses


class EssControlMode(StrEnum):
    """SunVault control modes written to ``/ess/config/dcm/mode_param/control_mode``."""

    SELF_CONSUMPTION = "SELF_CONSUMPTION"
    ENERGY_ARBITRAGE = "ENERGY_ARBITRAGE"  # "cost savings" in the SunPower app
    BACKUP_ONLY = "BACKUP_ONLY"  # "emergency reserve"
    STANDBY = "STANDBY"


@dataclass(frozen=True, slots=True)
class Legs:
    """One figure on each leg of a split-phase service (L1, L2), as the PVS reads it."""

    l1: float | None = None
    l2: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PvsDevice:
    """What every device of a PVS reports about itself, whichever API read it."""

    serial: str
    model: str | None
    # When the PVS measured it; legacy DATATIME is on 5-minute boundaries.
    data_time: datetime | None


@dataclass(frozen=True, slots=True)
class SupervisorInfo:
    """What ``/cgi-bin/dl_cgi/supervisor/info`` (or a DeviceList) says about the PVS."""

    serial: str
    model: str | None
    build: int | None
    software: str | None
    hardware: str | None = None


@dataclass(frozen=True, slots=True)
class Supervisor(PvsDevice):
    """The PVS itself, as a device with health figures."""

    software: str | None
    hardware: str | None
    state: str | None
    current_time: datetime | None  # legacy CURTIME: the PVS clock when answering
    uptime_s: float | None
    cpu_load: float | None
    memory_used_kib: float | None  # legacy
    flash_available_kib: float | None  # legacy
    memory_used_pct: float | None = None  # varserver
    flash_used_pct: float | None = None  # varserver
    cpu_used_pct: float | None = None  # varserver
    flash_wear_level: int | None = None  # varserver eMMC type B estimate, 1 = 0-10 %
    comm_errors: int | None = None
    error_count: int | None = None
    skipped_scans: int | None = None
    untransmitted: int | None = None
    mac: str | None = None  # varserver: the LAN interface's MAC address

    @property
    def flash_wear_pct(self) -> int | None:
        """Share of the flash lifetime used, in % (110 means beyond its rated life)."""
        return None if self.flash_wear_level is None else self.flash_wear_level * 10

    @property
    def flash_worn_out(self) -> bool | None:
        """Whether the eMMC reports its rated lifetime exceeded (level 0x0B)."""
        return None if self.flash_wear_level is None else self.flash_wear_level >= 11


@dataclass(frozen=True, slots=True)
class Meter(PvsDevice):
    """A PVS CT meter; energies in kWh, power in kW as the PVS reports them."""

    role: MeterRole
    subtype: str | None
    state: str | None
    power_kw: float | None
    reactive_kvar: float | None
    apparent_kva: float | None
    power_factor: float | None
    frequency_hz: float | None
    net_kwh: float | None
    pos_kwh: float | None
    neg_kwh: float | None
    voltage_v: float | None  # v12: line to line
    voltage_legs: Legs  # line to neutral
    current_legs: Legs
    power_legs_kw: Legs
    ct_scale: float | None
    software: str | None = None


@dataclass(frozen=True, slots=True)
class Inverter(PvsDevice):
    """A microinverter (``SOLARBRIDGE``); ``state`` "error" at night is normal."""

    state: str | None
    power_kw: float | None
    lifetime_kwh: float | None
    voltage_v: float | None
    current_a: float | None
    frequency_hz: float | None
    dc_power_kw: float | None
    dc_voltage_v: float | None
    dc_current_a: float | None
    temperature_c: float | None
    software: str | None = None
    hardware: str | None = None
    panel: str | None = None


@dataclass(frozen=True, slots=True)
class EssPart(PvsDevice):
    """A SunVault part from the legacy DeviceList (HUB+, ESS Hub, BMS, battery...)."""

    device_type: str  # DEVICE_TYPE, e.g. "ESS BMS"
    type: str | None  # TYPE, e.g. "EQUINOX-BMS"
    state: str | None
    software: str | None
    hardware: str | None
    parent: str | None  # PARENT: serial of the Energy Storage System
    temperature_c: float | None = None
    humidity_pct: float | None = None
    grid_voltage_legs: Legs = Legs()  # PV Disconnect
    pv_voltage_legs: Legs = Legs()
    relay_closed: bool | None = None  # PV Disconnect: both relays closed
    supply_v: float | None = None  # ESS Hub


@dataclass(frozen=True, slots=True)
class OtherDevice:
    """A DeviceList entry of a type this library does not know yet."""

    device_type: str
    serial: str
    model: str | None
    state: str | None
    software: str | None


@dataclass(frozen=True, slots=True)
class DeviceList:
    """One parsed ``DeviceList`` answer."""

    supervisor: Supervisor | None
    meters: tuple[Meter, ...]
    inverters: tuple[Inverter, ...]
    ess_parts: tuple[EssPart, ...]
    others: tuple[OtherDevice, ...] = ()


@dataclass(frozen=True, slots=True)
class BatteryStatus:
    """One battery from ``energy-storage-system/status`` (``battery_status``)."""

    serial: str
    current_a: float | None  # negative while discharging
    voltage_v: float | None
    temperature_c: float | None
    customer_soc_pct: float | None
    system_soc_pct: float | None

    @property
    def power_w(self) -> float | None:
        """Battery power in W, positive while discharging."""
        if self.current_a is None or self.voltage_v is None:
            return None
        return -self.current_a * self.voltage_v


@dataclass(frozen=True, slots=True)
class EssUnitStatus:
    """One storage system from ``energy-storage-system/status`` (``ess_status``)."""

    serial: str
    power_kw: float | None  # ess_meter_reading.agg_power
    enclosure_temperature_c: float | None
    enclosure_humidity_pct: float | None


@dataclass(frozen=True, slots=True)
class HubPlusStatus:
    """The HUB+ from ``energy-storage-system/status`` (``hub_plus_status``)."""

    serial: str
    contactor_position: str | None
    grid_voltage_state: str | None
    grid_voltage_legs: Legs
    load_voltage_legs: Legs
    temperature_c: float | None
    humidity_pct: float | None


@dataclass(frozen=True, slots=True)
class EssStatus:
    """The parsed ``/cgi-bin/dl_cgi/energy-storage-system/status`` answer."""

    batteries: tuple[BatteryStatus, ...]
    units: tuple[EssUnitStatus, ...]
    hub_plus: HubPlusStatus | None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    """One interface from ``Get_Comm``."""

    name: str
    state: str | None
    internet: bool | None
    ip_address: str | None
    link: str | None
    signal: float | None
    ssid: str | None


@dataclass(frozen=True, slots=True)
class NetworkStatus:
    """``Get_Comm``: the PVS's network interfaces and which one it uses."""

    interfaces: tuple[NetworkInterface, ...]
    active_interface: str | None
    internet: bool | None


@dataclass(frozen=True, slots=True)
class GridProfile:
    """``GridProfileGet``: the active grid profile."""

    active_name: str | None
    active_id: str | None
    pending_name: str | None
    pending_id: str | None
    percent: float | None


@dataclass(frozen=True, slots=True)
class FirmwareCheck:
    """``CheckFW``: the URL of a newer firmware, or None when up to date."""

    update_url: str | None


@dataclass(frozen=True, slots=True)
class LiveData:
    """Varserver ``/sys/livedata/*``: site figures in kW and kWh, SOC 0..1."""

    time: datetime | None
    pv_kw: float | None
    pv_kwh: float | None
    net_kw: float | None  # positive: importing
    net_kwh: float | None
    site_load_kw: float | None
    site_load_kwh: float | None
    ess_kw: float | None  # positive: discharging
    ess_kwh: float | None
    soc: float | None  # 0..1
    backup_minutes: float | None
    mid_state: int | None


@dataclass(frozen=True, slots=True)
class EssDevice(PvsDevice):
    """Varserver ``/sys/devices/ess/<i>/*``: a SunVault storage system."""

    power_kw: float | None
    pos_kwh: float | None
    neg_kwh: float | None
    soc: float | None  # 0..1
    customer_soc: float | None  # 0..1
    soh: float | None  # state of health, 0..1 (1 is as new)
    op_mode: str | None
    battery_v: float | None
    inverter_temperature_c: float | None
    voltage_legs: Legs
    max_charge_kw: float | None
    max_discharge_kw: float | None
    min_cell_temperature_c: float | None = None
    max_cell_temperature_c: float | None = None


@dataclass(frozen=True, slots=True)
class TransferSwitch(PvsDevice):
    """Varserver ``/sys/devices/transfer_switch/<i>/*`` (the HUB+ MID and PV disconnect)."""

    mid_state: str | None
    pv_disconnect_state: str | None
    temperature_c: float | None
    voltage_legs: Legs
    grid_voltage_legs: Legs
    supply_v: float | None


@dataclass(frozen=True, slots=True)
class EssConfig:
    """The writable SunVault settings (``/ess/config/dcm/...``)."""

    control_mode: str | None
    min_customer_soc: float | None  # 0..1


@dataclass(frozen=True, slots=True)
class VarserverData:
    """One parsed varserver dump (any subset of ``/sys/``)."""

    supervisor: Supervisor | None
    livedata: LiveData | None
    meters: tuple[Meter, ...]
    inverters: tuple[Inverter, ...]
    ess: tuple[EssDevice, ...]
    transfer_switches: tuple[TransferSwitch, ...]
    ess_config: EssConfig | None = None
    system_type: str | None = None  # "PV-only" or a storage type


@dataclass(slots=True)
class PvsData:
    """Everything the client read last, per endpoint (None: never read)."""

    info: SupervisorInfo | None = None
    device_list: DeviceList | None = None
    ess_status: EssStatus | None = None
    network: NetworkStatus | None = None
    grid_profile: GridProfile | None = None
    firmware: FirmwareCheck | None = None
    varserver: VarserverData | None = None
    ess_config: EssConfig | None = None
    warnings: list[str] = field(default_factory=list)
