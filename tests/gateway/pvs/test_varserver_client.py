"""PvsClient on the new-firmware varserver API, against the fake PVS."""

import base64

import aiohttp
import pytest

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

from .conftest import FakeFactory

ALL = frozenset(DataGroup)
SERIAL = "ZT244285000549W8841"


async def _client(
    session: aiohttp.ClientSession, host: str, password: str | None = None
) -> PvsClient:
    client = PvsClient(session, host, password)
    await client.setup()
    return client


def _basic(password: str) -> str:
    return "basic " + base64.b64encode(f"ssm_owner:{password}".encode()).decode()


async def test_setup_logs_in_with_serial_suffix(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """Build 61846: varserver, password = last 5 of the serial, cookie as a header."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    assert client.identity.api == "pvs_varserver"
    assert client.identity.serial == SERIAL
    login = fake.of("GET", "/auth?login")
    assert len(login) == 1
    assert login[0].headers["Authorization"] == _basic("W8841")
    await client.refresh(frozenset({DataGroup.LIVE}))
    query = fake.of("GET", "/vars")[0]
    assert query.path == "/vars?match=/sys/livedata/&fmt=obj"
    assert query.headers["Cookie"].startswith("session=")
    assert query.headers["Cookie"].removeprefix("session=") in fake.sessions
    # The shared session keeps no gateway cookie.
    assert len(session.cookie_jar) == 0


async def test_one_request_reads_everything(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """DEVICES reads /sys/ once: info, flash wear, livedata and all devices."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    snapshot = await client.refresh(frozenset({DataGroup.LIVE, DataGroup.DEVICES}))
    assert [r.path for r in fake.of("GET", "/vars")] == ["/vars?match=/sys/&fmt=obj"]
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
    assert ess.get(Quantity.STATE_OF_HEALTH) == 98
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
    due = client.next_data_due(DataGroup.DEVICES, snapshot)
    assert due is not None
    assert due > inverter.data_time


async def test_live_refresh_keeps_devices(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """A LIVE-only refresh updates livedata and keeps the last devices."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    live_only = await client.refresh(frozenset({DataGroup.LIVE}))
    assert live_only.figures.solar_power == pytest.approx(4210.551)
    assert live_only.devices == ()
    await client.refresh(frozenset({DataGroup.DEVICES}))
    fake.vars["/sys/livedata/pv_p"] = "nan"
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.figures.solar_power == pytest.approx(4188.12)  # production meter
    assert len(snapshot.of_kind(DeviceKind.INVERTER)) == 4


async def test_settings_read_the_sunvault_config(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """SETTINGS reads the ESS control settings (storage sites only)."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    snapshot = await client.refresh(ALL)
    assert fake.of("GET", "/vars?match=/ess/config/dcm/")
    assert snapshot.figures.backup_reserve == pytest.approx(20.0)
    assert client.data.ess_config is not None
    assert client.data.ess_config.control_mode == "SELF_CONSUMPTION"


async def test_pv_only_site_skips_ess_settings(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """No ESS, PV-only: no request for SunVault settings."""
    fake = await make_fake("varserver")
    for name in [n for n in fake.vars if "/ess/" in n]:
        del fake.vars[name]
    fake.vars["/sys/info/sys_type"] = "PV-only"
    client = await _client(session, fake.host)
    snapshot = await client.refresh(ALL)
    assert not fake.of("GET", "/vars?match=/ess/")
    assert snapshot.figures.battery_power is None
    assert snapshot.figures.battery_state_of_charge is None


async def test_expired_session_logs_in_once_more(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """401 mid-session: one new login, then the query is repeated."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    await client.refresh(frozenset({DataGroup.LIVE}))
    fake.expire_sessions()
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.figures.solar_power is not None
    assert len(fake.of("GET", "/auth?login")) == 2
    assert [r.path for r in fake.of("GET", "/vars")] == [
        "/vars?match=/sys/livedata/&fmt=obj"
    ] * 3


async def test_refused_twice_is_an_auth_error(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """A query refused right after a fresh login does not loop."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    fake.reply("GET", "/vars?match=/sys/livedata/&fmt=obj", 403, "Forbidden")
    with pytest.raises(InvalidCredentialsError):
        await client.refresh(frozenset({DataGroup.LIVE}))
    assert len(fake.of("GET", "/auth?login")) == 2


async def test_wrong_password(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """A changed owner password: the user must enter it."""
    fake = await make_fake("varserver", password="s3cret")
    with pytest.raises(InvalidCredentialsError):
        await _client(session, fake.host)
    client = await _client(session, fake.host, password="s3cret")
    assert fake.of("GET", "/auth?login")[-1].headers["Authorization"] == _basic(
        "s3cret"
    )
    assert client.identity.api == "pvs_varserver"


async def test_login_without_cookie_uses_body_token(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """A login answer without Set-Cookie still carries the token in its body."""
    fake = await make_fake("varserver")
    fake.sessions.add("bodytoken")
    fake.reply("GET", "/auth?login", 200, {"session": "bodytoken"}, times=1)
    client = await _client(session, fake.host)
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert fake.of("GET", "/vars")[0].headers["Cookie"] == "session=bodytoken"


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
    make_fake: FakeFactory,
    status: int,
    body: object,
    error: type[Exception],
) -> None:
    """Login answers without a session end as typed errors."""
    fake = await make_fake("varserver")
    fake.reply("GET", "/auth?login", status, body)
    with pytest.raises(error):
        await _client(session, fake.host)


async def test_device_list_403_means_varserver(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """No supervisor/info and a forbidden DeviceList: varserver, serial from /sys/info."""
    fake = await make_fake("varserver")
    fake.reply("GET", "/cgi-bin/dl_cgi/supervisor/info", 404, "")
    fake.reply("GET", "/cgi-bin/dl_cgi?Command=DeviceList", 403, "Forbidden")
    with pytest.raises(AuthenticationError):
        await _client(session, fake.host)  # no serial, no password
    client = await _client(session, fake.host, password="W8841")
    assert client.identity.serial == SERIAL
    assert client.identity.api == "pvs_varserver"


async def test_control_mode_write(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """The exact request: POST /vars, body set=<name>=<value>, with the cookie."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    config = await client.set_control_mode(EssControlMode.BACKUP_ONLY)
    post = fake.of("POST", "/vars")
    assert len(post) == 1
    assert post[0].path == "/vars"
    assert post[0].body == b"set=/ess/config/dcm/mode_param/control_mode=BACKUP_ONLY"
    assert post[0].headers["Cookie"].startswith("session=")
    assert config is not None
    assert config.control_mode == "BACKUP_ONLY"
    assert fake.requests[-1].path == "/vars?match=/ess/config/dcm/&fmt=obj"


async def test_min_soc_write(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """The reserve is written as a 0..1 fraction."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    config = await client.set_min_customer_soc(35)
    assert fake.of("POST", "/vars")[0].body == (
        b"set=/ess/config/dcm/control_param/min_customer_soc=0.35"
    )
    assert config is not None
    assert config.min_customer_soc == pytest.approx(0.35)
    with pytest.raises(ValueError):
        await client.set_min_customer_soc(150)


async def test_refused_write(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """A write the PVS refuses is a ControlRefusedError."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    fake.reply("POST", "/vars", 400, "Bad Request")
    with pytest.raises(ControlRefusedError):
        await client.set_control_mode(EssControlMode.SELF_CONSUMPTION)


async def test_uptime_reset_on_varserver(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """/sys/info/uptime going backwards is a restart: the data is kept and the
    next query logs in first (a restarted PVS has forgotten the session)."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    await client.refresh(frozenset({DataGroup.DEVICES}))
    fake.vars["/sys/info/uptime"] = "12.00"
    await client.refresh(frozenset({DataGroup.DEVICES}))
    logins = len(fake.of("GET", "/auth?login"))
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert len(fake.of("GET", "/auth?login")) == logins + 1


async def test_session_dropped_after_a_broken_answer(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """After a malformed answer the session is not trusted: the next query logs in."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    fake.reply("GET", "/vars?match=/sys/livedata/&fmt=obj", 200, "{,]", times=1)
    with pytest.raises(UnexpectedPayloadError):
        await client.refresh(frozenset({DataGroup.LIVE}))
    logins = len(fake.of("GET", "/auth?login"))
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert len(fake.of("GET", "/auth?login")) == logins + 1


async def test_truncated_vars_answer(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """A truncated /vars answer is an UnexpectedPayloadError."""
    fake = await make_fake("varserver")
    client = await _client(session, fake.host)
    fake.reply("GET", "/vars?match=/sys/&fmt=obj", 200, '{"/sys/info/serialnum": "ZT')
    with pytest.raises(UnexpectedPayloadError):
        await client.refresh(frozenset({DataGroup.DEVICES}))
    fake.reply("GET", "/vars?match=/sys/&fmt=obj", 500, "error")
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


async def test_probe_errors(
    session: aiohttp.ClientSession, make_fake: FakeFactory
) -> None:
    """A DeviceList neither answering nor forbidding, or lacking the PVS, fails typed."""
    from custom_components.solar_gateway.gateway.errors import FeatureUnavailableError

    fake = await make_fake(None)
    with pytest.raises(FeatureUnavailableError):
        await _client(session, fake.host)
    fake.reply("GET", "/cgi-bin/dl_cgi?Command=DeviceList", 200, {"devices": []})
    with pytest.raises(UnexpectedPayloadError, match="no PVS supervisor"):
        await _client(session, fake.host)
