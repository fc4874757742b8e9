"""Controls against simulated gateways: action -> exact request -> confirmed state.

Every control is driven the way an automation drives it (a service call), the
request it sends is recorded at the transport, and the simulated gateway's own state
shows what it took.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
import copy
from dataclasses import dataclass
import json
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
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.solar_gateway.coordinator import SolarGatewayData
from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy.client import EnvoyClient
from custom_components.solar_gateway.gateway.errors import ControlRefusedError
from custom_components.solar_gateway.gateway.pvs.client import PvsClient
from custom_components.solar_gateway.gateway.site import ControlChange
from custom_components.solar_gateway.gateway.transport import Timeouts
from simulator.faults import Fault, FaultName
from simulator.server import SimulatedGateway

from .simulated import FIXTURES, simulated_entry

ENVOY = "envoy/metered_battery"
PVS = "pvs/varserver"
TARIFF = json.loads((FIXTURES / ENVOY / "admin_lib_tariff").read_text())
RELAYS = json.loads((FIXTURES / ENVOY / "ivp_ss_dry_contact_settings").read_text())

GRID = "switch.envoy_000789_system_controller_grid_connection"
POOL_PUMP = "switch.pool_pump"
GARAGE_PV = "switch.garage_pv"
CHARGE = "switch.envoy_000789_charge_from_grid"
STORAGE_MODE = "select.envoy_000789_battery_mode"
RESERVE = "number.envoy_000789_battery_backup_reserve"
PVS_MODE = "select.pvs6_9w8841_battery_mode"
PVS_RESERVE = "number.pvs6_9w8841_battery_backup_reserve"


# Let the integration reach the simulator on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


@dataclass(frozen=True)
class Sent:
    """One request as the client handed it to the transport."""

    method: str
    path: str
    body: Any


@contextmanager
def recording(hub: SolarGatewayData) -> Iterator[list[Sent]]:
    """Record every request the gateway's client sends."""
    transport = hub.client.transport
    original = transport.request
    sent: list[Sent] = []

    async def spy(method: str, path: str, **kwargs: Any) -> Any:
        body = kwargs.get("json_body")
        sent.append(
            Sent(method, path, body if body is not None else kwargs.get("data"))
        )
        return await original(method, path, **kwargs)

    with patch.object(transport, "request", spy):
        yield sent


def writes(sent: list[Sent]) -> list[Sent]:
    """The requests that change something."""
    return [s for s in sent if s.method != "GET"]


def read_after_write(sent: list[Sent]) -> list[str]:
    """The paths read after the first write."""
    first = next(i for i, s in enumerate(sent) if s.method != "GET")
    return [s.path for s in sent[first + 1 :] if s.method == "GET"]


@asynccontextmanager
async def envoy(
    hass: HomeAssistant,
) -> AsyncIterator[tuple[SolarGatewayData, SimulatedGateway]]:
    """The metered Envoy with a system controller, relays and batteries."""
    async with simulated_entry(hass, ENVOY) as (entry, gateway):
        yield entry.runtime_data, gateway


@asynccontextmanager
async def pvs(
    hass: HomeAssistant,
) -> AsyncIterator[tuple[SolarGatewayData, SimulatedGateway]]:
    """The varserver PVS with a SunVault."""
    async with simulated_entry(hass, PVS) as (entry, gateway):
        yield entry.runtime_data, gateway


def state(hass: HomeAssistant, entity_id: str) -> str:
    """The entity's state now."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


async def call(
    hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any
) -> None:
    """Call an entity action as an automation does, waiting for it."""
    await hass.services.async_call(
        domain, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


def tariff_with(**storage: object) -> dict[str, Any]:
    """The fixture's whole tariff with only storage settings changed."""
    tariff = copy.deepcopy(TARIFF["tariff"])
    tariff["storage_settings"].update(storage)
    return {"tariff": tariff}


def relay_with(relay_id: str, **changes: object) -> dict[str, Any]:
    """The fixture's complete settings of one relay, with ``changes``."""
    relay = next(r for r in RELAYS["dry_contacts"] if r["id"] == relay_id)
    return {"dry_contacts": {**copy.deepcopy(relay), **changes}}


def gateway_tariff(gateway: SimulatedGateway) -> Any:
    """The tariff document the simulated Envoy holds now."""
    return gateway.personality.describe()["admin_lib_tariff"]


