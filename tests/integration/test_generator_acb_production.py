"""Generator, AC Battery sleep and production controls against simulated Envoys.

Each control is driven by a service call; the exact request is recorded at the
transport and the simulated gateway's own documents show what it took.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import copy
import json
from typing import Any
from unittest.mock import patch

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import SERVICE_TURN_OFF
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest

from custom_components.solar_gateway.coordinator import SolarGatewayData
from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy.client import EnvoyClient
from custom_components.solar_gateway.gateway.transport import Timeouts
from simulator.clock import ManualClock
from simulator.envoy_settings import PRODUCTION_DELAY_S
from simulator.faults import Fault, FaultName
from simulator.server import SimulatedGateway

from .simulated import FIXTURES, NOON, simulated_entry
from .test_controls import Sent, call, recording, state, writes

GENERATOR = "envoy/generator_running"
ACB = "envoy/acb"
GEN = "202500000555_generator"
MODE = "select.envoy_004444_generator_mode"
DAY = "select.envoy_004444_generator_exercise_day"
DURATION = "number.envoy_004444_generator_exercise_duration"
STOP_SOC = "number.envoy_004444_generator_stop_charge"
CHARGE = "switch.envoy_004444_generator_charge_from_generator"
PRODUCTION = "switch.envoy_004444_solar_production"
BATTERY = "121638000001"
SLEEP = f"button.battery_{BATTERY}_sleep"
WAKE = f"button.battery_{BATTERY}_wake"
BAND_HIGH = f"number.battery_{BATTERY}_sleep_band_high"
BAND_LOW = f"number.battery_{BATTERY}_sleep_band_low"
GEN_CONFIG = json.loads((FIXTURES / GENERATOR / "ivp_ss_gen_config").read_text())

pytestmark = pytest.mark.usefixtures("socket_enabled")


@asynccontextmanager
async def site(
    hass: HomeAssistant, scenario: str, user: str = "installer"
) -> AsyncIterator[tuple[SolarGatewayData, SimulatedGateway, ManualClock]]:
    """A simulated Envoy set up with ``user``'s token, and its clock."""
    clock = ManualClock(NOON)
    async with simulated_entry(hass, scenario, clock, user=user) as (entry, gateway):
        yield entry.runtime_data, gateway, clock


def documents(gateway: SimulatedGateway) -> Any:
    """The controlled documents the simulated Envoy holds now."""
    return gateway.personality.describe()


def attribute(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    current = hass.states.get(entity_id)
    assert current is not None
    return current.attributes.get(name)


# --- Generator ----------------------------------------------------------------------


async def test_generator_mode_waits_for_the_controller(hass: HomeAssistant) -> None:
    """The mode is POSTed as gen_cmd and confirmed once the controller applied it."""
    async with site(hass, GENERATOR) as (hub, gateway, clock):
        client = hub.client
        assert isinstance(client, EnvoyClient)
        waited: list[float] = []

        async def sleep(seconds: float) -> None:
            waited.append(seconds)
            clock.advance(seconds)  # the gateway's seconds pass

        client.sleep = sleep
        assert state(hass, MODE) == "on"
        with recording(hub) as sent:
            await call(
                hass,
                SELECT_DOMAIN,
                SERVICE_SELECT_OPTION,
                MODE,
                **{ATTR_OPTION: "auto"},
            )
        assert writes(sent) == [Sent("POST", "/ivp/ss/gen_mode", {"gen_cmd": "auto"})]
        assert waited == [1.0, 2.0]  # read back until the 3 s apply had passed
        assert documents(gateway)["ivp_ss_gen_mode"]["gen_cmd"] == "auto"
        assert state(hass, MODE) == "auto"


async def test_generator_mode_never_applied_reverts(hass: HomeAssistant) -> None:
    """A mode the controller never shows: the action fails, the old mode stays."""
    async with site(hass, GENERATOR) as (hub, _, _):
        client = hub.client
        assert isinstance(client, EnvoyClient)

        async def no_time_passes(seconds: float) -> None:
            del seconds

        client.sleep = no_time_passes
        with pytest.raises(HomeAssistantError) as caught:
            await call(
                hass, SELECT_DOMAIN, SERVICE_SELECT_OPTION, MODE, **{ATTR_OPTION: "off"}
            )
        assert caught.value.translation_key == "control_not_confirmed"
        assert state(hass, MODE) == "on"


async def test_exercise_schedule_sends_only_the_changed_key(
    hass: HomeAssistant,
) -> None:
    """Day, duration and stop charge: each POST holds the one key that changes."""
    async with site(hass, GENERATOR) as (hub, gateway, _):
        assert (state(hass, DAY), state(hass, DURATION), state(hass, STOP_SOC)) == (
            "wed",
            "15.0",
            "70.0",
        )
        with recording(hub) as sent:
            await call(
                hass, SELECT_DOMAIN, SERVICE_SELECT_OPTION, DAY, **{ATTR_OPTION: "fri"}
            )
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, DURATION, **{ATTR_VALUE: 25}
            )
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, STOP_SOC, **{ATTR_VALUE: 85}
            )
        assert writes(sent) == [
            Sent("POST", "/ivp/ss/gen_schedule", {"exercise_day": "Fri"}),
            Sent("POST", "/ivp/ss/gen_schedule", {"exercise_duration": 25}),
            Sent("POST", "/ivp/ss/gen_schedule", {"default_stop_soc": 85}),
        ]
        schedule = documents(gateway)["ivp_ss_gen_schedule"]
        assert schedule["exercise_config"]["day"] == "Fri"
        assert schedule["default_soc"] == {"start_soc": 30, "stop_soc": 85}
        assert (state(hass, DAY), state(hass, DURATION), state(hass, STOP_SOC)) == (
            "fri",
            "25.0",
            "85.0",
        )


