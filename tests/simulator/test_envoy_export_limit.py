"""The simulated Envoy's export limit (``/ivp/ss/dpel``): installer only, curtails."""

from collections.abc import AsyncIterator
import json

import aiohttp
import pytest

from simulator import SimulatedGateway
from simulator.clock import ManualClock
from simulator.envoy_settings import EXPORT_LIMIT_DELAY_S

from .conftest import OPTIONS
from .test_envoy_settings import GENERATOR_SITE, Site

DPEL = "/ivp/ss/dpel"
CAPTURED = json.loads((GENERATOR_SITE / "ivp_ss_dpel").read_text())


def limit_body(watts: float, *, on_export: bool = True) -> dict[str, object]:
    """The whole setting, as the documented POST has it."""
    return {
        "dynamic_pel_settings": {
            "enable": True,
            "export_limit": on_export,
            "limit_value_W": watts,
            "slew_rate": 50.0,
            "enable_dynamic_limiting": False,
        },
        "filename": "site_settings",
        "version": "00.00.01",
    }


OFF = {
    "dynamic_pel_settings": {"enable": False},
    "filename": "site_settings",
    "version": "00.00.01",
}


@pytest.fixture
async def site(
    session: aiohttp.ClientSession, clock: ManualClock
) -> AsyncIterator[Site]:
    """The generator site at noon: the sun is up and the site exports."""
    async with SimulatedGateway.start(
        GENERATOR_SITE, clock=clock, options=OPTIONS
    ) as gw:
        yield Site(gw, session)


async def test_owner_tokens_are_refused(site: Site) -> None:
    """An owner token may neither read nor set the limit; an installer's reads it."""
    assert (await site.get(DPEL))[0] == 401
    assert (await site.send("POST", DPEL, limit_body(0)))[0] == 401
    assert await site.get(DPEL, installer=True) == (200, CAPTURED)
    assert site.gw.figures().grid_w < 0  # nothing changed: still exporting


async def test_export_limit_curtails_export_seconds_later(
    site: Site, clock: ManualClock
) -> None:
    """Limited to 0 W: read back at once, the export stops within seconds, the house
    keeps its solar; off again: the export returns."""
    before = site.gw.figures()
    assert before.grid_w < -100  # exporting
    status, _ = await site.send("POST", DPEL, limit_body(0), installer=True)
    assert status == 200
    _, document = await site.get(DPEL, installer=True)
    assert document == {**CAPTURED, **limit_body(0.0)}
    assert site.gw.figures().grid_w < -100  # the inverters have not followed yet
    clock.advance(EXPORT_LIMIT_DELAY_S)
    limited = site.gw.figures()
    assert limited.grid_w == pytest.approx(0.0, abs=1e-6)
    assert limited.solar_w > 0  # the house still runs on its solar
    assert limited.solar_w == pytest.approx(limited.load_w - limited.battery_w)
    status, _ = await site.send("POST", DPEL, OFF, installer=True)
    assert status == 200
    assert await site.get(DPEL, installer=True) == (200, {**CAPTURED, **OFF})
    clock.advance(EXPORT_LIMIT_DELAY_S)
    assert site.gw.figures().grid_w < -100


async def test_export_limit_of_some_watts(site: Site, clock: ManualClock) -> None:
    """A limit above 0 W lets that much out, no more."""
    await site.send("POST", DPEL, limit_body(150), installer=True)
    clock.advance(EXPORT_LIMIT_DELAY_S)
    assert site.gw.figures().grid_w == pytest.approx(-150.0, abs=1e-6)


async def test_production_limit_caps_solar(site: Site, clock: ManualClock) -> None:
    """``export_limit: false`` caps production itself."""
    await site.send("POST", DPEL, limit_body(200, on_export=False), installer=True)
    clock.advance(EXPORT_LIMIT_DELAY_S)
    assert site.gw.figures().solar_w == pytest.approx(200.0)


@pytest.mark.parametrize(
    "body",
    [
        {"dynamic_pel_settings": {"enable": "yes"}, "filename": "site_settings"},
        {"dynamic_pel_settings": {"enable": False}},
        limit_body(-5),
        {**limit_body(0), "dynamic_pel_settings": {"enable": True}},
        {
            **limit_body(0),
            "dynamic_pel_settings": {
                "enable": True,
                "export_limit": True,
                "limit_value_W": 0,
                "slew_rate": 0,
            },
        },
        [],
    ],
    ids=[
        "enable-not-bool",
        "no-filename",
        "negative",
        "no-limit",
        "no-slew-rate",
        "not-an-object",
    ],
)
async def test_bad_settings_are_rejected(site: Site, body: object) -> None:
    """Anything but a whole setting answers 400 and changes nothing."""
    status, answer = await site.send("POST", DPEL, body, installer=True)
    assert status == 400
    assert isinstance(answer, dict)
    assert "error" in answer
    assert await site.get(DPEL, installer=True) == (200, CAPTURED)


async def test_a_captured_limit_is_in_force_from_the_start(
    session: aiohttp.ClientSession,
    clock: ManualClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A site captured with its export limited to 0 W starts limited."""
    folder = tmp_path_factory.mktemp("limited")
    for file in GENERATOR_SITE.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    (folder / "ivp_ss_dpel").write_text(json.dumps(limit_body(0)))
    async with SimulatedGateway.start(folder, clock=clock, options=OPTIONS) as gw:
        assert gw.figures().grid_w == pytest.approx(0.0, abs=1e-6)
