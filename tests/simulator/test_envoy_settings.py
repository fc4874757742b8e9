"""The simulated Envoy's generator, AC Battery sleep and production switch."""

from collections.abc import AsyncIterator
import json

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.capture import (
    Capture,
    CapturedResponse,
    read_capture,
)
from simulator import SimulatedGateway
from simulator.clock import ManualClock
from simulator.envoy_settings import GEN_MODE_DELAY_S, PRODUCTION_DELAY_S
from tests.conftest import FIXTURES

from .conftest import OPTIONS

GENERATOR_SITE = FIXTURES / "envoy" / "generator_running"
ACB_SITE = FIXTURES / "envoy" / "acb"
POWER = "/ivp/mod/603980032/mode/power"


def with_batteries() -> Capture:
    """The generator site with the IQ Batteries of the metered battery site."""
    capture = read_capture(GENERATOR_SITE)
    batteries = json.loads(
        read_capture(FIXTURES / "envoy" / "metered_battery")
        .responses["ivp_ensemble_inventory"]
        .body
    )
    inventory = json.loads(capture.responses["ivp_ensemble_inventory"].body)
    for group in inventory:
        if group.get("type") == "ENCHARGE":
            group["devices"] = next(
                g["devices"] for g in batteries if g.get("type") == "ENCHARGE"
            )
    responses = dict(capture.responses)
    responses["ivp_ensemble_inventory"] = CapturedResponse(
        200, {}, json.dumps(inventory).encode()
    )
    return Capture(responses)


class Site:
    """A started simulator and a way to talk to it as owner or installer."""

    def __init__(self, gw: SimulatedGateway, session: aiohttp.ClientSession) -> None:
        self.gw = gw
        self.session = session
        self.owner = {"Authorization": f"Bearer {gw.token}"}
        self.installer = {"Authorization": f"Bearer {gw.issue_token(user='installer')}"}

    async def get(self, path: str, installer: bool = False) -> tuple[int, object]:
        async with self.session.get(
            f"{self.gw.url}{path}", headers=self.installer if installer else self.owner
        ) as response:
            body = await response.read()
            return response.status, json.loads(body) if body else None

    async def send(
        self, method: str, path: str, body: object, installer: bool = False
    ) -> tuple[int, object]:
        async with self.session.request(
            method,
            f"{self.gw.url}{path}",
            json=body,
            headers=self.installer if installer else self.owner,
        ) as response:
            raw = await response.read()
            return response.status, json.loads(raw) if raw else None


@pytest.fixture
async def generator(
    session: aiohttp.ClientSession, clock: ManualClock
) -> AsyncIterator[Site]:
    """The generator site (with IQ Batteries)."""
    async with SimulatedGateway.start(
        GENERATOR_SITE, clock=clock, options=OPTIONS
    ) as gw:
        yield Site(gw, session)


@pytest.fixture
async def acb(
    session: aiohttp.ClientSession, clock: ManualClock
) -> AsyncIterator[Site]:
    """The AC Battery site."""
    async with SimulatedGateway.start(ACB_SITE, clock=clock, options=OPTIONS) as gw:
        yield Site(gw, session)


async def test_generator_mode_applies_after_seconds(
    generator: Site, clock: ManualClock
) -> None:
    """A new mode is read back only once the system controller has applied it."""
    assert await generator.get("/ivp/ss/gen_mode") == (
        200,
        {"gen_cmd": "on", "last_updated_by": "ITK"},
    )
    status, _ = await generator.send("POST", "/ivp/ss/gen_mode", {"gen_cmd": "Auto"})
    assert status == 200
    _, now = await generator.get("/ivp/ss/gen_mode")
    assert isinstance(now, dict)
    assert now["gen_cmd"] == "on"
    clock.advance(GEN_MODE_DELAY_S)
    _, later = await generator.get("/ivp/ss/gen_mode")
    assert isinstance(later, dict)
    assert later["gen_cmd"] == "auto"


async def test_generator_mode_refuses_unknown(generator: Site) -> None:
    """Only off, on and auto are modes."""
    status, body = await generator.send("POST", "/ivp/ss/gen_mode", {"gen_cmd": "run"})
    assert status == 400
    assert isinstance(body, dict)
    assert "gen_cmd" in str(body["error"])


async def test_generator_schedule_takes_changed_keys(generator: Site) -> None:
    """A POST with some keys changes those and keeps everything else."""
    _, before = await generator.get("/ivp/ss/gen_schedule")
    status, _ = await generator.send(
        "POST",
        "/ivp/ss/gen_schedule",
        {"exercise_day": "Fri", "default_stop_soc": 80},
    )
    assert status == 200
    _, after = await generator.get("/ivp/ss/gen_schedule")
    assert isinstance(before, dict)
    assert isinstance(after, dict)
    assert after["exercise_config"] == {**before["exercise_config"], "day": "Fri"}
    assert after["default_soc"] == {"start_soc": 30, "stop_soc": 80}
    assert after["schedule"] == before["schedule"]


@pytest.mark.parametrize(
    "body",
    [{}, {"freq_in_weeks": 2}, {"exercise_day": "Friday"}, {"exercise_start": "x"}],
)
async def test_generator_schedule_refuses_bad_keys(
    generator: Site, body: object
) -> None:
    """Unknown keys, days and non-numbers answer 400 and change nothing."""
    _, before = await generator.get("/ivp/ss/gen_schedule")
    status, _ = await generator.send("POST", "/ivp/ss/gen_schedule", body)
    assert status == 400
    assert await generator.get("/ivp/ss/gen_schedule") == (200, before)


