"""Faults the simulator can be told to show, as real gateways do in the field.

A fault about answers (503, a hang, a spoilt body, a fixed answer) can be limited to
one request path, and one method: ``/cgi-bin/dl_cgi?Command=DeviceList`` stands for
that query exactly, ``/vars`` for the path whatever its query.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
import json
import re


class FaultName(StrEnum):
    """The faults a simulated gateway can show."""

    UNAVAILABLE = "unavailable"  # answer 503 for a while
    HANG = "hang"  # accept the request, never answer (past any client timeout)
    MALFORMED_JSON = "malformed_json"  # a JSON answer that does not parse
    TRUNCATED_JSON = "truncated_json"  # a JSON answer cut half way
    HTML_ERROR = "html_error"  # an HTML error page where JSON was expected
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - every token and session issued so far expires
    REBOOT = "reboot"  # uptime and counters restart from zero, sessions are lost
    COUNTER_DIP = "counter_dip"  # lifetime counters read 0 once
    COUNTER_JUMP = "counter_jump"  # lifetime counters jump up for good
    COUNTER_SPIKE = "counter_spike"  # lifetime counters leap up in one answer only
    STALE = "stale"  # data stops changing (same DATATIME)
    ANSWER = "answer"  # a fixed answer (status, body) in place of the gateway's
    FIRMWARE_UPDATE = "firmware_update"  # reboot into the next firmware version
    # Envoy: the Enphase cloud puts its battery settings back ``amount`` seconds (90
    # by default) after each local write, until cleared.
    CLOUD_OVERRIDE = "cloud_override"


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
# Faults that concern one answer, so may be limited to a path and a method.
ANSWER_FAULTS = frozenset(
    {FaultName.UNAVAILABLE, FaultName.HANG, FaultName.ANSWER, *BODY_FAULTS}
)
# Faults that last until cleared when neither a duration nor a count is given.
UNTIL_CLEARED = frozenset({FaultName.ANSWER, FaultName.CLOUD_OVERRIDE})
METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH"})


def concerns(
    method: str | None, path: str | None, request_method: str, path_qs: str
) -> bool:
    """Whether a request (``path_qs``: path with query) is one ``method path`` names.

    None names any; a ``path`` with a query names that query exactly, one without
    names the path whatever its query.
    """
    if method is not None and method != request_method:
        return False
    if path is None:
        return True
    if "?" in path:
        return path_qs == path
    return path_qs.split("?", 1)[0] == path


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

    Without either, a fault in ``DEFAULT_DURATION`` lasts that long, an ``ANSWER``
    or ``CLOUD_OVERRIDE`` until cleared, and the others affect one answer.
    ``amount`` is the jump, in Wh, of ``COUNTER_JUMP``, and the seconds from a local
    write to the cloud's push of ``CLOUD_OVERRIDE``. ``path`` and ``method`` limit a fault of ``ANSWER_FAULTS``
    to the requests they name; ``status``, ``body`` and ``content_type`` are the
    ``ANSWER`` (the content type guessed from the body when not given).
    """

    name: FaultName
    duration: float | None = None
    count: int | None = None
    amount: float | None = None
    path: str | None = None
    method: str | None = None
    status: int = 200
    body: str = ""
    content_type: str | None = None

    def matches(self, method: str, path_qs: str) -> bool:
        """Whether the fault concerns a request (``path_qs``: path with query)."""
        return concerns(self.method, self.path, method, path_qs)

    @property
    def answer_type(self) -> str:
        """The content type of an ``ANSWER``."""
        if self.content_type is not None:
            return self.content_type
        try:
            json.loads(self.body)
        except ValueError:
            return "text/html" if self.body.lstrip().startswith("<") else "text/plain"
        return "application/json"

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
        path = _text(data.get("path"), "path")
        method = _text(data.get("method"), "method")
        if (path is not None or method is not None) and name not in ANSWER_FAULTS:
            raise FaultSpecError(f"{name.value} concerns the whole gateway, not a path")
        if path is not None and not path.startswith("/"):
            raise FaultSpecError("path must start with /")
        if method is not None:
            method = method.upper()
            if method not in METHODS:
                raise FaultSpecError(f"unknown method {method!r}")
        status = _number(data.get("status"), "status")
        if status is not None and not 100 <= status <= 599:
            raise FaultSpecError("status must be an HTTP status (100 to 599)")
        body = data.get("body", "")
        if not isinstance(body, str):
            body = json.dumps(body)  # a JSON answer given as the value itself
        return cls(
            name=name,
            duration=duration,
            count=None if count is None else int(count),
            amount=amount,
            path=path,
            method=method,
            status=200 if status is None else int(status),
            body=body,
            content_type=_text(data.get("content_type"), "content_type"),
        )


