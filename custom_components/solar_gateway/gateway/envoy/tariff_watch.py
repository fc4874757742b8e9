"""Following the battery settings after a write: the Enphase cloud may undo them.

The gateway keeps an outbound connection through which the Enphase cloud pushes its
tariff. From firmware 8.2.4225 a battery mode (users report the reserve and charge
from grid too) written locally that differs from the cloud's is overwritten within
one to two minutes: the tariff's ``date`` becomes a time no local write sent,
``opt_schedules`` is ``true`` again and the mode is back to ``self-consumption``.
Enphase says this is intended.

So a write read back once is confirmed, then watched: the tariff is read again
``FOLLOW_UPS`` after it (one request each), and each read is compared with what was
written. A value that changed under a new tariff date was changed by the cloud;
within the watch after a write of it, that is an override (``SettingOverride``),
which stands until the setting is written again. Nothing here writes anything: the
client never argues with the cloud.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from custom_components.solar_gateway.gateway.site import (
    Control,
    ControlKey,
    ControlValue,
    SettingOverride,
    SettingSource,
)

from .models import Tariff

# After a battery-settings write, the tariff is read again this long after it: the
# cloud's push comes within one to two minutes, sometimes later.
FOLLOW_UPS: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=5),
)
# The controls the tariff's storage settings make (written with a whole-tariff PUT).
TARIFF_CONTROLS = frozenset(
    {
        ControlKey.BATTERY_MODE,
        ControlKey.BACKUP_RESERVE,
        ControlKey.CHARGE_FROM_GRID,
        ControlKey.OPTIMISED_SCHEDULES,
    }
)
# A follow-up this close to due runs now (timers fire up to a second early).
_SLACK = timedelta(seconds=2)
# A change seen this long after the last follow-up is due still undoes the write
# (a follow-up delayed behind a slow poll).
_WATCH_AFTER_LAST = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Written:
    """A battery setting this client wrote: what, when, and the tariff date it sent."""

    value: ControlValue
    at: datetime
    date: str | None
    watch_until: datetime  # a cloud change seen before this is an override


@dataclass(frozen=True, slots=True)
class Origin:
    """Who changed a setting last, and when."""

    by: SettingSource
    at: datetime


@dataclass(slots=True)
class TariffWatch:
    """What was written and when, who changed each setting last, and the reads due."""

    written: dict[ControlKey, Written] = field(default_factory=dict)
    origins: dict[ControlKey, Origin] = field(default_factory=dict)
    overrides: tuple[SettingOverride, ...] = ()
    _due: list[datetime] = field(default_factory=list)  # follow-up reads
    _seen: Tariff | None = None
    _values: Mapping[ControlKey, ControlValue | None] | None = None

    def wrote(
        self, key: ControlKey, value: ControlValue, tariff: Tariff, now: datetime
    ) -> None:
        """Remember a write of ``key`` (the tariff as read, whose date it sent) and
        plan the follow-up reads."""
        self.written[key] = Written(
            value, now, tariff.date, now + FOLLOW_UPS[-1] + _WATCH_AFTER_LAST
        )
        # Written again: an earlier override of it no longer stands.
        self.overrides = tuple(o for o in self.overrides if o.key != key)
        self._due = [now + delay for delay in FOLLOW_UPS]

    def follow_up_in(self, now: datetime) -> float | None:
        """Seconds until the next follow-up read (0: due now), or None."""
        if not self._due:
            return None
        return max(0.0, (self._due[0] - now).total_seconds())

    def followed_up(self, now: datetime) -> None:
        """A follow-up read ran: those due by now are done."""
        self._due = [due for due in self._due if due > now + _SLACK]

    def follow(
        self,
        tariff: Tariff | None,
        controls: tuple[Control, ...],
        now: datetime,
    ) -> tuple[Control, ...]:
        """Compare a new tariff read with what was written; ``controls`` with who
        changed each tariff setting last."""
        if tariff is not None and tariff is not self._seen:
            self._observe(tariff, _tariff_values(controls), now)
        return self._decorate(controls)

    def _observe(
        self,
        tariff: Tariff,
        values: Mapping[ControlKey, ControlValue | None],
        now: datetime,
    ) -> None:
        previous, previous_date = (
            self._values,
            (self._seen.date if self._seen is not None else None),
        )
        self._seen, self._values = tariff, values
        pushed = tariff.date != previous_date and previous is not None
        for key, value in values.items():
            written = self.written.get(key)
            if written is None:
                if pushed and previous is not None and previous.get(key) != value:
                    self.origins[key] = Origin(
                        SettingSource.ENPHASE_CLOUD, _pushed_at(tariff, now)
                    )
                continue
            if value == written.value:
                if tariff.date == written.date:
                    self.origins[key] = Origin(SettingSource.CLIENT, written.at)
                continue
            del self.written[key]
            if tariff.date == written.date:
                # The gateway did not take it (the write's read-back says so).
                continue
            changed_at = _pushed_at(tariff, now)
            self.origins[key] = Origin(SettingSource.ENPHASE_CLOUD, changed_at)
            if now <= written.watch_until:
                self.overrides = (
                    *(o for o in self.overrides if o.key != key),
                    SettingOverride(
                        key=key,
                        device=None,
                        written=written.value,
                        value=value,
                        written_at=written.at,
                        changed_at=changed_at,
                    ),
                )

    def _decorate(self, controls: tuple[Control, ...]) -> tuple[Control, ...]:
        if not self.origins:
            return controls  # nothing known: the controls as described
        return tuple(
            replace(control, changed_by=origin.by, changed_at=origin.at)
            if control.device is None
            and (origin := self.origins.get(control.key)) is not None
            else control
            for control in controls
        )


def _tariff_values(
    controls: tuple[Control, ...],
) -> dict[ControlKey, ControlValue | None]:
    """The gateway-wide tariff controls' values, by key."""
    return {
        control.key: control.value
        for control in controls
        if control.key in TARIFF_CONTROLS and control.device is None
    }


def _pushed_at(tariff: Tariff, now: datetime) -> datetime:
    """When the cloud pushed ``tariff``: its date where it reads as one, else now."""
    try:
        stamp = float(tariff.date) if tariff.date is not None else None
    except ValueError:
        stamp = None
    if stamp is None or stamp <= 0:
        return now
    try:
        return datetime.fromtimestamp(stamp, UTC)
    except OverflowError, OSError, ValueError:
        return now
