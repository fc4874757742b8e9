"""HTTP request discipline shared by every gateway client.

Gateways are small computers that crash when hammered, so every request goes through
one ``Transport`` per gateway, which:

- keeps one request in flight at a time (an ``asyncio.Lock``);
- caches GET responses for the current polling cycle (``new_cycle`` clears them);
- applies connect and read timeouts;
- reads no body beyond ``max_body`` bytes, counted after decompression, so a rogue
  host (a gzip bomb, an endless answer) cannot fill memory or stall the event loop;
- retries a failed idempotent request a bounded number of times, with growing delays,
  but only the first failure after an answer: a gateway that stays down gets one
  request per back-off period, not one per attempt;
- after a 503 or a run of timeouts, refuses to send anything for a back-off period
  (raising ``GatewayBusyError`` without touching the network), so a caller that loops
  cannot turn into a tight loop against a struggling gateway. The back-off grows
  with each failure up to ``max_backoff``, which clients set to their live polling
  interval: a gateway that answers again is read again within one interval. A
  request less than ``BACKOFF_GRACE`` before the back-off ends is sent: the poll
  that falls due as it ends is the one that finds the gateway back;
- counts what it sends, so requests per hour can be measured.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache
import json
import os
import socket
import time
from typing import Any
import zlib

import aiohttp
from multidict import CIMultiDictProxy

from .errors import (
    GatewayBusyError,
    GatewayConnectionError,
    GatewayTimeoutError,
    UnexpectedPayloadError,
    invalid_json,
)

type Clock = Callable[[], float]
type Sleep = Callable[[float], Awaitable[None]]

# Statuses a gateway uses to say "not now" rather than "not this".
BUSY_STATUSES = frozenset({502, 503, 504})
# A request this close to the end of a back-off is sent. Schedulers start a timer up
# to a second early (Home Assistant's coordinators round the time of each poll down
# to the second): refused, the poll that falls due as the back-off ends would put
# the next request a whole interval later, and recovery would take two intervals.
BACKOFF_GRACE = 1.0
# Far above any gateway document (a 300-inverter DeviceList is under 1 MiB).
MAX_BODY = 16 * 1024 * 1024
_CHUNK = 64 * 1024
# JSON bodies larger than this are parsed in a worker thread as they arrive, not on
# the event loop. Measured: the largest document of a typical metered site (its
# device data, 32 KB) parses in 0.16 ms, a thread hop costs 0.07 ms; a 300-inverter
# device data (260 KB) 2 to 4 ms (benchmarks/json_off_loop.py prints these).
OFF_LOOP_JSON_BYTES = 64 * 1024
# Encodings decoded here, under the size cap (aiohttp's own decoding has none).
_ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a connection and then for the answer."""

    connect: float = 10.0
    read: float = 30.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed requests are retried and how long a struggling gateway is left alone."""

    retries: int = 1  # extra attempts for an idempotent request that failed to connect
    delay: float = 2.0  # seconds before the first retry; doubles each time
    busy_backoff: float = 60.0  # seconds of silence after a 503 without Retry-After
    failure_backoff: float = 15.0  # seconds of silence after failed attempts; doubles
    max_backoff: float = 600.0  # the longest a back-off of our own grows
    max_retry_after: float = 3600.0  # the longest a gateway's Retry-After is obeyed


@dataclass(frozen=True, slots=True)
class Response:
    """A complete HTTP answer, read while the request lock was held."""

    method: str
    path: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    # A large JSON body, already parsed (off the event loop) when it arrived.
    parsed: _Parsed | _Unparsable | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def text(self) -> str:
        """Return the body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> object:
        """Return the body parsed as JSON, or raise ``UnexpectedPayloadError``."""
        parsed = self.parsed
        if parsed is None:
            parsed = _parse_json(self.body)
        if isinstance(parsed, _Unparsable):
            raise invalid_json(
                f"{self.method} {self.path}", self.body, parsed.error
            ) from parsed.error
        return parsed.value


@dataclass(frozen=True, slots=True)
class _Parsed:
    value: object


@dataclass(frozen=True, slots=True)
class _Unparsable:
    error: ValueError


def _parse_json(body: bytes) -> _Parsed | _Unparsable:
    """Parse ``body``; a failure is returned, to be raised on the caller's side."""
    try:
        return _Parsed(json.loads(body))
    except ValueError as err:  # UnicodeDecodeError included
        return _Unparsable(err)


async def _parse_large_json(body: bytes) -> _Parsed | _Unparsable | None:
    """A large JSON body parsed in a worker thread (None: small, or not JSON)."""
    if len(body) <= OFF_LOOP_JSON_BYTES or body.lstrip()[:1] not in (b"{", b"["):
        return None
    return await asyncio.to_thread(_parse_json, body)


