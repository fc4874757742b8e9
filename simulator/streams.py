"""The live streams of simulated gateways, fed by the same site as the polled answers.

- Envoy ``GET /stream/meter``: server-sent events, one ``data: {...}`` line a second
  with ``production``, ``net-consumption`` and ``total-consumption``, each with
  ``ph-a``, ``ph-b``, ``ph-c`` (``p``, ``q``, ``s``, ``v``, ``i``, ``pf``, ``f``). Phases
  the CTs do not measure read 0, as on a real gateway.
- PVS6 telemetry WebSocket (its own port, 9002 on a real one): a ``power``
  notification a second with the ``/sys/livedata`` figures as numbers. A real PVS6
  closes it every 10 minutes (``TELEMETRY_SOCKET_SECONDS``); so does this one.

Tests steer the streams through a ``StreamBoard``: refuse an owner token on the
Envoy, drop every open stream, keep the streams silent, or refuse new ones for a
while. Times here are real seconds: a stream is a real connection.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
import json
import math

from aiohttp import web

from .live_state import Figures

DEFAULT_STREAM_INTERVAL = 1.0  # seconds between messages, as the real gateways do
TELEMETRY_SOCKET_SECONDS = 600.0  # a PVS6 closes its telemetry socket this often
PHASE_KEYS = ("ph-a", "ph-b", "ph-c")

type Message = Callable[[], str | None]


@dataclass(frozen=True, slots=True)
class CtLine:
    """What the capture says about one phase a CT measures."""

    voltage: float
    frequency: float
    power_factor: float


class StreamBoard:
    """What tests ask of a gateway's streams, and the streams that are open."""

    def __init__(self, interval: float = DEFAULT_STREAM_INTERVAL) -> None:
        """Streams send every ``interval`` seconds."""
        self.interval = interval
        self.refuse_owner = False  # the Envoy refuses /stream/meter to owner tokens
        self.opened = 0  # streams opened since start
        self.opened_at: list[float] = []  # when each was opened (event loop's clock)
        self.closed_at: list[float] = []  # when the gateway closed one itself
        self._silent_until = 0.0
        self._down_until = 0.0
        self._drop = asyncio.Event()
        self.open = 0

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def silence(self, seconds: float) -> None:
        """Keep open streams connected but send nothing for ``seconds``."""
        self._silent_until = self._now() + seconds

    def drop(self, down_for: float = 0.0) -> None:
        """Close every open stream; refuse new ones for ``down_for`` seconds."""
        self._down_until = self._now() + down_for
        self._drop.set()
        self._drop = asyncio.Event()

    @property
    def down_for(self) -> float:
        """Seconds during which new streams are still refused."""
        return max(0.0, self._down_until - self._now())

    def describe(self) -> dict[str, object]:
        """The board's state, for the control API."""
        now = self._now()
        return {
            "interval": self.interval,
            "refuse_owner": self.refuse_owner,
            "open": self.open,
            "opened": self.opened,
            "silent_for": max(0.0, self._silent_until - now),
            "down_for": self.down_for,
        }

    def update(self, body: Mapping[str, object]) -> None:
        """Apply a control request (``refuse_owner``, ``silent_for``, ``drop``, ...)."""
        refuse = body.get("refuse_owner")
        if isinstance(refuse, bool):
            self.refuse_owner = refuse
        interval = _seconds(body.get("interval"))
        if interval is not None and interval > 0:
            self.interval = interval
        silent = _seconds(body.get("silent_for"))
        if silent is not None:
            self.silence(silent)
        if body.get("drop") is True:
            self.drop(_seconds(body.get("down_for")) or 0.0)

    def unavailable(self) -> web.Response | None:
        """The answer to a new stream while streams are down, else None."""
        if (seconds := self.down_for) <= 0:
            return None
        return web.Response(
            status=503,
            text="503 Service Unavailable",
            headers={"Retry-After": str(max(1, math.ceil(seconds)))},
        )

    async def pace(
        self, send: Callable[[], Awaitable[None]], lifetime: float | None = None
    ) -> None:
        """Await ``send`` every interval until a drop (silent periods send nothing),
        or until ``lifetime`` seconds after it opened, when the gateway closes it."""
        dropped = self._drop
        self.open += 1
        self.opened += 1
        opened = self._now()
        self.opened_at.append(opened)
        ends = math.inf if lifetime is None else opened + lifetime
        try:
            while not dropped.is_set():
                if self._now() >= ends:
                    self.closed_at.append(self._now())
                    return
                if self._now() >= self._silent_until:
                    await send()
                with suppress(TimeoutError):
                    await asyncio.wait_for(
                        dropped.wait(), min(self.interval, ends - self._now())
                    )
        finally:
            self.open -= 1


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


