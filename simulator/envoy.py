"""A simulated Enphase IQ Gateway (Envoy)."""

from collections.abc import Mapping
import copy
from dataclasses import replace
import json
from typing import override

from aiohttp import web

from custom_components.solar_gateway.gateway.capture import (
    Capture,
    CapturedResponse,
    candidate_names,
)
from custom_components.solar_gateway.gateway.envoy.auth import installer_password

from .envoy_auth import DigestAuthority, TokenAuthority
from .envoy_inverters import InverterReports
from .envoy_live import LIVE_DOCUMENTS, EnvoySite, dicts, number
from .envoy_settings import (
    INSTALLER_PATHS,
    INVENTORY_NAMES,
    UNAUTHORIZED,
    EnvoySettings,
)
from .kinds import CaptureIdentity
from .live_state import LiveState, SiteProfile, estimate_mean_load, estimate_solar_peak
from .personality import Answer, FigureSource, Personality
from .streams import CtLine, StreamBoard, envoy_meter_event, serve_events

STREAM_PATH = "/stream/meter"
# CT types whose phases /stream/meter reports.
STREAM_TYPES = frozenset({"production", "net-consumption", "total-consumption"})
# Always open, whatever the firmware.
OPEN_PATHS = frozenset({"/info", "/info.xml"})
# Need digest authentication on firmware before 7 (besides any the capture shows).
DIGEST_PATHS = frozenset({"/api/v1/production/inverters"})
# Documents the controls write; reads show the last write.
CONTROLLED = (
    "ivp_ensemble_dry_contacts",
    "ivp_ss_dry_contact_settings",
    "admin_lib_tariff",
)
# Headers the server sets itself, never replayed from a capture.
_HOP_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "content-encoding", "date"}
)
NOT_FOUND: Mapping[str, object] = {"error": "404 - Not Found"}


def replay_headers(response: CapturedResponse) -> dict[str, str]:
    """Return a captured answer's headers, minus those the server sets itself."""
    headers = {
        key: value
        for key, value in response.headers.items()
        if key.lower() not in _HOP_HEADERS
    }
    if not any(key.lower() == "content-type" for key in headers):
        if response.json() is not None:
            headers["Content-Type"] = "application/json"
        elif response.body.lstrip().startswith(b"<?xml"):
            headers["Content-Type"] = "text/xml"
        else:
            headers["Content-Type"] = "text/html"
    return headers


