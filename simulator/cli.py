"""The command line: ``python -m simulator [options] SOURCE...``.

Each SOURCE is a capture folder or a diagnostics file holding a capture. Without
``--listen``, gateway N (from 0) listens on 127.0.0.(N+2) on the ports a real one
uses: 80, and 443 for gateways that serve HTTPS (Envoy firmware 7+, PVS varserver);
binding them needs root (or CAP_NET_BIND_SERVICE). ``--listen HOST:PORT`` puts a
gateway on HOST, HTTP on PORT and HTTPS (if any) on PORT+1: give it once per source,
or once for all, in which case gateway N uses PORT+2N (PORT 0: free ports).
"""

import argparse
import asyncio
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
import json
from pathlib import Path
import signal
import sys

from custom_components.solar_gateway.gateway.capture import Capture

from .capture import SourceError, load_source
from .faults import Fault, FaultName, FaultSpecError
from .kinds import identify
from .pvs_varserver import DEFAULT_SESSION_SECONDS
from .server import SimulatedGateway, SimulatorOptions
from .streams import TELEMETRY_SOCKET_SECONDS

HTTP_PORT = 80
HTTPS_PORT = 443


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one gateway listens."""

    host: str
    port: int
    https_port: int


def parse_listen(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (``[v6]:PORT`` for IPv6)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def loopback_address(index: int) -> str:
    """Return the loopback address of gateway ``index`` (0 -> 127.0.0.2)."""
    if not 0 <= index <= 252:
        raise ValueError("at most 253 gateways (127.0.0.2 to 127.0.0.254)")
    return f"127.0.0.{index + 2}"


def plan_endpoints(count: int, listens: Sequence[tuple[str, int]]) -> list[Endpoint]:
    """Decide where ``count`` gateways listen (see the module docstring)."""
    if not listens:
        return [
            Endpoint(loopback_address(i), HTTP_PORT, HTTPS_PORT) for i in range(count)
        ]
    if len(listens) == count:
        return [Endpoint(host, port, port + 1 if port else 0) for host, port in listens]
    if len(listens) == 1:
        host, port = listens[0]
        return [
            Endpoint(host, port + 2 * i if port else 0, port + 2 * i + 1 if port else 0)
            for i in range(count)
        ]
    raise ValueError(
        f"{len(listens)} --listen for {count} sources: give one or one each"
    )


DESCRIPTION = """\
Serve simulated Enphase Envoy and SunPower PVS gateways from captures: for the tests,
for scripts/develop, and to replay a user's diagnostics file. A gateway's first answer
to each request is the captured one; its figures then evolve from the captured state."""

CONTROL_HELP = """\
While running, each gateway also answers (on its HTTP address):
  GET    /_simulator/state            identity, live figures, faults, controls, token
  POST   /_simulator/fault            {"name", "duration"?, "count"?, "amount"?,
                                       "path"?, "method"?, "status"?, "body"?}
  DELETE /_simulator/fault[?name=N][&path=P]   end faults, or all
  GET    /_simulator/requests         every request received (DELETE: forget them)
  POST   /_simulator/clock            {"advance": seconds} (manual clocks only)"""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description=DESCRIPTION,
        epilog=(__doc__.split("\n\n", 1)[1] if __doc__ else "") + "\n" + CONTROL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sources",
        nargs="+",
        type=Path,
        metavar="SOURCE",
        help="a capture folder (one file per endpoint, as in tests/fixtures) or a "
        "diagnostics file downloaded with 'Include a capture in diagnostics' on",
    )
    parser.add_argument(
        "--installer-token",
        action="append",
        type=Path,
        default=[],
        metavar="SOURCE",
        help="one more source, an Envoy (firmware 7+) that hands out an installer "
        "token instead of an owner's: its production switch and export limit answer "
        "it; served after the other sources; repeatable",
    )
    parser.add_argument(
        "--listen",
        action="append",
        type=parse_listen,
        default=[],
        metavar="HOST:PORT",
        help="where to listen instead of 127.0.0.N on ports 80/443 (see below); "
        "PORT 0 picks free ports",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON line per gateway (kind, serial, firmware, model, url, "
        "https_url, token) instead of a readable line",
    )
    faults = ", ".join(fault.value for fault in FaultName)
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[:SECONDS]",
        help=f"a fault in force from the start, on every gateway, for SECONDS or "
        f"its default; repeatable. NAME is one of: {faults}",
    )
    parser.add_argument(
        "--frozen",
        action="store_true",
        help="serve each capture unchanged, every answer as captured, instead of letting "
        "its figures evolve (e.g. to replay a diagnostics download exactly)",
    )
    parser.add_argument(
        "--devicelist-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long a legacy PVS takes to answer DeviceList (real ones take "
        "seconds to minutes; default %(default)s)",
    )
    parser.add_argument(
        "--session-seconds",
        type=float,
        default=DEFAULT_SESSION_SECONDS,
        metavar="SECONDS",
        help="how long a PVS varserver login session lasts before the client must "
        "log in again (default %(default)s)",
    )
    parser.add_argument(
        "--cloud-revert-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Envoy: the Enphase cloud puts its battery settings back (mode "
        "self-consumption, optimised schedules on) this long after each local write, "
        "as on firmware 8.2.4225+ with internet access (default: never)",
    )
    parser.add_argument(
        "--telemetry-socket-seconds",
        type=float,
        default=TELEMETRY_SOCKET_SECONDS,
        metavar="SECONDS",
        help="how long a PVS6 keeps its telemetry socket open before closing it, as "
        "a real one does (0: never; default %(default)s)",
    )
    parser.add_argument(
        "--utc-offset",
        type=float,
        default=None,
        metavar="HOURS",
        help="the site's time zone as hours from UTC, for the simulated sun "
        "(default: this machine's)",
    )
    return parser


def load_all(sources: Sequence[Path]) -> list[Capture]:
    """Read and identify every source (raising ``SourceError`` on the first bad one)."""
    captures = [load_source(source) for source in sources]
    for capture in captures:
        identify(capture)
    return captures


async def run(argv: Sequence[str], *, ready: asyncio.Event | None = None) -> int:
    """Serve the gateways of ``argv`` until interrupted (or ``ready`` is cleared)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        captures = load_all([*args.sources, *args.installer_token])
        users = ["owner"] * len(args.sources) + ["installer"] * len(
            args.installer_token
        )
        endpoints = plan_endpoints(len(captures), args.listen)
        options = SimulatorOptions(
            device_list_delay=args.devicelist_delay,
            session_seconds=args.session_seconds,
            telemetry_socket_seconds=args.telemetry_socket_seconds or None,
            utc_offset_hours=args.utc_offset,
            frozen=args.frozen,
            cloud_revert_after=args.cloud_revert_after,
            faults=tuple(Fault.parse(spec) for spec in args.fault),
        )
    except (SourceError, FaultSpecError, ValueError) as err:
        sys.stderr.write(f"simulator: {err}\n")
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with AsyncExitStack() as stack:
            for capture, endpoint, user in zip(captures, endpoints, users, strict=True):
                gateway = await stack.enter_async_context(
                    SimulatedGateway.start(
                        capture,
                        host=endpoint.host,
                        port=endpoint.port,
                        https_port=endpoint.https_port,
                        options=replace(options, token_user=user),
                    )
                )
                sys.stdout.write(describe(gateway, as_json=args.json) + "\n")
                sys.stdout.flush()
            if ready is not None:
                ready.set()
            await stop.wait()
    except OSError as err:
        sys.stderr.write(f"simulator: cannot listen: {err}\n")
        return 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return 0


def describe(gateway: SimulatedGateway, *, as_json: bool) -> str:
    """Return the line printed for a started gateway."""
    summary = gateway.summary()
    if as_json:
        return json.dumps(summary)
    urls = " ".join(url for url in (gateway.url, gateway.https_url) if url)
    line = f"{gateway.kind.value} {gateway.identity.serial} {gateway.identity.firmware} at {urls}"
    if gateway.token:
        line += f"\n  {gateway.options.token_user} token: {gateway.token}"
    return line


def main() -> int:
    """Entry point of ``python -m simulator``."""
    return asyncio.run(run(sys.argv[1:]))
