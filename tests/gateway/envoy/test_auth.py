"""Authentication paths: cloud token, pasted token, expiry, 401 mid-session, MFA,
bad password, digest for firmware < 7.

The simulated Envoy checks tokens as a real one does (it accepts those it issued,
until they expire or it drops them) and digest credentials before firmware 7; it
also answers Enlighten's and Entrez's paths, standing in for the cloud.
"""

import json

import aiohttp
from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy import (
    EnvoyClient,
    decode_token,
    installer_password,
)
from custom_components.solar_gateway.gateway.envoy.auth import envoy_password
from custom_components.solar_gateway.gateway.envoy.endpoints import Endpoint
from custom_components.solar_gateway.gateway.errors import (
    CloudConnectionError,
    GatewayConnectionError,
    InvalidCredentialsError,
    MfaRequiredError,
    TokenExpiredError,
    TokenForAnotherGatewayError,
    UnexpectedPayloadError,
)
from simulator.clock import ManualClock
from simulator.faults import Fault, FaultName
from simulator.server import Received, SimulatedGateway
from tests.conftest import make_token
from tests.gateway.conftest import NOW, Simulate

from .helpers import ENVOY_FIXTURES, address

SERIAL = "202400000789"
YEAR = 365 * 86400


class Cloud:
    """Enlighten and Entrez, answered at their paths by the simulated gateway."""

    def __init__(self, gw: SimulatedGateway, token: str) -> None:
        self.gw = gw
        self.token = token
        gw.answer(
            "POST",
            "/login/login.json",
            200,
            {"message": "success", "session_id": "s3ss", "is_consumer": True},
        )
        gw.answer("POST", "/tokens", 200, token)

    def client(self, session: aiohttp.ClientSession, **kwargs: object) -> EnvoyClient:
        return EnvoyClient(
            session,
            address(self.gw),
            enlighten_url=self.gw.url,
            entrez_url=self.gw.url,
            clock=self.gw.clock.now,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
async def gw(simulate: Simulate) -> SimulatedGateway:
    """A firmware 8 Envoy with CTs and batteries."""
    return await simulate("envoy/metered_battery")


def _drop_tokens(gw: SimulatedGateway) -> None:
    """The gateway stops accepting every token it issued so far."""
    gw.add_fault(Fault(FaultName.TOKEN_EXPIRED))


def _bearer(request: Received) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


async def test_token_from_account(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """Email and password: Enlighten login, Entrez token, then used; the gateway
    accepting it on every read, nobody asks it to check the token."""
    token = gw.issue_token(lifetime=YEAR)
    cloud = Cloud(gw, token)
    client = cloud.client(session, username="me@example.com", password="pw")
    await client.setup()
    login = gw.received("POST", "/login/login.json")[0]
    assert (
        login.body.decode() == "user%5Bemail%5D=me%40example.com&user%5Bpassword%5D=pw"
    )
    entrez = gw.received("POST", "/tokens")[0]
    assert entrez.json() == {
        "session_id": "s3ss",
        "serial_num": SERIAL,
        "username": "me@example.com",
    }
    assert not gw.received("GET", "/auth/check_jwt")
    readings = gw.received("GET", "/ivp/meters/readings")
    assert readings
    assert all(_bearer(r) == token for r in readings)
    assert Endpoint.METER_READINGS in client.features


async def test_bad_password(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A rejected password is InvalidCredentialsError."""
    cloud = Cloud(gw, make_token())
    gw.answer(
        "POST", "/login/login.json", 401, {"message": "Invalid email or password"}
    )
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session, username="me@example.com", password="bad").setup()


async def test_blocked_account(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A blocked account is InvalidCredentialsError."""
    cloud = Cloud(gw, make_token())
    gw.answer("POST", "/login/login.json", 200, {"success": False, "isBlocked": True})
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session, username="me@example.com", password="pw").setup()


async def test_mfa_account(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """An MFA account (login succeeds without a session) is MfaRequiredError."""
    cloud = Cloud(gw, make_token())
    gw.answer("POST", "/login/login.json", 200, {"success": True, "isBlocked": False})
    with pytest.raises(MfaRequiredError):
        await cloud.client(session, username="me@example.com", password="pw").setup()
    assert not gw.received("POST", "/tokens")


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, "", GatewayConnectionError),
        (200, "not json", UnexpectedPayloadError),
        (200, "[1]", UnexpectedPayloadError),
        (200, '{"message": "odd"}', InvalidCredentialsError),
    ],
)
async def test_login_odd_answers(
    gw: SimulatedGateway,
    session: aiohttp.ClientSession,
    status: int,
    body: str,
    error: type[Exception],
) -> None:
    """Unexpected login answers are typed errors."""
    cloud = Cloud(gw, make_token())
    gw.answer("POST", "/login/login.json", status, body)
    with pytest.raises(error):
        await cloud.client(session, username="me@example.com", password="pw").setup()


