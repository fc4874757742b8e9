"""Turn PVS vendor models into the vendor-neutral site model.

Meter semantics (confirmed by real captures, tests/fixtures/pvs): a consumption meter's
``net_ltea_3phsum_kwh`` is ``pos - neg``. On a ``NET_CONSUMPTION_LOADSIDE`` meter
``pos`` is energy imported from the grid, ``neg`` exported, and ``p_3phsum_kw < 0``
means exporting; the house then uses solar + grid. On a ``GROSS_CONSUMPTION_LINESIDE``
meter the meter measures the house itself: grid power is consumption - production and
grid import/export are not measured (left None; the layer above derives them).
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
import logging
import re

from custom_components.solar_gateway.gateway.site import (
    Brand,
    Device,
    DeviceKind,
    GatewayIdentity,
    Measurement,
    MeasurementValue,
    Phase,
    Quantity,
    SiteFigures,
    SiteSnapshot,
)

from .models import (
    ConsumptionSubtype,
    DeviceList,
    EssConfig,
    EssDevice,
    EssPart,
    EssStatus,
    Inverter,
    Legs,
    LiveData,
    Meter,
    MeterRole,
    Supervisor,
    TransferSwitch,
    VarserverData,
)

_LOGGER = logging.getLogger(__name__)

MANUFACTURER = Brand.SUNPOWER.manufacturer
# Below this the array is not producing (inverters draw a few W at night).
PRODUCING_THRESHOLD_W = 50.0

# Product names per kind of SunVault part; the model the PVS reports is the model id.
PRODUCTS: dict[DeviceKind, str] = {
    DeviceKind.ESS: "SunVault",
    DeviceKind.TRANSFER_SWITCH: "Hub+",
    DeviceKind.ESS_HUB: "SunVault ESS hub",
    DeviceKind.PV_DISCONNECT: "PV disconnect relay",
    DeviceKind.SYSTEM_CONTROLLER: "Conext Gateway",
    DeviceKind.STORAGE_INVERTER: "Storage inverter",
    DeviceKind.BATTERY_MANAGEMENT: "Battery management system",
    DeviceKind.BATTERY: "SunVault battery",
}
# What each part is called on the site (the gateway's name or a serial is added).
PART_NAMES: dict[DeviceKind, str] = {
    DeviceKind.ESS: "SunVault",
    DeviceKind.TRANSFER_SWITCH: "Hub+",
    DeviceKind.ESS_HUB: "ESS hub",
    DeviceKind.PV_DISCONNECT: "PV disconnect",
    DeviceKind.SYSTEM_CONTROLLER: "SunVault gateway",
    DeviceKind.STORAGE_INVERTER: "Storage inverter",
    DeviceKind.BATTERY_MANAGEMENT: "Battery management",
    DeviceKind.BATTERY: "SunVault battery",
}
_METER_NAMES = {
    MeterRole.PRODUCTION: "Production meter",
    MeterRole.CONSUMPTION: "Consumption meter",
}
_AC_MODULE = re.compile(r"AC_Module_Type_(\w+)")

ESS_PART_KINDS: dict[str, DeviceKind] = {
    "HUB+": DeviceKind.TRANSFER_SWITCH,  # houses the MID controller (MIDC)
    "ESS Hub": DeviceKind.ESS_HUB,
    "PV Disconnect": DeviceKind.PV_DISCONNECT,
    # The Schneider Conext Gateway runs the battery system; the site's gateway is
    # the PVS, so it is the storage system's controller here.
    "Gateway": DeviceKind.SYSTEM_CONTROLLER,
    "Storage Inverter": DeviceKind.STORAGE_INVERTER,
    "ESS BMS": DeviceKind.BATTERY_MANAGEMENT,
    "Battery": DeviceKind.BATTERY,
    "Energy Storage System": DeviceKind.ESS,
}


def _w(kw: float | None) -> float | None:
    return None if kw is None else kw * 1000.0


def _fraction_pct(value: float | None) -> float | None:
    """A 0..1 fraction as a percent; outside 0..1 it is no fraction (absent)."""
    if value is None or not 0.0 <= value <= 1.0:
        return None
    return value * 100.0


def _working(state: str | None) -> bool | None:
    """A PVS device's STATE as "working" (the gateway's only other word is "error")."""
    if state is None:
        return None
    return state.lower() == "working"


# The words a PVS uses for a closed or open contactor: the legacy battery status
# says CLOSED (some firmware CLOSE) or OPEN, the varserver's transfer switch
# MID_STATE_CLOSED or MID_STATE_OPEN.
_CLOSED_WORDS = frozenset({"CLOSED", "CLOSE", "MID_STATE_CLOSED"})
_OPEN_WORDS = frozenset({"OPEN", "MID_STATE_OPEN"})


def _closed(state: str | None, warnings: list[str]) -> bool | None:
    """A contactor state word as closed or not; None for an unknown word.

    An unknown word is noted once: guessing would show a wrong grid state, and a
    wrong "on grid" keeps an outage automation from firing.
    """
    if state is None:
        return None
    word = state.strip().upper()
    if word in _CLOSED_WORDS:
        return True
    if word in _OPEN_WORDS:
        return False
    _note(warnings, f"unknown contactor state {state!r}; grid connection unknown")
    return None


def _note(warnings: list[str], message: str) -> None:
    """Log a warning about the PVS's data once per gateway (kept in ``warnings``)."""
    if message not in warnings:
        warnings.append(message)
        _LOGGER.warning("PVS reports %s", message)


