"""Coordinators and the live stream of one gateway.

One coordinator per group of gateway data (``DataGroup``), each polled at that data's
own rate. Each entity is a ``CoordinatorEntity`` of the coordinator whose group
reports what it shows, so a poll wakes only the entities of its group. Where the
owner opted in and the gateway offers it, a live stream feeds the LIVE coordinator
between its polls.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import timedelta
import logging
import time
from typing import NoReturn, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import (
    CONF_LIVE_STREAM,
    CONF_STREAM_WRITE_INTERVAL,
    DEFAULT_STREAM_WRITE_SECONDS,
    DOMAIN,
)
from .gateway.client import DataGroup, GatewayClient
from .gateway.errors import (
    AuthenticationError,
    GatewayBusyError,
    GatewayConnectionError,
    GatewayError,
    InvalidHostError,
    UnexpectedPayloadError,
)
from .gateway.site import SiteFigures, SiteSnapshot
from .gateway.stream import LiveStream, StreamReading, StreamSource, StreamState

LOGGER = logging.getLogger(__package__)


class WriteGate:
    """Polls of one gateway run together; a control write runs alone.

    Concurrent polls of different groups share responses through the transport's
    cycle cache (a legacy PVS serves two groups from one DeviceList), so they are not
    serialized against each other. A write waits for running polls to end, new polls
    wait behind a waiting write, and nothing reads until the write has been read back:
    a poll that started before a write could otherwise put back what it read first.
    """

    def __init__(self) -> None:
        """Start idle."""
        self._changed = asyncio.Condition()
        self._polls = 0
        self._writers = 0  # waiting or writing
        self._writing = False

    @asynccontextmanager
    async def poll(self) -> AsyncIterator[None]:
        """Hold the gate for one poll (shared with other polls)."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._writers)
            self._polls += 1
        try:
            yield
        finally:
            async with self._changed:
                self._polls -= 1
                self._changed.notify_all()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        """Hold the gate alone for one write and its read-back."""
        async with self._changed:
            self._writers += 1
            await self._changed.wait_for(lambda: not self._polls and not self._writing)
            self._writing = True
        try:
            yield
        finally:
            async with self._changed:
                self._writing = False
                self._writers -= 1
                self._changed.notify_all()


# Polls of these groups may bring new devices, firmware or settings; a live poll
# only new values.
STRUCTURE_GROUPS = frozenset({DataGroup.DEVICES, DataGroup.SETTINGS})
# While the stream carries every live power figure, the LIVE group is read this
# often, for its counters.
COUNTER_INTERVAL = timedelta(minutes=5)
EVENT_LIVE_POWER = "solar_gateway_live_power"
LARGE_CHANGE_W = 200.0
LARGE_CHANGE_SHARE = 0.10
# Below this a step is noise, however large a share of a figure near 0 W it is.
LARGE_CHANGE_FLOOR_W = 20.0
POWER_FIGURES = tuple(
    field.name for field in fields(SiteFigures) if field.name.endswith("_power")
)


