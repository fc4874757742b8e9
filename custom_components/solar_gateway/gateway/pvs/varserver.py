"""The new-firmware varserver API: login, grouped ``/vars`` queries and writes.

Login is ``GET /auth?login`` with ``Authorization: basic base64("ssm_owner:" +
password)``; the answer sets a ``session`` cookie. The cookie is parsed here and sent
as a ``Cookie`` header, because aiohttp's cookie jar ignores cookies from IP-address
hosts and Home Assistant's shared session must not hold gateway cookies. Sessions
expire after minutes: on 401/403 the client logs in again, once, and repeats the
request.

Writes use the form SunStrong's own client library (pypvs, ``PVS.getVarserver`` /
``PVSFCGIClient.execute_post_request``) sends: ``POST /vars`` with the body
``set=<name>=<value>``. The seed document predates the varserver and does not describe
it; the variable names and their ``ssm_owner`` write access are from SunStrong's
published variable list (pypvs ``doc/varserver-variables-public-pvs6.csv``).
"""

import asyncio
import base64
from collections.abc import Callable, Mapping
from http.cookies import CookieError, SimpleCookie
import json
from urllib.parse import quote

from custom_components.solar_gateway.gateway.errors import (
    ControlRefusedError,
    GatewayError,
    InvalidCredentialsError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.transport import (
    Response,
    Timeouts,
    Transport,
)

from .parsers.common import load_json_object

USER = "ssm_owner"
LOGIN_PATH = "/auth?login"
VARS_PATH = "/vars"
SESSION_COOKIE = "session"
AUTH_FAILURES = frozenset({401, 403})
VARS_TIMEOUTS = Timeouts(connect=10.0, read=30.0)


def default_password(serial: str) -> str:
    """The owner password a PVS ships with: the last 5 characters of its serial."""
    return serial.strip()[-5:]


def vars_path(match: str) -> str:
    """The query for every variable whose name contains ``match``, as one object."""
    return f"{VARS_PATH}?match={quote(match, safe='/')}&fmt=obj"


def session_from_response(response: Response) -> str | None:
    """Find the session token in the login answer's Set-Cookie headers or body."""
    for header in response.headers.getall("Set-Cookie", []):
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(header)
        except CookieError:
            continue
        if SESSION_COOKIE in cookie and cookie[SESSION_COOKIE].value:
            return cookie[SESSION_COOKIE].value
    try:
        body = json.loads(response.body)
    except ValueError, UnicodeDecodeError:
        return None
    token = body.get(SESSION_COOKIE) if isinstance(body, dict) else None
    return token if isinstance(token, str) and token else None


class VarserverSession:
    """An authenticated varserver session over one PVS's Transport."""

    def __init__(
        self,
        transport: Transport,
        password: str,
        *,
        on_login: Callable[[], None] | None = None,
    ) -> None:
        """Prepare a session; ``on_login`` runs after each successful login."""
        self._transport = transport
        self._password = password
        self._token: str | None = None
        self._on_login = on_login
        self._logging_in = asyncio.Lock()
        self.logins = 0

    def _auth_header(self) -> dict[str, str]:
        credentials = base64.b64encode(f"{USER}:{self._password}".encode()).decode()
        return {"Authorization": f"basic {credentials}"}

    async def login(self) -> None:
        """Log in and keep the session token."""
        self._token = None
        response = await self._transport.get(
            LOGIN_PATH, headers=self._auth_header(), cache=False, timeouts=VARS_TIMEOUTS
        )
        if response.status in AUTH_FAILURES:
            raise InvalidCredentialsError(
                f"the PVS refused the {USER} login ({response.status}); check the "
                "password (by default the last 5 characters of the serial)"
            )
        if response.status != 200:
            raise UnexpectedPayloadError(f"login answered HTTP {response.status}")
        token = session_from_response(response)
        if token is None:
            raise UnexpectedPayloadError("login answered without a session cookie")
        self._token = token
        self.logins += 1
        if self._on_login is not None:
            self._on_login()

    def forget(self) -> None:
        """Drop the session: the next request logs in first."""
        self._token = None

    async def _send(
        self, method: str, path: str, data: str | None = None, *, cache: bool = True
    ) -> Response:
        """Send with the session cookie; log in again once when it has expired.

        After any failure (a hang, a broken answer, a refused connection) the
        session is not trusted: the PVS may have restarted and forgotten it, and a
        stale session answers like a wrong password. The next request logs in.
        """
        try:
            return await self._send_in_session(method, path, data, cache=cache)
        except GatewayError:
            self.forget()
            raise

    async def _send_in_session(
        self, method: str, path: str, data: str | None, *, cache: bool
    ) -> Response:
        if self._token is None:
            await self._login_unless_renewed(None)
        for attempt in range(2):
            token = self._token
            assert token is not None
            headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
            if method == "GET":
                response = await self._transport.get(
                    path, headers=headers, timeouts=VARS_TIMEOUTS, cache=cache
                )
            else:
                response = await self._transport.request(
                    method, path, headers=headers, data=data, timeouts=VARS_TIMEOUTS
                )
            if response.status not in AUTH_FAILURES or attempt:
                return response
            await self._login_unless_renewed(token)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _login_unless_renewed(self, expired: str | None) -> None:
        # Two polls that found the session expired together log in once: the
        # second one retries with the session the first one opened.
        async with self._logging_in:
            if self._token is None or self._token == expired:
                await self.login()

    async def query(self, match: str) -> Mapping[str, object]:
        """``GET /vars?match=<match>&fmt=obj``: every matching variable."""
        response = await self._send("GET", vars_path(match))
        if response.status in AUTH_FAILURES:
            raise InvalidCredentialsError(
                f"the PVS refused the session twice ({response.status})"
            )
        if response.status != 200:
            self.forget()
            raise UnexpectedPayloadError(
                f"/vars?match={match} answered HTTP {response.status}"
            )
        try:
            return load_json_object(response.body, f"/vars?match={match}")
        except UnexpectedPayloadError:
            self.forget()
            raise

    async def set_var(self, name: str, value: str) -> None:
        """Write one variable: ``POST /vars`` with body ``set=<name>=<value>``."""
        response = await self._send("POST", VARS_PATH, data=f"set={name}={value}")
        _check_set(response, name)

    async def set_var_by_query(self, name: str, value: str) -> None:
        """Write one variable with ``GET /vars?set=<name>=<value>``.

        The form the telemetry switch is documented with; never cached.
        """
        path = f"{VARS_PATH}?set={quote(name, safe='/')}={quote(value)}"
        _check_set(await self._send("GET", path, cache=False), name)


def _check_set(response: Response, name: str) -> None:
    if not response.ok:
        raise ControlRefusedError(
            f"the PVS refused to set {name} ({response.status})", response.status
        )
