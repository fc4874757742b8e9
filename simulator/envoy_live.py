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
    initial_soc: float = 50.0  # % the site's battery held in the capture


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
            # The AC Batteries keep their own charge, moving with the site's.
            _own_charge(
                entry, "percentFull", "whNow", 0.0, figures.soc - site.initial_soc
            )
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


def _own_charge(
    entry: JsonDict,
    soc_key: str,
    energy_key: str,
    capacity: float,
    moved: float,
) -> None:
    """Move one battery group's captured charge by ``moved`` points, its energy along."""
    captured = number(entry.get(soc_key))
    if captured is None:
        return
    energy = number(entry.get(energy_key))
    if not capacity and energy and captured:
        capacity = energy / captured * 100
    soc = min(100.0, max(0.0, captured + moved))
    entry[soc_key] = round(soc)
    if capacity and energy is not None:
        entry[energy_key] = round(soc / 100 * capacity)


def _secctrl(doc: object, figures: Figures, site: EnvoySite) -> bool:
    if not isinstance(doc, dict) or figures.soc is None:
        return False
    # Each group (IQ Batteries, AC Batteries, the aggregate) keeps its own charge
    # and moves by as much as the site's.
    moved = figures.soc - site.initial_soc
    total = number(doc.get("Max_energy")) or 0.0
    encharge = number(doc.get("Enc_max_available_capacity")) or 0.0
    acb = total - encharge if total > encharge else 0.0
    groups = (
        ("ENC_agg_soc", "ENC_agg_avail_energy", encharge),
        ("ACB_agg_soc", "ACB_agg_energy", acb),
    )
    present = False
    for soc_key, energy_key, capacity in groups:
        if capacity or number(doc.get(soc_key)) or number(doc.get(energy_key)):
            _own_charge(doc, soc_key, energy_key, capacity, moved)
            present = True
    if present or number(doc.get("agg_soc")):
        _own_charge(doc, "agg_soc", "", total, moved)
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
        _own_charge(device, "soc", "", 0.0, figures.soc - site.initial_soc)
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
