"""Parsers for the legacy ``dl_cgi`` answers of a PVS5/PVS6.

Device entries of unknown shape never raise: a missing serial drops the entry, odd
values become ``None``. Only a payload that is not what the endpoint returns at all
(not JSON, not an object, ``result`` other than success, no ``devices``) raises
``UnexpectedPayloadError``.
"""

from collections.abc import Mapping

from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from custom_components.solar_gateway.gateway.pvs.models import (
    BatteryStatus,
    DeviceList,
    EssPart,
    EssStatus,
    EssUnitStatus,
    FirmwareCheck,
    GridProfile,
    HubPlusStatus,
    Inverter,
    Legs,
    Meter,
    MeterRole,
    NetworkInterface,
    NetworkStatus,
    OtherDevice,
    Supervisor,
    SupervisorInfo,
)
from custom_components.solar_gateway.gateway.values import (
    JsonObject,
    as_bool,
    as_object,
    objects,
)

from .common import check_result, flag, legacy_time, num, parse_build, text
from .figures import (
    CURRENT_LEGS,
    GRID_VOLTAGE_LEGS,
    INVERTER_FIGURES,
    METER_FIGURES,
    POWER_LEGS,
    PV_VOLTAGE_LEGS,
    VOLTAGE_LEGS,
    read_figures,
    read_legs,
)

# DEVICE_TYPE values of the SunVault parts (seed document and captures).
ESS_DEVICE_TYPES = frozenset(
    {
        "HUB+",
        "ESS Hub",
        "PV Disconnect",
        "Gateway",
        "Storage Inverter",
        "ESS BMS",
        "Battery",
        "Energy Storage System",
    }
)


def parse_device_list(payload: Mapping[str, object]) -> DeviceList:
    """Parse a decoded ``Command=DeviceList`` answer."""
    check_result(payload, "DeviceList")
    raw_devices = payload.get("devices")
    if not isinstance(raw_devices, list):
        raise UnexpectedPayloadError("DeviceList has no 'devices' array")
    supervisor: Supervisor | None = None
    meters: list[Meter] = []
    inverters: list[Inverter] = []
    ess_parts: list[EssPart] = []
    others: list[OtherDevice] = []
    for raw in raw_devices:
        if not isinstance(raw, Mapping):
            continue
        serial = text(raw.get("SERIAL"))
        if serial is None:
            continue
        device_type = text(raw.get("DEVICE_TYPE")) or ""
        if device_type == "Inverter":
            inverters.append(_inverter(raw, serial))
        elif device_type == "Power Meter":
            meters.append(_meter(raw, serial))
        elif device_type == "PVS":
            if supervisor is None:
                supervisor = _supervisor(raw, serial)
        elif device_type in ESS_DEVICE_TYPES:
            ess_parts.append(_ess_part(raw, serial, device_type))
        else:
            others.append(
                OtherDevice(
                    device_type=device_type,
                    serial=serial,
                    model=text(raw.get("MODEL")),
                    state=_state(raw),
                    software=text(raw.get("SWVER")),
                )
            )
    return DeviceList(
        supervisor=supervisor,
        meters=tuple(meters),
        inverters=tuple(inverters),
        ess_parts=tuple(ess_parts),
        others=tuple(others),
    )


def _state(raw: JsonObject) -> str | None:
    state = text(raw.get("STATE"))
    return state.lower() if state else None


def _supervisor(raw: JsonObject, serial: str) -> Supervisor:
    return Supervisor(
        serial=serial,
        model=text(raw.get("MODEL")),
        software=text(raw.get("SWVER")),
        hardware=text(raw.get("HWVER")),
        state=_state(raw),
        data_time=legacy_time(raw.get("DATATIME")),
        current_time=legacy_time(raw.get("CURTIME")),
        uptime_s=num(raw.get("dl_uptime")),
        cpu_load=num(raw.get("dl_cpu_load")),
        memory_used_kib=num(raw.get("dl_mem_used")),
        flash_available_kib=num(raw.get("dl_flash_avail")),
        comm_errors=_int(raw.get("dl_comm_err")),
        error_count=_int(raw.get("dl_err_count")),
        skipped_scans=_int(raw.get("dl_skipped_scans")),
        untransmitted=_int(raw.get("dl_untransmitted")),
    )


def _int(value: object) -> int | None:
    number = num(value)
    return int(number) if number is not None and number.is_integer() else None


def meter_role(*hints: str | None) -> MeterRole:
    """Tell a production meter from a consumption meter by TYPE, model or serial."""
    for hint in hints:
        if not hint:
            continue
        upper = hint.upper()
        if upper.endswith(("-METER-C", "C")):
            return MeterRole.CONSUMPTION
        if upper.endswith(("-METER-P", "P")):
            return MeterRole.PRODUCTION
    return MeterRole.PRODUCTION


