"""The production switch: its body, and pending until the gateway and figures agree."""

from datetime import UTC, datetime, timedelta

from custom_components.solar_gateway.gateway.envoy.models import ProductionPower
from custom_components.solar_gateway.gateway.envoy.production_switch import (
    APPLY_WINDOW,
    ProductionState,
    ProductionTracker,
    production_request,
)

T0 = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)
RUNNING = ProductionPower(
    forced_off=False, pv_forced_off=False, battery_forced_off=False
)
HELD = ProductionPower(forced_off=True, pv_forced_off=False, battery_forced_off=False)


def test_bodies() -> None:
    """``[1]`` stops production, ``[0]`` starts it, on the gateway-wide record."""
    stop, start = production_request(False), production_request(True)
    assert (stop.method, stop.path, stop.body) == (
        "PUT",
        "/ivp/mod/603980032/mode/power",
        {"length": 1, "arr": [1]},
    )
    assert start.body == {"length": 1, "arr": [0]}


def test_without_a_write_the_record_is_the_state() -> None:
    """No change outstanding: what the gateway says."""
    tracker = ProductionTracker()
    assert tracker.state(RUNNING, 0.0, T0) is ProductionState.PRODUCING
    assert tracker.state(HELD, 3000.0, T0) is ProductionState.STOPPED
    pv_only = ProductionPower(
        forced_off=False, pv_forced_off=True, battery_forced_off=None
    )
    assert tracker.state(pv_only, None, T0) is ProductionState.STOPPED
    assert not tracker.pending


def test_stop_is_pending_until_the_inverters_stop() -> None:
    """Held off at once, still producing for minutes: stopping, never flipping back."""
    tracker = ProductionTracker()
    tracker.request(False, T0)
    seen = [
        tracker.state(RUNNING, 3000.0, T0),  # the record not yet read back
        tracker.state(HELD, 3000.0, T0 + timedelta(minutes=1)),
        tracker.state(HELD, 2500.0, T0 + timedelta(minutes=10)),
        tracker.state(HELD, 5.0, T0 + timedelta(minutes=12)),
        tracker.state(HELD, 0.0, T0 + timedelta(minutes=13)),
    ]
    assert seen == [ProductionState.STOPPING] * 3 + [ProductionState.STOPPED] * 2
    assert not tracker.pending


def test_start_is_pending_until_production_returns() -> None:
    """Released, the inverters come back minutes later: starting until they do."""
    tracker = ProductionTracker()
    tracker.request(True, T0)
    assert tracker.state(RUNNING, 0.0, T0 + timedelta(minutes=5)) is (
        ProductionState.STARTING
    )
    assert tracker.state(RUNNING, 800.0, T0 + timedelta(minutes=9)) is (
        ProductionState.PRODUCING
    )


def test_start_at_night_settles_after_the_window() -> None:
    """Nothing can show a release at night: it settles on the record after the window."""
    tracker = ProductionTracker()
    tracker.request(True, T0)
    assert tracker.state(RUNNING, 0.0, T0 + APPLY_WINDOW) is ProductionState.STARTING
    later = T0 + APPLY_WINDOW + timedelta(seconds=1)
    assert tracker.state(RUNNING, 0.0, later) is ProductionState.PRODUCING
    assert not tracker.pending


def test_a_record_that_never_changes_settles_on_it() -> None:
    """A write the gateway dropped: after the window the record is the answer."""
    tracker = ProductionTracker()
    tracker.request(False, T0)
    assert tracker.not_applied(RUNNING)
    assert not tracker.not_applied(HELD)
    later = T0 + APPLY_WINDOW + timedelta(minutes=1)
    assert tracker.state(RUNNING, 3000.0, later) is ProductionState.PRODUCING


def test_without_solar_figure_the_record_decides() -> None:
    """A site without a solar figure: the record read back is all there is."""
    tracker = ProductionTracker()
    tracker.request(False, T0)
    assert tracker.state(HELD, None, T0) is ProductionState.STOPPED
