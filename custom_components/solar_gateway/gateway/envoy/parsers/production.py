"""Parsers of the production endpoints: ``/production.json``, ``/api/v1/production``
and the HTML ``/production`` page of old firmware."""

import re
from typing import TypedDict

from custom_components.solar_gateway.gateway.envoy.models import (
    AcbTotals,
    EimReading,
    InverterTotals,
    PhaseReading,
    ProductionJson,
    SimpleProduction,
)
from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from custom_components.solar_gateway.gateway.values import (
    JsonObject,
    as_int,
    as_str,
    objects,
)

from .common import num, root_object, timestamp


class _AcFigures(TypedDict):
    """The figures an EIM reports for its whole meter and for each line alike."""

    power: float | None
    lifetime_energy: float | None
    energy_today: float | None
    voltage: float | None
    current: float | None
    apparent_power: float | None
    reactive_power: float | None
    power_factor: float | None


def _ac_figures(item: JsonObject) -> _AcFigures:
    return _AcFigures(
        power=num(item.get("wNow")),
        lifetime_energy=num(item.get("whLifetime")),
        energy_today=num(item.get("whToday")),
        voltage=num(item.get("rmsVoltage")),
        current=num(item.get("rmsCurrent")),
        apparent_power=num(item.get("apprntPwr")),
        reactive_power=num(item.get("reactPwr")),
        power_factor=num(item.get("pwrFactor")),
    )


def _eim(item: JsonObject, measurement_type: str) -> EimReading:
    return EimReading(
        measurement_type=measurement_type,
        active_count=as_int(item.get("activeCount")),
        reading_time=timestamp(item.get("readingTime")),
        energy_last_seven_days=num(item.get("whLastSevenDays")),
        lines=tuple(
            PhaseReading(**_ac_figures(line)) for line in objects(item.get("lines"))
        ),
        **_ac_figures(item),
    )


def parse_production_json(payload: object) -> ProductionJson:
    """Parse ``/production.json?details=1`` (inverter, CT and AC Battery totals)."""
    root = root_object(payload, "/production.json")
    if not any(key in root for key in ("production", "consumption", "storage")):
        raise UnexpectedPayloadError("/production.json has no production section")
    inverters: InverterTotals | None = None
    production: EimReading | None = None
    for item in objects(root.get("production")):
        kind = item.get("type")
        if kind == "inverters":
            inverters = InverterTotals(
                active_count=as_int(item.get("activeCount")),
                reading_time=timestamp(item.get("readingTime")),
                power=num(item.get("wNow")),
                lifetime_energy=num(item.get("whLifetime")),
            )
        elif kind == "eim":
            production = _eim(item, as_str(item.get("measurementType")) or "production")
    total: EimReading | None = None
    net: EimReading | None = None
    for item in objects(root.get("consumption")):
        measurement_type = as_str(item.get("measurementType"))
        if measurement_type == "total-consumption":
            total = _eim(item, measurement_type)
        elif measurement_type == "net-consumption":
            net = _eim(item, measurement_type)
    acb: AcbTotals | None = None
    for item in objects(root.get("storage")):
        if item.get("type") == "acb":
            acb = AcbTotals(
                active_count=as_int(item.get("activeCount")),
                reading_time=timestamp(item.get("readingTime")),
                power=num(item.get("wNow")),
                energy_now=num(item.get("whNow")),
                state=as_str(item.get("state")),
                state_of_charge=num(item.get("percentFull")),
            )
    return ProductionJson(
        inverters=inverters,
        production=production,
        total_consumption=total,
        net_consumption=net,
        acb=acb,
    )


def parse_api_production(payload: object) -> SimpleProduction:
    """Parse ``/api/v1/production``."""
    root = root_object(payload, "/api/v1/production")
    if "wattsNow" not in root and "wattHoursLifetime" not in root:
        raise UnexpectedPayloadError("/api/v1/production has no production figures")
    return SimpleProduction(
        power=num(root.get("wattsNow")),
        energy_today=num(root.get("wattHoursToday")),
        energy_last_seven_days=num(root.get("wattHoursSevenDays")),
        lifetime_energy=num(root.get("wattHoursLifetime")),
    )


_ROW = re.compile(
    r"<td>\s*(Currently|Today|Past Week|Since Installation)\s*</td>\s*"
    r"<td>\s*([-0-9.]+)\s*([kMG]?)W(h?)\s*</td>",
    re.IGNORECASE,
)
_SCALE = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}


def parse_production_html(body: str) -> SimpleProduction:
    """Parse the table of the legacy ``/production`` HTML page (firmware 3.x)."""
    values: dict[str, float | None] = {}
    for label, number, prefix, _hours in _ROW.findall(body):
        values[label.lower()] = num(number, _SCALE[prefix.lower()])
    if not values:
        raise UnexpectedPayloadError("/production page has no production table")
    return SimpleProduction(
        power=values.get("currently"),
        energy_today=values.get("today"),
        energy_last_seven_days=values.get("past week"),
        lifetime_energy=values.get("since installation"),
    )
