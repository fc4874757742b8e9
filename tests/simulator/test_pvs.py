"""Simulated PVS gateways: legacy dl_cgi and the varserver with its sessions."""

import base64
import json
from pathlib import Path

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.capture import Capture, CapturedResponse
from simulator import SimulatedGateway
from simulator.clock import ManualClock
from simulator.kinds import GatewayKind
from simulator.pvs_legacy import build_number, parse_pvs_time, pvs_time
from simulator.server import SimulatorOptions

from .conftest import NOON, OPTIONS
from .test_envoy import corpus_sets, fixture_sets

SERIAL = "ZT123456789012AB345"


def legacy_capture() -> Capture:
    """A PVS on the legacy API: supervisor, two meters, two inverters."""
    devices = [
        {
            "DEVICE_TYPE": "PVS",
            "SERIAL": SERIAL,
            "MODEL": "PV Supervisor PVS6",
            "SWVER": "2024.2, Build 61640",
            "DATATIME": "2025,06,21,11,55,00",
            "dl_uptime": "1000",
            "CURTIME": "2025,06,21,11,56,00",
        },
        {
            "DEVICE_TYPE": "Power Meter",
            "TYPE": "PVS5-METER-P",
            "SERIAL": "Mp",
            "DATATIME": "2025,06,21,11,55,00",
            "p_3phsum_kw": "2.0",
            "net_ltea_3phsum_kwh": "1000.0",
            "CURTIME": "x",
        },
        {
            "DEVICE_TYPE": "Power Meter",
            "TYPE": "PVS5-METER-C",
            "SERIAL": "Mc",
            "subtype": "NET_CONSUMPTION_LOADSIDE",
            "p_3phsum_kw": "-1.0",
            "net_ltea_3phsum_kwh": "100.0",
            "pos_ltea_3phsum_kwh": "300.0",
            "neg_ltea_3phsum_kwh": "200.0",
            "p1_kw": "-0.5",
            "p2_kw": "-0.5",
        },
        {
            "DEVICE_TYPE": "Power Meter",
            "TYPE": "PVS5-METER-C",
            "SERIAL": "Mg",
            "subtype": "GROSS_CONSUMPTION_LINESIDE",
            "p_3phsum_kw": "1.0",
            "net_ltea_3phsum_kwh": "500.0",
        },
        {
            "DEVICE_TYPE": "Inverter",
            "SERIAL": "I1",
            "p_3phsum_kw": "1.0",
            "ltea_3phsum_kwh": "50.0",
        },
        {
            "DEVICE_TYPE": "Inverter",
            "SERIAL": "I2",
            "p_3phsum_kw": "1.0",
            "ltea_3phsum_kwh": "60.0",
        },
    ]
    return Capture(
        {
            "DeviceList.json": CapturedResponse(
                200, {}, json.dumps({"devices": devices, "result": "succeed"}).encode()
            ),
            "Get_Comm.json": CapturedResponse(200, {}, b'{"result": "succeed"}'),
            "energy-storage-system_status.json": CapturedResponse(200, {}, b'{"a": 1}'),
        }
    )


def varserver_capture() -> Capture:
    """A PVS on varserver firmware with a SunVault."""
    variables = {
        "/sys/info/serialnum": SERIAL,
        "/sys/info/model": "PVS6",
        "/sys/info/sw_rev": "2025.09.04.61845",
        "/sys/info/uptime": "500.00",
        "/sys/info/wpa_key": "secret",
        "/sys/livedata/time": "1750507200",
        "/sys/livedata/pv_p": "2.000000",
        "/sys/livedata/pv_en": "1000.000000",
        "/sys/livedata/net_p": "-1.000000",
        "/sys/livedata/net_en": "100.000000",
        "/sys/livedata/site_load_p": "1.000000",
        "/sys/livedata/site_load_en": "900.000000",
        "/sys/livedata/ess_p": "0.000000",
        "/sys/livedata/ess_en": "10.000000",
        "/sys/livedata/soc": "0.500000",
        "/sys/devices/meter/0/prodMdlNm": "PVS6M0400p",
        "/sys/devices/meter/0/p3phsumKw": "2.0",
        "/sys/devices/meter/0/netLtea3phsumKwh": "1000.0",
        "/sys/devices/meter/0/msmtEps": "2025-06-21T11:55:00Z",
        "/sys/devices/meter/1/prodMdlNm": "PVS6M0400c",
        "/sys/devices/meter/1/p3phsumKw": "-1.0",
        "/sys/devices/meter/1/posLtea3phsumKwh": "300.0",
        "/sys/devices/meter/1/negLtea3phsumKwh": "200.0",
        "/sys/devices/meter/1/netLtea3phsumKwh": "100.0",
        "/sys/devices/inverter/0/p3phsumKw": "1.0",
        "/sys/devices/inverter/0/ltea3phsumKwh": "50.0",
        "/sys/devices/inverter/0/msmtEps": "2025-06-21T11:55:00Z",
        "/sys/devices/ess/0/capacityKwh": "10.0",
        "/ess/config/dcm/mode_param/control_mode": "SELF_CONSUMPTION",
        "/ess/config/dcm/control_param/min_customer_soc": "0.20",
    }
    return Capture(
        {
            "vars_fmt_obj.json": CapturedResponse(
                200, {}, json.dumps(variables).encode()
            ),
            "Get_Comm.json": CapturedResponse(200, {}, b'{"result": "succeed"}'),
        }
    )


