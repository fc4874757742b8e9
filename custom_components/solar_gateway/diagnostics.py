"""Diagnostics: the parsed site, the gateway's raw answers and the entities' states.

Everything that identifies the owner or the hardware is redacted (``gateway.redaction``):
secrets become ``**REDACTED**``, serial numbers ``**REDACTED_<n>**``, the same number
for the same serial throughout the download, so devices stay distinguishable and a
capture taken with the option on still replays.
"""

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .const import CONF_CAPTURE_DIAGNOSTICS
from .coordinator import SolarGatewayConfigEntry, SolarGatewayData
from .devices import gateway_serial_suffix
from .gateway.capture import Capture, CapturedResponse, capture_to_json, name_for_path
from .gateway.client import Response
from .gateway.redaction import Redactor, json_body
from .gateway.site import SiteSnapshot

# Response headers worth keeping in a capture; the others are either volatile
# (dates, lengths that redaction changes) or secret (cookies).
CAPTURE_HEADERS = frozenset({"content-type"})


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
    parsed = json_body(response.body)
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
        # Controls this gateway could offer and does not, and why (an owner token...).
        "absent_controls": dict(runtime.client.absent_controls),
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
