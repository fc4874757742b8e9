"""PvsClient on the new-firmware varserver API, against the simulated PVS."""

import base64
from dataclasses import replace
from datetime import timedelta
import json

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.capture import read_capture
from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.errors import (
    AuthenticationError,
    ControlRefusedError,
    GatewayBusyError,
    InvalidCredentialsError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.pvs import EssControlMode, PvsClient
from custom_components.solar_gateway.gateway.site import DeviceKind, Phase, Quantity
from simulator.clock import ManualClock
from simulator.faults import Fault, FaultName
from simulator.pvs_varserver import DEFAULT_SESSION_SECONDS, PvsVarserverPersonality
from simulator.server import Received, SimulatedGateway
from tests.conftest import FIXTURES
from tests.gateway.conftest import Simulate

ALL = frozenset(DataGroup)
SERIAL = "ZT244285000549W8841"
SCENARIO = "pvs/varserver"
VARS: dict[str, str] = json.loads(
    (FIXTURES / SCENARIO / "vars_fmt_obj.json").read_text()
)
LIVEDATA = "/vars?match=/sys/livedata/&fmt=obj"
LOGIN = "/auth?login"


async def _client(
    session: aiohttp.ClientSession, gw: SimulatedGateway, password: str | None = None
) -> PvsClient:
    client = PvsClient(session, gw.url, password)
    await client.setup()
    return client


def _pvs(gw: SimulatedGateway) -> PvsVarserverPersonality:
    assert isinstance(gw.personality, PvsVarserverPersonality)
    return gw.personality


def _queries(gw: SimulatedGateway, match: str) -> list[Received]:
    """The ``/vars`` reads whose ``match`` starts with ``match``."""
    return [
        r
        for r in gw.received("GET", "/vars")
        if r.query.get("match", "").startswith(match)
    ]


def _basic(password: str) -> str:
    return "basic " + base64.b64encode(f"ssm_owner:{password}".encode()).decode()


async def test_setup_logs_in_with_serial_suffix(
    session: aiohttp.ClientSession, simulate: Simulate, clock: ManualClock
) -> None:
    """Build 61846: varserver, password = last 5 of the serial, cookie as a header."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    assert client.identity.api == "pvs_varserver"
    assert client.identity.serial == SERIAL
    login = gw.received("GET", LOGIN)
    assert len(login) == 1
    assert login[0].headers["Authorization"] == _basic("W8841")
    await client.refresh(frozenset({DataGroup.LIVE}))
    query = gw.received("GET", "/vars")[0]
    assert query.path == "/vars?match=/sys/livedata/&fmt=obj"
    assert query.headers["Cookie"].startswith("session=")
    cookie = query.headers["Cookie"].removeprefix("session=")
    assert _pvs(gw).session_valid(cookie, clock.now())
    # The shared session keeps no gateway cookie.
    assert len(session.cookie_jar) == 0


async def test_one_request_reads_everything(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """DEVICES reads /sys/ once: info, flash wear, livedata and all devices."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    snapshot = await client.refresh(frozenset({DataGroup.LIVE, DataGroup.DEVICES}))
    assert [r.path for r in gw.received("GET", "/vars")] == [
        "/vars?match=/sys/&fmt=obj"
    ]
    figures = snapshot.figures
    assert figures.solar_power == pytest.approx(4210.551)
    assert figures.grid_power == pytest.approx(-1902.233)
    assert figures.consumption_power == pytest.approx(1508.318)
    assert figures.consumption_energy == pytest.approx(4930119.873)
    assert figures.battery_power == pytest.approx(-800.0)  # charging
    assert figures.battery_state_of_charge == pytest.approx(64.0)
    # The consumption meter's net equals livedata net: it is the grid meter.
    assert figures.grid_import_energy == pytest.approx(2275441.04)
    assert figures.grid_export_energy == pytest.approx(3120551.025)
    assert figures.backup_reserve is None  # SETTINGS not read yet
    # The SunVault's ESS meter: pos delivered to the house, neg taken from it.
    assert figures.battery_discharged_energy == pytest.approx(1495109.009)
    assert figures.battery_charged_energy == pytest.approx(1840220.947)
    assert figures.grid_connected is True  # the Hub+ MID is closed
    kinds = sorted(device.kind for device in snapshot.devices)
    assert kinds.count(DeviceKind.INVERTER) == 4
    assert DeviceKind.ESS in kinds
    assert DeviceKind.TRANSFER_SWITCH in kinds
    gateway = snapshot.of_kind(DeviceKind.GATEWAY)[0]
    assert gateway.get(Quantity.FLASH_WEAR) == 30
    assert gateway.get(Quantity.FLASH_FREE) == 39
    assert client.data.varserver is not None
    assert client.data.varserver.supervisor is not None
    assert client.data.varserver.supervisor.flash_worn_out is False
    ess = snapshot.of_kind(DeviceKind.ESS)[0]
    assert ess.serial == "00003ABC4455_ZT244285000549W8841"
    assert ess.model == "SunVault"
    assert ess.model_id == "SPWR-Equinox-model"
    # The only SunVault: its power and charge are the site's, shown there once.
    assert ess.get(Quantity.POWER) is None
    assert ess.get(Quantity.STATE_OF_CHARGE) is None
    assert ess.get(Quantity.MODE) is None  # the control mode select shows it
    assert ess.get(Quantity.STATE_OF_HEALTH) == 100  # sohVal "1": as new
    assert ess.get(Quantity.BACKUP_TIME) == 812 * 60
    assert ess.get(Quantity.MAX_CHARGE_POWER) == pytest.approx(6800.0)
    assert ess.get(Quantity.MAX_DISCHARGE_POWER) == pytest.approx(6800.0)
    assert ess.get(Quantity.MIN_CELL_TEMPERATURE) == 22
    assert ess.get(Quantity.MAX_CELL_TEMPERATURE) == 24
    assert gateway.mac == "00:22:f2:aa:bb:cc"
    switch = snapshot.of_kind(DeviceKind.TRANSFER_SWITCH)[0]
    assert switch.model == "Hub+"
    meter = snapshot.device("PVS6M24428841c")
    assert meter is not None
    assert meter.get(Quantity.CURRENT, Phase.L2) == pytest.approx(7.902201)
    inverter = snapshot.device("E001244095520")
    assert inverter is not None
    assert inverter.data_time is not None
    assert client.next_data_due(DataGroup.LIVE, snapshot) is None
    reported = inverter.data_time
    client.now = lambda: reported + timedelta(seconds=30)  # type: ignore[method-assign]
    due = client.next_data_due(DataGroup.DEVICES, snapshot)
    assert due is not None
    assert due > reported
    # Devices silent for long (a stale PVS): the configured interval, no alignment.
    client.now = lambda: reported + timedelta(hours=1)  # type: ignore[method-assign]
    assert client.next_data_due(DataGroup.DEVICES, snapshot) is None


async def test_live_refresh_keeps_devices(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """A LIVE-only refresh updates livedata and keeps the last devices."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    live_only = await client.refresh(frozenset({DataGroup.LIVE}))
    assert live_only.figures.solar_power == pytest.approx(4210.551)
    assert live_only.devices == ()
    await client.refresh(frozenset({DataGroup.DEVICES}))
    livedata = {name: value for name, value in VARS.items() if "/sys/livedata/" in name}
    gw.answer("GET", LIVEDATA, body=livedata | {"/sys/livedata/pv_p": "nan"})
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.figures.solar_power == pytest.approx(4188.12)  # production meter
    assert len(snapshot.of_kind(DeviceKind.INVERTER)) == 4


async def test_controls_follow_the_settings(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Polls that change no setting show the same controls; a write new ones."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    first = await client.refresh(frozenset(DataGroup))
    assert first.controls
    again = await client.refresh(frozenset({DataGroup.LIVE}))
    assert again.controls == first.controls
    await client.set_min_customer_soc(35)
    changed = await client.refresh(frozenset({DataGroup.SETTINGS}))
    assert changed.controls != first.controls


async def test_settings_read_the_sunvault_config(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """SETTINGS reads the ESS control settings (storage sites only)."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    snapshot = await client.refresh(ALL)
    assert _queries(gw, "/ess/config/dcm/")
    assert snapshot.figures.backup_reserve == pytest.approx(20.0)
    assert client.data.ess_config is not None
    assert client.data.ess_config.control_mode == "SELF_CONSUMPTION"


async def test_pv_only_site_skips_ess_settings(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """No ESS, PV-only: no request for SunVault settings."""
    capture = read_capture(FIXTURES / SCENARIO)
    dump = capture.responses["vars_fmt_obj.json"]
    pv_only = {name: value for name, value in VARS.items() if "/ess/" not in name}
    pv_only["/sys/info/sys_type"] = "PV-only"
    body = json.dumps(pv_only).encode()
    responses = {**capture.responses, "vars_fmt_obj.json": replace(dump, body=body)}
    gw = await simulate(replace(capture, responses=responses))
    client = await _client(session, gw)
    snapshot = await client.refresh(ALL)
    assert gw.received("GET", "/vars")
    assert not _queries(gw, "/ess/")
    assert snapshot.figures.battery_power is None
    assert snapshot.figures.battery_state_of_charge is None


async def test_expired_session_logs_in_once_more(
    session: aiohttp.ClientSession, simulate: Simulate, clock: ManualClock
) -> None:
    """401 mid-session: one new login, then the query is repeated."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    await client.refresh(frozenset({DataGroup.LIVE}))
    clock.advance(DEFAULT_SESSION_SECONDS)  # the PVS forgets the session
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.figures.solar_power is not None
    assert len(gw.received("GET", LOGIN)) == 2
    assert [r.path for r in gw.received("GET", "/vars")] == [
        "/vars?match=/sys/livedata/&fmt=obj"
    ] * 3


async def test_refused_twice_is_an_auth_error(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """A query refused right after a fresh login does not loop."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    gw.answer("GET", LIVEDATA, 403, "Forbidden")
    with pytest.raises(InvalidCredentialsError):
        await client.refresh(frozenset({DataGroup.LIVE}))
    assert len(gw.received("GET", LOGIN)) == 2


async def test_wrong_password(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """A changed owner password: the user must enter it."""
    gw = await simulate(SCENARIO, owner_password="s3cret")
    with pytest.raises(InvalidCredentialsError):
        await _client(session, gw)
    client = await _client(session, gw, password="s3cret")
    assert gw.received("GET", LOGIN)[-1].headers["Authorization"] == _basic("s3cret")
    assert client.identity.api == "pvs_varserver"


async def test_login_without_cookie_uses_body_token(
    session: aiohttp.ClientSession, simulate: Simulate, clock: ManualClock
) -> None:
    """A login answer without Set-Cookie still carries the token in its body."""
    gw = await simulate(SCENARIO)
    token = _pvs(gw).open_session(clock.now())
    gw.answer("GET", LOGIN, body={"session": token}, count=1)
    client = await _client(session, gw)
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert gw.received("GET", "/vars")[0].headers["Cookie"] == f"session={token}"
    assert len(gw.received("GET", LOGIN)) == 1  # the token was good


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, {"nothing": 1}, UnexpectedPayloadError),
        (500, "boom", UnexpectedPayloadError),
        (503, "<html>503</html>", GatewayBusyError),
    ],
)
async def test_bad_login_answers(
    session: aiohttp.ClientSession,
    simulate: Simulate,
    status: int,
    body: object,
    error: type[Exception],
) -> None:
    """Login answers without a session end as typed errors."""
    gw = await simulate(SCENARIO)
    gw.answer("GET", LOGIN, status, body)
    with pytest.raises(error):
        await _client(session, gw)


async def test_device_list_403_means_varserver(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """No supervisor/info and a forbidden DeviceList: varserver, serial from /sys/info."""
    gw = await simulate(SCENARIO)
    gw.answer("GET", "/cgi-bin/dl_cgi/supervisor/info", 404, "")
    # The simulated varserver PVS forbids the DeviceList, as a real one does.
    with pytest.raises(AuthenticationError):
        await _client(session, gw)  # no serial, no password
    client = await _client(session, gw, password="W8841")
    assert client.identity.serial == SERIAL
    assert client.identity.api == "pvs_varserver"


async def test_control_mode_write(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """The exact request: POST /vars, body set=<name>=<value>, with the cookie."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    config = await client.set_control_mode(EssControlMode.BACKUP_ONLY)
    post = gw.received("POST", "/vars")
    assert len(post) == 1
    assert post[0].path == "/vars"
    assert post[0].body == b"set=/ess/config/dcm/mode_param/control_mode=BACKUP_ONLY"
    assert post[0].headers["Cookie"].startswith("session=")
    assert config is not None
    assert config.control_mode == "BACKUP_ONLY"
    assert gw.requests[-1].path == "/vars?match=/ess/config/dcm/&fmt=obj"


async def test_min_soc_write(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """The reserve is written as a 0..1 fraction."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    config = await client.set_min_customer_soc(35)
    assert gw.received("POST", "/vars")[0].body == (
        b"set=/ess/config/dcm/control_param/min_customer_soc=0.35"
    )
    assert config is not None
    assert config.min_customer_soc == pytest.approx(0.35)
    with pytest.raises(ValueError):
        await client.set_min_customer_soc(150)


async def test_refused_write(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """A write the PVS refuses is a ControlRefusedError."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    gw.answer("POST", "/vars", 400, "Bad Request")
    with pytest.raises(ControlRefusedError):
        await client.set_control_mode(EssControlMode.SELF_CONSUMPTION)


async def test_uptime_reset_on_varserver(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """/sys/info/uptime going backwards is a restart: the data is kept and the
    next query logs in first (a restarted PVS has forgotten the session)."""
    gw = await simulate(SCENARIO, frozen=False)
    client = await _client(session, gw)
    await client.refresh(frozenset({DataGroup.DEVICES}))
    before = client.data.varserver
    gw.add_fault(Fault(FaultName.REBOOT))
    await client.refresh(frozenset({DataGroup.DEVICES}))
    after = client.data.varserver
    assert before is not None
    assert before.supervisor is not None
    assert after is not None
    assert after.supervisor is not None
    assert (after.supervisor.uptime_s or 0) < (before.supervisor.uptime_s or 0)
    sent = len(gw.requests)
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert [r.path for r in gw.requests[sent:]] == [LOGIN, LIVEDATA]


async def test_session_dropped_after_a_broken_answer(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """After a malformed answer the session is not trusted: the next query logs in."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    gw.add_fault(Fault(FaultName.MALFORMED_JSON, path=LIVEDATA, count=1))
    with pytest.raises(UnexpectedPayloadError):
        await client.refresh(frozenset({DataGroup.LIVE}))
    logins = len(gw.received("GET", LOGIN))
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert len(gw.received("GET", LOGIN)) == logins + 1


async def test_truncated_vars_answer(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """A truncated /vars answer is an UnexpectedPayloadError."""
    gw = await simulate(SCENARIO)
    client = await _client(session, gw)
    everything = "/vars?match=/sys/&fmt=obj"
    gw.add_fault(Fault(FaultName.TRUNCATED_JSON, path=everything, count=1))
    with pytest.raises(UnexpectedPayloadError):
        await client.refresh(frozenset({DataGroup.DEVICES}))
    gw.answer("GET", everything, 500, "error")
    with pytest.raises(UnexpectedPayloadError):
        await client.refresh(frozenset({DataGroup.DEVICES}))


def test_session_token_sources() -> None:
    """Set-Cookie first (bad cookies skipped), then the JSON body, else None."""
    from multidict import CIMultiDict, CIMultiDictProxy

    from custom_components.solar_gateway.gateway.pvs.varserver import (
        session_from_response,
    )
    from custom_components.solar_gateway.gateway.transport import Response

    def answer(cookies: list[str], body: bytes) -> Response:
        headers: CIMultiDict[str] = CIMultiDict()
        for cookie in cookies:
            headers.add("Set-Cookie", cookie)
        return Response("GET", "/auth?login", 200, CIMultiDictProxy(headers), body)

    assert session_from_response(answer(["a=b; Path=/", "session=tok"], b"")) == "tok"
    assert session_from_response(answer(['bad"cookie=\x00'], b"not json")) is None
    assert session_from_response(answer([], b'{"session": ""}')) is None


async def test_probe_errors(session: aiohttp.ClientSession, simulate: Simulate) -> None:
    """A DeviceList neither answering nor forbidding, or lacking the PVS, fails typed."""
    from custom_components.solar_gateway.gateway.errors import FeatureUnavailableError

    gw = await simulate("pvs/legacy_basic")
    gw.answer("GET", "/cgi-bin/dl_cgi/supervisor/info", 404, "")
    gw.answer("GET", "/cgi-bin/dl_cgi?Command=DeviceList", 404, "")
    with pytest.raises(FeatureUnavailableError):
        await _client(session, gw)
    gw.answer("GET", "/cgi-bin/dl_cgi?Command=DeviceList", 200, {"devices": []})
    with pytest.raises(UnexpectedPayloadError, match="no PVS supervisor"):
        await _client(session, gw)
