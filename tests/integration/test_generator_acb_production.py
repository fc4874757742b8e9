"""Generator, AC Battery sleep and production controls against simulated Envoys.

Each control is driven by a service call; the exact request is recorded at the
transport and the simulated gateway's own documents show what it took.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import copy
import json
from pathlib import Path
import shutil
from typing import Any
from unittest.mock import patch

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
from homeassistant.components.time import ATTR_TIME, DOMAIN as TIME_DOMAIN
from homeassistant.const import SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solar_gateway.const import DOMAIN
from custom_components.solar_gateway.coordinator import SolarGatewayData
from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy.client import EnvoyClient
from custom_components.solar_gateway.gateway.transport import Timeouts
from custom_components.solar_gateway.migration import CURRENT_MINOR_VERSION
from simulator.clock import ManualClock
from simulator.envoy_settings import PRODUCTION_DELAY_S
from simulator.faults import Fault, FaultName
from simulator.server import SimulatedGateway

from .simulated import FIXTURES, NOON, OPTIONS, entry_data, simulated_entry
from .test_controls import Sent, call, read_after_write, recording, state, writes

GENERATOR = "envoy/generator_running"
ACB = "envoy/acb"
GEN = "202500000555_generator"
MODE = "select.envoy_004444_generator_mode"
DAY = "select.envoy_004444_generator_exercise_day"
DURATION = "number.envoy_004444_generator_exercise_duration"
STOP_SOC = "number.envoy_004444_generator_stop_charge"
CHARGE = "switch.envoy_004444_generator_charge_batteries"
RUNNING = "binary_sensor.envoy_004444_generator_running"
EXERCISE_START = "time.envoy_004444_generator_exercise_start"
PRODUCTION = "switch.envoy_004444_solar_production"
BATTERY = "121638000001"
SLEEP = f"switch.battery_{BATTERY}_sleep"
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
        assert caught.value.translation_key in (
            "invalid_generator_levels",
            "invalid_sleep_band",
        )
        assert writes(sent) == []
        assert state(hass, STOP_SOC) == "70.0"


async def test_charge_from_generator_not_offered_without_batteries(
    hass: HomeAssistant,
) -> None:
    """No Enphase battery: the gateway keeps it on whatever is written, so there is
    no switch (the rest of the generator's controls are there)."""
    async with site(hass, GENERATOR):
        assert hass.states.get(CHARGE) is None
        assert state(hass, MODE) == "on"


@asynccontextmanager
async def generator_with_batteries(
    hass: HomeAssistant, tmp_path: Path
) -> AsyncIterator[tuple[SolarGatewayData, SimulatedGateway, ManualClock]]:
    """The generator site with the IQ Batteries of the metered battery site."""
    folder = tmp_path / "generator_batteries"
    shutil.copytree(FIXTURES / GENERATOR, folder)
    batteries = json.loads(
        (FIXTURES / "envoy/metered_battery/ivp_ensemble_inventory").read_text()
    )
    inventory = json.loads((folder / "ivp_ensemble_inventory").read_text())
    for group in inventory:
        if group["type"] == "ENCHARGE":
            group["devices"] = next(
                g["devices"] for g in batteries if g["type"] == "ENCHARGE"
            )
    (folder / "ivp_ensemble_inventory").write_text(json.dumps(inventory, indent=2))
    clock = ManualClock(NOON)
    async with simulated_entry(hass, str(folder), clock, user="installer") as (
        entry,
        gateway,
    ):
        yield entry.runtime_data, gateway, clock


async def test_charge_batteries_from_the_generator(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """With IQ Batteries: the whole configuration is POSTed with only
    charge_from_generator changed, and the gateway keeps what was written."""
    async with generator_with_batteries(hass, tmp_path) as (hub, gateway, _):
        assert state(hass, CHARGE) == "on"
        with recording(hub) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, CHARGE)
        body = copy.deepcopy(GEN_CONFIG) | {"charge_from_generator": False}
        assert writes(sent) == [Sent("POST", "/ivp/ss/gen_config", body)]
        assert documents(gateway)["ivp_ss_gen_config"]["charge_from_generator"] is False
        assert state(hass, CHARGE) == "off"


async def test_exercise_start_is_a_time_of_day(hass: HomeAssistant) -> None:
    """Shown as 10:00 (600 minutes after midnight); 06:30 is POSTed as 390."""
    async with site(hass, GENERATOR) as (hub, gateway, _):
        assert state(hass, EXERCISE_START) == "10:00:00"
        with recording(hub) as sent:
            await call(
                hass,
                TIME_DOMAIN,
                SERVICE_SET_VALUE,
                EXERCISE_START,
                **{ATTR_TIME: "06:30:00"},
            )
        assert writes(sent) == [
            Sent("POST", "/ivp/ss/gen_schedule", {"exercise_start": 390})
        ]
        schedule = documents(gateway)["ivp_ss_gen_schedule"]
        assert schedule["exercise_config"]["start"] == 390
        assert state(hass, EXERCISE_START) == "06:30:00"


async def test_the_generator_is_one_coherent_set(hass: HomeAssistant) -> None:
    """Running (its relay), its mode as a select, its schedule; no mode sensor
    beside the select, no name that says generator twice."""
    async with site(hass, GENERATOR):
        registry = er.async_get(hass)
        mode = registry.async_get(MODE)
        assert mode is not None
        device = dr.async_get(hass).async_get(mode.device_id or "")
        assert device is not None
        assert (DOMAIN, GEN) in device.identifiers
        assert device.name == "Envoy 004444 Generator"
        entities = {
            e.entity_id: e for e in er.async_entries_for_device(registry, device.id)
        }
        assert sorted(entities) == [
            RUNNING,
            "number.envoy_004444_generator_exercise_duration",
            "number.envoy_004444_generator_exercise_every_weeks",
            "number.envoy_004444_generator_start_charge",
            STOP_SOC,
            DAY,
            MODE,
            EXERCISE_START,
        ]
        assert state(hass, RUNNING) == "on"  # oper_state "close"
        running = hass.states.get(RUNNING)
        assert running is not None
        assert running.attributes["device_class"] == "running"
        assert running.attributes["friendly_name"] == "Envoy 004444 Generator Running"
        assert state(hass, MODE) == "on"
        for entity_id in entities:
            assert entity_id.split(".")[1].count("generator") == 1, entity_id


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


def sleep_shown(hass: HomeAssistant) -> tuple[str, Any, str, str]:
    """The Sleep switch, its pending flag and the band, as the user sees them."""
    return (
        state(hass, SLEEP),
        attribute(hass, SLEEP, "pending"),
        state(hass, BAND_LOW),
        state(hass, BAND_HIGH),
    )


def sleep_body(low: int, high: int) -> dict[str, Any]:
    return {
        "acb_sleep": [
            {"serial_num": BATTERY, "sleep_min_soc": low, "sleep_max_soc": high}
        ]
    }


async def test_acb_sleep_is_pending_until_the_battery_sleeps(
    hass: HomeAssistant,
) -> None:
    """Sleep on: the band is PUT, read back from acb_config (on), and pending while
    the battery (43 %) is above its 25-30 % band; a band it is in puts it to sleep."""
    async with site(hass, ACB, user="owner") as (hub, gateway, _):
        assert sleep_shown(hass) == ("off", False, "25.0", "30.0")
        with recording(hub) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, SLEEP)
        assert writes(sent) == [
            Sent("PUT", "/admin/lib/acb_config", sleep_body(25, 30))
        ]
        assert {"/admin/lib/acb_config", "/inventory.json?deleted=1"} <= set(
            read_after_write(sent)
        )
        assert gateway.personality.settings.sleep[BATTERY].enabled
        assert sleep_shown(hass) == ("on", True, "25.0", "30.0")

        with recording(hub) as sent:
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, BAND_HIGH, **{ATTR_VALUE: 50}
            )
        assert writes(sent) == [
            Sent("PUT", "/admin/lib/acb_config", sleep_body(25, 50))
        ]
        assert sleep_shown(hass) == ("on", False, "25.0", "50.0")  # asleep in band


