"""Build 61840, the first varserver firmware: each device is one JSON object.

That build answers ``/sys/devices/<n>/<type>/data`` with an object of typed
values (numbers as numbers, ``vldFldMsk`` beside them) where later builds have one
string variable per figure. The expectations are computed from the raw dump.
"""

import json
from typing import Any

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.pvs import PvsClient
from custom_components.solar_gateway.gateway.site import DeviceKind, Quantity
from simulator.clock import ManualClock
from tests.conftest import FIXTURES
from tests.gateway.conftest import Simulate

SCENARIO = "pvs/varserver_61840"
RAW: dict[str, Any] = json.loads(
    (FIXTURES / SCENARIO / "vars_fmt_obj.json").read_text()
)


def _devices(kind: str) -> list[dict[str, Any]]:
    """The raw dump's device objects of one type, in the PVS's slot order."""
    found = [
        (int(name.split("/")[3]), value)
        for name, value in RAW.items()
        if name.startswith("/sys/devices/") and name.endswith(f"/{kind}/data")
    ]
    return [value for _, value in sorted(found, key=lambda item: item[0])]


def _kw(value: object) -> float:
    return float(value) * 1000.0  # type: ignore[arg-type]


def test_the_fixture_is_the_packed_shape() -> None:
    """Every device of the dump is one object at ``/sys/devices/<n>/<type>/data``;
    no variable of the later per-figure shape is in it."""
    assert len(_devices("meter")) == 2
    assert len(_devices("inverter")) == 8
    assert all(isinstance(device["p3phsumKw"], float) for device in _devices("meter"))
    assert not [name for name in RAW if name.startswith("/sys/devices/meter/")]
    assert not [name for name in RAW if name.startswith("/sys/devices/inverter/")]


async def test_client_reads_every_device_of_build_61840(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Setup finds a varserver PVS; one poll shows the site and every meter and
    inverter with the figures its object carries."""
    gw = await simulate(SCENARIO)
    client = PvsClient(session, gw.url, None)
    await client.setup()
    assert client.identity.api == "pvs_varserver"
    assert client.identity.serial == RAW["/sys/info/serialnum"]
    snapshot = await client.refresh(frozenset({DataGroup.LIVE, DataGroup.DEVICES}))

    figures = snapshot.figures
    assert figures.solar_power == pytest.approx(_kw(RAW["/sys/livedata/pv_p"]))
    assert figures.grid_power == pytest.approx(_kw(RAW["/sys/livedata/net_p"]))
    assert figures.consumption_energy == pytest.approx(
        _kw(RAW["/sys/livedata/site_load_en"])
    )
    production, consumption = _devices("meter")
    # The consumption meter's net is livedata's: it measures the grid.
    assert figures.grid_import_energy == pytest.approx(
        _kw(consumption["posLtea3phsumKwh"])
    )
    assert figures.grid_export_energy == pytest.approx(
        _kw(consumption["negLtea3phsumKwh"])
    )
    assert figures.battery_power is None  # a PV-only site: ess figures are "nan"
    assert figures.grid_connected is None

    meters = {device.serial: device for device in snapshot.of_kind(DeviceKind.METER)}
    assert set(meters) == {production["sn"], consumption["sn"]}
    assert meters[production["sn"]].get(Quantity.LIFETIME_ENERGY) == pytest.approx(
        _kw(production["netLtea3phsumKwh"])
    )
    assert meters[consumption["sn"]].get(Quantity.POWER) == pytest.approx(
        _kw(consumption["p3phsumKw"])
    )
    inverters = snapshot.of_kind(DeviceKind.INVERTER)
    raw_inverters = _devices("inverter")
    assert [device.serial for device in inverters] == [i["sn"] for i in raw_inverters]
    for device, raw in zip(inverters, raw_inverters, strict=True):
        assert device.model_id == raw["prodMdlNm"]
        assert device.get(Quantity.POWER) == pytest.approx(_kw(raw["p3phsumKw"]))
        assert device.get(Quantity.LIFETIME_ENERGY) == pytest.approx(
            _kw(raw["ltea3phsumKwh"])
        )
        assert device.get(Quantity.DC_VOLTAGE) == pytest.approx(raw["vMppt1V"])
        assert device.get(Quantity.TEMPERATURE) == raw["tHtsnkDegc"]
    [gateway] = snapshot.of_kind(DeviceKind.GATEWAY)
    assert gateway.firmware == RAW["/sys/info/sw_rev"]


async def test_simulated_build_61840_lives_on_in_its_own_shape(
    session: aiohttp.ClientSession, simulate: Simulate, clock: ManualClock
) -> None:
    """Hours later the simulated PVS still answers objects, with typed figures that
    moved on from the captured ones (solar energy only grows)."""
    gw = await simulate(SCENARIO, frozen=False)
    client = PvsClient(session, gw.url, None)
    await client.setup()
    first = await client.refresh(frozenset({DataGroup.LIVE, DataGroup.DEVICES}))
    clock.advance(2 * 3600)
    later = await client.refresh(frozenset({DataGroup.LIVE, DataGroup.DEVICES}))
    assert len(later.of_kind(DeviceKind.INVERTER)) == len(_devices("inverter"))
    before = {
        d.serial: d.get(Quantity.LIFETIME_ENERGY)
        for d in first.of_kind(DeviceKind.INVERTER)
    }
    for device in later.of_kind(DeviceKind.INVERTER):
        energy, captured = device.get(Quantity.LIFETIME_ENERGY), before[device.serial]
        assert isinstance(energy, float)
        assert isinstance(captured, float)
        assert energy > captured