async def serve_events(
    request: web.Request, board: StreamBoard, message: Message
) -> web.StreamResponse:
    """Serve ``message()`` as server-sent events until the stream is dropped."""
    if (refused := board.unavailable()) is not None:
        return refused
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)

    async def send() -> None:
        if (data := message()) is not None:
            await response.write(f"data: {data}\n\n".encode())

    try:
        await board.pace(send)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client went away
    return response


async def serve_socket(
    request: web.Request,
    board: StreamBoard,
    message: Message,
    lifetime: float | None = None,
) -> web.StreamResponse:
    """Serve ``message()`` on a WebSocket until the stream is dropped, or closed
    ``lifetime`` seconds after it opened."""
    if (refused := board.unavailable()) is not None:
        return refused
    socket = web.WebSocketResponse(autoping=True)
    await socket.prepare(request)

    async def send() -> None:
        if (data := message()) is not None:
            await socket.send_str(data)

    pacer = asyncio.create_task(board.pace(send, lifetime))
    reader = asyncio.create_task(_drain(socket))
    # Ends at a drop, at the end of its life, or when the client goes away.
    await asyncio.wait({pacer, reader}, return_when=asyncio.FIRST_COMPLETED)
    for task in (pacer, reader):
        task.cancel()
        with suppress(asyncio.CancelledError, ConnectionResetError):
            await task
    await socket.close()
    return socket


async def _drain(socket: web.WebSocketResponse) -> None:
    async for _message in socket:
        pass  # the PVS ignores what a client sends


def envoy_meter_event(figures: Figures, lines: tuple[CtLine, ...]) -> str:
    """One ``/stream/meter`` event: each CT type's power shared over its phases."""
    watts = {
        "production": figures.solar_w,
        "net-consumption": figures.grid_w,
        "total-consumption": figures.load_w,
    }
    event: dict[str, object] = {}
    for kind, power in watts.items():
        phases: dict[str, object] = {}
        for index, key in enumerate(PHASE_KEYS):
            if index < len(lines):
                phases[key] = _phase(power / len(lines), lines[index])
            else:
                phases[key] = dict.fromkeys(("p", "q", "s", "v", "i", "pf", "f"), 0.0)
        event[kind] = phases
    return json.dumps(event)


def _phase(power: float, line: CtLine) -> dict[str, float]:
    factor = line.power_factor if 0 < abs(line.power_factor) <= 1 else 1.0
    apparent = abs(power) / abs(factor)
    reactive = math.sqrt(max(0.0, apparent**2 - power**2))
    current = apparent / line.voltage if line.voltage else 0.0
    return {
        "p": round(power, 3),
        "q": round(reactive, 3),
        "s": round(apparent, 3),
        "v": round(line.voltage, 3),
        "i": round(current, 3),
        "pf": round(factor if power >= 0 else -factor, 2),
        "f": round(line.frequency, 2),
    }


def pvs_power_notification(livedata: Mapping[str, str]) -> str:
    """A telemetry ``power`` notification from the ``/sys/livedata`` variables."""
    params: dict[str, object] = {}
    for name, value in livedata.items():
        key = name.rsplit("/", 1)[-1]
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            params[key] = None
        elif key in ("time", "midstate"):
            params[key] = int(number)
        else:
            params[key] = number
    return json.dumps({"notification": "power", "params": params})