def basic(user: str, password: str) -> dict[str, str]:
    """A basic auth header as the PVS wants it (lower-case scheme)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"basic {token}"}


async def test_legacy_device_list_moves_on_five_minute_boundaries(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """DATATIME is on 5-minute boundaries, CURTIME now; counters follow power."""
    async with SimulatedGateway.start(
        legacy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        assert gw.kind is GatewayKind.PVS_LEGACY
        assert gw.https_url is None
        url = f"{gw.url}/cgi-bin/dl_cgi?Command=DeviceList"

        async def devices() -> list[dict[str, str]]:
            async with session.get(url) as response:
                assert response.status == 200
                return list((await response.json())["devices"])

        captured = legacy_capture().get("DeviceList.json")
        assert captured is not None
        assert await devices() == captured.json()["devices"]  # type: ignore[index]
        clock.advance(30)
        first = await devices()
        assert first[0]["DATATIME"] == pvs_time(NOON)
        assert first[0]["CURTIME"] == pvs_time(NOON + 30)
        clock.advance(200)
        again = await devices()
        # Same period, same data; only CURTIME moves.
        assert {**again[1], "CURTIME": ""} == {**first[1], "CURTIME": ""}
        clock.advance(3600)
        later = await devices()
        assert parse_pvs_time(later[0]["DATATIME"]) == NOON + 3600
        production = float(later[1]["net_ltea_3phsum_kwh"]) - 1000.0
        assert production > 0.5  # an hour of noon sun
        net = later[2]
        assert float(net["net_ltea_3phsum_kwh"]) == pytest.approx(
            float(net["pos_ltea_3phsum_kwh"]) - float(net["neg_ltea_3phsum_kwh"]),
            abs=1e-3,
        )
        assert float(net["p_3phsum_kw"]) < 0  # exporting at noon
        assert float(later[3]["p_3phsum_kw"]) > 0  # gross consumption is the load
        inverters = (
            float(later[4]["ltea_3phsum_kwh"])
            - 50
            + float(later[5]["ltea_3phsum_kwh"])
            - 60
        )
        assert inverters == pytest.approx(production, rel=0.01)
        assert int(later[0]["dl_uptime"]) == 1000 + 3600


async def test_legacy_commands(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Other commands replay; supervisor info comes from the DeviceList."""
    async with SimulatedGateway.start(
        legacy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        async with session.get(f"{gw.url}/cgi-bin/dl_cgi?Command=Get_Comm") as r:
            assert await r.json() == {"result": "succeed"}
        async with session.get(
            f"{gw.url}/cgi-bin/dl_cgi/energy-storage-system/status"
        ) as r:
            assert await r.json() == {"a": 1}
        async with session.get(f"{gw.url}/cgi-bin/dl_cgi/supervisor/info") as r:
            info = (await r.json())["supervisor"]
        assert info == {
            "SERIAL": SERIAL,
            "MODEL": "PVS6",
            "SWVER": "2024.2, Build 61640",
            "BUILD": 61640,
        }
        for path in ("/cgi-bin/dl_cgi?Command=Nope", "/vars?match=/", "/auth?login"):
            async with session.get(f"{gw.url}{path}") as r:
                assert r.status == 404


async def test_legacy_device_list_delay(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """The DeviceList delay holds the answer back (the PVS is slow)."""
    options = SimulatorOptions(utc_offset_hours=0.0, device_list_delay=0.05)
    async with SimulatedGateway.start(
        legacy_capture(), clock=clock, options=options
    ) as gw:
        loop = __import__("asyncio").get_running_loop()
        started = loop.time()
        async with session.get(f"{gw.url}/cgi-bin/dl_cgi?Command=DeviceList") as r:
            assert r.status == 200
        assert loop.time() - started >= 0.05


async def test_varserver_login_sessions_and_vars(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Login with ssm_owner, session cookie, expiry, name/match/cache/fmt."""
    options = SimulatorOptions(utc_offset_hours=0.0, session_seconds=300)
    async with SimulatedGateway.start(
        varserver_capture(), clock=clock, options=options
    ) as gw:
        assert gw.https_url is not None
        base = gw.https_url
        async with session.get(f"{base}/vars?match=livedata") as r:
            assert r.status == 401
        for headers in (
            basic("ssm_owner", "00000"),
            basic("root", "AB345"),
            {"Authorization": "basic !!"},
            {},
        ):
            async with session.get(f"{base}/auth?login", headers=headers) as r:
                assert r.status == 401
        async with session.get(
            f"{base}/auth?login", headers=basic("ssm_owner", "AB345")
        ) as r:
            assert r.status == 200
            assert "session" in await r.json()
        async with session.get(f"{base}/vars?match=livedata&fmt=obj&cache=ld") as r:
            live = await r.json()
        assert float(live["/sys/livedata/pv_p"]) > 0
        assert set(live) == {name for name in live if "livedata" in name}
        async with session.get(
            f"{base}/vars?name=/sys/info/sw_rev,/sys/info/nope"
        ) as r:
            assert await r.json() == {
                "values": [{"name": "/sys/info/sw_rev", "value": "2025.09.04.61845"}],
                "count": 1,
            }
        clock.advance(120)
        async with session.get(f"{base}/vars?fmt=obj&cache=ld") as r:
            cached = await r.json()
        assert set(cached) == set(live)
        assert float(cached["/sys/livedata/pv_en"]) > float(live["/sys/livedata/pv_en"])
        async with session.get(f"{base}/vars") as r:
            assert r.status == 400
        clock.advance(200)  # past the session's life
        async with session.get(f"{base}/vars?match=livedata") as r:
            assert r.status == 401
        async with session.get(
            f"{base}/auth?login", headers=basic("spwr_owner", "AB345")
        ) as r:
            assert r.status == 200
        async with session.get(f"{base}/auth?logout") as r:
            assert r.status == 200
        async with session.get(f"{base}/vars?match=livedata") as r:
            assert r.status == 401
        async with session.get(f"{base}/auth") as r:
            assert r.status == 400


async def test_varserver_live_devices_and_legacy_commands(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Devices carry 5-minute data; DeviceList is forbidden; other commands replay."""
    async with SimulatedGateway.start(
        varserver_capture(), clock=clock, options=OPTIONS
    ) as gw:
        async with session.get(f"{gw.url}/cgi-bin/dl_cgi?Command=DeviceList") as r:
            assert r.status == 403
        async with session.get(f"{gw.url}/cgi-bin/dl_cgi?Command=Get_Comm") as r:
            assert r.status == 200
        async with session.get(f"{gw.url}/cgi-bin/dl_cgi/supervisor/info") as r:
            assert (await r.json())["supervisor"]["BUILD"] == 61845
        async with session.get(f"{gw.url}/nothing") as r:
            assert r.status == 404
        async with session.get(
            f"{gw.https_url}/auth?login", headers=basic("ssm_owner", "AB345")
        ) as r:
            assert r.status == 200
        async with session.get(f"{gw.https_url}/vars?match=/sys/&fmt=obj") as r:
            captured = await r.json()  # the capture; the site lives on after it
        assert captured["/sys/devices/inverter/0/msmtEps"] == "2025-06-21T11:55:00Z"
        clock.advance(3600 + 42)
        async with session.get(
            f"{gw.https_url}/auth?login", headers=basic("ssm_owner", "AB345")
        ) as r:
            assert r.status == 200
        async with session.get(f"{gw.https_url}/vars?match=/sys/&fmt=obj") as r:
            values = await r.json()
        assert values["/sys/devices/inverter/0/msmtEps"] == "2025-06-21T13:00:00Z"
        # The net meter measures the grid: solar surplus goes to the battery first.
        assert float(values["/sys/devices/meter/1/p3phsumKw"]) == pytest.approx(
            float(values["/sys/livedata/net_p"]), abs=1e-3
        )
        assert float(values["/sys/livedata/ess_p"]) < 0  # charging
        pos, neg, net = (
            float(values[f"/sys/devices/meter/1/{k}Ltea3phsumKwh"])
            for k in ("pos", "neg", "net")
        )
        assert net == pytest.approx(pos - neg, abs=1e-3)
        assert float(values["/sys/info/uptime"]) == pytest.approx(500 + 3642)
        assert 0 < float(values["/sys/livedata/soc"]) <= 1


async def test_varserver_controls(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Control mode and reserve writes show in later reads and change the site."""
    async with SimulatedGateway.start(
        varserver_capture(), clock=clock, options=OPTIONS
    ) as gw:
        assert gw.https_url is not None
        base = gw.https_url
        async with session.get(
            f"{base}/auth?login", headers=basic("ssm_owner", "AB345")
        ) as r:
            assert r.status == 200
        assert gw.state.reserve_soc == pytest.approx(20)
        async with session.get(
            f"{base}/vars?set=/ess/config/dcm/mode_param/control_mode=BACKUP_ONLY&fmt=obj"
        ) as r:
            assert await r.json() == {
                "/ess/config/dcm/mode_param/control_mode": "BACKUP_ONLY"
            }
        async with session.post(
            f"{base}/vars?set=/ess/config/dcm/control_param/min_customer_soc&value=0.35"
        ) as r:
            assert r.status == 200
        async with session.get(f"{base}/vars?match=/ess/config/&fmt=obj") as r:
            assert await r.json() == {
                "/ess/config/dcm/mode_param/control_mode": "BACKUP_ONLY",
                "/ess/config/dcm/control_param/min_customer_soc": "0.35",
            }
        assert gw.state.backup_only
        assert gw.state.reserve_soc == pytest.approx(35)
        for query, status in (
            ("set=/ess/config/dcm/mode_param/control_mode=DANCE", 400),
            ("set=/ess/config/dcm/control_param/min_customer_soc=2", 400),
            ("set=/ess/config/dcm/control_param/min_customer_soc", 400),
            ("set=/sys/info/wpa_key=x", 403),
            ("set=/ess/config/none=1", 404),
        ):
            async with session.get(f"{base}/vars?{query}") as r:
                assert r.status == status, query


PVS_SETS = corpus_sets("pvs") + fixture_sets("pvs")


@pytest.mark.skipif(not PVS_SETS, reason="no PVS captures")
@pytest.mark.parametrize(
    "folder", PVS_SETS, ids=lambda path: f"{path.parent.name}/{path.name}"
)
async def test_every_pvs_capture_serves(
    folder: Path, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Each PVS capture serves its API: DeviceList, or login and /vars."""
    async with SimulatedGateway.start(folder, clock=clock, options=OPTIONS) as gw:
        async with session.get(f"{gw.url}/cgi-bin/dl_cgi/supervisor/info") as r:
            assert r.status == 200
            assert (await r.json())["supervisor"]["SERIAL"] == gw.identity.serial
        async with session.get(f"{gw.url}/cgi-bin/dl_cgi?Command=DeviceList") as r:
            if gw.kind is GatewayKind.PVS_LEGACY:
                assert r.status == 200
                assert (await r.json())["devices"]
            else:
                assert r.status == 403
        if gw.kind is GatewayKind.PVS_VARSERVER:
            login = basic("ssm_owner", gw.identity.serial[-5:])
            async with session.get(f"{gw.https_url}/auth?login", headers=login) as r:
                assert r.status == 200
            async with session.get(
                f"{gw.https_url}/vars?match=/sys/info/&fmt=obj"
            ) as r:
                assert (await r.json())["/sys/info/serialnum"] == gw.identity.serial


def test_build_number() -> None:
    """Builds come from both firmware spellings."""
    assert build_number("2024.2, Build 61640") == 61640
    assert build_number("2025.09.04.61845") == 61845
    assert build_number("1.0") is None
    assert parse_pvs_time("junk") is None
    assert parse_pvs_time(None) is None
