"""Time as the simulator sees it: the real clock, or one that tests move by hand."""

import time
from typing import Protocol


class Clock(Protocol):
    """A source of the current time, in seconds since the Unix epoch."""

    def now(self) -> float:
        """Return the current time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        """Return the current time."""
        return time.time()


class ManualClock:
    """A clock that only moves when told to (for tests and replays)."""

    def __init__(self, start: float) -> None:
        """Start at ``start`` seconds since the epoch."""
        self._now = start

    def now(self) -> float:
        """Return the current time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (never backwards)."""
        self._now += max(0.0, seconds)
