"""Keep gateway counter glitches away from ``total_increasing`` states.

Gateways report lifetime energy counters that sometimes dip to 0 for one read, drop
for a few cycles, or leap after a reboot. Home Assistant books any decrease of a
``total_increasing`` state as a meter reset, so a single glitch would show as a spike
of megawatt-hours on the Energy dashboard.

The guard passes a new reading straight through only when it is plausible: not lower
than the last accepted value and not rising faster than ``max_rate`` (watt-hours per
hour, i.e. an average power). Anything else is *suspect*: the last accepted value is
held while suspects are collected. When the readings come back to the accepted track,
the suspects are dropped as a glitch. When suspects agree with one another (never
decreasing among themselves) for ``confirm_reads`` reads spread over at least
``confirm_time``, the change is real (a replaced meter, a counter fixed by firmware)
and the guard moves to the new track, which Home Assistant then records as a reset
or a step.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Self

# Readings that differ by less than this are the same (gateways round differently
# across endpoints); in Wh.
_TOLERANCE = 1.0


@dataclass(slots=True)
class CounterGuard:
    """The filter for one lifetime counter; see the module docstring."""

    max_rate: float  # Wh per hour that the counter can plausibly grow by
    confirm_reads: int = 6
    confirm_time: timedelta = timedelta(minutes=30)
    accepted: float | None = None
    accepted_at: datetime | None = None
    _suspects: list[tuple[datetime, float]] = field(default_factory=list)

    @property
    def holding(self) -> bool:
        """Whether readings are being held back as suspect right now."""
        return bool(self._suspects)

    def update(self, value: float | None, now: datetime) -> float | None:
        """Take a reading and return the value the entity should show."""
        if value is None:
            return self.accepted
        if self.accepted is None or self.accepted_at is None:
            return self._accept(value, now)
        if self._plausible(self.accepted, self.accepted_at, value, now):
            self._suspects.clear()
            return self._accept(value, now)
        self._collect(value, now)
        if self._confirmed():
            first_at, _ = self._suspects[0]
            self._suspects.clear()
            self.accepted_at = first_at
            return self._accept(value, now)
        return self.accepted

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
        return value

    def as_dict(self) -> dict[str, Any]:
        """Return the state to store across restarts."""
        return {
            "accepted": self.accepted,
            "accepted_at": self.accepted_at.isoformat() if self.accepted_at else None,
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
            if accepted is not None and accepted_at is not None:
                self.accepted = float(accepted)
                self.accepted_at = datetime.fromisoformat(accepted_at)
                self._suspects = suspects
        except TypeError, ValueError:
            pass
        return self