async def test_charge_from_generator_stays_on_without_batteries(
    generator: Site,
) -> None:
    """Without Enphase batteries the gateway answers 200 and keeps it on."""
    _, config = await generator.get("/ivp/ss/gen_config")
    assert isinstance(config, dict)
    assert config["charge_from_generator"] is True
    status, _ = await generator.send(
        "POST", "/ivp/ss/gen_config", {**config, "charge_from_generator": False}
    )
    assert status == 200
    assert await generator.get("/ivp/ss/gen_config") == (200, config)


async def test_charge_from_generator_with_batteries(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """With IQ Batteries the whole configuration is stored as sent."""
    async with SimulatedGateway.start(
        with_batteries(), clock=clock, options=OPTIONS
    ) as gw:
        site = Site(gw, session)
        _, config = await site.get("/ivp/ss/gen_config")
        assert isinstance(config, dict)
        status, _ = await site.send(
            "POST", "/ivp/ss/gen_config", {**config, "charge_from_generator": False}
        )
        assert status == 200
        _, after = await site.get("/ivp/ss/gen_config")
        assert after == {**config, "charge_from_generator": False}


async def test_generator_config_refuses_partial_body(generator: Site) -> None:
    """The configuration is written whole: a partial body answers 400."""
    status, body = await generator.send(
        "POST", "/ivp/ss/gen_config", {"charge_from_generator": False}
    )
    assert status == 400
    assert isinstance(body, dict)
    assert "missing" in str(body["error"])


async def test_acb_sleep_and_wake_show_in_inventory(acb: Site) -> None:
    """Sleep sets the band and the flag in the inventory; wake clears the flag."""
    serial = "121638000001"
    status, echoed = await acb.send(
        "PUT",
        "/admin/lib/acb_config",
        {
            "acb_sleep": [
                {"serial_num": serial, "sleep_min_soc": 10, "sleep_max_soc": 95}
            ]
        },
    )
    assert status == 200
    assert echoed == {
        "acb_sleep": [{"serial_num": serial, "sleep_min_soc": 10, "sleep_max_soc": 95}]
    }
    device = await _acb_device(acb, serial)
    assert (
        device["sleep_enabled"],
        device["sleep_min_soc"],
        device["sleep_max_soc"],
    ) == (
        True,
        10,
        95,
    )
    status, answer = await acb.send(
        "DELETE", "/admin/lib/acb_config", {"acb_sleep": [{"serial_num": serial}]}
    )
    assert (status, answer) == (200, {"message": "success"})
    device = await _acb_device(acb, serial)
    assert device["sleep_enabled"] is False
    flags = device["device_status"]
    assert isinstance(flags, list)
    assert "envoy.cond_flags.pcu_ctrl.sleep-mode" not in flags


@pytest.mark.parametrize(
    "entry",
    [
        {"serial_num": "999", "sleep_min_soc": 10, "sleep_max_soc": 20},
        {"serial_num": "121638000001", "sleep_min_soc": 30, "sleep_max_soc": 20},
        {"serial_num": "121638000001", "sleep_min_soc": 10, "sleep_max_soc": 101},
    ],
)
async def test_acb_sleep_refuses_bad_serial_or_soc(
    acb: Site, entry: dict[str, object]
) -> None:
    """A bad serial or SOC answers 400."""
    status, _ = await acb.send("PUT", "/admin/lib/acb_config", {"acb_sleep": [entry]})
    assert status == 400


async def test_production_record_needs_installer(generator: Site) -> None:
    """Owner tokens are refused the production record, read or write."""
    assert (await generator.get(POWER))[0] == 401
    status, _ = await generator.send("PUT", POWER, {"length": 1, "arr": [1]})
    assert status == 401
    assert await generator.get(POWER, installer=True) == (
        200,
        {
            "powerForcedOff": False,
            "pvPowerForcedOff": False,
            "enchargePowerForcedOff": False,
        },
    )


async def test_production_off_applies_minutes_later(
    generator: Site, clock: ManualClock
) -> None:
    """The record changes at once; the inverters stop producing minutes later."""
    before = generator.gw.figures().solar_w
    assert before > 100
    status, _ = await generator.send(
        "PUT", POWER, {"length": 1, "arr": [1]}, installer=True
    )
    assert status == 200
    _, record = await generator.get(POWER, installer=True)
    assert isinstance(record, dict)
    assert record["powerForcedOff"] is True
    clock.advance(PRODUCTION_DELAY_S - 60)
    assert generator.gw.figures().solar_w > 100
    clock.advance(60)
    assert generator.gw.figures().solar_w == 0
    await generator.send("PUT", POWER, {"length": 1, "arr": [0]}, installer=True)
    clock.advance(PRODUCTION_DELAY_S)
    assert generator.gw.figures().solar_w > 100


async def test_production_refuses_bad_body(generator: Site) -> None:
    """Only ``{"length": 1, "arr": [0 | 1]}`` is a production write."""
    status, _ = await generator.send(
        "PUT", POWER, {"length": 1, "arr": [2]}, installer=True
    )
    assert status == 400


async def _acb_device(site: Site, serial: str) -> dict[str, object]:
    _, inventory = await site.get("/inventory.json?deleted=1")
    assert isinstance(inventory, list)
    for group in inventory:
        for device in group["devices"]:
            if device["serial_num"] == serial:
                return dict(device)
    raise AssertionError(serial)
