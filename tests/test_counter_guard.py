"""The energy counter guard keeps glitches out of total_increasing states."""

from datetime import UTC, datetime, timedelta
import itertools
import json

import pytest

from custom_components.solar_gateway.counter_guard import CounterGuard

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(minutes=5)


def feed(guard: CounterGuard, readings: list[float | None]) -> list[float | None]:
    """Feed readings 5 minutes apart and return what the entity would show."""
    return [
        guard.update(value, START + STEP * index)
        for index, value in enumerate(readings)
    ]


def is_monotonic(values: list[float | None]) -> bool:
    """Whether the shown values never decrease."""
    shown = [value for value in values if value is not None]
    return all(b >= a for a, b in itertools.pairwise(shown))


def test_normal_growth_passes_through() -> None:
    """Plausible readings are shown as they come."""
    guard = CounterGuard(max_rate=20_000)
    readings = [1000.0, 1200.0, 1500.0, 1500.0, 2100.0]
    assert feed(guard, readings) == readings
    assert not guard.holding


def test_dip_to_zero_for_one_read_is_held() -> None:
    """normal, 0, normal: the 0 never reaches the state."""
    guard = CounterGuard(max_rate=20_000)
    shown = feed(guard, [5000.0, 0.0, 5100.0])
    assert shown == [5000.0, 5000.0, 5100.0]
    assert not guard.holding


def test_drop_for_three_cycles_is_held() -> None:
    """A counter that reads low for three cycles then recovers stays monotonic."""
    guard = CounterGuard(max_rate=20_000)
    shown = feed(guard, [5000.0, 4000.0, 4000.0, 4001.0, 5200.0, 5300.0])
    assert shown == [5000.0, 5000.0, 5000.0, 5000.0, 5200.0, 5300.0]
    assert is_monotonic(shown)


def test_spike_after_reboot_is_held() -> None:
    """A one-read leap far above what the site can produce is not shown."""
    guard = CounterGuard(max_rate=20_000)
    shown = feed(guard, [5000.0, 9_000_000.0, 5100.0, 5200.0])
    assert shown == [5000.0, 5000.0, 5100.0, 5200.0]


def test_reboot_reset_that_recovers_is_held() -> None:
    """A reboot that reports 0 for a while, then the real count, stays monotonic."""
    guard = CounterGuard(max_rate=20_000)
    shown = feed(guard, [5000.0, 0.0, 0.0, 10.0, 5300.0])
    assert is_monotonic(shown)
    assert shown[-1] == 5300.0


def test_lasting_reset_is_accepted() -> None:
    """A replaced meter counting from zero is accepted once it has lasted."""
    guard = CounterGuard(
        max_rate=20_000, confirm_reads=6, confirm_time=timedelta(minutes=25)
    )
    readings: list[float | None] = [5000.0] + [float(n * 10) for n in range(8)]
    shown = feed(guard, readings)
    # Held while unconfirmed...
    assert shown[1:6] == [5000.0] * 5
    # ...then the new track is shown (Home Assistant records a reset).
    assert shown[6] == 50.0
    assert shown[-1] == 70.0
    assert not guard.holding


def test_lasting_step_up_is_rebased() -> None:
    """A counter that leaps up for good goes on from where it was: the leap is never
    booked, the growth along the new track is."""
    guard = CounterGuard(
        max_rate=20_000, confirm_reads=3, confirm_time=timedelta(minutes=10)
    )
    shown = feed(guard, [5000.0, 2_005_000.0, 2_005_100.0, 2_005_200.0, 2_005_300.0])
    assert shown == [5000.0, 5000.0, 5000.0, 5200.0, 5300.0]
    assert guard.offset == -2_000_000.0


