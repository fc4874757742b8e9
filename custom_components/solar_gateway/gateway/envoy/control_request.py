"""One write to the Envoy: method, path and JSON body."""

from dataclasses import dataclass

from custom_components.solar_gateway.gateway.values import JsonObject


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """One write: method, path and JSON body."""

    method: str
    path: str
    body: JsonObject