# --- Envoy: grid connection -------------------------------------------------------


async def test_grid_connection_off_and_on(hass: HomeAssistant) -> None:
    """Off opens the system controller's mains relay; on closes it; both confirmed."""
    async with envoy(hass) as (hub, gateway):
        assert state(hass, GRID) == "on"
        with recording(hub) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, GRID)
        assert writes(sent) == [
            Sent("POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"})
        ]
        # Confirmed at once by reading the inventory and the settings back.
        assert "/ivp/ensemble/inventory" in read_after_write(sent)
        assert "/admin/lib/tariff" in read_after_write(sent)
        assert gateway.personality.describe()["relay"] == "open"
        assert state(hass, GRID) == "off"
        # The site's grid sensor follows from the same read.
        assert state(hass, "binary_sensor.envoy_000789_grid_connected") == "off"

        with recording(hub) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, GRID)
        assert writes(sent) == [
            Sent("POST", "/ivp/ensemble/relay", {"mains_admin_state": "closed"})
        ]
        assert gateway.personality.describe()["relay"] == "closed"
        assert state(hass, GRID) == "on"


async def test_write_shows_the_new_state_at_once(hass: HomeAssistant) -> None:
    """While the gateway is asked, the entity already shows the requested state."""
    async with envoy(hass) as (hub, _):
        client = hub.client
        assert isinstance(client, EnvoyClient)
        original = client.apply
        seen: list[str] = []

        async def observed(change: ControlChange) -> Any:
            seen.append(state(hass, GRID))
            return await original(change)

        with patch.object(client, "apply", observed):
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, GRID)
        assert seen == ["off"]
        assert state(hass, GRID) == "off"


async def test_refused_write_reverts_and_says_why(hass: HomeAssistant) -> None:
    """A 401/403 shows the reported state again and blames the account."""
    async with envoy(hass) as (hub, gateway):
        client = hub.client
        assert isinstance(client, EnvoyClient)
        seen: list[str] = []

        async def refuse(change: ControlChange) -> Any:
            seen.append(state(hass, GRID))
            raise ControlRefusedError("POST /ivp/ensemble/relay refused (403)", 403)

        with (
            patch.object(client, "apply", refuse),
            pytest.raises(HomeAssistantError) as caught,
        ):
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, GRID)
        assert caught.value.translation_key == "control_refused"
        assert caught.value.translation_placeholders == {
            "control": GRID,
            "status": "403",
        }
        assert "may not change this setting" in str(caught.value)
        assert seen == ["off"]
        assert state(hass, GRID) == "on"
        assert gateway.personality.describe()["relay"] == "closed"


async def test_gateway_answering_401_is_refused(hass: HomeAssistant) -> None:
    """A real 401 from the gateway on the write ends as the refused error."""
    async with envoy(hass) as (hub, gateway):
        gateway.add_fault(Fault(FaultName.TOKEN_EXPIRED))
        with recording(hub) as sent, pytest.raises(HomeAssistantError) as caught:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, GRID)
        assert caught.value.translation_key == "control_refused"
        assert caught.value.translation_placeholders["status"] == "401"
        assert [s.method for s in sent] == ["POST"]
        assert gateway.personality.describe()["relay"] == "closed"
        assert state(hass, GRID) == "on"


async def test_write_timing_out_reverts(hass: HomeAssistant) -> None:
    """A gateway that hangs mid-write: the state is the reported one, the action fails."""
    async with envoy(hass) as (hub, gateway):
        hub.client.transport.timeouts = Timeouts(connect=5.0, read=0.2)
        gateway.add_fault(Fault(FaultName.HANG))
        with recording(hub) as sent, pytest.raises(HomeAssistantError) as caught:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, GRID)
        assert caught.value.translation_key == "control_timeout"
        # A write is never repeated on its own.
        assert writes(sent) == [
            Sent("POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"})
        ]
        assert state(hass, GRID) == "on"


async def test_busy_gateway_fails_the_write(hass: HomeAssistant) -> None:
    """A 503 during the write: reverted, with the gateway's error."""
    async with envoy(hass) as (_, gateway):
        gateway.add_fault(Fault(FaultName.UNAVAILABLE, count=1))
        with pytest.raises(HomeAssistantError) as caught:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, GRID)
        assert caught.value.translation_key == "control_failed"
        assert state(hass, GRID) == "on"