def _meter(raw: JsonObject, serial: str) -> Meter:
    model = text(raw.get("MODEL"))
    role = meter_role(text(raw.get("TYPE")), model, serial)
    subtype = text(raw.get("subtype")) or text(
        raw.get(
            "consumption_subtype_enum"
            if role is MeterRole.CONSUMPTION
            else "production_subtype_enum"
        )
    )
    return Meter(
        serial=serial,
        model=model,
        role=role,
        subtype=subtype,
        state=_state(raw),
        data_time=legacy_time(raw.get("DATATIME")),
        **read_figures(raw, METER_FIGURES),
        voltage_legs=read_legs(raw, VOLTAGE_LEGS),
        current_legs=read_legs(raw, CURRENT_LEGS),
        power_legs_kw=read_legs(raw, POWER_LEGS),
        software=text(raw.get("SWVER")),
    )


def _inverter(raw: JsonObject, serial: str) -> Inverter:
    return Inverter(
        serial=serial,
        model=text(raw.get("MODEL")),
        state=_state(raw),
        data_time=legacy_time(raw.get("DATATIME")),
        software=text(raw.get("SWVER")),
        hardware=text(raw.get("hw_version")),
        panel=text(raw.get("PANEL")),
        **read_figures(raw, INVERTER_FIGURES),
    )


def _ess_part(raw: JsonObject, serial: str, device_type: str) -> EssPart:
    relay_states = (flag(raw.get("relay1_state")), flag(raw.get("relay2_state")))
    relay_closed = (
        None if None in relay_states else all(state is True for state in relay_states)
    )
    return EssPart(
        device_type=device_type,
        type=text(raw.get("TYPE")),
        serial=serial,
        model=text(raw.get("MODEL")),
        state=_state(raw),
        software=text(raw.get("SWVER")),
        hardware=text(raw.get("hw_version")) or text(raw.get("HWVER")),
        parent=text(raw.get("PARENT")),
        data_time=legacy_time(raw.get("DATATIME")),
        temperature_c=num(raw.get("t_degc")),
        humidity_pct=num(raw.get("humidity")),
        grid_voltage_legs=read_legs(raw, GRID_VOLTAGE_LEGS),
        pv_voltage_legs=read_legs(raw, PV_VOLTAGE_LEGS),
        relay_closed=relay_closed,
        supply_v=num(raw.get("v_spply_v")),
    )


def parse_supervisor_info(payload: Mapping[str, object]) -> SupervisorInfo:
    """Parse ``/cgi-bin/dl_cgi/supervisor/info`` (or a ``Start`` answer)."""
    check_result(payload, "supervisor/info")
    supervisor = as_object(payload.get("supervisor")) or payload
    serial = text(supervisor.get("SERIAL"))
    if serial is None:
        raise UnexpectedPayloadError("supervisor/info carries no SERIAL")
    software = text(supervisor.get("SWVER"))
    return SupervisorInfo(
        serial=serial,
        model=text(supervisor.get("MODEL")),
        build=parse_build(supervisor.get("BUILD"), software),
        software=software,
        hardware=text(supervisor.get("HWVER")),
    )


def _value(
    entry: JsonObject, key: str, scale_by_unit: Mapping[str, float]
) -> float | None:
    """Read ``{"value": x, "unit": u}`` (or a bare number) and scale it by its unit."""
    raw = entry.get(key)
    container = as_object(raw)
    if container is None:
        return num(raw)
    value = num(container.get("value"))
    unit = text(container.get("unit"))
    if value is None or unit is None:
        return value
    return value * scale_by_unit.get(unit.lower(), 1.0)


_AS_IS: Mapping[str, float] = {}
_KW: Mapping[str, float] = {"w": 0.001, "kw": 1.0}
# A state of charge given as a fraction carries no "%" unit; see _soc.
_PERCENT: Mapping[str, float] = {"%": 1.0, "percent": 1.0}


def _soc(entry: JsonObject, key: str) -> float | None:
    raw = entry.get(key)
    container = as_object(raw)
    unit = text(container.get("unit")) if container is not None else None
    value = _value(entry, key, _PERCENT)
    if value is None:
        return None
    # Without a "%" unit a value within 0..1 is a fraction.
    if unit is None and 0.0 <= value <= 1.0:
        return value * 100.0
    return value