def _text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise FaultSpecError(f"{what} must be a non-empty string")
    return value


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


type _Key = tuple[FaultName, str | None, str | None]


class FaultBoard:
    """The lasting faults in force on one gateway."""

    def __init__(self) -> None:
        """Start with no fault."""
        self._active: dict[_Key, _Active] = {}

    def add(self, fault: Fault, now: float) -> None:
        """Put a lasting fault in force from ``now``, replacing one of the same name
        on the same requests."""
        duration = fault.duration
        count = fault.count
        if duration is None and count is None and fault.name not in UNTIL_CLEARED:
            duration = DEFAULT_DURATION.get(fault.name)
            count = None if duration is not None else 1
        until = None if duration is None else now + duration
        key = (fault.name, fault.method, fault.path)
        # Re-inserted last: the newest fault on a request is the one it sees.
        self._active.pop(key, None)
        self._active[key] = _Active(fault, until, count)

    def clear(self, name: FaultName | None = None, path: str | None = None) -> None:
        """End the faults of one name (on one path), or all of them."""
        for key in list(self._active):
            if (name is None or key[0] is name) and (path is None or key[2] == path):
                del self._active[key]

    def _in_force(self, now: float) -> Iterator[tuple[_Key, _Active]]:
        for key, entry in list(self._active.items()):
            if entry.until is not None and now >= entry.until:
                del self._active[key]
                continue
            yield key, entry

    def find(
        self, name: FaultName, now: float, method: str = "", path_qs: str = ""
    ) -> Fault | None:
        """The fault ``name`` in force for a request (without using up a count).

        Without a request, only faults on every request count. Of several, the one
        limited to this request wins over one on every request, then the newest.
        """
        best: Fault | None = None
        best_scoped = False
        for key, entry in self._in_force(now):
            if key[0] is not name:
                continue
            scoped = key[1] is not None or key[2] is not None
            if scoped and not (path_qs and entry.fault.matches(method, path_qs)):
                continue
            if best is None or scoped or not best_scoped:
                best, best_scoped = entry.fault, scoped
        return best

    def is_active(
        self, name: FaultName, now: float, method: str = "", path_qs: str = ""
    ) -> bool:
        """Whether ``name`` is in force at ``now`` (for a request, when given)."""
        return self.find(name, now, method, path_qs) is not None

    def take(
        self, name: FaultName, now: float, method: str = "", path_qs: str = ""
    ) -> Fault | None:
        """The fault ``name`` that affects this answer; a counted fault uses one up."""
        fault = self.find(name, now, method, path_qs)
        if fault is None:
            return None
        key = (fault.name, fault.method, fault.path)
        entry = self._active[key]
        if entry.remaining is not None:
            entry.remaining -= 1
            if entry.remaining <= 0:
                del self._active[key]
        return fault

    def amount(self, name: FaultName) -> float | None:
        """The ``amount`` of fault ``name`` in force (None when it has none)."""
        for key, entry in self._active.items():
            if key[0] is name:
                return entry.fault.amount
        return None

    def describe(self, now: float) -> list[dict[str, object]]:
        """Return the faults in force, for the control endpoint."""
        result: list[dict[str, object]] = []
        for (name, method, path), entry in self._in_force(now):
            described: dict[str, object] = {
                "name": name.value,
                "seconds_left": None if entry.until is None else entry.until - now,
                "count_left": entry.remaining,
            }
            if path is not None or method is not None:
                described.update(path=path, method=method)
            if name is FaultName.ANSWER:
                described.update(status=entry.fault.status)
            result.append(described)
        return result