async def test_write_not_confirmed_by_the_read_back(hass: HomeAssistant) -> None:
    """The gateway answers OK but reads back the old value: reverted, action fails."""
    async with envoy(hass) as (hub, gateway):
        client = hub.client
        assert isinstance(client, EnvoyClient)

        async def ignored(change: ControlChange) -> Any:
            # The gateway takes the request but keeps its setting.
            return await client.refresh(frozenset({DataGroup.SETTINGS}))

        with (
            patch.object(client, "apply", ignored),
            pytest.raises(HomeAssistantError) as caught,
        ):
            await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, RESERVE, value=55)
        assert caught.value.translation_key == "control_not_confirmed"
        assert caught.value.translation_placeholders == {
            "control": RESERVE,
            "requested": "55.0",
            "reported": "30.0",
        }
        assert state(hass, RESERVE) == "30.0"
        assert gateway_tariff(gateway) == TARIFF


async def test_write_waits_for_a_running_poll(hass: HomeAssistant) -> None:
    """A write and a poll never interleave: the poll waits until the write is read back."""
    async with envoy(hass) as (hub, _):
        client = hub.client
        assert isinstance(client, EnvoyClient)
        original = client.apply
        release = asyncio.Event()
        started = asyncio.Event()

        async def slow(change: ControlChange) -> Any:
            started.set()
            await release.wait()
            return await original(change)

        with patch.object(client, "apply", slow), recording(hub) as sent:
            write = hass.async_create_task(
                call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, GRID)
            )
            await started.wait()
            poll = hass.async_create_task(
                hub.coordinators[DataGroup.LIVE].async_refresh()
            )
            for _ in range(5):
                await asyncio.sleep(0)
            assert sent == []  # the poll waits for the write
            release.set()
            await write
            await poll
        first_get = next(i for i, s in enumerate(sent) if s.method == "GET")
        assert sent[first_get - 1].method == "POST"
        assert state(hass, GRID) == "off"


# --- Envoy: dry contacts ----------------------------------------------------------


async def test_dry_contact_switches(hass: HomeAssistant) -> None:
    """Each relay, named after its load, opens and closes; its status is read back."""
    async with envoy(hass) as (hub, gateway):
        assert state(hass, POOL_PUMP) == "on"
        assert state(hass, GARAGE_PV) == "off"
        with recording(hub) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, POOL_PUMP)
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, GARAGE_PV)
        assert writes(sent) == [
            Sent(
                "POST",
                "/ivp/ensemble/dry_contacts",
                {"dry_contacts": {"id": "NC1", "status": "open"}},
            ),
            Sent(
                "POST",
                "/ivp/ensemble/dry_contacts",
                {"dry_contacts": {"id": "NO1", "status": "closed"}},
            ),
        ]
        assert "/ivp/ensemble/dry_contacts" in read_after_write(sent)
        contacts = gateway.personality.describe()["ivp_ensemble_dry_contacts"]
        assert contacts == {
            "dry_contacts": [
                {"id": "NC1", "status": "open"},
                {"id": "NO1", "status": "closed"},
            ]
        }
        assert state(hass, POOL_PUMP) == "off"
        assert state(hass, GARAGE_PV) == "on"


@pytest.mark.parametrize(
    ("entity_id", "option", "relay_id", "field"),
    [
        ("select.pool_pump_relay_mode", "soc", "NC1", "mode"),
        ("select.pool_pump_action_on_grid", "shed", "NC1", "grid_action"),
        (
            "select.pool_pump_action_on_battery_backup",
            "apply",
            "NC1",
            "micro_grid_action",
        ),
        ("select.garage_pv_action_on_generator", "schedule", "NO1", "gen_action"),
    ],
)
async def test_dry_contact_selects(
    hass: HomeAssistant, entity_id: str, option: str, relay_id: str, field: str
) -> None:
    """A relay setting is written with the relay's complete settings."""
    async with envoy(hass) as (hub, gateway):
        assert state(hass, entity_id) != option
        with recording(hub) as sent:
            await call(
                hass,
                SELECT_DOMAIN,
                SERVICE_SELECT_OPTION,
                entity_id,
                **{ATTR_OPTION: option},
            )
        body = relay_with(relay_id, **{field: option})
        assert writes(sent) == [Sent("POST", "/ivp/ss/dry_contact_settings", body)]
        assert "/ivp/ss/dry_contact_settings" in read_after_write(sent)
        held = gateway.personality.describe()["ivp_ss_dry_contact_settings"]
        assert body["dry_contacts"] in held["dry_contacts"]
        assert state(hass, entity_id) == option