@dataclass(kw_only=True)
class SolarGatewayData:
    """A loaded entry: its client, one coordinator per data group, the stream."""

    client: GatewayClient
    snapshot: SiteSnapshot  # the latest site, whichever poll or message brought it
    coordinators: dict[DataGroup, GatewayCoordinator] = field(default_factory=dict)
    # A write and the read that confirms it never interleave with a poll.
    gate: WriteGate = field(default_factory=WriteGate)
    stream: LiveFeed | None = None  # the live stream, when the owner opted in

    def coordinator(self, group: DataGroup) -> GatewayCoordinator:
        """The coordinator of ``group`` (the LIVE one where the gateway has no such
        group)."""
        return self.coordinators.get(group) or self.coordinators[DataGroup.LIVE]

    @callback
    def async_add_structure_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``update`` after polls and writes that may bring new devices,
        firmware or settings (for the device registry, new-entity scans, repairs);
        returns the remover."""
        removers = [
            coordinator.async_add_listener(update)
            for group, coordinator in self.coordinators.items()
            if group in STRUCTURE_GROUPS
        ]

        @callback
        def remove() -> None:
            for remover in removers:
                remover()

        return remove

    async def async_write(
        self,
        write: Callable[[], Awaitable[SiteSnapshot]],
        groups: frozenset[DataGroup],
    ) -> None:
        """Run a control ``write`` (which sends, then reads back) between polls.

        The snapshot it returns is a fresh poll of ``groups``: their entities show
        the confirmed state now, and their next poll waits a full interval.
        """
        async with self.gate.write():
            snapshot = await write()
        for group in groups:
            if (coordinator := self.coordinators.get(group)) is not None:
                coordinator.async_set_updated_data(snapshot)


type SolarGatewayConfigEntry = ConfigEntry[SolarGatewayData]


def translated(err: GatewayError) -> tuple[str, dict[str, str]]:
    """The exception translation key and placeholders for a protocol error."""
    match err:
        case AuthenticationError():
            return "authentication_failed", {"error": str(err)}
        case GatewayBusyError():
            return "gateway_busy", {"seconds": f"{err.retry_after:.0f}"}
        case InvalidHostError():
            # No placeholder: the text it refused may be an address (kept out of logs).
            return "invalid_host", {}
        case GatewayConnectionError():
            return "cannot_connect", {"error": str(err)}
        case UnexpectedPayloadError():
            return "unexpected_payload", {"error": str(err)}
        case _:
            return "update_failed", {"error": str(err)}


def raise_translated(
    err: GatewayError, *, setting_up: bool = False, retry_after: float | None = None
) -> NoReturn:
    """Raise what ``err`` means to Home Assistant, translated.

    Credentials the gateway refuses start reauthentication; an address that is none
    fails the setup for good (retrying cannot fix it, reconfiguring can); anything
    else retries the setup (``setting_up``) or fails this update, to be tried again
    after ``retry_after`` seconds when given.
    """
    key, placeholders = translated(err)
    if isinstance(err, AuthenticationError):
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err
    if isinstance(err, InvalidHostError):
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err
    if setting_up:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err
    raise UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
        retry_after=retry_after,
    ) from err


class GatewayCoordinator(DataUpdateCoordinator[SiteSnapshot]):
    """Polls one group of a gateway's endpoints; its data is the whole site."""

    config_entry: SolarGatewayConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarGatewayConfigEntry,
        client: GatewayClient,
        group: DataGroup,
        interval: timedelta,
    ) -> None:
        """Prepare polling of ``group`` every ``interval``."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{entry.title} {group.value}",
            update_interval=interval,
            # Entities decide themselves whether their state changed; derived energy
            # needs to hear of every poll, even one that repeats the last figures.
            always_update=True,
        )
        self.client = client
        self.group = group
        self.configured_interval = interval
        # Set when another group's success asked this one to poll early, so that it
        # is asked once per run of failures, never at the other group's rate.
        self.early_poll_asked = False

    @property
    def runtime(self) -> SolarGatewayData:
        """The entry's runtime data (the other coordinators, the stream, the gate)."""
        return self.config_entry.runtime_data

    @override
    async def _async_update_data(self) -> SiteSnapshot:
        """Read this group's endpoints and return the whole site."""
        try:
            async with self.runtime.gate.poll():
                snapshot = await self.client.refresh(frozenset({self.group}))
        except GatewayError as err:
            # A busy gateway says how long to leave it alone; honour that, but never
            # poll sooner than the interval: a back-off ending must not turn a slow
            # group into a fast one.
            raise_translated(err, retry_after=self._wait_after(err))
        self.early_poll_asked = False
        self.update_interval = self.next_interval(snapshot)
        self._recover_other_groups()
        return snapshot

    def next_interval(self, snapshot: SiteSnapshot) -> timedelta:
        """The wait before this group's next poll (the one place it is decided).

        The configured interval; for the LIVE group, ``COUNTER_INTERVAL`` while the
        stream carries every live power figure. Where the gateway has a data cadence
        (a legacy PVS measures every 5 minutes, microinverters report every 5),
        just after its next data is due: reading more often only loads it, and
        reading on a drifting timer returns stale data half the time.
        """
        stream = self.runtime.stream
        if (
            self.group is DataGroup.LIVE
            and stream is not None
            and stream.replaces_live_poll(self.client, snapshot)
        ):
            return max(self.configured_interval, COUNTER_INTERVAL)
        next_due = self.client.next_data_due(self.group, snapshot)
        if next_due is None:
            return self.configured_interval
        # Reckoned on the client's clock, which the gateway's data times match.
        wait = next_due - self.client.now()
        floor = self.client.minimum_intervals.get(self.group, timedelta(0))
        return max(min(wait, self.configured_interval * 2), floor)

    def _wait_after(self, err: GatewayError) -> float | None:
        if not isinstance(err, GatewayBusyError):
            return None
        interval = self.update_interval or self.configured_interval
        return max(err.retry_after, interval.total_seconds())

    def _recover_other_groups(self) -> None:
        """The gateway answers again: poll the groups whose last poll failed now,
        once, rather than at their own (up to hourly) interval."""
        for coordinator in self.runtime.coordinators.values():
            if (
                coordinator is self
                or coordinator.last_update_success
                or coordinator.early_poll_asked
            ):
                continue
            coordinator.early_poll_asked = True
            self.config_entry.async_create_background_task(
                self.hass,
                coordinator.async_request_refresh(),
                f"{coordinator.name} early poll after recovery",
            )

    def streams(self, figure: str) -> bool:
        """Whether the running stream keeps site ``figure`` fresh itself."""
        stream = self.runtime.stream
        return stream is not None and stream.carries(figure)

    @callback
    def async_set_streamed(self, snapshot: SiteSnapshot) -> None:
        """Show a streamed site: the listeners are told, the next poll stays due."""
        self.data = snapshot
        self.async_update_listeners()

    @callback
    def async_stream_changed(self, state: StreamState) -> None:
        """Poll at the rate the stream's new ``state`` asks; at once when it fell."""
        before = self.update_interval
        self.update_interval = self.next_interval(self.data)
        self.async_update_listeners()  # the power entities' availability follows it
        if (
            state in (StreamState.DOWN, StreamState.REFUSED)
            and before is not None
            and self.update_interval < before
        ):
            self.config_entry.async_create_background_task(
                self.hass, self.async_request_refresh(), f"{self.name} fall-back poll"
            )

    @callback
    @override
    def async_update_listeners(self) -> None:
        """Keep the latest site at hand before telling listeners."""
        if self.last_update_success and self.data is not None:
            self.runtime.snapshot = self.data
        super().async_update_listeners()


