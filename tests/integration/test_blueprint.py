"""The blueprint that limits solar export (or stops production) at negative prices.

It runs against the integration set up on simulated Envoys, so the requests it makes
the gateway send are the real ones, and Home Assistant validates it as it would a
user's: the blueprint schema, its inputs and the automation it becomes.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import BlueprintInputs
from homeassistant.components.blueprint.errors import MissingInput
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator.faults import Fault
from simulator.server import SimulatedGateway

from .simulated import OPTIONS, simulated_entry
from .test_controls import Sent, state

BLUEPRINT = (
    Path(__file__).resolve().parents[2]
    / "blueprints"
    / "automation"
    / "solar_gateway"
    / "limit_solar_negative_price.yaml"
)
SITE = "envoy/generator_running"
PRICE = "sensor.grid_price"
LIMIT = "switch.envoy_004444_dynamic_export_limit"
LIMIT_POWER = "number.envoy_004444_dynamic_export_limit_power"
PRODUCTION = "switch.envoy_004444_solar_production"
AUTOMATION = "automation.negative_price"
DPEL = "/ivp/ss/dpel"
ENVELOPE = {"filename": "site_settings", "version": "00.00.01"}
ZERO_EXPORT = {
    "dynamic_pel_settings": {
        "enable": True,
        "export_limit": True,
        "limit_value_W": 0.0,
        "slew_rate": 50.0,
        "enable_dynamic_limiting": False,
    },
    **ENVELOPE,
}
# Ten minutes into an hourly price interval, the simulated sun up.
START = datetime(2025, 6, 21, 12, 10, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("socket_enabled")


def install(target: Path) -> None:
    """Put the blueprint where Home Assistant imports it to."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)


