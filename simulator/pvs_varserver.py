"""A simulated SunPower PVS on varserver firmware (builds 61840+).

``/auth?login`` with basic auth ``ssm_owner:<last 5 of serial>`` opens a session
(``session`` cookie) that expires after a configurable time (about 8 minutes on a
real PVS, the default); ``/vars`` answers
``name`` (comma separated), ``match`` (substring), ``cache`` (a named query),
``fmt=obj`` and writes with ``set=/name=value`` (or ``set=/name&value=value``).
The legacy ``DeviceList`` answers 403, other ``dl_cgi`` commands replay the capture.

A dump is served with the variables it has, in its own shape: build 61840 answers
each device as one JSON object (``/sys/devices/<n>/<type>/data``), later builds one
string variable per figure (``/sys/devices/<type>/<n>/<field>``). Both live on from
the captured state through the same flat view of the figures.
"""

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import math
import re
import secrets
from typing import override
from urllib.parse import parse_qsl

from aiohttp import web

from custom_components.solar_gateway.gateway.capture import Capture
from custom_components.solar_gateway.gateway.values import as_float

from .kinds import CaptureIdentity, varserver_variables
from .live_state import (
    Figures,
    LiveState,
    SiteProfile,
    estimate_mean_load,
    estimate_solar_peak,
)
from .personality import Answer, FigureSource, Personality
from .pvs_legacy import DL_CGI, INVERTER_RATING_W, PvsCommands, data_boundary
from .streams import pvs_power_notification

USERS = frozenset({"ssm_owner", "spwr_owner"})  # both names appear in the field
# Real PVSs forget a session after about 8 minutes.
DEFAULT_SESSION_SECONDS = 480.0
CONTROL_MODE = "/ess/config/dcm/mode_param/control_mode"
MIN_SOC = "/ess/config/dcm/control_param/min_customer_soc"
TELEMETRY = "/sys/telemetryws/enable"
SW_REV = "/sys/info/sw_rev"
LIVEDATA = "/sys/livedata/"
CONTROL_MODES = frozenset({"SELF_CONSUMPTION", "ENERGY_ARBITRAGE", "BACKUP_ONLY"})
SUNVAULT_CAPACITY_WH = 13_000.0  # the smallest SunVault, when the capture says nothing
_DEVICE = re.compile(r"^/sys/devices/(meter|inverter|ess)/(\d+)/(\w+)$")
# Build 61840's shape: one JSON object per device.
_PACKED_DEVICE = re.compile(r"^/sys/devices/(\d+)/(\w+)/data$")
_ESS_SOC = ("customerSocVal", "socVal")  # fractions: the customer's and the system's


