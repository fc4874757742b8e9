"""Serving one simulated gateway over HTTP (and HTTPS where the real one does).

Besides the gateway's own endpoints, every simulated gateway has a control API:

- ``GET /_simulator/state``: identity, live figures, faults in force, controls, token;
- ``POST /_simulator/fault`` ``{"name", "duration"?, "count"?, "amount"?, "path"?,
  "method"?, "status"?, "body"?, "content_type"?}``: show a fault (see ``Fault``);
- ``DELETE /_simulator/fault[?name=NAME][&path=PATH]``: end faults, or all;
- ``GET /_simulator/requests``: every request received (``DELETE``: forget them);
- ``POST /_simulator/clock`` ``{"advance": seconds}``: move a manual clock;
- ``POST /_simulator/stream`` ``{"refuse_owner"?, "silent_for"?, "drop"?,
  "down_for"?, "interval"?}``: steer the live streams (see ``streams.StreamBoard``).

A PVS6 on varserver firmware also serves its telemetry WebSocket, on a port of its
own (``stream_port``; 9002 on a real one).
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
import json
from pathlib import Path
import socket
import time
from urllib.parse import parse_qsl

from aiohttp import web

from custom_components.solar_gateway.gateway.capture import Capture

from .capture import load_source
from .clock import Clock, ManualClock, SystemClock
from .envoy import EnvoyPersonality
from .envoy_cloud import DEFAULT_REVERT_SECONDS, RevertDelay
from .faults import (
    BODY_FAULTS,
    DEFAULT_JUMP_WH,
    INSTANT_FAULTS,
    Fault,
    FaultBoard,
    FaultName,
    FaultSpecError,
    concerns,
    next_firmware,
)
from .kinds import CaptureIdentity, GatewayKind, identify
from .live_state import Figures, LiveState
from .personality import Answer, Personality
from .pvs_legacy import PvsLegacyPersonality
from .pvs_varserver import DEFAULT_SESSION_SECONDS, PvsVarserverPersonality
from .streams import (
    DEFAULT_STREAM_INTERVAL,
    TELEMETRY_SOCKET_SECONDS,
    StreamBoard,
    serve_socket,
)
from .tls import self_signed_context

CONTROL_PREFIX = "/_simulator/"
TOKEN_USERS = ("owner", "installer")


@dataclass(frozen=True, slots=True)
class Received:
    """One request the gateway received, as it came."""

    time: float  # on the gateway's clock
    method: str
    path: str  # with the query, as sent
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (a name without ``=`` reads as empty)."""
        _, _, query = self.path.partition("?")
        return dict(parse_qsl(query, keep_blank_values=True))

    def json(self) -> object:
        """The body parsed as JSON (raises ``ValueError`` when it is not)."""
        return json.loads(self.body)

    def describe(self) -> dict[str, object]:
        """The request for ``GET /_simulator/requests``."""
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path.split("?", 1)[0],
            "query": self.query,
            "body": self.body.decode("utf-8", errors="replace"),
        }


HTML_ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>"
    "<body><h1>Internal Server Error</h1><p>The server is busy.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class SimulatorOptions:
    """How the simulated gateways behave beyond what their captures say."""

    device_list_delay: float = 0.0  # seconds a PVS takes to answer DeviceList
    answer_seconds: float = 0.0  # seconds every answer takes (a 503 too)
    session_seconds: float = DEFAULT_SESSION_SECONDS  # PVS varserver session life
    utc_offset_hours: float | None = None  # the site's time zone; None: this machine's
    hang_seconds: float = 300.0  # real seconds a "hang" holds a request at most
    faults: tuple[Fault, ...] = ()  # faults in force from the start
    frozen: bool = False  # serve the capture unchanged, as it was recorded
    stream_interval: float = DEFAULT_STREAM_INTERVAL  # real seconds between messages
    # A PVS6 closes its telemetry socket this often (None: never).
    telemetry_socket_seconds: float | None = TELEMETRY_SOCKET_SECONDS
    refuse_owner_stream: bool = False  # the Envoy refuses /stream/meter to owners
    owner_password: str | None = None  # PVS varserver; None: last 5 of the serial
    # Envoy: the Enphase cloud puts its battery settings back this many seconds after
    # a local write (firmware 8.2.4225+); None: it leaves them (no cloud reaches it).
    cloud_revert_after: float | None = None
    # Whose token an Envoy (firmware 7+) hands out: "owner", or "installer" (12 hours,
    # and the installer-only production switch and export limit answer it).
    token_user: str = "owner"  # noqa: S105 - a user name, not a secret

    def __post_init__(self) -> None:
        """Refuse a token user no Envoy issues."""
        if self.token_user not in TOKEN_USERS:
            raise ValueError(f"token_user must be one of {TOKEN_USERS}")