def gateway_device(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The device id of the entry's gateway."""
    registry = dr.async_get(hass)
    return next(
        device.id
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if ("solar_gateway", entry.unique_id) in device.identifiers
    )


def device_of(hass: HomeAssistant, entity_id: str) -> str:
    """The device id an entity belongs to."""
    entity = er.async_get(hass).async_get(entity_id)
    assert entity is not None
    assert entity.device_id is not None
    return entity.device_id


async def use_blueprint(hass: HomeAssistant, gateway: str) -> None:
    """Set the blueprint up as a user would (hourly prices, stop below 0)."""
    target = Path(hass.config.path("blueprints", "automation", "solar_gateway"))
    await hass.async_add_executor_job(install, target)
    hass.states.async_set(PRICE, "0.12")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "negative_price",
                "alias": "Negative price",
                "use_blueprint": {
                    "path": f"solar_gateway/{BLUEPRINT.name}",
                    "input": {
                        "price_sensor": PRICE,
                        "gateway": gateway,
                        "stop_below": 0,
                        "resume_at": 0.02,
                        "interval": 60,
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    assert state(hass, AUTOMATION) == "on"


@asynccontextmanager
async def site(
    hass: HomeAssistant, user: str = "installer", *faults: Fault
) -> AsyncIterator[tuple[MockConfigEntry, SimulatedGateway]]:
    """The generator Envoy set up with ``user``'s token, under ``faults``."""
    options = replace(OPTIONS, faults=faults)
    async with simulated_entry(hass, SITE, user=user, simulator=options) as (
        entry,
        gateway,
    ):
        yield entry, gateway


def writes(gateway: SimulatedGateway) -> list[Sent]:
    """Every write the gateway received, with its body."""
    return [
        Sent(r.method, r.path, r.json())
        for r in gateway.received()
        if r.method != "GET"
    ]


async def price(hass: HomeAssistant, value: str) -> None:
    """The price sensor moves to ``value``; the automation's actions complete."""
    hass.states.async_set(PRICE, value)
    await hass.async_block_till_done()


def test_home_assistant_validates_the_blueprint() -> None:
    """The automation blueprint schema takes it; its inputs are the gateway's."""
    blueprint = Blueprint(
        load_yaml_dict(str(BLUEPRINT)),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert set(blueprint.inputs) == {
        "price_sensor",
        "gateway",
        "stop_below",
        "resume_at",
        "interval",
    }
    gateway = blueprint.inputs["gateway"]["selector"]["device"]
    # As Home Assistant normalises it: lists of domains and device classes.
    assert gateway["entity"] == [
        {
            "integration": "solar_gateway",
            "domain": ["switch"],
            "device_class": ["switch"],
        }
    ]
    inputs = BlueprintInputs(
        blueprint,
        {"use_blueprint": {"path": "x", "input": {"price_sensor": PRICE}}},
    )
    with pytest.raises(MissingInput, match="gateway"):
        inputs.validate()


def admitted(
    hass: HomeAssistant, selector: dict[str, Any], devices: list[dr.DeviceEntry]
) -> set[str]:
    """The devices the frontend lists for a device selector with an entity filter."""
    registry = er.async_get(hass)
    wanted = selector["entity"]
    chosen: set[str] = set()
    for device in devices:
        for entity in er.async_entries_for_device(registry, device.id):
            current = hass.states.get(entity.entity_id)
            device_class = current.attributes.get("device_class") if current else None
            if any(
                entity.platform == rule["integration"]
                and entity.domain in rule["domain"]
                and device_class in rule["device_class"]
                for rule in wanted
            ):
                chosen.add(device.id)
    return chosen


@pytest.mark.parametrize("user", ["installer", "owner"])
async def test_the_selector_lists_only_gateways_with_the_controls(
    hass: HomeAssistant, user: str
) -> None:
    """Of every device of a site, only the gateway holding the export limit or the
    production switch is listed; none with an owner token (it has neither)."""
    blueprint = Blueprint(
        load_yaml_dict(str(BLUEPRINT)),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    selector = blueprint.inputs["gateway"]["selector"]["device"]
    async with site(hass, user) as (entry, _):
        devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        assert len(devices) > 5  # controller, relays, generator, inverters...
        expected = {gateway_device(hass, entry)} if user == "installer" else set()
        assert admitted(hass, selector, devices) == expected


async def test_negative_price_limits_export_to_zero_then_lifts_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Where the export limit exists: 0 W at a negative price, off again once the
    price has risen (next interval); nothing else is written."""
    freezer.move_to(START)
    async with site(hass) as (entry, gateway):
        await use_blueprint(hass, gateway_device(hass, entry))
        await price(hass, "-0.03")
        assert writes(gateway) == [Sent("POST", DPEL, ZERO_EXPORT)]
        assert (state(hass, LIMIT), state(hass, LIMIT_POWER)) == ("on", "0.0")
        assert state(hass, PRODUCTION) == "on"  # the house keeps its solar
        await price(hass, "0.30")  # same interval: nothing yet
        assert len(writes(gateway)) == 1
        freezer.move_to(START + timedelta(hours=1))
        await price(hass, "0.05")
        assert writes(gateway)[1:] == [
            Sent("POST", DPEL, {"dynamic_pel_settings": {"enable": False}, **ENVELOPE})
        ]
        assert state(hass, LIMIT) == "off"


async def test_between_thresholds_or_unknown_nothing_happens(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A price inside the band, unavailable or not a number: no write."""
    freezer.move_to(START)
    async with site(hass) as (entry, gateway):
        await use_blueprint(hass, gateway_device(hass, entry))
        for value in ("0.01", STATE_UNAVAILABLE, "n/a"):
            await price(hass, value)
        assert writes(gateway) == []


async def test_without_an_export_limit_it_stops_production(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A gateway that does not offer the export limit: the production switch."""
    freezer.move_to(START)
    absent = Fault.from_json(
        {"name": "answer", "method": "GET", "path": DPEL, "status": 404}
    )
    async with site(hass, "installer", absent) as (entry, gateway):
        assert hass.states.get(LIMIT) is None
        await use_blueprint(hass, gateway_device(hass, entry))
        await price(hass, "-0.03")
        assert writes(gateway) == [
            Sent("PUT", "/ivp/mod/603980032/mode/power", {"length": 1, "arr": [1]})
        ]
        assert state(hass, PRODUCTION) == "off"
        freezer.move_to(START + timedelta(hours=1))
        await price(hass, "0.05")
        assert writes(gateway)[1:] == [
            Sent("PUT", "/ivp/mod/603980032/mode/power", {"length": 1, "arr": [0]})
        ]


@pytest.mark.parametrize(
    "wrong",
    [
        "switch.envoy_004444_system_controller_grid_connection",
        "select.envoy_004444_generator_mode",
    ],
)
async def test_a_wrong_device_is_never_touched(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    wrong: str,
) -> None:
    """Given another device's id (as YAML allows), the blueprint finds no control of
    its own there and writes nothing: the grid connection stays closed."""
    freezer.move_to(START)
    async with site(hass) as (_, gateway):
        await use_blueprint(hass, device_of(hass, wrong))
        with caplog.at_level(logging.WARNING):
            await price(hass, "-0.03")
        assert writes(gateway) == []
        assert state(hass, wrong) == "on"


async def test_an_owner_token_gateway_is_left_alone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Neither control with an owner token: nothing to act on, nothing written."""
    freezer.move_to(START)
    async with site(hass, "owner") as (entry, gateway):
        await use_blueprint(hass, gateway_device(hass, entry))
        await price(hass, "-0.03")
        assert writes(gateway) == []
