"""Home Assistant's own Energy dashboard validation accepts our entities, per scenario."""

from typing import Any

from homeassistant.components.energy import data as energy_data
from homeassistant.components.energy.validate import async_validate
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
    get_start_time,
)

from custom_components.solar_gateway.const import DOMAIN

from .simulated import SCENARIOS, simulated_entry

# Sites whose gateway counts battery energy: IQ Batteries behind a storage CT and a
# SunVault (its ESS meter's lifetime counters), on the dashboard alike.
BATTERY_ENERGY_SCENARIOS = frozenset({"envoy/metered_battery", "pvs/varserver"})

# Let the integration reach the simulator on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: object, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant, for statistics validation."""


def _site_entity(hass: HomeAssistant, serial: str, key: str) -> str | None:
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{serial}_{key}")


def _sources(hass: HomeAssistant, serial: str) -> list[dict[str, Any]]:
    """The Energy dashboard sources a user would pick from our entities."""
    sources: list[dict[str, Any]] = []
    solar = _site_entity(hass, serial, "solar_energy")
    assert solar is not None, "every scenario produces solar"
    sources.append(
        {
            "type": "solar",
            "stat_energy_from": solar,
            "config_entry_solar_forecast": None,
        }
    )
    imported = _site_entity(hass, serial, "grid_import_energy")
    exported = _site_entity(hass, serial, "grid_export_energy")
    if imported is not None and exported is not None:
        grid: dict[str, Any] = {
            "type": "grid",
            "stat_energy_from": imported,
            "stat_energy_to": exported,
            "stat_cost": None,
            "entity_energy_price": None,
            "number_energy_price": None,
            "stat_compensation": None,
            "entity_energy_price_export": None,
            "number_energy_price_export": None,
            "cost_adjustment_day": 0.0,
        }
        if (power := _site_entity(hass, serial, "grid_power")) is not None:
            grid["stat_rate"] = power
        sources.append(grid)
    charged = _site_entity(hass, serial, "battery_charged_energy")
    discharged = _site_entity(hass, serial, "battery_discharged_energy")
    if charged is not None and discharged is not None:
        battery: dict[str, Any] = {
            "type": "battery",
            "stat_energy_from": discharged,
            "stat_energy_to": charged,
        }
        if (power := _site_entity(hass, serial, "battery_power")) is not None:
            battery["stat_rate"] = power
        if (soc := _site_entity(hass, serial, "battery_state_of_charge")) is not None:
            battery["stat_soc"] = soc
        sources.append(battery)
    return sources


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_energy_dashboard_accepts_site_entities(
    hass: HomeAssistant, scenario: str
) -> None:
    """Solar, grid and battery entities pass the dashboard's validation unchanged."""
    assert await async_setup_component(hass, "energy", {})
    async with simulated_entry(hass, scenario) as (entry, _):
        serial = entry.unique_id
        assert serial is not None
        # Let the recorder compile statistics from the states, as it does every 5 min.
        await async_wait_recording_done(hass)
        do_adhoc_statistics(hass, start=get_start_time(dt_util.utcnow()))
        await async_wait_recording_done(hass)
        sources = _sources(hass, serial)
        manager = await energy_data.async_get_manager(hass)
        await manager.async_update(
            {"energy_sources": sources, "device_consumption": []}  # type: ignore[typeddict-item]
        )
        await hass.async_block_till_done()
        result = (await async_validate(hass)).as_dict()
        assert result["energy_sources"] == [[] for _ in sources]
        if scenario in BATTERY_ENERGY_SCENARIOS:
            assert "battery" in [source["type"] for source in sources]
