"""Redaction of what a gateway says, for diagnostics and for logs.

Secrets (tokens, passwords, Wi-Fi keys, addresses) become ``**REDACTED**``; serial
numbers become ``**REDACTED_<n>**``, the same number for the same serial wherever it
appears, so devices stay distinguishable and a redacted capture still replays.
Plain code: the protocol layer redacts the answers it logs at DEBUG with it, and
the diagnostics download redacts everything with it.
"""

from collections.abc import Iterable, Mapping
import json
import re

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


# In a body that is not JSON (cut short, say) redaction goes by its fragments: a
# ``"key": "value"`` pair (the last one may have lost its closing quote; a broken
# body may quote with ') or an XML element ``<key>value``.
_JSON_PAIR = re.compile(
    r"""["'](?P<key>[^"'\\]{1,100})["']\s*:\s*["'](?P<value>[^"'\\]*)"""
)
_XML_ELEMENT = re.compile(r"<(?P<key>[\w.-]{1,100})>(?P<value>[^<]*)")


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
        """Return a raw answer body as redacted text, JSON kept as JSON.

        A body that is not JSON (an HTML page, XML, JSON cut short) is redacted as
        text, and the values of its key-value fragments by their keys, as in JSON.
        """
        parsed = json_body(body)
        if parsed is not None:
            return json.dumps(self.data(parsed))
        text = body.decode("utf-8", errors="replace")
        text = _JSON_PAIR.sub(self._fragment, text)
        text = _XML_ELEMENT.sub(self._fragment, text)
        return self.text(text)

    def _fragment(self, match: re.Match[str]) -> str:
        """A key-value fragment with its value redacted by its key's name."""
        name, value = _key_name(match.group("key")), match.group("value")
        if _is_secret_key(name) and value.strip():
            replaced = REDACTED
        elif _is_serial_key(name) and value.strip():
            replaced = self.serial(value)
        else:
            return match.group()
        start, end = match.span("value")
        offset = match.start()
        whole = match.group()
        return whole[: start - offset] + replaced + whole[end - offset :]

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


def json_body(body: bytes) -> object | None:
    """The body parsed as a JSON object or array, or None when it is not one."""
    try:
        parsed: object = json.loads(body)
    except ValueError, UnicodeDecodeError:
        return None
    return parsed if isinstance(parsed, dict | list) else None