def test_rebased_offset_survives_a_restart() -> None:
    """The offset is stored with the guard: after a restart the leap stays out."""
    guard = CounterGuard(
        max_rate=20_000, confirm_reads=3, confirm_time=timedelta(minutes=10)
    )
    feed(guard, [5000.0, 1_005_000.0, 1_005_100.0, 1_005_200.0])
    restored = CounterGuard(max_rate=20_000).restore(guard.as_dict())
    assert restored.update(1_005_400.0, START + STEP * 5) == 5400.0


def test_reset_after_a_rebase_is_one_reset() -> None:
    """A rebased counter whose meter is then replaced shows the new meter's count,
    in one step (Home Assistant books one reset)."""
    guard = CounterGuard(
        max_rate=20_000, confirm_reads=3, confirm_time=timedelta(minutes=10)
    )
    readings = [5000.0, 1_005_000.0, 1_005_100.0, 1_005_200.0, 0.0, 10.0, 20.0, 30.0]
    shown = feed(guard, readings)
    assert shown == [5000.0, 5000.0, 5000.0, 5200.0, 5200.0, 5200.0, 20.0, 30.0]
    decreases = [
        (a, b)
        for a, b in itertools.pairwise(shown)
        if b is not None and a is not None and b < a
    ]
    assert decreases == [(5200.0, 20.0)]


def test_small_lasting_fall_is_rebased() -> None:
    """A fall too small to be a reset (Home Assistant would book negative energy)
    goes on from the value shown."""
    guard = CounterGuard(
        max_rate=20_000, confirm_reads=3, confirm_time=timedelta(minutes=10)
    )
    shown = feed(guard, [100_000.0, 80_000.0, 80_100.0, 80_200.0, 80_300.0])
    assert shown == [100_000.0, 100_000.0, 100_000.0, 100_200.0, 100_300.0]
    assert is_monotonic(shown)


def test_daily_counter_restarts_at_midnight() -> None:
    """Energy today falls to what was made since midnight: shown at once."""
    guard = CounterGuard(max_rate=5_000, daily=True)
    evening = datetime(2026, 6, 1, 23, 55, tzinfo=UTC)
    assert guard.update(20_000.0, evening) == 20_000.0
    assert guard.update(0.0, evening + timedelta(minutes=10)) == 0.0
    assert guard.update(5.0, evening + timedelta(minutes=15)) == 5.0


def test_daily_counter_dip_in_the_day_is_held() -> None:
    """The same fall in the afternoon is a glitch."""
    guard = CounterGuard(max_rate=5_000, daily=True)
    afternoon = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
    assert guard.update(20_000.0, afternoon) == 20_000.0
    assert guard.update(0.0, afternoon + STEP) == 20_000.0
    assert guard.update(20_100.0, afternoon + STEP * 2) == 20_100.0


def test_disagreeing_suspects_never_confirm() -> None:
    """Noise that jumps around is never taken for a reset."""
    guard = CounterGuard(
        max_rate=20_000, confirm_reads=3, confirm_time=timedelta(minutes=10)
    )
    shown = feed(guard, [5000.0, 100.0, 3000.0, 50.0, 2900.0, 10.0, 4000.0])
    assert shown == [5000.0] * 7
    assert guard.holding


def test_missing_reading_keeps_last_value() -> None:
    """An absent reading shows the last accepted value."""
    guard = CounterGuard(max_rate=20_000)
    assert feed(guard, [None, 100.0, None]) == [None, 100.0, 100.0]


def test_state_survives_a_restart() -> None:
    """A guard restored from storage holds back a glitch on the first read."""
    guard = CounterGuard(max_rate=20_000)
    feed(guard, [5000.0, 0.0])
    restored = CounterGuard(max_rate=20_000).restore(guard.as_dict())
    assert restored.accepted == 5000.0
    assert restored.holding
    assert restored.update(0.0, START + STEP * 2) == 5000.0


def test_restore_ignores_bad_data() -> None:
    """Corrupt stored state is ignored, not raised."""
    for stored in (None, {}, {"accepted": "x", "accepted_at": "y"}, {"accepted": 1.0}):
        guard = CounterGuard(max_rate=1000).restore(stored)
        assert guard.accepted is None


