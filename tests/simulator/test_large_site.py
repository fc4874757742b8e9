"""A large Envoy site grown from a fixture, seen from dawn; and a firmware update."""

import aiohttp
import pytest

from simulator import SimulatedGateway
from simulator.capture import load_source
from simulator.clock import ManualClock
from simulator.faults import Fault, FaultName, next_firmware
from simulator.large_site import envoy_with_inverters
from tests.conftest import FIXTURES

from .conftest import NOON, OPTIONS

INVERTERS = 300
SUNRISE = NOON - 6 * 3600  # 06:00 at the site: the simulated sun rises


async def test_inverters_wake_one_after_another(
    session: aiohttp.ClientSession,
) -> None:
    """In the dark no inverter reports; from sunrise they wake one after another,
    each with its young lifetime counter, until all 300 report by 07:00."""
    site = envoy_with_inverters(
        load_source(FIXTURES / "envoy/metered_battery"), INVERTERS, dawn=True
    )
    clock = ManualClock(SUNRISE - 15 * 60)
    async with SimulatedGateway.start(site, clock=clock, options=OPTIONS) as gateway:
        assert gateway.https_url is not None
        headers = {"Authorization": f"Bearer {gateway.token}"}

        async def get(path: str) -> object:
            async with session.get(
                f"{gateway.https_url}{path}", headers=headers
            ) as response:
                assert response.status == 200
                return await response.json()

        captured = await get("/api/v1/production/inverters")
        assert isinstance(captured, list)
        assert len(captured) == INVERTERS
        assert {item["lastReportWatts"] for item in captured} == {0}
        device_data = await get("/ivp/pdm/device_data")
        assert isinstance(device_data, dict)
        lifetimes = [
            record["channels"][0]["lifetime"]["joulesProduced"] / 3600
            for record in device_data.values()
            if isinstance(record, dict) and record.get("devName") == "pcu"
        ]
        assert len(lifetimes) == INVERTERS
        assert min(lifetimes) == 0
        assert max(lifetimes) <= 9_000
        woke: dict[str, float] = {}
        while clock.now() < SUNRISE + 3600:
            clock.advance(60)
            inverters = await get("/api/v1/production/inverters")
            assert isinstance(inverters, list)
            for item in inverters:
                if item["lastReportWatts"] > 0:
                    woke.setdefault(item["serialNumber"], clock.now())
    assert len(woke) == INVERTERS
    assert min(woke.values()) > SUNRISE
    # Not all at once: the first and the last are more than ten minutes apart.
    assert max(woke.values()) - min(woke.values()) > 600


@pytest.mark.parametrize(
    ("version", "after"),
    [
        ("D8.2.4286", "D8.2.4287"),
        ("2024.1, Build 61415", "2024.1, Build 61416"),
        ("2025.10.02.61846", "2025.10.02.61847"),
        ("", "1"),
        ("beta", "beta.1"),
    ],
)
def test_next_firmware(version: str, after: str) -> None:
    """A firmware update moves the version's last number on."""
    assert next_firmware(version) == after


async def test_firmware_update_changes_info(
    clock: ManualClock, session: aiohttp.ClientSession
) -> None:
    """After the update /info shows the new version, and the counters restarted."""
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=clock, options=OPTIONS
    ) as gateway:
        gateway.add_fault(Fault(FaultName.FIRMWARE_UPDATE))
        async with session.get(f"{gateway.url}/info") as response:
            body = await response.text()
        assert "<software>D8.2.4287</software>" in body
        assert gateway.identity.firmware == "D8.2.4287"
        assert gateway.state.figures().uptime_s == 0
