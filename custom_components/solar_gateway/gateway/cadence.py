"""When a gateway that measures on a fixed cadence will have its next data."""

from collections.abc import Iterable
from datetime import datetime, timedelta


def next_due(
    data_time: datetime | None,
    now: datetime,
    *,
    interval: timedelta,
    margin: timedelta = timedelta(seconds=20),
) -> datetime:
    """When data measured every ``interval``, last at ``data_time``, is next new.

    Asking a little after (``margin``) gets the new data with a single request. With
    no data time yet the answer is ``now``; when one or more intervals went by
    unread, the next boundary after ``now``.
    """
    if data_time is None:
        return now
    due = data_time + interval + margin
    if due >= now:
        return due
    missed = (now - due) // interval + 1
    return due + missed * interval


# A gateway clock a little ahead of ours is not an error; more than this is.
_CLOCK_SKEW = timedelta(minutes=1)


def next_report_due(
    reports: Iterable[datetime],
    now: datetime,
    *,
    interval: timedelta,
    asleep_after: timedelta,
) -> datetime | None:
    """Just after the next of devices' reports every ``interval``, while they report.

    From the newest report that is not in the future (a device stuck on a date to
    come, or garbage, says nothing of the cadence). None when no device reported
    within ``asleep_after`` (inverters at night, a stale gateway): poll at the
    configured interval then.
    """
    recent = [time for time in reports if time <= now + _CLOCK_SKEW]
    if not recent:
        return None
    newest = max(recent)
    if now - newest > asleep_after:
        return None
    return next_due(newest, now, interval=interval)