def booked(shown: list[float | None]) -> float:
    """The energy Home Assistant books from a ``total_increasing`` state's history:
    a fall below 90 % is a meter reset (the new state is counted from zero), any
    other change is counted as it is."""
    values = [value for value in shown if value is not None]
    total = 0.0
    for before, after in itertools.pairwise(values):
        total += after if after < 0.9 * before else after - before
    return total


def restarted(guard: CounterGuard) -> CounterGuard:
    """The guard as a restart gives it back: its state through JSON storage."""
    stored = json.loads(json.dumps(guard.as_dict()))
    return CounterGuard(
        max_rate=guard.max_rate,
        confirm_reads=guard.confirm_reads,
        confirm_time=guard.confirm_time,
    ).restore(stored)


def test_rebases_and_resets_in_a_row_across_restarts() -> None:
    """Leap, restart, leap again, a small fall, a replaced meter, restart, another
    leap: each lasting change goes on from the value shown (a second re-base builds
    on the first one's offset), the replaced meter is one reset, and Home Assistant
    books exactly what the counter grew by along its tracks, never a leap."""
    guard = CounterGuard(
        max_rate=20_000, confirm_reads=3, confirm_time=timedelta(minutes=10)
    )
    shown: list[float | None] = []
    index = 0

    def read(*values: float) -> None:
        nonlocal index
        for value in values:
            shown.append(guard.update(value, START + STEP * index))
            index += 1

    read(5000.0)
    read(1_005_000.0, 1_005_100.0, 1_005_200.0, 1_005_300.0)  # +1 MWh for good
    assert guard.offset == -1_000_000.0
    guard = restarted(guard)
    read(3_005_300.0, 3_005_400.0, 3_005_500.0, 3_005_600.0)  # +2 MWh on top
    assert guard.offset == -3_000_000.0
    guard = restarted(guard)
    read(2_905_600.0, 2_905_700.0, 2_905_800.0)  # falls 100 kWh for good
    assert guard.offset == -2_900_000.0
    read(0.0, 10.0, 20.0, 30.0)  # a replaced meter counts from zero
    assert guard.offset == 0.0
    guard = restarted(guard)
    read(500_030.0, 500_130.0, 500_230.0, 500_330.0)  # +500 kWh for good
    assert guard.offset == -500_000.0

    assert shown == [
        5000.0,
        *(5000.0, 5000.0, 5200.0, 5300.0),
        *(5300.0, 5300.0, 5500.0, 5600.0),
        *(5600.0, 5600.0, 5800.0),
        *(5800.0, 5800.0, 20.0, 30.0),
        *(30.0, 30.0, 230.0, 330.0),
    ]
    # 300 + 300 + 200 Wh along the leapt and fallen tracks, 30 Wh on the new meter,
    # 300 Wh after the last leap.
    assert booked(shown) == 1130.0
    assert not guard.holding


def test_glitch_after_a_rebase_keeps_the_offset() -> None:
    """A one-read dip on a re-based counter is held, and the offset stays."""
    guard = CounterGuard(
        max_rate=20_000, confirm_reads=3, confirm_time=timedelta(minutes=10)
    )
    readings = [5000.0, 1_005_000.0, 1_005_100.0, 1_005_200.0, 0.0, 1_005_300.0]
    shown = feed(guard, readings)
    assert shown == [5000.0, 5000.0, 5000.0, 5200.0, 5200.0, 5300.0]
    assert guard.offset == -1_000_000.0


