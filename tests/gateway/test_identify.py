"""Telling what answers at a host, before any credentials are known."""

from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.solar_gateway.gateway.errors import (
    GatewayConnectionError,
    InvalidHostError,
    NotSupportedGatewayError,
)
from custom_components.solar_gateway.gateway.identify import Access, identify
from custom_components.solar_gateway.gateway.site import Brand
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway, SimulatorOptions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


# Let the tests reach servers on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


def answering(status: int) -> web.Application:
    """A web server that answers every GET with ``status``."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text="no")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


@pytest.mark.parametrize(
    ("scenario", "brand", "api", "access", "https"),
    [
        ("envoy/metered_battery", Brand.ENPHASE, "envoy", Access.ENVOY_ACCOUNT, True),
        ("envoy/legacy_production", Brand.ENPHASE, "envoy", Access.ENVOY_LOCAL, False),
        ("pvs/legacy_basic", Brand.SUNPOWER, "pvs_legacy", Access.OPEN, False),
        ("pvs/varserver", Brand.SUNPOWER, "pvs_varserver", Access.PVS_OWNER, False),
    ],
)
async def test_identifies_each_kind(
    session: aiohttp.ClientSession,
    scenario: str,
    brand: Brand,
    api: str,
    access: Access,
    https: bool,
) -> None:
    """Envoy or PVS, which API, and what the user will have to give."""
    async with SimulatedGateway.start(
        FIXTURES / scenario,
        clock=ManualClock(1_750_507_200),
        options=SimulatorOptions(utc_offset_hours=0.0),
    ) as gateway:
        url = gateway.https_url if https else gateway.url
        assert url is not None
        found = await identify(session, url.split("://", 1)[1])
    assert found.identity.brand is brand
    assert found.identity.api == api
    assert found.identity.serial == gateway.identity.serial
    assert found.access is access


async def test_something_else_is_not_supported(session: aiohttp.ClientSession) -> None:
    """A web server that is neither gateway is named as such."""
    async with TestServer(answering(404), host="127.0.0.1") as server:
        with pytest.raises(NotSupportedGatewayError):
            await identify(session, f"127.0.0.1:{server.port}")


async def test_a_pvs_that_hides_its_serial_is_not_supported(
    session: aiohttp.ClientSession,
) -> None:
    """A varserver PVS that answers 403 everywhere cannot be set up by host alone."""
    async with TestServer(answering(403), host="127.0.0.1") as server:
        with pytest.raises(NotSupportedGatewayError, match="serial"):
            await identify(session, f"127.0.0.1:{server.port}")


async def test_nothing_there(session: aiohttp.ClientSession) -> None:
    """A closed port is a connection error; a malformed host is refused unsent."""
    with pytest.raises(GatewayConnectionError):
        await identify(session, "127.0.0.1:9")
    with pytest.raises(InvalidHostError):
        await identify(session, "")