def gateway_model(model: str | None) -> str:
    """The PVS's product name: the DeviceList says "PV Supervisor PVS6"."""
    if not model:
        return "PVS"
    return model.removeprefix("PV Supervisor").strip() or "PVS"


def inverter_model(model: str | None) -> str:
    """An inverter's product name: SunPower AC modules are reported by type."""
    match = _AC_MODULE.fullmatch(model or "")
    return f"AC module type {match.group(1)}" if match else "Microinverter"


class _Builder:
    """Collects measurements, dropping absent values."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Measurement] = []

    def add(
        self,
        quantity: Quantity,
        value: MeasurementValue | None,
        phase: Phase | None = None,
    ) -> None:
        if value is not None:
            self.items.append(Measurement(quantity, value, phase))

    def add_legs(
        self,
        quantity: Quantity,
        legs: Legs,
        convert: Callable[[float | None], float | None] = lambda value: value,
    ) -> None:
        """Add a figure measured on each leg, as phases L1 and L2."""
        self.add(quantity, convert(legs.l1), Phase.L1)
        self.add(quantity, convert(legs.l2), Phase.L2)

    def result(self) -> tuple[Measurement, ...]:
        return tuple(self.items)


def supervisor_device(supervisor: Supervisor) -> Device:
    """The PVS as the site's gateway device, with its health figures."""
    builder = _Builder()
    builder.add(Quantity.WORKING, _working(supervisor.state))
    builder.add(Quantity.UPTIME, supervisor.uptime_s)
    builder.add(Quantity.CPU_LOAD, supervisor.cpu_load)
    builder.add(Quantity.MEMORY_USED, supervisor.memory_used_pct)
    if supervisor.flash_used_pct is not None:
        builder.add(Quantity.FLASH_FREE, 100.0 - supervisor.flash_used_pct)
    builder.add(Quantity.FLASH_WEAR, supervisor.flash_wear_pct)
    builder.add(Quantity.ERROR_COUNT, supervisor.error_count)
    builder.add(Quantity.COMM_ERRORS, supervisor.comm_errors)
    builder.add(Quantity.UNTRANSMITTED, supervisor.untransmitted)
    return Device(
        kind=DeviceKind.GATEWAY,
        serial=supervisor.serial,
        manufacturer=MANUFACTURER,
        model=gateway_model(supervisor.model),
        firmware=supervisor.software,
        hardware=supervisor.hardware,
        measurements=builder.result(),
        data_time=supervisor.data_time,
        mac=supervisor.mac,
    )


