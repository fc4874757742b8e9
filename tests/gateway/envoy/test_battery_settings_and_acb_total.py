"""What Home Assistant's own Envoy integration shows of the batteries, shown here too:
the very low level setting, and the AC Batteries' own total on sites that also have
IQ Batteries."""

import json
from pathlib import Path

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy import EnvoyClient
from custom_components.solar_gateway.gateway.envoy.site_mapping import acb_total_serial
from custom_components.solar_gateway.gateway.site import Quantity
from tests.gateway.conftest import Simulate

from .helpers import ENVOY_FIXTURES, envoy_client

ALL = frozenset(DataGroup)
WITH_TARIFF = sorted(p.parent.name for p in ENVOY_FIXTURES.glob("*/admin_lib_tariff"))


async def _client(
    simulate: Simulate, session: aiohttp.ClientSession, scenario: str
) -> EnvoyClient:
    client = envoy_client(session, await simulate(f"envoy/{scenario}"))
    await client.setup()
    return client


def _has_batteries(folder: Path) -> bool:
    """Batteries in the raw files: IQ Batteries in the ensemble, or AC Batteries."""
    inventory = folder / "ivp_ensemble_inventory"
    sections = json.loads(inventory.read_text()) if inventory.is_file() else []
    if any(s.get("type") == "ENCHARGE" and s.get("devices") for s in sections):
        return True
    acbs = folder / "inventory.json_deleted_1"
    groups = json.loads(acbs.read_text()) if acbs.is_file() else []
    return any(g.get("type") == "ACB" and g.get("devices") for g in groups)


@pytest.mark.parametrize("scenario", WITH_TARIFF)
async def test_very_low_level_on_every_battery_site_with_a_tariff(
    simulate: Simulate, session: aiohttp.ClientSession, scenario: str
) -> None:
    """``storage_settings.very_low_soc`` of the tariff, on battery sites only."""
    folder = ENVOY_FIXTURES / scenario
    tariff = json.loads((folder / "admin_lib_tariff").read_text())
    client = await _client(simulate, session, scenario)
    figures = (await client.first_refresh()).figures
    if _has_batteries(folder):
        expected = tariff["tariff"]["storage_settings"]["very_low_soc"]
        assert figures.battery_very_low_soc == float(expected)
    else:
        assert figures.battery_very_low_soc is None


async def test_ac_batteries_total_beside_the_site_figures(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """IQ and AC Batteries: the AC Batteries' own charge and energy from the battery
    controller; their power and state only while production.json's total is live."""
    client = await _client(simulate, session, "acb_with_iq_battery")
    serial = acb_total_serial(client.identity.serial)
    stale = await client.first_refresh()
    total = stale.device(serial)
    assert total is not None
    assert total.name == "AC Batteries"
    assert total.get(Quantity.STATE_OF_CHARGE) == 25.0
    assert total.get(Quantity.AVAILABLE_ENERGY) == 625.0
    # Two days old: no power, no state, and none of it in the site's battery power.
    assert total.get(Quantity.POWER) is None
    assert total.get(Quantity.STATE) is None
    assert stale.figures.battery_power == 105.0

    live = await client.refresh(ALL)
    total = live.device(serial)
    assert total is not None
    assert total.get(Quantity.POWER) == 240.0
    assert total.get(Quantity.STATE) == "discharging"
    assert live.figures.battery_power == 105.0 + 240.0
    # The site's figures are both kinds together.
    assert live.figures.battery_state_of_charge == 39.0


async def test_no_ac_batteries_total_without_iq_batteries(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """On a site of AC Batteries alone, the site's battery figures are theirs."""
    client = await _client(simulate, session, "acb")
    snapshot = await client.first_refresh()
    assert snapshot.device(acb_total_serial(client.identity.serial)) is None
