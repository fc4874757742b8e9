"""Parsers of the Ensemble endpoints: inventory, power, secctrl and generator."""

from datetime import datetime
from typing import TypedDict

from custom_components.solar_gateway.gateway.envoy.models import (
    C6Combiner,
    Collar,
    Encharge,
    EnchargePower,
    Enpower,
    EnsembleInventory,
    Generator,
    SecCtrl,
)
from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from custom_components.solar_gateway.gateway.values import (
    JsonObject,
    as_bool,
    as_int,
    as_str,
    objects,
)

from .common import keyed, num, root_list, root_object, timestamp


def _fahrenheit_to_celsius(value: float | None) -> float | None:
    return None if value is None else round((value - 32.0) * 5.0 / 9.0, 1)


class _Inventoried(TypedDict):
    """What every device of the Ensemble inventory reports about itself."""

    serial: str
    part_number: str | None
    firmware: str | None
    communicating: bool | None
    admin_state: str | None
    last_report: datetime | None


def _inventoried(item: JsonObject, serial: str) -> _Inventoried:
    return _Inventoried(
        serial=serial,
        part_number=as_str(item.get("part_num")),
        firmware=as_str(item.get("img_pnum_running")),
        communicating=as_bool(item.get("communicating")),
        admin_state=as_str(item.get("admin_state_str")),
        last_report=timestamp(item.get("last_rpt_date")),
    )


def _encharge(item: JsonObject, serial: str) -> Encharge:
    return Encharge(
        **_inventoried(item, serial),
        bmu_firmware=as_str(item.get("bmu_fw_version")),
        state_of_charge=num(item.get("percentFull")),
        temperature=num(item.get("temperature")),
        max_cell_temperature=num(item.get("maxCellTemp")),
        dc_switch_off=as_bool(item.get("dc_switch_off")),
        sleep_enabled=as_bool(item.get("sleep_enabled")),
        capacity=num(item.get("encharge_capacity")),
        grid_state=as_str(item.get("reported_enc_grid_state")),
        phase=as_str(item.get("phase")),
    )


def _enpower(item: JsonObject, serial: str) -> Enpower:
    return Enpower(
        **_inventoried(item, serial),
        # The system controller reports its temperature in °F.
        temperature=_fahrenheit_to_celsius(num(item.get("temperature"))),
        mains_admin_state=as_str(item.get("mains_admin_state")),
        mains_oper_state=as_str(item.get("mains_oper_state")),
        grid_mode=as_str(item.get("Enpwr_grid_mode")),
    )


def _collar(item: JsonObject, serial: str) -> Collar:
    return Collar(
        **_inventoried(item, serial),
        temperature=num(item.get("temperature")),
        mid_state=as_str(item.get("mid_state")),
        grid_state=as_str(item.get("grid_state")),
        collar_state=as_str(item.get("collar_state")),
    )


def _combiner(item: JsonObject, serial: str) -> C6Combiner:
    reported = _inventoried(item, serial)
    reported["firmware"] = as_str(item.get("fw_version")) or reported["firmware"]
    return C6Combiner(**reported)


def parse_ensemble_inventory(payload: object) -> EnsembleInventory:
    """Parse ``/ivp/ensemble/inventory`` (batteries, system controller, collar, C6)."""
    encharges: list[Encharge] = []
    enpowers: list[Enpower] = []
    collars: list[Collar] = []
    combiners: list[C6Combiner] = []
    for section in objects(root_list(payload, "/ivp/ensemble/inventory")):
        kind = section.get("type")
        for item in objects(section.get("devices")):
            serial = as_str(item.get("serial_num"))
            if serial is None:
                continue
            if kind == "ENCHARGE":
                encharges.append(_encharge(item, serial))
            elif kind == "ENPOWER":
                enpowers.append(_enpower(item, serial))
            elif kind == "COLLAR":
                collars.append(_collar(item, serial))
            elif kind == "C6 COMBINER CONTROLLER":
                combiners.append(_combiner(item, serial))
    return EnsembleInventory(
        encharges=tuple(encharges),
        enpowers=tuple(enpowers),
        collars=tuple(collars),
        combiners=tuple(combiners),
    )


def parse_ensemble_power(payload: object) -> tuple[EnchargePower, ...]:
    """Parse ``/ivp/ensemble/power``, whose key really is ``"devices:"``."""
    root = root_object(payload, "/ivp/ensemble/power")
    items = root.get("devices:", root.get("devices"))
    if not isinstance(items, list):
        raise UnexpectedPayloadError("/ivp/ensemble/power has no device list")
    return keyed(items, "serial_num", as_str, _encharge_power)


def _encharge_power(item: JsonObject, serial: str) -> EnchargePower:
    return EnchargePower(
        serial=serial,
        real_power=num(item.get("real_power_mw"), 1e-3),
        apparent_power=num(item.get("apparent_power_mva"), 1e-3),
        state_of_charge=num(item.get("soc")),
    )


def parse_secctrl(payload: object) -> SecCtrl:
    """Parse ``/ivp/ensemble/secctrl`` (aggregate battery state)."""
    root = root_object(payload, "/ivp/ensemble/secctrl")
    if "agg_soc" not in root and "ENC_agg_soc" not in root:
        raise UnexpectedPayloadError("/ivp/ensemble/secctrl has no aggregate SOC")
    return SecCtrl(
        state_of_charge=num(root.get("agg_soc")),
        max_energy=num(root.get("Max_energy")),
        encharge_state_of_charge=num(root.get("ENC_agg_soc")),
        encharge_available_energy=num(root.get("ENC_agg_avail_energy")),
        encharge_capacity=num(root.get("Enc_max_available_capacity")),
        acb_state_of_charge=num(root.get("ACB_agg_soc")),
        acb_energy=num(root.get("ACB_agg_energy")),
        configured_backup_soc=num(root.get("configured_backup_soc")),
        adjusted_backup_soc=num(root.get("adjusted_backup_soc")),
    )


def parse_generator(payload: object) -> Generator:
    """Parse ``/ivp/ensemble/generator``."""
    root = root_object(payload, "/ivp/ensemble/generator")
    return Generator(
        present=bool(as_bool(root.get("present"))),
        admin_state=as_str(root.get("admin_state")),
        oper_state=as_str(root.get("oper_state")),
        admin_mode=as_int(root.get("admin_mode")),
        kind=as_int(root.get("type")),
    )
