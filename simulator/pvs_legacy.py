"""A simulated SunPower PVS speaking the legacy ``dl_cgi`` API.

``DeviceList`` is slow (a configurable delay) and its data only changes on 5-minute
``DATATIME`` boundaries; ``CURTIME`` is always now. Other commands replay the
capture (``<Command>.json`` as in the corpus, or the path-derived file name).
"""

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
import re
from typing import override
from urllib.parse import parse_qsl

from aiohttp import web

from custom_components.solar_gateway.gateway.capture import Capture, candidate_names
from custom_components.solar_gateway.gateway.values import (
    as_float,
    as_list,
    as_str,
    objects,
)

from .envoy import replay_headers
from .kinds import DEVICE_LIST_NAMES, CaptureIdentity
from .live_state import Figures, SiteProfile, estimate_mean_load, estimate_solar_peak
from .personality import Answer, FigureSource, Personality

DATA_PERIOD = 300.0  # the PVS refreshes device data every 5 minutes
INVERTER_RATING_W = 300.0  # a typical SunPower AC module, for the day curve's peak
DL_CGI = "/cgi-bin/dl_cgi"


def pvs_time(time: float) -> str:
    """Format a time as the PVS does: ``YYYY,MM,DD,hh,mm,ss`` in UTC."""
    return datetime.fromtimestamp(time, UTC).strftime("%Y,%m,%d,%H,%M,%S")


def parse_pvs_time(text: str | None) -> float | None:
    """Parse a PVS ``YYYY,MM,DD,hh,mm,ss`` time (UTC)."""
    if not text:
        return None
    try:
        return (
            datetime.strptime(text, "%Y,%m,%d,%H,%M,%S").replace(tzinfo=UTC).timestamp()
        )
    except ValueError:
        return None


def data_boundary(now: float) -> float:
    """Return the start of the 5-minute data period holding ``now``."""
    return now // DATA_PERIOD * DATA_PERIOD


def kilo(value: float) -> str:
    """Format W or Wh as the PVS's kW or kWh string."""
    return f"{value / 1000:.4f}"


def build_number(firmware: str) -> int | None:
    """Return the build number of a PVS firmware string (``2024.2, Build 61640``)."""
    match = re.search(r"(\d{4,})\s*$", firmware)
    return int(match.group(1)) if match else None


class PvsCommands:
    """The ``dl_cgi`` commands both PVS APIs answer from the capture."""

    def __init__(self, capture: Capture, identity: CaptureIdentity) -> None:
        """Serve commands from ``capture``."""
        self.capture = capture
        self.identity = identity

    def replay(self, path_qs: str) -> Answer | None:
        """Return the captured answer to ``path_qs``, or None."""
        names = candidate_names(path_qs)
        if path_qs.startswith(f"{DL_CGI}?"):
            query = dict(parse_qsl(path_qs.split("?", 1)[1]))
            if name := query.get("Command"):
                names = [f"{name}.json", name, *names]
        elif path_qs.startswith(f"{DL_CGI}/"):
            # The project's fixtures name /cgi-bin/dl_cgi/a/b as a_b.json.
            short = (
                path_qs.split("?", 1)[0].removeprefix(f"{DL_CGI}/").replace("/", "_")
            )
            names = [*names, f"{short}.json", short]
        for name in names:
            if (response := self.capture.get(name)) is not None:
                data = response.json()
                return Answer(
                    status=response.status,
                    body=response.body,
                    headers=replay_headers(response),
                    is_json=data is not None,
                )
        return None

    def supervisor_info(self) -> Answer:
        """Answer ``/cgi-bin/dl_cgi/supervisor/info`` (captured, or from identity)."""
        if (captured := self.replay(f"{DL_CGI}/supervisor/info")) is not None:
            return captured
        firmware = self.identity.firmware
        build = build_number(firmware)
        release = ".".join(firmware.split(".")[:2]) if build else firmware
        return Answer.of_json(
            {
                "supervisor": {
                    "SERIAL": self.identity.serial,
                    "MODEL": self.identity.model,
                    "SWVER": f"{release.split(',')[0]}, Build {build}"
                    if build
                    else firmware,
                    "BUILD": build,
                }
            }
        )


