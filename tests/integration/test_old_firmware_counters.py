"""Old Envoy firmware's lifetime production wraps at 2**32 J (1.19 MWh): the solar
energy sensor goes on counting from where it was, as the Energy dashboard needs."""

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from simulator.clock import ManualClock
from simulator.server import SimulatorOptions

from .simulated import NOON, simulated_entry

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.mark.parametrize(
    ("scenario", "entity_id", "before", "grown"),
    [
        # Metered without CTs, 7.3: production.json's inverter total restarts at 0.
        ("lifetime_reset_metered", "sensor.envoy_003333_solar_energy", 1192890, 350),
        # Standard, 7.3: /api/v1/production's lifetime steps down by 1.19 MWh.
        ("lifetime_step_standard", "sensor.envoy_007130_solar_energy", 6012540, 200),
    ],
)
async def test_lifetime_production_wrap_is_a_continuation(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    scenario: str,
    entity_id: str,
    before: float,
    grown: float,
) -> None:
    """Once the answer after the wrap is read, the sensor shows what was produced
    since on top of the value before it: no reset recorded, nothing held back."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    frozen = SimulatorOptions(utc_offset_hours=0.0, frozen=True)
    async with simulated_entry(hass, f"envoy/{scenario}", clock, simulator=frozen):
        shown = [float(hass.states.get(entity_id).state)]  # type: ignore[union-attr]
        step = timedelta(seconds=15)
        for _ in range(int(timedelta(minutes=10) / step)):
            clock.advance(step.total_seconds())
            freezer.tick(step)
            async_fire_time_changed(hass)
            await hass.async_block_till_done(wait_background_tasks=True)
            shown.append(float(hass.states.get(entity_id).state))  # type: ignore[union-attr]
    assert shown[0] == pytest.approx(before / 1000)
    assert shown[-1] == pytest.approx((before + grown) / 1000, abs=1e-3)
    # Never anything else in between: no fall, no hold.
    assert set(shown) <= {shown[0], shown[-1]}


async def test_gateway_day_and_week_counters_book_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """``whToday`` resets late or to a non-zero value, ``whLastSevenDays`` steps:
    their sensors show what the gateway says and carry no state class, so Home
    Assistant keeps no statistics of them and no step is ever booked as energy."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    async with simulated_entry(hass, "envoy/metered_3phase", ManualClock(NOON)):
        for figure in (
            "solar_energy_today",
            "solar_energy_last_7_days",
            "consumption_energy_today",
            "consumption_energy_last_7_days",
        ):
            state = hass.states.get(f"sensor.envoy_000456_{figure}")
            assert state is not None, figure
            assert "state_class" not in state.attributes, figure
