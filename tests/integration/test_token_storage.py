"""A token fetched from the Enphase account is kept, so a restart needs no cloud login."""

from functools import partial
from unittest.mock import patch

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solar_gateway.const import (
    AUTH_ENLIGHTEN,
    CONF_AUTH_METHOD,
    CONF_BRAND,
    CONF_IDENTIFIED,
    CONF_TOKEN,
    DOMAIN,
)
from custom_components.solar_gateway.gateway.envoy.client import EnvoyClient
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway

from .simulated import FIXTURES, NOON, OPTIONS

# Let the integration reach the simulator and the fake cloud on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_token_from_the_account_is_stored_and_reused(hass: HomeAssistant) -> None:
    """First start: one cloud login, token stored. Second start: no cloud login."""
    logins: list[str] = []
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        token = gateway.issue_token(lifetime=100 * 365 * 86400)

        async def login(request: web.Request) -> web.Response:
            form = await request.post()
            logins.append(str(form["user[email]"]))
            return web.json_response({"session_id": "s1"})

        async def tokens(request: web.Request) -> web.Response:
            return web.Response(text=token)

        cloud = web.Application()
        cloud.router.add_post("/login/login.json", login)
        cloud.router.add_post("/tokens", tokens)
        async with TestServer(cloud, host="127.0.0.1") as server:
            cloud_url = f"http://127.0.0.1:{server.port}"
            assert gateway.https_url is not None
            entry = MockConfigEntry(
                domain=DOMAIN,
                unique_id=gateway.identity.serial,
                data={
                    CONF_HOST: gateway.https_url.removeprefix("https://"),
                    CONF_BRAND: "enphase",
                    CONF_AUTH_METHOD: AUTH_ENLIGHTEN,
                    CONF_USERNAME: "owner@example.com",
                    CONF_PASSWORD: "secret",
                },
            )
            entry.add_to_hass(hass)
            with patch(
                "custom_components.solar_gateway.gateway.identify.EnvoyClient",
                partial(EnvoyClient, enlighten_url=cloud_url, entrez_url=cloud_url),
            ):
                assert await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done()
                assert entry.state is ConfigEntryState.LOADED
                assert logins == ["owner@example.com"]
                assert entry.data[CONF_TOKEN] == token

                assert await hass.config_entries.async_reload(entry.entry_id)
                await hass.async_block_till_done()
                assert entry.state is ConfigEntryState.LOADED
                assert logins == ["owner@example.com"]  # no second cloud login
            await hass.config_entries.async_unload(entry.entry_id)


async def test_pasted_token_is_left_as_given(hass: HomeAssistant) -> None:
    """A pasted token is the user's: the entry is not rewritten."""
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        token = gateway.issue_token(lifetime=100 * 365 * 86400)
        assert gateway.https_url is not None
        data = {
            CONF_HOST: gateway.https_url.removeprefix("https://"),
            CONF_BRAND: "enphase",
            CONF_AUTH_METHOD: "token",
            CONF_TOKEN: token,
        }
        entry = MockConfigEntry(domain=DOMAIN, unique_id="x", data=data)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        # Only what setup learned about the host is added; the token stays as given.
        assert {k: v for k, v in entry.data.items() if k != CONF_IDENTIFIED} == data
        await hass.config_entries.async_unload(entry.entry_id)