@dataclass(slots=True)
class TransportStats:
    """What a transport has sent, for measuring load on the gateway."""

    requests: int = 0
    cache_hits: int = 0
    failures: int = 0
    by_path: Counter[str] = field(default_factory=Counter)


class Transport:
    """One gateway's HTTP access; see the module docstring for the rules it enforces."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        verify_ssl: bool = False,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        max_body: int = MAX_BODY,
    ) -> None:
        """Prepare requests to ``base_url`` (scheme, host and optional port)."""
        self._session = session
        self.max_body = max_body
        self.base_url = base_url.rstrip("/")
        # Gateways use self-signed certificates; verification is opt-in.
        self._ssl: bool = verify_ssl
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        # Looked up at each call, so that a test's frozen clock is the one used.
        self._clock: Clock = clock or _monotonic
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._cache: dict[str, Response] = {}
        self._blocked_until = 0.0
        self._consecutive_failures = 0
        self.stats = TransportStats()
        # The last answer to each path, so that a capture of the gateway can be taken.
        self.last_responses: dict[str, Response] = {}

    @property
    def backoff_remaining(self) -> float:
        """Seconds until the transport sends requests again (0 when it does now)."""
        return max(0.0, self._blocked_until - self._clock())

    def new_cycle(self) -> None:
        """Forget cached responses: the next polling cycle reads fresh data."""
        self._cache.clear()

    def cap_backoff(self, interval: timedelta) -> None:
        """Never stay silent longer than ``interval`` on our own account (the live
        polling interval), so that a gateway that answers again is read within it."""
        ceiling = interval.total_seconds()
        retry = self.retry
        self.retry = replace(
            retry,
            max_backoff=min(retry.max_backoff, ceiling),
            failure_backoff=min(retry.failure_backoff, ceiling),
        )

    def back_off(self, seconds: float) -> None:
        """Refuse to send anything for ``seconds`` (used by clients that spot a reboot)."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    async def get(
        self,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        cache: bool = True,
        timeouts: Timeouts | None = None,
        middlewares: Sequence[aiohttp.ClientMiddlewareType] = (),
    ) -> Response:
        """GET ``path`` (which may carry a query), cached for the cycle by default."""
        return await self.request(
            "GET",
            path,
            headers=headers,
            cache=cache,
            timeouts=timeouts,
            middlewares=middlewares,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: Any = None,
        cache: bool = False,
        timeouts: Timeouts | None = None,
        middlewares: Sequence[aiohttp.ClientMiddlewareType] = (),
    ) -> Response:
        """Send one request under the transport's rules and return the whole answer.

        Statuses other than the busy ones are returned, not raised: what a 401 or 404
        means depends on the endpoint, and only the client knows that.
        """
        outgoing = _Outgoing(
            method=method,
            path=path,
            headers=headers,
            json_body=json_body,
            data=data,
            timeouts=timeouts or self.timeouts,
            middlewares=tuple(middlewares),
        )
        key = f"{method} {path}"
        if cache and (hit := self._cache.get(key)) is not None:
            self.stats.cache_hits += 1
            return hit
        async with self._lock:
            # Another caller may have fetched it while we waited for the lock.
            if cache and (hit := self._cache.get(key)) is not None:
                self.stats.cache_hits += 1
                return hit
            response = await self._send(outgoing)
            if cache and response.ok:
                self._cache[key] = response
            return response

    async def _send(self, outgoing: _Outgoing) -> Response:
        method, path = outgoing.method, outgoing.path
        # A blip is worth a second try; a gateway already failing is not.
        retries = self.retry.retries if not self._consecutive_failures else 0
        attempts = 1 + (retries if outgoing.idempotent else 0)
        last_error: GatewayConnectionError | None = None
        for attempt in range(attempts):
            if (remaining := self.backoff_remaining) > BACKOFF_GRACE:
                raise GatewayBusyError(
                    f"gateway is backing off for {remaining:.0f} s", remaining
                )
            if attempt:
                await self._sleep(self.retry.delay * 2 ** (attempt - 1))
            try:
                response = await self._attempt(outgoing)
            except GatewayConnectionError as err:
                last_error = err
                self.stats.failures += 1
                continue
            if response.status in BUSY_STATUSES:
                self.stats.failures += 1
                asked = _retry_after(response.headers)
                seconds = (
                    min(asked, self.retry.max_retry_after)
                    if asked is not None
                    else min(self.retry.busy_backoff, self.retry.max_backoff)
                )
                self.back_off(seconds)
                raise GatewayBusyError(
                    f"{method} {path} answered {response.status}; leaving the gateway "
                    f"alone for {seconds:.0f} s",
                    seconds,
                )
            self._consecutive_failures = 0
            self.last_responses[path] = response
            return response
        assert last_error is not None
        # Give a gateway that keeps failing time to recover before the next caller.
        self._consecutive_failures += 1
        self.back_off(
            min(
                self.retry.max_backoff,
                self.retry.failure_backoff * 2 ** (self._consecutive_failures - 1),
            )
        )
        raise last_error

    async def _attempt(self, outgoing: _Outgoing) -> Response:
        method, path = outgoing.method, outgoing.path
        self.stats.requests += 1
        self.stats.by_path[path.split("?", 1)[0]] += 1
        client_timeout = _client_timeout(outgoing.timeouts)
        with failures_named(f"{method} {path}"):
            async with self._session.request(
                method,
                f"{self.base_url}{path}",
                headers={
                    "Accept-Encoding": _ACCEPT_ENCODING,
                    **(outgoing.headers or {}),
                },
                auto_decompress=False,
                json=outgoing.json_body,
                data=outgoing.data,
                ssl=self._ssl,
                timeout=client_timeout,
                allow_redirects=False,
                middlewares=outgoing.middlewares,
            ) as resp:
                body = await _read_capped(resp, self.max_body)
                body = _decoded(
                    resp.headers.get("Content-Encoding"), body, self.max_body
                )
                return Response(
                    method=method,
                    path=path,
                    status=resp.status,
                    headers=resp.headers,  # a read-only view, kept after release
                    body=body,
                    parsed=(
                        await _parse_large_json(body)
                        if len(body) > OFF_LOOP_JSON_BYTES
                        else None
                    ),
                )


