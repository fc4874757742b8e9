"""Microinverter reports of a simulated Envoy.

Each microinverter reports every 5 minutes, on its own step (the seconds into the
period its captured report shows): its watts change at that report and stay put
until the next one, whenever they are read. ``/api/v1/production/inverters`` and
``/ivp/pdm/device_data`` show the same report of the same inverter.

Microinverters run on their panels' power: at night they are off and report nothing
(their last report stays as it was), and at dawn they wake one after another, each
once its panels give a small share of its rating.
"""

from dataclasses import dataclass

from .envoy_live import JsonDict, dicts, number
from .live_state import Figures
from .personality import FigureSource

REPORT_PERIOD = 300  # seconds between two reports of one microinverter
# The share of its rating at which an inverter wakes, from the first to the last.
WAKE_FIRST, WAKE_LAST = 0.005, 0.03
ACB_DEV_TYPE = 11  # AC Batteries in the inverter list: batteries, not solar
_JOULES_PER_WH = 3600.0


@dataclass(frozen=True, slots=True)
class Report:
    """One inverter report: when, its power, and its energy since the site started."""

    time: int
    watts: float
    energy_wh: float
    today_wh: float
    new_day: bool  # a midnight has passed since the site started


@dataclass(frozen=True, slots=True)
class _Inverter:
    step: int  # seconds into the 5-minute period at which it reports
    share: float  # its share of the site's solar power
    rating: float  # W, 0 when unknown
    reported: int  # when the capture shows its last report
    wake_w: float  # the power at which it wakes up


def _solar_records(device_data: object) -> dict[str, JsonDict]:
    """The device data's active microinverters, by serial."""
    records: dict[str, JsonDict] = {}
    if isinstance(device_data, dict):
        for record in device_data.values():
            if (
                isinstance(record, dict)
                and record.get("devName") == "pcu"
                and record.get("active") is not False
                and isinstance(serial := record.get("sn"), str)
            ):
                records[serial] = record
    return records


def _channel(record: JsonDict) -> JsonDict:
    channels = dicts(record.get("channels"))
    return channels[0] if channels else {}


def _part(entry: JsonDict, key: str) -> JsonDict:
    value = entry.get(key)
    return value if isinstance(value, dict) else {}


class InverterReports:
    """The reports of a site's microinverters, as the site lives on."""

    def __init__(self, inverter_list: object, device_data: object) -> None:
        """Learn each inverter's report step and rating from the captured documents."""
        captured: dict[str, tuple[float | None, float]] = {}
        for item in dicts(inverter_list):
            serial = item.get("serialNumber")
            if isinstance(serial, str) and item.get("devType") != ACB_DEV_TYPE:
                rating = number(item.get("maxReportWatts")) or 0.0
                captured[serial] = (number(item.get("lastReportDate")), rating)
        # Without an inverter list (some 8.3 sites), the device data holds them all.
        if not captured:
            for serial, record in _solar_records(device_data).items():
                channel = _channel(record)
                reported = number(_part(channel, "lastReading").get("endDate"))
                rating = number(_part(channel, "watts").get("max")) or 0.0
                captured[serial] = (reported, rating)
        total = sum(rating for _, rating in captured.values())
        last = max(len(captured) - 1, 1)
        self._inverters = {
            serial: _Inverter(
                step=int(reported or 0) % REPORT_PERIOD,
                share=rating / total if total > 0 else 1 / len(captured),
                rating=rating,
                reported=int(reported or 0),
                wake_w=rating * (WAKE_FIRST + (WAKE_LAST - WAKE_FIRST) * rank / last),
            )
            for rank, (serial, (reported, rating)) in enumerate(captured.items())
        }
        self._reports: dict[str, Report] = {}

    def report(self, serial: object, figures: FigureSource) -> Report | None:
        """The latest report of inverter ``serial`` (None: not a solar inverter)."""
        if (
            not isinstance(serial, str)
            or (inverter := self._inverters.get(serial)) is None
        ):
            return None
        now = int(figures(None).time)
        reported = now - (now - inverter.step) % REPORT_PERIOD
        last = self._reports.get(serial)
        if last is not None and last.time == reported:
            return last
        at = figures(reported)
        watts = at.solar_w * inverter.share
        if watts <= inverter.wake_w or watts <= 0:
            # Asleep: no report; the last one stands, or the captured one.
            return last or Report(
                time=inverter.reported,
                watts=0.0,
                energy_wh=0.0,
                today_wh=0.0,
                new_day=at.solar_today_wh < at.solar_wh,
            )
        if inverter.rating > 0:
            watts = min(watts, inverter.rating)
        report = Report(
            time=reported,
            watts=watts,
            energy_wh=at.solar_wh * inverter.share,
            today_wh=at.solar_today_wh * inverter.share,
            new_day=at.solar_today_wh < at.solar_wh,
        )
        self._reports[serial] = report
        return report

    def live_list(self, doc: object, figures: FigureSource) -> None:
        """Bring ``/api/v1/production/inverters`` to the inverters' latest reports."""
        for item in dicts(doc):
            report = self.report(item.get("serialNumber"), figures)
            if report is None:
                continue
            if "lastReportDate" in item:
                item["lastReportDate"] = report.time
            if "lastReportWatts" in item:
                item["lastReportWatts"] = round(report.watts)

    def live_device_data(self, doc: object, figures: FigureSource) -> bool:
        """Bring ``/ivp/pdm/device_data`` to the same reports; True: counters written."""
        current = figures(None)
        written = False
        for serial, record in _solar_records(doc).items():
            report = self.report(serial, figures)
            if report is None:
                continue
            channel = _channel(record)
            _live_channel(channel, report, current)
            written = written or "lifetime" in channel
        return written


def _live_channel(channel: JsonDict, report: Report, current: Figures) -> None:
    watts = _part(channel, "watts")
    if "now" in watts:
        watts["now"] = round(report.watts)
    reading = _part(channel, "lastReading")
    if "endDate" in reading:
        reading["endDate"] = report.time
    duration = number(reading.get("duration"))
    if duration and "joulesProduced" in reading:
        reading["joulesProduced"] = round(report.watts * duration)
    voltage = number(reading.get("acVoltageINmV"))
    if voltage and "acCurrentInmA" in reading:
        reading["acCurrentInmA"] = round(report.watts / voltage * 1e6)
    hours = _part(channel, "wattHours")
    if (today := number(hours.get("today"))) is not None:
        base = 0.0 if report.new_day else today
        hours["today"] = round(base + report.today_wh)
    lifetime = _part(channel, "lifetime")
    if (joules := number(lifetime.get("joulesProduced"))) is not None:
        wh = current.lifetime(joules / _JOULES_PER_WH, report.energy_wh)
        lifetime["joulesProduced"] = round(wh * _JOULES_PER_WH)
