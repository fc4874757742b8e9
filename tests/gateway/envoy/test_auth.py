"""Authentication paths: cloud token, pasted token, expiry, 401 mid-session, MFA,
bad password, digest for firmware < 7."""

import hashlib
import json
import re

import aiohttp
from aiohttp import web
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
    GatewayConnectionError,
    InvalidCredentialsError,
    MfaRequiredError,
    TokenExpiredError,
    UnexpectedPayloadError,
)
from tests.conftest import make_token

from .helpers import ENVOY_FIXTURES
from .server import FakeEnvoy, Recorded

NOW = 1_800_000_000.0
SERIAL = "202400000789"


def _clock() -> float:
    return NOW


class Cloud:
    """Enlighten and Entrez on the fake server; the gateway accepts ``valid`` tokens."""

    def __init__(self, fake: FakeEnvoy, token: str) -> None:
        self.fake = fake
        self.token = token
        self.valid: set[str] = {token}
        fake.folder = ENVOY_FIXTURES / "metered_battery"
        fake.reply(
            "POST",
            "/login/login.json",
            200,
            {"message": "success", "session_id": "s3ss", "is_consumer": True},
        )
        fake.reply("POST", "/tokens", 200, token)
        fake.route("GET", "/auth/check_jwt", self._check)

    async def _check(self, request: web.Request, _body: bytes) -> web.StreamResponse:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer in self.valid:
            return web.Response(text="<h2>Valid token.</h2>")
        return web.Response(status=401, text="Unauthorized")

    def client(self, session: aiohttp.ClientSession, **kwargs: object) -> EnvoyClient:
        url = f"http://{self.fake.host}"
        return EnvoyClient(
            session,
            self.fake.host,
            enlighten_url=url,
            entrez_url=url,
            clock=_clock,
            **kwargs,  # type: ignore[arg-type]
        )


def _bearer(request: Recorded) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


async def test_token_from_account(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """Email and password: Enlighten login, Entrez token, checked, then used."""
    token = make_token(exp=int(NOW) + 365 * 86400)
    cloud = Cloud(fake, token)
    client = cloud.client(session, username="me@example.com", password="pw")
    await client.setup()
    login = fake.sent("POST", "/login/login.json")[0]
    assert (
        login.body.decode() == "user%5Bemail%5D=me%40example.com&user%5Bpassword%5D=pw"
    )
    entrez = fake.sent("POST", "/tokens")[0]
    assert entrez.json() == {
        "session_id": "s3ss",
        "serial_num": SERIAL,
        "username": "me@example.com",
    }
    assert _bearer(fake.sent("GET", "/auth/check_jwt")[0]) == token
    assert all(_bearer(r) == token for r in fake.sent("GET", "/ivp/meters/readings"))
    assert Endpoint.METER_READINGS in client.features


async def test_bad_password(fake: FakeEnvoy, session: aiohttp.ClientSession) -> None:
    """A rejected password is InvalidCredentialsError."""
    cloud = Cloud(fake, make_token())
    fake.reply(
        "POST", "/login/login.json", 401, {"message": "Invalid email or password"}
    )
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session, username="me@example.com", password="bad").setup()


async def test_blocked_account(fake: FakeEnvoy, session: aiohttp.ClientSession) -> None:
    """A blocked account is InvalidCredentialsError."""
    cloud = Cloud(fake, make_token())
    fake.reply("POST", "/login/login.json", 200, {"success": False, "isBlocked": True})
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session, username="me@example.com", password="pw").setup()


async def test_mfa_account(fake: FakeEnvoy, session: aiohttp.ClientSession) -> None:
    """An MFA account (login succeeds without a session) is MfaRequiredError."""
    cloud = Cloud(fake, make_token())
    fake.reply("POST", "/login/login.json", 200, {"success": True, "isBlocked": False})
    with pytest.raises(MfaRequiredError):
        await cloud.client(session, username="me@example.com", password="pw").setup()
    assert not fake.sent("POST", "/tokens")


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
    fake: FakeEnvoy,
    session: aiohttp.ClientSession,
    status: int,
    body: str,
    error: type[Exception],
) -> None:
    """Unexpected login answers are typed errors."""
    cloud = Cloud(fake, make_token())
    fake.reply("POST", "/login/login.json", status, body)
    with pytest.raises(error):
        await cloud.client(session, username="me@example.com", password="pw").setup()


