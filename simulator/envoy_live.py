"""Bringing captured Envoy documents to life: power now, counters grown since.

Each function takes a freshly parsed captured document and writes the live figures
into the fields that carry them, leaving everything else (and any document whose
shape it does not recognise) as captured. A meter the capture shows disabled or
with no active CTs keeps its captured zeros, as the real firmware would.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import math

from .live_state import Figures

type JsonDict = dict[str, object]


@dataclass(frozen=True, slots=True)
class EnvoySite:
    """What the live documents need to know about the site."""

    meter_types: Mapping[int, str]  # eid -> measurementType
    battery_capacity_wh: float


def number(value: object) -> float | None:
    """Return a finite JSON number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def dicts(value: object) -> list[JsonDict]:
    """Return the objects of a JSON array."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


class _Writer:
    """Writes live values into documents, remembering whether counters were written."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures
        self.counters = False

    def power(
        self, entry: JsonDict, key: str, watts: float, share: float = 1.0
    ) -> None:
        if key in entry:
            entry[key] = round(watts * share, 3)

    def lifetime(
        self, entry: JsonDict, key: str, delta_wh: float, share: float = 1.0
    ) -> None:
        base = number(entry.get(key))
        if base is None:
            return
        self.counters = True
        entry[key] = round(self.figures.lifetime(base, delta_wh * share), 3)


def _production_json(doc: object, figures: Figures, site: EnvoySite) -> bool:
    if not isinstance(doc, dict):
        return False
    writer = _Writer(figures)
    now = int(figures.time)
    rules: dict[str | None, tuple[float, float]] = {
        "production": (figures.solar_w, figures.solar_wh),
        "total-consumption": (figures.load_w, figures.load_wh),
        "net-consumption": (figures.grid_w, figures.import_wh - figures.export_wh),
    }
    for section in ("production", "consumption"):
        for entry in dicts(doc.get(section)):
            kind = entry.get("type")
            if kind == "inverters":
                rule: tuple[float, float] | None = (figures.solar_w, figures.solar_wh)
            elif kind == "eim" and entry.get("activeCount") != 0:
                measurement = entry.get("measurementType")
                rule = rules.get(measurement if isinstance(measurement, str) else None)
            else:
                rule = None
            if rule is None or not (entry.get("wNow") or entry.get("whLifetime")):
                # Zeros where a reading should be are a firmware quirk: keep them.
                continue
            watts, delta = rule
            if "readingTime" in entry:
                entry["readingTime"] = now
            writer.power(entry, "wNow", watts)
            writer.lifetime(entry, "whLifetime", delta)
            lines = dicts(entry.get("lines"))
            for line in lines:
                writer.power(line, "wNow", watts, 1 / len(lines))
                writer.lifetime(line, "whLifetime", delta, 1 / len(lines))
    for entry in dicts(doc.get("storage")):
        if entry.get("activeCount") and figures.soc is not None:
            writer.power(entry, "wNow", figures.battery_w)
            if "whNow" in entry:
                entry["whNow"] = round(figures.soc / 100 * site.battery_capacity_wh)
            if "percentFull" in entry:
                entry["percentFull"] = round(figures.soc)
            if "readingTime" in entry:
                entry["readingTime"] = now
    return writer.counters


def _api_v1_production(doc: object, figures: Figures, site: EnvoySite) -> bool:
    # All zeros is a firmware quirk (metered 8.2.4264+), kept as captured.
    if not isinstance(doc, dict) or not number(doc.get("wattHoursLifetime")):
        return False
    doc["wattsNow"] = round(figures.solar_w)
    if "wattHoursToday" in doc:
        doc["wattHoursToday"] = round(figures.solar_today_wh)
    for key in ("wattHoursSevenDays", "wattHoursLifetime"):
        if (base := number(doc.get(key))) is not None:
            doc[key] = round(figures.lifetime(base, figures.solar_wh))
    return True


def _meter_readings(doc: object, figures: Figures, site: EnvoySite) -> bool:
    writer = _Writer(figures)
    rules: dict[str, tuple[float, float, float]] = {
        "production": (figures.solar_w, figures.solar_wh, 0.0),
        "net-consumption": (figures.grid_w, figures.import_wh, figures.export_wh),
        "total-consumption": (figures.load_w, figures.load_wh, 0.0),
        "storage": (figures.battery_w, figures.discharge_wh, figures.charge_wh),
    }
    for reading in dicts(doc):
        eid = number(reading.get("eid"))
        kind = site.meter_types.get(int(eid)) if eid is not None else None
        rule = rules.get(kind) if kind else None
        if rule is None:
            continue
        watts, delivered, received = rule
        if "timestamp" in reading:
            reading["timestamp"] = int(figures.time)
        channels = dicts(reading.get("channels"))
        for entry, share in [(reading, 1.0)] + [
            (channel, 1 / len(channels)) for channel in channels
        ]:
            for key in ("activePower", "instantaneousDemand"):
                writer.power(entry, key, watts, share)
            writer.lifetime(entry, "actEnergyDlvd", delivered, share)
            writer.lifetime(entry, "actEnergyRcvd", received, share)
            voltage = number(entry.get("voltage"))
            if voltage and "current" in entry:
                entry["current"] = round(abs(watts * share) / voltage, 3)
    return writer.counters


def _secctrl(doc: object, figures: Figures, site: EnvoySite) -> bool:
    if not isinstance(doc, dict) or figures.soc is None:
        return False
    soc = round(figures.soc)
    for key in ("agg_soc", "ENC_agg_soc"):
        if number(doc.get(key)):
            doc[key] = soc
    capacity = number(doc.get("Enc_max_available_capacity")) or number(
        doc.get("Max_energy")
    )
    if capacity and "ENC_agg_avail_energy" in doc:
        doc["ENC_agg_avail_energy"] = round(figures.soc / 100 * capacity)
    return False


def _ensemble_power(doc: object, figures: Figures, site: EnvoySite) -> bool:
    if not isinstance(doc, dict) or figures.soc is None:
        return False
    devices = dicts(doc.get("devices:"))
    for device in devices:
        milliwatts = round(figures.battery_w * 1000 / len(devices))
        for key in ("real_power_mw", "apparent_power_mva"):
            if key in device:
                device[key] = milliwatts
        if "soc" in device:
            device["soc"] = round(figures.soc)
    return False


LIVE_DOCUMENTS: Mapping[str, Callable[[object, Figures, EnvoySite], bool]] = {
    "production": _production_json,
    "production.json": _production_json,
    "production.json_details_1": _production_json,
    "api_v1_production": _api_v1_production,
    "ivp_meters_readings": _meter_readings,
    "ivp_ensemble_secctrl": _secctrl,
    "ivp_ensemble_power": _ensemble_power,
}
