"""Shared helpers of the Envoy unit tests."""

from pathlib import Path
from typing import Any

import aiohttp

from custom_components.solar_gateway.gateway.envoy import EnvoyClient
from simulator.server import SimulatedGateway
from tests.conftest import FIXTURES

ENVOY_FIXTURES: Path = FIXTURES / "envoy"


def envoy_client(
    session: aiohttp.ClientSession, gw: SimulatedGateway, **kwargs: Any
) -> EnvoyClient:
    """A client of a simulated Envoy, given its address as a user types it, with a
    token it issued (firmware 7+) and its clock; ``kwargs`` override."""
    options: dict[str, Any] = {"token": gw.token, "clock": gw.clock.now}
    return EnvoyClient(session, address(gw), **(options | kwargs))


def address(gw: SimulatedGateway) -> str:
    """``host:port`` of a simulated gateway, without a scheme."""
    return gw.url.removeprefix("http://")
