"""Value conversions shared by the PVS parsers.

The PVS sends every number as a string (``"0.1813"``, ``"nan"``, ``""``) and its
timestamps as ``YYYY,MM,DD,hh,mm,ss`` (legacy) or ISO 8601 (varserver), both UTC.
These helpers are on the hot path of a 200-inverter DeviceList, so they try the
common case first and fall back to ``None`` for anything odd.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
import json
import re

from custom_components.solar_gateway.gateway.errors import (
    UnexpectedPayloadError,
    invalid_json,
)
from custom_components.solar_gateway.gateway.values import as_float, as_str

# The PVS refreshes DeviceList data on 5-minute boundaries (DATATIME).
DATA_INTERVAL = timedelta(minutes=5)

_RESULT_WORD = re.compile(r"[A-Za-z ]{1,30}")
_BUILD_RE = re.compile(r"build\s*(\d{1,9})(?!\d)", re.IGNORECASE)
# Longer than any version string; anything longer is not one (and is not scanned).
_MAX_VERSION_TEXT = 100


def num(value: object) -> float | None:
    """Return a finite float from a PVS value, or None ("nan", "", junk, missing)."""
    if value.__class__ is str:
        try:
            result = float(value)
        except ValueError:
            return None
        # x - x is 0.0 only for finite x (nan and inf give nan): no call needed.
        return result if result - result == 0.0 else None
    return as_float(value)


def text(value: object) -> str | None:
    """Return a non-empty string (``"nan"`` and blanks are absent)."""
    if value.__class__ is str:
        stripped = value.strip()
        if stripped and stripped != "nan" and stripped.lower() != "nan":
            return stripped
        return None
    return as_str(value)


def flag(value: object) -> bool | None:
    """Return a PVS 0/1 flag as a bool."""
    number = num(value)
    if number is None or number not in (0.0, 1.0):
        return None
    return number == 1.0


def legacy_time(value: object) -> datetime | None:
    """Parse a legacy ``YYYY,MM,DD,hh,mm,ss`` UTC timestamp."""
    if not isinstance(value, str):
        return None
    return _legacy_time(value)


@lru_cache(maxsize=512)
def _legacy_time(value: str) -> datetime | None:
    # Cached: a DeviceList repeats the same few DATATIME/CURTIME values.
    parts = value.split(",")
    if len(parts) != 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in parts)
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def iso_time(value: object) -> datetime | None:
    """Parse a varserver ISO 8601 timestamp such as ``2025-09-30T15:50:00Z``."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def epoch_time(value: object) -> datetime | None:
    """Parse Unix seconds (``/sys/livedata/time``)."""
    seconds = num(value)
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except OverflowError, OSError, ValueError:
        return None


def parse_build(*candidates: object) -> int | None:
    """Find a firmware build number in ``BUILD``, ``SWVER`` or ``sw_rev`` forms.

    ``61840``, ``"61840"``, ``"2025.06, Build 61840"`` and ``"2025.09.04.61845"`` all
    give 61840 or 61845.
    """
    for candidate in candidates:
        if isinstance(candidate, int) and not isinstance(candidate, bool):
            return candidate if candidate > 0 else None
        if not isinstance(candidate, str):
            continue
        stripped = candidate.strip()
        if len(stripped) > _MAX_VERSION_TEXT:
            continue
        if stripped.isascii() and stripped.isdigit():
            return int(stripped)
        if match := _BUILD_RE.search(stripped):
            return int(match.group(1))
        if (trailing := _trailing_number(stripped.replace(".", " "))) is not None:
            return trailing
    return None


def _trailing_number(text: str) -> int | None:
    """The number of 4+ digits that ends ``text``, if one does."""
    text = text.rstrip()
    digits = len(text) - len(text.rstrip("0123456789"))
    return int(text[-digits:]) if digits >= 4 else None


def load_json_object(body: bytes | str, what: str) -> Mapping[str, object]:
    """Decode a JSON object or raise ``UnexpectedPayloadError`` (HTML, truncated...)."""
    try:
        decoded = json.loads(body)
    except ValueError as err:  # UnicodeDecodeError included
        raise invalid_json(what, body, err) from err
    if not isinstance(decoded, Mapping):
        raise UnexpectedPayloadError(
            f"{what} is not a JSON object but {type(decoded).__name__}"
        )
    return decoded


def check_result(payload: Mapping[str, object], what: str) -> None:
    """Raise when a dl_cgi answer carries a ``result`` other than success."""
    if "result" not in payload:
        return
    result = payload["result"]
    if isinstance(result, str) and result.strip().lower() in {"succeed", "success"}:
        return
    # A result word says what went wrong; anything else is not quoted (see errors).
    if isinstance(result, str) and _RESULT_WORD.fullmatch(result.strip()):
        raise UnexpectedPayloadError(f"{what} answered result {result.strip()!r}")
    raise UnexpectedPayloadError(f"{what} answered an unknown result")
