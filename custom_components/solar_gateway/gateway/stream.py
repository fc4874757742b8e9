"""Live streams: one long-lived connection on which a gateway pushes site power.

A ``StreamSource`` knows one gateway's stream: how to open it, how to read one
message (cheaply: the powers it carries) and how to fold it into the same site
snapshot that polling gives (dearer: done only when the caller shows the figures).
``LiveStream`` runs a source with the discipline every stream needs:

- one connection at a time;
- a watchdog: when no usable message arrives for ``stale_after`` seconds the stream
  is declared down and the connection closed (a gateway that keeps a socket open but
  stops talking looks exactly like a live one otherwise);
- reconnection after an exponential back-off with jitter, so that a gateway that
  restarts is not met by a tight loop, nor by every client at the same instant;
- a stream the gateway closes after keeping it open a while (``renewed_after``; a
  PVS6 closes its telemetry socket every 10 minutes) is reopened at once instead,
  and stays streaming meanwhile: the figures it carried stay fresh until the
  watchdog's ``stale_after`` from the last message, by which the new connection must
  deliver;
- a refused stream (``StreamRefusedError``: the firmware or account does not allow
  it) is not retried: the caller keeps polling;
- counters (connections, messages per minute, invalid messages) for diagnostics.
"""

from abc import ABC, abstractmethod
import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from enum import StrEnum
import logging
import random
import time
from typing import Protocol

from .errors import (
    GatewayBusyError,
    GatewayError,
    StreamRefusedError,
    UnexpectedPayloadError,
)
from .site import SiteSnapshot

_LOGGER = logging.getLogger(__name__)

type Clock = Callable[[], float]
type Sleep = Callable[[float], Awaitable[None]]

# A gateway's stream pushes every second or so; this much silence means it is gone.
DEFAULT_STALE_AFTER = 10.0
# A gateway that closes a stream it kept open this long is renewing it, not failing:
# at most one reconnection a minute goes without a back-off.
RENEWED_AFTER = 60.0
_MINUTE = 60.0


class StreamState(StrEnum):
    """Where a live stream stands."""

    STOPPED = "stopped"  # not running
    CONNECTING = "connecting"  # opening the connection, no message yet
    STREAMING = "streaming"  # messages arrive
    DOWN = "down"  # lost, silent or failing; reconnecting after a back-off
    REFUSED = "refused"  # the gateway will not stream to these credentials


class StreamConnection(Protocol):
    """An open stream."""

    async def receive(self) -> str | None:
        """Return the next message, or None when the gateway closed the stream."""
        ...


@dataclass(frozen=True, slots=True)
class StreamReading:
    """One message, read: the powers it carries now, the whole site when asked.

    A stream pushes every second; folding a message into the site costs several
    times more than reading it, and is worth it only when the figures are shown.
    """

    # What the message measures, in W, by name (e.g. a CT type): enough to tell a
    # large change from noise without folding.
    powers: Mapping[str, float | None]
    fold: Callable[[], SiteSnapshot]


class StreamSource(ABC):
    """One gateway's live stream."""

    #: What the stream is, for logs and diagnostics (e.g. ``GET /stream/meter``).
    name: str
    #: The site figures (``SiteFigures`` field names) each message brings fresh.
    carries: frozenset[str]

    @abstractmethod
    def connect(self) -> AbstractAsyncContextManager[StreamConnection]:
        """Open the stream.

        Raises ``StreamRefusedError`` when the gateway will not stream to us, a
        ``GatewayConnectionError`` when it cannot be reached.
        """

    @abstractmethod
    def read(self, message: str) -> StreamReading | None:
        """Read one message, or None for a message that carries no site figures
        (a keep-alive, another notification).

        Raises ``UnexpectedPayloadError`` for a message that should carry figures
        but cannot be read.
        """

    def apply(self, message: str) -> SiteSnapshot | None:
        """Read one message and fold it into the site (None: no figures in it)."""
        reading = self.read(message)
        return None if reading is None else reading.fold()


