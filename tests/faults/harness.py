"""Run Home Assistant against a simulated gateway through a fault, in compressed time.

Home Assistant's clock (frozen, moved by ``freezer``), which is also the event loop's
clock, and the simulator's manual clock move together in steps. Network timeouts and
a hanging gateway therefore run in simulated time too: a 30 s read timeout fires
after 30 simulated seconds, a few steps later, while the test takes milliseconds.
``run`` moves in 5 s steps and fires every timer due in a step together;
``run_timers`` moves from timer to timer, firing each at its own time as a real event
loop does, so that what happens a fraction of a second apart stays apart (two polls
140 ms apart, a poll that falls due just before a back-off ends).
What is recorded:

- every request the gateway received, with the gateway's clock;
- every state of every ``total_increasing`` sensor, in Wh;
- which entities are unavailable at each step;
- where asked (``LoopWatch``), the most CPU the event loop spent in one callback.

Every scenario also checks that no ERROR or WARNING log line shows a secret of the
gateway: a serial of any of its devices, its address, MAC and IP addresses, e-mails,
Wi-Fi name and key, token or password (a broken answer must not be quoted).
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import itertools
import logging
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import SensorStateClass
from homeassistant.const import CONF_PASSWORD, EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_fire_time_changed_exact,
    get_scheduled_timer_handles,
)

from custom_components.solar_gateway.const import CONF_TOKEN, DOMAIN
from custom_components.solar_gateway.gateway.capture import Capture
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway, SimulatorOptions
from tests.integration.simulated import FIXTURES, NOON, entry_data
from tests.integration.test_secrets import fixture_secrets

# Event-loop turns a step may take, and the turns in a row with nothing to run
# (a socket's data is read the turn after it was written) that make it settled.
MAX_TURNS = 1_000_000
IDLE_TURNS = 10
STEP = timedelta(seconds=5)

# One fixture site per gateway kind, for the scenarios that compare the kinds.
ENVOY = "envoy/metered_battery"
VARSERVER = "pvs/varserver"
LEGACY = "pvs/legacy_basic"
# The live interval of each (the defaults).
LIVE_INTERVAL = {ENVOY: 15.0, VARSERVER: 60.0, LEGACY: 300.0}
# A lasting task (a live stream) works on sockets in real time: a step waits in
# slices of real time until the gateway saw nothing new for a few of them (more
# once it did, as the rest of a reconnection follows).
SLICE_SECONDS = 0.01
QUIET_SLICES = 2
QUIET_SLICES_BUSY = 8
# The fastest a site's counter grows (SITE_MAX_RATE): faster is a leap.
MAX_RATE_W = 250_000.0
TOLERANCE_WH = 1.0
_TO_WH = {"Wh": 1.0, "kWh": 1_000.0, "MWh": 1_000_000.0}


@dataclass
class Outcome:
    """What one scenario measured; printed by the suite."""

    scenario: str
    requests_during_fault: int
    max_per_minute: int
    glitches: int
    recovery_s: float | None
    counter_states: int = 0  # counter states written during the fault
    notes: list[str] = field(default_factory=list)
    longest_callback_s: float | None = None  # measured by a LoopWatch, if any
    longest_callback: str = ""  # what that callback was


OUTCOMES: list[Outcome] = []


@dataclass
class Series:
    """The states one counter showed: (gateway time, Wh)."""

    points: list[tuple[float, float]] = field(default_factory=list)

    def glitches(self, *, resets_allowed: int = 0) -> tuple[int, list[str]]:
        """Decreases and leaps; up to ``resets_allowed`` clean resets are not."""
        count = 0
        resets = 0
        found: list[str] = []
        for (t0, v0), (t1, v1) in itertools.pairwise(self.points):
            if v1 < v0 - TOLERANCE_WH:
                # Home Assistant books a fall below 90 % as a reset; one is genuine.
                if v1 < 0.9 * v0 and resets < resets_allowed:
                    resets += 1
                    continue
                count += 1
                found.append(f"fell {v0:.0f} -> {v1:.0f} Wh")
            elif v1 - v0 > MAX_RATE_W * max(t1 - t0, STEP.total_seconds()) / 3600 + (
                TOLERANCE_WH * 1000
            ):
                count += 1
                found.append(f"leapt {v0:.0f} -> {v1:.0f} Wh")
        return count, found


@dataclass
class LoopWatch:
    """The most CPU the event loop spent in one callback while watching, and in what.

    A callback that runs long blocks everything else in Home Assistant for as long.
    The test's own task (which moves the clocks and fires the timers, each of them
    timed on its own) is not counted.
    """

    longest_s: float = 0.0
    longest: str = ""

    @classmethod
    @contextmanager
    def watching(cls) -> Iterator[LoopWatch]:
        """Time every callback the event loop runs until the ``with`` ends."""
        watch = cls()
        test_task = asyncio.current_task()
        run = asyncio.Handle._run

        def timed(handle: asyncio.Handle) -> None:
            owner = getattr(getattr(handle, "_callback", None), "__self__", None)
            if owner is test_task:
                run(handle)
                return
            # The thread's CPU time: what the callback cost, not how long other
            # processes on a busy machine kept it waiting. (freezegun stands
            # time.perf_counter and time.monotonic still, not clock_gettime.)
            start = time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID)
            try:
                run(handle)
            finally:
                took = time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID) - start
                if took > watch.longest_s:
                    watch.longest_s = took
                    watch.longest = repr(handle)[:300]

        with patch.object(asyncio.Handle, "_run", timed):
            yield watch


class FaultRun:
    """One integration entry against one simulated gateway, with its recordings."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        clock: ManualClock,
        gateway: SimulatedGateway,
        entry: MockConfigEntry,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Start recording."""
        self.hass = hass
        self.freezer = freezer
        self.clock = clock
        self.gateway = gateway
        self.entry = entry
        self.caplog = caplog
        self.counters: dict[str, Series] = {}
        self.baseline_unavailable: set[str] = set()
        # Tasks that run for the entry's whole life (a live stream): a step does not
        # wait for them to end.
        self.lasting: set[asyncio.Future[object]] = set()

    @property
    def now(self) -> float:
        """The gateway's clock."""
        return self.clock.now()

    @callback
    def _record(self, event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is None or state.domain != "sensor":
            return
        if state.attributes.get("state_class") != SensorStateClass.TOTAL_INCREASING:
            return
        unit = state.attributes.get("unit_of_measurement")
        try:
            value = float(state.state) * _TO_WH[str(unit)]
        except KeyError, ValueError:
            return  # unavailable, unknown, or not energy
        self.counters.setdefault(state.entity_id, Series()).points.append(
            (self.now, value)
        )

    def start_recording(self) -> None:
        """Record counter states from now; note what is unavailable before a fault."""
        self.entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_STATE_CHANGED, self._record)
        )
        for state in self.hass.states.async_all():
            self._record_state_now(state.entity_id)
        self.baseline_unavailable = self.unavailable()

    def _record_state_now(self, entity_id: str) -> None:
        state = self.hass.states.get(entity_id)
        if state is None:
            return
        self._record(
            Event(
                EVENT_STATE_CHANGED,
                {"entity_id": entity_id, "old_state": None, "new_state": state},
            )
        )

    def entity_ids(self) -> list[str]:
        """Every entity of the entry."""
        registry = er.async_get(self.hass)
        return [
            e.entity_id
            for e in er.async_entries_for_config_entry(registry, self.entry.entry_id)
        ]

    def unavailable(self) -> set[str]:
        """The entry's entities that are unavailable now."""
        return {
            entity_id
            for entity_id in self.entity_ids()
            if (state := self.hass.states.get(entity_id)) is None
            or state.state == STATE_UNAVAILABLE
        }

    def recovered(self) -> bool:
        """Whether everything available before the fault is available again."""
        return self.unavailable() <= self.baseline_unavailable

    async def run(self, seconds: float, step: timedelta = STEP) -> None:
        """Let ``seconds`` of simulated time pass."""
        for _ in range(round(seconds / step.total_seconds())):
            await self.step(step)

    async def step(self, step: timedelta = STEP) -> None:
        """Move both clocks one step and let everything due run."""
        self._advance(step.total_seconds())
        async_fire_time_changed(self.hass)
        await self.settle()

    async def run_timers(self, seconds: float) -> None:
        """Let ``seconds`` pass as on a real event loop: each timer fires at its own
        time, not with the others due in the same 5 s step."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (now := loop.time()) < end:
            due = min(
                (
                    handle.when()
                    for handle in get_scheduled_timer_handles(loop)
                    if not handle.cancelled()
                ),
                default=end,
            )
            # A microsecond past it: the frozen clocks move in whole microseconds.
            target = min(max(due, now) + 1e-6, end)
            self._advance(max(0.0, target - now))
            async_fire_time_changed_exact(self.hass)
            await self.settle()

    def _advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.freezer.tick(timedelta(seconds=seconds))

    async def settle(self) -> None:
        """Let everything run that can without time passing.

        Unlike ``async_block_till_done`` this returns while a request hangs: its
        timeout is in simulated time, so it can only fire in a later step. Settled
        is when the event loop has nothing to run for a few turns but timers not yet
        due, and no executor job is running: counted in turns, not in real time,
        so a slow or busy machine sees the same steps as a fast one.
        """
        waiter = asyncio.ensure_future(self._tasks_done())
        loop = asyncio.get_running_loop()
        try:
            idle = 0
            for _ in range(MAX_TURNS):
                if waiter.done():
                    return
                idle = idle + 1 if _loop_idle(loop) and not EXECUTOR_JOBS else 0
                if idle > IDLE_TURNS:
                    return
                await asyncio.sleep(0)
            raise AssertionError("the event loop never settled")
        finally:
            if not waiter.done():
                waiter.cancel()

    async def _tasks_done(self) -> None:
        """Wait for Home Assistant's tasks, the lasting ones apart; give those real
        time while they talk to the gateway (a stream's socket work needs it, not
        clock time): until no request or stream came for a few slices."""
        await self._others_done()
        if not self.lasting:
            return
        before = progress = self._gateway_progress()
        quiet = 0
        while quiet < (QUIET_SLICES if progress == before else QUIET_SLICES_BUSY):
            await asyncio.get_running_loop().run_in_executor(
                None, time.sleep, SLICE_SECONDS
            )
            await self._others_done()
            now = self._gateway_progress()
            quiet = quiet + 1 if now == progress else 0
            progress = now

    async def _others_done(self) -> None:
        await asyncio.sleep(0)
        while busy := {
            task
            for task in (*self.hass._tasks, *self.hass._background_tasks)
            if not task.done() and task not in self.lasting
        }:
            await asyncio.wait(busy)
            await asyncio.sleep(0)

    def _gateway_progress(self) -> tuple[int, int, int]:
        """Requests received, streams opened and closed: what moves while a lasting
        task works."""
        streams = self.gateway.streams
        return (
            len(self.gateway.requests),
            len(streams.opened_at),
            len(streams.closed_at),
        )

    async def until_recovered(self, limit: float) -> float | None:
        """Step until recovered; the seconds it took (None: not within ``limit``)."""
        start = self.now
        while self.now - start <= limit:
            if self.recovered():
                return self.now - start
            await self.step()
        return None

    def requests_between(self, start: float, end: float) -> list[float]:
        """When the gateway received each request after ``start``, before ``end``.

        A poll at ``start`` ran before the fault was raised (in the step that
        ended there); one at ``end`` found it over.
        """
        return [r.time for r in self.gateway.requests if start < r.time < end]

    def shortest_gap(self, start: float, end: float) -> float | None:
        """The shortest time between two requests for the same path (None: no path
        was asked twice) between ``start`` and ``end``."""
        times: dict[str, list[float]] = {}
        for r in self.gateway.requests:
            if start < r.time < end:
                times.setdefault(r.path, []).append(r.time)
        gaps = [
            later - earlier
            for seen in times.values()
            for earlier, later in itertools.pairwise(seen)
        ]
        return min(gaps, default=None)

    def max_per_minute(self, start: float, end: float) -> int:
        """The most requests in any minute between ``start`` and ``end``."""
        times = self.requests_between(start, end)
        return max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)

    def glitches(self, *, resets_allowed: int = 0) -> tuple[int, list[str]]:
        """Glitches that reached any ``total_increasing`` state."""
        total = 0
        found: list[str] = []
        for entity_id, series in self.counters.items():
            count, what = series.glitches(resets_allowed=resets_allowed)
            total += count
            found += [f"{entity_id}: {w}" for w in what]
        return total, found

    def secrets(self) -> set[str]:
        """The gateway's secrets: its address, credentials and every device's serial."""
        registry = dr.async_get(self.hass)
        found = {self.gateway.identity.serial, self.gateway.host}
        found |= {
            device.serial_number
            for device in dr.async_entries_for_config_entry(
                registry, self.entry.entry_id
            )
            if device.serial_number
        }
        found |= {
            str(self.entry.data[key])
            for key in (CONF_TOKEN, CONF_PASSWORD)
            if self.entry.data.get(key)
        }
        # A short value (a 1-digit serial) would be found in any number.
        return {secret for secret in found if len(secret) >= 6}

    def secrets_logged(self, secrets: set[str]) -> list[str]:
        """ERROR and WARNING log lines (of any logger) that show one of ``secrets``."""
        formatter = logging.Formatter()
        leaks = []
        for record in self.caplog.records:
            if record.levelno < logging.WARNING:
                continue
            line = record.getMessage()
            if record.exc_info:
                line += formatter.formatException(record.exc_info)
            leaks += [
                f"{record.levelname} {record.name}: {secret!r} in {line[:300]!r}"
                for secret in secrets
                if secret in line
            ]
        return leaks

    def tracebacks(self) -> list[str]:
        """Error-level log records that carry a traceback."""
        return [
            record.getMessage()
            for record in self.caplog.records
            if record.levelno >= logging.ERROR and record.exc_info
        ]

    def outcome(
        self,
        scenario: str,
        fault_start: float,
        fault_end: float,
        recovery_s: float | None,
        *,
        resets_allowed: int = 0,
        loop: LoopWatch | None = None,
    ) -> Outcome:
        """Measure the scenario, keep it for the suite's summary, and return it.

        No glitch means nothing when no counter was recorded: every scenario has
        counters, so their absence fails here.
        """
        assert self.counters, "no total_increasing state was recorded"
        glitches, found = self.glitches(resets_allowed=resets_allowed)
        outcome = Outcome(
            scenario=scenario,
            requests_during_fault=len(self.requests_between(fault_start, fault_end)),
            max_per_minute=self.max_per_minute(fault_start, fault_end),
            glitches=glitches,
            recovery_s=recovery_s,
            counter_states=sum(
                1
                for series in self.counters.values()
                for at, _ in series.points
                if fault_start < at <= fault_end
            ),
            notes=found[:5],
            longest_callback_s=None if loop is None else loop.longest_s,
            longest_callback="" if loop is None else loop.longest,
        )
        OUTCOMES.append(outcome)
        return outcome


# The executor jobs running now (see ``_counting_executor_jobs``).
EXECUTOR_JOBS: set[asyncio.Future[Any]] = set()


@contextmanager
def _counting_executor_jobs(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Keep ``EXECUTOR_JOBS`` up to date: a job in a thread leaves the loop idle
    while it runs, yet the step is not over."""
    original = loop.run_in_executor

    def counted(executor: Any, func: Callable[..., Any], *args: Any) -> Any:
        future = original(executor, func, *args)
        EXECUTOR_JOBS.add(future)
        future.add_done_callback(EXECUTOR_JOBS.discard)
        return future

    with patch.object(loop, "run_in_executor", counted):
        yield
    EXECUTOR_JOBS.clear()


