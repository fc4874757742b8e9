"""Firmware behaviours seen on real gateways, each from a scenario that reproduces it."""

import aiohttp

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.site import (
    DeviceKind,
    Quantity,
    SiteSnapshot,
)
from tests.gateway.conftest import Simulate

from .helpers import envoy_client


async def _snapshot(
    simulate: Simulate, session: aiohttp.ClientSession, scenario: str
) -> SiteSnapshot:
    client = envoy_client(session, await simulate(f"envoy/{scenario}"))
    await client.setup()
    return await client.refresh(frozenset(DataGroup))


async def test_metered_without_ct_takes_solar_from_inverters(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """8.2.4264+ metered, no CT: /api/v1/production is stale (4 W, 1.6 kWh)."""
    snapshot = await _snapshot(simulate, session, "metered_no_ct")
    assert snapshot.figures.solar_power == 5500.0
    assert snapshot.figures.solar_energy == 32046000.0
    assert snapshot.of_kind(DeviceKind.METER) == []


async def test_disabled_cts_take_solar_from_inverters(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """7.3.x, CTs disabled: /api/v1/production has power but every counter 0."""
    snapshot = await _snapshot(simulate, session, "ct_disabled")
    assert snapshot.figures.solar_power == 2400.0
    assert snapshot.figures.solar_energy == 9876543.0
    assert snapshot.figures.grid_power is None


async def test_inverters_from_device_data_without_inverter_list(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """8.3 without /api/v1/production/inverters: active pcu records are inverters."""
    snapshot = await _snapshot(simulate, session, "device_data_only")
    inverters = snapshot.of_kind(DeviceKind.INVERTER)
    # 20 microinverters in the device data, one of them no longer active.
    assert len(inverters) == 19
    assert "122400000001" not in {i.serial for i in inverters}
    first = snapshot.device("122400000002")
    assert first is not None
    assert first.get(Quantity.POWER) == 121.0
    assert first.get(Quantity.LIFETIME_ENERGY) is not None


async def test_ac_batteries_are_batteries_not_inverters(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """ACBs listed among the inverters (devType 11) are one battery each, no solar."""
    snapshot = await _snapshot(simulate, session, "acb")
    inverters = {d.serial for d in snapshot.of_kind(DeviceKind.INVERTER)}
    batteries = [d.serial for d in snapshot.of_kind(DeviceKind.BATTERY)]
    assert batteries == ["121638000001", "121638000002"]
    assert not inverters & set(batteries)
    assert len(inverters) == 4
    assert snapshot.figures.solar_power == 800.0  # the 4 microinverters only


async def test_running_generator_has_its_relay_closed(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """The generator's oper_state is "close" when it runs (not "closed")."""
    snapshot = await _snapshot(simulate, session, "generator_running")
    [generator] = snapshot.of_kind(DeviceKind.GENERATOR)
    assert generator.get(Quantity.RELAY_CLOSED) is True


async def test_phantom_generator_is_no_device(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """type 0 with admin_state "unknown": no generator is wired."""
    snapshot = await _snapshot(simulate, session, "metered_battery")
    assert snapshot.of_kind(DeviceKind.GENERATOR) == []


async def test_islanded_collar_is_off_grid(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Collar without controller: admin_state_str says off grid, grid_state does not."""
    snapshot = await _snapshot(simulate, session, "collar_off_grid")
    assert snapshot.figures.grid_connected is False
    # Shown once, as the site's grid connection, not again on the collar.
    [collar] = snapshot.of_kind(DeviceKind.COLLAR)
    assert collar.get(Quantity.GRID_CONNECTED) is None
    on_grid = await _snapshot(simulate, session, "collar")
    assert on_grid.figures.grid_connected is True


async def test_every_ct_type_is_a_meter_and_pv3p_is_solar(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """backfeed, load, evse and pv3p CTs are meters; third-party PV adds to solar."""
    snapshot = await _snapshot(simulate, session, "collar")
    names = {d.name for d in snapshot.of_kind(DeviceKind.METER)}
    assert {"Backfeed CT", "Load CT", "EV charger CT", "Third-party PV CT"} <= names
    production = snapshot.device("202500000654_ct_production")
    pv3p = snapshot.device("202500000654_ct_pv3p")
    assert production is not None
    assert pv3p is not None
    assert pv3p.get(Quantity.POWER) == 1200.0
    assert (
        snapshot.figures.solar_power == (production.get(Quantity.POWER) or 0) + 1200.0
    )
    assert snapshot.figures.solar_energy == (
        (production.get(Quantity.ENERGY_DELIVERED) or 0) + 15400.25
    )
    # Grid and battery still come from their own CTs.
    net = snapshot.device("202500000654_ct_net-consumption")
    assert net is not None
    assert snapshot.figures.grid_power == net.get(Quantity.POWER)


async def test_each_inverter_from_its_newer_report(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Power and report time come together from whichever source reported last."""
    snapshot = await _snapshot(simulate, session, "metered_no_ct")
    newer_detail = snapshot.device("122300000001")
    older_detail = snapshot.device("122300000003")
    assert newer_detail is not None
    assert older_detail is not None
    assert newer_detail.get(Quantity.POWER) == 371.0  # device data, 15 min newer
    assert older_detail.get(Quantity.POWER) == 343.0  # the list, 10 min newer
    assert newer_detail.data_time is not None
    assert older_detail.data_time is not None
    assert newer_detail.data_time.timestamp() == 1750506917
    assert older_detail.data_time.timestamp() == 1750506951
