"""Fixtures for the simulator tests: a manual clock and a client session."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from simulator.clock import ManualClock
from simulator.server import SimulatorOptions

# A June noon at the site (UTC offset 0 in the options below).
NOON = datetime(2025, 6, 21, 12, 0, tzinfo=UTC).timestamp()
OPTIONS = SimulatorOptions(utc_offset_hours=0.0)


@pytest.fixture
def clock() -> ManualClock:
    """A clock at noon that only moves when the test says so."""
    return ManualClock(NOON)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session that accepts the simulator's self-signed certificates."""
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=False),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    ) as client:
        yield client


@pytest.fixture(autouse=True)
def sockets(socket_enabled: None) -> None:
    """Let the simulator bind and be reached on 127.0.0.1."""
