"""Live streams against polling: requests, power age, state writes and CPU per hour.

Run: ``.venv/bin/python benchmarks/streaming.py [--seconds 60] [--write-interval 5]``.

A stream is a real connection pushing every second, so this runs in real time (not
in compressed time like a polling benchmark): the simulated gateway serves from its
own thread on the real clock, the project's client streams in this one, and the
figures are scaled to an hour. For each site (the metered-battery Envoy, the PVS6
varserver) it prints, for the LIVE group polled at its default interval and for
the stream:

- requests/h to the gateway for live power (the stream: its counter polls every
  5 minutes plus its connections, a PVS6's every 10 minutes included);
- power age, worst: the longest gap between two fresh streamed power figures, and
  the age of each power figure the stream does not carry (polled at the live
  interval while streaming);
- state writes/h per power sensor, with the integration's rule (at most every N s,
  or at once on a change over 10 % or 200 W);
- CPU/h of the client's thread (parsing and folding each message into the site).
"""

import argparse
import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
import sys
import threading
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from custom_components.solar_gateway.coordinator import (
    COUNTER_INTERVAL,
    POWER_FIGURES,
    large_change,
)
from custom_components.solar_gateway.gateway.client import DataGroup, GatewayClient
from custom_components.solar_gateway.gateway.envoy import EnvoyClient
from custom_components.solar_gateway.gateway.pvs import PvsClient
from custom_components.solar_gateway.gateway.stream import LiveStream, StreamReading
from simulator.server import SimulatedGateway, SimulatorOptions
from simulator.streams import TELEMETRY_SOCKET_SECONDS

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SITES = {
    "Envoy metered + battery": "envoy/metered_battery",
    "PVS6 varserver": "pvs/varserver",
}
# Sites whose gateway closes its stream this often (seconds) to renew it: longer
# than a run, so counted, not measured.
RENEWED_EVERY = {"PVS6 varserver": TELEMETRY_SOCKET_SECONDS}
HOUR = 3600.0
DEFAULT_WRITE_INTERVAL = 5.0  # the integration's default "write at most every N s"


@dataclass
class Figures:
    """One site's hour, polled and streamed."""

    poll_interval: float
    # Power figures the stream does not carry (an Envoy's batteries): the live group
    # keeps polling at its own interval for them while streaming.
    polled: tuple[str, ...] = ()
    messages: int = 0
    connects: int = 0
    worst_gap: float = 0.0
    writes: int = 0
    cpu: float = 0.0
    seconds: float = 0.0


@contextmanager
def gateway_thread(folder: Path) -> Iterator[SimulatedGateway]:
    """Serve ``folder`` from a thread of its own (its CPU is not the client's)."""
    ready = threading.Event()
    stop: asyncio.Event | None = None
    holder: list[SimulatedGateway] = []
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with SimulatedGateway.start(
            folder, options=SimulatorOptions(utc_offset_hours=0.0)
        ) as gateway:
            holder.append(gateway)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),))
    thread.start()
    ready.wait(30)
    try:
        yield holder[0]
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def client_for(session: aiohttp.ClientSession, gw: SimulatedGateway) -> GatewayClient:
    if gw.token is not None:
        assert gw.https_url is not None
        host = gw.https_url.removeprefix("https://")
        return EnvoyClient(
            session, host, token=gw.issue_token(lifetime=10 * 365 * 86400)
        )
    assert gw.https_url is not None
    return PvsClient(session, gw.https_url, stream_port=gw.stream_port)


async def measure(folder: Path, seconds: float, write_interval: float) -> Figures:
    with gateway_thread(folder) as gw:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=False)
        ) as session:
            client = client_for(session, gw)
            await client.setup()
            await client.refresh(frozenset(DataGroup))
            source = client.stream_source()
            assert source is not None
            site = (await client.first_refresh()).figures
            figures = Figures(
                client.polling[DataGroup.LIVE].default.total_seconds(),
                tuple(
                    name
                    for name in POWER_FIGURES
                    if getattr(site, name) is not None
                    and name not in source.carries
                    and client.figure_group(name) is DataGroup.LIVE
                ),
            )
            last: list[float] = []
            written: list[tuple[float, Mapping[str, float | None]]] = []

            def take(reading: StreamReading) -> None:
                # As the integration does: folded into the site when written.
                now = time.monotonic()
                if last:
                    figures.worst_gap = max(figures.worst_gap, now - last[0])
                last[:] = [now]
                figures.messages += 1
                if (
                    not written
                    or now - written[-1][0] >= write_interval
                    or large_change(written[-1][1], reading.powers)
                ):
                    reading.fold()
                    written.append((now, reading.powers))

            stream = LiveStream(source, on_reading=take)
            cpu = time.thread_time()
            started = time.monotonic()
            task = asyncio.create_task(stream.run())
            await asyncio.sleep(seconds)
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            figures.seconds = time.monotonic() - started
            figures.cpu = time.thread_time() - cpu
            figures.connects = stream.stats.connects
            figures.writes = len(written)
    return figures


def per_hour(value: float, seconds: float) -> float:
    return value * HOUR / seconds


def report(name: str, fig: Figures, write_interval: float) -> None:
    # Live polls (for the counters only, or at the live interval where the stream
    # does not carry every power figure), the connection, reconnects, and a PVS6's
    # renewals of its socket (each switches telemetry on again).
    live_polls = fig.poll_interval if fig.polled else COUNTER_INTERVAL.total_seconds()
    renewals = HOUR / RENEWED_EVERY[name] if name in RENEWED_EVERY else 0.0
    stream_requests = (
        HOUR / live_polls
        + 1
        + per_hour(max(0, fig.connects - 1), fig.seconds)
        + renewals
    )
    print(f"\n{name} ({fig.seconds:.0f} s measured, scaled to an hour)")
    print(f"{'per hour':34} {'polling':>12} {'stream':>12}")
    print(
        f"{'live requests to the gateway':34} {HOUR / fig.poll_interval:12.0f} "
        f"{stream_requests:12.0f}"
    )
    print(
        f"{'streamed power age, worst (s)':34} {fig.poll_interval:12.0f} "
        f"{fig.worst_gap:12.1f}"
    )
    for figure in fig.polled:
        print(
            f"{(figure.replace('_', ' ') + ' age, worst (s)'):34} "
            f"{fig.poll_interval:12.0f} {fig.poll_interval:12.0f}"
        )
    print(
        f"{'stream messages':34} {'-':>12} {per_hour(fig.messages, fig.seconds):12.0f}"
    )
    print(
        f"{'state writes per power sensor':34} {HOUR / fig.poll_interval:12.0f} "
        f"{per_hour(fig.writes, fig.seconds):12.0f}"
    )
    print(
        f"{'  budget: 3600/N (N = ' + f'{write_interval:.0f} s)':34} {'':12} "
        f"{HOUR / write_interval:12.0f}"
    )
    print(f"{'client CPU (s)':34} {'-':>12} {per_hour(fig.cpu, fig.seconds):12.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--write-interval", type=float, default=DEFAULT_WRITE_INTERVAL)
    args = parser.parse_args()
    for name, folder in SITES.items():
        figures = await measure(FIXTURES / folder, args.seconds, args.write_interval)
        report(name, figures, args.write_interval)


if __name__ == "__main__":
    asyncio.run(main())