class PvsLegacyPersonality(Personality):
    """A PVS on firmware before the varserver API."""

    def __init__(
        self,
        capture: Capture,
        identity: CaptureIdentity,
        *,
        device_list_delay: float = 0.0,
        frozen: bool = False,
    ) -> None:
        """Prepare the PVS the capture was taken from.

        ``frozen``: every DeviceList answer is the captured one, as recorded.
        """
        self.capture = capture
        self.identity = identity
        self.commands = PvsCommands(capture, identity)
        self.device_list_delay = device_list_delay
        self.frozen = frozen
        self._device_list: dict[str, object] = {}
        # The first DeviceList answer is the capture itself, byte for byte.
        self._first_answer: Answer | None = None
        for name in DEVICE_LIST_NAMES:
            response = capture.get(name)
            data = None if response is None else response.json()
            if isinstance(data, dict) and response is not None:
                self._device_list = data
                self._first_answer = Answer(
                    status=response.status,
                    body=response.body,
                    headers=replay_headers(response),
                    is_json=True,
                )
                break

    @property
    @override
    def uses_tls(self) -> bool:
        return False

    def _devices(self, kind: str) -> list[Mapping[str, object]]:
        return [
            device
            for device in objects(self._device_list.get("devices"))
            if device.get("DEVICE_TYPE") == kind
        ]

    @override
    def uptime_at_start(self) -> float:
        for device in self._devices("PVS"):
            return as_float(device.get("dl_uptime")) or 0.0
        return 0.0

    @override
    def site_profile(self, utc_offset_hours: float) -> SiteProfile:
        solar = load = 0.0
        captured_time: float | None = None
        for meter in self._devices("Power Meter"):
            power = (as_float(meter.get("p_3phsum_kw")) or 0.0) * 1000
            captured_time = parse_pvs_time(as_str(meter.get("DATATIME")))
            if meter.get("TYPE") == "PVS5-METER-P":
                solar = power
            elif "GROSS" in str(meter.get("subtype", "")):
                load = power
        inverters = self._devices("Inverter")
        if not solar:
            solar = sum(
                (as_float(inverter.get("p_3phsum_kw")) or 0.0) * 1000
                for inverter in inverters
            )
        return SiteProfile(
            solar_peak_w=estimate_solar_peak(
                solar,
                captured_time,
                len(inverters) * INVERTER_RATING_W,
                utc_offset_hours,
            ),
            mean_load_w=estimate_mean_load(load, captured_time, utc_offset_hours),
            utc_offset_hours=utc_offset_hours,
        )

    @override
    def expire_credentials(self) -> None:
        """The legacy API has no credentials."""

    @override
    def restart(self) -> None:
        """The legacy API has no sessions."""

    @override
    async def answer(
        self, request: web.Request, now: float, figures: FigureSource
    ) -> Answer:
        if request.path_qs.startswith(f"{DL_CGI}?") and (
            request.query.get("Command") == "DeviceList"
        ):
            if self.device_list_delay > 0:
                await asyncio.sleep(self.device_list_delay)
            if (first := self._first_answer) is not None:
                if not self.frozen:
                    self._first_answer = None
                return first
            return self.device_list(now, figures(data_boundary(now)))
        if request.path == f"{DL_CGI}/supervisor/info":
            return self.commands.supervisor_info()
        if (answer := self.commands.replay(request.path_qs)) is not None:
            return answer
        return Answer.of_json({"result": "error", "error": "not found"}, status=404)

    @override
    def update_firmware(self, version: str) -> None:
        super().update_firmware(version)
        self.commands.identity = self.identity
        for device in as_list(self._device_list.get("devices")):
            if isinstance(device, dict) and device.get("DEVICE_TYPE") == "PVS":
                device["SWVER"] = version

    def device_list(self, now: float, figures: Figures) -> Answer:
        """Return the live DeviceList: data as of ``figures``, ``CURTIME`` now."""
        data_time = pvs_time(figures.time)
        current = pvs_time(now)
        devices = [dict(device) for device in objects(self._device_list.get("devices"))]
        # An inverter captured in error stays so: it produces nothing, the others share.
        inverters = [
            d
            for d in devices
            if d.get("DEVICE_TYPE") == "Inverter" and d.get("STATE") != "error"
        ]
        for device in devices:
            if "CURTIME" in device:
                device["CURTIME"] = current
            kind = device.get("DEVICE_TYPE")
            if kind == "PVS":
                device["DATATIME"] = data_time
                device["dl_uptime"] = str(int(figures.uptime_s))
            elif kind == "Power Meter":
                device["DATATIME"] = data_time
                _live_meter(device, figures)
            elif kind == "Inverter" and device.get("STATE") != "error":
                device["DATATIME"] = data_time
                share = 1 / len(inverters)
                device["p_3phsum_kw"] = kilo(figures.solar_w * share)
                _lifetime(device, "ltea_3phsum_kwh", figures, figures.solar_wh * share)
        document = {**self._device_list, "devices": devices}
        return Answer.of_json(document, counters=True)


def _lifetime(
    device: dict[str, object], key: str, figures: Figures, delta_wh: float
) -> None:
    base = as_float(device.get(key))
    if base is not None:
        device[key] = kilo(figures.lifetime(base * 1000, delta_wh))


def _live_meter(device: dict[str, object], figures: Figures) -> None:
    if device.get("TYPE") == "PVS5-METER-P":
        power, delta = figures.solar_w, figures.solar_wh
        _lifetime(device, "net_ltea_3phsum_kwh", figures, delta)
    elif "NET" in str(device.get("subtype", "")):
        # Net metering at the grid: pos is import, neg is export, net = pos - neg.
        power = figures.grid_w
        _lifetime(device, "pos_ltea_3phsum_kwh", figures, figures.import_wh)
        _lifetime(device, "neg_ltea_3phsum_kwh", figures, figures.export_wh)
        _lifetime(
            device,
            "net_ltea_3phsum_kwh",
            figures,
            figures.import_wh - figures.export_wh,
        )
    else:
        power = figures.load_w
        _lifetime(device, "pos_ltea_3phsum_kwh", figures, figures.load_wh)
        _lifetime(device, "net_ltea_3phsum_kwh", figures, figures.load_wh)
    device["p_3phsum_kw"] = kilo(power)
    for phase in ("p1_kw", "p2_kw"):
        if phase in device:
            device[phase] = kilo(power / 2)