@pytest.mark.parametrize(
    ("entity_id", "value", "relay_id", "field"),
    [
        ("number.pool_pump_cutoff_battery_level", 15, "NC1", "soc_low"),
        ("number.garage_pv_restore_battery_level", 80, "NO1", "soc_high"),
    ],
)
async def test_dry_contact_numbers(
    hass: HomeAssistant, entity_id: str, value: int, relay_id: str, field: str
) -> None:
    """A relay SOC threshold is written with the relay's complete settings."""
    async with envoy(hass) as (hub, gateway):
        with recording(hub) as sent:
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, entity_id, **{ATTR_VALUE: value}
            )
        body = relay_with(relay_id, **{field: float(value)})
        assert writes(sent) == [Sent("POST", "/ivp/ss/dry_contact_settings", body)]
        held = gateway.personality.describe()["ivp_ss_dry_contact_settings"]
        assert body["dry_contacts"] in held["dry_contacts"]
        assert state(hass, entity_id) == f"{float(value)}"


# --- Envoy: storage ---------------------------------------------------------------


async def test_storage_mode(hass: HomeAssistant) -> None:
    """The mode is a PUT of the whole tariff; nothing else in it changes."""
    async with envoy(hass) as (hub, gateway):
        current = hass.states.get(STORAGE_MODE)
        assert current is not None
        assert current.state == "self_consumption"
        assert current.attributes["options"] == [
            "backup",
            "self_consumption",
            "savings",
        ]
        # Current firmware spells the savings mode "economy".
        for option, mode in (("backup", "backup"), ("savings", "economy")):
            with recording(hub) as sent:
                await call(
                    hass,
                    SELECT_DOMAIN,
                    SERVICE_SELECT_OPTION,
                    STORAGE_MODE,
                    option=option,
                )
            # Optimised schedules off with it: while on, the batteries ignore it.
            expected = tariff_with(mode=mode, opt_schedules=False)
            assert writes(sent) == [Sent("PUT", "/admin/lib/tariff", expected)]
            assert read_after_write(sent) == [
                "/ivp/meters",
                "/ivp/ss/dry_contact_settings",
                "/admin/lib/tariff",
            ]
            assert gateway_tariff(gateway) == {**TARIFF, **expected}
            assert state(hass, STORAGE_MODE) == option


async def test_reserve_soc(hass: HomeAssistant) -> None:
    """The reserve is a PUT of the whole tariff with only reserved_soc changed."""
    async with envoy(hass) as (hub, gateway):
        assert state(hass, RESERVE) == "30.0"
        with recording(hub) as sent:
            await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, RESERVE, value=80)
        expected = tariff_with(reserved_soc=80.0)
        assert writes(sent) == [Sent("PUT", "/admin/lib/tariff", expected)]
        assert gateway_tariff(gateway) == {**TARIFF, **expected}
        assert state(hass, RESERVE) == "80.0"


async def test_charge_from_grid(hass: HomeAssistant) -> None:
    """Charge from grid is a PUT of the whole tariff; off again restores it exactly."""
    async with envoy(hass) as (hub, gateway):
        assert state(hass, CHARGE) == "off"
        with recording(hub) as sent:
            await call(hass, SWITCH_DOMAIN, SERVICE_TURN_ON, CHARGE)
        expected = tariff_with(charge_from_grid=True)
        assert writes(sent) == [Sent("PUT", "/admin/lib/tariff", expected)]
        assert gateway_tariff(gateway) == {**TARIFF, **expected}
        assert state(hass, CHARGE) == "on"
        await call(hass, SWITCH_DOMAIN, SERVICE_TURN_OFF, CHARGE)
        assert gateway_tariff(gateway) == TARIFF
        assert state(hass, CHARGE) == "off"


