"""Parser for varserver ``/vars?match=...&fmt=obj`` answers (new PVS firmware).

The answer is a flat object ``{"/sys/devices/meter/0/sn": "PVS6M...p", ...}`` with
every value a string and ``"nan"`` for absent. Early 61840 builds also answered
``/sys/devices/<n>/<type>/data`` with one JSON object per device; both shapes are
read. Devices are keyed by their ``sn``: the index is only the PVS's slot number.
"""

from collections.abc import Mapping

from custom_components.solar_gateway.gateway.pvs.models import (
    EssConfig,
    EssDevice,
    Inverter,
    LiveData,
    Meter,
    Supervisor,
    TransferSwitch,
    VarserverData,
)
from custom_components.solar_gateway.gateway.values import JsonObject, as_object

from .common import epoch_time, iso_time, num, parse_build, text
from .figures import (
    CURRENT_LEGS,
    ESS_FIGURES,
    GRID_VOLTAGE_LEGS,
    INVERTER_FIGURES,
    METER_FIGURES,
    POWER_LEGS,
    TRANSFER_SWITCH_FIGURES,
    VOLTAGE_LEGS,
    read_figures,
    read_legs,
    varserver_table,
)
from .legacy import meter_role

_METER_VARS = varserver_table(METER_FIGURES)
_INVERTER_VARS = varserver_table(INVERTER_FIGURES)
_ESS_VARS = varserver_table(ESS_FIGURES)
_TRANSFER_SWITCH_VARS = varserver_table(TRANSFER_SWITCH_FIGURES)
_VOLTAGE_LEGS = VOLTAGE_LEGS.varserver()
_GRID_VOLTAGE_LEGS = GRID_VOLTAGE_LEGS.varserver()
_CURRENT_LEGS = CURRENT_LEGS.varserver()
_POWER_LEGS = POWER_LEGS.varserver()

DEVICE_PREFIX = "/sys/devices/"
LIVEDATA_PREFIX = "/sys/livedata/"
INFO_PREFIX = "/sys/info/"
CONTROL_MODE_VAR = "/ess/config/dcm/mode_param/control_mode"
MIN_SOC_VAR = "/ess/config/dcm/control_param/min_customer_soc"
FLASH_WEAR_VAR = "/sys/pvs/flashwear_type_b"
# Never keep the Wi-Fi key of the PVS's access point, not even in diagnostics.
SECRET_VARS = frozenset({"/sys/info/wpa_key"})


def group_devices(values: Mapping[str, object]) -> dict[str, list[JsonObject]]:
    """Group ``/sys/devices/...`` variables into one record per device, by type.

    Records keep the PVS's index order.
    """
    slots: dict[tuple[str, int], dict[str, object]] = {}
    for name, value in values.items():
        if not name.startswith(DEVICE_PREFIX):
            continue
        parts = name[len(DEVICE_PREFIX) :].split("/")
        if len(parts) == 3 and parts[1].isdigit():
            # /sys/devices/<type>/<index>/<field>
            slots.setdefault((parts[0], int(parts[1])), {})[parts[2]] = value
        elif len(parts) == 3 and parts[0].isdigit() and parts[2] == "data":
            # /sys/devices/<index>/<type>/data -> a JSON object per device
            record = as_object(value)
            if record is not None:
                slots.setdefault((parts[1], int(parts[0])), {}).update(record)
    grouped: dict[str, list[JsonObject]] = {}
    for (kind, _index), record in sorted(slots.items()):
        grouped.setdefault(kind, []).append(record)
    return grouped


def parse_vars(values: Mapping[str, object]) -> VarserverData:
    """Parse a (partial) varserver dump; parts absent from it come back empty."""
    devices = group_devices(values)
    return VarserverData(
        supervisor=_supervisor(values),
        livedata=_livedata(values),
        meters=tuple(
            meter for record in devices.get("meter", []) if (meter := _meter(record))
        ),
        inverters=tuple(
            inverter
            for record in devices.get("inverter", [])
            if (inverter := _inverter(record))
        ),
        ess=tuple(ess for record in devices.get("ess", []) if (ess := _ess(record))),
        transfer_switches=tuple(
            switch
            for record in devices.get("transfer_switch", [])
            if (switch := _transfer_switch(record))
        ),
        ess_config=parse_ess_config(values),
        system_type=text(values.get("/sys/info/sys_type")),
    )


def parse_ess_config(values: Mapping[str, object]) -> EssConfig | None:
    """Read the SunVault control settings, or None when the dump holds neither."""
    if CONTROL_MODE_VAR not in values and MIN_SOC_VAR not in values:
        return None
    return EssConfig(
        control_mode=text(values.get(CONTROL_MODE_VAR)),
        min_customer_soc=num(values.get(MIN_SOC_VAR)),
    )


