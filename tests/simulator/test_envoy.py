"""A simulated Envoy: auth per firmware, replay, live data and controls."""

import copy
from dataclasses import replace
import hashlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest

from custom_components.solar_gateway.gateway.capture import (
    Capture,
    CapturedResponse,
    read_capture,
)
from simulator import SimulatedGateway
from simulator.clock import ManualClock
from tests.conftest import FIXTURES, corpus_root

from .conftest import NOON, OPTIONS

INFO = b"""<?xml version="1.0" encoding="utf-8"?>
<envoy_info><time>1750507200</time><device><sn>122233344455</sn>
<pn>800-00654-r08</pn><software>{firmware}</software><imeter>true</imeter></device>
</envoy_info>"""


def envoy_capture(firmware: str = "D8.2.4286") -> Capture:
    """A small metered Envoy with a battery, a system controller and relays."""

    def doc(text: str, status: int = 200, **headers: str) -> CapturedResponse:
        return CapturedResponse(status, headers, text.encode())

    return Capture(
        {
            "info": doc(INFO.decode().format(firmware=firmware)),
            "production.json": doc(
                '{"production": [{"type": "inverters", "activeCount": 2, "readingTime": 1,'
                ' "wNow": 1000, "whLifetime": 500000},'
                ' {"type": "eim", "activeCount": 1, "measurementType": "production",'
                ' "readingTime": 1, "wNow": 1010, "whLifetime": 400000,'
                ' "lines": [{"wNow": 505, "whLifetime": 200000},'
                ' {"wNow": 505, "whLifetime": 200000}]}],'
                ' "consumption": [{"type": "eim", "activeCount": 1,'
                ' "measurementType": "total-consumption", "wNow": 900, "whLifetime": 700000},'
                ' {"type": "eim", "activeCount": 0, "measurementType": "net-consumption",'
                ' "wNow": 0, "whLifetime": 0}],'
                ' "storage": [{"type": "acb", "activeCount": 0, "wNow": 0, "whNow": 0}]}'
            ),
            "api_v1_production": doc(
                '{"wattHoursToday": 5, "wattHoursSevenDays": 50, '
                '"wattHoursLifetime": 500000, "wattsNow": 1000}'
            ),
            "api_v1_production_inverters": doc(
                '[{"serialNumber": "1", "lastReportDate": 1, "devType": 1,'
                ' "lastReportWatts": 500, "maxReportWatts": 300},'
                ' {"serialNumber": "2", "lastReportDate": 1, "devType": 1,'
                ' "lastReportWatts": 500, "maxReportWatts": 300}]'
            ),
            "ivp_meters": doc(
                '[{"eid": 1, "state": "enabled", "measurementType": "production"},'
                ' {"eid": 2, "state": "enabled", "measurementType": "net-consumption"},'
                ' {"eid": 3, "state": "enabled", "measurementType": "storage"}]'
            ),
            "ivp_meters_readings": doc(
                '[{"eid": 1, "timestamp": 1750507200, "actEnergyDlvd": 400000,'
                ' "actEnergyRcvd": 10, "activePower": 1010, "voltage": 240, "current": 4,'
                ' "channels": [{"eid": 11, "actEnergyDlvd": 200000, "actEnergyRcvd": 5,'
                ' "activePower": 505, "voltage": 120, "current": 4}]},'
                ' {"eid": 2, "timestamp": 1750507200, "actEnergyDlvd": 90000,'
                ' "actEnergyRcvd": 80000, "activePower": -100},'
                ' {"eid": 3, "timestamp": 1750507200, "actEnergyDlvd": 1000,'
                ' "actEnergyRcvd": 2000, "activePower": 0},'
                ' {"eid": 9, "activePower": 7}]'
            ),
            "ivp_ensemble_inventory": doc(
                '[{"type": "ENCHARGE", "devices": [{"serial_num": "b1", "percentFull": 40}]},'
                ' {"type": "ENPOWER", "devices": [{"serial_num": "e1",'
                ' "mains_admin_state": "closed", "mains_oper_state": "closed"}]}]'
            ),
            "ivp_ensemble_secctrl": doc(
                '{"agg_soc": 40, "ENC_agg_soc": 40, "Max_energy": 10000,'
                ' "ENC_agg_avail_energy": 4000}'
            ),
            "ivp_ensemble_power": doc(
                '{"devices:": [{"serial_num": "b1", "real_power_mw": 0,'
                ' "apparent_power_mva": 0, "soc": 40}]}'
            ),
            "ivp_ensemble_dry_contacts": doc(
                '{"dry_contacts": [{"id": "NC1", "status": "closed"}]}'
            ),
            "ivp_ss_dry_contact_settings": doc(
                '{"dry_contacts": [{"id": "NC1", "load_name": "", "mode": "manual",'
                ' "soc_low": 30.0}]}'
            ),
            "admin_lib_tariff": doc(
                '{"tariff": {"currency": {"code": "USD"}, "storage_settings":'
                ' {"mode": "self-consumption", "reserved_soc": 20.0,'
                ' "charge_from_grid": false}}, "schedule": {"x": 1}}'
            ),
            "ivp_sc_pvlimit": doc('{"error": "404 - Not Found"}', 404),
            "home": doc("<html>home</html>", 200, **{"Content-Length": "17"}),
            "inventory": doc("[]"),
        }
    )