async def test_savings_written_in_the_gateways_spelling(
    hass: HomeAssistant,
) -> None:
    """A gateway reporting the legacy "savings-mode" shows Savings and gets it back."""
    async with envoy(hass) as (hub, gateway):
        # The simulated Envoy's live tariff, as older firmware reports it.
        gateway.personality._documents["admin_lib_tariff"]["tariff"][
            "storage_settings"
        ]["mode"] = "savings-mode"
        await hub.coordinators[DataGroup.SETTINGS].async_refresh()
        await hass.async_block_till_done()
        current = hass.states.get(STORAGE_MODE)
        assert current is not None
        assert current.state == "savings"
        assert current.attributes["options"] == [
            "backup",
            "self_consumption",
            "savings",
        ]
        with recording(hub) as sent:
            await call(
                hass,
                SELECT_DOMAIN,
                SERVICE_SELECT_OPTION,
                STORAGE_MODE,
                option="savings",
            )
        assert writes(sent) == [
            Sent(
                "PUT",
                "/admin/lib/tariff",
                tariff_with(mode="savings-mode", opt_schedules=False),
            )
        ]
        assert state(hass, STORAGE_MODE) == "savings"


async def test_controls_unavailable_when_their_data_goes(hass: HomeAssistant) -> None:
    """A setting the gateway stops reporting leaves its control unavailable."""
    async with envoy(hass) as (hub, gateway):
        documents = gateway.personality._documents
        documents["admin_lib_tariff"] = {"tariff": {"currency": {"code": "USD"}}}
        documents["ivp_ss_dry_contact_settings"] = {"dry_contacts": []}
        documents["ivp_ensemble_dry_contacts"] = {"dry_contacts": []}
        # Relay status is read every 5 minutes: as if they had passed.
        hub.client._read_at.clear()
        for group in (DataGroup.SETTINGS, DataGroup.LIVE):
            await hub.coordinators[group].async_refresh()
        await hass.async_block_till_done()
        for entity_id in (
            STORAGE_MODE,
            RESERVE,
            CHARGE,
            POOL_PUMP,
            "select.pool_pump_relay_mode",
            "number.pool_pump_cutoff_battery_level",
        ):
            assert state(hass, entity_id) == STATE_UNAVAILABLE, entity_id


# --- PVS varserver with SunVault --------------------------------------------------


async def test_sunvault_control_mode(hass: HomeAssistant) -> None:
    """The SunVault mode is one variable set; the PVS reads its settings back."""
    async with pvs(hass) as (hub, gateway):
        assert state(hass, PVS_MODE) == "self_consumption"
        with recording(hub) as sent:
            await call(
                hass,
                SELECT_DOMAIN,
                SERVICE_SELECT_OPTION,
                PVS_MODE,
                option="backup",
            )
        assert writes(sent) == [
            Sent(
                "POST",
                "/vars",
                "set=/ess/config/dcm/mode_param/control_mode=BACKUP_ONLY",
            )
        ]
        assert read_after_write(sent) == ["/vars?match=/ess/config/dcm/&fmt=obj"]
        assert (
            gateway.personality.describe()["/ess/config/dcm/mode_param/control_mode"]
            == "BACKUP_ONLY"
        )
        assert state(hass, PVS_MODE) == "backup"


async def test_sunvault_reserve(hass: HomeAssistant) -> None:
    """The SunVault reserve is written as a fraction and read back."""
    async with pvs(hass) as (hub, gateway):
        assert state(hass, PVS_RESERVE) == "20.0"
        with recording(hub) as sent:
            await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, PVS_RESERVE, value=35)
        assert writes(sent) == [
            Sent(
                "POST",
                "/vars",
                "set=/ess/config/dcm/control_param/min_customer_soc=0.35",
            )
        ]
        assert (
            gateway.personality.describe()[
                "/ess/config/dcm/control_param/min_customer_soc"
            ]
            == "0.35"
        )
        assert state(hass, PVS_RESERVE) == "35.0"


async def test_sunvault_reserve_read_back_within_the_gateways_resolution(
    hass: HomeAssistant,
) -> None:
    """The PVS stores whole percents: 35.4 % reads back as 35 % and is confirmed."""
    async with pvs(hass) as (_, gateway):
        await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, PVS_RESERVE, value=35.4)
        assert (
            gateway.personality.describe()[
                "/ess/config/dcm/control_param/min_customer_soc"
            ]
            == "0.35"
        )
        assert state(hass, PVS_RESERVE) == "35.0"