def meter_device(meter: Meter) -> Device:
    """A production or consumption CT meter."""
    builder = _Builder()
    builder.add(Quantity.WORKING, _working(meter.state))
    builder.add(Quantity.POWER, _w(meter.power_kw))
    builder.add(Quantity.REACTIVE_POWER, _w(meter.reactive_kvar))
    builder.add(Quantity.APPARENT_POWER, _w(meter.apparent_kva))
    builder.add(Quantity.POWER_FACTOR, meter.power_factor)
    builder.add(Quantity.FREQUENCY, meter.frequency_hz)
    builder.add(Quantity.VOLTAGE, meter.voltage_v)
    builder.add_legs(Quantity.VOLTAGE, meter.voltage_legs)
    builder.add_legs(Quantity.CURRENT, meter.current_legs)
    builder.add_legs(Quantity.POWER, meter.power_legs_kw, _w)
    if meter.role is MeterRole.PRODUCTION:
        builder.add(Quantity.LIFETIME_ENERGY, _w(meter.net_kwh))
    else:
        builder.add(Quantity.ENERGY_DELIVERED, _w(meter.pos_kwh))
        builder.add(Quantity.ENERGY_RECEIVED, _w(meter.neg_kwh))
    return Device(
        kind=DeviceKind.METER,
        serial=meter.serial,
        manufacturer=MANUFACTURER,
        model=_METER_NAMES[meter.role],
        model_id=meter.model,
        firmware=meter.software,
        name=_METER_NAMES[meter.role],
        measurements=builder.result(),
        data_time=meter.data_time,
    )


def inverter_device(inverter: Inverter, *, site_producing: bool | None) -> Device:
    """A microinverter; ``error`` while the site does not produce is night, not a fault."""
    # The STATE word is shown as "problem", where night's "error" is no fault.
    builder = _Builder()
    power_w = _w(inverter.power_kw)
    builder.add(Quantity.POWER, power_w)
    builder.add(Quantity.LIFETIME_ENERGY, _w(inverter.lifetime_kwh))
    builder.add(Quantity.VOLTAGE, inverter.voltage_v)
    builder.add(Quantity.CURRENT, inverter.current_a)
    builder.add(Quantity.FREQUENCY, inverter.frequency_hz)
    builder.add(Quantity.DC_POWER, _w(inverter.dc_power_kw))
    builder.add(Quantity.DC_VOLTAGE, inverter.dc_voltage_v)
    builder.add(Quantity.DC_CURRENT, inverter.dc_current_a)
    builder.add(Quantity.TEMPERATURE, inverter.temperature_c)
    if power_w is not None:
        builder.add(Quantity.PRODUCING, power_w > 0)
    builder.add(Quantity.WORKING, _inverter_working(inverter.state, site_producing))
    return Device(
        kind=DeviceKind.INVERTER,
        serial=inverter.serial,
        manufacturer=MANUFACTURER,
        model=inverter_model(inverter.model),
        model_id=inverter.model,
        firmware=inverter.software,
        hardware=inverter.hardware,
        measurements=builder.result(),
        data_time=inverter.data_time,
    )


def _inverter_working(state: str | None, site_producing: bool | None) -> bool | None:
    if state == "working":
        return True
    if state == "error":
        # Every SOLARBRIDGE reports "error" once the sun is down.
        return not site_producing
    return None