async def test_acb_wake_keeps_the_band_last_written(hass: HomeAssistant) -> None:
    """Wake DELETEs the serial; the band reads what was last written, not the
    band from before the sleep."""
    async with site(hass, ACB, user="owner") as (hub, gateway, _):
        await call(
            hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, BAND_HIGH, **{ATTR_VALUE: 90}
        )
        assert sleep_shown(hass) == ("on", False, "25.0", "90.0")
        with recording(hub) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, SLEEP)
        assert writes(sent) == [
            Sent(
                "DELETE",
                "/admin/lib/acb_config",
                {"acb_sleep": [{"serial_num": BATTERY}]},
            )
        ]
        assert not gateway.personality.settings.sleep[BATTERY].enabled
        held = documents(gateway)["admin_lib_acb_config"]["acb_sleep"][0]
        assert (held["sleep_enabled"], held["sleep_max_soc"]) == (False, 90)
        assert sleep_shown(hass) == ("off", False, "25.0", "90.0")


async def test_acb_sleep_the_gateway_does_not_hold_is_not_confirmed(
    hass: HomeAssistant,
) -> None:
    """The PUT answered 200 but acb_config reads sleep off: the action fails and
    the switch shows what the gateway holds."""
    async with site(hass, ACB, user="owner") as (hub, gateway, _):
        gateway.answer("PUT", "/admin/lib/acb_config", 200, sleep_body(25, 30))
        with recording(hub) as sent, pytest.raises(HomeAssistantError) as caught:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, SLEEP)
        assert caught.value.translation_key == "control_not_confirmed"
        assert "/admin/lib/acb_config" in read_after_write(sent)
        assert sleep_shown(hass) == ("off", False, "25.0", "30.0")


