"""Polling load on real clients and simulated gateways: the product's request figures."""

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from simulator.clock import ManualClock

from .simulated import NOON, simulated_entry

# Let the integration reach the simulator on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


async def run_for(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    clock: ManualClock,
    duration: timedelta,
    step: timedelta = timedelta(seconds=5),
) -> None:
    """Move Home Assistant's time and the simulated gateway's together."""
    for _ in range(int(duration / step)):
        clock.advance(step.total_seconds())
        freezer.tick(step)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def test_legacy_pvs_device_list_once_per_data_interval(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A legacy PVS is asked for its DeviceList once per 5-minute data interval."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    async with simulated_entry(hass, "pvs/legacy_basic", clock) as (entry, _):
        stats = entry.runtime_data.client.transport.stats
        before = stats.by_path["/cgi-bin/dl_cgi"]
        # 55 minutes: the hourly settings read does not fall inside.
        await run_for(hass, freezer, clock, timedelta(minutes=55))
        device_lists = stats.by_path["/cgi-bin/dl_cgi"] - before
    assert 10 <= device_lists <= 11, device_lists


async def test_metered_envoy_power_every_15_seconds(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A metered Envoy with batteries: CT readings every 15 s, within a request budget."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    async with simulated_entry(hass, "envoy/metered_battery", clock) as (entry, _):
        stats = entry.runtime_data.client.transport.stats
        before_readings = stats.by_path["/ivp/meters/readings"]
        before_all = stats.requests
        await run_for(hass, freezer, clock, timedelta(minutes=10))
        readings = stats.by_path["/ivp/meters/readings"] - before_readings
        per_hour = (stats.requests - before_all) * 6
    assert 39 <= readings <= 41, readings  # 600 s / 15 s
    # Every request earns its place: a few endpoints per live poll, not dozens.
    assert per_hour <= 1500, per_hour
