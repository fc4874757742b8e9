"""The config flow against simulated gateways: each way of signing in, end to end.

Nothing in the flow is replaced: the host is identified, the credentials are tried
and the gateway read by the real clients, against the simulator (which also answers
the Enphase cloud's login and token paths). Only setting the entry up afterwards is
left out: the flow's own check of the gateway is what is tested here.
"""

import base64
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
import functools
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.solar_gateway.const import (
    CONF_AUTH_METHOD,
    CONF_BRAND,
    CONF_IDENTIFIED,
    CONF_TOKEN,
    DOMAIN,
)
from custom_components.solar_gateway.gateway.envoy import EnvoyClient
from simulator.clock import ManualClock
from simulator.server import Received, SimulatedGateway
from tests.conftest import make_token

from .simulated import FIXTURES, NOON, OPTIONS

pytestmark = pytest.mark.usefixtures("socket_enabled")

CENTURY = 100 * 365 * 86400  # the client judges expiry by the real clock


@dataclass(frozen=True)
class SignIn:
    """One way of adding a gateway: the forms the user fills and what follows."""

    scenario: str
    https: bool  # the address the user types is the gateway's HTTPS one
    steps: tuple[str, ...]  # the step ids shown after the address
    menu: str | None  # the menu choice, where there is a menu
    # What the user enters at the last step (the simulated gateway at hand).
    credentials: Callable[[SimulatedGateway], dict[str, str]]
    # Credentials the gateway refuses, and the error the form shows.
    refused: Callable[[SimulatedGateway], dict[str, str]] | None
    stored: tuple[str, ...]  # the entry's data keys besides host, brand, identified
    # The request that proves the credentials reached the gateway.
    proof: Callable[[SimulatedGateway, dict[str, str]], list[Received]]
    cloud: bool = False  # the Enphase cloud hands out the token


def _bearer(gw: SimulatedGateway, token: str) -> list[Received]:
    return [
        r
        for r in gw.requests
        if r.headers.get("Authorization") == f"Bearer {token}"
        and r.path.startswith("/ivp/")
    ]


def _digest(gw: SimulatedGateway, user: str) -> list[Received]:
    return [
        r
        for r in gw.requests
        if r.headers.get("Authorization", "").startswith("Digest ")
        and f'username="{user}"' in r.headers["Authorization"]
    ]


def _owner_login(gw: SimulatedGateway, password: str) -> list[Received]:
    basic = base64.b64encode(f"ssm_owner:{password}".encode()).decode()
    return [
        r
        for r in gw.received("GET", "/auth?login")
        if r.headers.get("Authorization", "").lower() == f"basic {basic}".lower()
    ]


def _cloud_token(gw: SimulatedGateway, _: dict[str, str]) -> list[Received]:
    token = gw.received("POST", "/tokens")
    return token and _bearer(gw, CLOUD_TOKENS[gw.identity.serial])


CLOUD_TOKENS: dict[str, str] = {}

SIGN_INS = {
    "envoy_account": SignIn(
        scenario="envoy/metered_battery",
        https=True,
        steps=("envoy_auth", "enlighten"),
        menu="enlighten",
        credentials=lambda gw: {
            CONF_USERNAME: "owner@example.com",
            CONF_PASSWORD: "secret",
        },
        refused=None,
        stored=(CONF_AUTH_METHOD, CONF_USERNAME, CONF_PASSWORD),
        proof=_cloud_token,
        cloud=True,
    ),
    "envoy_token": SignIn(
        scenario="envoy/metered_battery",
        https=True,
        steps=("envoy_auth", "token"),
        menu="token",
        credentials=lambda gw: {
            CONF_TOKEN: gw.issue_token(user="owner", lifetime=CENTURY)
        },
        # Well formed and unexpired, but not issued for this gateway.
        refused=lambda gw: {CONF_TOKEN: make_token()},
        stored=(CONF_AUTH_METHOD, CONF_TOKEN),
        proof=lambda gw, entered: _bearer(gw, entered[CONF_TOKEN]),
    ),
    "envoy_local": SignIn(
        scenario="envoy/legacy_production",
        https=False,
        steps=("local",),
        menu=None,
        credentials=lambda gw: {},
        refused=None,
        stored=(CONF_AUTH_METHOD, CONF_USERNAME, CONF_PASSWORD),
        proof=lambda gw, _: _digest(gw, "envoy"),
    ),
    "pvs_password": SignIn(
        scenario="pvs/varserver",
        https=False,
        steps=("pvs_password",),
        menu=None,
        credentials=lambda gw: {CONF_PASSWORD: gw.identity.serial[-5:]},
        refused=lambda gw: {CONF_PASSWORD: "WRONG"},
        stored=(CONF_PASSWORD,),
        proof=lambda gw, entered: _owner_login(gw, entered[CONF_PASSWORD]),
    ),
    "pvs_legacy": SignIn(
        scenario="pvs/legacy_basic",
        https=False,
        steps=("pvs_legacy",),
        menu=None,
        credentials=lambda gw: {},
        refused=None,
        stored=(),
        # Its supervisor answers (the device list can take minutes: not asked here).
        proof=lambda gw, _: gw.received("GET", "/cgi-bin/dl_cgi/supervisor/info"),
    ),
}