async def test_sunvault_reserve_read_back_one_percent_off_is_not_confirmed(
    hass: HomeAssistant,
) -> None:
    """A gateway that keeps the neighbouring percent has not taken the change: the
    action fails and the entity shows what the gateway holds."""
    async with pvs(hass) as (hub, gateway):
        client = hub.client
        assert isinstance(client, PvsClient)
        original = client.set_min_customer_soc

        async def off_by_one(percent: float) -> Any:
            return await original(percent + 1)

        with (
            patch.object(client, "set_min_customer_soc", off_by_one),
            pytest.raises(HomeAssistantError) as caught,
        ):
            await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, PVS_RESERVE, value=35)
        assert caught.value.translation_key == "control_not_confirmed"
        assert caught.value.translation_placeholders == {
            "control": PVS_RESERVE,
            "requested": "35.0",
            "reported": "36.0",
        }
        assert (
            gateway.personality.describe()[
                "/ess/config/dcm/control_param/min_customer_soc"
            ]
            == "0.36"
        )
        assert state(hass, PVS_RESERVE) == "36.0"


async def test_sunvault_refused(hass: HomeAssistant) -> None:
    """A PVS that refuses the write: reverted, with the refused error."""
    async with pvs(hass) as (hub, _):
        client = hub.client
        assert isinstance(client, PvsClient)

        async def refuse(mode: object) -> Any:
            raise ControlRefusedError("the PVS refused to set it (403)", 403)

        with (
            patch.object(client, "set_control_mode", refuse),
            pytest.raises(HomeAssistantError) as caught,
        ):
            await call(
                hass,
                SELECT_DOMAIN,
                SERVICE_SELECT_OPTION,
                PVS_MODE,
                option="backup",
            )
        assert caught.value.translation_key == "control_refused"
        assert state(hass, PVS_MODE) == "self_consumption"


async def test_sunvault_write_timing_out(hass: HomeAssistant) -> None:
    """A PVS that hangs during the write: reverted, with the timeout error."""
    async with pvs(hass) as (_, gateway):
        gateway.add_fault(Fault(FaultName.HANG))
        with (
            patch(
                "custom_components.solar_gateway.gateway.pvs.varserver.VARS_TIMEOUTS",
                Timeouts(connect=5.0, read=0.2),
            ),
            pytest.raises(HomeAssistantError) as caught,
        ):
            await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, PVS_RESERVE, value=50)
        assert caught.value.translation_key == "control_timeout"
        assert state(hass, PVS_RESERVE) == "20.0"
        assert (
            gateway.personality.describe()[
                "/ess/config/dcm/control_param/min_customer_soc"
            ]
            == "0.20"
        )


async def test_pvs_gateways_without_storage_have_no_controls(
    hass: HomeAssistant,
) -> None:
    """A legacy PVS, even with a SunVault, offers no control (no writable API)."""
    async with simulated_entry(hass, "pvs/legacy_sunvault"):
        assert hass.states.async_entity_ids(SWITCH_DOMAIN) == []
        assert hass.states.async_entity_ids(SELECT_DOMAIN) == []
        assert hass.states.async_entity_ids(NUMBER_DOMAIN) == []


async def test_battery_controls_are_the_same_entities_on_both_brands(
    hass: HomeAssistant,
) -> None:
    """Mode and reserve: one translation key and unique-id suffix whichever brand.

    The SunVault offers only the modes the PVS accepts from the owner: no standby.
    """
    registry = er.async_get(hass)
    seen: dict[str, list[tuple[str | None, str, list[str] | None]]] = {}
    for opened in (envoy, pvs):
        async with opened(hass) as (hub, _):
            serial = hub.snapshot.identity.serial
            for entity_id in (
                *hass.states.async_entity_ids(SELECT_DOMAIN),
                *hass.states.async_entity_ids(NUMBER_DOMAIN),
            ):
                entry = registry.async_get(entity_id)
                assert entry is not None
                if not entry.unique_id.startswith(f"{serial}_"):
                    continue  # a relay's setting
                options = hass.states.get(entity_id).attributes.get("options")  # type: ignore[union-attr]
                seen.setdefault(entry.domain, []).append(
                    (
                        entry.translation_key,
                        entry.unique_id.removeprefix(f"{serial}_"),
                        options,
                    )
                )
    assert seen["select"] == [
        ("battery_mode", "battery_mode", ["backup", "self_consumption", "savings"]),
        ("battery_mode", "battery_mode", ["self_consumption", "savings", "backup"]),
    ]
    assert seen["number"] == [
        ("backup_reserve", "backup_reserve", None),
        ("backup_reserve", "backup_reserve", None),
    ]