@pytest.mark.parametrize(
    ("status", "error"), [(403, InvalidCredentialsError), (502, CloudConnectionError)]
)
async def test_entrez_refuses(
    gw: SimulatedGateway,
    session: aiohttp.ClientSession,
    status: int,
    error: type[Exception],
) -> None:
    """Entrez refusing this gateway, or failing, is a typed error."""
    cloud = Cloud(gw, make_token())
    gw.answer("POST", "/tokens", status, "no")
    with pytest.raises(error):
        await cloud.client(session, username="me@example.com", password="pw").setup()


async def test_pasted_token(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A pasted token is used as is; no cloud request."""
    token = gw.issue_token(user="installer", lifetime=86400)
    cloud = Cloud(gw, token)
    client = cloud.client(session, token=token)
    await client.setup()
    assert not gw.received("POST", "/login/login.json")
    info = decode_token(token)
    assert info.user_type == "installer"
    assert info.expires is not None
    assert info.expires.timestamp() == int(NOW) + 86400


async def test_pasted_token_rejected(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A pasted token the gateway refuses, without an account, is invalid."""
    cloud = Cloud(gw, gw.issue_token())
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session, token=make_token(marker="other")).setup()
    # Refused at the first read, then asked once: the token is at fault.
    assert [_bearer(r) for r in gw.received("GET", "/auth/check_jwt")] == [
        make_token(marker="other")
    ]
    assert len(gw.received("GET", "/ivp/meters")) == 1


