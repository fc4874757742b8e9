"""Diagnostics: the parsed site, the gateway's raw answers and the entities' states.

Everything that identifies the owner or the hardware is redacted: secrets (tokens,
passwords, Wi-Fi keys) become ``**REDACTED**``; serial numbers become
``**REDACTED_<n>**``, the same number for the same serial throughout the download, so
devices stay distinguishable and a capture taken with the option on still replays.
"""

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import date, datetime, timedelta
from enum import Enum
import json
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .const import CONF_CAPTURE_DIAGNOSTICS
from .coordinator import SolarGatewayConfigEntry, SolarGatewayData
from .devices import gateway_serial_suffix
from .gateway.capture import Capture, CapturedResponse, capture_to_json, name_for_path
from .gateway.client import Response
from .gateway.site import SiteSnapshot

REDACTED = "**REDACTED**"

# Key names (the last ``/`` segment of a varserver path, lower case, ``-`` as ``_``)
# whose values are secrets or personal data.
SECRET_KEYS = frozenset(
    {
        "access_token",
        "address",
        "api_key",
        "apikey",
        "authorization",
        "city",
        "cookie",
        "e_mail",
        "email",
        "essid",
        "host",
        "hostname",
        "ip",
        "ip_address",
        "ipaddr",
        "jwt",
        "lat",
        "latitude",
        "lng",
        "location",
        "lon",
        "longitude",
        "mac",
        "mac_address",
        "macaddr",
        "pass",
        "passwd",
        "password",
        "psk",
        "refresh_token",
        "secret",
        "session",
        "session_id",
        "sessionid",
        "set_cookie",
        "ssid",
        "street",
        "token",
        "user_name",
        "username",
        "wpa_key",
        "wpakey",
        "zip",
    }
)
SECRET_SUFFIXES = ("_mac", "lmac", "_ip", "_ssid", "password", "_token", "email")
# Key names whose values are serial numbers (replaced consistently, not blanked).
SERIAL_KEYS = frozenset({"sn", "parent", "serialnum", "serial_num", "serialnumber"})

# Serials shorter than this are not replaced inside longer text (they would hit
# unrelated numbers); they are still replaced where they are a whole value.
MIN_SERIAL_IN_TEXT = 6

_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MAC = re.compile(
    r"(?<![0-9A-Fa-f:-])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:-])"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\d.])")
_HEX = r"[0-9A-Fa-f]{1,4}"
_IPV6 = re.compile(
    rf"(?<![\w:])(?:(?:{_HEX}:){{7}}{_HEX}|(?:{_HEX}:){{1,6}}(?::{_HEX}){{1,6}}"
    rf"|(?:{_HEX}:){{1,7}}:|::(?:{_HEX}:){{0,6}}{_HEX})(?![\w:])"
)
# Response headers worth keeping in a capture; the others are either volatile
# (dates, lengths that redaction changes) or secret (cookies).
CAPTURE_HEADERS = frozenset({"content-type"})


def _key_name(key: str) -> str:
    return key.rsplit("/", 1)[-1].strip().lower().replace("-", "_")


def _is_secret_key(name: str) -> bool:
    return name in SECRET_KEYS or name.endswith(SECRET_SUFFIXES)


def _is_serial_key(name: str) -> bool:
    return name in SERIAL_KEYS or "serial" in name or name.endswith("_sn")


class Redactor:
    """Redacts JSON-like data and text, numbering serials consistently."""

    def __init__(self, serials: Iterable[str] = ()) -> None:
        """Start with the serials already known (numbered in this order)."""
        self._serials: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        for serial in serials:
            self.serial(serial)

    @property
    def serials(self) -> Mapping[str, str]:
        """Each serial seen and what replaces it."""
        return dict(self._serials)

    def serial(self, serial: str) -> str:
        """Return the stand-in of ``serial``, numbering it when it is new."""
        serial = serial.strip()
        if not serial or serial == REDACTED or serial in self._serials.values():
            return serial
        if serial not in self._serials:
            self._serials[serial] = f"**REDACTED_{len(self._serials) + 1}**"
            self._pattern = None
        return self._serials[serial]

    def text(self, text: str) -> str:
        """Return ``text`` with tokens, addresses and known serials replaced."""
        if text in self._serials:
            return self._serials[text]
        text = _JWT.sub(REDACTED, text)
        text = _EMAIL.sub(REDACTED, text)
        text = _MAC.sub(REDACTED, text)
        text = _IPV6.sub(REDACTED, text)
        text = _IPV4.sub(REDACTED, text)
        if (pattern := self._serial_pattern()) is not None:
            text = pattern.sub(lambda match: self._serials[match.group()], text)
        return text

    def data(self, value: object) -> object:
        """Return a redacted copy of JSON-like ``value`` (keys redacted as text)."""
        if isinstance(value, Mapping):
            result: dict[str, object] = {}
            for key, item in value.items():
                name = _key_name(str(key))
                if _is_secret_key(name) and item not in (None, ""):
                    redacted: object = REDACTED
                elif _is_serial_key(name) and isinstance(item, str | int):
                    redacted = (
                        item
                        if isinstance(item, bool) or item == ""
                        else self.serial(str(item))
                    )
                else:
                    redacted = self.data(item)
                result[self.text(str(key))] = redacted
            return result
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, body: bytes) -> str:
        """Return a raw answer body as redacted text, JSON kept as JSON."""
        parsed = _parse_json(body)
        if parsed is not None:
            return json.dumps(self.data(parsed))
        return self.text(body.decode("utf-8", errors="replace"))

    def _serial_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None:
            long_enough = sorted(
                (s for s in self._serials if len(s) >= MIN_SERIAL_IN_TEXT),
                key=len,
                reverse=True,
            )
            if not long_enough:
                return None
            self._pattern = re.compile("|".join(map(re.escape, long_enough)))
        return self._pattern


