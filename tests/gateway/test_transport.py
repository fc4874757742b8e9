"""Request discipline against a real HTTP server on 127.0.0.1."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
import errno
import json
import socket
import threading

import aiohttp
from aiohttp import ClientSession, web
from multidict import CIMultiDict, CIMultiDictProxy
import pytest
from yarl import URL

from custom_components.solar_gateway.gateway.errors import (
    GatewayBusyError,
    GatewayConnectionError,
    GatewayTimeoutError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.transport import (
    OFF_LOOP_JSON_BYTES,
    Response,
    RetryPolicy,
    Timeouts,
    Transport,
    failure_reason,
)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FakeTime:
    """A clock that only moves when the code under test sleeps (or the test says)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Gateway:
    """A local HTTP server whose answers each test scripts."""

    base_url: str
    seen: list[str] = field(default_factory=list)
    routes: dict[str, Handler] = field(default_factory=dict)

    def on(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler


# Every test talks to a server on 127.0.0.1 (or to a closed port there).
pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def gateway(socket_enabled: None) -> AsyncIterator[Gateway]:
    """Serve scripted answers on an ephemeral port of 127.0.0.1."""
    holder: list[Gateway] = []

    async def dispatch(request: web.Request) -> web.StreamResponse:
        server = holder[0]
        server.seen.append(f"{request.method} {request.path_qs}")
        handler = server.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="not found")
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    holder.append(Gateway(base_url=f"http://127.0.0.1:{port}"))
    yield holder[0]
    await runner.cleanup()


@pytest.fixture
def fake_time() -> FakeTime:
    """Injected clock and sleep."""
    return FakeTime()


def make_transport(
    session: ClientSession,
    base_url: str,
    fake_time: FakeTime,
    *,
    retry: RetryPolicy | None = None,
    timeouts: Timeouts | None = None,
) -> Transport:
    return Transport(
        session,
        base_url + "/",
        retry=retry,
        timeouts=timeouts,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )


