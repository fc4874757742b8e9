"""When a gateway that measures on a fixed cadence will have its next data."""

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
