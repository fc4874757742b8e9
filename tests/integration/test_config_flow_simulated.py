"""The config flow against simulated Envoys: attempts left half-done, tokens the
gateway cannot use, and Enphase's servers out of reach.

Each flow runs as a user's browser drives it, against a simulated gateway that logs
every request it receives.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from ipaddress import ip_address
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest

from custom_components.solar_gateway.const import CONF_TOKEN, DOMAIN
from custom_components.solar_gateway.gateway.envoy.client import EnvoyClient
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway

from .simulated import FIXTURES, NOON, OPTIONS, entry_data

pytestmark = pytest.mark.usefixtures("socket_enabled")
# The simulated clock is pinned in the past; the flow judges expiry by the real one.
LONG = 100 * 365 * 86400


@asynccontextmanager
async def envoy(
    scenario: str = "envoy/metered_battery",
) -> AsyncIterator[SimulatedGateway]:
    """A simulated firmware 8 Envoy."""
    async with SimulatedGateway.start(
        FIXTURES / scenario, clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        yield gateway


@pytest.fixture(autouse=True)
def no_setup() -> Any:
    """The flows are under test, not the entry they create."""
    with patch("custom_components.solar_gateway.async_setup_entry", return_value=True):
        yield


async def to_step(hass: HomeAssistant, host: str, step: str) -> dict[str, Any]:
    """Open the set-up as a user, give ``host`` and choose ``step`` in the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host}
    )
    assert result["type"] is FlowResultType.MENU, result
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["step_id"] == step
    return result


def flows(hass: HomeAssistant) -> list[str]:
    """The set-up flows in progress for the integration."""
    return [
        f["flow_id"] for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    ]


# --- A flow left half-done ------------------------------------------------------------


async def test_an_attempt_left_at_the_token_step_does_not_block_a_new_one(
    hass: HomeAssistant,
) -> None:
    """The browser closed at the token step: a new attempt starts at once, and
    replaces the old one; the entry is created from the new one."""
    async with envoy() as gateway:
        host = entry_data(gateway)[CONF_HOST]
        left = await to_step(hass, host, "token")
        assert flows(hass) == [left["flow_id"]]

        again = await to_step(hass, host, "token")
        assert again["type"] is FlowResultType.FORM
        assert flows(hass) == [again["flow_id"]]  # the half-done one is gone

        result = await hass.config_entries.flow.async_configure(
            again["flow_id"], {CONF_TOKEN: gateway.issue_token(lifetime=LONG)}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == gateway.identity.serial
        assert flows(hass) == []


async def test_a_discovered_gateway_stays_discovered_while_the_user_starts_again(
    hass: HomeAssistant,
) -> None:
    """A discovery half-done stays listed (it can be resumed); a user's own attempt
    is not refused for it, and the entry it creates ends the discovery."""
    async with envoy() as gateway:
        host = entry_data(gateway)[CONF_HOST]
        assert gateway.https_port is not None
        discovered = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": SOURCE_ZEROCONF},
            data=ZeroconfServiceInfo(
                ip_address=ip_address("127.0.0.1"),
                ip_addresses=[ip_address("127.0.0.1")],
                port=gateway.https_port,
                hostname="envoy.local.",
                type="_enphase-envoy._tcp.local.",
                name="envoy._enphase-envoy._tcp.local.",
                properties={"serialnum": gateway.identity.serial},
            ),
        )
        assert discovered["step_id"] == "zeroconf_confirm"
        menu = await hass.config_entries.flow.async_configure(discovered["flow_id"], {})
        assert menu["type"] is FlowResultType.MENU  # and the browser closed here
        mine = await to_step(hass, host, "token")
        assert set(flows(hass)) == {discovered["flow_id"], mine["flow_id"]}
        result = await hass.config_entries.flow.async_configure(
            mine["flow_id"], {CONF_TOKEN: gateway.issue_token(lifetime=LONG)}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert flows(hass) == []


# --- Tokens and Enphase's servers ----------------------------------------------------


async def test_a_token_for_another_gateway_says_so(hass: HomeAssistant) -> None:
    """A token issued for another serial: its own message naming this gateway's
    serial, and the gateway is not even asked to check it."""
    async with envoy() as gateway, envoy("envoy/generator_running") as other:
        assert other.identity.serial != gateway.identity.serial
        form = await to_step(hass, entry_data(gateway)[CONF_HOST], "token")
        assert form["description_placeholders"]["serial"] == gateway.identity.serial
        before = len(gateway.requests)
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {CONF_TOKEN: other.issue_token(lifetime=LONG)}
        )
        assert result["errors"] == {"base": "token_wrong_gateway"}
        assert [r.path for r in gateway.requests[before:] if "jwt" in r.path] == []
        assert not any("Authorization" in r.headers for r in gateway.requests[before:])


@pytest.mark.parametrize("cloud_down", ["offline", "503"])
async def test_enphase_servers_out_of_reach_have_their_own_message(
    hass: HomeAssistant, cloud_down: str
) -> None:
    """Enlighten unreachable (or answering 503) while fetching a token is not
    "could not connect to the gateway": the gateway answered, the cloud did not."""
    async with envoy() as gateway, envoy() as cloud:
        if cloud_down == "offline":
            await cloud.go_offline()
        else:
            cloud.answer("POST", "/login/login.json", 503, "Service Unavailable")
        defaults = {**(EnvoyClient.__init__.__kwdefaults__ or {})}
        defaults |= {"enlighten_url": cloud.url, "entrez_url": cloud.url}
        with patch.object(EnvoyClient.__init__, "__kwdefaults__", defaults):
            form = await to_step(hass, entry_data(gateway)[CONF_HOST], "enlighten")
            result = await hass.config_entries.flow.async_configure(
                form["flow_id"],
                {CONF_USERNAME: "owner@example.com", CONF_PASSWORD: "secret"},
            )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "cloud_cannot_connect"}
        assert gateway.received("GET", "/info")  # the gateway itself answered
