"""The export limit against a simulated Envoy, driven by service calls.

Each action's exact request is recorded at the transport; the entity's states are
followed from before the call to after the read-back, and the simulated site's
export shows what the gateway did with it.
"""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
import json
from typing import Any

from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    EVENT_STATE_CHANGED,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.solar_gateway.coordinator import SolarGatewayData
from simulator.clock import ManualClock
from simulator.envoy_settings import EXPORT_LIMIT_DELAY_S
from simulator.server import SimulatedGateway

from .simulated import FIXTURES, NOON, simulated_entry
from .test_controls import Sent, call, recording, state, writes

SITE = "envoy/generator_running"
SWITCH = "switch.envoy_004444_dynamic_export_limit"
POWER = "number.envoy_004444_dynamic_export_limit_power"
PRODUCTION = "switch.envoy_004444_solar_production"
DPEL = "/ivp/ss/dpel"
CAPTURED = json.loads((FIXTURES / SITE / "ivp_ss_dpel").read_text())
ENVELOPE = {"filename": "site_settings", "version": "00.00.01"}
OFF = {"dynamic_pel_settings": {"enable": False}, **ENVELOPE}

pytestmark = pytest.mark.usefixtures("socket_enabled")


def limited(watts: float) -> dict[str, object]:
    """The whole setting that limits export to ``watts``."""
    return {
        "dynamic_pel_settings": {
            "enable": True,
            "export_limit": True,
            "limit_value_W": watts,
            "slew_rate": 50.0,
            "enable_dynamic_limiting": False,
        },
        **ENVELOPE,
    }


@asynccontextmanager
async def site(
    hass: HomeAssistant, user: str = "installer"
) -> AsyncIterator[tuple[Any, SolarGatewayData, SimulatedGateway, ManualClock]]:
    """The metered generator site at noon, set up with ``user``'s token."""
    clock = ManualClock(NOON)
    async with simulated_entry(hass, SITE, clock, user=user) as (entry, gateway):
        yield entry, entry.runtime_data, gateway, clock


@contextmanager
def states_of(hass: HomeAssistant, entity_id: str) -> Iterator[list[str]]:
    """Every state ``entity_id`` takes while inside."""
    seen: list[str] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == entity_id and event.data["new_state"]:
            seen.append(event.data["new_state"].state)

    remove = hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
    try:
        yield seen
    finally:
        remove()


def gateway_setting(gateway: SimulatedGateway) -> Any:
    """The export limit setting the simulated Envoy holds now."""
    return gateway.personality.describe()["ivp_ss_dpel"]


async def test_offered_with_an_installer_token(hass: HomeAssistant) -> None:
    """Off, at the 0 W turning it on applies; a power number in W; both beside the
    production switch, the only switches with a device class."""
    async with site(hass):
        assert state(hass, SWITCH) == "off"
        assert state(hass, POWER) == "0.0"
        number = hass.states.get(POWER)
        assert number is not None
        assert number.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
        assert number.attributes[ATTR_DEVICE_CLASS] == "power"
        for entity_id in (SWITCH, PRODUCTION):
            switch = hass.states.get(entity_id)
            assert switch is not None
            assert switch.attributes[ATTR_DEVICE_CLASS] == "switch"


async def test_limit_to_zero_stops_export_and_off_restores_it(
    hass: HomeAssistant,
) -> None:
    """On: the whole setting at 0 W, read back, on; the site stops exporting within
    seconds and keeps its solar; off: ``enable: false``, read back, export again."""
    async with site(hass) as (_, hub, gateway, clock):
        assert gateway.figures().grid_w < -100
        with recording(hub) as sent, states_of(hass, SWITCH) as seen:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, SWITCH)
        assert writes(sent) == [Sent("POST", DPEL, limited(0.0))]
        assert [s.path for s in sent if s.method == "GET"].count(DPEL) == 1
        assert seen == ["on"]  # shown at once, kept once read back
        assert gateway_setting(gateway) == {**CAPTURED, **limited(0.0)}
        assert (state(hass, SWITCH), state(hass, POWER)) == ("on", "0.0")
        clock.advance(EXPORT_LIMIT_DELAY_S)
        figures = gateway.figures()
        assert figures.grid_w == pytest.approx(0.0, abs=1e-6)
        assert figures.solar_w > 0

        with recording(hub) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, SWITCH)
        assert writes(sent) == [Sent("POST", DPEL, OFF)]
        assert gateway_setting(gateway) == {**CAPTURED, **OFF}
        assert (state(hass, SWITCH), state(hass, POWER)) == ("off", "0.0")
        clock.advance(EXPORT_LIMIT_DELAY_S)
        assert gateway.figures().grid_w < -100


