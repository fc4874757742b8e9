"""Identify once: a start begins from what setup learned, and probes only on failure."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solar_gateway.const import CONF_IDENTIFIED, DOMAIN
from custom_components.solar_gateway.gateway.envoy import client as envoy_client
from custom_components.solar_gateway.gateway.pvs import client as pvs_client
from custom_components.solar_gateway.migration import CURRENT_MINOR_VERSION
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway

from .simulated import FIXTURES, NOON, OPTIONS, entry_data

PROBES = {
    "envoy/metered_battery": envoy_client,
    "pvs/varserver": pvs_client,
    "pvs/legacy_basic": pvs_client,
}


# Let the integration reach the simulator on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


@asynccontextmanager
async def counted_probes(scenario: str) -> AsyncIterator[list[str]]:
    """Record every probe the client of ``scenario`` sends (one entry per probe)."""
    module = PROBES[scenario]
    original = module.probe
    probes: list[str] = []

    async def counted(*args: Any, **kwargs: Any) -> Any:
        probes.append(scenario)
        return await original(*args, **kwargs)

    with patch.object(module, "probe", counted):
        yield probes


async def start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up (added already) and wait for it."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload and set up the entry again, as a Home Assistant restart does."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await start(hass, entry)


@pytest.mark.parametrize("scenario", sorted(PROBES))
async def test_an_old_entry_is_probed_once_then_started_from_what_it_learned(
    hass: HomeAssistant, scenario: str
) -> None:
    """A 1.1 entry is migrated, probes at its first start and never again after."""
    async with (
        SimulatedGateway.start(
            FIXTURES / scenario, clock=ManualClock(NOON), options=OPTIONS
        ) as gateway,
        counted_probes(scenario) as probes,
    ):
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=gateway.identity.serial,
            data=entry_data(gateway),
            version=1,
            minor_version=1,
        )
        entry.add_to_hass(hass)
        await start(hass, entry)
        assert (entry.version, entry.minor_version) == (1, CURRENT_MINOR_VERSION)
        learned = entry.data[CONF_IDENTIFIED]
        assert learned["serial"] == gateway.identity.serial
        assert learned["url"].startswith(("http://127.0.0.1:", "https://127.0.0.1:"))
        assert probes == [scenario]

        await restart(hass, entry)
        assert probes == [scenario]  # no second probe
        assert entry.data[CONF_IDENTIFIED] == learned
        await hass.config_entries.async_unload(entry.entry_id)


async def test_a_gateway_gone_from_where_it_was_is_probed_again(
    hass: HomeAssistant,
) -> None:
    """The stored URL no longer answers (a port changed): probe, load, store anew."""
    scenario = "envoy/metered_battery"
    async with (
        SimulatedGateway.start(
            FIXTURES / scenario, clock=ManualClock(NOON), options=OPTIONS
        ) as gateway,
        counted_probes(scenario) as probes,
    ):
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id=gateway.identity.serial, data=entry_data(gateway)
        )
        entry.add_to_hass(hass)
        await start(hass, entry)
        learned = entry.data[CONF_IDENTIFIED]
        # Nothing listens on port 9 of the loopback address.
        stale = {**learned, "url": "https://127.0.0.1:9"}
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_IDENTIFIED: stale}
        )

        await restart(hass, entry)
        assert probes == [scenario, scenario]
        assert entry.data[CONF_IDENTIFIED] == learned
        await hass.config_entries.async_unload(entry.entry_id)


async def test_what_was_learned_for_another_host_is_not_used(
    hass: HomeAssistant,
) -> None:
    """After the host changed, the old URL might reach another device: probe."""
    scenario = "pvs/legacy_basic"
    async with (
        SimulatedGateway.start(
            FIXTURES / scenario, clock=ManualClock(NOON), options=OPTIONS
        ) as gateway,
        counted_probes(scenario) as probes,
    ):
        data = entry_data(gateway)
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=gateway.identity.serial,
            data={
                **data,
                CONF_IDENTIFIED: {
                    "serial": gateway.identity.serial,
                    "model": "PVS6",
                    "firmware": "x",
                    "api": "pvs_legacy",
                    "metered": None,
                    "access": "open",
                    "url": "http://192.0.2.99",
                },
            },
        )
        entry.add_to_hass(hass)
        await start(hass, entry)
        assert probes == [scenario]
        assert entry.data[CONF_IDENTIFIED]["url"] != "http://192.0.2.99"
        await hass.config_entries.async_unload(entry.entry_id)


_LEGACY_LEARNED = {
    "serial": "x",
    "model": None,
    "firmware": "x",
    "api": "pvs_legacy",
    "metered": None,
    "access": "open",
}


@pytest.mark.parametrize(
    "stored",
    [
        {"serial": "x"},
        {"serial": "x", "api": "a", "access": "?", "url": "u"},
        # URLs read like any address the user types: none of these is one.
        {**_LEGACY_LEARNED, "url": "ftp://127.0.0.1"},
        {**_LEGACY_LEARNED, "url": "http://127.0.0.1:99999"},
        {**_LEGACY_LEARNED, "url": "127.0.0.1"},  # no scheme: not where it answered
    ],
)
async def test_unusable_learned_data_is_probed_afresh(
    hass: HomeAssistant, stored: dict[str, str]
) -> None:
    """Stored data that is incomplete or unknown is not trusted: probe, then store."""
    scenario = "pvs/legacy_basic"
    async with (
        SimulatedGateway.start(
            FIXTURES / scenario, clock=ManualClock(NOON), options=OPTIONS
        ) as gateway,
        counted_probes(scenario) as probes,
    ):
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=gateway.identity.serial,
            data={**entry_data(gateway), CONF_IDENTIFIED: stored},
        )
        entry.add_to_hass(hass)
        await start(hass, entry)
        assert probes == [scenario]
        assert entry.data[CONF_IDENTIFIED]["serial"] == gateway.identity.serial
        await hass.config_entries.async_unload(entry.entry_id)


async def test_an_entry_from_a_newer_version_is_left_alone(
    hass: HomeAssistant,
) -> None:
    """A downgrade does not touch an entry written by a later major version."""
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="x", data={"host": "h", "brand": "enphase"}, version=2
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR


@pytest.mark.parametrize("brand", ["enphase", "sunpower"])
@pytest.mark.parametrize("stored", [True, False])
async def test_a_stored_host_that_is_no_address_fails_setup_clearly(
    hass: HomeAssistant, brand: str, stored: bool
) -> None:
    """An entry whose host is no address (edited storage) fails its setup once, with
    a translated reason, instead of retrying forever or raising from the client."""
    learned = {**_LEGACY_LEARNED, "url": "http://127.0.0.1"}
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="x",
        data={
            "host": "127.0.0.1\x00",
            "brand": brand,
            **({CONF_IDENTIFIED: learned} if stored else {}),
        },
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "invalid_host"