def bearer(gateway: SimulatedGateway) -> dict[str, str]:
    """The header that carries the gateway's token."""
    assert gateway.token is not None
    return {"Authorization": f"Bearer {gateway.token}"}


async def test_token_firmware_requires_a_token(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Firmware 7+: /info is open, data needs a valid token, over HTTP and HTTPS."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        assert gw.https_url is not None
        async with session.get(f"{gw.https_url}/info") as response:
            assert response.status == 200
            assert b"<sn>122233344455</sn>" in await response.read()
        for headers in ({}, {"Authorization": "Bearer nonsense"}):
            async with session.get(f"{gw.url}/api/v1/production", headers=headers) as r:
                assert r.status == 401
        async with session.get(
            f"{gw.https_url}/api/v1/production", headers=bearer(gw)
        ) as response:
            assert response.status == 200
        claims = jwt.decode(gw.token or "", options={"verify_signature": False})
        assert claims["enphaseUser"] == "owner"
        assert claims["serial"] == claims["aud"] == "122233344455"
        # An expired token is refused, a short installer token works until it ends.
        short = gw.issue_token(user="installer", lifetime=60)
        headers = {"Authorization": f"Bearer {short}"}
        async with session.get(f"{gw.url}/ivp/meters", headers=headers) as response:
            assert response.status == 200
        clock.advance(61)
        async with session.get(f"{gw.url}/ivp/meters", headers=headers) as response:
            assert response.status == 401


async def test_check_jwt_and_session_cookie(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """/auth/check_jwt answers like an Envoy and hands out a session cookie."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        async with session.get(f"{gw.url}/auth/check_jwt") as response:
            assert response.status == 401
        async with session.get(f"{gw.url}/auth/check_jwt", headers=bearer(gw)) as r:
            assert r.status == 200
            assert "Valid token." in await r.text()
            cookie = r.cookies["sessionId"].value
        async with session.get(
            f"{gw.url}/ivp/meters", cookies={"sessionId": cookie}
        ) as response:
            assert response.status == 200


async def test_replay_statuses_headers_and_404(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Captured statuses come back; a missing endpoint is 404; /x.json finds x."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        headers = bearer(gw)
        async with session.get(f"{gw.url}/ivp/sc/pvlimit", headers=headers) as r:
            assert r.status == 404
        async with session.get(f"{gw.url}/nothing/here", headers=headers) as r:
            assert r.status == 404
        async with session.get(f"{gw.url}/home", headers=headers) as r:
            assert r.status == 200
            assert r.content_type == "text/html"
            assert await r.text() == "<html>home</html>"
        async with session.get(f"{gw.url}/inventory.json", headers=headers) as r:
            assert await r.json() == []
        async with session.post(f"{gw.url}/home", headers=headers) as r:
            assert r.status == 405
        async with session.post(f"{gw.url}/nothing", headers=headers) as r:
            assert r.status == 404


async def test_digest_firmware(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Before firmware 7: plain HTTP, digest auth (envoy / last 6 of serial) for inverters."""
    capture = envoy_capture("D5.0.62")
    responses = dict(capture.responses)
    responses["production"] = CapturedResponse(
        401, {"www-authenticate": 'Digest realm="enphaseenergy.com"'}, b"401"
    )
    async with SimulatedGateway.start(
        Capture(responses), clock=clock, options=OPTIONS
    ) as gw:
        assert gw.https_url is None
        assert gw.token is None
        async with session.get(f"{gw.url}/api/v1/production") as response:
            assert response.status == 200
        async with session.get(f"{gw.url}/api/v1/production/inverters") as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Digest ")
        good = aiohttp.DigestAuthMiddleware("envoy", "344455")
        async with session.get(
            f"{gw.url}/api/v1/production/inverters", middlewares=(good,)
        ) as response:
            assert response.status == 200
        # A capture holding only the challenge has no data past authentication.
        async with session.get(f"{gw.url}/production", middlewares=(good,)) as r:
            assert r.status == 404
        bad = aiohttp.DigestAuthMiddleware("envoy", "000000")
        async with session.get(
            f"{gw.url}/api/v1/production/inverters", middlewares=(bad,)
        ) as response:
            assert response.status == 401


def test_digest_verification_details() -> None:
    """Digest without qop, SHA-256, unknown algorithms and foreign nonces."""
    from simulator.envoy_auth import DigestAuthority

    authority = DigestAuthority({"envoy": "123456"})
    nonce = authority.challenge().split('nonce="')[1].rstrip('"')

    def header(algorithm: str, name: str) -> str:
        def h(text: str) -> str:
            return hashlib.new(name, text.encode()).hexdigest()

        ha1 = h("envoy:enphaseenergy.com:123456")
        response = h(f"{ha1}:{nonce}:{h('GET:/x')}")
        return (
            f'Digest username="envoy", realm="enphaseenergy.com", nonce="{nonce}", '
            f'uri="/x", algorithm={algorithm}, response="{response}"'
        )

    assert authority.verify("GET", "/x", header("MD5", "md5"))
    assert authority.verify("GET", "/x", header("SHA-256", "sha256"))
    assert not authority.verify("GET", "/y", header("MD5", "md5"))
    assert not authority.verify("GET", "/x", header("SHA-512-256", "sha256"))
    assert not authority.verify("GET", "/x", header("MD5", "md5").replace(nonce, "n"))
    assert not authority.verify("GET", "/x", "Basic abc")
    assert not authority.verify("GET", "/x", None)


async def test_live_documents_move_with_time(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Power follows the day; lifetime counters grow by the energy produced."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        headers = bearer(gw)

        async def get(path: str) -> object:
            async with session.get(f"{gw.url}{path}", headers=headers) as response:
                assert response.status == 200
                return await response.json()

        capture = envoy_capture()

        async def live(path: str, name: str) -> object:
            # The first answer is the capture itself; the site lives on after it.
            captured = capture.get(name)
            assert captured is not None
            assert await get(path) == captured.json()
            return await get(path)

        first = await live("/api/v1/production", "api_v1_production")
        assert isinstance(first, dict)
        assert first["wattsNow"] > 0  # noon
        clock.advance(3600)
        later = await get("/api/v1/production")
        assert isinstance(later, dict)
        grown = later["wattHoursLifetime"] - first["wattHoursLifetime"]
        # One hour at roughly the noon power.
        assert 0.5 * first["wattsNow"] < grown < 1.5 * first["wattsNow"]
        production = await live("/production.json?details=1", "production.json")
        assert isinstance(production, dict)
        inverters, eim = production["production"]
        assert inverters["whLifetime"] > 500000
        assert eim["lines"][0]["wNow"] == pytest.approx(eim["wNow"] / 2, abs=0.01)
        net = production["consumption"][1]
        assert net["wNow"] == 0  # no active CT: captured zeros stay
        readings = await live("/ivp/meters/readings", "ivp_meters_readings")
        assert isinstance(readings, list)
        assert readings[0]["actEnergyDlvd"] > 400000
        assert readings[0]["timestamp"] == int(clock.now())
        assert readings[3] == {"eid": 9, "activePower": 7}
        inverter_list = await live(
            "/api/v1/production/inverters", "api_v1_production_inverters"
        )
        assert isinstance(inverter_list, list)
        assert all(item["lastReportWatts"] <= 300 for item in inverter_list)
        clock.advance(10 * 3600)  # 22:00: night
        night = await get("/api/v1/production")
        assert isinstance(night, dict)
        assert night["wattsNow"] == 0
        secctrl = await get("/ivp/ensemble/secctrl")
        power = await get("/ivp/ensemble/power")
        assert isinstance(secctrl, dict)
        assert isinstance(power, dict)
        assert secctrl["agg_soc"] == power["devices:"][0]["soc"]


async def test_controls_round_trip(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Relay, dry contacts, relay settings and tariff: later reads show the write."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        headers = bearer(gw)
        base = gw.url

        async def send(method: str, path: str, body: object) -> aiohttp.ClientResponse:
            async with session.request(
                method, f"{base}{path}", json=body, headers=headers
            ) as response:
                await response.read()
                return response

        assert (
            await send("POST", "/ivp/ensemble/relay", {"mains_admin_state": "x"})
        ).status == 400
        response = await send(
            "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"}
        )
        assert response.status == 200
        async with session.get(f"{base}/ivp/ensemble/inventory", headers=headers) as r:
            enpower = (await r.json())[1]["devices"][0]
        assert enpower["mains_admin_state"] == enpower["mains_oper_state"] == "open"
        assert gw.state.islanded
        figures = gw.state.figures()
        assert figures.grid_w == pytest.approx(0, abs=1e-6)

        assert (
            await send(
                "POST",
                "/ivp/ensemble/dry_contacts",
                {"dry_contacts": {"id": "NC1", "status": "open"}},
            )
        ).status == 200
        async with session.get(
            f"{base}/ivp/ensemble/dry_contacts", headers=headers
        ) as r:
            assert (await r.json())["dry_contacts"][0]["status"] == "open"
        for bad in (
            {"dry_contacts": {"id": "NC9", "status": "open"}},
            {"dry_contacts": {"id": "NC1", "status": "x"}},
            [1],
        ):
            assert (await send("POST", "/ivp/ensemble/dry_contacts", bad)).status == 400

        partial = {"dry_contacts": {"id": "NC1", "load_name": "pump"}}
        assert (
            await send("POST", "/ivp/ss/dry_contact_settings", partial)
        ).status == 500
        whole = {
            "dry_contacts": {
                "id": "NC1",
                "load_name": "pump",
                "mode": "manual",
                "soc_low": 25.0,
            }
        }
        assert (await send("POST", "/ivp/ss/dry_contact_settings", whole)).status == 200
        async with session.get(
            f"{base}/ivp/ss/dry_contact_settings", headers=headers
        ) as r:
            assert (await r.json())["dry_contacts"][0]["load_name"] == "pump"
        assert (
            await send(
                "POST", "/ivp/ss/dry_contact_settings", {"dry_contacts": {"id": "X"}}
            )
        ).status == 400

        async with session.get(f"{base}/admin/lib/tariff", headers=headers) as r:
            tariff = await r.json()
        changed = copy.deepcopy(tariff["tariff"])
        changed["storage_settings"].update(mode="backup", reserved_soc=80.0)
        assert (
            await send("PUT", "/admin/lib/tariff", {"tariff": changed})
        ).status == 200
        async with session.get(f"{base}/admin/lib/tariff", headers=headers) as r:
            after = await r.json()
        assert after["tariff"]["storage_settings"]["mode"] == "backup"
        assert after["schedule"] == {"x": 1}
        assert gw.state.backup_only
        assert gw.state.reserve_soc == 80.0
        assert (await send("PUT", "/admin/lib/tariff", {"tariff": {}})).status == 400
        assert (await send("PUT", "/admin/lib/tariff", {})).status == 400
        async with session.put(
            f"{base}/admin/lib/tariff", data=b"{", headers=headers
        ) as response:
            assert response.status == 400


async def test_relay_absent_without_system_controller(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """No IQ System Controller, no relay to switch."""
    responses = dict(envoy_capture().responses)
    del responses["ivp_ensemble_inventory"]
    async with (
        SimulatedGateway.start(Capture(responses), clock=clock, options=OPTIONS) as gw,
        session.post(
            f"{gw.url}/ivp/ensemble/relay",
            json={"mains_admin_state": "open"},
            headers=bearer(gw),
        ) as response,
    ):
        assert response.status == 404


def corpus_sets(brand: str) -> list[Path]:
    """The corpus capture sets of a brand (none when the corpus is absent)."""
    root = corpus_root() / brand
    return (
        sorted(path for path in root.glob("*") if path.is_dir())
        if root.is_dir()
        else []
    )


def fixture_sets(brand: str) -> list[Path]:
    """The project's own fixtures of a brand."""
    root = FIXTURES / brand
    return (
        sorted(path for path in root.glob("*") if path.is_dir())
        if root.is_dir()
        else []
    )


ENVOY_SETS = corpus_sets("envoy") + fixture_sets("envoy")


@pytest.mark.skipif(not ENVOY_SETS, reason="no Envoy captures")
@pytest.mark.parametrize(
    "folder", ENVOY_SETS, ids=lambda path: f"{path.parent.name}/{path.name}"
)
async def test_every_envoy_capture_serves(
    folder: Path, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Every captured endpoint's first answer is the capture: status and body.

    Asked with an installer token, which sees every endpoint an owner sees and the
    production record too.
    """
    capture = read_capture(folder)
    async with SimulatedGateway.start(folder, clock=clock, options=OPTIONS) as gw:
        middlewares: tuple[aiohttp.ClientMiddlewareType, ...] = ()
        headers: dict[str, str] = {}
        if gw.token:
            headers = {"Authorization": f"Bearer {gw.issue_token(user='installer')}"}
        else:
            middlewares = (
                aiohttp.DigestAuthMiddleware("envoy", gw.identity.serial[-6:]),
            )
        for name, captured in capture.responses.items():
            path = captured.path or "/" + name.replace("_", "/")
            if captured.path is None and name != "info":
                # Corpus names do not say where "_" was "/": ask via the real path map.
                path = _corpus_path(name)
            async with session.get(
                f"{gw.url}{path}", headers=headers, middlewares=middlewares
            ) as response:
                body = await response.read()
            challenged = (
                captured.status == 401 and "digest" in str(captured.headers).lower()
            )
            expected = 404 if challenged else captured.status
            assert response.status == expected, name
            if captured.status == 200 and captured.json() is not None:
                assert response.content_type == "application/json", name
            if not challenged:
                assert body == captured.body, name


def _write(folder: Path, name: str, doc: object) -> None:
    (folder / name).write_text(json.dumps(doc))


async def test_numbered_answers_in_order_then_live_or_frozen(
    tmp_path: Path, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """``<name>_1`` is the second answer; then the site lives on, or stays frozen."""
    source = FIXTURES / "envoy" / "metered_battery"
    for file in source.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    first = json.loads((source / "api_v1_production").read_text())
    second = {**first, "wattsNow": 1234, "wattHoursLifetime": 5_000_100}
    _write(tmp_path, "api_v1_production_1", second)
    for frozen in (False, True):
        options = replace(OPTIONS, frozen=frozen)
        async with SimulatedGateway.start(tmp_path, clock=clock, options=options) as gw:
            answers = []
            for _ in range(4):
                async with session.get(
                    f"{gw.url}/api/v1/production", headers=bearer(gw)
                ) as response:
                    answers.append(await response.json())
                clock.advance(600)
        assert answers[:2] == [first, second]
        if frozen:
            assert answers[2:] == [second, second]
        else:
            # Lives on from the last captured answer: its counter keeps growing.
            assert second["wattHoursLifetime"] <= answers[2]["wattHoursLifetime"]
            assert answers[2]["wattHoursLifetime"] < answers[3]["wattHoursLifetime"]


def _corpus_path(name: str) -> str:
    known = {
        "production.json_details_1": "/production.json?details=1",
        "inventory.json_deleted_1": "/inventory.json?deleted=1",
        "inventory": "/inventory.json",
        "production.json": "/production.json",
    }
    if name in known:
        return known[name]
    head = name.replace("_", "/")
    # Underscores inside names of the corpus (dry_contact, gen_config...) stay.
    for word in (
        "dry/contacts",
        "dry/contact/settings",
        "gen/config",
        "gen/schedule",
        "gen/mode",
        "pel/settings",
        "device/data",
    ):
        head = head.replace(word, word.replace("/", "_"))
    return f"/{head}"


async def test_quirk_zeros_stay_zero(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A capture whose production documents read all zeros keeps them (a quirk)."""
    responses = dict(envoy_capture().responses)
    responses["api_v1_production"] = CapturedResponse(
        200,
        {},
        b'{"wattHoursToday": 0, "wattHoursSevenDays": 0, "wattHoursLifetime": 0, "wattsNow": 0}',
    )
    async with SimulatedGateway.start(
        Capture(responses), clock=clock, options=OPTIONS
    ) as gw:
        clock.advance(3600)
        async with session.get(
            f"{gw.url}/api/v1/production", headers=bearer(gw)
        ) as response:
            assert (await response.json())["wattHoursLifetime"] == 0


async def test_evolution_keeps_the_captured_state(
    tmp_path: Path, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Each battery keeps its own charge; a site islanded in the capture stays so."""
    source = FIXTURES / "envoy" / "metered_battery"
    for file in source.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    inventory = json.loads((source / "ivp_ensemble_inventory").read_text())
    for group in inventory:
        for index, device in enumerate(group["devices"]):
            if group["type"] == "ENCHARGE":
                device["percentFull"] = 30 + 50 * index
            if group["type"] == "ENPOWER":
                device["mains_oper_state"] = "open"  # an outage
    _write(tmp_path, "ivp_ensemble_inventory", inventory)
    async with SimulatedGateway.start(tmp_path, clock=clock, options=OPTIONS) as gw:
        answers = []
        for _ in range(2):
            async with session.get(
                f"{gw.url}/ivp/ensemble/inventory", headers=bearer(gw)
            ) as response:
                answers.append(await response.json())
            clock.advance(1800)
    live = {group["type"]: group["devices"] for group in answers[1]}
    socs = [device["percentFull"] for device in live["ENCHARGE"]]
    assert len(socs) >= 2
    assert socs[1] - socs[0] == 50
    assert all(device["mains_oper_state"] == "open" for device in live["ENPOWER"])


async def test_stale_production_endpoint_stays_stale(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Metered without CTs on 8.2.4264+: /api/v1/production stays as stale as captured.

    The site lives on (the inverters' total in production.json grows), so the
    integration keeps meeting the stale document over time, not only at first.
    """
    folder = FIXTURES / "envoy" / "metered_no_ct"
    stale = json.loads((folder / "api_v1_production").read_text())
    async with SimulatedGateway.start(folder, clock=clock, options=OPTIONS) as gw:

        def get(path: str) -> Any:
            return _json(session, gw, path)

        lifetimes = []
        for _ in range(3):
            assert await get("/api/v1/production") == stale
            production = await get("/production.json?details=1")
            inverters = production["production"][0]
            lifetimes.append(inverters["whLifetime"])
            clock.advance(3600)
        assert lifetimes[0] < lifetimes[1] < lifetimes[2]


async def _json(session: aiohttp.ClientSession, gw: SimulatedGateway, path: str) -> Any:
    """The JSON body of an authorised GET that must succeed."""
    async with session.get(f"{gw.url}{path}", headers=bearer(gw)) as response:
        assert response.status == 200
        return await response.json()


def _by_serial(document: object, key: str) -> dict[str, Any]:
    if isinstance(document, dict):
        document = [record for record in document.values() if isinstance(record, dict)]
    assert isinstance(document, list)
    return {item[key]: item for item in document}


async def test_inverters_report_on_their_own_five_minute_step(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Each inverter's watts change at its own report; device data shows that report."""
    folder = FIXTURES / "envoy" / "metered_battery"
    captured = json.loads((folder / "api_v1_production_inverters").read_text())
    steps = {item["serialNumber"]: item["lastReportDate"] % 300 for item in captured}
    assert len(set(steps.values())) == len(steps)
    async with SimulatedGateway.start(folder, clock=clock, options=OPTIONS) as gw:

        def get(path: str) -> Any:
            return _json(session, gw, path)

        assert await get("/api/v1/production/inverters") == captured
        await get("/ivp/pdm/device_data")  # the capture
        clock.advance(241)
        listed = _by_serial(await get("/api/v1/production/inverters"), "serialNumber")
        now = clock.now()
        for serial, item in listed.items():
            reported = item["lastReportDate"]
            assert isinstance(reported, int)
            assert reported % 300 == steps[serial]
            assert now - 300 < reported <= now
        details = _by_serial(await get("/ivp/pdm/device_data"), "sn")
        for serial, item in listed.items():
            channel = details[serial]["channels"][0]
            assert channel["lastReading"]["endDate"] == item["lastReportDate"]
            assert channel["watts"]["now"] == item["lastReportWatts"]
        lifetimes = {
            serial: details[serial]["channels"][0]["lifetime"]["joulesProduced"]
            for serial in listed
        }
        clock.advance(20)  # no inverter reports in these 20 s: nothing moves
        assert (
            _by_serial(await get("/api/v1/production/inverters"), "serialNumber")
            == listed
        )
        clock.advance(10)  # the inverter on step 270 reports, the others stay put
        later = _by_serial(await get("/api/v1/production/inverters"), "serialNumber")
        moved = {s for s in listed if later[s] != listed[s]}
        assert moved == {s for s, step in steps.items() if step == 270}
        for serial in moved:
            reported = later[serial]["lastReportDate"]
            assert reported == listed[serial]["lastReportDate"] + 300
        clock.advance(3600)
        details = _by_serial(await get("/ivp/pdm/device_data"), "sn")
        for serial, before in lifetimes.items():
            assert details[serial]["channels"][0]["lifetime"]["joulesProduced"] > before


async def test_ac_battery_aggregate_lives_where_the_capture_has_it(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """An ACB-only site: ACB_agg_soc and ACB_agg_energy move with the batteries."""
    folder = FIXTURES / "envoy" / "acb"
    captured = json.loads((folder / "ivp_ensemble_secctrl").read_text())
    capacity = captured["Max_energy"]
    async with SimulatedGateway.start(folder, clock=clock, options=OPTIONS) as gw:

        def get(path: str) -> Any:
            return _json(session, gw, path)

        assert await get("/ivp/ensemble/secctrl") == captured
        await get("/production.json?details=1")  # the capture
        clock.advance(3 * 3600)
        secctrl = await get("/ivp/ensemble/secctrl")
        storage = (await get("/production.json?details=1"))["storage"][0]
    assert secctrl["ACB_agg_soc"] != captured["ACB_agg_soc"]
    assert secctrl["ACB_agg_soc"] == secctrl["agg_soc"] == storage["percentFull"]
    assert abs(secctrl["ACB_agg_energy"] - secctrl["agg_soc"] / 100 * capacity) < 25
    assert abs(storage["whNow"] - secctrl["ACB_agg_energy"]) <= 1
    # No IQ Battery on the site: their aggregate stays empty.
    assert secctrl["ENC_agg_soc"] == secctrl["ENC_agg_avail_energy"] == 0


def test_each_battery_group_keeps_its_own_charge() -> None:
    """IQ and AC Batteries beside each other move from their own captured charge."""
    from simulator.envoy_live import LIVE_DOCUMENTS, EnvoySite
    from simulator.live_state import Figures

    doc: dict[str, object] = {
        "agg_soc": 39,
        "Max_energy": 7220,
        "ENC_agg_soc": 54,
        "ENC_agg_avail_energy": 1890,
        "Enc_max_available_capacity": 3500,
        "ACB_agg_soc": 25,
        "ACB_agg_energy": 930,
    }
    figures = Figures(
        time=NOON,
        solar_w=0,
        load_w=0,
        battery_w=0,
        soc=49.0,
        solar_wh=0,
        load_wh=0,
        import_wh=0,
        export_wh=0,
        charge_wh=0,
        discharge_wh=0,
        solar_today_wh=0,
        uptime_s=0,
        rebooted=False,
        jump_wh=0,
    )
    LIVE_DOCUMENTS["ivp_ensemble_secctrl"](doc, figures, EnvoySite({}, 7220, 39.0))
    assert doc["agg_soc"] == 49
    assert (doc["ENC_agg_soc"], doc["ENC_agg_avail_energy"]) == (64, 2240)
    assert (doc["ACB_agg_soc"], doc["ACB_agg_energy"]) == (35, 1302)