def _parse_json(body: bytes) -> object | None:
    try:
        parsed: object = json.loads(body)
    except ValueError, UnicodeDecodeError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


def json_safe(value: object) -> object:
    """Return ``value`` with enums, datetimes and tuples made JSON types."""
    if isinstance(value, Mapping):
        return {str(json_safe(key)): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def snapshot_serials(snapshot: SiteSnapshot) -> list[str]:
    """The serials of a site, gateway first, in the order the gateway lists them."""
    return [snapshot.identity.serial, *(device.serial for device in snapshot.devices)]


def _response(response: Response) -> dict[str, object]:
    """One raw answer, its body as JSON where it is JSON (redacted with the rest)."""
    parsed = _parse_json(response.body)
    return {
        "method": response.method,
        "status": response.status,
        "headers": dict(response.headers),
        "body": parsed if parsed is not None else response.text(),
    }


def build_capture(redactor: Redactor, responses: Mapping[str, Response]) -> Capture:
    """Return the GET answers in ``responses`` as a redacted, replayable capture."""
    captured: dict[str, CapturedResponse] = {}
    for path, response in responses.items():
        if response.method != "GET":
            continue
        safe_path = redactor.text(path)
        captured[name_for_path(safe_path)] = CapturedResponse(
            status=response.status,
            headers={
                key: value
                for key, value in response.headers.items()
                if key.lower() in CAPTURE_HEADERS
            },
            body=redactor.body(response.body).encode("utf-8"),
            path=safe_path,
        )
    return Capture(responses=captured)


def _coordinators(runtime: SolarGatewayData) -> dict[str, object]:
    return {
        group.value: {
            "last_update_success": coordinator.last_update_success,
            "update_interval": json_safe(coordinator.update_interval),
            "configured_interval": json_safe(coordinator.configured_interval),
            "last_exception": (
                None
                if coordinator.last_exception is None
                else repr(coordinator.last_exception)
            ),
        }
        for group, coordinator in runtime.coordinators.items()
    }


def _transport(runtime: SolarGatewayData) -> dict[str, object]:
    transport = runtime.client.transport
    stats = transport.stats
    return {
        "requests": stats.requests,
        "cache_hits": stats.cache_hits,
        "failures": stats.failures,
        "by_path": dict(sorted(stats.by_path.items())),
        "backoff_remaining": transport.backoff_remaining,
    }


def _entities(hass: HomeAssistant, entry: SolarGatewayConfigEntry) -> list[object]:
    entities: list[object] = []
    registry = er.async_get(hass)
    # Sorted: platforms register their entities concurrently, in no fixed order.
    for entity in sorted(
        er.async_entries_for_config_entry(registry, entry.entry_id),
        key=lambda entity: entity.entity_id,
    ):
        state = hass.states.get(entity.entity_id)
        entities.append(
            {
                "entity_id": entity.entity_id,
                "unique_id": entity.unique_id,
                "disabled_by": json_safe(entity.disabled_by),
                "entity_category": json_safe(entity.entity_category),
                "state": None
                if state is None
                else {
                    "state": state.state,
                    "attributes": json_safe(dict(state.attributes)),
                    "last_changed": state.last_changed.isoformat(),
                    "last_updated": state.last_updated.isoformat(),
                },
            }
        )
    return entities


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry
) -> dict[str, Any]:
    """Return the redacted diagnostics of a gateway (with a capture when opted in)."""
    runtime = entry.runtime_data
    snapshot = runtime.snapshot
    redactor = Redactor(snapshot_serials(snapshot))
    if entry.unique_id:
        redactor.serial(entry.unique_id)
    # Device names and entity ids carry the end of the gateway's serial.
    redactor.serial(gateway_serial_suffix(snapshot))
    wants_capture = bool(entry.options.get(CONF_CAPTURE_DIAGNOSTICS, False))
    responses = runtime.client.responses()
    if wants_capture:
        # A capture may send requests (a legacy PVS's support commands): not beside a
        # write.
        async with runtime.gate.poll():
            responses = await runtime.client.capture_responses()
    diagnostics: dict[str, object] = {
        "entry": {
            "title": entry.title,
            "data": dict(entry.data),
            "options": dict(entry.options),
        },
        "site": json_safe(asdict(snapshot)),
        "coordinators": _coordinators(runtime),
        "transport": _transport(runtime),
        "responses": {
            path: _response(response) for path, response in sorted(responses.items())
        },
        "entities": _entities(hass, entry),
    }
    if runtime.stream is not None:
        diagnostics["stream"] = runtime.stream.diagnostics()
    result = redactor.data(diagnostics)
    assert isinstance(result, dict)
    if wants_capture:
        result["capture"] = capture_to_json(build_capture(redactor, responses))
    return result