@cache
def _client_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=None, sock_connect=timeouts.connect, sock_read=timeouts.read
    )


@contextmanager
def failures_named(what: str) -> Iterator[None]:
    """Raise aiohttp's and the socket layer's failures of ``what`` as ours.

    Not chained: a logged traceback would print aiohttp's message, and the address
    in it.
    """
    try:
        yield
    except TimeoutError:
        raise GatewayTimeoutError(f"{what} timed out") from None
    except (aiohttp.ClientError, OSError) as err:
        raise GatewayConnectionError(f"{what} failed: {failure_reason(err)}") from None


def failure_reason(err: BaseException) -> str:
    """Why a request failed, in words that name no host.

    Messages of aiohttp and of the socket layer carry the gateway's address (and a
    cloud login's the account's); ours reach the logs and the UI, so they say what
    went wrong and which path, never where.
    """
    match err:
        case aiohttp.ClientConnectorCertificateError():
            return "the TLS certificate was refused"
        case aiohttp.ClientSSLError():
            return "the TLS handshake failed"
        case aiohttp.ServerDisconnectedError():
            return "the gateway closed the connection"
        case aiohttp.ClientPayloadError():
            return "the answer was cut off"
        case aiohttp.TooManyRedirects():
            return "too many redirects"
        case aiohttp.ClientResponseError():
            return f"HTTP {err.status}"
    cause = err.os_error if isinstance(err, aiohttp.ClientConnectorError) else err
    if isinstance(cause, socket.gaierror):
        return "the name does not resolve"
    if isinstance(cause, OSError) and cause.errno:
        return os.strerror(cause.errno).lower()
    return type(err).__name__


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One request as the caller asked for it."""

    method: str
    path: str
    headers: Mapping[str, str] | None
    json_body: Any
    data: Any
    timeouts: Timeouts
    middlewares: tuple[aiohttp.ClientMiddlewareType, ...]

    @property
    def idempotent(self) -> bool:
        """Whether sending it twice is harmless, so it may be retried."""
        return self.method in {"GET", "HEAD"}


def _monotonic() -> float:
    return time.monotonic()


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body as sent, refused as soon as it passes ``limit`` bytes."""
    if (resp.content_length or 0) > limit:
        raise _too_large(resp.method, resp.url.path, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(resp.method, resp.url.path, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _decoded(encoding: str | None, body: bytes, limit: int) -> bytes:
    """Undo ``Content-Encoding``, never producing more than ``limit`` bytes."""
    coding = (encoding or "identity").strip().lower()
    if coding == "identity" or not body:
        return body
    if coding in {"gzip", "x-gzip"}:
        decoders = [zlib.decompressobj(16 + zlib.MAX_WBITS)]
    elif coding == "deflate":
        # Servers send deflate with or without its zlib header.
        decoders = [zlib.decompressobj(), zlib.decompressobj(-zlib.MAX_WBITS)]
    else:
        raise UnexpectedPayloadError(f"the answer is encoded as {coding!r}")
    for decoder in decoders:
        try:
            plain = decoder.decompress(body, limit + 1)
        except zlib.error:
            continue
        if len(plain) > limit or decoder.unconsumed_tail:
            raise UnexpectedPayloadError(
                f"the answer unpacks to more than {limit} bytes; not read"
            )
        return plain
    raise UnexpectedPayloadError(f"the answer is not valid {coding} data")


def _too_large(method: str, path: str, limit: int) -> UnexpectedPayloadError:
    return UnexpectedPayloadError(
        f"{method} {path} answered more than {limit} bytes; not read"
    )
