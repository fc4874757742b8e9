"""Fixtures of the PVS client tests."""

from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from .pvs_server import FIXTURES, FakePvs

type FakeFactory = Callable[..., Coroutine[Any, Any, FakePvs]]


@pytest.fixture
async def make_fake(socket_enabled: None) -> AsyncIterator[FakeFactory]:
    """Start fake PVSs serving a fixture scenario (or nothing)."""
    started: list[FakePvs] = []

    async def make(scenario: str | None = None, **kwargs: Any) -> FakePvs:
        folder: Path | None = FIXTURES / scenario if scenario else None
        fake = FakePvs(folder, **kwargs)
        await fake.start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        await fake.close()