def test_daily_counter_restart_fits_the_time_since_midnight() -> None:
    """After midnight a daily counter may restart at what the site can have made since
    (max_rate times the hours, a watt-hour of rounding): at 00:30 and 01:00 that is
    accepted up to the limit, above it it is held; a leap after it is held too."""
    evening = datetime(2026, 6, 1, 23, 50, tzinfo=UTC)
    half_past = datetime(2026, 6, 2, 0, 30, tzinfo=UTC)
    one = datetime(2026, 6, 2, 1, 0, tzinfo=UTC)
    # 1000 Wh an hour: at 01:00, 1001 Wh at most.
    for value, at, shown in (
        (1001.0, one, 1001.0),
        (1001.5, one, 20_000.0),
        (400.0, half_past, 400.0),  # half an hour: 501 Wh at most
        (600.0, half_past, 20_000.0),
    ):
        guard = CounterGuard(max_rate=1_000, daily=True)
        guard.update(20_000.0, evening)
        assert guard.update(value, at) == shown, (value, at)
    guard = CounterGuard(max_rate=1_000, daily=True)
    guard.update(20_000.0, evening)
    assert guard.update(300.0, half_past) == 300.0
    # The yesterday's total again for one read: held, the new day goes on.
    assert guard.update(20_000.0, half_past + STEP) == 300.0
    assert guard.update(350.0, half_past + STEP * 2) == 350.0


def test_daily_counter_restart_five_minutes_after_midnight() -> None:
    """Right after midnight the site is given five minutes' worth: at 00:02, 84 Wh
    (1000 Wh an hour) and no more."""
    evening = datetime(2026, 6, 1, 23, 50, tzinfo=UTC)
    early = datetime(2026, 6, 2, 0, 2, tzinfo=UTC)
    for value, shown in ((84.0, 84.0), (85.0, 20_000.0)):
        guard = CounterGuard(max_rate=1_000, daily=True)
        guard.update(20_000.0, evening)
        assert guard.update(value, early) == shown


def test_lasting_fall_to_a_tenth_is_rebased_below_it_a_reset() -> None:
    """The border between a re-based fall and a reset: a new track starting above a
    tenth of the value shown (less a watt-hour) goes on from the value shown; one
    starting below it is a replaced meter."""
    for first, expected_offset in ((999.5, 10_000.0 - 999.5), (998.5, 0.0)):
        guard = CounterGuard(
            max_rate=20_000, confirm_reads=3, confirm_time=timedelta(minutes=10)
        )
        feed(guard, [10_000.0, first, first, first])
        assert guard.offset == expected_offset, first


def test_growth_limit_is_max_rate_times_the_hours_plus_a_watt_hour() -> None:
    """An hour after the last reading, the counter may have grown by max_rate and a
    watt-hour of rounding, no more; readings minutes apart are judged on at least
    five minutes' growth, never on a whole hour's."""
    base = 10_000.0
    for grown, shown in ((20_001.0, base + 20_001.0), (20_001.5, base)):
        guard = CounterGuard(max_rate=20_000)
        guard.update(base, START)
        assert guard.update(base + grown, START + timedelta(hours=1)) == shown
    # One minute apart: five minutes' worth (1667.7 Wh), not more.
    for grown, shown in ((1_667.0, base + 1_667.0), (1_800.0, base)):
        guard = CounterGuard(max_rate=20_000)
        guard.update(base, START)
        assert guard.update(base + grown, START + timedelta(minutes=1)) == shown
    # Five minutes apart: 5 kWh is far beyond 20 kW for five minutes.
    guard = CounterGuard(max_rate=20_000)
    guard.update(base, START)
    assert guard.update(base + 5_000.0, START + STEP) == base


def test_daily_restart_counts_seconds_and_the_window_end() -> None:
    """The time since midnight is counted to the second (at 01:00:30 and at
    01:00:00.5 a little more is allowed than at 01:00), and a restart at 03:00 sharp
    is still inside the window."""
    evening = datetime(2026, 6, 1, 23, 50, tzinfo=UTC)
    for at, value in (
        (datetime(2026, 6, 2, 1, 0, 30, tzinfo=UTC), 1_005.0),
        (datetime(2026, 6, 2, 1, 0, 0, 500_000, tzinfo=UTC), 1_001.1),
        (datetime(2026, 6, 2, 3, 0, tzinfo=UTC), 2_500.0),
    ):
        guard = CounterGuard(max_rate=1_000, daily=True)
        guard.update(20_000.0, evening)
        assert guard.update(value, at) == value, at


