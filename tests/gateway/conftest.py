"""Fixtures of the protocol layer's tests: the project's simulator on 127.0.0.1."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from custom_components.solar_gateway.gateway.capture import Capture
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway, SimulatorOptions
from tests.conftest import FIXTURES

# 2027-01-15 08:00 UTC: the gateway's clock, and the clients' where time matters.
NOW = 1_800_000_000.0

type Simulate = Callable[..., Awaitable[SimulatedGateway]]


@pytest.fixture
def clock() -> ManualClock:
    """The simulated gateways' clock: it moves only when a test says so."""
    return ManualClock(NOW)


@pytest.fixture
async def simulate(socket_enabled: None, clock: ManualClock) -> AsyncIterator[Simulate]:
    """Start simulated gateways from fixture scenarios (``"envoy/acb"``), a folder or
    a capture.

    They serve their capture unchanged, over plain HTTP, unless ``frozen=False``;
    other keywords are ``SimulatorOptions``.
    """
    async with AsyncExitStack() as stack:

        async def start(
            scenario: str | Path | Capture, *, frozen: bool = True, **options: Any
        ) -> SimulatedGateway:
            source = FIXTURES / scenario if isinstance(scenario, str) else scenario
            return await stack.enter_async_context(
                SimulatedGateway.start(
                    source,
                    https_port=None,
                    stream_port=None,
                    clock=clock,
                    options=SimulatorOptions(
                        utc_offset_hours=0.0, frozen=frozen, **options
                    ),
                )
            )

        yield start
