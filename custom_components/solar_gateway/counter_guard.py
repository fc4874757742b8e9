"""Keep gateway counter glitches away from ``total_increasing`` states.

Gateways report lifetime energy counters that sometimes dip to 0 for one read, drop
for a few cycles, or leap after a reboot or a firmware fix. Home Assistant books a
decrease of a ``total_increasing`` state of more than 10 % as a meter reset (and a
smaller one as negative energy), and any rise as energy, so a single glitch would
show as a spike of megawatt-hours on the Energy dashboard.

The guard passes a new reading through only when it is plausible: not lower than
the last accepted reading and not rising faster than ``max_rate`` (watt-hours per
hour, i.e. an average power). Anything else is *suspect*: the last value is held
while suspects are collected. When the readings come back to the accepted track,
the suspects are dropped as a glitch. When suspects agree with one another (never
decreasing among themselves) for ``confirm_reads`` reads spread over at least
``confirm_time``, the change lasts, and:

- a fall to a new track that starts near zero (a replaced meter, a counter that
  restarted) is shown as it is, in one step: Home Assistant sees one reset and books
  what the new meter counted since;
- any other lasting change (a leap up, a small fall) is *re-based*: the entity goes
  on from the value it showed, with an offset added to every later reading, so the
  dashboard books only what the counter grew by along its new track. The offset is
  stored with the guard, so a restart keeps it.

A counter that restarts every day (``daily``) may fall to a value that fits what
was produced since local midnight in the hours after it: that is accepted at once.

A fall by one of the gateways' counter widths (``wraps``, see
``gateway.site.COUNTER_WRAPS``) to where the counter would be had it not wrapped is
a wrap: the entity goes on at once from the value it showed, re-based by the width.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Self

from .gateway.site import COUNTER_WRAPS

# Readings that differ by less than this are the same (gateways round differently
# across endpoints); in Wh.
_TOLERANCE = 1.0
# Home Assistant takes a fall below this share of the last state for a reset.
_RESET_SHARE = 0.9
# How long after local midnight a daily counter's restart is expected.
_DAILY_RESET_WINDOW = timedelta(hours=3)


@dataclass(slots=True)
class CounterGuard:
    """The filter for one lifetime counter; see the module docstring."""

    max_rate: float  # Wh per hour that the counter can plausibly grow by
    confirm_reads: int = 6
    confirm_time: timedelta = timedelta(minutes=30)
    daily: bool = False  # restarts from zero at local midnight
    wraps: tuple[float, ...] = COUNTER_WRAPS  # Wh at which the counter may wrap
    accepted: float | None = None  # the last accepted reading, as the gateway sent it
    accepted_at: datetime | None = None
    offset: float = 0.0  # added to readings since the last re-base
    _suspects: list[tuple[datetime, float]] = field(default_factory=list)

    @property
    def shown(self) -> float | None:
        """The value the entity shows now."""
        return None if self.accepted is None else self.accepted + self.offset

    @property
    def holding(self) -> bool:
        """Whether readings are being held back as suspect right now."""
        return bool(self._suspects)

    def update(self, value: float | None, now: datetime) -> float | None:
        """Take a reading and return the value the entity should show.

        ``now`` is an aware datetime; for a ``daily`` counter, in the local time zone.
        """
        if value is None:
            return self.shown
        if self.accepted is None or self.accepted_at is None:
            return self._accept(value, now)
        if self._plausible(self.accepted, self.accepted_at, value, now):
            self._suspects.clear()
            return self._accept(value, now)
        if self._daily_restart(value, now):
            self._suspects.clear()
            self.offset = 0.0
            return self._accept(value, now)
        if (wrap := self._wrapped(value, now)) is not None:
            self._suspects.clear()
            self.offset += wrap
            return self._accept(value, now)
        self._collect(value, now)
        if self._confirmed():
            self._move_to_new_track()
            return self._accept(value, now)
        return self.shown

    def _daily_restart(self, value: float, now: datetime) -> bool:
        if not self.daily or self.accepted is None or value >= self.accepted:
            return False
        since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
        if since_midnight > _DAILY_RESET_WINDOW:
            return False
        hours = since_midnight.total_seconds() / 3600
        return value <= self.max_rate * max(hours, 5 / 60) + _TOLERANCE

    def _wrapped(self, value: float, now: datetime) -> float | None:
        """The width the counter wrapped by, if ``value`` is a wrap of the last."""
        assert self.accepted is not None
        assert self.accepted_at is not None
        if value >= self.accepted:
            return None
        for wrap in self.wraps:
            if self._plausible(self.accepted, self.accepted_at, value + wrap, now):
                return wrap
        return None

    def _move_to_new_track(self) -> None:
        """Take the confirmed suspects' track: a reset, or a re-based continuation."""
        assert self.accepted is not None
        first_at, first = self._suspects[0]
        shown = self.accepted + self.offset
        self._suspects.clear()
        self.accepted_at = first_at
        if first < self.accepted and first + _TOLERANCE < shown * (1 - _RESET_SHARE):
            # Starts again near zero: one reset, counted from the new meter's zero.
            self.offset = 0.0
        else:
            # Go on from the value shown: the leap itself is never booked.
            self.offset = shown - first

    def _plausible(
        self, base: float, base_at: datetime, value: float, now: datetime
    ) -> bool:
        if value < base - _TOLERANCE:
            return False
        hours = max((now - base_at).total_seconds() / 3600, 0.0)
        # Allow at least one watt-hour of slack and a few minutes' worth of growth, so
        # that readings taken close together are never judged on rounding alone.
        allowed = self.max_rate * max(hours, 5 / 60) + _TOLERANCE
        return value - base <= allowed

    def _collect(self, value: float, now: datetime) -> None:
        if self._suspects:
            last_at, last = self._suspects[-1]
            if not self._plausible(last, last_at, value, now):
                # Suspects that disagree with each other are noise: start again.
                self._suspects.clear()
        self._suspects.append((now, value))

    def _confirmed(self) -> bool:
        if len(self._suspects) < self.confirm_reads:
            return False
        first_at, _ = self._suspects[0]
        last_at, _ = self._suspects[-1]
        return last_at - first_at >= self.confirm_time

    def _accept(self, value: float, now: datetime) -> float:
        self.accepted = value
        self.accepted_at = now
        return value + self.offset

    def as_dict(self) -> dict[str, Any]:
        """Return the state to store across restarts."""
        return {
            "accepted": self.accepted,
            "accepted_at": self.accepted_at.isoformat() if self.accepted_at else None,
            "offset": self.offset,
            "suspects": [[at.isoformat(), value] for at, value in self._suspects],
        }

    def restore(self, stored: dict[str, Any] | None) -> Self:
        """Take back the state saved by ``as_dict``; bad data is ignored."""
        if not stored:
            return self
        try:
            accepted = stored.get("accepted")
            accepted_at = stored.get("accepted_at")
            suspects = [
                (datetime.fromisoformat(at), float(value))
                for at, value in stored.get("suspects") or []
            ]
            offset = float(stored.get("offset") or 0.0)
            if accepted is not None and accepted_at is not None:
                self.accepted = float(accepted)
                self.accepted_at = datetime.fromisoformat(accepted_at)
                self.offset = offset
                self._suspects = suspects
        except TypeError, ValueError:
            pass
        return self
