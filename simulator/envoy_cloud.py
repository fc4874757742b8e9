"""The Enphase cloud's hold on an Envoy's battery settings (firmware 8.2.4225+).

The gateway keeps an outbound connection through which the cloud pushes its tariff.
A battery setting written locally that differs from what the cloud holds is
overwritten a minute or two later: the tariff's ``date`` (and its storage settings')
becomes the time of the push, a time no local write sent; ``opt_schedules`` is
``true`` again and the mode is back to ``self-consumption``; the reserve and charge
from grid go back to the cloud's (the captured ones). Off unless the simulator's
``cloud_revert_after`` option or the ``cloud_override`` fault turns it on.
"""

from collections.abc import Callable, Mapping
import copy

CLOUD_MODE = "self-consumption"
# How long after a local write the cloud pushes, unless told (users see 1-2 minutes).
DEFAULT_REVERT_SECONDS = 90.0
# The storage settings the cloud holds and puts back.
HELD_SETTINGS = ("mode", "reserved_soc", "charge_from_grid")

# Returns the seconds after a write at ``now`` that the cloud pushes (None: it is off).
type RevertDelay = Callable[[float], float | None]


class EnphaseCloud:
    """What the cloud holds of one gateway's tariff, and when it next pushes it."""

    def __init__(
        self, captured: Mapping[str, object] | None, delay: RevertDelay
    ) -> None:
        """Hold the captured storage settings, with the cloud's mode."""
        self.held: dict[str, object] = {
            key: copy.deepcopy(captured[key])
            for key in HELD_SETTINGS
            if captured is not None and key in captured
        }
        if captured is not None:
            self.held["mode"] = CLOUD_MODE
        self.delay = delay
        self.due: float | None = None  # when the next push happens
        self.pushes = 0  # how many pushes rewrote the tariff

    def written(self, storage: Mapping[str, object], now: float) -> None:
        """A local write of ``storage``: pushed over later when it differs."""
        delay = self.delay(now)
        if delay is None or not self.held:
            return
        if all(storage.get(key) == value for key, value in self.held.items()):
            self.due = None  # the gateway now agrees with the cloud
            return
        self.due = now + delay

    def push(self, document: object, now: float) -> bool:
        """Rewrite ``document`` (the whole tariff) when a push is due; whether it did."""
        due = self.due
        if due is None or now < due or not isinstance(document, dict):
            return False
        tariff = document.get("tariff")
        storage = tariff.get("storage_settings") if isinstance(tariff, dict) else None
        if not isinstance(tariff, dict) or not isinstance(storage, dict):
            return False
        self.due = None
        stamp = str(int(due))
        tariff["date"] = stamp
        storage["date"] = stamp
        storage.update(copy.deepcopy(self.held))
        if "opt_schedules" in storage:
            storage["opt_schedules"] = True
        self.pushes += 1
        return True

    def describe(self) -> dict[str, object]:
        """The cloud's state, for ``GET /_simulator/state``."""
        return {
            "held": copy.deepcopy(self.held),
            "due": self.due,
            "pushes": self.pushes,
        }
