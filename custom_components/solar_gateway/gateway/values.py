"""Defensive conversion of gateway values.

Gateways send numbers as numbers, as strings, as ``"nan"``, as ``""`` or as ``null``.
Every parser goes through these helpers so that an odd value ends as ``None`` (absent)
instead of an exception deep inside an entity.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
import math

type JsonObject = Mapping[str, object]


def as_float(value: object, scale: float = 1.0) -> float | None:
    """Return ``value`` as a finite float times ``scale``, or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            result = float(text)
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(result):
        return None
    return result * scale


def as_int(value: object) -> int | None:
    """Return ``value`` as an int when it holds a whole number, else None."""
    number = as_float(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def as_str(value: object) -> str | None:
    """Return a non-empty, stripped string, or None."""
    if isinstance(value, str):
        text = value.strip()
        if text and text.lower() != "nan":
            return text
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def as_bool(value: object) -> bool | None:
    """Return a bool from JSON booleans, 0/1 and the usual words, else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"1", "true", "yes", "on", "enabled"}:
            return True
        if text in {"0", "false", "no", "off", "disabled"}:
            return False
    return None


def as_timestamp(value: object) -> datetime | None:
    """Return a UTC datetime from a Unix timestamp in seconds (0 means absent)."""
    seconds = as_float(value)
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except OverflowError, OSError, ValueError:
        return None


def as_object(value: object) -> JsonObject | None:
    """Return ``value`` when it is a JSON object, else None."""
    if isinstance(value, Mapping):
        return value
    return None


def as_list(value: object) -> list[object]:
    """Return ``value`` when it is a JSON array, else an empty list."""
    if isinstance(value, list):
        return value
    return []


def objects(value: object) -> list[JsonObject]:
    """Return the JSON objects in an array, skipping anything else."""
    return [item for item in as_list(value) if isinstance(item, Mapping)]