@pytest.mark.parametrize(
    ("status", "error"), [(403, InvalidCredentialsError), (502, GatewayConnectionError)]
)
async def test_entrez_refuses(
    fake: FakeEnvoy, session: aiohttp.ClientSession, status: int, error: type[Exception]
) -> None:
    """Entrez refusing this gateway, or failing, is a typed error."""
    cloud = Cloud(fake, make_token())
    fake.reply("POST", "/tokens", status, "no")
    with pytest.raises(error):
        await cloud.client(session, username="me@example.com", password="pw").setup()


async def test_pasted_token(fake: FakeEnvoy, session: aiohttp.ClientSession) -> None:
    """A pasted token is used as is; no cloud request."""
    token = make_token(exp=int(NOW) + 86400, user="installer")
    cloud = Cloud(fake, token)
    client = cloud.client(session, token=token)
    await client.setup()
    assert not fake.sent("POST", "/login/login.json")
    info = decode_token(token)
    assert info.user_type == "installer"
    assert info.expires is not None
    assert info.expires.timestamp() == int(NOW) + 86400


async def test_pasted_token_rejected(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """A pasted token the gateway refuses, without an account, is invalid."""
    cloud = Cloud(fake, make_token())
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session, token=make_token(marker="other")).setup()


async def test_garbage_token(fake: FakeEnvoy, session: aiohttp.ClientSession) -> None:
    """Something that is not a JWT is invalid credentials."""
    Cloud(fake, make_token())
    with pytest.raises(InvalidCredentialsError):
        decode_token("not-a-jwt")


async def test_no_credentials_on_fw7(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """Firmware 7+ without account or token cannot authenticate."""
    cloud = Cloud(fake, make_token())
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session).setup()