def local_utc_offset() -> float:
    """Return this machine's offset from UTC, in hours."""
    return time.localtime().tm_gmtoff / 3600.0


def make_personality(
    capture: Capture,
    identity: CaptureIdentity,
    options: SimulatorOptions,
    cloud_delay: RevertDelay | None = None,
) -> Personality:
    """Return the behaviour for a capture of this kind."""
    match identity.kind:
        case GatewayKind.ENVOY:
            return EnvoyPersonality(
                capture, identity, frozen=options.frozen, cloud_delay=cloud_delay
            )
        case GatewayKind.PVS_LEGACY:
            return PvsLegacyPersonality(
                capture,
                identity,
                device_list_delay=options.device_list_delay,
                frozen=options.frozen,
            )
        case GatewayKind.PVS_VARSERVER:
            return PvsVarserverPersonality(
                capture,
                identity,
                session_seconds=options.session_seconds,
                frozen=options.frozen,
                password=options.owner_password,
            )


def bind(host: str, port: int) -> socket.socket:
    """Return a listening TCP socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class SimulatedGateway:
    """One simulated gateway: its capture, live site, faults and server."""

    def __init__(
        self,
        capture: Capture,
        *,
        clock: Clock | None = None,
        options: SimulatorOptions | None = None,
    ) -> None:
        """Prepare a gateway from ``capture`` (not serving yet)."""
        self.options = options or SimulatorOptions()
        self.clock: Clock = clock or SystemClock()
        self.identity = identify(capture)
        self.faults = FaultBoard()
        self.personality = make_personality(
            capture, self.identity, self.options, self._cloud_delay
        )
        offset = self.options.utc_offset_hours
        profile = self.personality.site_profile(
            local_utc_offset() if offset is None else offset
        )
        self.state = LiveState(
            profile, self.clock, uptime_at_start=self.personality.uptime_at_start()
        )
        self.personality.attach(self.state)
        self.streams = StreamBoard(self.options.stream_interval)
        self.streams.refuse_owner = self.options.refuse_owner_stream
        self.host = "127.0.0.1"
        self.port = 0
        self.https_port: int | None = None
        self.stream_port: int | None = None
        self._token = self.personality.token(self.clock.now(), self.options.token_user)
        self._stale: Figures | None = None
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._telemetry_runner: web.AppRunner | None = None
        self._sites: list[web.SockSite] = []
        # Every request to the gateway's own endpoints: load figures, tests.
        self.requests: list[Received] = []
        for fault in self.options.faults:
            self.add_fault(fault)

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        source: Path | str | Capture,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        https_port: int | None = 0,
        stream_port: int | None = 0,
        clock: Clock | None = None,
        options: SimulatorOptions | None = None,
    ) -> AsyncIterator[SimulatedGateway]:
        """Serve a gateway from ``source`` for the duration of the ``async with``.

        ``https_port`` is used only by gateways that serve HTTPS, ``stream_port`` by
        those with a telemetry socket (None: never).
        """
        capture = source if isinstance(source, Capture) else load_source(Path(source))
        gateway = cls(capture, clock=clock, options=options)
        await gateway.serve(host, port, https_port, stream_port)
        try:
            yield gateway
        finally:
            await gateway.stop()

    @property
    def kind(self) -> GatewayKind:
        """The API the gateway speaks."""
        return self.identity.kind

    @property
    def url(self) -> str:
        """The gateway's HTTP base URL."""
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def https_url(self) -> str | None:
        """The gateway's HTTPS base URL, when it serves HTTPS."""
        if self.https_port is None:
            return None
        return f"https://{_url_host(self.host)}:{self.https_port}"

    @property
    def token(self) -> str | None:
        """A token the gateway accepts now (Envoy firmware 7+), else None."""
        return self._token

    def issue_token(
        self,
        *,
        user: str = "owner",
        lifetime: float | None = None,
        expiring: bool = True,
    ) -> str:
        """Return a new token for ``user``, valid for ``lifetime`` seconds (or, not
        ``expiring``, with no expiry at all)."""
        authority = getattr(self.personality, "token_auth", None)
        if authority is None:
            raise FaultSpecError("this gateway does not use tokens")
        token: str = authority.issue(
            user=user, lifetime=lifetime, now=self.clock.now(), expiring=expiring
        )
        return token

    def received(
        self, method: str | None = None, path: str | None = None
    ) -> list[Received]:
        """The requests received, of one method and to one path (``Fault.matches``)."""
        return [r for r in self.requests if concerns(method, path, r.method, r.path)]

    def answer(
        self,
        method: str,
        path: str,
        status: int = 200,
        body: object = "",
        *,
        content_type: str | None = None,
        count: int | None = None,
    ) -> None:
        """Answer ``method path`` with a fixed status and body (JSON unless text),
        ``count`` times or until cleared."""
        self.add_fault(
            Fault.from_json(
                {
                    "name": FaultName.ANSWER.value,
                    "method": method,
                    "path": path,
                    "status": status,
                    "body": body,
                    "content_type": content_type,
                    "count": count,
                }
            )
        )

    def add_fault(self, fault: Fault) -> None:
        """Show ``fault``: instant ones happen now, others last (see ``Fault``)."""
        now = self.clock.now()
        if fault.name in INSTANT_FAULTS:
            match fault.name:
                case FaultName.REBOOT:
                    self.state.reboot()
                    self.personality.restart()
                case FaultName.COUNTER_JUMP:
                    self.state.jump(fault.amount or DEFAULT_JUMP_WH)
                case FaultName.FIRMWARE_UPDATE:
                    self.state.reboot()
                    self.personality.restart()
                    self.personality.update_firmware(
                        next_firmware(self.identity.firmware)
                    )
                    self.identity = self.personality.identity
                case FaultName.TOKEN_EXPIRED:
                    self.personality.expire_credentials()
                    self._token = self.personality.token(now, self.options.token_user)
            return
        if fault.name is FaultName.STALE:
            self._stale = None
        self.faults.add(fault, now)

    def summary(self) -> dict[str, object]:
        """Return what a client needs to reach the gateway (the CLI's ``--json``)."""
        return {
            "kind": self.kind.value,
            "address": self.host,
            "url": self.url,
            "https_url": self.https_url,
            "serial": self.identity.serial,
            "firmware": self.identity.firmware,
            "model": self.identity.model,
            "token": self.token,
            "token_user": self.options.token_user if self.token else None,
            "stream_port": self.stream_port,
        }

    async def serve(
        self,
        host: str,
        port: int,
        https_port: int | None,
        stream_port: int | None = None,
    ) -> None:
        """Start listening on ``host``: HTTP on ``port``, HTTPS and the telemetry
        socket where the gateway has them."""
        app = web.Application()
        app.router.add_post(f"{CONTROL_PREFIX}stream", self._control_stream)
        app.router.add_get(f"{CONTROL_PREFIX}state", self._control_state)
        app.router.add_post(f"{CONTROL_PREFIX}fault", self._control_add_fault)
        app.router.add_delete(f"{CONTROL_PREFIX}fault", self._control_clear_fault)
        app.router.add_post(f"{CONTROL_PREFIX}clock", self._control_clock)
        app.router.add_get(f"{CONTROL_PREFIX}requests", self._control_requests)
        app.router.add_delete(f"{CONTROL_PREFIX}requests", self._control_forget)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._runner = runner
        self.host = host
        try:
            await self._listen(port, https_port)
            if self.personality.has_telemetry_socket and stream_port is not None:
                await self._serve_telemetry(host, stream_port)
        except BaseException:
            await self.stop()
            raise

    async def _serve_telemetry(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/", self._telemetry)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._telemetry_runner = runner
        sock = bind(host, port)
        self.stream_port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()

    async def _telemetry(self, request: web.Request) -> web.StreamResponse:
        if self.personality.telemetry(self.figures) is None:
            return web.Response(status=403, text="telemetry is disabled")
        return await serve_socket(
            request,
            self.streams,
            lambda: self.personality.telemetry(self.figures),
            self.options.telemetry_socket_seconds,
        )

    async def _listen(self, port: int, https_port: int | None) -> None:
        assert self._runner is not None
        plain = bind(self.host, port)
        self.port = plain.getsockname()[1]
        site = web.SockSite(self._runner, plain)
        await site.start()
        self._sites = [site]
        if self.personality.uses_tls and https_port is not None:
            secure = bind(self.host, https_port)
            self.https_port = secure.getsockname()[1]
            context = self_signed_context(
                self.identity.serial or "gateway", [self.host]
            )
            site = web.SockSite(self._runner, secure, ssl_context=context)
            await site.start()
            self._sites.append(site)

    async def go_offline(self) -> None:
        """Stop listening: connections are refused, as by a gateway that is down."""
        sites, self._sites = self._sites, []
        for site in sites:
            await site.stop()
        if self._runner is not None and self._runner.server is not None:
            # Kept-alive connections die with the server they came from.
            for connection in self._runner.server.connections:
                connection.force_close()

    async def go_online(self) -> None:
        """Listen again on the same ports."""
        if not self._sites:
            await self._listen(self.port, self.https_port)

    async def stop(self) -> None:
        """Stop serving (requests held by a hang are released first)."""
        self._stopping.set()
        # Open streams end first, so that the servers do not wait for them.
        self.streams.drop()
        for name in ("_telemetry_runner", "_runner"):
            runner = getattr(self, name)
            if runner is not None:
                setattr(self, name, None)
                await runner.cleanup()

    def _cloud_delay(self, now: float) -> float | None:
        """When the Enphase cloud puts its settings back after a write at ``now``:
        the ``cloud_override`` fault's, else the option's (None: never)."""
        fault = self.faults.find(FaultName.CLOUD_OVERRIDE, now)
        if fault is not None:
            return DEFAULT_REVERT_SECONDS if fault.amount is None else fault.amount
        return self.options.cloud_revert_after

    def figures(self, at: float | None = None) -> Figures:
        """Return the figures an answer shows: live, or frozen while data is stale."""
        now = self.clock.now()
        if self.faults.is_active(FaultName.STALE, now):
            if self._stale is None:
                self._stale = self.state.figures(at)
            figures = self._stale
        else:
            figures = self.state.figures(at)
        if self.faults.is_active(FaultName.COUNTER_DIP, now):
            figures = replace(figures, dipped=True)
        if self.faults.is_active(FaultName.COUNTER_SPIKE, now):
            spike = self.faults.amount(FaultName.COUNTER_SPIKE) or DEFAULT_JUMP_WH
            figures = replace(figures, spike_wh=spike)
        return figures

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        now = self.clock.now()
        method, path = request.method, request.path_qs
        self.requests.append(
            Received(now, method, path, dict(request.headers), await request.read())
        )
        if self.options.answer_seconds > 0:
            # A real gateway takes its time, even to say it is busy.
            await asyncio.sleep(self.options.answer_seconds)
        if canned := self.faults.take(FaultName.ANSWER, now, method, path):
            return web.Response(
                status=canned.status,
                body=canned.body.encode(),
                content_type=canned.answer_type,
            )
        if self.faults.take(FaultName.UNAVAILABLE, now, method, path):
            return web.Response(
                status=503, text="503 Service Unavailable", content_type="text/html"
            )
        if self.faults.take(FaultName.HANG, now, method, path):
            with suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self.options.hang_seconds
                )
            return web.Response(status=503, text="503 Service Unavailable")
        streamed = await self.personality.stream(
            request, now, self.figures, self.streams
        )
        if isinstance(streamed, web.StreamResponse):
            return streamed
        answer = streamed or await self.personality.answer(request, now, self.figures)
        if answer.counters:
            self.faults.take(FaultName.COUNTER_DIP, now)
            self.faults.take(FaultName.COUNTER_SPIKE, now)
        if answer.is_json and answer.status == 200:
            answer = self._spoil(answer, now, method, path)
        return web.Response(
            status=answer.status, body=answer.body, headers=dict(answer.headers)
        )

    def _spoil(self, answer: Answer, now: float, method: str, path: str) -> Answer:
        for name in BODY_FAULTS:
            if not self.faults.take(name, now, method, path):
                continue
            match name:
                case FaultName.MALFORMED_JSON:
                    body = answer.body.replace(b'"', b"'", 3) + b",]"
                    return replace(answer, body=body)
                case FaultName.TRUNCATED_JSON:
                    return replace(answer, body=answer.body[: len(answer.body) // 2])
                case FaultName.HTML_ERROR:
                    return Answer.of_text(HTML_ERROR_PAGE, content_type="text/html")
        return answer

    def state_document(self) -> dict[str, object]:
        """Return the gateway's state for ``GET /_simulator/state``."""
        now = self.clock.now()
        figures = self.state.figures()
        return {
            **self.summary(),
            "time": now,
            "figures": {**asdict(figures), "grid_w": figures.grid_w},
            "faults": self.faults.describe(now),
            "controls": self.personality.describe(),
            "reserve_soc": self.state.reserve_soc,
            "backup_only": self.state.backup_only,
            "islanded": self.state.islanded,
            "streams": self.streams.describe(),
        }

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state_document())

    async def _control_add_fault(self, request: web.Request) -> web.Response:
        try:
            fault = Fault.from_json(json.loads(await request.read()))
        except (ValueError, FaultSpecError) as err:
            return web.json_response({"error": str(err)}, status=400)
        self.add_fault(fault)
        return web.json_response(
            {"faults": self.faults.describe(self.clock.now()), "token": self.token}
        )

    async def _control_clear_fault(self, request: web.Request) -> web.Response:
        name = request.query.get("name")
        try:
            self.faults.clear(
                FaultName(name) if name else None, request.query.get("path")
            )
        except ValueError:
            return web.json_response({"error": f"unknown fault {name!r}"}, status=400)
        return web.json_response({"faults": self.faults.describe(self.clock.now())})

    async def _control_requests(self, request: web.Request) -> web.Response:
        return web.json_response([r.describe() for r in self.requests])

    async def _control_forget(self, request: web.Request) -> web.Response:
        self.requests.clear()
        return web.json_response([])

    async def _control_stream(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError as err:
            return web.json_response({"error": f"bad request: {err}"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "expected an object"}, status=400)
        self.streams.update(body)
        return web.json_response(self.streams.describe())

    async def _control_clock(self, request: web.Request) -> web.Response:
        if not isinstance(self.clock, ManualClock):
            return web.json_response(
                {"error": "the simulator runs on the real clock"}, status=409
            )
        try:
            body = json.loads(await request.read())
            seconds = float(body["advance"])
        except (ValueError, KeyError, TypeError) as err:
            return web.json_response({"error": f"bad request: {err}"}, status=400)
        self.clock.advance(seconds)
        return web.json_response({"time": self.clock.now()})


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
