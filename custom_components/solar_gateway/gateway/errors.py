"""Typed errors raised by the protocol layer.

Callers catch the base classes: a coordinator only needs to tell "try again later"
(connection, timeout, busy) from "ask the user" (authentication) from "the gateway said
something we do not understand" (unexpected payload).

An error's message may reach Home Assistant's log at ERROR level, so it never quotes
what the gateway answered: any field of it (a serial, a key) would leak that way.
``invalid_json`` says where, how much and what kind of fault; the answer itself goes
to the DEBUG log only, redacted as diagnostics are.
"""

from collections.abc import Mapping
from enum import StrEnum
import json
import logging

from .redaction import Redactor

_LOGGER = logging.getLogger(__name__)
# The most of an unreadable answer the DEBUG log shows (a DeviceList is 1 MB).
MAX_LOGGED_BODY = 4096


class GatewayError(Exception):
    """Base class of every error the protocol layer raises."""


class GatewayConnectionError(GatewayError):
    """The gateway could not be reached (refused, unreachable, TLS failure, reset)."""


class GatewayTimeoutError(GatewayConnectionError):
    """The gateway did not answer within the request's timeout."""


class CloudConnectionError(GatewayConnectionError):
    """Enphase's servers (Enlighten, Entrez) could not be reached for a token.

    The gateway itself may be fine: only a new token cannot be had for now.
    """


class GatewayBusyError(GatewayError):
    """The gateway is overloaded or restarting (HTTP 503, uptime reset).

    ``retry_after`` is the number of seconds the caller should leave it alone.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        """Store the back-off the gateway needs."""
        super().__init__(message)
        self.retry_after = retry_after


class UnexpectedPayloadError(GatewayError):
    """The gateway answered, but not with what the endpoint should return."""


class NotSupportedGatewayError(GatewayError):
    """The host answered, but it is not a gateway this library supports."""


class FeatureUnavailableError(GatewayError):
    """The endpoint is absent for this firmware or account (HTTP 401/403/404)."""

    def __init__(self, message: str, status: int) -> None:
        """Keep the status that told us so."""
        super().__init__(message)
        self.status = status


class StreamRefusedError(FeatureUnavailableError):
    """The gateway refuses its live stream to these credentials (HTTP 401/403/404).

    Not an authentication problem: polling goes on with the same credentials.
    """


class AuthenticationError(GatewayError):
    """Credentials are missing, wrong or expired; the user has to act."""


class InvalidCredentialsError(AuthenticationError):
    """The account or gateway rejected the user name or password."""


class MfaRequiredError(AuthenticationError):
    """The account uses multi-factor authentication; a token must be pasted."""


class TokenExpiredError(AuthenticationError):
    """The access token has expired and cannot be refreshed without the user."""


class TokenForAnotherGatewayError(AuthenticationError):
    """The token was issued for another gateway (its serial is not this one's)."""

    def __init__(self, message: str, token_serial: str) -> None:
        """Keep the serial the token is for."""
        super().__init__(message)
        self.token_serial = token_serial


class ControlRefusedError(GatewayError):
    """The gateway refused a control write (401/403 for the account, 400 the value)."""

    def __init__(
        self, message: str, status: int, *, needs_installer: bool = False
    ) -> None:
        """Keep the status the gateway refused with, and whether an installer may."""
        super().__init__(message)
        self.status = status
        self.needs_installer = needs_installer


class ControlNotAppliedError(GatewayError):
    """The gateway accepted a write, but what it reads back shows another value.

    For example charge from generator on a site without Enphase batteries: the
    gateway answers 200 and sets it back to on.
    """


class InvalidHostError(GatewayError):
    """The text given as the gateway's address is not a host, address or URL."""


class InvalidValueReason(StrEnum):
    """Why a control refuses a value before anything is sent."""

    OUT_OF_RANGE = "out_of_range"  # value outside minimum..maximum
    SLEEP_BAND_ORDER = "sleep_band_order"  # an AC Battery's band low above high
    GENERATOR_SOC_ORDER = "generator_soc_order"  # start charge not below stop
    RELAY_SOC_ORDER = "relay_soc_order"  # a relay's cutoff not below its restore


class InvalidControlValueError(ValueError):
    """A value a control refuses: it cannot work or would harm, so it is not sent.

    ``values`` are the figures a user is shown (by ``reason``: ``value``,
    ``minimum``, ``maximum``; ``low``, ``high``), formatted for display.
    """

    def __init__(
        self, message: str, reason: InvalidValueReason, values: Mapping[str, float]
    ) -> None:
        """Keep the rule broken and the figures that broke it."""
        super().__init__(message)
        self.reason = reason
        self.values = {name: f"{value:g}" for name, value in values.items()}


def invalid_json(
    what: str, body: bytes | str, err: ValueError
) -> UnexpectedPayloadError:
    """The error for an answer to ``what`` that is not JSON (see the module's text)."""
    data = body.encode("utf-8", errors="replace") if isinstance(body, str) else body
    message = f"{what} answered invalid JSON ({_fault(data, err)}; {len(data)} bytes)"
    if _LOGGER.isEnabledFor(logging.DEBUG):
        _LOGGER.debug(
            "%s; it began: %s", message, Redactor().body(data[:MAX_LOGGED_BODY])
        )
    return UnexpectedPayloadError(message)


def _fault(body: bytes, err: ValueError) -> str:
    """What kind of fault ``err`` found in ``body``, in words that quote none of it."""
    stripped = body.strip()
    if not stripped:
        return "empty"
    if stripped.startswith(b"<"):
        return "an HTML or XML page"
    if isinstance(err, UnicodeDecodeError):
        return f"not UTF-8 at byte {err.start}"
    if isinstance(err, json.JSONDecodeError):
        if err.msg.startswith("Unterminated") or err.pos >= len(err.doc.rstrip()):
            return "cut short"
        return f"{err.msg} at character {err.pos}"
    return type(err).__name__