async def test_acb_without_sleep_settings_reads_the_inventory(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """Firmware that does not serve acb_config (404): the inventory says whether
    sleep is on, asked once at setup and never again."""
    folder = tmp_path / "acb"
    shutil.copytree(FIXTURES / ACB, folder)
    (folder / "admin_lib_acb_config").unlink()
    async with simulated_entry(hass, str(folder)) as (entry, gateway):
        assert sleep_shown(hass) == ("off", False, "25.0", "30.0")
        asked = len(gateway.received("GET", "/admin/lib/acb_config"))
        with recording(entry.runtime_data) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, SLEEP)
        assert writes(sent) == [
            Sent("PUT", "/admin/lib/acb_config", sleep_body(25, 30))
        ]
        assert "/admin/lib/acb_config" not in read_after_write(sent)
        assert asked == 1
        assert sleep_shown(hass) == ("on", True, "25.0", "30.0")


async def test_acb_unknown_serial_is_rejected(hass: HomeAssistant) -> None:
    """A 400 (the gateway no longer knows the battery): the gateway's reason shown."""
    async with site(hass, ACB, user="owner") as (_, gateway, _):
        gateway.personality.settings.acbs.pop(BATTERY)
        with pytest.raises(HomeAssistantError) as caught:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, SLEEP)
        assert caught.value.translation_key == "control_rejected"
        assert f"no AC Battery {BATTERY}" in str(caught.value)
        assert state(hass, SLEEP) == "off"


async def test_acb_band_upside_down_is_refused_before_sending(
    hass: HomeAssistant,
) -> None:
    """A low end above the high end is not sent."""
    async with site(hass, ACB, user="owner") as (hub, _, _):
        with recording(hub) as sent, pytest.raises(HomeAssistantError) as caught:
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, BAND_LOW, **{ATTR_VALUE: 60}
            )
        assert caught.value.translation_key in (
            "invalid_generator_levels",
            "invalid_sleep_band",
        )
        assert writes(sent) == []
        assert state(hass, BAND_LOW) == "25.0"