@dataclass(frozen=True, slots=True)
class _Ended:
    """How one connection ended."""

    delivered: bool  # it brought figures
    renewed: bool  # the gateway closed it to renew it: reopen at once


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait before reconnecting after ``failures`` failures in a row.

    The wait doubles from ``initial`` up to ``maximum``; each is drawn between half
    and all of that ceiling, so clients spread out but never retry at once.
    """

    initial: float = 1.0
    maximum: float = 300.0

    def delay(self, failures: int, draw: Callable[[], float]) -> float:
        """Seconds to wait; ``draw`` returns a number in [0, 1)."""
        ceiling: float = min(self.maximum, self.initial * 2.0 ** max(0, failures - 1))
        return ceiling * (0.5 + draw() / 2)


@dataclass(slots=True)
class StreamStats:
    """What a stream has done, for diagnostics."""

    connects: int = 0
    messages: int = 0
    invalid_messages: int = 0
    stale: int = 0  # times the watchdog found the stream silent
    last_error: str | None = None
    last_message: float | None = None  # clock time of the last usable message
    _recent: deque[float] = field(default_factory=deque)

    @property
    def reconnects(self) -> int:
        """Connections opened after the first one."""
        return max(0, self.connects - 1)

    def count_message(self, now: float) -> None:
        """Count one usable message."""
        self.messages += 1
        self.last_message = now
        self._recent.append(now)
        self._forget_before(now - _MINUTE)

    def messages_per_minute(self, now: float) -> int:
        """Usable messages during the last minute."""
        self._forget_before(now - _MINUTE)
        return len(self._recent)

    def _forget_before(self, moment: float) -> None:
        while self._recent and self._recent[0] <= moment:
            self._recent.popleft()


class LiveStream:
    """Runs a ``StreamSource``: see the module docstring for the rules."""

    def __init__(
        self,
        source: StreamSource,
        *,
        on_reading: Callable[[StreamReading], None],
        on_state: Callable[[StreamState], None] | None = None,
        stale_after: float = DEFAULT_STALE_AFTER,
        backoff: Backoff | None = None,
        renewed_after: float = RENEWED_AFTER,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        draw: Callable[[], float] = random.random,
    ) -> None:
        """Prepare to run ``source``; nothing is sent before ``run``."""
        self.source = source
        self._on_reading = on_reading
        self._on_state = on_state
        self.stale_after = stale_after
        self.backoff = backoff or Backoff()
        self.renewed_after = renewed_after
        # Looked up at each call, so that a test's frozen clock is the one used.
        self._clock: Clock = clock or _monotonic
        self._sleep = sleep
        self._draw = draw
        self.state = StreamState.STOPPED
        self.stats = StreamStats()
        self.refusal: str | None = None  # why the gateway refused, when it did
        # Until when the figures last streamed are fresh (the event loop's clock).
        self._fresh_until = 0.0

    async def run(self) -> None:
        """Stream until cancelled, or until the gateway refuses the stream."""
        failures = 0
        renewing = False
        try:
            while True:
                if not renewing:
                    self._set_state(StreamState.CONNECTING)
                wait = 0.0
                try:
                    ended = await self._stream_once(renewing)
                    if ended.delivered:
                        failures = 0
                    renewing = ended.renewed
                    if renewing:
                        continue
                except StreamRefusedError as err:
                    self.refusal = str(err)
                    self.stats.last_error = str(err)
                    _LOGGER.info("%s refused: %s", self.source.name, err)
                    self._set_state(StreamState.REFUSED)
                    return
                except GatewayBusyError as err:
                    # A busy gateway says how long it needs: never come back sooner.
                    wait = err.retry_after
                    self.stats.last_error = str(err)
                except GatewayError as err:
                    self.stats.last_error = str(err)
                    _LOGGER.debug("%s failed: %s", self.source.name, err)
                renewing = False
                self._set_state(StreamState.DOWN)
                failures += 1
                await self._sleep(max(wait, self.backoff.delay(failures, self._draw)))
        finally:
            if self.state is not StreamState.REFUSED:
                self._set_state(StreamState.STOPPED)

    async def _stream_once(self, renewing: bool) -> _Ended:
        """Hold one connection until it ends.

        Says whether it delivered figures, and whether the gateway was renewing it
        (closed it after ``renewed_after``), so that it is reopened at once.
        Renewing, the new connection must deliver while the last figures are fresh.
        """
        delivered = False
        loop = asyncio.get_running_loop()
        async with AsyncExitStack() as stack:
            try:
                async with asyncio.timeout_at(self._fresh_until if renewing else None):
                    connection = await stack.enter_async_context(self.source.connect())
            except TimeoutError:
                return self._went_silent(delivered)
            self.stats.connects += 1
            opened = self._clock()
            # Only usable messages feed the watchdog: garbage is silence.
            deadline = self._fresh_until if renewing else loop.time() + self.stale_after
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await connection.receive()
                except TimeoutError:
                    return self._went_silent(delivered)
                if message is None:
                    self.stats.last_error = "the gateway closed the stream"
                    renewed = self._clock() - opened >= self.renewed_after
                    return _Ended(delivered, renewed=delivered and renewed)
                reading = self._read(message)
                if reading is None:
                    continue
                deadline = self._fresh_until = loop.time() + self.stale_after
                delivered = True
                self.stats.count_message(self._clock())
                self._set_state(StreamState.STREAMING)
                self._on_reading(reading)

    def _went_silent(self, delivered: bool) -> _Ended:
        self.stats.stale += 1
        self.stats.last_error = f"no figures for {self.stale_after:.0f} s"
        _LOGGER.debug("%s went silent", self.source.name)
        return _Ended(delivered, renewed=False)

    def _read(self, message: str) -> StreamReading | None:
        try:
            return self.source.read(message)
        except UnexpectedPayloadError as err:
            self.stats.invalid_messages += 1
            _LOGGER.debug("%s: unreadable message: %s", self.source.name, err)
            return None

    def _set_state(self, state: StreamState) -> None:
        if state is self.state:
            return
        self.state = state
        if self._on_state is not None:
            self._on_state(state)


def _monotonic() -> float:
    return time.monotonic()