def parse_ess_status(payload: Mapping[str, object]) -> EssStatus:
    """Parse ``/cgi-bin/dl_cgi/energy-storage-system/status``."""
    check_result(payload, "energy-storage-system/status")
    report = as_object(payload.get("ess_report"))
    if report is None:
        raise UnexpectedPayloadError("energy-storage-system/status has no ess_report")
    batteries = tuple(
        BatteryStatus(
            serial=serial,
            current_a=_value(entry, "battery_amperage", _AS_IS),
            voltage_v=_value(entry, "battery_voltage", _AS_IS),
            temperature_c=_value(entry, "temperature", _AS_IS),
            customer_soc_pct=_soc(entry, "customer_state_of_charge"),
            system_soc_pct=_soc(entry, "system_state_of_charge"),
        )
        for entry in objects(report.get("battery_status"))
        if (serial := text(entry.get("serial_number"))) is not None
    )
    units = []
    for entry in objects(report.get("ess_status")):
        serial = text(entry.get("serial_number"))
        if serial is None:
            continue
        reading = as_object(entry.get("ess_meter_reading")) or {}
        units.append(
            EssUnitStatus(
                serial=serial,
                power_kw=_value(reading, "agg_power", _KW),
                enclosure_temperature_c=_value(entry, "enclosure_temperature", _AS_IS),
                enclosure_humidity_pct=_value(entry, "enclosure_humidity", _AS_IS),
            )
        )
    hub_plus: HubPlusStatus | None = None
    hub = as_object(report.get("hub_plus_status"))
    if hub is not None and (hub_serial := text(hub.get("serial_number"))) is not None:
        hub_plus = HubPlusStatus(
            serial=hub_serial,
            contactor_position=text(hub.get("contactor_position")),
            grid_voltage_state=text(hub.get("grid_voltage_state")),
            grid_voltage_legs=Legs(
                _value(hub, "grid_phase1_voltage", _AS_IS),
                _value(hub, "grid_phase2_voltage", _AS_IS),
            ),
            load_voltage_legs=Legs(
                _value(hub, "load_phase1_voltage", _AS_IS),
                _value(hub, "load_phase2_voltage", _AS_IS),
            ),
            temperature_c=_value(hub, "hub_temperature", _AS_IS),
            humidity_pct=_value(hub, "hub_humidity", _AS_IS),
        )
    errors: list[str] = []
    raw_errors = payload.get("errors")
    if isinstance(raw_errors, list):
        for item in raw_errors:
            message = text(item.get("message") if isinstance(item, Mapping) else item)
            if message is not None:
                errors.append(message)
    return EssStatus(
        batteries=batteries, units=tuple(units), hub_plus=hub_plus, errors=tuple(errors)
    )


def parse_network_status(payload: Mapping[str, object]) -> NetworkStatus:
    """Parse ``Command=Get_Comm``."""
    check_result(payload, "Get_Comm")
    status = as_object(payload.get("networkstatus"))
    if status is None:
        raise UnexpectedPayloadError("Get_Comm has no networkstatus")
    interfaces = tuple(
        NetworkInterface(
            name=name,
            state=text(entry.get("state")) or text(entry.get("status")),
            internet=_up(entry.get("internet")),
            ip_address=text(entry.get("ipaddr")),
            link=text(entry.get("link")),
            signal=num(entry.get("signal")),
            ssid=text(entry.get("ssid")),
        )
        for entry in objects(status.get("interfaces"))
        if (name := text(entry.get("interface"))) is not None
    )
    system = as_object(status.get("system")) or {}
    return NetworkStatus(
        interfaces=interfaces,
        active_interface=text(system.get("interface")),
        internet=_up(system.get("internet")),
    )


def _up(value: object) -> bool | None:
    word = text(value)
    if word is None:
        return None
    if word.lower() == "up":
        return True
    if word.lower() == "down":
        return False
    return as_bool(word)


def parse_grid_profile(payload: Mapping[str, object]) -> GridProfile:
    """Parse ``Command=GridProfileGet``."""
    check_result(payload, "GridProfileGet")
    return GridProfile(
        active_name=text(payload.get("active_name")),
        active_id=text(payload.get("active_id")),
        pending_name=text(payload.get("pending_name")),
        pending_id=text(payload.get("pending_id")),
        percent=num(payload.get("percent")),
    )


def parse_check_fw(payload: Mapping[str, object]) -> FirmwareCheck:
    """Parse ``Command=CheckFW`` (``{"url": "none"}`` when up to date)."""
    check_result(payload, "CheckFW")
    if "url" not in payload:
        raise UnexpectedPayloadError("CheckFW has no url")
    url = text(payload.get("url"))
    if url is not None and url.lower() == "none":
        url = None
    return FirmwareCheck(update_url=url)