def large_change(
    before: Mapping[str, float | None], after: Mapping[str, float | None]
) -> bool:
    """Whether a streamed power moved by more than 200 W, or by more than 10 % and
    20 W (a figure hovering around 0 W is no large change), or appeared."""
    for name in before.keys() | after.keys():
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            if old is not new:
                return True
            continue
        step = abs(new - old)
        if step > LARGE_CHANGE_W or (
            step > LARGE_CHANGE_FLOOR_W and step > LARGE_CHANGE_SHARE * abs(old)
        ):
            return True
    return False


class LiveFeed:
    """The live stream of one entry, feeding the LIVE coordinator between polls.

    Opt-in per entry (option ``live_stream``) where the gateway offers a stream. The
    stream replaces only what it carries: while it carries every live power figure
    of the site, the LIVE group is read only for its counters; where the site has
    live power it does not carry (an Envoy's batteries), the LIVE group keeps its
    own rate, so nothing streamed is ever combined with a stale poll. While the
    stream is down, or once refused, the LIVE group is polled at its own rate again.

    A stream pushes every second; a message is folded into the site and the LIVE
    entities told at most every ``write_interval`` (default 5 s), or at once when a
    streamed power moves by more than 200 W (or 10 % and 20 W). Every message fires
    ``solar_gateway_live_power`` while something listens to that event type, and
    only then.
    """

    def __init__(
        self,
        entry: SolarGatewayConfigEntry,
        coordinator: GatewayCoordinator,
        source: StreamSource,
        write_interval: timedelta,
    ) -> None:
        """Prepare the stream of ``source``; ``start`` runs it."""
        self._entry = entry
        self._coordinator = coordinator
        self.write_interval = write_interval.total_seconds()
        self.stream = LiveStream(
            source, on_reading=self._on_reading, on_state=self._on_state
        )
        self.writes = 0
        self.note_shown = False  # the options form told the owner of a refusal
        self._written: Mapping[str, float | None] | None = None
        self._written_at = 0.0

    def start(self, hass: HomeAssistant) -> None:
        """Run the stream for as long as the entry is loaded."""
        self._entry.async_create_background_task(
            hass, self.stream.run(), f"{self._entry.title} live stream"
        )

    @property
    def streaming(self) -> bool:
        """Whether messages arrive, so the power figures are fresh without a poll."""
        return self.stream.state is StreamState.STREAMING

    def carries(self, figure: str) -> bool:
        """Whether the running stream keeps site ``figure`` fresh itself."""
        return self.streaming and figure in self.stream.source.carries

    def replaces_live_poll(self, client: GatewayClient, snapshot: SiteSnapshot) -> bool:
        """Whether the stream carries every power figure the LIVE group reports."""
        figures = snapshot.figures
        return self.streaming and all(
            name in self.stream.source.carries
            for name in POWER_FIGURES
            if getattr(figures, name) is not None
            and client.figure_group(name) is DataGroup.LIVE
        )

    @callback
    def _on_reading(self, reading: StreamReading) -> None:
        hass = self._coordinator.hass
        listened = bool(hass.bus.async_listeners().get(EVENT_LIVE_POWER))
        now = time.monotonic()
        due = (
            self._written is None
            or now - self._written_at >= self.write_interval
            or large_change(self._written, reading.powers)
        )
        if not (due or listened):
            return
        snapshot = reading.fold()
        if listened:
            figures = snapshot.figures
            hass.bus.async_fire(
                EVENT_LIVE_POWER,
                {
                    "entry_id": self._entry.entry_id,
                    **{name: getattr(figures, name) for name in POWER_FIGURES},
                },
            )
        if due:
            self._written = reading.powers
            self._written_at = now
            self.writes += 1
            self._coordinator.async_set_streamed(snapshot)

    @callback
    def _on_state(self, state: StreamState) -> None:
        if state is StreamState.REFUSED:
            LOGGER.warning(
                "%s: the gateway refuses its live stream (%s); polling instead",
                self._entry.title,
                self.stream.refusal,
            )
        if state is not StreamState.CONNECTING:
            self._coordinator.async_stream_changed(state)

    def diagnostics(self) -> dict[str, object]:
        """Stream state, reconnects, messages per minute, state writes."""
        stats = self.stream.stats
        return {
            "state": self.stream.state.value,
            "source": self.stream.source.name,
            "connects": stats.connects,
            "reconnects": stats.reconnects,
            "messages": stats.messages,
            "messages_per_minute": stats.messages_per_minute(time.monotonic()),
            "invalid_messages": stats.invalid_messages,
            "stale": stats.stale,
            "last_error": stats.last_error,
            "refusal": self.stream.refusal,
            "write_interval": self.write_interval,
            "writes": self.writes,
        }


def build_runtime(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    client: GatewayClient,
    snapshot: SiteSnapshot,
    intervals: Mapping[DataGroup, timedelta],
) -> SolarGatewayData:
    """The runtime data of ``entry``: a coordinator per group holding the first read,
    and the live stream where the owner opted in and the gateway offers one."""
    runtime = SolarGatewayData(client=client, snapshot=snapshot)
    for group, interval in intervals.items():
        coordinator = GatewayCoordinator(hass, entry, client, group, interval)
        coordinator.data = snapshot  # the first read; it polls once listened to
        runtime.coordinators[group] = coordinator
    source = client.stream_source() if entry.options.get(CONF_LIVE_STREAM) else None
    if source is not None:
        seconds = entry.options.get(
            CONF_STREAM_WRITE_INTERVAL, DEFAULT_STREAM_WRITE_SECONDS
        )
        runtime.stream = LiveFeed(
            entry,
            runtime.coordinator(DataGroup.LIVE),
            source,
            timedelta(seconds=seconds),
        )
    return runtime
