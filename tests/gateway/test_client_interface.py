"""What every gateway client offers the layers above, on a simulated Envoy."""

from pathlib import Path

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy.client import EnvoyClient
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway, SimulatorOptions

FIXTURE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "envoy" / "metered_battery"
)


# Let the tests reach the simulator on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_responses_and_cadence() -> None:
    """The last answers are kept for captures; a continuous gateway has no cadence."""
    async with (
        SimulatedGateway.start(
            FIXTURE,
            clock=ManualClock(1_750_507_200),
            options=SimulatorOptions(utc_offset_hours=0.0),
        ) as gateway,
        aiohttp.ClientSession() as session,
    ):
        assert gateway.https_url is not None
        client = EnvoyClient(
            session,
            gateway.https_url.removeprefix("https://"),
            token=gateway.issue_token(lifetime=100 * 365 * 86400),
        )
        await client.setup()
        snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    responses = client.responses()
    assert responses["/ivp/meters/readings"].status == 200
    assert responses["/ivp/meters/readings"].json()
    assert client.next_data_due(DataGroup.LIVE, snapshot) is None
