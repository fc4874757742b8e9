"""Faults on demand, through the control endpoint and the in-process API."""

import asyncio
import json

import aiohttp
import pytest

from simulator import Fault, FaultName, SimulatedGateway
from simulator.clock import ManualClock
from simulator.faults import FaultBoard, FaultSpecError
from simulator.server import Received, SimulatorOptions

from .conftest import OPTIONS
from .test_envoy import bearer, envoy_capture
from .test_pvs import basic, legacy_capture, varserver_capture


async def post_fault(
    session: aiohttp.ClientSession, gw: SimulatedGateway, body: object
) -> dict[str, object]:
    """Raise a fault through the control endpoint."""
    async with session.post(f"{gw.url}/_simulator/fault", json=body) as response:
        assert response.status == 200
        result: dict[str, object] = await response.json()
        return result


async def test_unavailable_for_a_while(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """503 until the fault's duration has passed."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        await post_fault(session, gw, {"name": "unavailable", "duration": 30})
        async with session.get(f"{gw.url}/info") as response:
            assert response.status == 503
        clock.advance(31)
        async with session.get(f"{gw.url}/info") as response:
            assert response.status == 200


async def test_hang_outlasts_the_client_timeout(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A hanging request times out on the client; the next one answers."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        gw.add_fault(Fault(FaultName.HANG))
        with pytest.raises(TimeoutError):
            async with session.get(
                f"{gw.url}/info", timeout=aiohttp.ClientTimeout(total=0.2)
            ):
                pass
        async with session.get(f"{gw.url}/info") as response:
            assert response.status == 200


async def test_hang_ends_after_its_real_time_limit(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A hang is bounded, so a forgotten fault does not hold requests for ever."""
    options = SimulatorOptions(utc_offset_hours=0.0, hang_seconds=0.01)
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=options
    ) as gw:
        gw.add_fault(Fault(FaultName.HANG))
        async with session.get(f"{gw.url}/info") as response:
            assert response.status == 503


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("malformed_json", "invalid"),
        ("truncated_json", "invalid"),
        ("html_error", "html"),
    ],
)
async def test_spoiled_json_once(
    session: aiohttp.ClientSession, clock: ManualClock, name: str, check: str
) -> None:
    """The next JSON answer is spoiled, the one after is fine; XML is left alone."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        await post_fault(session, gw, {"name": name})
        async with session.get(f"{gw.url}/info") as response:
            assert b"envoy_info" in await response.read()
        url = f"{gw.url}/api/v1/production"
        async with session.get(url, headers=bearer(gw)) as response:
            body = await response.read()
            assert response.status == 200
            if check == "html":
                assert response.content_type == "text/html"
                assert body.startswith(b"<!DOCTYPE html>")
            else:
                with pytest.raises(ValueError):
                    json.loads(body)
        async with session.get(url, headers=bearer(gw)) as response:
            assert "wattsNow" in await response.json()


async def test_token_expired(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Every token issued so far stops working; the simulator offers a new one."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        old = bearer(gw)
        async with session.get(f"{gw.url}/auth/check_jwt", headers=old) as response:
            cookie = response.cookies["sessionId"].value
        result = await post_fault(session, gw, {"name": "token_expired"})
        assert result["token"] == gw.token
        for kwargs in ({"headers": old}, {"cookies": {"sessionId": cookie}}):
            async with session.get(f"{gw.url}/ivp/meters", **kwargs) as response:  # type: ignore[arg-type]
                assert response.status == 401
        async with session.get(f"{gw.url}/ivp/meters", headers=bearer(gw)) as response:
            assert response.status == 200


async def test_session_expired_on_the_pvs(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """On a varserver PVS the fault ends every session."""
    async with SimulatedGateway.start(
        varserver_capture(), clock=clock, options=OPTIONS
    ) as gw:
        base = gw.https_url
        async with session.get(
            f"{base}/auth?login", headers=basic("ssm_owner", "AB345")
        ):
            pass
        gw.add_fault(Fault(FaultName.TOKEN_EXPIRED))
        async with session.get(f"{base}/vars?match=livedata") as response:
            assert response.status == 401


async def test_reboot_forgets_sessions(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A rebooted PVS forgets its login sessions; a rebooted Envoy its session
    cookies, while the tokens it checks stay valid."""
    async with SimulatedGateway.start(
        varserver_capture(), clock=clock, options=OPTIONS
    ) as pvs:
        async with session.get(
            f"{pvs.url}/auth?login", headers=basic("ssm_owner", "AB345")
        ) as response:
            cookie = {"Cookie": f"session={(await response.json())['session']}"}
        async with session.get(f"{pvs.url}/vars?match=livedata", headers=cookie) as r:
            assert r.status == 200
        pvs.add_fault(Fault(FaultName.REBOOT))
        async with session.get(f"{pvs.url}/vars?match=livedata", headers=cookie) as r:
            assert r.status == 401
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as envoy:
        async with session.get(
            f"{envoy.url}/auth/check_jwt", headers=bearer(envoy)
        ) as response:
            cookie = {"Cookie": f"sessionId={response.cookies['sessionId'].value}"}
        async with session.get(f"{envoy.url}/ivp/meters", headers=cookie) as r:
            assert r.status == 200
        envoy.add_fault(Fault(FaultName.REBOOT))
        async with session.get(f"{envoy.url}/ivp/meters", headers=cookie) as r:
            assert r.status == 401
        async with session.get(f"{envoy.url}/ivp/meters", headers=bearer(envoy)) as r:
            assert r.status == 200


