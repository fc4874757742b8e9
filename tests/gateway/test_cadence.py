"""When a gateway that measures on a fixed cadence has new data."""

from datetime import UTC, datetime, timedelta

from custom_components.solar_gateway.gateway.cadence import next_due, next_report_due

NOW = datetime(2025, 6, 21, 12, 0, tzinfo=UTC)
FIVE_MINUTES = timedelta(minutes=5)


def test_no_data_time_yet_is_due_now() -> None:
    """Nothing measured yet: ask now."""
    assert next_due(None, NOW, interval=FIVE_MINUTES) == NOW


def test_next_report_and_a_margin() -> None:
    """Just after the next measurement, or the next boundary once some went unread."""
    last = NOW - timedelta(minutes=2)
    assert next_due(last, NOW, interval=FIVE_MINUTES) == last + timedelta(
        minutes=5, seconds=20
    )
    old = NOW - timedelta(minutes=12)
    assert next_due(old, NOW, interval=FIVE_MINUTES) == old + timedelta(
        minutes=15, seconds=20
    )


def test_devices_reports_decide_while_recent() -> None:
    """From the newest report not in the future; none recent: no alignment."""
    recent = NOW - timedelta(minutes=1)
    future = NOW + timedelta(hours=3)  # a device stuck on a date to come
    due = next_report_due(
        [recent, future], NOW, interval=FIVE_MINUTES, asleep_after=3 * FIVE_MINUTES
    )
    assert due == recent + timedelta(minutes=5, seconds=20)
    assert (
        next_report_due([future], NOW, interval=FIVE_MINUTES, asleep_after=FIVE_MINUTES)
        is None
    )
    asleep = NOW - timedelta(hours=1)
    assert (
        next_report_due([asleep], NOW, interval=FIVE_MINUTES, asleep_after=FIVE_MINUTES)
        is None
    )


def test_due_exactly_now_is_asked_now() -> None:
    """The next measurement plus the margin falls on now: now, not an interval on."""
    last = NOW - timedelta(minutes=5, seconds=20)
    assert next_due(last, NOW, interval=FIVE_MINUTES) == NOW


def test_a_data_time_ahead_of_our_clock_counts_from_itself() -> None:
    """A gateway clock ahead of ours: the next measurement after its data time."""
    ahead = NOW + timedelta(minutes=10)
    assert next_due(ahead, NOW, interval=FIVE_MINUTES) == ahead + timedelta(
        minutes=5, seconds=20
    )


def test_report_borders() -> None:
    """A report a minute ahead (the clock skew allowed) still counts, and so does
    one exactly ``asleep_after`` old; a second more of either does not."""
    skewed = NOW + timedelta(minutes=1)
    assert next_report_due(
        [skewed], NOW, interval=FIVE_MINUTES, asleep_after=FIVE_MINUTES
    ) == skewed + timedelta(minutes=5, seconds=20)
    assert (
        next_report_due(
            [skewed + timedelta(seconds=1)],
            NOW,
            interval=FIVE_MINUTES,
            asleep_after=FIVE_MINUTES,
        )
        is None
    )
    dozing = NOW - FIVE_MINUTES
    assert next_report_due(
        [dozing], NOW, interval=FIVE_MINUTES, asleep_after=FIVE_MINUTES
    ) == dozing + timedelta(minutes=5, seconds=20)
    assert (
        next_report_due(
            [dozing - timedelta(seconds=1)],
            NOW,
            interval=FIVE_MINUTES,
            asleep_after=FIVE_MINUTES,
        )
        is None
    )
