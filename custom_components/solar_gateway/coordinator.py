"""Coordinators: one per group of gateway data, each polled at that data's own rate.

All coordinators of a gateway share one ``SiteHub``, which holds the latest site
snapshot whichever group produced it. Entities read from the hub and are told about
every update; they write their state only when what they show has changed.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
import logging
import time
from typing import TYPE_CHECKING, NoReturn, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import DOMAIN
from .gateway.client import DataGroup, GatewayClient
from .gateway.errors import (
    AuthenticationError,
    GatewayBusyError,
    GatewayConnectionError,
    GatewayError,
    InvalidHostError,
    UnexpectedPayloadError,
)
from .gateway.site import SiteSnapshot

if TYPE_CHECKING:
    from .live_stream import StreamFeed

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
# Listeners told per event-loop turn: each takes a few microseconds unless it writes
# its state (about 0.1 ms), so a slice where every one writes stays near 10 ms.
NOTIFY_SLICE = 100


@dataclass(frozen=True, slots=True)
class _Listener:
    update: Callable[[], None]
    structure: bool  # only told of polls that can bring devices or settings
    serial: str | None  # only told when this device changed (None: always)
    controls: bool  # only told when the controls changed
    order: int  # listeners are told in the order they came


@dataclass(slots=True)
class _Listeners:
    """Every listener, and each kind apart: an update looks only at those it
    concerns (a CT poll of a large site at a few dozen, not at thousands)."""

    everyone: list[_Listener] = field(default_factory=list)
    general: list[_Listener] = field(default_factory=list)
    controls: list[_Listener] = field(default_factory=list)
    by_serial: dict[str, list[_Listener]] = field(default_factory=dict)
    _count: int = 0

    def add(
        self,
        update: Callable[[], None],
        *,
        structure: bool,
        serial: str | None,
        controls: bool,
    ) -> _Listener:
        """Register ``update``; see ``SiteHub.async_add_listener``."""
        self._count += 1
        listener = _Listener(update, structure, serial, controls, self._count)
        self.everyone.append(listener)
        self._kind(listener).append(listener)
        return listener

    def remove(self, listener: _Listener) -> None:
        """Forget ``listener``."""
        self.everyone.remove(listener)
        self._kind(listener).remove(listener)

    def told(
        self, changed: set[str] | None, *, controls_changed: bool
    ) -> list[_Listener]:
        """Those an update concerns that changed ``changed`` devices (None:
        anything), in the order they came."""
        if changed is None:
            return self.everyone
        chosen = list(self.general)
        if controls_changed:
            chosen += self.controls
        for serial in changed:
            chosen += self.by_serial.get(serial, ())
        if len(chosen) > len(self.general):
            chosen.sort(key=_order)
        return chosen

    def _kind(self, listener: _Listener) -> list[_Listener]:
        if listener.controls:
            return self.controls
        if listener.serial is None:
            return self.general
        return self.by_serial.setdefault(listener.serial, [])


def _order(listener: _Listener) -> int:
    return listener.order


@dataclass(kw_only=True)
class SiteHub:
    """The latest picture of one site, shared by its coordinators and entities."""

    client: GatewayClient
    snapshot: SiteSnapshot
    coordinators: dict[DataGroup, GatewayCoordinator] = field(default_factory=dict)
    # A write and the read that confirms it never interleave with a poll.
    gate: WriteGate = field(default_factory=WriteGate)
    stream: StreamFeed | None = None  # the live stream, when the owner opted in
    _listeners: _Listeners = field(default_factory=_Listeners)
    _pending: list[Callable[[], None]] = field(default_factory=list)
    _scheduled: bool = False
    # What the listeners were last told of: the snapshot and each group's success.
    _told: SiteSnapshot | None = None
    _told_available: tuple[bool, ...] = ()
    # Moves on whenever what decides availability may have changed (a group's
    # success, the stream) or everything is to be looked at again: an entity that
    # saw this epoch and the same data has nothing new to show.
    availability_epoch: int = 0
    # When the listeners were last told (time.monotonic): one clock read per update
    # for every entity that writes at most so often.
    notified_at: float = 0.0

    def group_available(self, group: DataGroup) -> bool:
        """Whether the last poll of ``group`` succeeded (a group not polled: yes)."""
        coordinator = self.coordinators.get(group)
        return coordinator is None or coordinator.last_update_success

    def figure_available(self, figure: str, group: DataGroup) -> bool:
        """Whether the site ``figure``, read with ``group``, is fresh.

        A power figure the live stream carries stays available while the stream
        runs, even when the poll for the counters beside it fails.
        """
        stream = self.stream
        if stream is not None and stream.carries(figure):
            return True
        return self.group_available(group)

    @callback
    def async_add_listener(
        self,
        update: Callable[[], None],
        *,
        structure: bool = False,
        serial: str | None = None,
        controls: bool = False,
    ) -> CALLBACK_TYPE:
        """Call ``update`` after every poll of any group; returns the remover.

        With ``structure``, only after polls that may bring new devices, firmware or
        settings (``STRUCTURE_GROUPS``) and after writes: for the device registry,
        new-entity scans and repair checks, which a live poll cannot change. With
        ``serial``, only after updates that bring a new object for that device (or
        none), or change whether a group is available: for an entity that shows
        one device's measurements. With ``controls``, only after updates that bring
        new controls (or change whether a group is available): for a control.
        """
        listener = self._listeners.add(
            update, structure=structure, serial=serial, controls=controls
        )

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    @callback
    def async_notify(self, group: DataGroup | None = None) -> None:
        """Tell the listeners that ``group`` was polled (None: anything changed).

        A large site (hundreds of inverters, thousands of entities) is told in
        slices, one per event-loop turn, so that no callback holds the loop long.
        """
        structural = group is None or group in STRUCTURE_GROUPS
        self.notified_at = time.monotonic()
        told = self._told
        controls_changed = told is None or told.controls is not self.snapshot.controls
        changed = self._changed_devices(everything=group is None)
        listeners = [
            listener.update
            for listener in self._listeners.told(
                changed, controls_changed=controls_changed
            )
            if structural or not listener.structure
        ]
        # A slice still waiting is superseded: every listener reads the latest data.
        # A large site is told from the next loop turn on, apart from the poll that
        # built its data.
        inline = listeners if len(listeners) <= NOTIFY_SLICE else []
        self._pending = listeners[len(inline) :]
        for update in inline:
            update()
        if self._pending and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._notify_next_slice)

    def _changed_devices(self, *, everything: bool) -> set[str] | None:
        """Serials whose device is a new object since the last notice (None: all)."""
        told, snapshot = self._told, self.snapshot
        available = (
            *(c.last_update_success for c in self.coordinators.values()),
            self.stream is not None and self.stream.streaming,
        )
        self._told = snapshot
        if everything or told is None or available != self._told_available:
            self._told_available = available
            self.availability_epoch += 1
            return None
        if told is snapshot or told.devices is snapshot.devices:
            return set()
        changed = {
            device.serial
            for device in snapshot.devices
            if told.device(device.serial) is not device
        }
        # A device no longer reported: its entities become unavailable.
        changed.update(
            device.serial
            for device in told.devices
            if snapshot.device(device.serial) is None
        )
        return changed

    @callback
    def _notify_next_slice(self) -> None:
        self._scheduled = False
        listeners, self._pending = (
            self._pending[:NOTIFY_SLICE],
            self._pending[NOTIFY_SLICE:],
        )
        active = self._active()
        for update in listeners:
            if update in active:
                update()
        if self._pending:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._notify_next_slice)

    def _active(self) -> set[Callable[[], None]]:
        # A listener removed while its slice waited (an entity gone) is not called.
        return {listener.update for listener in self._listeners.everyone}

    async def async_write(
        self,
        write: Callable[[], Awaitable[SiteSnapshot]],
        groups: frozenset[DataGroup],
    ) -> None:
        """Run a control ``write`` (which sends, then reads back) between polls.

        The snapshot it returns is shared at once, as a fresh poll of ``groups``:
        entities show the confirmed state now, and those groups' next poll waits a
        full interval again instead of repeating the read.
        """
        async with self.gate.write():
            snapshot = await write()
        self.snapshot = snapshot
        for group in groups:
            if (coordinator := self.coordinators.get(group)) is not None:
                coordinator.async_set_updated_data(snapshot)
        self.async_notify()

    async def async_refresh_all(self) -> None:
        """Poll every group now (used after a manual update request)."""
        for coordinator in self.coordinators.values():
            await coordinator.async_request_refresh()


type SolarGatewayConfigEntry = ConfigEntry[SiteHub]


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
    """Polls one group of a gateway's endpoints."""

    config_entry: SolarGatewayConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarGatewayConfigEntry,
        hub: SiteHub,
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
        self.hub = hub
        self.group = group
        self.configured_interval = interval
        # Set when another group's success asked this one to poll early, so that it
        # is asked once per run of failures, never at the other group's rate.
        self.early_poll_asked = False

    @override
    async def _async_update_data(self) -> SiteSnapshot:
        """Read this group's endpoints and return the whole site."""
        client = self.hub.client
        try:
            async with self.hub.gate.poll():
                snapshot = await client.refresh(frozenset({self.group}))
        except GatewayError as err:
            # A busy gateway says how long to leave it alone; honour that, but never
            # poll sooner than the interval: a back-off ending must not turn a slow
            # group into a fast one.
            raise_translated(err, retry_after=self._wait_after(err))
        self.early_poll_asked = False
        self._align_to_data_cadence(snapshot)
        self._recover_other_groups()
        return snapshot

    def _wait_after(self, err: GatewayError) -> float | None:
        if not isinstance(err, GatewayBusyError):
            return None
        interval = self.update_interval or self.configured_interval
        return max(err.retry_after, interval.total_seconds())

    def _recover_other_groups(self) -> None:
        """The gateway answers again: poll the groups whose last poll failed now,
        once, rather than at their own (up to hourly) interval."""
        for coordinator in self.hub.coordinators.values():
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

    def _align_to_data_cadence(self, snapshot: SiteSnapshot) -> None:
        """Poll again just after the gateway's next data interval, where it has one.

        A PVS on the legacy API measures every 5 minutes; reading it more often only
        loads it, and reading it on a drifting timer returns stale data half the time.
        """
        next_due = self.hub.client.next_data_due(self.group, snapshot)
        if next_due is None:
            return
        # Reckoned on the client's clock, which the gateway's data times match.
        wait = next_due - self.hub.client.now()
        floor = self.hub.client.minimum_intervals.get(self.group, timedelta(0))
        self.update_interval = max(min(wait, self.configured_interval * 2), floor)

    @callback
    @override
    def async_update_listeners(self) -> None:
        """Share a successful update through the hub before telling listeners."""
        if self.last_update_success and self.data is not None:
            self.hub.snapshot = self.data
        super().async_update_listeners()


def build_coordinators(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    hub: SiteHub,
    intervals: Mapping[DataGroup, timedelta],
) -> None:
    """Create one coordinator per data group the gateway has, the hub listening."""
    for group, interval in intervals.items():
        coordinator = GatewayCoordinator(hass, entry, hub, group, interval)
        hub.coordinators[group] = coordinator
        # The hub is each coordinator's listener (which keeps it polling) and passes
        # every update on to the entities.
        entry.async_on_unload(
            coordinator.async_add_listener(partial(hub.async_notify, group))
        )
