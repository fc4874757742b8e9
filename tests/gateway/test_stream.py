"""LiveStream: one connection, watchdog, back-off with jitter, no retry once refused."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
import itertools
from typing import override

import pytest

from custom_components.solar_gateway.gateway.errors import (
    GatewayBusyError,
    GatewayConnectionError,
    StreamRefusedError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.site import (
    Brand,
    GatewayIdentity,
    SiteFigures,
    SiteSnapshot,
)
from custom_components.solar_gateway.gateway.stream import (
    Backoff,
    LiveStream,
    StreamReading,
    StreamSource,
    StreamState,
    StreamStats,
)

IDENTITY = GatewayIdentity(Brand.ENPHASE, "1", None, None, "envoy")

# What one connection does: messages to deliver (None: the gateway closes it;
# "SILENT": nothing more arrives) or an exception raised when connecting.
type Script = list[str | None] | Exception


class Connection:
    """Plays one scripted connection."""

    def __init__(self, messages: list[str | None]) -> None:
        self._messages = list(messages)

    async def receive(self) -> str | None:
        if not self._messages:
            await asyncio.Event().wait()  # silent for ever
        message = self._messages.pop(0)
        if message == "SILENT":
            await asyncio.Event().wait()
        return message


class ScriptedSource(StreamSource):
    """A stream whose connections follow scripts; ``"W<n>"`` messages carry n W."""

    name = "scripted"

    def __init__(self, scripts: list[Script]) -> None:
        self.scripts = list(scripts)
        self.opened = 0

    @override
    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        self.opened += 1
        script = self.scripts.pop(0) if self.scripts else GatewayConnectionError("gone")
        if isinstance(script, Exception):
            raise script
        yield Connection(script)

    @override
    def read(self, message: str) -> StreamReading | None:
        if message == "keepalive":
            return None
        if not message.startswith("W"):
            raise UnexpectedPayloadError(f"bad message {message!r}")
        power = float(message[1:])
        return StreamReading(
            {"grid": power},
            lambda: SiteSnapshot(IDENTITY, SiteFigures(grid_power=power)),
        )


class Recorder:
    """Collects what a stream reports and stops it after some sleeps."""

    def __init__(self, stop_after_sleeps: int = 10) -> None:
        self.powers: list[float | None] = []
        self.states: list[StreamState] = []
        self.sleeps: list[float] = []
        self._stop_after = stop_after_sleeps

    def reading(self, reading: StreamReading) -> None:
        self.powers.append(reading.fold().figures.grid_power)

    def state(self, state: StreamState) -> None:
        self.states.append(state)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) >= self._stop_after:
            raise asyncio.CancelledError


def stream(
    source: StreamSource, recorder: Recorder, *, stale_after: float = 0.2
) -> LiveStream:
    return LiveStream(
        source,
        on_reading=recorder.reading,
        on_state=recorder.state,
        stale_after=stale_after,
        backoff=Backoff(initial=1.0, maximum=8.0),
        sleep=recorder.sleep,
        draw=lambda: 0.5,
    )


async def run(live: LiveStream) -> None:
    with pytest.raises(asyncio.CancelledError):
        await live.run()


async def test_messages_become_snapshots_and_state_follows() -> None:
    """Each usable message is a snapshot; keep-alives are not; the state says so."""
    recorder = Recorder(stop_after_sleeps=1)
    source = ScriptedSource([["W100", "keepalive", "W200", None]])
    live = stream(source, recorder)
    await run(live)
    assert recorder.powers == [100.0, 200.0]
    assert recorder.states == [
        StreamState.CONNECTING,
        StreamState.STREAMING,
        StreamState.DOWN,
        StreamState.STOPPED,
    ]
    assert live.stats.messages == 2
    assert live.stats.last_error == "the gateway closed the stream"


async def test_watchdog_declares_a_silent_stream_down() -> None:
    """A connection that stays open but says nothing is closed and reopened."""
    recorder = Recorder(stop_after_sleeps=2)
    source = ScriptedSource([["W1", "SILENT"], ["W2", "SILENT"]])
    live = stream(source, recorder, stale_after=0.05)
    await run(live)
    assert recorder.powers == [1.0, 2.0]
    assert source.opened == 2
    assert live.stats.stale == 2
    assert live.stats.reconnects == 1
    assert live.stats.last_error == "no figures for 0 s"
    assert recorder.states.count(StreamState.DOWN) == 2


async def test_garbage_is_silence_to_the_watchdog() -> None:
    """Unreadable messages are counted, and do not keep a stream alive."""
    recorder = Recorder(stop_after_sleeps=1)
    source = ScriptedSource([["junk"] * 3 + ["SILENT"]])
    live = stream(source, recorder, stale_after=0.05)
    await run(live)
    assert recorder.powers == []
    assert live.stats.invalid_messages == 3
    assert live.stats.stale == 1
    # Never streamed: it went from connecting to down.
    assert StreamState.STREAMING not in recorder.states


async def test_back_off_doubles_with_jitter_and_resets_after_figures() -> None:
    """Failures in a row wait longer, up to the maximum; figures reset the count."""
    recorder = Recorder(stop_after_sleeps=7)
    failure = GatewayConnectionError("refused")
    source = ScriptedSource(
        [failure, failure, failure, failure, failure, ["W5", None], failure]
    )
    live = stream(source, recorder)
    await run(live)
    # draw() = 0.5: three quarters of 1, 2, 4, 8, 8 s; then 1 s again after figures.
    assert recorder.sleeps == [0.75, 1.5, 3.0, 6.0, 6.0, 0.75, 1.5]
    assert live.stats.last_error == "refused"


async def test_a_busy_gateway_is_left_alone_as_long_as_it_asks() -> None:
    """503 with a retry time: the stream waits at least that long."""
    recorder = Recorder(stop_after_sleeps=1)
    source = ScriptedSource([GatewayBusyError("busy", 45.0)])
    await run(stream(source, recorder))
    assert recorder.sleeps == [45.0]


async def test_a_refused_stream_is_not_retried() -> None:
    """401/403: the stream stops for good and says why; the caller polls instead."""
    recorder = Recorder()
    source = ScriptedSource([StreamRefusedError("owner token refused", 401)])
    live = stream(source, recorder)
    await live.run()
    assert source.opened == 1
    assert recorder.sleeps == []
    assert live.state is StreamState.REFUSED
    assert live.refusal == "owner token refused"
    assert recorder.states == [StreamState.CONNECTING, StreamState.REFUSED]


async def test_cancelling_stops_the_stream() -> None:
    """The owner of the stream stops it by cancelling ``run``."""
    first = asyncio.Event()
    live = LiveStream(
        ScriptedSource([["W1", "SILENT"]]),
        on_reading=lambda _reading: first.set(),
        stale_after=60,
    )
    task = asyncio.create_task(live.run())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert live.state is StreamState.STOPPED


def test_backoff_stays_between_half_and_the_ceiling() -> None:
    """Jitter spreads waits over half to all of the ceiling, never above the max."""
    backoff = Backoff(initial=2.0, maximum=30.0)
    assert backoff.delay(1, lambda: 0.0) == 1.0
    assert backoff.delay(1, lambda: 0.999) == pytest.approx(2.0, abs=0.01)
    assert backoff.delay(3, lambda: 0.0) == 4.0
    assert backoff.delay(10, lambda: 0.999) <= 30.0
    assert backoff.delay(10, lambda: 0.0) == 15.0


def test_messages_per_minute_counts_the_last_minute_only() -> None:
    """Diagnostics show the stream's current rate, not its lifetime average."""
    stats = StreamStats()
    for second in range(90):
        stats.count_message(float(second))
    assert stats.messages == 90
    assert stats.last_message == 89.0
    assert stats.messages_per_minute(89.0) == 60
    assert stats.messages_per_minute(200.0) == 0
    assert stats.reconnects == 0