async def test_stop_charge_below_start_is_refused_before_sending(
    hass: HomeAssistant,
) -> None:
    """The generator would start and stop at once: nothing is sent."""
    async with site(hass, GENERATOR) as (hub, _, _):
        with recording(hub) as sent, pytest.raises(HomeAssistantError) as caught:
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, STOP_SOC, **{ATTR_VALUE: 20}
            )
        assert caught.value.translation_key == "control_invalid"
        assert writes(sent) == []
        assert state(hass, STOP_SOC) == "70.0"


async def test_charge_from_generator_without_batteries_is_not_applied(
    hass: HomeAssistant,
) -> None:
    """The whole configuration is sent; the gateway keeps it on: said so, reverted."""
    async with site(hass, GENERATOR) as (hub, gateway, _):
        assert state(hass, CHARGE) == "on"
        with recording(hub) as sent, pytest.raises(HomeAssistantError) as caught:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, CHARGE)
        body = copy.deepcopy(GEN_CONFIG) | {"charge_from_generator": False}
        assert writes(sent) == [Sent("POST", "/ivp/ss/gen_config", body)]
        assert caught.value.translation_key == "control_not_applied"
        assert documents(gateway)["ivp_ss_gen_config"]["charge_from_generator"] is True
        assert state(hass, CHARGE) == "on"


async def test_generator_write_timing_out_reverts(hass: HomeAssistant) -> None:
    """A gateway that hangs mid-write: the old mode stays, the action fails."""
    async with site(hass, GENERATOR) as (hub, gateway, _):
        hub.client.transport.timeouts = Timeouts(connect=5.0, read=0.2)
        gateway.add_fault(Fault(FaultName.HANG))
        with recording(hub) as sent, pytest.raises(HomeAssistantError) as caught:
            await call(
                hass, SELECT_DOMAIN, SERVICE_SELECT_OPTION, DAY, **{ATTR_OPTION: "mon"}
            )
        assert caught.value.translation_key == "control_timeout"
        assert writes(sent) == [
            Sent("POST", "/ivp/ss/gen_schedule", {"exercise_day": "Mon"})
        ]
        assert state(hass, DAY) == "wed"


# --- Production ---------------------------------------------------------------------


async def test_production_needs_an_installer_token(hass: HomeAssistant) -> None:
    """With an owner token the record answers 401: no switch is offered."""
    async with site(hass, GENERATOR, user="owner"):
        assert hass.states.get(PRODUCTION) is None
        assert state(hass, MODE) == "on"  # the rest of the site is there