async def test_token_for_another_gateway(
    gw: SimulatedGateway, session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """A token whose audience is another serial is refused before it is sent."""
    other = await simulate("envoy/generator_running")
    token = other.issue_token(lifetime=YEAR)
    assert decode_token(token).serial == other.identity.serial
    with pytest.raises(TokenForAnotherGatewayError) as caught:
        await Cloud(gw, token).client(session, token=token).setup()
    assert caught.value.token_serial == other.identity.serial
    assert not any(_bearer(r) == token for r in gw.requests)


def test_garbage_token() -> None:
    """Something that is not a JWT is invalid credentials."""
    with pytest.raises(InvalidCredentialsError):
        decode_token("not-a-jwt")


async def test_no_credentials_on_fw7(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """Firmware 7+ without account or token cannot authenticate."""
    cloud = Cloud(gw, gw.issue_token())
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session).setup()


async def test_expired_token_without_account(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """An expired pasted token and no account: TokenExpiredError."""
    token = gw.issue_token(lifetime=-1)
    cloud = Cloud(gw, token)
    with pytest.raises(TokenExpiredError):
        await cloud.client(session, token=token).setup()


async def test_expired_token_with_account(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """An expired token is replaced from the account at setup, before any read."""
    old = gw.issue_token(lifetime=-1)
    new = gw.issue_token(lifetime=YEAR)
    cloud = Cloud(gw, new)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    assert len(gw.received("POST", "/tokens")) == 1
    reads = [r for r in gw.requests if r.method == "GET" and r.path != "/info"]
    assert reads
    assert {_bearer(r) for r in reads} == {new}
    assert not gw.received("GET", "/auth/check_jwt")


async def test_rejected_token_replaced_from_account(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A valid-looking token the gateway refuses is replaced when the account is
    known, and the refused read is read again with the new one."""
    old = make_token(marker="old")  # not one the gateway issued
    new = gw.issue_token()
    cloud = Cloud(gw, new)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    assert [_bearer(r) for r in gw.received("GET", "/auth/check_jwt")] == [old, new]
    assert [_bearer(r) for r in gw.received("GET", "/ivp/meters")] == [old, new]
    assert Endpoint.METERS in client.features


async def test_refresh_ahead_of_expiry(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A token within a week of expiry is renewed before the next update."""
    old = gw.issue_token(lifetime=3 * 86400)
    new = gw.issue_token(lifetime=YEAR)
    cloud = Cloud(gw, old)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    assert not gw.received("POST", "/tokens")
    gw.answer("POST", "/tokens", 200, new)
    gw.requests.clear()
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert len(gw.received("POST", "/tokens")) == 1
    assert {_bearer(r) for r in gw.requests if r.method == "GET"} == {new}


async def test_near_expiry_without_account_keeps_going(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """Without an account a near-expiry token is used until it runs out."""
    token = gw.issue_token(lifetime=3600)
    cloud = Cloud(gw, token)
    client = cloud.client(session, token=token)
    await client.setup()
    gw.requests.clear()
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.figures.solar_power is not None
    assert not gw.received("POST", "/tokens")  # nothing to renew it with
    reads = [r for r in gw.requests if r.method == "GET"]
    assert reads
    assert {_bearer(r) for r in reads} == {token}


async def test_401_mid_session_reauthenticates(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """The gateway drops the token mid-session: a new one is fetched and the read retried."""
    old = gw.issue_token()
    cloud = Cloud(gw, old)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    _drop_tokens(gw)
    new = gw.issue_token()
    gw.answer("POST", "/tokens", 200, new)
    gw.requests.clear()
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.figures.grid_power == 400.0
    assert Endpoint.METER_READINGS in client.features
    assert len(gw.received("POST", "/tokens")) == 1
    # The readings shown were read with the new token.
    assert _bearer(gw.received("GET", "/ivp/meters/readings")[-1]) == new


async def test_401_mid_session_without_account(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A revoked pasted token mid-session is TokenExpiredError (reauth needed)."""
    token = gw.issue_token()
    cloud = Cloud(gw, token)
    client = cloud.client(session, token=token)
    await client.setup()
    _drop_tokens(gw)
    with pytest.raises(TokenExpiredError):
        await client.refresh(frozenset({DataGroup.LIVE}))
    # Polling stops there: later polls of any group send nothing.
    sent = len(gw.requests)
    for group in DataGroup:
        with pytest.raises(TokenExpiredError):
            await client.refresh(frozenset({group}))
    assert len(gw.requests) == sent


async def test_401_for_an_endpoint_of_another_account(
    gw: SimulatedGateway, session: aiohttp.ClientSession, freezer: FrozenDateTimeFactory
) -> None:
    """A 401 while the token is still accepted means the endpoint is absent."""
    token = gw.issue_token()
    cloud = Cloud(gw, token)
    client = cloud.client(session, token=token)
    await client.setup()
    gw.answer("GET", "/ivp/ensemble/secctrl", 401, "")
    freezer.tick(60)
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert Endpoint.SECCTRL not in client.features


async def test_check_jwt_odd_status(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A check_jwt answer that is neither OK nor a refusal is a typed error."""
    cloud = Cloud(gw, gw.issue_token())
    gw.answer("GET", "/auth/check_jwt", 500, "")
    with pytest.raises(UnexpectedPayloadError):
        await cloud.client(session, token=make_token(marker="other")).setup()


async def test_setup_asks_about_the_token_once_for_refused_endpoints(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """Endpoints refused to an accepted token are absent: the gateway is asked about
    the token at the first refusal only, and nothing is read twice."""
    token = gw.issue_token()
    gw.answer("GET", "/ivp/ensemble/secctrl", 401, "")
    gw.answer("GET", "/admin/lib/tariff", 401, "")
    client = Cloud(gw, token).client(session, token=token)
    await client.setup()
    assert [_bearer(r) for r in gw.received("GET", "/auth/check_jwt")] == [token]
    assert Endpoint.SECCTRL not in client.features
    assert Endpoint.TARIFF not in client.features
    assert Endpoint.ENSEMBLE_POWER in client.features
    assert len(gw.received("GET", "/ivp/ensemble/secctrl")) == 1
    assert len(gw.received("GET", "/admin/lib/tariff")) == 1


def test_derived_passwords() -> None:
    """Gateway user passwords come from the serial."""
    assert envoy_password("121500000123") == "000123"
    password = installer_password("121500000123")
    assert len(password) == 8
    assert password == installer_password("121500000123")
    assert password != installer_password("121500000124")


async def test_digest_for_old_firmware(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Firmware < 7: endpoints behind digest auth are read as user envoy."""
    gw = await simulate("envoy/legacy_production")
    body = (
        ENVOY_FIXTURES / "legacy_production" / "api_v1_production_inverters"
    ).read_bytes()
    client = EnvoyClient(session, address(gw))
    await client.setup()
    assert Endpoint.INVERTERS in client.features
    assert len(client.data.inverters) == 4
    assert not gw.received("GET", "/auth/check_jwt")
    assert json.loads(body)[0]["serialNumber"] == client.data.inverters[0].serial
    # Challenged first, then answered with the envoy user's digest.
    sent = [
        r.headers.get("Authorization", "")
        for r in gw.received("GET", "/api/v1/production/inverters")
    ]
    assert sent[0] == ""
    assert all(a.startswith("Digest ") and 'username="envoy"' in a for a in sent[1:])
    assert len(sent) > 1


async def test_token_without_expiry_is_kept(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A token without ``exp`` is never renewed by the client."""
    token = gw.issue_token(expiring=False)
    cloud = Cloud(gw, token)
    client = cloud.client(
        session, token=token, username="me@example.com", password="pw"
    )
    await client.setup()
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert not gw.received("POST", "/tokens")
    assert gw.received("GET", "/ivp/meters/readings")


async def test_installer_token_renewed_an_hour_early(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A 12-hour installer token is renewed within its last hour only."""
    token = gw.issue_token(user="installer", lifetime=2 * 3600)
    cloud = Cloud(gw, token)
    client = cloud.client(
        session, token=token, username="me@example.com", password="pw"
    )
    await client.setup()
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert not gw.received("POST", "/tokens")


async def test_new_token_rejected_everywhere(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """A freshly fetched token the gateway refuses is InvalidCredentialsError."""
    # The cloud hands out a token this gateway did not issue.
    cloud = Cloud(gw, make_token(marker="cloud"))
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session, username="me@example.com", password="pw").setup()
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(
            session,
            token=make_token(marker="x"),
            username="me@example.com",
            password="pw",
        ).setup()


async def test_renewal_rejected(
    gw: SimulatedGateway, session: aiohttp.ClientSession
) -> None:
    """Renewal ahead of expiry, or after a 401, with a token the gateway refuses."""
    old = gw.issue_token(lifetime=86400)
    cloud = Cloud(gw, old)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    gw.answer("POST", "/tokens", 200, make_token(marker="refused"))
    with pytest.raises(InvalidCredentialsError):
        await client.refresh(frozenset({DataGroup.LIVE}))

    far = gw.issue_token(lifetime=YEAR)
    client = cloud.client(session, token=far, username="me@example.com", password="pw")
    await client.setup()
    _drop_tokens(gw)
    with pytest.raises(InvalidCredentialsError):
        await client.refresh(frozenset({DataGroup.LIVE}))


async def test_token_expires_during_use(
    gw: SimulatedGateway, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Without an account, a token that has run out stops updates with TokenExpiredError."""
    token = gw.issue_token(lifetime=60)
    client = Cloud(gw, token).client(session, token=token)
    await client.setup()
    clock.advance(120)
    with pytest.raises(TokenExpiredError):
        await client.refresh(frozenset({DataGroup.LIVE}))


async def test_cloud_unreachable(
    gw: SimulatedGateway, session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Enlighten unreachable is a connection error, not a credentials problem."""
    gone = await simulate("envoy/metered_battery")
    await gone.go_offline()
    client = EnvoyClient(
        session,
        address(gw),
        username="me@example.com",
        password="pw",
        enlighten_url=gone.url,
        clock=gw.clock.now,
    )
    with pytest.raises(CloudConnectionError):
        await client.setup()


async def test_digest_users(simulate: Simulate, session: aiohttp.ClientSession) -> None:
    """The installer user with its derived password, or a given password; a 401 with
    digest means absent."""
    gw = await simulate("envoy/legacy_production")
    client = EnvoyClient(session, address(gw), username="installer")
    await client.setup()
    assert Endpoint.INVERTERS in client.features
    given = envoy_password(gw.identity.serial)
    client = EnvoyClient(session, address(gw), username="envoy", password=given)
    await client.setup()
    assert Endpoint.INVERTERS in client.features
    gw.answer("GET", "/api/v1/production/inverters", 401, "")
    await client.refresh(frozenset({DataGroup.DEVICES}))
    assert Endpoint.INVERTERS not in client.features