async def test_an_older_entry_drops_the_generators_replaced_entities(
    hass: HomeAssistant,
) -> None:
    """A 1.3 entry: the mode sensor and the minutes number are removed (the select
    and the time show them); the relay sensor keeps its entity id and history."""
    async with SimulatedGateway.start(
        FIXTURES / GENERATOR, clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=gateway.identity.serial,
            data=entry_data(gateway, "installer"),
            minor_version=3,
        )
        entry.add_to_hass(hass)
        registry = er.async_get(hass)
        old = {
            ("sensor", f"{GEN}_mode"): "sensor.envoy_004444_generator_generator_mode",
            ("number", f"{GEN}_generator_exercise_start"): (
                "number.envoy_004444_generator_exercise_start_minutes_after_midnight"
            ),
            ("binary_sensor", f"{GEN}_relay_closed"): (
                "binary_sensor.envoy_004444_generator_relay_closed"
            ),
            ("select", f"{GEN}_generator_mode"): MODE,
            # Not on this site, but any entry of 1.3 loses them the same way.
            ("button", f"{BATTERY}_acb_sleep"): f"button.battery_{BATTERY}_sleep",
            ("button", f"{BATTERY}_acb_wake"): f"button.battery_{BATTERY}_wake",
        }
        for (domain, unique_id), entity_id in old.items():
            registry.async_get_or_create(
                domain,
                DOMAIN,
                unique_id,
                config_entry=entry,
                suggested_object_id=entity_id.split(".", 1)[1],
            )
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.minor_version == CURRENT_MINOR_VERSION
        kept = {
            e.entity_id
            for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        }
        assert "sensor.envoy_004444_generator_generator_mode" not in kept
        assert not any(e.startswith("button.") for e in kept)
        assert not any(
            e.startswith("number.envoy_004444_generator_exercise_start") for e in kept
        )
        assert state(hass, "binary_sensor.envoy_004444_generator_relay_closed") == "on"
        assert state(hass, MODE) == "on"
        assert state(hass, EXERCISE_START) == "10:00:00"
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def test_an_exercise_start_outside_the_day_is_unknown(
    hass: HomeAssistant,
) -> None:
    """A start of 1440 minutes (or more) is no time of day: unknown, not 00:00."""
    async with site(hass, GENERATOR) as (hub, gateway, _):
        schedule = gateway.personality.settings.documents["ivp_ss_gen_schedule"]
        schedule["exercise_config"]["start"] = 1440
        gateway.personality.settings.written.add("ivp_ss_gen_schedule")
        await hub.coordinators[DataGroup.SETTINGS].async_refresh()
        await hass.async_block_till_done()
        assert state(hass, EXERCISE_START) == "unknown"


async def test_acb_sleep_settles_when_the_inventory_shows_it_asleep(
    hass: HomeAssistant,
) -> None:
    """Pending while the battery (43 %) charges towards its 44-60 % band; the
    inventory poll in which it reports itself asleep settles the switch, no write."""
    async with site(hass, ACB, user="owner") as (hub, gateway, clock):
        await call(
            hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, BAND_HIGH, **{ATTR_VALUE: 60}
        )
        await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, BAND_LOW, **{ATTR_VALUE: 44})
        assert sleep_shown(hass) == ("on", True, "44.0", "60.0")
        # The battery's next report: at 45 %, in its band, asleep.
        inventory = json.loads(
            (FIXTURES / ACB / "inventory.json_deleted_1").read_text()
        )
        battery = next(
            d
            for group in inventory
            if group["type"] == "ACB"
            for d in group["devices"]
            if d["serial_num"] == BATTERY
        )
        battery |= {
            "percentFull": 45,
            "sleep_enabled": True,
            "sleep_min_soc": 44,
            "sleep_max_soc": 60,
            "device_status": [
                "envoy.global.ok",
                "envoy.cond_flags.pcu_ctrl.sleep-mode",
            ],
        }
        gateway.answer("GET", "/inventory.json?deleted=1", 200, inventory)
        with recording(hub) as sent:
            clock.advance(300)
            await hub.coordinators[DataGroup.DEVICES].async_refresh()
            await hass.async_block_till_done()
        assert writes(sent) == []
        assert sleep_shown(hass) == ("on", False, "44.0", "60.0")


async def test_charge_batteries_the_gateway_sets_back_is_not_applied(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The gateway answers 200 but reads it back on: the action says it was not
    applied, and the switch shows on."""
    async with generator_with_batteries(hass, tmp_path) as (hub, gateway, _):
        gateway.personality.settings.batteries = False  # it keeps it on regardless
        with recording(hub) as sent, pytest.raises(HomeAssistantError) as caught:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, CHARGE)
        assert [s.path for s in writes(sent)] == ["/ivp/ss/gen_config"]
        assert caught.value.translation_key == "control_not_applied"
        assert state(hass, CHARGE) == "on"