@asynccontextmanager
async def serving(sign_in: SignIn) -> AsyncIterator[SimulatedGateway]:
    """The simulated gateway; for a cloud sign-in, the cloud's paths on it too."""
    async with SimulatedGateway.start(
        FIXTURES / sign_in.scenario, clock=ManualClock(NOON), options=OPTIONS
    ) as gw:
        if sign_in.cloud:
            token = gw.issue_token(user="owner", lifetime=CENTURY)
            CLOUD_TOKENS[gw.identity.serial] = token
            gw.answer(
                "POST",
                "/login/login.json",
                200,
                {"message": "success", "session_id": "s3ss", "is_consumer": True},
            )
            gw.answer("POST", "/tokens", 200, token)
        yield gw


@contextmanager
def cloud_at(gw: SimulatedGateway) -> Iterator[None]:
    """Envoy clients ask the simulated gateway for what the Enphase cloud answers."""
    client = functools.partial(EnvoyClient, enlighten_url=gw.url, entrez_url=gw.url)
    with (
        patch("custom_components.solar_gateway.gateway.identify.EnvoyClient", client),
        patch("custom_components.solar_gateway.async_setup_entry", return_value=True),
    ):
        yield


async def configure(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> Any:
    """Submit a form of the flow."""
    return await hass.config_entries.flow.async_configure(flow_id, data)


@pytest.mark.parametrize("name", list(SIGN_INS))
async def test_sign_in_against_the_gateway(hass: HomeAssistant, name: str) -> None:
    """The address, then only what this gateway needs: refused credentials show an
    error and nothing is saved; good ones reach the gateway and make the entry."""
    sign_in = SIGN_INS[name]
    async with serving(sign_in) as gw:
        url = gw.https_url if sign_in.https else gw.url
        assert url is not None
        host = url.split("://", 1)[1]
        with cloud_at(gw):
            result = await hass.config_entries.flow.async_init(
                DOMAIN, context={"source": SOURCE_USER}
            )
            result = await configure(hass, result["flow_id"], {CONF_HOST: host})
            shown = [result["step_id"]]
            if sign_in.menu is not None:
                assert result["type"] is FlowResultType.MENU
                result = await configure(
                    hass, result["flow_id"], {"next_step_id": sign_in.menu}
                )
                shown.append(result["step_id"])
            assert tuple(shown) == sign_in.steps
            assert result["type"] is FlowResultType.FORM
            if sign_in.refused is not None:
                result = await configure(hass, result["flow_id"], sign_in.refused(gw))
                assert result["type"] is FlowResultType.FORM
                assert result["errors"] == {"base": "invalid_auth"}
                assert not hass.config_entries.async_entries(DOMAIN)
            entered = sign_in.credentials(gw)
            result = await configure(hass, result["flow_id"], entered)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    entry = result["result"]
    assert entry.unique_id == gw.identity.serial
    assert set(entry.data) == {CONF_HOST, CONF_BRAND, CONF_IDENTIFIED, *sign_in.stored}
    assert entry.data[CONF_HOST] == host
    for key, value in entered.items():
        assert entry.data[key] == value
    assert sign_in.proof(gw, entered), [(r.method, r.path) for r in gw.requests]