def lasting_clock(step: float = 61.0) -> Callable[[], float]:
    """A clock that moves ``step`` seconds each time it is read."""
    moments = itertools.count(step=step)
    return lambda: float(next(moments))


async def test_a_stream_the_gateway_renews_is_reopened_at_once() -> None:
    """Closed by the gateway after a minute and more (a PVS6 closes its telemetry
    socket every 10 minutes): reopened without a back-off, streaming throughout."""
    recorder = Recorder(stop_after_sleeps=1)
    source = ScriptedSource([["W1", None], ["W2", None]])
    live = LiveStream(
        source,
        on_reading=recorder.reading,
        on_state=recorder.state,
        stale_after=5.0,
        sleep=recorder.sleep,
        clock=lasting_clock(),
        draw=lambda: 0.5,
    )
    await run(live)
    assert recorder.powers == [1.0, 2.0]
    # Opened three times; the only pause is after the third failed to connect.
    assert source.opened == 3
    assert len(recorder.sleeps) == 1
    assert recorder.states == [
        StreamState.CONNECTING,
        StreamState.STREAMING,
        StreamState.DOWN,
        StreamState.STOPPED,
    ]
    assert live.stats.reconnects == 1


async def test_a_renewed_stream_must_deliver_while_its_figures_are_fresh() -> None:
    """The reopened stream says nothing: down once the last figures are stale_after
    old, then reconnected after a back-off."""
    recorder = Recorder(stop_after_sleeps=1)
    source = ScriptedSource([["W1", None], ["SILENT"]])
    live = LiveStream(
        source,
        on_reading=recorder.reading,
        on_state=recorder.state,
        stale_after=0.05,
        sleep=recorder.sleep,
        clock=lasting_clock(),
        draw=lambda: 0.5,
    )
    await run(live)
    assert recorder.states == [
        StreamState.CONNECTING,
        StreamState.STREAMING,
        StreamState.DOWN,
        StreamState.STOPPED,
    ]
    assert live.stats.stale == 1
    assert len(recorder.sleeps) == 1


async def test_a_short_lived_stream_closed_by_the_gateway_backs_off() -> None:
    """Closed soon after it opened: a failing gateway, not a renewal; a back-off
    keeps a gateway that accepts and drops at once from a tight loop."""
    recorder = Recorder(stop_after_sleeps=2)
    source = ScriptedSource([["W1", None], ["W2", None]])
    live = LiveStream(
        source,
        on_reading=recorder.reading,
        on_state=recorder.state,
        sleep=recorder.sleep,
        clock=lambda: 1000.0,
        draw=lambda: 0.5,
    )
    await run(live)
    assert recorder.powers == [1.0, 2.0]
    assert len(recorder.sleeps) == 2
    assert recorder.states.count(StreamState.DOWN) == 2