class PvsVarserverPersonality(Personality):
    """A PVS with the varserver API and its sessions."""

    def __init__(
        self,
        capture: Capture,
        identity: CaptureIdentity,
        *,
        session_seconds: float = DEFAULT_SESSION_SECONDS,
        frozen: bool = False,
        password: str | None = None,
    ) -> None:
        """Prepare the PVS the capture was taken from.

        ``frozen``: every variable keeps its captured value; only writes change one.
        ``password``: the owner's, when changed from the last 5 of the serial.
        """
        self.capture = capture
        self.identity = identity
        self.commands = PvsCommands(capture, identity)
        self.session_seconds = session_seconds
        serial = identity.serial
        self.password = password or (serial[-5:] if len(serial) >= 5 else None)
        self.frozen = frozen
        # The dump as captured: each variable's first answer; then it lives on.
        self._dump = varserver_variables(capture) or {}
        self._packed = _packed_devices(self._dump)
        # Every figure as a string variable, whatever the dump's shape.
        self.variables = _flat_variables(self._dump, self._packed)
        self._captured = dict(self.variables)
        self._served: set[str] = set()
        self._sessions: dict[str, float] = {}
        self._caches: dict[str, list[str]] = {}
        self._consumption_is_net = _differs(
            self.variables.get("/sys/livedata/net_p"),
            self.variables.get("/sys/livedata/site_load_p"),
        )
        self._inverters = sorted(
            {
                m.group(2)
                for name in self.variables
                if (m := _DEVICE.match(name)) and m.group(1) == "inverter"
            }
        )

    @property
    @override
    def uses_tls(self) -> bool:
        return True

    @override
    def uptime_at_start(self) -> float:
        return as_float(self.variables.get("/sys/info/uptime")) or 0.0

    @override
    def site_profile(self, utc_offset_hours: float) -> SiteProfile:
        variables = self.variables
        soc = as_float(variables.get("/sys/livedata/soc"))
        capacity = 0.0
        if soc is not None:
            capacity = (
                sum(
                    (as_float(value) or 0.0) * 1000
                    for name, value in variables.items()
                    if name.startswith("/sys/devices/ess/")
                    and "capacity" in name.lower()
                )
                or SUNVAULT_CAPACITY_WH
            )
        reserve = as_float(variables.get(MIN_SOC))
        return SiteProfile(
            solar_peak_w=estimate_solar_peak(
                (as_float(variables.get("/sys/livedata/pv_p")) or 0.0) * 1000,
                as_float(variables.get("/sys/livedata/time")),
                len(self._inverters) * INVERTER_RATING_W,
                utc_offset_hours,
            ),
            mean_load_w=estimate_mean_load(
                (as_float(variables.get("/sys/livedata/site_load_p")) or 0.0) * 1000,
                as_float(variables.get("/sys/livedata/time")),
                utc_offset_hours,
            ),
            battery_capacity_wh=capacity,
            initial_soc=(soc or 0.5) * 100,
            reserve_soc=(reserve if reserve is not None else 0.2) * 100,
            utc_offset_hours=utc_offset_hours,
        )

    @override
    def attach(self, state: LiveState) -> None:
        super().attach(state)
        self._apply_controls()

    @override
    def update_firmware(self, version: str) -> None:
        super().update_firmware(version)
        self.commands.identity = self.identity
        for variables in (self.variables, self._captured, self._dump):
            if SW_REV in variables:
                variables[SW_REV] = version

    @override
    def expire_credentials(self) -> None:
        self._sessions.clear()

    @override
    def restart(self) -> None:
        self._sessions.clear()  # sessions live in memory only

    @override
    def describe(self) -> dict[str, object]:
        return {
            name: self.variables[name]
            for name in (CONTROL_MODE, MIN_SOC)
            if name in self.variables
        }

    @override
    async def answer(
        self, request: web.Request, now: float, figures: FigureSource
    ) -> Answer:
        path = request.path
        if path == "/auth":
            return self._auth(request, now)
        if path == "/vars":
            if not self._session_valid(request, now):
                return Answer.of_json({"error": "unauthorized"}, status=401)
            return self._vars(await _parameters(request), now, figures)
        if path == DL_CGI and request.query.get("Command") == "DeviceList":
            return Answer.of_text("403 Forbidden", status=403, content_type="text/html")
        if path == f"{DL_CGI}/supervisor/info":
            return self.commands.supervisor_info()
        if (answer := self.commands.replay(request.path_qs)) is not None:
            return answer
        return Answer.of_json({"error": "not found"}, status=404)

    @property
    @override
    def has_telemetry_socket(self) -> bool:
        """PVS6s have the telemetry socket; PVS5s do not."""
        model = self.variables.get("/sys/info/model") or self.identity.model or ""
        return TELEMETRY in self.variables and not model.upper().startswith("PVS5")

    @property
    def telemetry_enabled(self) -> bool:
        """Whether ``/sys/telemetryws/enable`` is 1 (a client sets it)."""
        return self.variables.get(TELEMETRY) == "1"

    @override
    def telemetry(self, figures: FigureSource) -> str | None:
        if not self.telemetry_enabled:
            return None
        live = {
            name: value
            for name, value in self.variables.items()
            if name.startswith(LIVEDATA)
        }
        _live_site(live, figures(None))
        return pvs_power_notification(live)

    def _auth(self, request: web.Request, now: float) -> Answer:
        if "logout" in request.query:
            self._sessions.pop(request.cookies.get("session", ""), None)
            return Answer.of_json({"result": "logged out"})
        if "login" not in request.query:
            return Answer.of_json({"error": "bad request"}, status=400)
        if not self._credentials_ok(request.headers.get("Authorization", "")):
            return Answer.of_json({"error": "invalid credentials"}, status=401)
        session = self.open_session(now)
        return Answer.of_json(
            {"session": session},
            headers={"Set-Cookie": f"session={session}; Path=/; HttpOnly; Secure"},
        )

    def _credentials_ok(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except binascii.Error, UnicodeDecodeError:
            return False
        user, _, password = decoded.partition(":")
        return user in USERS and self.password is not None and password == self.password

    def open_session(self, now: float) -> str:
        """Open a login session, valid for ``session_seconds`` from ``now``."""
        session = secrets.token_urlsafe(48)
        self._sessions[session] = now + self.session_seconds
        return session

    def _session_valid(self, request: web.Request, now: float) -> bool:
        return self.session_valid(request.cookies.get("session", ""), now)

    def session_valid(self, session: str, now: float) -> bool:
        """Whether ``session`` is open at ``now`` (an expired one is forgotten)."""
        expires = self._sessions.get(session)
        if expires is None:
            return False
        if expires <= now:
            del self._sessions[session]
            return False
        return True

    def _vars(
        self, query: Mapping[str, str], now: float, figures: FigureSource
    ) -> Answer:
        as_object = query.get("fmt") == "obj"
        if "set" in query:
            return self._set(query["set"], query.get("value"), as_object)
        live = _dump_shape(self.live_variables(now, figures), self._dump, self._packed)
        if "name" in query:
            names = [name for name in query["name"].split(",") if name in live]
        elif "match" in query:
            names = [name for name in live if query["match"] in name]
        elif "cache" in query and query["cache"] in self._caches:
            names = [name for name in self._caches[query["cache"]] if name in live]
        else:
            return Answer.of_json(
                {"error": "name, match or cache expected"}, status=400
            )
        if "cache" in query:
            self._caches[query["cache"]] = names
        counters = any(name.endswith(("_en", "Kwh", "/data")) for name in names)
        values = {
            name: live[name] if name in self._served else self._dump[name]
            for name in names
        }
        if not self.frozen:
            self._served.update(names)
        return _format(values, as_object, counters)

    def _set(self, spec: str, value: str | None, as_object: bool) -> Answer:
        changes: dict[str, str] = {}
        for item in spec.split(","):
            name, sep, new = item.partition("=")
            if not sep:
                if value is None:
                    return Answer.of_json({"error": f"no value for {name}"}, status=400)
                new = value
            changes[name] = new
        for name, new in changes.items():
            if name not in self.variables:
                return Answer.of_json({"error": f"unknown variable {name}"}, status=404)
            if not (name.startswith("/ess/config/") or name == TELEMETRY):
                return Answer.of_json({"error": f"{name} is read-only"}, status=403)
            if name == CONTROL_MODE and new not in CONTROL_MODES:
                return Answer.of_json({"error": f"bad control mode {new}"}, status=400)
            if name == MIN_SOC:
                soc = as_float(new)
                if soc is None or not 0 <= soc <= 1:
                    return Answer.of_json({"error": f"bad SOC {new}"}, status=400)
        self.variables.update(changes)
        self._served.update(changes)  # read back as written from now on
        self._apply_controls()
        return _format(changes, as_object, counters=False)

    def _apply_controls(self) -> None:
        if (soc := as_float(self.variables.get(MIN_SOC))) is not None:
            self.state.reserve_soc = soc * 100
        self.state.backup_only = self.variables.get(CONTROL_MODE) == "BACKUP_ONLY"

    def live_variables(self, now: float, figures: FigureSource) -> dict[str, str]:
        """Return every variable (flat), live ones brought to ``now``.

        Only variables the dump has are changed: none is added.
        """
        live = dict(self.variables)
        fig = figures(None)
        _live_site(live, fig)
        if "/sys/info/uptime" in live:
            live["/sys/info/uptime"] = f"{fig.uptime_s:.2f}"
        self._live_devices(live, figures(data_boundary(now)))
        return live

    def _live_devices(self, live: dict[str, str], fig: Figures) -> None:
        stamp = _iso(fig.time)
        share = 1 / len(self._inverters) if self._inverters else 0.0
        for index in self._inverters:
            prefix = f"/sys/devices/inverter/{index}/"
            _put(live, f"{prefix}p3phsumKw", fig.solar_w * share / 1000)
            _lifetime(live, f"{prefix}ltea3phsumKwh", fig, fig.solar_wh * share)
            if f"{prefix}msmtEps" in live:
                live[f"{prefix}msmtEps"] = stamp
        self._live_batteries(live, fig)
        meters = _indices(live, "meter")
        for index in meters:
            prefix = f"/sys/devices/meter/{index}/"
            model = live.get(f"{prefix}prodMdlNm", "") + live.get(f"{prefix}sn", "")
            if model.endswith("p") or "0400p" in model:
                power = fig.solar_w
                _lifetime(live, f"{prefix}netLtea3phsumKwh", fig, fig.solar_wh)
            elif self._consumption_is_net:
                power = fig.grid_w
                _lifetime(live, f"{prefix}posLtea3phsumKwh", fig, fig.import_wh)
                _lifetime(live, f"{prefix}negLtea3phsumKwh", fig, fig.export_wh)
                _lifetime(
                    live,
                    f"{prefix}netLtea3phsumKwh",
                    fig,
                    fig.import_wh - fig.export_wh,
                )
            else:
                power = fig.load_w
                _lifetime(live, f"{prefix}netLtea3phsumKwh", fig, fig.load_wh)
            _put(live, f"{prefix}p3phsumKw", power / 1000)
            if f"{prefix}msmtEps" in live:
                live[f"{prefix}msmtEps"] = stamp

    def _live_batteries(self, live: dict[str, str], fig: Figures) -> None:
        """The SunVault's power and charge: each charge moves from its captured value."""
        initial = as_float(self._captured.get("/sys/livedata/soc"))
        if fig.soc is None or initial is None or math.isnan(initial):
            return
        moved = fig.soc / 100 - initial
        batteries = _indices(live, "ess")
        for index in batteries:
            prefix = f"/sys/devices/ess/{index}/"
            _put(live, f"{prefix}p3phsumKw", fig.battery_w / 1000 / len(batteries))
            for key in _ESS_SOC:
                captured = as_float(self._captured.get(f"{prefix}{key}"))
                if captured is not None and not math.isnan(captured):
                    _put(live, f"{prefix}{key}", min(1.0, max(0.0, captured + moved)))
            if f"{prefix}msmtEps" in live:
                live[f"{prefix}msmtEps"] = _iso(fig.time)


def _indices(variables: Mapping[str, str], kind: str) -> set[str]:
    """The indices of one kind of device (``meter``, ``ess``) among the variables."""
    return {
        m.group(2)
        for name in variables
        if (m := _DEVICE.match(name)) and m.group(1) == kind
    }


def _live_site(live: dict[str, str], fig: Figures) -> None:
    if "/sys/livedata/time" in live:
        live["/sys/livedata/time"] = str(int(fig.time))
    _put(live, "/sys/livedata/pv_p", fig.solar_w / 1000)
    _lifetime(live, "/sys/livedata/pv_en", fig, fig.solar_wh)
    _put(live, "/sys/livedata/net_p", fig.grid_w / 1000)
    _lifetime(live, "/sys/livedata/net_en", fig, fig.import_wh - fig.export_wh)
    _put(live, "/sys/livedata/site_load_p", fig.load_w / 1000)
    _lifetime(live, "/sys/livedata/site_load_en", fig, fig.load_wh)
    if fig.soc is not None:
        _put(live, "/sys/livedata/ess_p", fig.battery_w / 1000)
        _lifetime(live, "/sys/livedata/ess_en", fig, fig.discharge_wh - fig.charge_wh)
        _put(live, "/sys/livedata/soc", fig.soc / 100)


async def _parameters(request: web.Request) -> dict[str, str]:
    """The query, plus a POST body's ``key=value&...`` (``set=/a=1`` keeps its ``=``)."""
    parameters = dict(request.query)
    if request.method == "POST":
        body = (await request.read()).decode("utf-8", errors="replace")
        parameters.update(parse_qsl(body, keep_blank_values=True))
    return parameters


def _put(live: dict[str, str], name: str, value: float) -> None:
    """Write a live value, unless the variable is absent or the capture says nan."""
    current = live.get(name)
    if current is None or _is_nan(current):
        return
    live[name] = f"{value:.6f}"


def _lifetime(live: dict[str, str], name: str, fig: Figures, delta_wh: float) -> None:
    base = as_float(live.get(name))
    if base is None:
        return
    live[name] = f"{fig.lifetime(base * 1000, delta_wh) / 1000:.6f}"


def _is_nan(text: str) -> bool:
    value = as_float(text)
    return value is None or math.isnan(value)


def _differs(first: str | None, second: str | None) -> bool:
    a, b = as_float(first), as_float(second)
    return a is not None and b is not None and abs(a - b) > 1e-6


def _iso(time: float) -> str:
    return datetime.fromtimestamp(time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class _PackedDevice:
    """One device of a build 61840 dump: its object, and its fields' flat prefix."""

    prefix: str  # /sys/devices/<type>/<n>/
    fields: Mapping[str, object]


def _packed_devices(dump: Mapping[str, object]) -> dict[str, _PackedDevice]:
    """The dump's ``/sys/devices/<n>/<type>/data`` objects, by variable name."""
    packed: dict[str, _PackedDevice] = {}
    for name, value in dump.items():
        if (match := _PACKED_DEVICE.match(name)) and isinstance(value, Mapping):
            kind, index = match.group(2), match.group(1)
            packed[name] = _PackedDevice(f"/sys/devices/{kind}/{index}/", value)
    return packed


def _flat_variables(
    dump: Mapping[str, object], packed: Mapping[str, _PackedDevice]
) -> dict[str, str]:
    """Every variable of the dump as a string, a device object's fields one each."""
    flat: dict[str, str] = {}
    for name, value in dump.items():
        if (device := packed.get(name)) is not None:
            for field, item in device.fields.items():
                flat[device.prefix + field] = _text(item)
        else:
            flat[name] = _text(value)
    return flat


def _dump_shape(
    live: Mapping[str, str],
    dump: Mapping[str, object],
    packed: Mapping[str, _PackedDevice],
) -> dict[str, object]:
    """The live flat variables in the dump's own shape, names and value types."""
    shaped: dict[str, object] = {}
    for name, captured in dump.items():
        if (device := packed.get(name)) is not None:
            shaped[name] = {
                field: _like(live[device.prefix + field], item)
                for field, item in device.fields.items()
            }
        else:
            shaped[name] = _like(live[name], captured)
    return shaped


def _text(value: object) -> str:
    """A dump value as varserver's string form (numbers of build 61840 included)."""
    return value if isinstance(value, str) else json.dumps(value)


def _like(text: str, captured: object) -> object:
    """A live string value, of the type the captured one had."""
    if text == _text(captured):
        return captured
    if isinstance(captured, int | float) and not isinstance(captured, bool):
        number = as_float(text)
        return captured if number is None else number
    return text


def _format(values: Mapping[str, object], as_object: bool, counters: bool) -> Answer:
    if as_object:
        return Answer.of_json(values, counters=counters)
    return Answer.of_json(
        {
            "values": [
                {"name": name, "value": value} for name, value in values.items()
            ],
            "count": len(values),
        },
        counters=counters,
    )