def json_answer(body: str, status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/json")

    return handler


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_get_returns_the_whole_answer(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """Status, headers and body come back; the path keeps its query."""
    gateway.on("/production.json", json_answer('{"production": []}'))
    transport = make_transport(session, gateway.base_url, fake_time)
    response = await transport.get("/production.json?details=1")
    assert response.ok
    assert response.status == 200
    assert response.json() == {"production": []}
    assert response.text() == '{"production": []}'
    assert response.headers["Content-Type"].startswith("application/json")
    assert gateway.seen == ["GET /production.json?details=1"]
    assert transport.stats.requests == 1
    assert transport.stats.by_path["/production.json"] == 1
    assert transport.last_responses["/production.json?details=1"] is response


async def test_large_json_is_parsed_off_the_event_loop(
    gateway: Gateway,
    session: ClientSession,
    fake_time: FakeTime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A document above the threshold (a 300-inverter device data) is parsed in a
    worker thread; a small one, and a large one that is not JSON, on the loop;
    a large broken one still ends as a typed error."""
    large = json.dumps({str(i): {"sn": f"4822{i:08d}"} for i in range(3000)})
    assert len(large) > OFF_LOOP_JSON_BYTES
    gateway.on("/small", json_answer('{"a": 1}'))
    gateway.on("/large", json_answer(large))
    gateway.on("/broken", json_answer(large[:-1]))
    threads: list[int] = []
    loads = json.loads

    def recording(body: str | bytes) -> object:
        threads.append(threading.get_ident())
        return loads(body)

    monkeypatch.setattr(json, "loads", recording)
    loop_thread = threading.get_ident()
    transport = make_transport(session, gateway.base_url, fake_time)
    small = await transport.get("/small")
    assert threads == []  # nothing parsed before it is asked for
    assert small.json() == {"a": 1}
    assert threads == [loop_thread]
    threads.clear()
    parsed = (await transport.get("/large")).json()
    assert isinstance(parsed, dict)
    assert len(parsed) == 3000
    assert len(threads) == 1
    assert threads[0] != loop_thread
    threads.clear()
    broken = await transport.get("/broken")
    assert len(threads) == 1
    assert threads[0] != loop_thread
    with pytest.raises(
        UnexpectedPayloadError, match=r"GET /broken answered invalid JSON \(cut short"
    ):
        broken.json()


async def test_get_is_cached_for_the_cycle(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """A second GET in the same cycle does not reach the gateway; new_cycle does."""
    gateway.on("/info", json_answer("{}"))
    transport = make_transport(session, gateway.base_url, fake_time)
    first = await transport.get("/info")
    assert await transport.get("/info") is first
    assert len(gateway.seen) == 1
    assert transport.stats.cache_hits == 1
    await transport.get("/info", cache=False)
    assert len(gateway.seen) == 2
    transport.new_cycle()
    await transport.get("/info")
    assert len(gateway.seen) == 3


async def test_error_answers_are_returned_not_cached(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """A 401/404 is the client's to interpret, and is asked again next time."""
    transport = make_transport(session, gateway.base_url, fake_time)
    response = await transport.get("/ivp/ensemble/inventory")
    assert response.status == 404
    assert not response.ok
    await transport.get("/ivp/ensemble/inventory")
    assert len(gateway.seen) == 2


async def test_one_request_in_flight(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """Concurrent callers are serialized: the gateway never sees two at once."""
    in_flight = 0
    most = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return web.Response(text=request.path)

    for path in ("/a", "/b", "/c"):
        gateway.on(path, slow)
    transport = make_transport(session, gateway.base_url, fake_time)
    answers = await asyncio.gather(
        transport.get("/a"), transport.get("/b"), transport.get("/c")
    )
    assert [a.text() for a in answers] == ["/a", "/b", "/c"]
    assert most == 1


async def test_concurrent_same_get_is_sent_once(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """Callers waiting for the lock take the answer the first one cached."""
    gateway.on("/info", json_answer("{}"))
    transport = make_transport(session, gateway.base_url, fake_time)
    first, second = await asyncio.gather(transport.get("/info"), transport.get("/info"))
    assert first is second
    assert gateway.seen == ["GET /info"]


async def test_post_sends_json_and_is_not_cached(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """A control write carries its body and always reaches the gateway."""
    bodies: list[object] = []

    async def relay(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return web.Response(text="{}")

    gateway.on("/ivp/ensemble/relay", relay)
    transport = make_transport(session, gateway.base_url, fake_time)
    body = {"mains_admin_state": "open"}
    await transport.request("POST", "/ivp/ensemble/relay", json_body=body)
    await transport.request("POST", "/ivp/ensemble/relay", json_body=body)
    assert bodies == [body, body]


async def test_connection_refused_retries_then_backs_off(
    session: ClientSession, fake_time: FakeTime
) -> None:
    """A refused GET is retried a bounded number of times with growing delays."""
    transport = make_transport(
        session,
        f"http://127.0.0.1:{closed_port()}",
        fake_time,
        retry=RetryPolicy(retries=2, delay=2.0, failure_backoff=15.0),
    )
    with pytest.raises(GatewayConnectionError) as caught:
        await transport.get("/info")
    assert not isinstance(caught.value, GatewayTimeoutError)
    assert fake_time.sleeps == [2.0, 4.0]
    assert transport.stats.requests == 3
    assert transport.stats.failures == 3
    # Then it leaves the gateway alone without touching the network.
    assert transport.backoff_remaining == 15.0
    with pytest.raises(GatewayBusyError) as busy:
        await transport.get("/info")
    assert busy.value.retry_after == 15.0
    assert transport.stats.requests == 3


async def test_post_is_not_retried(session: ClientSession, fake_time: FakeTime) -> None:
    """Sending a write twice could apply it twice: one attempt only."""
    transport = make_transport(
        session,
        f"http://127.0.0.1:{closed_port()}",
        fake_time,
        retry=RetryPolicy(retries=3),
    )
    with pytest.raises(GatewayConnectionError):
        await transport.request("POST", "/ivp/ensemble/relay", json_body={})
    assert transport.stats.requests == 1
    assert fake_time.sleeps == []


async def test_busy_answer_honours_retry_after(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """A 503 with Retry-After silences the transport for exactly that long."""

    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "120"})

    gateway.on("/cgi-bin/dl_cgi", busy)
    transport = make_transport(session, gateway.base_url, fake_time)
    with pytest.raises(GatewayBusyError) as caught:
        await transport.get("/cgi-bin/dl_cgi?Command=DeviceList")
    assert caught.value.retry_after == 120.0
    assert len(gateway.seen) == 1
    # Refused without the network until the time has passed.
    fake_time.now += 118
    with pytest.raises(GatewayBusyError) as again:
        await transport.get("/cgi-bin/dl_cgi?Command=DeviceList")
    assert again.value.retry_after == pytest.approx(2.0)
    assert len(gateway.seen) == 1
    gateway.on("/cgi-bin/dl_cgi", json_answer("{}"))
    fake_time.now += 2
    assert (await transport.get("/cgi-bin/dl_cgi?Command=DeviceList")).ok
    assert len(gateway.seen) == 2


@pytest.mark.parametrize("fault", ["busy", "timeout"])
async def test_the_poll_due_as_a_back_off_ends_is_sent(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime, fault: str
) -> None:
    """A poll whose timer fires a fraction of a second before the back-off ends
    (Home Assistant rounds a poll's time down to the second) sends its request:
    refused, the gateway would be read again only an interval later."""
    release = asyncio.Event()

    async def failing(request: web.Request) -> web.Response:
        if fault == "timeout":
            await release.wait()
        return web.Response(status=503)

    gateway.on("/production", failing)
    transport = make_transport(
        session,
        gateway.base_url,
        fake_time,
        retry=RetryPolicy(retries=0, busy_backoff=15.0, failure_backoff=15.0),
        timeouts=Timeouts(connect=1.0, read=0.05),
    )
    with pytest.raises(GatewayBusyError if fault == "busy" else GatewayTimeoutError):
        await transport.get("/production")
    release.set()
    assert transport.backoff_remaining == 15.0
    gateway.on("/production", json_answer("{}"))
    fake_time.now += 13.5  # well inside the back-off: refused, nothing sent
    with pytest.raises(GatewayBusyError):
        await transport.get("/production")
    assert len(gateway.seen) == 1
    fake_time.now += 1.15  # the next poll, 0.35 s before the back-off ends
    assert (await transport.get("/production")).ok
    assert len(gateway.seen) == 2


@pytest.mark.parametrize("retry_after", [None, "soon", "0", "-5"])
async def test_busy_without_usable_retry_after_uses_default(
    gateway: Gateway,
    session: ClientSession,
    fake_time: FakeTime,
    retry_after: str | None,
) -> None:
    """A 503 with no (or a nonsense) Retry-After backs off for the policy's default."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}

    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=503, headers=headers)

    gateway.on("/vars", busy)
    transport = make_transport(
        session, gateway.base_url, fake_time, retry=RetryPolicy(busy_backoff=60.0)
    )
    with pytest.raises(GatewayBusyError) as caught:
        await transport.get("/vars?match=/sys/info")
    assert caught.value.retry_after == 60.0
    assert transport.backoff_remaining == 60.0
    assert transport.stats.failures == 1


async def test_timeouts_raise_and_back_off_grows_capped(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """A silent gateway gives GatewayTimeoutError; each failed run doubles the silence."""
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    gateway.on("/api/v1/production", hang)
    transport = make_transport(
        session,
        gateway.base_url,
        fake_time,
        retry=RetryPolicy(retries=0, failure_backoff=15.0, max_backoff=50.0),
        timeouts=Timeouts(connect=1.0, read=0.05),
    )
    backoffs = []
    for _ in range(4):
        with pytest.raises(GatewayTimeoutError):
            await transport.get("/api/v1/production")
        backoffs.append(transport.backoff_remaining)
        fake_time.now += transport.backoff_remaining
    assert backoffs == [15.0, 30.0, 50.0, 50.0]
    release.set()
    # A success resets the growth.
    gateway.on("/api/v1/production", json_answer("{}"))
    assert (await transport.get("/api/v1/production")).ok
    gateway.on("/api/v1/production", hang)
    release.clear()
    with pytest.raises(GatewayTimeoutError):
        await transport.get("/api/v1/production", cache=False)
    assert transport.backoff_remaining == 15.0
    release.set()


async def test_per_request_timeouts(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """A slow endpoint can be given a longer read timeout than the default."""

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.1)
        return web.Response(text="ok")

    gateway.on("/slow", slow)
    transport = make_transport(
        session,
        gateway.base_url,
        fake_time,
        retry=RetryPolicy(retries=0),
        timeouts=Timeouts(connect=1.0, read=0.01),
    )
    response = await transport.get("/slow", timeouts=Timeouts(connect=1.0, read=5.0))
    assert response.text() == "ok"


async def test_manual_back_off(
    gateway: Gateway, session: ClientSession, fake_time: FakeTime
) -> None:
    """A client that spots a reboot can silence the transport itself."""
    gateway.on("/info", json_answer("{}"))
    transport = make_transport(session, gateway.base_url, fake_time)
    assert transport.backoff_remaining == 0.0
    transport.back_off(30)
    transport.back_off(10)  # never shortens an existing back-off
    assert transport.backoff_remaining == 30.0
    with pytest.raises(GatewayBusyError):
        await transport.get("/info")
    assert gateway.seen == []


async def test_invalid_url_is_a_connection_error(
    session: ClientSession, fake_time: FakeTime
) -> None:
    """A client error from aiohttp itself ends as GatewayConnectionError."""
    transport = make_transport(
        session, "http://", fake_time, retry=RetryPolicy(retries=0)
    )
    with pytest.raises(GatewayConnectionError):
        await transport.get("/info")


async def test_os_error_is_a_connection_error(fake_time: FakeTime) -> None:
    """An OSError escaping the session is wrapped, not leaked, and its message
    (which names the address) stays out of ours."""

    class BrokenSession:
        def request(self, *args: object, **kwargs: object) -> object:
            raise OSError(errno.ENETUNREACH, "Connect call failed ('192.0.2.1', 80)")

    transport = Transport(
        BrokenSession(),  # type: ignore[arg-type]
        "http://192.0.2.1",
        retry=RetryPolicy(retries=0),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )
    with pytest.raises(GatewayConnectionError) as caught:
        await transport.get("/info")
    assert str(caught.value) == "GET /info failed: network is unreachable"
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


_REQUEST = aiohttp.RequestInfo(
    URL("http://192.0.2.1/"), "GET", CIMultiDictProxy(CIMultiDict())
)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            aiohttp.ServerDisconnectedError("Server disconnected from 192.0.2.1"),
            "the gateway closed the connection",
        ),
        (aiohttp.ClientPayloadError("cut at 192.0.2.1"), "the answer was cut off"),
        (
            aiohttp.TooManyRedirects(
                _REQUEST,
                (),
            ),
            "too many redirects",
        ),
        (
            aiohttp.ClientResponseError(
                _REQUEST,
                (),
                status=502,
            ),
            "HTTP 502",
        ),
        (socket.gaierror(-2, "Name or service not known"), "the name does not resolve"),
        (OSError("no errno, 192.0.2.1"), "OSError"),
        (aiohttp.ClientConnectionError("to 192.0.2.1"), "ClientConnectionError"),
    ],
)
def test_failure_reason_names_no_host(error: BaseException, reason: str) -> None:
    """What failed, in words: never the address the original message carries."""
    assert failure_reason(error) == reason


@pytest.mark.parametrize(
    "body", [b"<html>Error</html>", b'{"truncated": ', b"", b"\xff\xfe\x00"]
)
def test_response_json_rejects_invalid_payloads(body: bytes) -> None:
    """HTML error pages, truncated JSON and garbage raise UnexpectedPayloadError."""
    response = Response(
        method="GET",
        path="/production.json",
        status=200,
        headers=CIMultiDictProxy(CIMultiDict()),
        body=body,
    )
    with pytest.raises(UnexpectedPayloadError, match=r"GET /production\.json"):
        response.json()