class EnvoyPersonality(Personality):
    """An Envoy served from a capture, with its auth, live data and controls."""

    def __init__(
        self, capture: Capture, identity: CaptureIdentity, *, frozen: bool = False
    ) -> None:
        """Prepare the Envoy the capture was taken from.

        Each endpoint's first answer is its capture, then ``<name>_1``, ``<name>_2``...
        in order; after those the site lives on from the last one, or, ``frozen``,
        the last one is served unchanged.
        """
        self.capture = capture
        self.identity = identity
        self.frozen = frozen
        self._served: dict[str, int] = {}
        self._written: set[str] = set()
        self.token_auth = (
            TokenAuthority(identity.serial) if identity.firmware_major >= 7 else None
        )
        self.digest_auth = (
            DigestAuthority(
                {
                    "envoy": identity.serial[-6:],
                    "installer": installer_password(identity.serial),
                }
            )
            if identity.firmware_major < 7
            else None
        )
        self._documents: dict[str, object] = {}
        for name in CONTROLLED:
            response = capture.get(name)
            data = (
                None if response is None or response.status != 200 else response.json()
            )
            if data is not None:
                self._documents[name] = data
        self.relay = self._captured_relay()
        # Served as captured for good: what the gateway itself never updates.
        self._stale = (
            frozenset({"api_v1_production"})
            if self._api_production_stale()
            else frozenset()
        )
        meter_types: dict[int, str] = {}
        for meter in dicts(self._json("ivp_meters")):
            eid = number(meter.get("eid"))
            kind = meter.get("measurementType")
            if (
                eid is not None
                and isinstance(kind, str)
                and meter.get("state") != "disabled"
            ):
                meter_types[int(eid)] = kind
        self.site = EnvoySite(
            meter_types, self._battery_capacity(), self._captured_soc()
        )
        self.ct_lines = self._captured_ct_lines()
        self.inverters = InverterReports(
            self._json("api_v1_production_inverters"), self._json("ivp_pdm_device_data")
        )

    @property
    @override
    def uses_tls(self) -> bool:
        return self.identity.firmware_major >= 7

    def _json(self, name: str) -> object:
        response = self.capture.get(name)
        return None if response is None or response.status != 200 else response.json()

    def _api_production_stale(self) -> bool:
        """Whether ``/api/v1/production`` was captured stale (metered, no CT, 8.2.4264+).

        Such a gateway keeps serving figures frozen long ago: a few W, and a
        lifetime far below what the inverters have produced.
        """
        api = self._json("api_v1_production")
        lifetime = (
            number(api.get("wattHoursLifetime")) if isinstance(api, dict) else None
        )
        inverters = [
            number(entry.get("whLifetime")) or 0.0
            for entry in self._production_entries("production")
            if entry.get("type") == "inverters" and entry.get("activeCount")
        ]
        return bool(lifetime and inverters and lifetime < max(inverters) / 2)

    def _captured_ct_lines(self) -> tuple[CtLine, ...]:
        """The phases the streamed CTs measure, as the capture shows them."""
        streamed = {
            int(eid)
            for meter in dicts(self._json("ivp_meters"))
            if meter.get("state") == "enabled"
            and meter.get("measurementType") in STREAM_TYPES
            and (eid := number(meter.get("eid"))) is not None
        }
        counts = [
            int(number(meter.get("phaseCount")) or 1)
            for meter in dicts(self._json("ivp_meters"))
            if number(meter.get("eid")) in streamed
        ]
        if not counts:
            return ()
        count = min(3, max(counts))
        channels: list[dict[str, object]] = []
        for reading in dicts(self._json("ivp_meters_readings")):
            if number(reading.get("eid")) in streamed:
                channels = dicts(reading.get("channels")) or [reading]
                break
        voltages = [v for c in channels if (v := number(c.get("voltage")))]
        fallback = voltages[0] if voltages else 120.0
        lines: list[CtLine] = []
        for index in range(count):
            channel = channels[index] if index < len(channels) else {}
            lines.append(
                CtLine(
                    voltage=number(channel.get("voltage")) or fallback,
                    frequency=number(channel.get("freq")) or 60.0,
                    power_factor=number(channel.get("pwrFactor")) or 1.0,
                )
            )
        return tuple(lines)

    def _captured_relay(self) -> str | None:
        for group in dicts(self._json("ivp_ensemble_inventory")):
            if group.get("type") == "ENPOWER":
                for device in dicts(group.get("devices")):
                    state = device.get("mains_admin_state")
                    if isinstance(state, str):
                        return state
        return None

    def _battery_capacity(self) -> float:
        secctrl = self._json("ivp_ensemble_secctrl")
        if isinstance(secctrl, dict):
            # Max_energy is every battery's; the other, IQ Batteries' alone.
            for key in ("Max_energy", "Enc_max_available_capacity"):
                if capacity := number(secctrl.get(key)):
                    return capacity
        for entry in self._production_entries("storage"):
            wh, full = number(entry.get("whNow")), number(entry.get("percentFull"))
            if entry.get("activeCount") and wh and full:
                return wh / full * 100
        return 0.0

    def _captured_soc(self) -> float:
        """The charge of the site's batteries in the capture (%)."""
        secctrl = self._json("ivp_ensemble_secctrl")
        if isinstance(secctrl, dict) and (soc := number(secctrl.get("agg_soc"))):
            return soc
        for entry in self._production_entries("storage"):
            if entry.get("activeCount") and (soc := number(entry.get("percentFull"))):
                return soc
        return 50.0

    def _production_entries(self, section: str) -> list[dict[str, object]]:
        for name in ("production.json_details_1", "production.json", "production"):
            doc = self._json(name)
            if isinstance(doc, dict):
                return dicts(doc.get(section))
        return []

    @override
    def site_profile(self, utc_offset_hours: float) -> SiteProfile:
        solar = load = 0.0
        for entry in self._production_entries("production"):
            solar = max(solar, number(entry.get("wNow")) or 0.0)
        for entry in self._production_entries("consumption"):
            if entry.get("measurementType") == "total-consumption":
                load = number(entry.get("wNow")) or 0.0
        api = self._json("api_v1_production")
        if isinstance(api, dict):
            solar = max(solar, number(api.get("wattsNow")) or 0.0)
        ct_solar, ct_load = self._ct_powers()
        solar = max(solar, ct_solar or 0.0)
        if not load and ct_load is not None:
            load = ct_load
        nameplate = sum(
            number(item.get("maxReportWatts")) or 0.0
            for item in dicts(self._json("api_v1_production_inverters"))
        )
        reserve = 20.0
        settings = self._storage_settings()
        if settings is not None:
            reserve = number(settings.get("reserved_soc")) or reserve
        return SiteProfile(
            solar_peak_w=estimate_solar_peak(
                solar, self._captured_time(), nameplate, utc_offset_hours
            ),
            mean_load_w=estimate_mean_load(
                load, self._captured_time(), utc_offset_hours
            ),
            battery_capacity_wh=self.site.battery_capacity_wh,
            initial_soc=self.site.initial_soc,
            reserve_soc=reserve,
            utc_offset_hours=utc_offset_hours,
        )

    def _ct_powers(self) -> tuple[float | None, float | None]:
        """Solar and house load from the CT readings (a capture without production.json)."""
        powers: dict[str, float] = {}
        for reading in dicts(self._json("ivp_meters_readings")):
            eid = number(reading.get("eid"))
            kind = self.site.meter_types.get(int(eid)) if eid is not None else None
            if kind and (power := number(reading.get("activePower"))) is not None:
                powers[kind] = power
        solar = powers.get("production")
        if "total-consumption" in powers:
            return solar, powers["total-consumption"]
        if solar is None or "net-consumption" not in powers:
            return solar, None
        return solar, solar + powers["net-consumption"] + powers.get("storage", 0.0)

    def _captured_time(self) -> float | None:
        for reading in dicts(self._json("ivp_meters_readings")):
            if (stamp := number(reading.get("timestamp"))) is not None:
                return stamp
        return None

    def _storage_settings(self) -> dict[str, object] | None:
        tariff = self._documents.get("admin_lib_tariff")
        if isinstance(tariff, dict):
            inner = tariff.get("tariff")
            if isinstance(inner, dict):
                settings = inner.get("storage_settings")
                if isinstance(settings, dict):
                    return settings
        return None

    @override
    def attach(self, state: LiveState) -> None:
        super().attach(state)
        settings = self._storage_settings()
        if settings is not None:
            state.backup_only = settings.get("mode") == "backup"
        state.islanded = self.relay == "open"
        self.settings = EnvoySettings(self._json, state)

    @override
    def token(self, now: float, user: str = "owner") -> str | None:
        if self.token_auth is None:
            return None
        return self.token_auth.issue(user=user, now=now)

    @override
    def update_firmware(self, version: str) -> None:
        super().update_firmware(version)
        info = self.capture.get("info")
        if info is None:
            return
        text = info.text()
        start = text.find("<software>")
        end = text.find("</software>", start)
        if start < 0 or end < 0:
            return
        body = f"{text[: start + len('<software>')]}{version}{text[end:]}"
        self.capture = Capture(
            {**self.capture.responses, "info": replace(info, body=body.encode())},
            self.capture.notes,
        )

    @override
    def expire_credentials(self) -> None:
        if self.token_auth is not None:
            self.token_auth.expire_all()

    @override
    def restart(self) -> None:
        if self.token_auth is not None:
            self.token_auth.forget_sessions()

    @override
    def describe(self) -> dict[str, object]:
        return {
            "relay": self.relay,
            **copy.deepcopy(self._documents),
            **copy.deepcopy(self.settings.documents),
        }

    @override
    async def answer(
        self, request: web.Request, now: float, figures: FigureSource
    ) -> Answer:
        path = request.path
        if path in OPEN_PATHS:
            return self._replay("/info", figures)
        if path == "/auth/check_jwt":
            return self._check_jwt(request, now)
        if (denied := self._authorize(request, now)) is not None:
            return denied
        if request.path in INSTALLER_PATHS and not self._installer(request, now):
            return Answer.of_json(UNAUTHORIZED, status=401)
        if request.method == "GET":
            return self._replay(request.path_qs, figures)
        return await self._control(request)

    @override
    async def stream(
        self,
        request: web.Request,
        now: float,
        figures: FigureSource,
        board: StreamBoard,
    ) -> Answer | web.StreamResponse | None:
        if request.path != STREAM_PATH or request.method != "GET":
            return None
        if (denied := self._authorize_stream(request, now, board)) is not None:
            return denied
        if not self.ct_lines:
            return Answer.of_json(NOT_FOUND, status=404)
        lines = self.ct_lines
        return await serve_events(
            request, board, lambda: envoy_meter_event(figures(None), lines)
        )

    def _authorize_stream(
        self, request: web.Request, now: float, board: StreamBoard
    ) -> Answer | None:
        """The stream is the installer's before firmware 7, the token's from 7 on."""
        if self.token_auth is not None:
            claims = self.token_auth.check(_bearer(request), now)
            if claims is not None and not (
                board.refuse_owner and claims.user == "owner"
            ):
                return None
            return Answer.of_json(
                {"status": 401, "message": "Unauthorized"}, status=401
            )
        assert self.digest_auth is not None
        user = self.digest_auth.user_of(
            request.method, request.path_qs, request.headers.get("Authorization")
        )
        if user == "installer":
            return None
        return self._digest_challenge()

    def _check_jwt(self, request: web.Request, now: float) -> Answer:
        if self.token_auth is None:
            return Answer.of_json(NOT_FOUND, status=404)
        claims = self.token_auth.check(_bearer(request), now)
        if claims is None:
            return Answer.of_text(
                "<!DOCTYPE html><h2>Invalid token.</h2>\n",
                status=401,
                content_type="text/html",
            )
        session = self.token_auth.open_session(claims)
        return Answer(
            status=200,
            body=b"<!DOCTYPE html><h2>Valid token.</h2>\n",
            headers={
                "Content-Type": "text/html",
                "Set-Cookie": f"sessionId={session}; Path=/; HttpOnly; Secure",
            },
        )

    def _authorize(self, request: web.Request, now: float) -> Answer | None:
        if self.token_auth is not None:
            session = request.cookies.get("sessionId")
            if session and self.token_auth.session_valid(session):
                return None
            if self.token_auth.check(_bearer(request), now) is not None:
                return None
            return Answer.of_json(
                {"status": 401, "message": "Unauthorized"}, status=401
            )
        assert self.digest_auth is not None
        if not self._needs_digest(request.path_qs):
            return None
        if self.digest_auth.verify(
            request.method, request.path_qs, request.headers.get("Authorization")
        ):
            return None
        return self._digest_challenge()

    def _digest_challenge(self) -> Answer:
        assert self.digest_auth is not None
        return Answer(
            status=401,
            body=b"<html><body><h1>401 Unauthorized</h1></body></html>",
            headers={
                "Content-Type": "text/html",
                "WWW-Authenticate": self.digest_auth.challenge(),
            },
        )

    def _installer(self, request: web.Request, now: float) -> bool:
        """Whether an installer token asks (owner tokens may not hold production)."""
        if self.token_auth is None:
            return False  # no such record before firmware 7
        user = self.token_auth.user(
            _bearer(request), request.cookies.get("sessionId"), now
        )
        return user == "installer"

    def _needs_digest(self, path_qs: str) -> bool:
        if path_qs.split("?", 1)[0] in DIGEST_PATHS:
            return True
        found = self._resolve(path_qs)
        return found is not None and _digest_challenged(found[1])

    def _resolve(self, path_qs: str) -> tuple[str, CapturedResponse] | None:
        for name in candidate_names(path_qs):
            if (response := self.capture.get(name)) is not None:
                return name, response
        return None

    def _replay(self, path_qs: str, figures: FigureSource) -> Answer:
        found = self._resolve(path_qs)
        if found is None or _digest_challenged(found[1]):
            # Past authentication, a capture that only holds the challenge has no data.
            return Answer.of_json(NOT_FOUND, status=404)
        name, response = found
        index = self._served.get(name, 0)
        self._served[name] = index + 1
        sequence = self._sequence(name, response)
        written = name in self._written or name in self.settings.written
        if not written and (
            self.frozen or name in self._stale or index < len(sequence)
        ):
            # What the gateway answered, byte for byte.
            replayed = sequence[min(index, len(sequence) - 1)]
            return Answer(
                status=replayed.status,
                body=replayed.body,
                headers=replay_headers(replayed),
                is_json=replayed.json() is not None,
            )
        response = sequence[-1]
        headers = replay_headers(response)
        if (document := self.settings.document(name)) is not None:
            return Answer.of_json(document, headers=headers)
        if name in self._documents:
            return Answer.of_json(self._documents[name], headers=headers)
        data = response.json() if response.status == 200 else None
        if data is None:
            return Answer(status=response.status, body=response.body, headers=headers)
        counters = False
        if (live := LIVE_DOCUMENTS.get(name)) is not None:
            counters = live(data, figures(None), self.site)
        if name == "ivp_ensemble_inventory":
            self._live_inventory(data, figures)
        elif name in INVENTORY_NAMES:
            self.settings.live_inventory(data)
        elif name == "api_v1_production_inverters":
            self.inverters.live_list(data, figures)
        elif name == "ivp_pdm_device_data":
            counters = self.inverters.live_device_data(data, figures)
        return Answer.of_json(data, headers=headers, counters=counters)

    def _sequence(self, name: str, first: CapturedResponse) -> list[CapturedResponse]:
        """The captured answers to one request, in the order they were given."""
        sequence = [first]
        while (later := self.capture.get(f"{name}_{len(sequence)}")) is not None:
            sequence.append(later)
        return sequence

    def _live_inventory(self, data: object, figures: FigureSource) -> None:
        soc = figures(None).soc
        # Each battery keeps its own charge: it moves by as much as the site's.
        moved = 0.0 if soc is None else soc - self.state.profile.initial_soc
        for group in dicts(data):
            for device in dicts(group.get("devices")):
                captured = number(device.get("percentFull"))
                if group.get("type") == "ENCHARGE" and captured is not None:
                    device["percentFull"] = round(
                        min(100.0, max(0.0, captured + moved))
                    )
                if (
                    group.get("type") == "ENPOWER"
                    and "ivp_ensemble_inventory" in self._written
                ):
                    # Only a write moves the relay; an islanded capture stays islanded.
                    device["mains_admin_state"] = self.relay
                    device["mains_oper_state"] = self.relay

    async def _control(self, request: web.Request) -> Answer:
        route = (request.method, request.path)
        handlers = {
            ("POST", "/ivp/ensemble/relay"): self._set_relay,
            ("POST", "/ivp/ensemble/dry_contacts"): self._set_dry_contact,
            ("POST", "/ivp/ss/dry_contact_settings"): self._set_dry_contact_settings,
            ("PUT", "/admin/lib/tariff"): self._set_tariff,
            **self.settings.handlers,
        }
        handler = handlers.get(route)
        if handler is None:
            if self._resolve(request.path_qs) is not None:
                return Answer.of_json({"error": "405 - Method Not Allowed"}, status=405)
            return Answer.of_json(NOT_FOUND, status=404)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _bad_request("body is not JSON")
        if not isinstance(body, dict):
            return _bad_request("body is not a JSON object")
        return handler(body)

    def _set_relay(self, body: dict[str, object]) -> Answer:
        state = body.get("mains_admin_state")
        if self.relay is None:
            return Answer.of_json(NOT_FOUND, status=404)
        if state not in ("open", "closed"):
            return _bad_request("mains_admin_state must be 'open' or 'closed'")
        assert isinstance(state, str)
        self.relay = state
        self._written.add("ivp_ensemble_inventory")
        self.state.islanded = state == "open"
        return Answer.of_json({"mains_admin_state": state})

    def _set_dry_contact(self, body: dict[str, object]) -> Answer:
        doc = self._documents.get("ivp_ensemble_dry_contacts")
        change = body.get("dry_contacts")
        if not isinstance(doc, dict) or not isinstance(change, dict):
            return _bad_request("expected {'dry_contacts': {'id', 'status'}}")
        for contact in dicts(doc.get("dry_contacts")):
            if contact.get("id") == change.get("id"):
                if change.get("status") not in ("open", "closed"):
                    return _bad_request("status must be 'open' or 'closed'")
                contact["status"] = change["status"]
                self._written.add("ivp_ensemble_dry_contacts")
                return Answer.of_json(doc)
        return _bad_request(f"no dry contact {change.get('id')!r}")

    def _set_dry_contact_settings(self, body: dict[str, object]) -> Answer:
        doc = self._documents.get("ivp_ss_dry_contact_settings")
        change = body.get("dry_contacts")
        if not isinstance(doc, dict) or not isinstance(change, dict):
            return _bad_request("expected {'dry_contacts': {complete settings}}")
        contacts = doc.get("dry_contacts")
        for index, contact in enumerate(dicts(contacts)):
            if contact.get("id") != change.get("id"):
                continue
            if missing := sorted(set(contact) - set(change)):
                # A real gateway can crash on partial settings; refuse them loudly.
                return Answer.of_json(
                    {"error": f"incomplete settings, missing {missing}"}, status=500
                )
            assert isinstance(contacts, list)
            contacts[index] = change
            self._written.add("ivp_ss_dry_contact_settings")
            return Answer.of_json(doc)
        return _bad_request(f"no dry contact {change.get('id')!r}")

    def _set_tariff(self, body: dict[str, object]) -> Answer:
        doc = self._documents.get("admin_lib_tariff")
        tariff = body.get("tariff")
        if not isinstance(doc, dict) or not isinstance(tariff, dict):
            return _bad_request("expected the whole tariff document")
        settings = tariff.get("storage_settings")
        if not isinstance(settings, dict):
            return _bad_request("the tariff has no storage_settings")
        doc["tariff"] = tariff
        self._written.add("admin_lib_tariff")
        if (reserve := number(settings.get("reserved_soc"))) is not None:
            self.state.reserve_soc = reserve
        self.state.backup_only = settings.get("mode") == "backup"
        return Answer.of_json(doc)


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _digest_challenged(response: CapturedResponse) -> bool:
    challenge = next(
        (
            value
            for key, value in response.headers.items()
            if key.lower() == "www-authenticate"
        ),
        "",
    )
    return response.status == 401 and challenge.lower().startswith("digest")


def _bad_request(message: str) -> Answer:
    return Answer.of_json({"error": message}, status=400)
