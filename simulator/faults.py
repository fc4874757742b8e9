"""Faults the simulator can be told to show, as real gateways do in the field."""

from dataclasses import dataclass
from enum import StrEnum
import re


class FaultName(StrEnum):
    """The faults a simulated gateway can show."""

    UNAVAILABLE = "unavailable"  # answer 503 for a while
    HANG = "hang"  # accept the request, never answer (past any client timeout)
    MALFORMED_JSON = "malformed_json"  # a JSON answer that does not parse
    TRUNCATED_JSON = "truncated_json"  # a JSON answer cut half way
    HTML_ERROR = "html_error"  # an HTML error page where JSON was expected
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - every token and session issued so far expires
    REBOOT = "reboot"  # uptime and counters restart from zero
    COUNTER_DIP = "counter_dip"  # lifetime counters read 0 once
    COUNTER_JUMP = "counter_jump"  # lifetime counters jump up for good
    COUNTER_SPIKE = "counter_spike"  # lifetime counters leap up in one answer only
    STALE = "stale"  # data stops changing (same DATATIME)
    FIRMWARE_UPDATE = "firmware_update"  # reboot into the next firmware version


# Faults that happen once, when they are raised, rather than lasting.
INSTANT_FAULTS = frozenset(
    {
        FaultName.TOKEN_EXPIRED,
        FaultName.REBOOT,
        FaultName.COUNTER_JUMP,
        FaultName.FIRMWARE_UPDATE,
    }
)
# Faults that spoil a JSON answer's body.
BODY_FAULTS = (FaultName.MALFORMED_JSON, FaultName.TRUNCATED_JSON, FaultName.HTML_ERROR)
# How a lasting fault ends when neither a duration nor a count is given.
DEFAULT_DURATION = {FaultName.UNAVAILABLE: 60.0, FaultName.STALE: 900.0}
DEFAULT_JUMP_WH = 1_000_000.0


def next_firmware(version: str) -> str:
    """The version after ``version``: its last number one higher (``D8.2.4287``)."""
    numbers = list(re.finditer(r"\d+", version))
    if not numbers:
        return f"{version}.1" if version else "1"
    last = numbers[-1]
    return f"{version[: last.start()]}{int(last.group()) + 1}{version[last.end() :]}"


class FaultSpecError(ValueError):
    """A fault was asked for with a bad name or bad parameters."""


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault to show: lasting ``duration`` seconds, or for ``count`` answers.

    Without either, a fault in ``DEFAULT_DURATION`` lasts that long and the others
    affect one answer. ``amount`` is the jump, in Wh, of ``COUNTER_JUMP``.
    """

    name: FaultName
    duration: float | None = None
    count: int | None = None
    amount: float | None = None

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Parse ``NAME[:SECONDS]`` as given on the command line."""
        name, _, seconds = spec.partition(":")
        duration: float | None = None
        if seconds:
            try:
                duration = float(seconds)
            except ValueError as err:
                raise FaultSpecError(f"bad duration in {spec!r}") from err
        return cls.from_json({"name": name, "duration": duration})

    @classmethod
    def from_json(cls, data: object) -> Fault:
        """Build a fault from ``{"name", "duration"?, "count"?, "amount"?}``."""
        if not isinstance(data, dict):
            raise FaultSpecError("a fault is a JSON object")
        try:
            name = FaultName(str(data.get("name")))
        except ValueError as err:
            known = ", ".join(fault.value for fault in FaultName)
            raise FaultSpecError(
                f"unknown fault {data.get('name')!r} (known: {known})"
            ) from err
        duration = _number(data.get("duration"), "duration")
        count = _number(data.get("count"), "count")
        amount = _number(data.get("amount"), "amount")
        if (duration is not None and duration < 0) or (count is not None and count < 1):
            raise FaultSpecError("duration must be >= 0 and count >= 1")
        return cls(
            name=name,
            duration=duration,
            count=None if count is None else int(count),
            amount=amount,
        )


def _number(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultSpecError(f"{what} must be a number")
    return float(value)


@dataclass(slots=True)
class _Active:
    fault: Fault
    until: float | None
    remaining: int | None


class FaultBoard:
    """The lasting faults in force on one gateway."""

    def __init__(self) -> None:
        """Start with no fault."""
        self._active: dict[FaultName, _Active] = {}

    def add(self, fault: Fault, now: float) -> None:
        """Put a lasting fault in force from ``now`` (replacing one of the same name)."""
        duration = fault.duration
        count = fault.count
        if duration is None and count is None:
            duration = DEFAULT_DURATION.get(fault.name)
            count = None if duration is not None else 1
        until = None if duration is None else now + duration
        self._active[fault.name] = _Active(fault, until, count)

    def clear(self, name: FaultName | None = None) -> None:
        """End one fault, or all of them."""
        if name is None:
            self._active.clear()
        else:
            self._active.pop(name, None)

    def is_active(self, name: FaultName, now: float) -> bool:
        """Whether ``name`` is in force at ``now`` (without using up a count)."""
        entry = self._active.get(name)
        if entry is None:
            return False
        if entry.until is not None and now >= entry.until:
            del self._active[name]
            return False
        return True

    def take(self, name: FaultName, now: float) -> bool:
        """Whether ``name`` affects this answer; a counted fault uses one up."""
        if not self.is_active(name, now):
            return False
        entry = self._active[name]
        if entry.remaining is not None:
            entry.remaining -= 1
            if entry.remaining <= 0:
                del self._active[name]
        return True

    def amount(self, name: FaultName) -> float | None:
        """The ``amount`` of fault ``name`` in force (None when it has none)."""
        entry = self._active.get(name)
        return None if entry is None else entry.fault.amount

    def describe(self, now: float) -> list[dict[str, object]]:
        """Return the faults in force, for the control endpoint."""
        result: list[dict[str, object]] = []
        for name in list(self._active):
            if not self.is_active(name, now):
                continue
            entry = self._active[name]
            result.append(
                {
                    "name": name.value,
                    "seconds_left": None if entry.until is None else entry.until - now,
                    "count_left": entry.remaining,
                }
            )
        return result
