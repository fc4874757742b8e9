"""A simulated PVS answers first with its capture, then lives on from the captured state.

Over every PVS capture (the corpus when present, and every project fixture): the
first DeviceList or ``/vars`` answer parses to the same model as the raw file, and
later answers keep what the capture says about each device (an inverter in error,
the SunVault's charge, every serial).
"""

from dataclasses import replace
import json
import math
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.capture import read_capture
from custom_components.solar_gateway.gateway.pvs.parsers.legacy import (
    parse_device_list,
    parse_ess_status,
)
from custom_components.solar_gateway.gateway.pvs.parsers.varserver import parse_vars
from simulator import SimulatedGateway
from simulator.clock import ManualClock
from simulator.kinds import DEVICE_LIST_NAMES, GatewayKind, varserver_variables

from .conftest import OPTIONS
from .test_envoy import corpus_sets, fixture_sets
from .test_pvs import basic

PVS_SETS = corpus_sets("pvs") + fixture_sets("pvs")
DEVICE_LIST = "/cgi-bin/dl_cgi?Command=DeviceList"
ESS_STATUS = "/cgi-bin/dl_cgi/energy-storage-system/status"


def _number(text: object) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except TypeError, ValueError:
        return None
    return None if math.isnan(value) else value


def _flat(variables: dict[str, Any]) -> dict[str, str]:
    """Variables as strings, a device object's fields (build 61840) one each."""
    flat: dict[str, str] = {}
    for name, value in variables.items():
        if isinstance(value, dict):
            flat.update({f"{name}/{key}": str(item) for key, item in value.items()})
        else:
            flat[name] = str(value)
    return flat


def _raw_device_list(folder: Path) -> dict[str, Any]:
    for name in DEVICE_LIST_NAMES:
        if (folder / name).is_file():
            raw: dict[str, Any] = json.loads((folder / name).read_text())
            return raw
    raise AssertionError(f"{folder} has no DeviceList")


async def _get(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        assert response.status == 200, url
        return await response.json()


@pytest.mark.skipif(not PVS_SETS, reason="no PVS captures")
@pytest.mark.parametrize(
    "folder", PVS_SETS, ids=lambda path: f"{path.parent.name}/{path.name}"
)
async def test_first_answer_is_the_capture_then_the_state_stays(
    folder: Path, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """First answer = the raw file's model; later answers keep each device's state."""
    async with SimulatedGateway.start(folder, clock=clock, options=OPTIONS) as gw:
        if gw.kind is GatewayKind.PVS_LEGACY:
            await _legacy(folder, gw, session, clock)
        else:
            await _varserver(folder, gw, session, clock)


async def _legacy(
    folder: Path,
    gw: SimulatedGateway,
    session: aiohttp.ClientSession,
    clock: ManualClock,
) -> None:
    raw = _raw_device_list(folder)
    first = await _get(session, f"{gw.url}{DEVICE_LIST}")
    assert first == raw
    assert parse_device_list(first) == parse_device_list(raw)
    status = (folder / "energy-storage-system_status.json").is_file()
    for _ in range(2):
        clock.advance(3600)
        later = await _get(session, f"{gw.url}{DEVICE_LIST}")
        captured = {d.get("SERIAL"): d for d in raw["devices"]}
        assert [d.get("SERIAL") for d in later["devices"]] == list(captured)
        for device in later["devices"]:
            before = captured[device.get("SERIAL")]
            assert device.get("STATE") == before.get("STATE")
            assert device.get("DEVICE_TYPE") == before.get("DEVICE_TYPE")
            if (
                device.get("DEVICE_TYPE") == "Inverter"
                and before.get("STATE") == "error"
            ):
                # An inverter in error produces nothing, whatever the sun does.
                for key in ("p_3phsum_kw", "ltea_3phsum_kwh", "DATATIME"):
                    assert device.get(key) == before.get(key), key
        if status:
            # The SunVault's charge is the captured one.
            served = await _get(session, f"{gw.url}{ESS_STATUS}")
            expected = json.loads(
                (folder / "energy-storage-system_status.json").read_text()
            )
            assert parse_ess_status(served) == parse_ess_status(expected)


async def _varserver(
    folder: Path,
    gw: SimulatedGateway,
    session: aiohttp.ClientSession,
    clock: ManualClock,
) -> None:
    raw: dict[str, Any] | None = varserver_variables(read_capture(folder))
    assert raw is not None
    login = basic("ssm_owner", gw.identity.serial[-5:])

    async def every_variable() -> dict[str, Any]:
        async with session.get(f"{gw.https_url}/auth?login", headers=login) as r:
            assert r.status == 200
        values: dict[str, Any] = await _get(
            session, f"{gw.https_url}/vars?match=/&fmt=obj"
        )
        return values

    first = await every_variable()
    assert first == raw
    assert parse_vars(first) == parse_vars(raw)
    clock.advance(3 * 3600)
    later = _flat(await every_variable())
    raw = _flat(raw)
    assert set(later) == set(raw)
    for name, value in raw.items():
        if name.endswith("/sn") or name.startswith(("/ess/config/", "/sys/info/sn")):
            assert later[name] == value, name
        if value.strip().lower() == "nan":
            assert later[name] == value, name  # absent in the capture, absent later
    soc, captured_soc = (
        _number(later.get("/sys/livedata/soc")),
        _number(raw.get("/sys/livedata/soc")),
    )
    if soc is None or captured_soc is None:
        return
    # Each SunVault charge moves from its own captured value, as the site's does.
    moved = soc - captured_soc
    for name, value in raw.items():
        if name.startswith("/sys/devices/ess/") and name.endswith(
            ("/customerSocVal", "/socVal")
        ):
            before = _number(value)
            assert before is not None
            expected = min(1.0, max(0.0, before + moved))
            assert _number(later[name]) == pytest.approx(expected, abs=1e-5), name


@pytest.mark.skipif(not PVS_SETS, reason="no PVS captures")
@pytest.mark.parametrize(
    "folder", PVS_SETS, ids=lambda path: f"{path.parent.name}/{path.name}"
)
async def test_frozen_serves_the_capture_hours_later(
    folder: Path, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """``--frozen`` replays a PVS capture exactly, however much time passes."""
    options = replace(OPTIONS, frozen=True)
    async with SimulatedGateway.start(folder, clock=clock, options=options) as gw:
        if gw.kind is GatewayKind.PVS_LEGACY:
            raw: dict[str, Any] = _raw_device_list(folder)
            url = f"{gw.url}{DEVICE_LIST}"
            served = [await _get(session, url)]
            clock.advance(3 * 3600)
            served.append(await _get(session, url))
            assert served == [raw, raw]
            return
        variables = varserver_variables(read_capture(folder))
        assert variables is not None
        login = basic("ssm_owner", gw.identity.serial[-5:])
        answers = []
        for _ in range(2):
            async with session.get(f"{gw.https_url}/auth?login", headers=login) as r:
                assert r.status == 200
            answers.append(await _get(session, f"{gw.https_url}/vars?match=/&fmt=obj"))
            clock.advance(3 * 3600)
        assert answers == [variables, variables]
