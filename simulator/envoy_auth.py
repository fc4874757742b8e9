"""How a simulated Envoy checks who is asking.

Firmware 7 and later: a JWT bearer token (or the ``sessionId`` cookie handed out by
``/auth/check_jwt``), signed here with a key made at start. Older firmware: HTTP
digest authentication, user ``envoy`` with the last 6 digits of the serial.
"""

from collections.abc import Mapping
from dataclasses import dataclass
import hashlib
import re
import secrets

from cryptography.hazmat.primitives.asymmetric import ec
import jwt

TOKEN_ALGORITHM = "ES256"  # noqa: S105 - an algorithm name, not a secret
OWNER_TOKEN_SECONDS = 365 * 86_400.0
INSTALLER_TOKEN_SECONDS = 12 * 3600.0
DIGEST_REALM = "enphaseenergy.com"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says."""

    serial: str
    user: str
    expires: float | None  # None: the token carries no expiry
    token_id: str


class TokenAuthority:
    """Issues and checks the tokens one simulated Envoy accepts."""

    def __init__(self, serial: str) -> None:
        """Make a signing key for the Envoy with this serial."""
        self.serial = serial
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._valid_ids: set[str] = set()
        self._sessions: dict[str, str] = {}
        self._users: dict[str, str] = {}  # token id -> enphaseUser of its session

    def issue(
        self,
        *,
        user: str = "owner",
        lifetime: float | None = None,
        now: float,
        expiring: bool = True,
    ) -> str:
        """Return a new token for ``user`` (``owner`` or ``installer``).

        ``lifetime`` defaults to the user's; ``expiring=False`` leaves ``exp`` out,
        as some hand-made tokens do.
        """
        if lifetime is None:
            lifetime = (
                INSTALLER_TOKEN_SECONDS if user == "installer" else OWNER_TOKEN_SECONDS
            )
        token_id = secrets.token_hex(8)
        self._valid_ids.add(token_id)
        claims: dict[str, object] = {
            "aud": self.serial,
            "serial": self.serial,
            "iss": "Entrez",
            "enphaseUser": user,
            "username": "simulator@example.com",
            "iat": int(now),
            "exp": int(now + lifetime),
            "jti": token_id,
        }
        if not expiring:
            del claims["exp"]
        return jwt.encode(claims, self._key, algorithm=TOKEN_ALGORITHM)

    def check(self, token: str, now: float) -> TokenClaims | None:
        """Return the claims of a token this Envoy accepts at ``now``, else None."""
        try:
            claims = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=[TOKEN_ALGORITHM],
                audience=self.serial,
                # Expiry is checked against the simulator's clock below.
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return None
        expires = claims.get("exp")
        token_id = claims.get("jti")
        if expires is not None and (
            not isinstance(expires, int | float) or expires <= now
        ):
            return None
        if not isinstance(token_id, str) or token_id not in self._valid_ids:
            return None
        return TokenClaims(
            serial=self.serial,
            user=str(claims.get("enphaseUser", "")),
            expires=None if expires is None else float(expires),
            token_id=token_id,
        )

    def open_session(self, claims: TokenClaims) -> str:
        """Return a ``sessionId`` cookie value standing for a checked token."""
        session = secrets.token_hex(16)
        self._sessions[session] = claims.token_id
        self._users[claims.token_id] = claims.user
        return session

    def user(self, token: str, session: str | None, now: float) -> str | None:
        """Who asks (``owner``, ``installer``) by their token or session, or None."""
        if (claims := self.check(token, now)) is not None:
            return claims.user
        token_id = self._sessions.get(session or "")
        if token_id is None or token_id not in self._valid_ids:
            return None
        return self._users.get(token_id)

    def session_valid(self, session: str) -> bool:
        """Whether a ``sessionId`` cookie still stands for a valid token."""
        token_id = self._sessions.get(session)
        return token_id is not None and token_id in self._valid_ids

    def forget_sessions(self) -> None:
        """Forget the ``sessionId`` cookies (a reboot does); tokens stay valid."""
        self._sessions.clear()

    def expire_all(self) -> None:
        """Make every token and session issued so far invalid."""
        self._valid_ids.clear()
        self._sessions.clear()


_DIGEST_FIELD = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]+))')


class DigestAuthority:
    """HTTP digest authentication as older Envoy firmware does it."""

    def __init__(self, users: Mapping[str, str]) -> None:
        """Accept these user names and passwords."""
        self._users = dict(users)
        self._nonces: set[str] = set()

    def challenge(self) -> str:
        """Return a ``WWW-Authenticate`` header value with a fresh nonce."""
        nonce = secrets.token_urlsafe(20)
        self._nonces.add(nonce)
        return f'Digest qop="auth", realm="{DIGEST_REALM}", nonce="{nonce}"'

    def verify(self, method: str, uri: str, header: str | None) -> bool:
        """Whether an ``Authorization`` header answers one of our challenges."""
        return self.user_of(method, uri, header) is not None

    def user_of(self, method: str, uri: str, header: str | None) -> str | None:
        """The user whose ``Authorization`` header answers one of our challenges."""
        if not header or not header.lower().startswith("digest "):
            return None
        fields = {
            key.lower(): quoted if quoted else bare
            for key, quoted, bare in _DIGEST_FIELD.findall(header[7:])
        }
        user = fields.get("username", "")
        password = self._users.get(user)
        nonce = fields.get("nonce", "")
        if password is None or nonce not in self._nonces or fields.get("uri") != uri:
            return None
        algorithm = fields.get("algorithm", "MD5").upper()
        digest = {"MD5": "md5", "SHA-256": "sha256"}.get(algorithm)
        if digest is None:
            return None

        def hashed(text: str) -> str:
            return hashlib.new(digest, text.encode()).hexdigest()

        ha1 = hashed(f"{user}:{fields.get('realm', '')}:{password}")
        ha2 = hashed(f"{method}:{uri}")
        if "qop" in fields:
            expected = hashed(
                f"{ha1}:{nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
                f"{fields['qop']}:{ha2}"
            )
        else:
            expected = hashed(f"{ha1}:{nonce}:{ha2}")
        if secrets.compare_digest(expected, fields.get("response", "")):
            return str(user)
        return None
