"""Authentication to an Envoy: HTTP digest before firmware 7, JWT from 7 on.

A JWT comes from the Enphase cloud (Enlighten login, then the Entrez token service)
or is pasted by the user. Its claims (``exp``, ``enphaseUser``) are read without
verifying the signature: only the gateway can verify it, we only need to know when it
runs out and whose it is. The gateway verifies it on every request; ``/auth/check_jwt``
is asked only when a request is refused, to tell a refused token from an endpoint
this account may not read.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import json
import logging
import time

import aiohttp
import jwt

from custom_components.solar_gateway.gateway.errors import (
    CloudConnectionError,
    InvalidCredentialsError,
    MfaRequiredError,
    TokenExpiredError,
    TokenForAnotherGatewayError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.transport import (
    Timeouts,
    Transport,
    failure_reason,
)

from .endpoints import CHECK_JWT_PATH

_LOGGER = logging.getLogger(__name__)

ENLIGHTEN_URL = "https://enlighten.enphaseenergy.com"
ENTREZ_URL = "https://entrez.enphaseenergy.com"

type Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class EnvoyCredentials:
    """What the user gave: an Enphase account, a gateway user, and/or a token."""

    username: str | None = None
    password: str | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A JWT and the claims we need from it."""

    token: str
    expires: datetime | None
    user_type: str | None  # "owner" (about a year) or "installer" (12 hours)
    serial: str | None = None  # the gateway it was issued for (its audience)


def decode_token(token: str) -> TokenInfo:
    """Read ``exp``, ``enphaseUser`` and ``aud`` from a JWT, its signature unverified."""
    try:
        claims = jwt.decode(
            token,
            options={"verify_signature": False, "verify_exp": False},
            algorithms=["ES256", "RS256", "HS256"],
        )
    except jwt.PyJWTError as err:
        raise InvalidCredentialsError(f"the token is not a valid JWT: {err}") from err
    exp = claims.get("exp")
    expires = (
        datetime.fromtimestamp(exp, UTC)
        if isinstance(exp, int | float) and not isinstance(exp, bool)
        else None
    )
    user = claims.get("enphaseUser")
    # Entrez issues a token to one gateway: its serial is the audience.
    serial = claims.get("aud", claims.get("serial"))
    return TokenInfo(
        token=token,
        expires=expires,
        user_type=user if isinstance(user, str) else None,
        serial=serial if isinstance(serial, str) and serial else None,
    )


def envoy_password(serial: str) -> str:
    """The ``envoy`` user's password: the last 6 digits of the serial."""
    return serial[-6:]


def installer_password(serial: str, user: str = "installer") -> str:
    """The ``installer`` user's password, derived from the serial as the gateway does."""
    realm = "enphaseenergy.com"
    digest = hashlib.md5(
        f"[e]{user}@{realm}#{serial} EnPhAsE eNeRgY ".encode(),
        usedforsecurity=False,
    ).hexdigest()
    zeros = digest.count("0")
    ones = digest.count("1")
    password: list[str] = []
    for char in digest[::-1][:8]:
        if zeros in (3, 6, 9):
            zeros -= 1
        zeros = min(max(zeros, 0), 20)
        if ones in (9, 15):
            ones -= 1
        ones = min(max(ones, 0), 26)
        if char == "0":
            password.append(chr(ord("f") + zeros))
            zeros -= 1
        elif char == "1":
            password.append(chr(ord("@") + ones))
            ones -= 1
        else:
            password.append(char)
    return "".join(password)


class EnvoyAuth(ABC):
    """How requests to one gateway are authenticated."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Headers to send with every request."""
        return {}

    @property
    def middlewares(self) -> tuple[aiohttp.ClientMiddlewareType, ...]:
        """aiohttp middlewares to apply to every request."""
        return ()

    @abstractmethod
    async def setup(self, transport: Transport) -> None:
        """Authenticate for the first time; raise an ``AuthenticationError`` if not."""

    async def ensure_fresh(self, transport: Transport) -> None:  # noqa: B027
        """Renew credentials that are about to run out (called once per cycle)."""

    async def handle_unauthorized(self, transport: Transport) -> bool:
        """React to a 401: True when re-authenticated (retry), False when the
        endpoint is simply not for this account."""
        return False

    async def handle_setup_unauthorized(self, transport: Transport) -> bool:
        """React to a 401 while setup detects features, as ``handle_unauthorized``
        does, with setup's errors for credentials the gateway refuses."""
        return False