async def test_production_off_is_pending_until_the_inverters_stop(
    hass: HomeAssistant,
) -> None:
    """PUT [1]: off at once and pending, never back on, settled once solar stops."""
    async with site(hass, GENERATOR) as (hub, gateway, clock):
        assert state(hass, PRODUCTION) == "on"
        assert attribute(hass, PRODUCTION, "pending") is False
        with recording(hub) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, PRODUCTION)
        assert writes(sent) == [
            Sent("PUT", "/ivp/mod/603980032/mode/power", {"length": 1, "arr": [1]})
        ]
        assert documents(gateway)["ivp_mod_603980032_mode_power"]["powerForcedOff"]
        seen = [(state(hass, PRODUCTION), attribute(hass, PRODUCTION, "pending"))]
        live = hub.coordinators[DataGroup.LIVE]
        for _ in range(int(PRODUCTION_DELAY_S // 120) + 2):
            clock.advance(120)
            await live.async_refresh()
            await hass.async_block_till_done()
            seen.append(
                (state(hass, PRODUCTION), attribute(hass, PRODUCTION, "pending"))
            )
        assert {s for s, _ in seen} == {"off"}
        assert seen[0][1] is True
        assert seen[-1][1] is False
        assert gateway.figures().solar_w == 0


async def test_production_refused_for_owner_says_installer(hass: HomeAssistant) -> None:
    """A 401 on the write (an owner token) names the installer token needed."""
    async with site(hass, GENERATOR) as (hub, gateway, _):
        with (
            patch.object(gateway.personality, "_installer", return_value=False),
            recording(hub) as sent,
            pytest.raises(HomeAssistantError) as caught,
        ):
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, PRODUCTION)
        assert caught.value.translation_key == "control_needs_installer"
        assert "installer token" in str(caught.value)
        assert [s.method for s in sent] == ["PUT"]
        assert state(hass, PRODUCTION) == "on"
        assert attribute(hass, PRODUCTION, "pending") is False


# --- AC Battery sleep ---------------------------------------------------------------


async def test_acb_sleep_and_wake(hass: HomeAssistant) -> None:
    """Sleep PUTs the battery's band; wake DELETEs its serial; both read back."""
    async with site(hass, ACB, user="owner") as (hub, gateway, _):
        with recording(hub) as sent:
            await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, SLEEP)
        body = {
            "acb_sleep": [
                {"serial_num": BATTERY, "sleep_min_soc": 25, "sleep_max_soc": 30}
            ]
        }
        assert writes(sent) == [Sent("PUT", "/admin/lib/acb_config", body)]
        assert "/inventory.json?deleted=1" in [
            s.path for s in sent if s.method == "GET"
        ]
        assert gateway.personality.settings.sleep[BATTERY].enabled
        with recording(hub) as sent:
            await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, WAKE)
        assert writes(sent) == [
            Sent(
                "DELETE",
                "/admin/lib/acb_config",
                {"acb_sleep": [{"serial_num": BATTERY}]},
            )
        ]
        assert not gateway.personality.settings.sleep[BATTERY].enabled


async def test_acb_band_change_sleeps_in_the_new_band(hass: HomeAssistant) -> None:
    """A new high end sends the battery to sleep between its low end and the new one."""
    async with site(hass, ACB, user="owner") as (hub, _, _):
        with recording(hub) as sent:
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, BAND_HIGH, **{ATTR_VALUE: 90}
            )
        body = {
            "acb_sleep": [
                {"serial_num": BATTERY, "sleep_min_soc": 25, "sleep_max_soc": 90}
            ]
        }
        assert writes(sent) == [Sent("PUT", "/admin/lib/acb_config", body)]
        assert state(hass, BAND_HIGH) == "90.0"
        assert state(hass, BAND_LOW) == "25.0"


async def test_acb_unknown_serial_is_rejected(hass: HomeAssistant) -> None:
    """A 400 (the gateway no longer knows the battery): the gateway's reason shown."""
    async with site(hass, ACB, user="owner") as (_, gateway, _):
        gateway.personality.settings.acbs.pop(BATTERY)
        with pytest.raises(HomeAssistantError) as caught:
            await call(hass, BUTTON_DOMAIN, SERVICE_PRESS, SLEEP)
        assert caught.value.translation_key == "control_rejected"
        assert f"no AC Battery {BATTERY}" in str(caught.value)


async def test_acb_band_upside_down_is_refused_before_sending(
    hass: HomeAssistant,
) -> None:
    """A low end above the high end is not sent."""
    async with site(hass, ACB, user="owner") as (hub, _, _):
        with recording(hub) as sent, pytest.raises(HomeAssistantError) as caught:
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, BAND_LOW, **{ATTR_VALUE: 60}
            )
        assert caught.value.translation_key == "control_invalid"
        assert writes(sent) == []
        assert state(hass, BAND_LOW) == "25.0"
