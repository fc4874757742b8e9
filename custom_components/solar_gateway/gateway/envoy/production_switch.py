"""Stopping and starting the whole array's production, and knowing when it happened.

``PUT /ivp/mod/603980032/mode/power`` with ``{"length": 1, "arr": [1]}`` holds
production off, ``[0]`` lets it run; only an installer token may do it (owner tokens
are refused 401). The gateway's own record changes at once, but the inverters follow
within about 15 minutes, so a change is *pending* until both the record and the
production figures agree, or the apply window has passed.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from custom_components.solar_gateway.gateway.site import (
    Control,
    ControlKey,
    ControlKind,
    DataGroup,
    SiteSnapshot,
)

from .control_request import ControlRequest
from .models import EnvoyData, ProductionPower

PRODUCTION_POWER_PATH = "/ivp/mod/603980032/mode/power"
# The inverters apply a change within about 15 minutes; past this it has either
# happened or will not.
APPLY_WINDOW = timedelta(minutes=20)
# Solar power at or below this (W) counts as stopped: CTs read a few W at rest.
STOPPED_BELOW_W = 25.0


def production_request(producing: bool) -> ControlRequest:
    """Let the array produce (``[0]``) or hold it off (``[1]``)."""
    return ControlRequest(
        "PUT", PRODUCTION_POWER_PATH, {"length": 1, "arr": [0 if producing else 1]}
    )


class ProductionState(StrEnum):
    """Where the array stands, as the gateway and its figures show it."""

    PRODUCING = "producing"
    STOPPED = "stopped"
    STOPPING = "stopping"  # held off, the inverters still producing
    STARTING = "starting"  # released, the inverters not yet back


@dataclass(slots=True)
class ProductionTracker:
    """Follows one production write until the gateway and the inverters agree.

    While a change is pending the state stays on its way (stopping or starting):
    it never flips back and forth as the record and the figures catch up.
    """

    target: bool | None = None  # producing wanted; None: no change outstanding
    since: datetime | None = None

    def request(self, producing: bool, at: datetime) -> None:
        """Remember that production was asked to start or stop at ``at``."""
        self.target = producing
        self.since = at

    def state(
        self, power: ProductionPower, solar_w: float | None, at: datetime
    ) -> ProductionState:
        """The array's state given the record read back and the solar power now."""
        held_off = bool(power.forced_off or power.pv_forced_off)
        settled = ProductionState.STOPPED if held_off else ProductionState.PRODUCING
        target = self.target
        if target is None or self.since is None:
            return settled
        pending = ProductionState.STARTING if target else ProductionState.STOPPING
        if at - self.since > APPLY_WINDOW:
            # Applied or refused by now: what the gateway says is the answer.
            self.target = self.since = None
            return settled
        if held_off is target:
            return pending  # the record has not caught up yet
        # Without a solar figure the record is all there is. A release at night
        # stays starting until the window passes: nothing shows the inverters took it.
        if target:
            agreed = solar_w is None or solar_w > STOPPED_BELOW_W
        else:
            agreed = solar_w is None or solar_w <= STOPPED_BELOW_W
        if not agreed:
            return pending
        self.target = self.since = None
        return settled

    @property
    def pending(self) -> bool:
        """Whether a change is still on its way."""
        return self.target is not None

    def not_applied(self, power: ProductionPower) -> bool:
        """Whether the record read back right after a write contradicts it."""
        held_off = bool(power.forced_off or power.pv_forced_off)
        return self.target is not None and held_off is self.target


def production_controls(
    data: EnvoyData, snapshot: SiteSnapshot, tracker: ProductionTracker | None
) -> Iterator[Control]:
    """The production switch, where the record answered (installer tokens only).

    While a change is on its way the switch shows where it is going, as pending.
    """
    record = data.production_power
    if record is None:
        return
    tracker = tracker or ProductionTracker()
    state = tracker.state(record, snapshot.figures.solar_power, _now(snapshot))
    yield Control(
        key=ControlKey.PRODUCTION,
        kind=ControlKind.SWITCH,
        value=state in (ProductionState.PRODUCING, ProductionState.STARTING),
        pending=tracker.pending,
        # The record is a setting, but the live figures settle a pending change.
        source=DataGroup.LIVE,
        groups=frozenset({DataGroup.SETTINGS, DataGroup.LIVE}),
    )


def _now(snapshot: SiteSnapshot) -> datetime:
    return snapshot.data_time or datetime.now(UTC)
