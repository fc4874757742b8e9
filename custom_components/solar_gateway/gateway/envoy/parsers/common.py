"""Helpers shared by the Envoy parsers: fast defensive conversions, root checks."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
import math

from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from custom_components.solar_gateway.gateway.values import (
    JsonObject,
    as_float,
    as_timestamp,
    objects,
)

_FINITE = math.isfinite
_MAX_TIMESTAMP = 253402300799  # 9999-12-31, the last datetime can hold


def num(value: object, scale: float = 1.0) -> float | None:
    """Return a finite float (times ``scale``) or None; fast path for JSON numbers."""
    kind = type(value)
    if kind is float:
        return value * scale if _FINITE(value) else None  # type: ignore[operator,arg-type]
    if kind is int:
        return value * scale  # type: ignore[operator]
    return as_float(value, scale)


def timestamp(value: object) -> datetime | None:
    """Return a UTC datetime from Unix seconds, None for 0 or junk."""
    if type(value) is int and 0 < value < _MAX_TIMESTAMP:
        return datetime.fromtimestamp(value, UTC)
    return as_timestamp(value)


# Keys of the document a gateway answers instead of data, with status 200 on some
# firmware: ``{"error": "404 - Not Found"}``, ``{"err": "404 - Not Found"}``.
_ERROR_KEYS = frozenset({"error", "err"})
_MAX_ERROR_WORDS = 80


def root_object(payload: object, what: str) -> JsonObject:
    """Return ``payload`` when it is a JSON object of data, else raise (an error
    document is no data: the endpoint is absent, whatever the status said)."""
    if isinstance(payload, Mapping):
        if payload and payload.keys() <= _ERROR_KEYS:
            error = next(iter(payload.values()))
            # The gateway's short word on it is named; anything else in its place
            # is not quoted (an error message reaches the log; see ``errors``).
            if not isinstance(error, str) or len(error) > _MAX_ERROR_WORDS:
                error = "an error document"
            raise UnexpectedPayloadError(f"{what}: {error}")
        return payload
    raise UnexpectedPayloadError(
        f"{what}: expected a JSON object, got {_kind(payload)}"
    )


def root_list(payload: object, what: str) -> list[object]:
    """Return ``payload`` when it is a JSON array, else raise."""
    if isinstance(payload, list):
        return payload
    raise UnexpectedPayloadError(f"{what}: expected a JSON array, got {_kind(payload)}")


def keyed[K, T](
    items: object,
    key: str,
    read_key: Callable[[object], K | None],
    build: Callable[[JsonObject, K], T],
) -> tuple[T, ...]:
    """Build a model from each JSON object of ``items`` that carries a usable ``key``.

    Entries that are not objects, or whose key is missing or junk, are skipped: one
    odd device must not hide the others.
    """
    models: list[T] = []
    for item in objects(items):
        identifier = read_key(item.get(key))
        if identifier is not None:
            models.append(build(item, identifier))
    return tuple(models)


def _kind(payload: object) -> str:
    return "null" if payload is None else type(payload).__name__
