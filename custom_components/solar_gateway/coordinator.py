"""Coordinators: one per group of gateway data, each polled at that data's own rate.

All coordinators of a gateway share one ``SiteHub``, which holds the latest site
snapshot whichever group produced it. Entities read from the hub and are told about
every update; they write their state only when what they show has changed.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
import logging
from typing import override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .gateway.client import DataGroup, GatewayClient
from .gateway.errors import (
    AuthenticationError,
    GatewayBusyError,
    GatewayConnectionError,
    GatewayError,
    UnexpectedPayloadError,
)
from .gateway.site import SiteSnapshot

LOGGER = logging.getLogger(__package__)


@dataclass(kw_only=True)
class SiteHub:
    """The latest picture of one site, shared by its coordinators and entities."""

    client: GatewayClient
    snapshot: SiteSnapshot
    coordinators: dict[DataGroup, GatewayCoordinator] = field(default_factory=dict)
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    @property
    def available(self) -> bool:
        """Whether the gateway answered the last poll of every group."""
        return all(c.last_update_success for c in self.coordinators.values())

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``update`` after every poll of any group; returns the remover."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            self._listeners.remove(update)

        return remove

    @callback
    def async_notify(self) -> None:
        """Tell every listener that the hub changed."""
        for update in list(self._listeners):
            update()

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
        case GatewayConnectionError():
            return "cannot_connect", {"error": str(err)}
        case UnexpectedPayloadError():
            return "unexpected_payload", {"error": str(err)}
        case _:
            return "update_failed", {"error": str(err)}


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

    @override
    async def _async_update_data(self) -> SiteSnapshot:
        """Read this group's endpoints and return the whole site."""
        client = self.hub.client
        try:
            snapshot = await client.refresh(frozenset({self.group}))
        except AuthenticationError as err:
            key, placeholders = translated(err)
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=placeholders,
            ) from err
        except GatewayError as err:
            key, placeholders = translated(err)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=placeholders,
                # A busy gateway says how long to leave it alone; honour that.
                retry_after=err.retry_after
                if isinstance(err, GatewayBusyError)
                else None,
            ) from err
        self._align_to_data_cadence(snapshot)
        return snapshot

    def _align_to_data_cadence(self, snapshot: SiteSnapshot) -> None:
        """Poll again just after the gateway's next data interval, where it has one.

        A PVS on the legacy API measures every 5 minutes; reading it more often only
        loads it, and reading it on a drifting timer returns stale data half the time.
        """
        next_due = self.hub.client.next_data_due(self.group, snapshot)
        if next_due is None:
            return
        wait = next_due - dt_util.utcnow()
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
        entry.async_on_unload(coordinator.async_add_listener(hub.async_notify))