def _loop_idle(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` has nothing to run now but the caller: no callback ready,
    no timer due (asyncio keeps both lists private)."""
    ready = loop._ready
    timers = loop._scheduled
    return not ready and not (
        timers and not timers[0].cancelled() and timers[0].when() <= loop.time()
    )


@asynccontextmanager
async def fault_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
    *,
    options: SimulatorOptions | None = None,
    start: float = NOON,
    source: Capture | None = None,
    entry_options: Mapping[str, object] | None = None,
) -> AsyncIterator[FaultRun]:
    """Serve ``scenario`` (a fixture folder, or ``source`` under that name), set up
    its entry (with ``entry_options``), and record."""
    freezer.move_to(datetime.fromtimestamp(start, UTC))
    clock = ManualClock(start)
    with _counting_executor_jobs(hass.loop):
        async with _fault_run(
            hass, freezer, caplog, scenario, clock, options, source, entry_options
        ) as run:
            yield run


@asynccontextmanager
async def _fault_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
    clock: ManualClock,
    options: SimulatorOptions | None,
    source: Capture | None,
    entry_options: Mapping[str, object] | None,
) -> AsyncIterator[FaultRun]:
    async with SimulatedGateway.start(
        source or FIXTURES / scenario,
        clock=clock,
        options=options or SimulatorOptions(utc_offset_hours=0.0),
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=scenario,
            unique_id=gateway.identity.serial,
            data=entry_data(gateway),
            options=dict(entry_options or {}),
        )
        entry.add_to_hass(hass)
        # A PVS6's telemetry socket listens where the simulator put it (9002 on a
        # real one).
        with patch(
            "custom_components.solar_gateway.gateway.pvs.client.STREAM_PORT",
            gateway.stream_port,
        ):
            await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        run = FaultRun(hass, freezer, clock, gateway, entry, caplog)
        # What still runs once set up runs for as long as the entry (a live stream).
        run.lasting = {task for task in hass._background_tasks if not task.done()}
        run.start_recording()
        # A minute of normal running first: the baseline.
        await run.run(60)
        try:
            yield run
            secrets = run.secrets()
            if source is None:
                secrets |= fixture_secrets(FIXTURES / scenario)
        finally:
            # Stop the gateway first: a request it is still holding (a hang, a slow
            # answer) fails at once instead of waiting for a clock that stands still.
            await gateway.stop()
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
    assert not (leaks := run.secrets_logged(secrets)), leaks
