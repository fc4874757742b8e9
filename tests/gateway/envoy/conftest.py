"""Fixtures of the Envoy client tests."""

from collections.abc import AsyncIterator

import pytest

from .server import FakeEnvoy


@pytest.fixture
async def fake(socket_enabled: None) -> AsyncIterator[FakeEnvoy]:
    """A fake gateway with no folder; tests set ``folder`` or routes."""
    server = FakeEnvoy()
    await server.start()
    yield server
    await server.close()