async def test_setting_a_power_turns_the_limit_on_at_it(hass: HomeAssistant) -> None:
    """A power in W: the limit on at that power, shown at once and confirmed."""
    async with site(hass) as (_, hub, gateway, clock):
        with recording(hub) as sent, states_of(hass, POWER) as seen:
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, POWER, **{ATTR_VALUE: 800}
            )
        assert writes(sent) == [Sent("POST", DPEL, limited(800.0))]
        assert seen == ["800.0"]
        assert (state(hass, SWITCH), state(hass, POWER)) == ("on", "800.0")
        clock.advance(EXPORT_LIMIT_DELAY_S)
        assert gateway.figures().grid_w == pytest.approx(-800.0, abs=1e-6)


async def test_rejected_value_reverts_and_says_why(hass: HomeAssistant) -> None:
    """A 400: the requested state is shown, then the gateway's again; its reason."""
    async with site(hass) as (_, hub, gateway, _):
        gateway.answer("POST", DPEL, 400, {"error": "limit_value_W out of range"})
        with (
            recording(hub) as sent,
            states_of(hass, POWER) as seen,
            pytest.raises(HomeAssistantError) as caught,
        ):
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, POWER, **{ATTR_VALUE: 500}
            )
        assert caught.value.translation_key == "control_rejected"
        assert "limit_value_W out of range" in str(caught.value)
        assert writes(sent) == [Sent("POST", DPEL, limited(500.0))]
        assert seen == ["500.0", "0.0"]
        assert (state(hass, SWITCH), state(hass, POWER)) == ("off", "0.0")
        assert gateway_setting(gateway) == CAPTURED


async def test_refused_for_an_owner_session_names_the_installer_token(
    hass: HomeAssistant,
) -> None:
    """A 401 (the token lost its installer rights): it needs an installer token."""
    async with site(hass) as (_, _, gateway, _):
        gateway.answer("POST", DPEL, 401, {"status": 401, "message": "Unauthorized"})
        with (
            states_of(hass, SWITCH) as seen,
            pytest.raises(HomeAssistantError) as caught,
        ):
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, SWITCH)
        assert caught.value.translation_key == "control_needs_installer"
        assert "installer token" in str(caught.value)
        assert seen == ["on", "off"]
        assert state(hass, SWITCH) == "off"


async def test_a_write_the_gateway_drops_is_not_confirmed(
    hass: HomeAssistant,
) -> None:
    """200 but the read-back still shows it off: the action fails, it shows off."""
    async with site(hass) as (_, _, gateway, _):
        gateway.answer("POST", DPEL, 200, "", count=1)
        with pytest.raises(HomeAssistantError) as caught:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, SWITCH)
        assert caught.value.translation_key == "control_not_confirmed"
        assert state(hass, SWITCH) == "off"
        assert gateway_setting(gateway) == CAPTURED


async def test_owner_token_offers_neither_and_diagnostics_say_why(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """With an owner token: no switch, no number, never asked; diagnostics tell."""
    async with site(hass, user="owner") as (entry, _, gateway, _):
        assert hass.states.get(SWITCH) is None
        assert hass.states.get(POWER) is None
        assert gateway.received(path=DPEL) == []
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        assert diagnostics["absent_controls"] == {"dynamic_export_limit": "owner_token"}
