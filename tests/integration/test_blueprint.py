"""The blueprint that stops solar production while the grid price is negative."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from tests.conftest import PROJECT_ROOT

BLUEPRINT = (
    PROJECT_ROOT
    / "blueprints"
    / "automation"
    / "solar_gateway"
    / "stop_production_negative_price.yaml"
)
PRICE = "sensor.grid_price"
SWITCH = "switch.envoy_production"
# Ten minutes into an hourly price interval.
START = datetime(2026, 6, 21, 11, 10, tzinfo=UTC)


def install(target: Path) -> None:
    """Put the blueprint where Home Assistant imports it to."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)


def actions(off: list[ServiceCall], on: list[ServiceCall]) -> list[str]:
    """The switch actions made, in order."""
    made = [("turn_off", c) for c in off] + [("turn_on", c) for c in on]
    made.sort(key=lambda item: item[1].context.id)
    for _, call in made:
        assert call.data["entity_id"] == [SWITCH]
    return [name for name, _ in made]


@pytest.fixture
async def calls(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> tuple[list[ServiceCall], list[ServiceCall]]:
    """The blueprint set up as a user would (hourly prices); the switch calls made."""
    freezer.move_to(START)
    target = Path(hass.config.path("blueprints", "automation", "solar_gateway"))
    await hass.async_add_executor_job(install, target)
    hass.states.async_set(PRICE, "0.12")
    hass.states.async_set(SWITCH, "on")
    off = async_mock_service(hass, "switch", "turn_off")
    on = async_mock_service(hass, "switch", "turn_on")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": f"solar_gateway/{BLUEPRINT.name}",
                    "input": {
                        "price_sensor": PRICE,
                        "production_switch": SWITCH,
                        "stop_below": 0,
                        "resume_at": 0.02,
                        "interval": 60,
                    },
                }
            }
        },
    )
    await hass.async_block_till_done()
    return off, on


async def price(hass: HomeAssistant, value: str) -> None:
    """The price sensor moves to ``value``."""
    hass.states.async_set(PRICE, value)
    await hass.async_block_till_done()


async def switched(hass: HomeAssistant, state: str) -> None:
    """The production switch shows ``state`` (as after the integration's write)."""
    hass.states.async_set(SWITCH, state)
    await hass.async_block_till_done()


async def test_stops_below_and_resumes_at_the_thresholds(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    calls: tuple[list[ServiceCall], list[ServiceCall]],
) -> None:
    """Negative price: off; back above the resume threshold next interval: on."""
    await price(hass, "-0.03")
    assert actions(*calls) == ["turn_off"]
    await switched(hass, "off")
    freezer.move_to(START + timedelta(hours=1))
    await price(hass, "0.05")
    assert actions(*calls) == ["turn_off", "turn_on"]


async def test_between_the_thresholds_nothing_changes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    calls: tuple[list[ServiceCall], list[ServiceCall]],
) -> None:
    """A price inside the band leaves the switch as it is, either way."""
    await price(hass, "0.01")
    assert actions(*calls) == []
    await price(hass, "-0.01")
    await switched(hass, "off")
    freezer.move_to(START + timedelta(hours=1))
    await price(hass, "0.015")
    assert actions(*calls) == ["turn_off"]


async def test_at_most_once_per_price_interval(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    calls: tuple[list[ServiceCall], list[ServiceCall]],
) -> None:
    """Once switched, a price swing within the same interval is ignored."""
    await price(hass, "-0.03")
    await switched(hass, "off")
    freezer.tick(timedelta(minutes=20))
    await price(hass, "0.30")
    assert actions(*calls) == ["turn_off"]
    freezer.move_to(START + timedelta(minutes=50))  # the next hour's interval
    await price(hass, "0.31")
    assert actions(*calls) == ["turn_off", "turn_on"]


async def test_unknown_price_changes_nothing(
    hass: HomeAssistant, calls: tuple[list[ServiceCall], list[ServiceCall]]
) -> None:
    """A price sensor that is unavailable or not a number is no reason to act."""
    await price(hass, "unavailable")
    await price(hass, "n/a")
    assert actions(*calls) == []
