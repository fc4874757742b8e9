"""The PVS6 varserver's telemetry WebSocket: site power pushed every few seconds.

The socket listens on port 9002 (plain ``ws://``) once the variable
``/sys/telemetryws/enable`` is 1, which an authenticated session sets with
``GET /vars?set=/sys/telemetryws/enable=1``. Its messages are
``{"notification": "power", "params": {...}}`` whose params are the ``/sys/livedata``
figures without their prefix (``time``, ``pv_p``, ``pv_en``, ``net_p``, ``net_en``,
``site_load_p``, ``site_load_en``, ``ess_p``, ``ess_en``, ``soc``,
``backupTimeRemaining``, ``midstate``: kW, kWh, SOC 0..1), so they are parsed by the
same code as a ``/vars`` answer and fold into the site as a livedata poll would.
PVS5s and older PVS6 firmware have no such socket.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
import json
from typing import override

import aiohttp

from custom_components.solar_gateway.gateway.errors import (
    ControlRefusedError,
    GatewayConnectionError,
    StreamRefusedError,
    UnexpectedPayloadError,
    invalid_json,
)
from custom_components.solar_gateway.gateway.site import SiteSnapshot
from custom_components.solar_gateway.gateway.stream import StreamReading, StreamSource
from custom_components.solar_gateway.gateway.transport import Timeouts, failures_named
from custom_components.solar_gateway.gateway.values import as_object, as_str

from .models import LiveData
from .parsers.varserver import LIVEDATA_PREFIX, parse_vars

TELEMETRY_VAR = "/sys/telemetryws/enable"
STREAM_PORT = 9002
POWER_NOTIFICATION = "power"
_REFUSED = frozenset({401, 403, 404})
_CLOSED = frozenset(
    {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED}
)


def parse_power_notification(message: str) -> LiveData | None:
    """Read one socket message: the live figures of a ``power`` notification.

    None for any other notification; ``UnexpectedPayloadError`` for a message that
    is not one, or a power notification without a single power figure.
    """
    try:
        document = json.loads(message)
    except ValueError as err:
        raise invalid_json("a telemetry message", message, err) from err
    root = as_object(document)
    if root is None:
        raise UnexpectedPayloadError("telemetry: not a JSON object")
    if as_str(root.get("notification")) != POWER_NOTIFICATION:
        return None
    params = as_object(root.get("params"))
    if params is None:
        raise UnexpectedPayloadError("telemetry: a power notification without params")
    live = parse_vars(
        {f"{LIVEDATA_PREFIX}{name}": value for name, value in params.items()}
    ).livedata
    if live is None or (live.pv_kw, live.net_kw, live.site_load_kw) == (
        None,
        None,
        None,
    ):
        raise UnexpectedPayloadError("telemetry: a power notification without power")
    return live


class _SocketMessages:
    """The text messages of an open WebSocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket

    async def receive(self) -> str | None:
        """Return the next message, or None once the PVS closed the socket."""
        while True:
            message = await self._socket.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                return str(message.data)
            if message.type is aiohttp.WSMsgType.BINARY:
                return bytes(message.data).decode("utf-8", errors="replace")
            if message.type in _CLOSED:
                return None
            if message.type is aiohttp.WSMsgType.ERROR:
                raise GatewayConnectionError(f"telemetry socket failed: {message.data}")


class PvsTelemetryStream(StreamSource):
    """The telemetry WebSocket of one PVS6, folded into its client's data."""

    # Every livedata power figure, the SunVault's (ess_p) too.
    carries = frozenset(
        {"solar_power", "grid_power", "consumption_power", "battery_power"}
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        enable: Callable[[], Awaitable[None]],
        fold: Callable[[LiveData], SiteSnapshot],
        timeouts: Timeouts | None = None,
    ) -> None:
        """Prepare the stream at ``url``; ``enable`` switches the socket on."""
        self._session = session
        self.url = url
        self.name = "telemetry socket"  # the URL would put the address in the logs
        self._enable = enable
        self._fold = fold
        self._timeouts = timeouts or Timeouts()

    @override
    @asynccontextmanager
    async def connect(self) -> AsyncIterator[_SocketMessages]:
        """Switch telemetry on (it does not survive a PVS restart), then connect."""
        try:
            await self._enable()
        except ControlRefusedError as err:
            # No such variable, or not for this user: this PVS does not stream.
            raise StreamRefusedError(str(err), err.status) from err
        with failures_named(self.name):
            try:
                async with asyncio.timeout(self._timeouts.connect):
                    socket = await self._session.ws_connect(
                        self.url,
                        timeout=aiohttp.ClientWSTimeout(
                            ws_close=self._timeouts.connect
                        ),
                        autoping=True,
                    )
                async with socket:
                    yield _SocketMessages(socket)
            except aiohttp.WSServerHandshakeError as err:
                # Not chained: aiohttp's message names the URL.
                if err.status in _REFUSED:
                    raise StreamRefusedError(
                        f"the PVS refuses its telemetry socket ({err.status})",
                        err.status,
                    ) from None
                raise GatewayConnectionError(
                    f"{self.name}: handshake failed ({err.status})"
                ) from None

    @override
    def read(self, message: str) -> StreamReading | None:
        """One power notification (None: another notification)."""
        live = parse_power_notification(message)
        if live is None:
            return None
        powers = {
            "pv": live.pv_kw,
            "net": live.net_kw,
            "site_load": live.site_load_kw,
            "ess": live.ess_kw,
        }
        return StreamReading(
            {name: None if kw is None else kw * 1000 for name, kw in powers.items()},
            lambda: self._fold(live),
        )
