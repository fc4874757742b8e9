"""Live power from the gateway's stream, written at a pace the recorder bears.

Opt-in per entry (option ``live_stream``) where the gateway offers a stream. While
it streams, the LIVE group is polled only at ``COUNTER_INTERVAL`` (its lifetime
counters still come from polling); while it is down, or once refused, the LIVE
group is polled at its own interval again, at once.

A stream pushes every second, but the site's power entities are told at most every
``write_interval`` (default 5 s), or at once when a power figure moves by more than
10 % or 200 W: a step in the house shows immediately, noise does not write a row a
second. The current figures stay at hand for automations: every message fires
``solar_gateway_live_power`` while something listens to that event type (an
automation's event trigger), and only then, so that nobody's recorder stores an
event a second unasked.
"""

from dataclasses import fields
from datetime import timedelta
import time

from homeassistant.core import HomeAssistant, callback

from .coordinator import LOGGER, SiteHub, SolarGatewayConfigEntry
from .gateway.client import DataGroup
from .gateway.site import SiteFigures, SiteSnapshot
from .gateway.stream import LiveStream, StreamSource, StreamState

EVENT_LIVE_POWER = "solar_gateway_live_power"
# While streaming, the LIVE group is read this often for its counters.
COUNTER_INTERVAL = timedelta(minutes=5)
LARGE_CHANGE_W = 200.0
LARGE_CHANGE_SHARE = 0.10
POWER_FIGURES = tuple(
    field.name for field in fields(SiteFigures) if field.name.endswith("_power")
)


def large_change(before: SiteFigures, after: SiteFigures) -> bool:
    """Whether a power figure moved by more than 10 % or 200 W (or appeared)."""
    for name in POWER_FIGURES:
        old, new = getattr(before, name), getattr(after, name)
        if old is None or new is None:
            if old is not new:
                return True
            continue
        step = abs(new - old)
        if step > LARGE_CHANGE_W or step > LARGE_CHANGE_SHARE * abs(old):
            return True
    return False


class StreamFeed:
    """Runs one entry's stream and feeds the hub (see the module docstring)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarGatewayConfigEntry,
        hub: SiteHub,
        source: StreamSource,
        write_interval: timedelta,
    ) -> None:
        """Prepare the stream of ``source``; ``start`` runs it."""
        self._hass = hass
        self._entry = entry
        self._hub = hub
        self.write_interval = write_interval.total_seconds()
        self.stream = LiveStream(
            source, on_snapshot=self._on_snapshot, on_state=self._on_state
        )
        self.latest: SiteSnapshot | None = None
        self.writes = 0
        self.note_shown = False  # the options form told the owner of a refusal
        self._written: SiteFigures | None = None
        self._written_at = 0.0

    def start(self) -> None:
        """Run the stream for as long as the entry is loaded."""
        self._entry.async_create_background_task(
            self._hass, self.stream.run(), f"{self._entry.title} live stream"
        )

    @callback
    def _on_snapshot(self, snapshot: SiteSnapshot) -> None:
        self.latest = snapshot
        if self._hass.bus.async_listeners().get(EVENT_LIVE_POWER):
            figures = snapshot.figures
            self._hass.bus.async_fire(
                EVENT_LIVE_POWER,
                {
                    "entry_id": self._entry.entry_id,
                    **{name: getattr(figures, name) for name in POWER_FIGURES},
                },
            )
        now = time.monotonic()
        due = now - self._written_at >= self.write_interval
        if (
            self._written is None
            or due
            or large_change(self._written, snapshot.figures)
        ):
            self._written = snapshot.figures
            self._written_at = now
            self.writes += 1
            self._hub.snapshot = snapshot
            self._hub.async_notify(DataGroup.LIVE)

    @property
    def streaming(self) -> bool:
        """Whether messages arrive, so the power figures are fresh without a poll."""
        return self.stream.state is StreamState.STREAMING

    def carries(self, figure: str) -> bool:
        """Whether the running stream keeps ``figure`` fresh itself."""
        return self.streaming and figure in POWER_FIGURES

    @callback
    def _on_state(self, state: StreamState) -> None:
        # Whether the power entities are available may have changed with it.
        self._hub.async_notify(DataGroup.LIVE)
        coordinator = self._hub.coordinators.get(DataGroup.LIVE)
        if coordinator is None:
            return
        if state is StreamState.STREAMING:
            coordinator.update_interval = max(
                coordinator.configured_interval, COUNTER_INTERVAL
            )
            return
        if state is StreamState.CONNECTING:
            return
        streamed = coordinator.update_interval != coordinator.configured_interval
        coordinator.update_interval = coordinator.configured_interval
        if state is StreamState.REFUSED:
            LOGGER.warning(
                "%s: the gateway refuses its live stream (%s); polling instead",
                self._entry.title,
                self.stream.refusal,
            )
        if streamed and state is not StreamState.STOPPED:
            # Fall back at once, not after the counter interval.
            self._hass.async_create_task(coordinator.async_request_refresh())

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
