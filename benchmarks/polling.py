"""Load on the gateway and on Home Assistant: solar_gateway beside HA core's Envoy.

Run: ``.venv/bin/python benchmarks/polling.py [--runs 3] [--hours 2] [--quick]``.

Both integrations run in a real ``hass`` (no recorder) against the same simulated
gateway, one run after the other and interleaved (ours, core's, ours, ...), in
compressed time: Home Assistant's clock and the simulator's move together in 5 s
steps, and the event loop runs the timers that fall due as it would in real time.
The simulator runs in its own thread, so the CPU time of the event loop's thread is
Home Assistant's and the integration's alone; an idle ``hass`` stepped the same way
is subtracted. The first hour warms up; the figures are the last hour's,
the median of the runs:

- requests/h per endpoint, as the simulated gateway counted them;
- power age: the longest gap between two reads of the endpoint grid power comes from;
- setup requests: what the gateway served until the entry was set up;
- CPU/h of the integration, CPU per live update;
- longest event-loop callback (CPU time) during the hour;
- state changes/h of the integration's entities (what the recorder would write);
- CPU by kind of step (the endpoints read in it), an idle step's taken off.

Sites: the metered-battery Envoy fixture, and the same gateway grown to 300
inverters and 12 batteries. solar_gateway alone on the legacy and varserver PVS.
Then, beside polling, the live streams of the metered Envoy and the PVS6 (real time,
``--stream-seconds`` each, scaled to an hour; see ``benchmarks/streaming.py``):
requests/h, power age, state writes/h per power sensor, client CPU/h.
"""

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
import copy
import cProfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import gc
import itertools
import json
from pathlib import Path
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from aiohttp.resolver import ThreadedResolver
from freezegun import freeze_time
from homeassistant import loader
from homeassistant.const import (
    CONF_HOST,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_USERNAME,
    EVENT_STATE_CHANGED,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.solar_gateway.connection import (
    client_from_data,
    identified_to_data,
)
from custom_components.solar_gateway.const import CONF_IDENTIFIED, DOMAIN
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway, SimulatorOptions
from tests.integration.simulated import entry_data

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
# A June noon at the site: the sun is up, the batteries work.
NOON = datetime(2025, 6, 21, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=5)
# Home Assistant's clock runs this far ahead of the 5 s steps: a timer is set for a
# whole second plus 0.05-0.5 s of stagger, so it falls due by the step it belongs to.
LEAD = timedelta(seconds=0.6)
OURS = "solar_gateway"
CORE = "enphase_envoy"
# The requests that carry the site's power, per gateway: an Envoy's CT readings or
# production document, a legacy PVS's device list, a varserver PVS's /sys/ queries.
POWER_ENDPOINTS = (
    "/ivp/meters/readings",
    "/production.json",
    "/api/v1/production",
    "/cgi-bin/dl_cgi?Command=DeviceList",
    "/vars?match=/sys/",
)


# --- The simulated gateway, in a thread of its own ----------------------------------


class CountingGateway(SimulatedGateway):
    """A simulated gateway that logs every request it serves, with its time."""

    log: list[tuple[float, str]]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.log.append((self.clock.now(), request.path_qs))
        return await super()._handle(request)


@contextmanager
def gateway_thread(folder: Path, clock: ManualClock) -> Iterator[CountingGateway]:
    """Serve ``folder`` from another thread (its CPU is not Home Assistant's)."""
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        stop = asyncio.Event()
        holder["stop"] = stop
        holder["loop"] = asyncio.get_running_loop()
        async with CountingGateway.start(
            folder, clock=clock, options=SimulatorOptions(utc_offset_hours=0.0)
        ) as gateway:
            gateway.log = []
            holder["gateway"] = gateway
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield holder["gateway"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(10)


# --- Event-loop callbacks, timed ------------------------------------------------------


def _described(handle: asyncio.Handle) -> str:
    # A task step names the coroutine it runs; a plain callback its function.
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        owner = getattr(getattr(coro, "cr_frame", None), "f_locals", {}).get("self")
        name = getattr(owner, "name", None)
        return f"{getattr(coro, '__qualname__', coro)} ({name})"[:160]
    return repr(callback)[:160]


@dataclass
class CallbackTimer:
    """Times every callback the main thread's event loop runs (CPU, nested excluded).

    Garbage collection pauses the whole process wherever it happens to start; they
    are the interpreter's, sized by everything Home Assistant holds, so they are
    taken out of the callback they fell into and reported on their own.
    """

    enabled: bool = False
    longest: float = 0.0
    longest_gc: float = 0.0
    longest_what: str = ""  # the longest callback, as the loop would name it
    _gc_total: float = 0.0
    _gc_start: float = 0.0
    _main: int = 0
    _stack: list[float] = field(default_factory=list)

    def _collecting(self, phase: str, info: dict[str, int]) -> None:
        del info
        if threading.get_ident() != self._main:
            return
        if phase == "start":
            self._gc_start = time.thread_time()
            return
        pause = time.thread_time() - self._gc_start
        self._gc_total += pause
        if self.enabled:
            self.longest_gc = max(self.longest_gc, pause)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap ``asyncio.Handle._run`` while the ``with`` lasts."""
        # The loop runs every callback through this method: the one place to time them.
        original = asyncio.events.Handle._run  # noqa: SLF001
        self._main = threading.get_ident()
        timer = self

        def timed(handle: asyncio.Handle) -> None:
            if threading.get_ident() != timer._main or not timer.enabled:
                original(handle)
                return
            timer._stack.append(0.0)
            start = time.thread_time()
            collected = timer._gc_total
            try:
                original(handle)
            finally:
                spent = time.thread_time() - start
                nested = timer._stack.pop()
                own = spent - nested - (timer._gc_total - collected)
                if own > timer.longest:
                    timer.longest = own
                    timer.longest_what = _described(handle)
                if timer._stack:
                    timer._stack[-1] += spent - (timer._gc_total - collected)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign] # noqa: SLF001
        gc.callbacks.append(self._collecting)
        try:
            yield
        finally:
            gc.callbacks.remove(self._collecting)
            asyncio.events.Handle._run = original  # type: ignore[method-assign] # noqa: SLF001


# --- Sites ----------------------------------------------------------------------------


# Fields every CT entry of a real firmware 8 production.json carries; HA core's library
# needs them. Filled in (as 0) only where a fixture leaves them out.
EIM_FIELDS = (
    "varhLeadLifetime",
    "varhLagLifetime",
    "vahLifetime",
    "rmsCurrent",
    "rmsVoltage",
    "reactPwr",
    "apprntPwr",
    "pwrFactor",
    "whToday",
    "whLastSevenDays",
    "vahToday",
    "varhLeadToday",
    "varhLagToday",
)


# The same for battery and system controller entries of /ivp/ensemble/inventory.
ENSEMBLE_FIELDS = {
    "comm_level_2_4_ghz": 5,
    "comm_level_sub_ghz": 5,
    "img_load_date": 0,
    "led_status": 17,
}


def envoy_site(target: Path) -> Path:
    """The metered-battery Envoy fixture, with the fields core's library requires."""
    source = FIXTURES / "envoy" / "metered_battery"
    shutil.copytree(source, target)
    production = json.loads((source / "production.json").read_text())
    for entries in production.values():
        for entry in entries:
            if entry.get("type") == "eim":
                for key in EIM_FIELDS:
                    entry.setdefault(key, 0)
    (target / "production.json").write_text(json.dumps(production, indent=2))
    inventory = json.loads((source / "ivp_ensemble_inventory").read_text())
    for group in inventory:
        for device in group.get("devices", []):
            for key, value in ENSEMBLE_FIELDS.items():
                device.setdefault(key, value)
    (target / "ivp_ensemble_inventory").write_text(json.dumps(inventory, indent=2))
    return target


def grown_site(target: Path, inverters: int = 300, batteries: int = 12) -> Path:
    """The metered-battery Envoy grown to ``inverters`` inverters and ``batteries``."""
    source = FIXTURES / "envoy" / "metered_battery"
    envoy_site(target)

    def load(name: str) -> Any:
        return json.loads((source / name).read_text())

    def save(name: str, document: object) -> None:
        (target / name).write_text(json.dumps(document, indent=2))

    serials = [f"2023{i:08d}" for i in range(inverters)]
    template = load("api_v1_production_inverters")[0]
    save(
        "api_v1_production_inverters",
        [
            {
                **template,
                "serialNumber": s,
                "lastReportDate": template["lastReportDate"],
            }
            for s in serials
        ],
    )
    pdm = load("ivp_pdm_device_data")
    pcu = copy.deepcopy(next(iter(pdm.values())))
    grown: dict[str, object] = {
        k: v
        for k, v in pdm.items()
        if not isinstance(v, dict) or v.get("devName") != "pcu"
    }
    for index, serial in enumerate(serials):
        device = copy.deepcopy(pcu)
        device["sn"] = serial
        for channel in device["channels"]:
            channel["chanEid"] = 1627390225 + index
            channel["lastReading"]["eid"] = 1627390225 + index
        grown[str(553648384 + 256 * index)] = device
    save("ivp_pdm_device_data", grown)
    battery_serials = [f"4923{i:08d}" for i in range(batteries)]
    inventory = json.loads((target / "ivp_ensemble_inventory").read_text())
    for group in inventory:
        if group["type"] == "ENCHARGE":
            model = group["devices"][0]
            group["devices"] = [
                {**copy.deepcopy(model), "serial_num": s} for s in battery_serials
            ]
    save("ivp_ensemble_inventory", inventory)
    power = load("ivp_ensemble_power")
    model = power["devices:"][0]
    power["devices:"] = [{**model, "serial_num": s} for s in battery_serials]
    save("ivp_ensemble_power", power)
    return target


# --- One run --------------------------------------------------------------------------


@dataclass
class RunFigures:
    """What one integration cost during the measured hour."""

    setup_requests: int
    requests: Counter[str]
    power_age: float
    cpu: float
    updates: int
    longest_callback: float
    longest_what: str
    longest_gc: float
    state_changes: int
    changes_by_entity: Counter[str]
    step_cpu: dict[str, tuple[int, float]]


def core_entry(gateway: SimulatedGateway) -> MockConfigEntry:
    """The entry HA core's config flow would create for this Envoy (pasted token)."""
    assert gateway.https_port is not None
    return MockConfigEntry(
        domain=CORE,
        title="Envoy",
        unique_id=gateway.identity.serial,
        data={
            CONF_HOST: f"127.0.0.1:{gateway.https_port}",
            CONF_NAME: f"Envoy {gateway.identity.serial}",
            CONF_USERNAME: "",
            CONF_PASSWORD: "",
            CONF_TOKEN: gateway.issue_token(lifetime=100 * 365 * 86400),
            "use_manual_token": True,
        },
    )


async def our_entry(gateway: SimulatedGateway) -> MockConfigEntry:
    """The entry our config flow creates for this gateway.

    The flow sets a client up to check what the user gave and stores what that
    setup learned (``identified``), so the entry's setup, at install and at every
    start, begins from it. Its requests are the flow's, not the entry setup's.
    """
    data: dict[str, Any] = dict(entry_data(gateway))
    async with aiohttp.ClientSession() as session:
        client = client_from_data(session, data)
        await client.setup()
        data[CONF_IDENTIFIED] = identified_to_data(client.identification)
    gateway.log.clear()
    return MockConfigEntry(
        domain=DOMAIN, title="Site", unique_id=gateway.identity.serial, data=data
    )


def plain_resolver(hass: HomeAssistant) -> ThreadedResolver:
    """A resolver without zeroconf (the gateways are on 127.0.0.1)."""
    del hass
    resolver = ThreadedResolver()
    resolver.real_close = resolver.close  # type: ignore[attr-defined]
    return resolver


@asynccontextmanager
async def home_assistant(config_dir: Path) -> AsyncIterator[HomeAssistant]:
    """A running ``hass`` that finds the project's custom integration."""
    async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        yield hass
        await hass.async_stop(force=True)


async def advance(
    hass: HomeAssistant,
    clock: ManualClock,
    frozen: Any,
    duration: timedelta,
    steps: list[tuple[float, float]] | None = None,
) -> None:
    """Move Home Assistant's clock and the gateway's together, step by step.

    With ``steps``, note each step's gateway time and the loop thread's CPU in it.
    """
    for _ in range(int(duration / STEP)):
        clock.advance(STEP.total_seconds())
        frozen.tick(STEP)
        started = time.thread_time()
        # The loop moves the timers now due behind this task: let them run before
        # waiting for what they start. (The test helper that fires them instead
        # wraps each in two mock patches, which cost more than the poll it starts.)
        await asyncio.sleep(0)
        await hass.async_block_till_done(wait_background_tasks=True)
        if steps is not None:
            steps.append((clock.now(), time.thread_time() - started))


def cpu_by_step(
    log: list[tuple[float, str]], steps: list[tuple[float, float]]
) -> dict[str, tuple[int, float]]:
    """Each kind of step (the endpoints read in it): how many, CPU of one (s).

    The CPU of a step with no request is taken off each: what is left is what
    reading those endpoints and showing them cost.
    """
    read: dict[float, set[str]] = {}
    for at, path in log:
        read.setdefault(at, set()).add(path.rsplit("/", 1)[-1])
    kinds: dict[str, list[float]] = {}
    for at, cpu in steps:
        kinds.setdefault(", ".join(sorted(read.get(at, ()))), []).append(cpu)
    idle = statistics.mean(kinds.pop("", [0.0]))
    return {
        kind: (len(cpus), statistics.mean(cpus) - idle) for kind, cpus in kinds.items()
    }


def power_reads(log: list[tuple[float, str]]) -> list[float]:
    """When the site's power was read (requests of one poll share a time)."""
    return sorted({t for t, path in log if path.startswith(POWER_ENDPOINTS)})


def power_age(log: list[tuple[float, str]], start: float) -> float:
    """The longest gap between two reads of the site's power, in the measured hour."""
    times = power_reads(log)
    chain = [t for t in times if t < start][-1:] + [t for t in times if t >= start]
    if len(chain) < 2:
        return float("nan")
    return max(b - a for a, b in itertools.pairwise(chain))


async def measure(
    folder: Path,
    integration: str | None,
    hours: float,
    timer: CallbackTimer,
    config_dir: Path,
    *,
    profile: int = 0,
) -> RunFigures:
    """Set ``integration`` up on a fresh gateway and hass; measure the last hour."""
    clock = ManualClock(NOON.timestamp())
    with (
        # freezegun checks every clock read against its ignore list by walking five
        # stack frames: microseconds where the real clock takes nanoseconds, charged
        # to whoever reads the clock most. Nothing here needs the list.
        patch("freezegun.api.call_stack_inspection_limit", 0),
        freeze_time(NOON) as frozen,
        gateway_thread(folder, clock) as gateway,
    ):
        frozen.tick(LEAD)
        async with home_assistant(config_dir) as hass:
            setup_requests = 0
            entity_ids: set[str] = set()
            if integration is not None:
                entry = (
                    core_entry(gateway)
                    if integration == CORE
                    else await our_entry(gateway)
                )
                entry.add_to_hass(hass)
                assert await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done(wait_background_tasks=True)
                setup_requests = len(gateway.log)
                entity_ids = {
                    e.entity_id
                    for e in er.async_entries_for_config_entry(
                        er.async_get(hass), entry.entry_id
                    )
                }
            await advance(hass, clock, frozen, timedelta(hours=hours - 1))
            changes: Counter[str] = Counter()

            @callback
            def count(event: Event[Any]) -> None:
                # A callback: runs in the loop, as the recorder's own listener does,
                # instead of a job in the executor per state change.
                if (entity_id := event.data["entity_id"]) in entity_ids:
                    changes[entity_id] += 1

            unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, count)
            start_time = clock.now()
            first_request = len(gateway.log)
            timer.longest = timer.longest_gc = 0.0
            timer.longest_what = ""
            timer.enabled = True
            profiler = cProfile.Profile() if profile else None
            cpu_start = time.thread_time()
            if profiler is not None:
                profiler.enable()
            steps: list[tuple[float, float]] = []
            await advance(hass, clock, frozen, timedelta(hours=1), steps)
            cpu = time.thread_time() - cpu_start
            if profiler is not None:
                profiler.disable()
                print(f"\n### Profile of {integration or 'idle'} (measured hour)\n")
                stats = pstats.Stats(profiler)
                stats.sort_stats("tottime").print_stats(profile)
            timer.enabled = False
            unsubscribe()
            log = list(gateway.log)
            hour = Counter(path for _, path in log[first_request:])
            updates = len([t for t in power_reads(log) if t >= start_time])
            return RunFigures(
                setup_requests=setup_requests,
                requests=hour,
                power_age=power_age(log, start_time),
                cpu=cpu,
                updates=updates,
                longest_callback=timer.longest,
                longest_what=timer.longest_what,
                longest_gc=timer.longest_gc,
                state_changes=changes.total(),
                changes_by_entity=changes,
                step_cpu=cpu_by_step(log[first_request:], steps),
            )


# --- Reporting ------------------------------------------------------------------------


@dataclass
class Summary:
    """The median of several runs of one integration on one site."""

    runs: list[RunFigures]
    idle_cpu: float

    def median(self, figure: Callable[[RunFigures], float]) -> float:
        """The median of ``figure`` over the runs."""
        return statistics.median(figure(run) for run in self.runs)

    @property
    def requests(self) -> float:
        """Requests per hour, all endpoints."""
        return self.median(lambda r: sum(r.requests.values()))

    @property
    def cpu(self) -> float:
        """CPU seconds per hour, the idle ``hass`` subtracted."""
        return max(self.median(lambda r: r.cpu) - self.idle_cpu, 0.0)

    @property
    def cpu_per_update(self) -> float:
        """CPU milliseconds per live update."""
        updates = self.median(lambda r: r.updates)
        return self.cpu / updates * 1000 if updates else float("nan")

    def endpoints(self) -> dict[str, float]:
        """Requests per hour of each endpoint (median)."""
        paths = sorted({p for run in self.runs for p in run.requests})
        return {p: self.median(lambda r, p=p: r.requests.get(p, 0)) for p in paths}


def print_site(title: str, summaries: dict[str, Summary]) -> None:
    """Print one site's table, integrations side by side, and the targets."""
    names = list(summaries)
    print(f"\n## {title}\n")
    print("| per hour | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))

    def row(label: str, values: list[str]) -> None:
        print(f"| {label} | " + " | ".join(values) + " |")

    s = [summaries[n] for n in names]
    row("requests to the gateway", [f"{x.requests:.0f}" for x in s])
    row(
        "grid/solar power age, worst",
        [f"{x.median(lambda r: r.power_age):.0f} s" for x in s],
    )
    row("requests at setup", [f"{x.median(lambda r: r.setup_requests):.0f}" for x in s])
    row("CPU of the integration", [f"{x.cpu:.2f} s" for x in s])
    row("CPU per live update", [f"{x.cpu_per_update:.2f} ms" for x in s])
    row(
        "longest event-loop callback (GC excluded)",
        [f"{x.median(lambda r: r.longest_callback) * 1000:.1f} ms" for x in s],
    )
    row(
        "longest garbage collection (whole process)",
        [f"{x.median(lambda r: r.longest_gc) * 1000:.1f} ms" for x in s],
    )
    row("state changes", [f"{x.median(lambda r: r.state_changes):.0f}" for x in s])
    print()
    for name, summary in summaries.items():
        per = ", ".join(f"{p} {n:.0f}" for p, n in summary.endpoints().items())
        print(f"- {name} requests/h: {per}")


def check_targets(site: str, ours: Summary, core: Summary, grown: bool) -> list[str]:
    """Each target of the metered and grown sites, met or not."""
    lines = []

    def target(label: str, met: bool) -> None:
        lines.append(f"- [{'x' if met else ' '}] {site}: {label}")

    age = ours.median(lambda r: r.power_age)
    target(
        f"requests/h {ours.requests:.0f} <= 400 with power <= 15 s old ({age:.0f} s)",
        ours.requests <= 400 and age <= 15,
    )
    target(
        f"setup requests {ours.median(lambda r: r.setup_requests):.0f} <= core's "
        f"{core.median(lambda r: r.setup_requests):.0f}",
        ours.median(lambda r: r.setup_requests)
        <= core.median(lambda r: r.setup_requests),
    )
    changes = ours.median(lambda r: r.state_changes)
    core_changes = core.median(lambda r: r.state_changes)
    target(
        f"state changes {changes:.0f} <= 1.5x core's {core_changes:.0f}",
        changes <= 1.5 * core_changes,
    )
    if grown:
        longest = ours.median(lambda r: r.longest_callback) * 1000
        target(f"longest callback {longest:.1f} ms <= 20 ms", longest <= 20)
        target(f"CPU {ours.cpu:.2f} s <= core's {core.cpu:.2f} s", ours.cpu <= core.cpu)
    else:
        target(
            f"CPU {ours.cpu:.2f} s <= 0.8x core's {core.cpu:.2f} s",
            ours.cpu <= 0.8 * core.cpu,
        )
        target(
            f"CPU per live update {ours.cpu_per_update:.2f} ms <= 2 ms",
            ours.cpu_per_update <= 2,
        )
    return lines


async def main() -> None:
    """Run every site, print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--quick", action="store_true", help="Envoy metered site only")
    parser.add_argument(
        "--large-only", action="store_true", help="the 300-inverter site only"
    )
    parser.add_argument(
        "--top", type=int, default=0, help="list the N entities that change most"
    )
    parser.add_argument(
        "--stream-seconds",
        type=float,
        default=60.0,
        metavar="S",
        help="measure each live stream for S real seconds (0: skip; not with --quick)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile each run's measured hour; print its N costliest functions",
    )
    args = parser.parse_args()
    timer = CallbackTimer()
    targets: list[str] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        timer.installed(),
        patch(
            "homeassistant.helpers.aiohttp_client._async_make_resolver", plain_resolver
        ),
    ):
        base = Path(tmp)
        sites = {}
        if not args.large_only:
            sites["metered battery Envoy"] = envoy_site(base / "metered")
        if not args.quick:
            sites["300 inverters, 12 batteries"] = grown_site(base / "grown")
        run = 0

        async def once(folder: Path, integration: str | None) -> RunFigures:
            nonlocal run
            run += 1
            config = base / f"config{run}"
            config.mkdir()
            return await measure(
                folder, integration, args.hours, timer, config, profile=args.profile
            )

        for title, folder in sites.items():
            idle = statistics.median(
                [(await once(folder, None)).cpu for _ in range(args.runs)]
            )
            runs: dict[str, list[RunFigures]] = {OURS: [], CORE: []}
            for _ in range(args.runs):
                for name in (OURS, CORE):
                    runs[name].append(await once(folder, name))
            summaries = {name: Summary(r, idle) for name, r in runs.items()}
            print_site(title, summaries)
            for name, summary in summaries.items():
                worst = max(summary.runs, key=lambda r: r.longest_callback)
                print(f"- {name} longest callback: {worst.longest_what}")
            for name, summary in summaries.items():
                kinds = sorted(
                    summary.runs[-1].step_cpu.items(),
                    key=lambda item: -item[1][0] * item[1][1],
                )
                print(
                    f"- {name} CPU by step (reads: steps x CPU each): "
                    + "; ".join(
                        f"{kind}: {count} x {cpu * 1000:.2f} ms"
                        for kind, (count, cpu) in kinds[:4]
                    )
                )
            for name, summary in summaries.items() if args.top else ():
                top = summary.runs[-1].changes_by_entity.most_common(args.top)
                print(
                    f"- {name} most changed: " + ", ".join(f"{e} {n}" for e, n in top)
                )
            targets += check_targets(
                title, summaries[OURS], summaries[CORE], grown=folder.name == "grown"
            )
        if not (args.quick or args.large_only):
            pvs = {
                "legacy PVS": FIXTURES / "pvs" / "legacy_basic",
                "varserver PVS": FIXTURES / "pvs" / "varserver",
            }
            for title, folder in pvs.items():
                summary = Summary([await once(folder, OURS)], 0.0)
                print_site(f"{title} (solar_gateway)", {OURS: summary})
        if not (args.quick or args.large_only) and args.stream_seconds > 0:
            print_streams(args.stream_seconds)
    print("\n## Targets\n")
    print("\n".join(targets))


def print_streams(seconds: float) -> None:
    """The live streams beside polling (a stream is real time: measured, scaled).

    In a process of its own: the compressed-time runs above patch the clock.
    """
    script = Path(__file__).resolve().parent / "streaming.py"
    print("\n## Live streams (solar_gateway)", flush=True)
    subprocess.run(  # noqa: S603 - this interpreter, the project's own script
        [sys.executable, str(script), "--seconds", str(seconds)], check=True
    )


if __name__ == "__main__":
    asyncio.run(main())