async def test_expired_token_without_account(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """An expired pasted token and no account: TokenExpiredError."""
    token = make_token(exp=int(NOW) - 1)
    cloud = Cloud(fake, token)
    with pytest.raises(TokenExpiredError):
        await cloud.client(session, token=token).setup()


async def test_expired_token_with_account(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """An expired token is replaced from the account at setup."""
    old = make_token(exp=int(NOW) - 1, marker="old")
    new = make_token(exp=int(NOW) + 365 * 86400, marker="new")
    cloud = Cloud(fake, new)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    assert [_bearer(r) for r in fake.sent("GET", "/auth/check_jwt")] == [new]


async def test_rejected_token_replaced_from_account(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """A valid-looking token the gateway refuses is replaced when the account is known."""
    old = make_token(marker="old")
    new = make_token(marker="new")
    cloud = Cloud(fake, new)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    assert [_bearer(r) for r in fake.sent("GET", "/auth/check_jwt")] == [old, new]


async def test_refresh_ahead_of_expiry(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """A token within a week of expiry is renewed before the next update."""
    old = make_token(exp=int(NOW) + 3 * 86400, marker="old")
    new = make_token(exp=int(NOW) + 365 * 86400, marker="new")
    cloud = Cloud(fake, old)
    cloud.valid.add(new)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    assert not fake.sent("POST", "/tokens")
    fake.reply("POST", "/tokens", 200, new)
    fake.requests.clear()
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert len(fake.sent("POST", "/tokens")) == 1
    assert {_bearer(r) for r in fake.requests if r.method == "GET"} == {new}


async def test_near_expiry_without_account_keeps_going(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """Without an account a near-expiry token is used until it runs out."""
    token = make_token(exp=int(NOW) + 3600)
    cloud = Cloud(fake, token)
    client = cloud.client(session, token=token)
    await client.setup()
    fake.requests.clear()
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.figures.solar_power is not None
    assert not fake.sent("POST", "/tokens")  # nothing to renew it with
    reads = [r for r in fake.requests if r.method == "GET"]
    assert reads
    assert {_bearer(r) for r in reads} == {token}


async def test_401_mid_session_reauthenticates(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """The gateway drops the token mid-session: a new one is fetched and the read retried."""
    old = make_token(marker="old")
    new = make_token(marker="new")
    cloud = Cloud(fake, old)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    cloud.valid = {new}
    fake.reply("POST", "/tokens", 200, new)
    readings = (ENVOY_FIXTURES / "metered_battery" / "ivp_meters_readings").read_bytes()

    async def readings_handler(
        request: web.Request, _body: bytes
    ) -> web.StreamResponse:
        if request.headers.get("Authorization") == f"Bearer {new}":
            return web.Response(body=readings)
        return web.Response(status=401)

    fake.route("GET", "/ivp/meters/readings", readings_handler)
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.figures.grid_power == 400.0
    assert Endpoint.METER_READINGS in client.features


async def test_401_mid_session_without_account(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """A revoked pasted token mid-session is TokenExpiredError (reauth needed)."""
    token = make_token()
    cloud = Cloud(fake, token)
    client = cloud.client(session, token=token)
    await client.setup()
    cloud.valid = set()
    fake.reply("GET", "/ivp/meters/readings", 401, "")
    with pytest.raises(TokenExpiredError):
        await client.refresh(frozenset({DataGroup.LIVE}))
    # Polling stops there: later polls of any group send nothing.
    sent = len(fake.requests)
    for group in DataGroup:
        with pytest.raises(TokenExpiredError):
            await client.refresh(frozenset({group}))
    assert len(fake.requests) == sent


async def test_401_for_an_endpoint_of_another_account(
    fake: FakeEnvoy, session: aiohttp.ClientSession, freezer: FrozenDateTimeFactory
) -> None:
    """A 401 while the token is still accepted means the endpoint is absent."""
    token = make_token()
    cloud = Cloud(fake, token)
    client = cloud.client(session, token=token)
    await client.setup()
    fake.reply("GET", "/ivp/ensemble/secctrl", 401, "")
    freezer.tick(60)
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert Endpoint.SECCTRL not in client.features


async def test_check_jwt_odd_status(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """A check_jwt answer that is neither OK nor a refusal is a typed error."""
    cloud = Cloud(fake, make_token())
    fake.reply("GET", "/auth/check_jwt", 500, "")
    with pytest.raises(UnexpectedPayloadError):
        await cloud.client(session, token=cloud.token).setup()


def test_derived_passwords() -> None:
    """Gateway user passwords come from the serial."""
    assert envoy_password("121500000123") == "000123"
    password = installer_password("121500000123")
    assert len(password) == 8
    assert password == installer_password("121500000123")
    assert password != installer_password("121500000124")


async def test_digest_for_old_firmware(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """Firmware < 7: endpoints behind digest auth are read as user envoy."""
    fake.folder = ENVOY_FIXTURES / "legacy_production"
    realm, nonce = "enphaseenergy.com", "abc123"
    body = (
        ENVOY_FIXTURES / "legacy_production" / "api_v1_production_inverters"
    ).read_bytes()

    async def protected(request: web.Request, _body: bytes) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Digest "):
            return web.Response(
                status=401,
                headers={
                    "WWW-Authenticate": f'Digest realm="{realm}", nonce="{nonce}", qop="auth"'
                },
            )
        fields = dict(re.findall(r'(\w+)="?([^",]+)"?', auth))
        ha1 = hashlib.md5(
            f"envoy:{realm}:000123".encode(), usedforsecurity=False
        ).hexdigest()
        ha2 = hashlib.md5(
            f"GET:{fields['uri']}".encode(), usedforsecurity=False
        ).hexdigest()
        expected = hashlib.md5(
            f"{ha1}:{nonce}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}".encode(),
            usedforsecurity=False,
        ).hexdigest()
        if fields.get("username") != "envoy" or fields.get("response") != expected:
            return web.Response(status=401)
        return web.Response(body=body)

    fake.route("GET", "/api/v1/production/inverters", protected)
    client = EnvoyClient(session, fake.host)
    await client.setup()
    assert Endpoint.INVERTERS in client.features
    assert len(client.data.inverters) == 4
    assert not fake.sent("GET", "/auth/check_jwt")
    assert json.loads(body)[0]["serialNumber"] == client.data.inverters[0].serial


async def test_token_without_expiry_is_kept(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """A token without ``exp`` is never renewed by the client."""
    import jwt

    token = jwt.encode({"enphaseUser": "owner"}, "k" * 32, algorithm="HS256")
    cloud = Cloud(fake, token)
    client = cloud.client(
        session, token=token, username="me@example.com", password="pw"
    )
    await client.setup()
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert not fake.sent("POST", "/tokens")


async def test_installer_token_renewed_an_hour_early(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """A 12-hour installer token is renewed within its last hour only."""
    token = make_token(exp=int(NOW) + 2 * 3600, user="installer")
    cloud = Cloud(fake, token)
    client = cloud.client(
        session, token=token, username="me@example.com", password="pw"
    )
    await client.setup()
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert not fake.sent("POST", "/tokens")


async def test_new_token_rejected_everywhere(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """A freshly fetched token the gateway refuses is InvalidCredentialsError."""
    cloud = Cloud(fake, make_token(marker="cloud"))
    cloud.valid = set()
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(session, username="me@example.com", password="pw").setup()
    old = make_token(marker="old")
    cloud.valid = {old}
    with pytest.raises(InvalidCredentialsError):
        await cloud.client(
            session,
            token=make_token(marker="x"),
            username="me@example.com",
            password="pw",
        ).setup()


async def test_renewal_rejected(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """Renewal ahead of expiry, or after a 401, with a token the gateway refuses."""
    old = make_token(exp=int(NOW) + 86400, marker="old")
    cloud = Cloud(fake, old)
    client = cloud.client(session, token=old, username="me@example.com", password="pw")
    await client.setup()
    fake.reply("POST", "/tokens", 200, make_token(marker="refused"))
    with pytest.raises(InvalidCredentialsError):
        await client.refresh(frozenset({DataGroup.LIVE}))

    far = make_token(marker="far")
    cloud.valid = {far}
    client = cloud.client(session, token=far, username="me@example.com", password="pw")
    await client.setup()
    cloud.valid = set()
    fake.reply("GET", "/ivp/meters/readings", 401, "")
    with pytest.raises(InvalidCredentialsError):
        await client.refresh(frozenset({DataGroup.LIVE}))


async def test_token_expires_during_use(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """Without an account, a token that has run out stops updates with TokenExpiredError."""
    now = [NOW]
    token = make_token(exp=int(NOW) + 60)
    Cloud(fake, token)
    url = f"http://{fake.host}"
    client = EnvoyClient(
        session,
        fake.host,
        token=token,
        enlighten_url=url,
        entrez_url=url,
        clock=lambda: now[0],
    )
    await client.setup()
    now[0] += 120
    with pytest.raises(TokenExpiredError):
        await client.refresh(frozenset({DataGroup.LIVE}))


async def test_cloud_unreachable(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """Enlighten unreachable is a connection error, not a credentials problem."""
    Cloud(fake, make_token())
    gone = FakeEnvoy()
    await gone.start()
    closed = f"http://{gone.host}"
    await gone.close()
    client = EnvoyClient(
        session,
        fake.host,
        username="me@example.com",
        password="pw",
        enlighten_url=closed,
        clock=_clock,
    )
    with pytest.raises(GatewayConnectionError):
        await client.setup()


async def test_digest_users(fake: FakeEnvoy, session: aiohttp.ClientSession) -> None:
    """The installer user with its derived password, or a given password; a 401 with
    digest means absent."""
    fake.folder = ENVOY_FIXTURES / "legacy_production"
    client = EnvoyClient(session, fake.host, username="installer")
    await client.setup()
    client = EnvoyClient(session, fake.host, username="envoy", password="given")
    await client.setup()
    fake.reply("GET", "/api/v1/production/inverters", 401, "")
    await client.refresh(frozenset({DataGroup.DEVICES}))
    assert Endpoint.INVERTERS not in client.features
