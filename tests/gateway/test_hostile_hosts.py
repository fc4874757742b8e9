"""Identifying a hostile host: bounded time and memory, a typed error, no traceback.

Zeroconf runs the same probe for anything that announces itself, so none of these
may freeze Home Assistant or fill its memory.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import zlib

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.solar_gateway.gateway.envoy.parsers.info import parse_info
from custom_components.solar_gateway.gateway.errors import (
    GatewayTimeoutError,
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.identify import (
    PROBE_DEADLINE,
    PROBE_MAX_BODY,
    identify,
)
from custom_components.solar_gateway.gateway.transport import Transport

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

BOMB_SIZE = 200 * 1024 * 1024


@pytest.fixture(autouse=True)
def sockets(socket_enabled: None) -> None:
    """Let the tests reach servers on 127.0.0.1."""


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session like Home Assistant's for gateways."""
    async with aiohttp.ClientSession() as client:
        yield client


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """Serve ``handler`` for every path; yield ``127.0.0.1:port``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    async with TestServer(app, host="127.0.0.1") as server:
        yield f"127.0.0.1:{server.port}"


def gzip_bomb() -> bytes:
    """200 MB of zeros, gzip-compressed to a few hundred kilobytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(BOMB_SIZE // len(block))]
    return b"".join([*parts, packer.flush()])


def test_crafted_info_parses_in_linear_time() -> None:
    """Tags padded with spaces and never closed: the old backtracking parse spent
    8.7 s on 3,000 spaces; this document has a hundred times more."""
    padding = " " * 300_000
    crafted = f"<envoy_info><device><sn>{padding}<sn>{padding}<pn>{padding}"
    with pytest.raises(NotSupportedGatewayError, match="serial"):
        parse_info(crafted)
    opened = "<envoy_info>" + "<device>" * 100_000
    with pytest.raises(NotSupportedGatewayError, match="serial"):
        parse_info(opened)


def test_the_probe_deadline_is_short() -> None:
    """A setup dialog waits at most 15 s for an answer, whatever the host does."""
    assert PROBE_DEADLINE <= 15.0


async def test_ten_megabyte_body(session: aiohttp.ClientSession) -> None:
    """A 10 MB answer is refused past the cap, not read into memory."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"<envoy_info>" + b"x" * 10_000_000)

    async with serving(handler) as host:
        with pytest.raises(NotSupportedGatewayError, match="more than"):
            await identify(session, host)


async def test_gzip_bomb(session: aiohttp.ClientSession) -> None:
    """200 MB packed into a small gzip answer: unpacking stops at the cap."""
    bomb = gzip_bomb()

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=bomb,
            headers={"Content-Encoding": "gzip", "Content-Type": "text/xml"},
        )

    async with serving(handler) as host:
        with pytest.raises(NotSupportedGatewayError, match="unpacks to more than"):
            await identify(session, host)


async def test_compressed_answers_are_read(session: aiohttp.ClientSession) -> None:
    """An honest gzip or deflate answer is decoded like any other."""
    document = b"<envoy_info><device><sn>122233344455</sn></device></envoy_info>"
    encodings = {
        "gzip": zlib.compress(document, wbits=16 + zlib.MAX_WBITS),
        "deflate": zlib.compress(document),
    }
    for encoding, body in encodings.items():

        async def handler(
            request: web.Request, body: bytes = body, encoding: str = encoding
        ) -> web.Response:
            return web.Response(body=body, headers={"Content-Encoding": encoding})

        async with serving(handler) as host:
            found = await identify(session, host)
        assert found.identity.serial == "122233344455"


async def test_unknown_or_broken_encoding(session: aiohttp.ClientSession) -> None:
    """An encoding we did not ask for, or gzip that is not gzip: not a gateway."""
    for encoding, body in (("br", b"\x0b\x02\x80"), ("gzip", b"not gzip at all")):

        async def handler(
            request: web.Request, body: bytes = body, encoding: str = encoding
        ) -> web.Response:
            return web.Response(body=body, headers={"Content-Encoding": encoding})

        async with serving(handler) as host:
            with pytest.raises(NotSupportedGatewayError):
                await identify(session, host)


async def test_redirect_loop(session: aiohttp.ClientSession) -> None:
    """Redirects are not followed: a host that redirects to itself is not a gateway."""

    async def handler(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.path)

    async with serving(handler) as host:
        with pytest.raises(NotSupportedGatewayError):
            await identify(session, host)


async def test_slow_drip(session: aiohttp.ClientSession) -> None:
    """One byte at a time never ends a read timeout; the probe's deadline ends it."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        while True:
            await response.write(b" ")
            await asyncio.sleep(0.01)

    async with serving(handler) as host:
        with pytest.raises(GatewayTimeoutError, match="within"):
            await identify(session, host, deadline=0.5)


async def test_black_hole(session: aiohttp.ClientSession) -> None:
    """A host that accepts the connection and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        held.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(GatewayTimeoutError):
            await identify(session, f"127.0.0.1:{port}", deadline=0.5)
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_binary_garbage(session: aiohttp.ClientSession) -> None:
    """Bytes that are neither XML nor JSON nor text."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=bytes(range(256)) * 64)

    async with serving(handler) as host:
        with pytest.raises(NotSupportedGatewayError):
            await identify(session, host)


async def test_transport_cap_applies_to_every_request(
    session: aiohttp.ClientSession,
) -> None:
    """Polling has its cap too (larger than the probe's)."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"{" + b" " * (PROBE_MAX_BODY + 1))

    async with serving(handler) as host:
        transport = Transport(session, f"http://{host}", max_body=PROBE_MAX_BODY)
        with pytest.raises(UnexpectedPayloadError, match="more than"):
            await transport.get("/x")
