"""Parsers of inverter data: ``/api/v1/production/inverters``,
``/ivp/pdm/device_data`` and ``/inventory.json?deleted=1``."""

from collections.abc import Mapping
from functools import partial

from custom_components.solar_gateway.gateway.envoy.models import (
    InventoryDevice,
    Inverter,
    PdmDevice,
)
from custom_components.solar_gateway.gateway.values import (
    JsonObject,
    as_bool,
    as_int,
    as_str,
    objects,
)

from .common import keyed, num, root_list, root_object, timestamp

_JOULES_PER_WH = 3600.0


def parse_inverters(payload: object) -> tuple[Inverter, ...]:
    """Parse ``/api/v1/production/inverters``."""
    return keyed(
        root_list(payload, "/api/v1/production/inverters"),
        "serialNumber",
        as_str,
        _inverter,
    )


def _inverter(item: JsonObject, serial: str) -> Inverter:
    return Inverter(
        serial=serial,
        last_report=timestamp(item.get("lastReportDate")),
        power=num(item.get("lastReportWatts")),
        max_power=num(item.get("maxReportWatts")),
        dev_type=as_int(item.get("devType")),
    )


def _pdm_device(key: str, item: JsonObject) -> PdmDevice | None:
    serial = as_str(item.get("sn"))
    if serial is None:
        return None
    channels = objects(item.get("channels"))
    # Inverters have one channel; take the first, which carries the readings.
    channel: JsonObject = channels[0] if channels else {}
    watts = channel.get("watts")
    watts = watts if isinstance(watts, Mapping) else {}
    hours = channel.get("wattHours")
    hours = hours if isinstance(hours, Mapping) else {}
    reading = channel.get("lastReading")
    reading = reading if isinstance(reading, Mapping) else {}
    lifetime = channel.get("lifetime")
    lifetime = lifetime if isinstance(lifetime, Mapping) else {}
    return PdmDevice(
        key=key,
        serial=serial,
        dev_name=as_str(item.get("devName")),
        active=as_bool(item.get("active")),
        power=num(watts.get("now")),
        max_power=num(watts.get("max")),
        energy_today=num(hours.get("today")),
        energy_yesterday=num(hours.get("yesterday")),
        energy_last_seven_days=num(hours.get("week")),
        lifetime_energy=num(lifetime.get("joulesProduced"), 1 / _JOULES_PER_WH),
        ac_voltage=num(reading.get("acVoltageINmV"), 1e-3),
        ac_current=num(reading.get("acCurrentInmA"), 1e-3),
        ac_frequency=num(reading.get("acFrequencyINmHz"), 1e-3),
        dc_voltage=num(reading.get("dcVoltageINmV"), 1e-3),
        dc_current=num(reading.get("dcCurrentINmA"), 1e-3),
        temperature=num(reading.get("channelTemp")),
        last_report=timestamp(reading.get("endDate")),
    )


def parse_pdm_device_data(payload: object) -> tuple[PdmDevice, ...]:
    """Parse ``/ivp/pdm/device_data``: an object keyed by device id, plus counters."""
    root = root_object(payload, "/ivp/pdm/device_data")
    devices: list[PdmDevice] = []
    for key, item in root.items():
        if isinstance(item, Mapping) and (device := _pdm_device(key, item)):
            devices.append(device)
    return tuple(devices)


def parse_inventory(payload: object) -> tuple[InventoryDevice, ...]:
    """Parse ``/inventory.json?deleted=1`` (microinverters, AC Batteries, relays...)."""
    devices: list[InventoryDevice] = []
    for section in objects(root_list(payload, "/inventory.json")):
        group = as_str(section.get("type"))
        if group is None:
            continue
        devices.extend(
            keyed(
                section.get("devices"),
                "serial_num",
                as_str,
                partial(_inventory_device, group=group),
            )
        )
    return tuple(devices)


def _inventory_device(item: JsonObject, serial: str, *, group: str) -> InventoryDevice:
    return InventoryDevice(
        group=group,
        serial=serial,
        part_number=as_str(item.get("part_num")),
        firmware=as_str(item.get("img_pnum_running")),
        installed=timestamp(item.get("installed")),
        last_report=timestamp(item.get("last_rpt_date")),
        producing=as_bool(item.get("producing")),
        communicating=as_bool(item.get("communicating")),
        operating=as_bool(item.get("operating")),
        deleted=bool(as_bool(item.get("deleted"))),
        phase=as_str(item.get("phase")),
        state_of_charge=num(item.get("percentFull")),
        charge_status=as_str(item.get("charge_status")),
        temperature=num(item.get("maxCellTemp")),
        sleep_enabled=as_bool(item.get("sleep_enabled")),
        sleep_min_soc=num(item.get("sleep_min_soc")),
        sleep_max_soc=num(item.get("sleep_max_soc")),
        sleeping=_sleeping(item.get("device_status")),
    )


# Status flags of an AC Battery that has reached its sleep band and sleeps.
SLEEP_FLAGS = frozenset(
    {"envoy.cond_flags.pcu_ctrl.sleep-mode", "envoy.cond_flags.obs_strs.sleeping"}
)


def _sleeping(status: object) -> bool | None:
    """Whether a device's status flags say it sleeps; None without a status list."""
    if not isinstance(status, list):
        return None
    return any(flag in SLEEP_FLAGS for flag in status if isinstance(flag, str))