def ess_part_device(part: EssPart, known_serials: set[str]) -> Device:
    """A SunVault part of the legacy DeviceList."""
    builder = _Builder()
    builder.add(Quantity.WORKING, _working(part.state))
    builder.add(Quantity.TEMPERATURE, part.temperature_c)
    builder.add_legs(Quantity.VOLTAGE, part.grid_voltage_legs)
    builder.add(Quantity.RELAY_CLOSED, part.relay_closed)
    builder.add(Quantity.DC_VOLTAGE, part.supply_v)
    return sunvault_part(
        ESS_PART_KINDS[part.device_type],
        part.serial,
        builder,
        model_id=part.model,
        firmware=part.software,
        hardware=part.hardware,
        parent=part.parent if part.parent in known_serials else None,
        data_time=part.data_time,
    )


def sunvault_part(
    kind: DeviceKind,
    serial: str,
    builder: _Builder,
    *,
    model_id: str | None = None,
    firmware: str | None = None,
    hardware: str | None = None,
    parent: str | None = None,
    data_time: datetime | None = None,
) -> Device:
    """One part of a SunVault, whichever source saw it: named after its kind."""
    return Device(
        kind=kind,
        serial=serial,
        manufacturer=MANUFACTURER,
        model=PRODUCTS[kind],
        model_id=model_id,
        firmware=firmware,
        hardware=hardware,
        name=PART_NAMES[kind],
        parent=parent,
        measurements=builder.result(),
        data_time=data_time,
    )


def _merge(device: Device, extra: Iterable[Measurement]) -> Device:
    added = tuple(extra)
    if not added:
        return device
    taken = {(m.quantity, m.phase) for m in added}
    kept = tuple(m for m in device.measurements if (m.quantity, m.phase) not in taken)
    return Device(
        kind=device.kind,
        serial=device.serial,
        manufacturer=device.manufacturer,
        model=device.model,
        model_id=device.model_id,
        firmware=device.firmware,
        hardware=device.hardware,
        name=device.name,
        parent=device.parent,
        measurements=kept + added,
        data_time=device.data_time,
        mac=device.mac,
    )


def _ess_status_devices(
    devices: list[Device], status: EssStatus, ess_serial: str | None
) -> None:
    """Add the battery status endpoint's readings to the devices (in place)."""
    index = {device.serial: position for position, device in enumerate(devices)}

    def put(serial: str, kind: DeviceKind, builder: _Builder) -> None:
        if serial in index:
            devices[index[serial]] = _merge(devices[index[serial]], builder.result())
            return
        # The status endpoint may use serials the DeviceList does not list.
        index[serial] = len(devices)
        parent = ess_serial if kind is not DeviceKind.TRANSFER_SWITCH else None
        devices.append(sunvault_part(kind, serial, builder, parent=parent))

    for battery in status.batteries:
        builder = _Builder()
        builder.add(Quantity.POWER, battery.power_w)
        builder.add(Quantity.DC_VOLTAGE, battery.voltage_v)
        builder.add(Quantity.DC_CURRENT, battery.current_a)
        builder.add(Quantity.TEMPERATURE, battery.temperature_c)
        builder.add(Quantity.STATE_OF_CHARGE, battery.customer_soc_pct)
        put(battery.serial, DeviceKind.BATTERY, builder)
    for unit in status.units:
        builder = _Builder()
        builder.add(Quantity.POWER, _w(unit.power_kw))
        builder.add(Quantity.TEMPERATURE, unit.enclosure_temperature_c)
        put(unit.serial, DeviceKind.ESS, builder)
    if (hub := status.hub_plus) is not None:
        builder = _Builder()
        # The contactor's position is the site's grid connection.
        builder.add_legs(Quantity.VOLTAGE, hub.grid_voltage_legs)
        builder.add(Quantity.TEMPERATURE, hub.temperature_c)
        put(hub.serial, DeviceKind.TRANSFER_SWITCH, builder)


def _dedupe(devices: Sequence[Device], warnings: list[str]) -> tuple[Device, ...]:
    """Keep the first device of each serial: devices are keyed by serial."""
    seen: set[str] = set()
    unique: list[Device] = []
    for device in devices:
        if device.serial in seen:
            _note(warnings, f"duplicate serial {device.serial} ({device.kind}) ignored")
            continue
        seen.add(device.serial)
        unique.append(device)
    return tuple(unique)