async def test_reboot_resets_uptime_and_counters(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """After a reboot uptime starts again and lifetime counters restart from zero."""
    async with SimulatedGateway.start(
        legacy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        url = f"{gw.url}/cgi-bin/dl_cgi?Command=DeviceList"
        async with session.get(url):
            pass  # the first answer is the capture; the site lives on after it
        clock.advance(600)
        await post_fault(session, gw, {"name": "reboot"})
        clock.advance(600)
        async with session.get(url) as response:
            devices = (await response.json())["devices"]
        assert int(devices[0]["dl_uptime"]) <= 600
        assert float(devices[1]["net_ltea_3phsum_kwh"]) < 1.0  # was 1000 kWh


async def test_counter_dip_for_one_read_and_jump(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A dip reads 0 once, on an answer with counters; a jump stays."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        url = f"{gw.url}/api/v1/production"
        for path in ("/api/v1/production", "/api/v1/production/inverters"):
            async with session.get(f"{gw.url}{path}", headers=bearer(gw)):
                pass  # the first answers are the capture; faults spoil live ones
        await post_fault(session, gw, {"name": "counter_dip"})
        async with session.get(
            f"{gw.url}/api/v1/production/inverters", headers=bearer(gw)
        ):
            pass  # no counters there: the dip waits
        async with session.get(url, headers=bearer(gw)) as response:
            assert (await response.json())["wattHoursLifetime"] == 0
        async with session.get(url, headers=bearer(gw)) as response:
            before = (await response.json())["wattHoursLifetime"]
        assert before >= 500000
        await post_fault(session, gw, {"name": "counter_jump", "amount": 10000})
        for _ in range(2):
            async with session.get(url, headers=bearer(gw)) as response:
                assert (await response.json())["wattHoursLifetime"] == before + 10000
        gw.add_fault(Fault(FaultName.COUNTER_JUMP))
        assert gw.state.figures().jump_wh == 10000 + 1_000_000


async def test_stale_data_keeps_datatime(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """While stale, DeviceList repeats the same DATATIME and values."""
    async with SimulatedGateway.start(
        legacy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        url = f"{gw.url}/cgi-bin/dl_cgi?Command=DeviceList"
        async with session.get(url):
            pass  # the first answer is the capture; the site lives on after it
        gw.add_fault(Fault(FaultName.STALE, duration=3600))
        async with session.get(url) as response:
            first = (await response.json())["devices"]
        clock.advance(1800)
        async with session.get(url) as response:
            later = (await response.json())["devices"]
        assert later[0]["DATATIME"] == first[0]["DATATIME"]
        assert later[1]["net_ltea_3phsum_kwh"] == first[1]["net_ltea_3phsum_kwh"]
        assert later[0]["CURTIME"] != first[0]["CURTIME"]
        clock.advance(1801)
        async with session.get(url) as response:
            fresh = (await response.json())["devices"]
        assert fresh[0]["DATATIME"] != first[0]["DATATIME"]


async def test_control_endpoint(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """State, bad faults, clearing and the manual clock."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        for body in (
            {"name": "meteor"},
            [1],
            {"name": "stale", "duration": -1},
            {"name": "stale", "count": "x"},
        ):
            async with session.post(
                f"{gw.url}/_simulator/fault", json=body
            ) as response:
                assert response.status == 400
        async with session.post(f"{gw.url}/_simulator/fault", data=b"{") as response:
            assert response.status == 400
        await post_fault(session, gw, {"name": "stale"})
        await post_fault(session, gw, {"name": "html_error", "count": 2})
        async with session.get(f"{gw.url}/_simulator/state") as response:
            state = await response.json()
        assert state["kind"] == "envoy"
        assert state["serial"] == "122233344455"
        assert {fault["name"] for fault in state["faults"]} == {"stale", "html_error"}
        assert state["controls"]["relay"] == "closed"
        assert state["figures"]["solar_w"] > 0
        async with session.delete(f"{gw.url}/_simulator/fault?name=stale") as response:
            assert [f["name"] for f in (await response.json())["faults"]] == [
                "html_error"
            ]
        async with session.delete(f"{gw.url}/_simulator/fault?name=meteor") as response:
            assert response.status == 400
        async with session.delete(f"{gw.url}/_simulator/fault") as response:
            assert (await response.json())["faults"] == []
        async with session.post(
            f"{gw.url}/_simulator/clock", json={"advance": 60}
        ) as r:
            assert (await r.json())["time"] == clock.now()
        async with session.post(f"{gw.url}/_simulator/clock", json={}) as response:
            assert response.status == 400


async def test_clock_control_needs_a_manual_clock(
    session: aiohttp.ClientSession,
) -> None:
    """On the real clock, time cannot be moved; tokens still work."""
    async with SimulatedGateway.start(envoy_capture(), options=OPTIONS) as gw:
        async with session.post(f"{gw.url}/_simulator/clock", json={"advance": 1}) as r:
            assert r.status == 409
        async with session.get(f"{gw.url}/ivp/meters", headers=bearer(gw)) as response:
            assert response.status == 200


async def test_faults_from_options(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Faults given at start (the CLI's --fault) are in force at once."""
    options = SimulatorOptions(
        utc_offset_hours=0.0, faults=(Fault.parse("unavailable:5"),)
    )
    async with (
        SimulatedGateway.start(envoy_capture(), clock=clock, options=options) as gw,
        session.get(f"{gw.url}/info") as response,
    ):
        assert response.status == 503


def test_fault_specs() -> None:
    """Command-line and JSON fault specs, and the board's counting."""
    assert Fault.parse("stale:60") == Fault(FaultName.STALE, duration=60.0)
    assert Fault.parse("reboot") == Fault(FaultName.REBOOT)
    for bad in ("stale:x", "meteor", "stale:-1"):
        with pytest.raises(FaultSpecError):
            Fault.parse(bad)
    with pytest.raises(FaultSpecError):
        Fault.from_json({"name": "stale", "count": True})
    board = FaultBoard()
    board.add(Fault(FaultName.HANG, count=2), now=0)
    assert board.take(FaultName.HANG, 0)
    assert board.describe(0) == [
        {"name": "hang", "seconds_left": None, "count_left": 1}
    ]
    assert board.take(FaultName.HANG, 0)
    assert not board.take(FaultName.HANG, 0)
    board.add(Fault(FaultName.UNAVAILABLE), now=0)  # 60 s by default
    assert board.is_active(FaultName.UNAVAILABLE, 59)
    assert board.describe(61) == []


async def test_issue_token_needs_a_token_gateway(clock: ManualClock) -> None:
    """Only Envoy firmware 7+ issues tokens."""
    async with SimulatedGateway.start(
        legacy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        with pytest.raises(FaultSpecError):
            gw.issue_token()
    await asyncio.sleep(0)


async def test_answers_and_faults_on_one_path(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A fixed answer or a fault limited to one request leaves the others alone."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        await post_fault(
            session,
            gw,
            {
                "name": "answer",
                "path": "/ivp/meters",
                "method": "get",
                "status": 502,
                "body": {"error": "busy"},
            },
        )
        gw.answer("GET", "/info", 200, "<html>router</html>", count=1)
        gw.add_fault(Fault(FaultName.UNAVAILABLE, path="/production.json?details=1"))
        headers = bearer(gw)
        async with session.get(f"{gw.url}/ivp/meters", headers=headers) as response:
            assert response.status == 502
            assert response.content_type == "application/json"
            assert await response.json() == {"error": "busy"}
        async with session.post(f"{gw.url}/ivp/meters", headers=headers) as response:
            assert response.status == 405  # another method: the gateway's answer
        async with session.get(f"{gw.url}/info") as response:
            assert response.content_type == "text/html"
            assert await response.text() == "<html>router</html>"
        async with session.get(f"{gw.url}/info") as response:
            assert "envoy_info" in await response.text()  # once only
        async with session.get(
            f"{gw.url}/production.json?details=1", headers=headers
        ) as response:
            assert response.status == 503
        async with session.get(f"{gw.url}/production.json", headers=headers) as r:
            assert r.status == 200  # another query: not that request
        async with session.get(f"{gw.url}/_simulator/state") as response:
            faults = (await response.json())["faults"]
        assert {"name": "answer", "path": "/ivp/meters", "method": "GET"}.items() <= (
            faults[0].items()
        )
        assert faults[0]["status"] == 502
        assert faults[0]["count_left"] is None  # until cleared
        async with session.delete(
            f"{gw.url}/_simulator/fault?name=answer&path=/ivp/meters"
        ) as response:
            assert [f["name"] for f in (await response.json())["faults"]] == [
                "unavailable"
            ]
        async with session.get(f"{gw.url}/ivp/meters", headers=headers) as response:
            assert response.status == 200


def test_path_fault_specs() -> None:
    """Only faults about one answer take a path; paths, methods and statuses are checked."""
    for bad in (
        {"name": "reboot", "path": "/info"},
        {"name": "stale", "method": "GET"},
        {"name": "answer", "path": "info"},
        {"name": "answer", "method": "FETCH"},
        {"name": "answer", "status": 42},
        {"name": "answer", "path": ""},
        {"name": "answer", "path": 7},
    ):
        with pytest.raises(FaultSpecError):
            Fault.from_json(bad)
    assert Fault(FaultName.ANSWER, body="plain").answer_type == "text/plain"
    assert Fault(FaultName.ANSWER, body="[1]").answer_type == "application/json"
    typed = Fault(FaultName.ANSWER, body="x", content_type="text/xml")
    assert typed.answer_type == "text/xml"
    board = FaultBoard()
    board.add(Fault(FaultName.HANG), now=0)
    board.add(Fault(FaultName.HANG, path="/vars", count=2), now=0)
    # The fault on this request wins over the one on every request.
    taken = board.take(FaultName.HANG, 0, "GET", "/vars?match=/sys/")
    assert taken is not None
    assert taken.path == "/vars"
    assert board.find(FaultName.HANG, 0) == Fault(FaultName.HANG)
    assert board.amount(FaultName.COUNTER_SPIKE) is None
    board.clear(path="/vars")
    assert board.take(FaultName.HANG, 0, "GET", "/vars") == Fault(FaultName.HANG)


async def test_request_log(session: aiohttp.ClientSession, clock: ManualClock) -> None:
    """Every request, with its method, path, query, headers and body, in process and
    through the control endpoint; the control endpoint itself is not logged."""
    async with SimulatedGateway.start(
        varserver_capture(), clock=clock, options=OPTIONS
    ) as gw:
        async with session.post(
            f"{gw.url}/vars?fmt=obj", data=b"set=/x=1", headers={"X-Test": "yes"}
        ):
            pass
        async with session.get(f"{gw.url}/auth?login") as response:
            assert response.status == 401
        [write] = gw.received("POST", "/vars")
        assert write.query == {"fmt": "obj"}
        assert write.body == b"set=/x=1"
        assert write.headers["X-Test"] == "yes"
        assert gw.received("GET", "/auth?login")[0].query == {"login": ""}
        assert gw.received(path="/auth?logout") == []
        async with session.get(f"{gw.url}/_simulator/requests") as response:
            logged = await response.json()
        assert [(r["method"], r["path"], r["query"], r["body"]) for r in logged] == [
            ("POST", "/vars", {"fmt": "obj"}, "set=/x=1"),
            ("GET", "/auth", {"login": ""}, ""),
        ]
        assert logged[0]["time"] == clock.now()
        async with session.delete(f"{gw.url}/_simulator/requests") as response:
            assert await response.json() == []
        assert gw.requests == []
        with pytest.raises(ValueError):
            Received(0.0, "GET", "/", body=b"not json").json()


async def test_changed_owner_password(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A PVS whose owner password was changed refuses the serial's last 5."""
    options = SimulatorOptions(utc_offset_hours=0.0, owner_password="s3cret")
    async with SimulatedGateway.start(
        varserver_capture(), clock=clock, options=options
    ) as gw:
        serial = gw.identity.serial
        async with session.get(
            f"{gw.url}/auth?login", headers=basic("ssm_owner", serial[-5:])
        ) as response:
            assert response.status == 401
        async with session.get(
            f"{gw.url}/auth?login", headers=basic("ssm_owner", "s3cret")
        ) as response:
            assert response.status == 200


async def test_token_without_expiry(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A token issued without ``exp`` is accepted until the gateway drops it."""
    async with SimulatedGateway.start(
        envoy_capture(), clock=clock, options=OPTIONS
    ) as gw:
        token = gw.issue_token(expiring=False)
        headers = {"Authorization": f"Bearer {token}"}
        clock.advance(10 * 365 * 86400)
        async with session.get(f"{gw.url}/ivp/meters", headers=headers) as response:
            assert response.status == 200
        gw.add_fault(Fault(FaultName.TOKEN_EXPIRED))
        async with session.get(f"{gw.url}/ivp/meters", headers=headers) as response:
            assert response.status == 401
