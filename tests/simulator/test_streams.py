"""Both live streams, from the project's clients to the simulator and back.

The simulator's streams show the same site as its polled answers; these tests check
what a user relies on: figures arrive within 2 s of a change, a refused stream says
why, and a stream that drops or goes silent is declared down and comes back.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
import json
from pathlib import Path
import shutil
import time

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup, GatewayClient
from custom_components.solar_gateway.gateway.envoy import EnvoyClient
from custom_components.solar_gateway.gateway.envoy.stream import BUSY_WAIT
from custom_components.solar_gateway.gateway.errors import (
    GatewayBusyError,
    GatewayConnectionError,
    StreamRefusedError,
)
from custom_components.solar_gateway.gateway.pvs import PvsClient
from custom_components.solar_gateway.gateway.pvs.stream import (
    TELEMETRY_VAR,
    PvsTelemetryStream,
)
from custom_components.solar_gateway.gateway.site import SiteFigures
from custom_components.solar_gateway.gateway.stream import (
    Backoff,
    LiveStream,
    StreamReading,
    StreamState,
)
from simulator import SimulatedGateway
from simulator.clock import ManualClock
from simulator.faults import Fault, FaultName
from simulator.pvs_varserver import PvsVarserverPersonality
from simulator.server import SimulatorOptions
from simulator.streams import pvs_power_notification
from tests.conftest import FIXTURES

ENVOY = FIXTURES / "envoy" / "metered_battery"
VARSERVER = FIXTURES / "pvs" / "varserver"
FAST = SimulatorOptions(utc_offset_hours=0.0, stream_interval=0.1)
ALL_GROUPS = frozenset(DataGroup)


class Watcher:
    """Runs a client's stream and lets a test wait for what it reports."""

    def __init__(
        self,
        client: GatewayClient,
        *,
        stale_after: float = 1.0,
        renewed_after: float = 60.0,
    ) -> None:
        source = client.stream_source()
        assert source is not None
        self.snapshots: list[tuple[float, SiteFigures]] = []
        self.states: list[StreamState] = []
        self._changed = asyncio.Event()
        self.stream = LiveStream(
            source,
            on_reading=self._reading,
            on_state=self._state,
            stale_after=stale_after,
            backoff=Backoff(initial=0.1, maximum=0.5),
            renewed_after=renewed_after,
        )

    def _reading(self, reading: StreamReading) -> None:
        self.snapshots.append((time.monotonic(), reading.fold().figures))
        self._changed.set()

    def _state(self, state: StreamState) -> None:
        self.states.append(state)
        self._changed.set()

    async def until(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until ``condition`` holds (failing the test after ``within`` s)."""
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    @property
    def last(self) -> SiteFigures:
        return self.snapshots[-1][1]


@asynccontextmanager
async def watching(
    client: GatewayClient, *, stale_after: float = 1.0, renewed_after: float = 60.0
) -> AsyncIterator[Watcher]:
    watcher = Watcher(client, stale_after=stale_after, renewed_after=renewed_after)
    task = asyncio.create_task(watcher.stream.run())
    try:
        yield watcher
    finally:
        task.cancel()  # a refused stream has ended already
        with suppress(asyncio.CancelledError):
            await task


def envoy(
    session: aiohttp.ClientSession, gw: SimulatedGateway, token: str | None
) -> EnvoyClient:
    clock = gw.clock.now  # tokens are issued on the simulator's clock
    if token is None:
        return EnvoyClient(session, gw.url.removeprefix("http://"), clock=clock)
    assert gw.https_url is not None
    host = gw.https_url.removeprefix("https://")
    return EnvoyClient(session, host, token=token, clock=clock)


def varserver(session: aiohttp.ClientSession, gw: SimulatedGateway) -> PvsClient:
    assert gw.https_url is not None
    assert gw.stream_port is not None
    return PvsClient(session, gw.https_url, stream_port=gw.stream_port)


async def test_envoy_stream_shows_the_site_within_two_seconds_of_a_change(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Streamed solar and grid power are the simulated site's; a change shows at once."""
    async with SimulatedGateway.start(ENVOY, clock=clock, options=FAST) as gw:
        client = envoy(session, gw, gw.token)
        await client.setup()
        await client.refresh(ALL_GROUPS)
        async with watching(client) as watcher:
            await watcher.until(lambda: bool(watcher.snapshots))
            site = gw.state.figures()
            assert watcher.last.solar_power == pytest.approx(site.solar_w, abs=0.01)
            assert watcher.last.grid_power == pytest.approx(site.grid_w, abs=0.01)
            # Evening: solar falls; the stream shows it within 2 s.
            clock.advance(6 * 3600)
            changed = time.monotonic()
            expected = gw.state.figures().solar_w
            await watcher.until(
                lambda: abs((watcher.last.solar_power or 0) - expected) < 0.01
            )
            assert watcher.snapshots[-1][0] - changed < 2.0
            assert watcher.states[:2] == [StreamState.CONNECTING, StreamState.STREAMING]
            assert watcher.stream.stats.invalid_messages == 0
        # Polling and streaming read the same site.
        polled = await client.refresh(frozenset({DataGroup.LIVE}))
        assert polled.figures.solar_power == pytest.approx(expected, abs=0.01)


async def test_envoy_refuses_the_stream_to_an_owner_token(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Asked to, the simulator refuses owners: the stream stops for good, polling works."""
    options = SimulatorOptions(utc_offset_hours=0.0, refuse_owner_stream=True)
    async with SimulatedGateway.start(ENVOY, clock=clock, options=options) as gw:
        client = envoy(session, gw, gw.token)
        await client.setup()
        async with watching(client) as watcher:
            await watcher.until(lambda: watcher.stream.state is StreamState.REFUSED)
        assert watcher.stream.refusal is not None
        assert "(401)" in watcher.stream.refusal
        assert watcher.snapshots == []
        assert gw.streams.opened == 0
        snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
        assert snapshot.figures.grid_power is not None

        # An installer token is still streamed to.
        installer = envoy(session, gw, gw.issue_token(user="installer"))
        await installer.setup()
        async with watching(installer) as watcher:
            await watcher.until(lambda: bool(watcher.snapshots))


async def test_envoy_before_firmware_7_streams_to_the_installer(
    session: aiohttp.ClientSession, clock: ManualClock, tmp_path: Path
) -> None:
    """Digest firmware: the client logs in to the stream as ``installer``."""
    folder = tmp_path / "fw5"
    shutil.copytree(ENVOY, folder)
    info = (folder / "info").read_text()
    (folder / "info").write_text(
        info.replace("D8.2.4286", "D5.0.62").replace(
            "<web-tokens>true</web-tokens>", "<web-tokens>false</web-tokens>"
        )
    )
    async with SimulatedGateway.start(folder, clock=clock, options=FAST) as gw:
        assert gw.token is None
        client = envoy(session, gw, None)
        await client.setup()
        async with watching(client) as watcher:
            await watcher.until(lambda: bool(watcher.snapshots))
        site = gw.state.figures()
        assert watcher.last.solar_power == pytest.approx(site.solar_w, abs=0.01)


async def test_a_dropped_stream_is_down_then_back(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Drop: down at once, reconnect after the gateway's retry time, stream again."""
    async with SimulatedGateway.start(ENVOY, clock=clock, options=FAST) as gw:
        client = envoy(session, gw, gw.token)
        await client.setup()
        async with watching(client) as watcher:
            await watcher.until(lambda: bool(watcher.snapshots))
            gw.streams.drop(down_for=0.5)
            await watcher.until(lambda: watcher.stream.state is StreamState.DOWN)
            count = len(watcher.snapshots)
            await watcher.until(
                lambda: watcher.stream.state is StreamState.STREAMING, within=5
            )
            assert len(watcher.snapshots) > count
            assert watcher.stream.stats.reconnects >= 1
            assert "503" in (watcher.stream.stats.last_error or "")


async def test_a_silent_stream_is_declared_down_by_the_watchdog(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A stream that stays open but sends nothing is closed, reopened, and back."""
    async with SimulatedGateway.start(ENVOY, clock=clock, options=FAST) as gw:
        client = envoy(session, gw, gw.token)
        await client.setup()
        async with watching(client, stale_after=0.5) as watcher:
            await watcher.until(lambda: bool(watcher.snapshots))
            gw.streams.silence(1.5)
            await watcher.until(lambda: watcher.stream.state is StreamState.DOWN)
            assert watcher.stream.stats.stale >= 1
            await watcher.until(
                lambda: watcher.stream.state is StreamState.STREAMING, within=5
            )


async def test_pvs6_telemetry_socket_is_switched_on_and_streams_the_livedata(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """The client enables telemetry in its session; the socket shows the site."""
    async with SimulatedGateway.start(VARSERVER, clock=clock, options=FAST) as gw:
        personality = gw.personality
        assert isinstance(personality, PvsVarserverPersonality)
        assert personality.variables[TELEMETRY_VAR] == "0"
        client = varserver(session, gw)
        await client.setup()
        await client.refresh(ALL_GROUPS)
        async with watching(client) as watcher:
            await watcher.until(lambda: bool(watcher.snapshots))
            assert personality.variables[TELEMETRY_VAR] == "1"
            site = gw.state.figures()
            # kW with six decimals on the wire.
            assert watcher.last.solar_power == pytest.approx(site.solar_w, abs=0.01)
            assert watcher.last.grid_power == pytest.approx(site.grid_w, abs=0.01)
            clock.advance(6 * 3600)
            changed = time.monotonic()
            expected = gw.state.figures().solar_w
            await watcher.until(
                lambda: abs((watcher.last.solar_power or 0) - expected) < 0.01
            )
            assert watcher.snapshots[-1][0] - changed < 2.0
            gw.streams.drop(down_for=0.3)
            await watcher.until(lambda: watcher.stream.state is StreamState.DOWN)
            await watcher.until(lambda: watcher.stream.state is StreamState.STREAMING)
        assert gw.streams.opened >= 2


async def test_a_pvs6_renews_its_telemetry_socket_and_the_stream_goes_on(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """The PVS6 closes its socket when it has been open a while (10 minutes on a
    real one, 1 s here): the client reopens it at once and streams throughout."""
    options = replace(FAST, telemetry_socket_seconds=1.0)
    async with SimulatedGateway.start(VARSERVER, clock=clock, options=options) as gw:
        client = varserver(session, gw)
        await client.setup()
        async with watching(client, renewed_after=0.5) as watcher:
            await watcher.until(lambda: len(gw.streams.opened_at) >= 3, within=8)
        opened, closed = gw.streams.opened_at, gw.streams.closed_at
    assert StreamState.DOWN not in watcher.states
    assert len(closed) >= 2
    # Reopened at once: no back-off (its shortest is 0.05 s here).
    assert all(0 <= opened[i + 1] - closed[i] < 0.05 for i in range(2))


async def test_a_pvs5_has_no_telemetry_socket(
    clock: ManualClock, tmp_path: Path
) -> None:
    """A PVS5 on varserver firmware has no telemetry socket: none is served."""
    folder = tmp_path / "pvs5"
    shutil.copytree(VARSERVER, folder)
    dump = folder / "vars_fmt_obj.json"
    variables = json.loads(dump.read_text())
    variables["/sys/info/model"] = "PVS5"
    dump.write_text(json.dumps(variables))
    async with SimulatedGateway.start(folder, clock=clock, options=FAST) as gw:
        assert gw.stream_port is None
        assert not gw.personality.has_telemetry_socket


async def test_a_pvs_without_the_telemetry_switch_refuses_the_stream(
    session: aiohttp.ClientSession, clock: ManualClock, tmp_path: Path
) -> None:
    """Firmware without /sys/telemetryws: the switch is refused, so is the stream."""
    folder = tmp_path / "old"
    shutil.copytree(VARSERVER, folder)
    dump = folder / "vars_fmt_obj.json"
    dump.write_text(
        "".join(
            line
            for line in dump.read_text().splitlines(keepends=True)
            if TELEMETRY_VAR not in line
        )
    )
    async with SimulatedGateway.start(folder, clock=clock, options=FAST) as gw:
        assert gw.stream_port is None
        client = PvsClient(session, gw.https_url or "")
        await client.setup()
        async with watching(client) as watcher:
            await watcher.until(lambda: watcher.stream.state is StreamState.REFUSED)
        assert "(404)" in (watcher.stream.refusal or "")


async def test_gateways_without_a_stream_offer_none(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """No CT, or a legacy PVS: nothing to stream, the site is polled."""
    for folder in (
        FIXTURES / "envoy" / "metered_no_ct",
        FIXTURES / "pvs" / "legacy_basic",
    ):
        async with SimulatedGateway.start(folder, clock=clock, options=FAST) as gw:
            client: GatewayClient
            if gw.https_url is not None and gw.token is not None:
                client = envoy(session, gw, gw.token)
            else:
                client = PvsClient(session, gw.url.removeprefix("http://"))
            await client.setup()
            assert client.stream_source() is None


async def test_stream_connections_fail_as_typed_errors(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Busy, gone, refused handshakes: each is the error the runner acts on."""
    options = SimulatorOptions(utc_offset_hours=0.0)
    async with SimulatedGateway.start(ENVOY, clock=clock, options=options) as gw:
        client = envoy(session, gw, gw.token)
        await client.setup()
        source = client.stream_source()
        assert source is not None
        gw.add_fault(Fault(FaultName.UNAVAILABLE, count=1))
        with pytest.raises(GatewayBusyError) as busy:
            async with source.connect():
                pass
        assert busy.value.retry_after == BUSY_WAIT
    # The gateway is gone.
    with pytest.raises(GatewayConnectionError):
        async with source.connect():
            pass

    async with SimulatedGateway.start(VARSERVER, clock=clock, options=options) as gw:
        client = varserver(session, gw)
        await client.setup()
        url = f"ws://127.0.0.1:{gw.stream_port}/"

        async def nothing() -> None:
            """Leave telemetry switched off."""

        silent = PvsTelemetryStream(
            session, url, enable=nothing, fold=client.fold_stream_live
        )
        with pytest.raises(StreamRefusedError, match="403"):
            async with silent.connect():
                pass
        source = client.stream_source()
        assert source is not None
        gw.streams.drop(down_for=10)
        with pytest.raises(GatewayConnectionError, match="503"):
            async with source.connect():
                pass
    with pytest.raises(GatewayConnectionError):
        async with source.connect():
            pass


async def test_streams_are_steered_through_the_control_api(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """POST /_simulator/stream changes the board; the state document shows it."""
    async with SimulatedGateway.start(ENVOY, clock=clock, options=FAST) as gw:
        control = f"{gw.url}/_simulator/stream"
        async with session.post(
            control,
            json={"refuse_owner": True, "interval": 0.5, "silent_for": 2, "drop": True},
        ) as response:
            board = await response.json()
        assert board["refuse_owner"] is True
        assert board["interval"] == 0.5
        assert 0 < board["silent_for"] <= 2
        assert board["down_for"] == 0
        async with session.post(
            control, json={"drop": True, "down_for": 3}
        ) as response:
            assert 0 < (await response.json())["down_for"] <= 3
        for bad in ("[1]", "not json"):
            async with session.post(control, data=bad) as response:
                assert response.status == 400
        async with session.post(
            control, json={"interval": -1, "silent_for": "x"}
        ) as response:
            assert (await response.json())["interval"] == 0.5
        async with session.get(f"{gw.url}/_simulator/state") as response:
            state = await response.json()
        assert state["streams"]["refuse_owner"] is True
        assert state["stream_port"] is None


def test_telemetry_notifications_leave_nan_out() -> None:
    """A variable the PVS reports as "nan" is null in the notification."""
    message = json.loads(
        pvs_power_notification(
            {
                "/sys/livedata/time": "1761316812",
                "/sys/livedata/soc": "nan",
                "/sys/livedata/pv_p": "1.5",
                "/sys/livedata/midstate": "2",
            }
        )
    )
    assert message == {
        "notification": "power",
        "params": {"time": 1761316812, "soc": None, "pv_p": 1.5, "midstate": 2},
    }


async def test_a_legacy_pvs_has_no_telemetry(clock: ManualClock) -> None:
    """The legacy API has no telemetry socket and sends no telemetry."""
    async with SimulatedGateway.start(
        FIXTURES / "pvs" / "legacy_basic", clock=clock, options=FAST
    ) as gw:
        assert not gw.personality.has_telemetry_socket
        assert gw.personality.telemetry(gw.figures) is None
        assert gw.stream_port is None