def _meters(meters: Sequence[Meter]) -> tuple[Meter | None, Meter | None]:
    production = next((m for m in meters if m.role is MeterRole.PRODUCTION), None)
    consumption = next((m for m in meters if m.role is MeterRole.CONSUMPTION), None)
    return production, consumption


def _sum(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def _solar(
    production: Meter | None, inverters: Sequence[Inverter]
) -> tuple[float | None, float | None]:
    if production is not None and production.power_kw is not None:
        return _w(production.power_kw), _w(production.net_kwh)
    # No production meter: the inverters are the only measure of solar.
    return (
        _w(_sum(inverter.power_kw for inverter in inverters)),
        _w(_sum(inverter.lifetime_kwh for inverter in inverters)),
    )


def legacy_figures(
    device_list: DeviceList, ess_status: EssStatus | None, warnings: list[str]
) -> SiteFigures:
    """Site figures from a DeviceList (and the SunVault status when present)."""
    production, consumption = _meters(device_list.meters)
    solar_power, solar_energy = _solar(production, device_list.inverters)
    consumption_power = consumption_energy = grid_power = None
    grid_import = grid_export = None
    if consumption is not None:
        if consumption.subtype == ConsumptionSubtype.GROSS_LINESIDE:
            consumption_power = _w(consumption.power_kw)
            consumption_energy = _w(consumption.net_kwh)
            if consumption_power is not None and solar_power is not None:
                grid_power = consumption_power - solar_power
        else:
            # NET_CONSUMPTION_LOADSIDE, and the assumption when no subtype is given.
            grid_power = _w(consumption.power_kw)
            grid_import, grid_export = _import_export(consumption)
            if grid_power is not None and solar_power is not None:
                consumption_power = solar_power + grid_power
            net_wh = _w(consumption.net_kwh)
            if net_wh is not None and solar_energy is not None:
                consumption_energy = solar_energy + net_wh
    battery_power = battery_soc = None
    if ess_status is not None and ess_status.batteries:
        battery_power = _sum(battery.power_w for battery in ess_status.batteries)
        socs = [
            battery.customer_soc_pct
            for battery in ess_status.batteries
            if battery.customer_soc_pct is not None
        ]
        battery_soc = sum(socs) / len(socs) if socs else None
    hub = ess_status.hub_plus if ess_status else None
    return SiteFigures(
        solar_power=solar_power,
        solar_energy=solar_energy,
        consumption_power=consumption_power,
        consumption_energy=consumption_energy,
        grid_power=grid_power,
        grid_import_energy=grid_import,
        grid_export_energy=grid_export,
        battery_power=battery_power,
        battery_state_of_charge=battery_soc,
        grid_connected=_closed(hub.contactor_position, warnings) if hub else None,
    )


def _import_export(meter: Meter) -> tuple[float | None, float | None]:
    """Grid import and export (Wh) of a net meter; PVS5 meters may lack ``pos``."""
    pos, neg, net = meter.pos_kwh, meter.neg_kwh, meter.net_kwh
    if pos is None and neg is not None and net is not None:
        pos = net + neg  # net = pos - neg
    return _w(pos), _w(neg)


def pv_devices(
    supervisor: Supervisor | None,
    meters: Iterable[Meter],
    inverters: Iterable[Inverter],
    figures: SiteFigures,
) -> list[Device]:
    """The devices every PVS has, whichever API read them: itself, meters, inverters.

    Each inverter's ``error`` state is weighed against the whole site's production.
    """
    devices: list[Device] = []
    if supervisor is not None:
        devices.append(supervisor_device(supervisor))
    devices.extend(meter_device(meter) for meter in meters)
    producing = (
        None
        if figures.solar_power is None
        else figures.solar_power > PRODUCING_THRESHOLD_W
    )
    devices.extend(
        inverter_device(inverter, site_producing=producing) for inverter in inverters
    )
    return devices


def legacy_devices(
    device_list: DeviceList,
    ess_status: EssStatus | None,
    figures: SiteFigures,
    warnings: list[str],
) -> tuple[Device, ...]:
    """Every device of a DeviceList, with the SunVault status merged in."""
    devices = pv_devices(
        device_list.supervisor, device_list.meters, device_list.inverters, figures
    )
    known = {part.serial for part in device_list.ess_parts}
    devices.extend(ess_part_device(part, known) for part in device_list.ess_parts)
    if ess_status is not None:
        ess_serial = next(
            (
                part.serial
                for part in device_list.ess_parts
                if part.device_type == "Energy Storage System"
            ),
            None,
        )
        _ess_status_devices(devices, ess_status, ess_serial)
    return _dedupe(devices, warnings)


def legacy_snapshot(
    identity: GatewayIdentity,
    device_list: DeviceList,
    ess_status: EssStatus | None,
    warnings: list[str],
) -> SiteSnapshot:
    """The whole site from the legacy API."""
    figures = legacy_figures(device_list, ess_status, warnings)
    devices = legacy_devices(device_list, ess_status, figures, warnings)
    return SiteSnapshot(
        identity=identity,
        figures=figures,
        devices=devices,
        data_time=legacy_data_time(device_list),
    )


def legacy_data_time(device_list: DeviceList) -> datetime | None:
    """The DeviceList's data time: the supervisor's DATATIME, else the newest device's."""
    if device_list.supervisor is not None and device_list.supervisor.data_time:
        return device_list.supervisor.data_time
    times = [m.data_time for m in device_list.meters if m.data_time is not None]
    times += [i.data_time for i in device_list.inverters if i.data_time is not None]
    return max(times) if times else None


# Tolerance when telling which livedata counter a consumption meter matches.
_MATCH_TOLERANCE_KWH = 5.0


def varserver_figures(
    data: VarserverData, config: EssConfig | None, warnings: list[str]
) -> SiteFigures:
    """Site figures from varserver livedata, meters and the ESS settings."""
    live = data.livedata
    production, consumption = _meters(data.meters)
    meter_solar_power, meter_solar_energy = _solar(production, data.inverters)
    solar_power = (
        _w(live.pv_kw) if live and live.pv_kw is not None else meter_solar_power
    )
    solar_energy = (
        _w(live.pv_kwh) if live and live.pv_kwh is not None else meter_solar_energy
    )
    grid_import = grid_export = None
    if consumption is not None and _is_net_meter(consumption, data):
        grid_import, grid_export = _import_export(consumption)
    has_ess = bool(data.ess)
    reserve = config.min_customer_soc if config else None
    # An ESS meter's pos is what it delivered to the house (discharge), neg what
    # it took (charge): pos - neg is livedata's ess_en, as for the site meters.
    discharged = _w(_sum(ess.pos_kwh for ess in data.ess))
    charged = _w(_sum(ess.neg_kwh for ess in data.ess))
    mids = [_closed(switch.mid_state, warnings) for switch in data.transfer_switches]
    grid_connected = next((state for state in mids if state is not None), None)
    return SiteFigures(
        solar_power=solar_power,
        solar_energy=solar_energy,
        consumption_power=_w(live.site_load_kw) if live else None,
        consumption_energy=_w(live.site_load_kwh) if live else None,
        grid_power=_w(live.net_kw) if live else None,
        grid_import_energy=grid_import,
        grid_export_energy=grid_export,
        battery_power=_w(live.ess_kw) if live and has_ess else None,
        battery_charged_energy=charged,
        battery_discharged_energy=discharged,
        battery_state_of_charge=(
            live.soc * 100.0 if live and has_ess and live.soc is not None else None
        ),
        backup_reserve=reserve * 100.0 if reserve is not None else None,
        grid_connected=grid_connected,
    )


def _is_net_meter(meter: Meter, data: VarserverData) -> bool:
    """Whether the consumption meter measures the grid (its net equals livedata net)."""
    live = data.livedata
    if meter.net_kwh is None:
        return False
    if live is None or live.net_kwh is None:
        # Nothing to compare with: the PVS's usual installation is net load side.
        return True
    return abs(meter.net_kwh - live.net_kwh) <= _MATCH_TOLERANCE_KWH


def ess_device(ess: EssDevice, live: LiveData | None, *, only: bool) -> Device:
    """A SunVault storage system from the varserver.

    Its mode is the control mode select. When it is the site's only SunVault, its
    power, charge and energy are the site's battery figures, shown there once (from
    livedata, the fresher source); several SunVaults each show their own.
    """
    builder = _Builder()
    if not only:
        builder.add(Quantity.POWER, _w(ess.power_kw))
        if ess.customer_soc is not None:
            builder.add(Quantity.STATE_OF_CHARGE, ess.customer_soc * 100.0)
        builder.add(Quantity.ENERGY_DELIVERED, _w(ess.pos_kwh))
        builder.add(Quantity.ENERGY_RECEIVED, _w(ess.neg_kwh))
    elif live is not None and live.backup_minutes is not None:
        builder.add(Quantity.BACKUP_TIME, live.backup_minutes * 60.0)
    builder.add(Quantity.STATE_OF_HEALTH, _fraction_pct(ess.soh))
    builder.add(Quantity.MAX_CHARGE_POWER, _w(ess.max_charge_kw))
    builder.add(Quantity.MAX_DISCHARGE_POWER, _w(ess.max_discharge_kw))
    builder.add(Quantity.MIN_CELL_TEMPERATURE, ess.min_cell_temperature_c)
    builder.add(Quantity.MAX_CELL_TEMPERATURE, ess.max_cell_temperature_c)
    builder.add(Quantity.DC_VOLTAGE, ess.battery_v)
    builder.add(Quantity.TEMPERATURE, ess.inverter_temperature_c)
    builder.add_legs(Quantity.VOLTAGE, ess.voltage_legs)
    return sunvault_part(
        DeviceKind.ESS,
        ess.serial,
        builder,
        model_id=ess.model,
        data_time=ess.data_time,
    )


def transfer_switch_device(switch: TransferSwitch) -> Device:
    """The HUB+ transfer switch (MID) from the varserver."""
    builder = _Builder()
    # The MID's state is the site's grid connection.
    builder.add(Quantity.TEMPERATURE, switch.temperature_c)
    builder.add_legs(Quantity.VOLTAGE, switch.voltage_legs)
    return sunvault_part(
        DeviceKind.TRANSFER_SWITCH,
        switch.serial,
        builder,
        model_id=switch.model,
        data_time=switch.data_time,
    )


def varserver_snapshot(
    identity: GatewayIdentity,
    data: VarserverData,
    config: EssConfig | None,
    warnings: list[str],
) -> SiteSnapshot:
    """The whole site from the varserver API."""
    figures = varserver_figures(data, config, warnings)
    devices = pv_devices(data.supervisor, data.meters, data.inverters, figures)
    devices.extend(
        ess_device(ess, data.livedata, only=len(data.ess) == 1) for ess in data.ess
    )
    devices.extend(transfer_switch_device(switch) for switch in data.transfer_switches)
    live_time = data.livedata.time if data.livedata else None
    return SiteSnapshot(
        identity=identity,
        figures=figures,
        devices=_dedupe(devices, warnings),
        data_time=live_time,
    )


def pvs_identity(
    serial: str, model: str | None, firmware: str | None, api: str
) -> GatewayIdentity:
    """The identity of a PVS."""
    return GatewayIdentity(
        brand=Brand.SUNPOWER, serial=serial, model=model, firmware=firmware, api=api
    )