def _supervisor(values: Mapping[str, object]) -> Supervisor | None:
    serial = text(values.get("/sys/info/serialnum"))
    if serial is None:
        return None
    software = text(values.get("/sys/info/sw_rev"))
    return Supervisor(
        serial=serial,
        model=text(values.get("/sys/info/model")),
        software=software,
        hardware=text(values.get("/sys/info/hwrev")),
        state=None,
        data_time=None,
        current_time=None,
        uptime_s=num(values.get("/sys/info/uptime")),
        cpu_load=None,
        memory_used_kib=None,
        flash_available_kib=None,
        memory_used_pct=num(values.get("/sys/info/ram_usage")),
        flash_used_pct=num(values.get("/sys/info/flash_usage")),
        cpu_used_pct=num(values.get("/sys/info/cpu_usage")),
        flash_wear_level=_hex_level(values.get(FLASH_WEAR_VAR)),
        mac=text(values.get("/sys/info/lmac")),
    )


def software_build(values: Mapping[str, object]) -> int | None:
    """Return the firmware build from ``/sys/info/sw_rev`` (``2025.09.04.61845``)."""
    return parse_build(values.get("/sys/info/sw_rev"))


def _hex_level(value: object) -> int | None:
    """Read the eMMC life estimate, ``0x01``..``0x0B`` (tenths of lifetime used)."""
    word = text(value)
    if word is None:
        return None
    try:
        level = int(word, 16) if word.lower().startswith("0x") else int(word)
    except ValueError:
        return None
    return level if 0 <= level <= 0x0B else None


def _livedata(values: Mapping[str, object]) -> LiveData | None:
    if not any(name.startswith(LIVEDATA_PREFIX) for name in values):
        return None

    def get(name: str) -> float | None:
        return num(values.get(LIVEDATA_PREFIX + name))

    mid_state = get("midstate")
    return LiveData(
        time=epoch_time(values.get(LIVEDATA_PREFIX + "time")),
        pv_kw=get("pv_p"),
        pv_kwh=get("pv_en"),
        net_kw=get("net_p"),
        net_kwh=get("net_en"),
        site_load_kw=get("site_load_p"),
        site_load_kwh=get("site_load_en"),
        ess_kw=get("ess_p"),
        ess_kwh=get("ess_en"),
        soc=get("soc"),
        backup_minutes=get("backupTimeRemaining"),
        mid_state=int(mid_state) if mid_state is not None else None,
    )


def _meter(record: JsonObject) -> Meter | None:
    serial = text(record.get("sn"))
    if serial is None:
        return None
    model = text(record.get("prodMdlNm"))
    return Meter(
        serial=serial,
        model=model,
        role=meter_role(model, serial),
        subtype=None,
        state=None,
        data_time=iso_time(record.get("msmtEps")),
        software=None,
        **read_figures(record, _METER_VARS),
        voltage_legs=read_legs(record, _VOLTAGE_LEGS),
        current_legs=read_legs(record, _CURRENT_LEGS),
        power_legs_kw=read_legs(record, _POWER_LEGS),
    )


def _inverter(record: JsonObject) -> Inverter | None:
    serial = text(record.get("sn"))
    if serial is None:
        return None
    return Inverter(
        serial=serial,
        model=text(record.get("prodMdlNm")),
        state=None,
        data_time=iso_time(record.get("msmtEps")),
        software=None,
        hardware=None,
        panel=None,
        **read_figures(record, _INVERTER_VARS),
    )


def _ess(record: JsonObject) -> EssDevice | None:
    serial = text(record.get("sn"))
    if serial is None:
        return None
    return EssDevice(
        serial=serial,
        model=text(record.get("prodMdlNm")),
        data_time=iso_time(record.get("msmtEps")),
        op_mode=text(record.get("opMode")),
        **read_figures(record, _ESS_VARS),
        voltage_legs=read_legs(record, _VOLTAGE_LEGS),
    )


def _transfer_switch(record: JsonObject) -> TransferSwitch | None:
    serial = text(record.get("sn"))
    if serial is None:
        return None
    return TransferSwitch(
        serial=serial,
        model=text(record.get("prodMdlNm")),
        data_time=iso_time(record.get("msmtEps")),
        mid_state=text(record.get("midStEnum")),
        pv_disconnect_state=text(record.get("pvd1StEnum")),
        **read_figures(record, _TRANSFER_SWITCH_VARS),
        voltage_legs=read_legs(record, _VOLTAGE_LEGS),
        grid_voltage_legs=read_legs(record, _GRID_VOLTAGE_LEGS),
    )