class DigestAuth(EnvoyAuth):
    """HTTP digest auth of firmware before 7 (``envoy`` or ``installer`` user)."""

    def __init__(self, serial: str, credentials: EnvoyCredentials) -> None:
        """Pick the user and derive its password from the serial when not given."""
        self.username = credentials.username or "envoy"
        if credentials.password:
            password = credentials.password
        elif self.username == "installer":
            password = installer_password(serial)
        else:
            password = envoy_password(serial)
        self._middleware = aiohttp.DigestAuthMiddleware(self.username, password)

    @property
    def middlewares(self) -> tuple[aiohttp.ClientMiddlewareType, ...]:
        """The digest middleware answers the gateway's 401 challenges."""
        return (self._middleware,)

    async def setup(self, transport: Transport) -> None:
        """Nothing to do before the first request: digest answers challenges."""


class TokenAuth(EnvoyAuth):
    """JWT bearer auth of firmware 7 and later."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        serial: str,
        credentials: EnvoyCredentials,
        *,
        enlighten_url: str = ENLIGHTEN_URL,
        entrez_url: str = ENTREZ_URL,
        timeouts: Timeouts | None = None,
        clock: Clock = time.time,
    ) -> None:
        """Keep what is needed to obtain, check and renew a token."""
        self._session = session
        self._serial = serial
        self._credentials = credentials
        self._enlighten_url = enlighten_url.rstrip("/")
        self._entrez_url = entrez_url.rstrip("/")
        self._timeouts = timeouts or Timeouts()
        self._clock = clock
        self.token: TokenInfo | None = (
            decode_token(credentials.token) if credentials.token else None
        )
        # Since setup: whether the token was fetched then, and whether the gateway
        # has been asked about it (once is enough to tell refusals apart).
        self._fetched_at_setup = False
        self._checked = False

    @property
    def can_renew(self) -> bool:
        """Whether a new token can be fetched without the user (account known)."""
        return bool(self._credentials.username and self._credentials.password)

    @property
    def headers(self) -> Mapping[str, str]:
        """The bearer token."""
        if self.token is None:
            return {}
        return {"Authorization": f"Bearer {self.token.token}"}

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _expired(self, margin: timedelta = timedelta(0)) -> bool:
        if self.token is None:
            return True
        if self.token.expires is None:
            return False
        return self.token.expires - margin <= self._now()

    def _renew_margin(self) -> timedelta:
        # Renew owner tokens (a year) a week early, short installer tokens an hour early.
        if self.token is not None and self.token.user_type == "installer":
            return timedelta(hours=1)
        return timedelta(days=7)

    async def setup(self, transport: Transport) -> None:
        """Have a token: the one given while it lasts, else one from the account.

        The gateway is not asked about it here: it verifies the token on each read,
        and the first read it refuses asks (``handle_setup_unauthorized``). A token it
        accepts costs no request.
        """
        self._fetched_at_setup = False
        self._checked = False
        self._check_audience()
        if self._expired():
            if not self.can_renew:
                if self.token is None:
                    raise InvalidCredentialsError(
                        "firmware 7+ needs an Enphase account or a token"
                    )
                raise TokenExpiredError("the token has expired")
            await self._fetch()
            self._fetched_at_setup = True

    def _check_audience(self) -> None:
        """Refuse a token issued for another gateway: this one would only say 401."""
        token = self.token
        if token is not None and token.serial not in (None, self._serial):
            # Neither serial in the message: it may reach the log.
            raise TokenForAnotherGatewayError(
                "the token was issued for another gateway", token.serial or ""
            )

    async def handle_setup_unauthorized(self, transport: Transport) -> bool:
        """A read refused at setup: the token's fault, or the endpoint's?

        Asked once per setup: a token the gateway accepts makes this and every later
        refusal an endpoint this account may not read (False). A refused token is
        replaced from the account and the read retried (True), or raises the error
        that starts reauthentication.
        """
        if self._checked:
            return False
        if await self._check(transport):
            self._checked = True
            return False
        if self._fetched_at_setup or not self.can_renew:
            raise InvalidCredentialsError("the gateway rejected the token")
        await self._fetch()
        if not await self._check(transport):
            raise InvalidCredentialsError("the gateway rejected a new token")
        self._fetched_at_setup = self._checked = True
        return True

    async def ensure_fresh(self, transport: Transport) -> None:
        """Fetch a new token ahead of expiry when the account is known."""
        if not self._expired(self._renew_margin()):
            return
        if not self.can_renew:
            if self._expired():
                raise TokenExpiredError("the token has expired")
            return
        await self._fetch()
        if not await self._check(transport):
            raise InvalidCredentialsError("the gateway rejected a new token")

    async def handle_unauthorized(self, transport: Transport) -> bool:
        """Tell a revoked token from an endpoint this account may not read."""
        if await self._check(transport):
            return False
        if not self.can_renew:
            raise TokenExpiredError("the gateway no longer accepts the token")
        await self._fetch()
        if not await self._check(transport):
            raise InvalidCredentialsError("the gateway rejected a new token")
        return True

    async def _check(self, transport: Transport) -> bool:
        response = await transport.get(
            CHECK_JWT_PATH, headers=self.headers, cache=False
        )
        if response.ok:
            return True
        if response.status in (401, 403):
            return False
        raise UnexpectedPayloadError(f"{CHECK_JWT_PATH} answered {response.status}")

    async def _fetch(self) -> None:
        """Log in to Enlighten and ask Entrez for a token for this gateway."""
        username = self._credentials.username or ""
        login = await self._post(
            f"{self._enlighten_url}/login/login.json",
            data={
                "user[email]": username,
                "user[password]": self._credentials.password or "",
            },
        )
        status, body = login
        if status in (401, 403):
            raise InvalidCredentialsError("Enlighten rejected the email or password")
        if status != 200:
            raise CloudConnectionError(f"Enlighten login answered {status}")
        try:
            answer = json.loads(body)
        except ValueError as err:
            raise UnexpectedPayloadError(
                "Enlighten login returned invalid JSON"
            ) from err
        if not isinstance(answer, dict):
            raise UnexpectedPayloadError("Enlighten login returned no object")
        if answer.get("isBlocked") is True:
            raise InvalidCredentialsError("the Enlighten account is blocked")
        session_id = answer.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            if answer.get("requires_mfa") or answer.get("success") is True:
                # MFA accounts get a one-time-password step instead of a session.
                raise MfaRequiredError(
                    "the Enphase account uses multi-factor authentication; paste a token"
                )
            raise InvalidCredentialsError("Enlighten login returned no session")
        status, body = await self._post(
            f"{self._entrez_url}/tokens",
            json_body={
                "session_id": session_id,
                "serial_num": self._serial,
                "username": username,
            },
        )
        if status in (401, 403, 404):
            raise InvalidCredentialsError(
                f"the account may not access gateway {self._serial} ({status})"
            )
        if status != 200:
            raise CloudConnectionError(f"Entrez answered {status}")
        token = body.decode("utf-8", errors="replace").strip()
        self.token = decode_token(token)
        _LOGGER.debug("Obtained a new %s token", self.token.user_type or "gateway")

    async def _post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        json_body: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=self._timeouts.connect,
            sock_read=self._timeouts.read,
        )
        try:
            async with self._session.post(
                url, data=data, json=json_body, timeout=timeout
            ) as resp:
                return resp.status, await resp.read()
        except TimeoutError as err:
            raise CloudConnectionError(f"POST {url} timed out") from err
        except (aiohttp.ClientError, OSError) as err:
            raise CloudConnectionError(
                f"POST {url} failed: {failure_reason(err)}"
            ) from err