def test_a_guard_that_saw_nothing_stores_and_restores_nothing() -> None:
    """Stored before any reading (a gateway that never answered), the state is empty
    and restores to a guard that takes the first reading as it comes."""
    stored = json.loads(json.dumps(CounterGuard(max_rate=1000).as_dict()))
    assert stored == {
        "accepted": None,
        "accepted_at": None,
        "offset": 0.0,
        "suspects": [],
    }
    restored = CounterGuard(max_rate=1000).restore(stored)
    assert restored.update(123.0, START) == 123.0


WRAP = 2**32 / 3600  # Wh: a 32-bit count of joules


def test_counter_restarting_from_zero_at_its_width_continues() -> None:
    """Metered Envoy without CTs, firmware 7: 1.19 MWh of joules, then 0 again. The
    entity keeps counting from where it was, at once: no reset, no hold."""
    guard = CounterGuard(max_rate=250_000)
    readings = [1_192_700.0, 1_192_890.0, round(1_192_890.0 + 350 - WRAP), 500.0]
    shown = feed(guard, readings)
    assert shown[2] == pytest.approx(1_192_890.0 + 350, abs=1)
    assert shown[3] == pytest.approx(shown[2] + 500.0 - readings[2])
    assert not guard.holding
    assert is_monotonic(shown)


def test_counter_stepping_down_by_its_width_continues() -> None:
    """Standard Envoy: the lifetime steps down by 1.19 MWh; the entity goes on."""
    guard = CounterGuard(max_rate=250_000)
    readings = [6_012_540.0, 6_012_540.0 + 200 - round(WRAP), 4_819_894.0]
    shown = feed(guard, readings)
    assert shown[1] == pytest.approx(6_012_740.0, abs=1)
    assert shown[2] == pytest.approx(shown[1] + 4_819_894.0 - readings[1])
    assert not guard.holding


def test_a_fall_of_another_size_is_no_wrap() -> None:
    """Only the counter's width makes a wrap: any other fall is held as before."""
    guard = CounterGuard(max_rate=250_000)
    shown = feed(guard, [6_012_540.0, 6_012_540.0 - 1_000_000.0])
    assert shown == [6_012_540.0, 6_012_540.0]
    assert guard.holding


def test_a_leap_in_the_early_morning_is_held_and_only_daily_counters_restart() -> None:
    """A daily counter leaping up just before 01:00 (beyond five minutes' growth,
    though below what the night would allow a restart) is held; a lifetime counter
    falling after midnight is held, however small the fall's new value."""
    daily = CounterGuard(max_rate=1_000, daily=True)
    daily.update(10.0, datetime(2026, 6, 2, 0, 50, tzinfo=UTC))
    assert daily.update(500.0, datetime(2026, 6, 2, 0, 55, tzinfo=UTC)) == 10.0
    lifetime = CounterGuard(max_rate=1_000)
    lifetime.update(20_000.0, datetime(2026, 6, 1, 23, 50, tzinfo=UTC))
    assert lifetime.update(5.0, datetime(2026, 6, 2, 0, 5, tzinfo=UTC)) == 20_000.0


def test_rounding_borders() -> None:
    """A reading a watt-hour below the last (endpoints round differently) passes as
    it is; a new track starting exactly at a tenth less a watt-hour is re-based."""
    guard = CounterGuard(max_rate=20_000)
    guard.update(5_000.0, START)
    assert guard.update(4_999.0, START + STEP) == 4_999.0
    guard = CounterGuard(
        max_rate=20_000, confirm_reads=3, confirm_time=timedelta(minutes=10)
    )
    feed(guard, [10_000.0, 999.0, 999.0, 999.0])
    assert guard.offset == 10_000.0 - 999.0
