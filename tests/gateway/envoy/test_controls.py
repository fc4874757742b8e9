"""Every control sends exactly the documented request and returns the answer.

The simulated Envoy applies each write as the real one does (and refuses a body it
would refuse), so the answers are the gateway's own."""

import copy
import json

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy import EnvoyClient
from custom_components.solar_gateway.gateway.envoy.controls import (
    dry_contact_settings_request,
    tariff_request,
)
from custom_components.solar_gateway.gateway.envoy.models import StorageMode
from custom_components.solar_gateway.gateway.envoy.parsers.settings import (
    parse_dry_contact_settings,
)
from custom_components.solar_gateway.gateway.envoy.site_mapping import relay_serial
from custom_components.solar_gateway.gateway.errors import (
    ControlRefusedError,
    FeatureUnavailableError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.site import (
    ControlChange,
    ControlKey,
    ControlKind,
    ControlValue,
)
from simulator.server import Received, SimulatedGateway
from tests.gateway.conftest import Simulate

from .helpers import ENVOY_FIXTURES, envoy_client

TARIFF = json.loads(
    (ENVOY_FIXTURES / "metered_battery" / "admin_lib_tariff").read_text()
)
RELAYS = json.loads(
    (ENVOY_FIXTURES / "metered_battery" / "ivp_ss_dry_contact_settings").read_text()
)
CONTACTS = json.loads(
    (ENVOY_FIXTURES / "metered_battery" / "ivp_ensemble_dry_contacts").read_text()
)


def _contacts_with(contact: str, status: str) -> dict[str, object]:
    """The dry contacts document with one contact's status changed."""
    document = copy.deepcopy(CONTACTS)
    for entry in document["dry_contacts"]:
        if entry["id"] == contact:
            entry["status"] = status
    return document


async def _client(
    simulate: Simulate,
    session: aiohttp.ClientSession,
    scenario: str = "metered_battery",
) -> tuple[EnvoyClient, SimulatedGateway]:
    gw = await simulate(f"envoy/{scenario}")
    client = envoy_client(session, gw)
    await client.setup()
    gw.requests.clear()
    return client, gw


def _writes(gw: SimulatedGateway) -> list[Received]:
    """The requests that are no reads."""
    return [r for r in gw.requests if r.method != "GET"]


async def _change(
    client: EnvoyClient, key: ControlKey, relay: str | None, value: ControlValue
) -> ControlChange:
    """The change of control ``key`` (of dry contact ``relay``) to ``value``."""
    snapshot = await client.first_refresh()
    ensemble = client.data.ensemble
    assert ensemble is not None
    controller = ensemble.enpowers[0].serial
    device = relay_serial(controller, relay) if relay else None
    for control in snapshot.controls:
        if control.key is key and (device is None or control.device == device):
            return ControlChange(key, control.device, value)
    raise AssertionError(f"no {key} control for {relay}")


@pytest.mark.parametrize(
    ("key", "relay", "value", "path", "body"),
    [
        (
            ControlKey.GRID_CONNECTION,
            None,
            False,
            "/ivp/ensemble/relay",
            {"mains_admin_state": "open"},
        ),
        (
            ControlKey.GRID_CONNECTION,
            None,
            True,
            "/ivp/ensemble/relay",
            {"mains_admin_state": "closed"},
        ),
        (
            ControlKey.RELAY,
            "NC1",
            False,
            "/ivp/ensemble/dry_contacts",
            {"dry_contacts": {"id": "NC1", "status": "open"}},
        ),
        (
            ControlKey.RELAY,
            "NO1",
            True,
            "/ivp/ensemble/dry_contacts",
            {"dry_contacts": {"id": "NO1", "status": "closed"}},
        ),
    ],
)
async def test_simple_controls(
    simulate: Simulate,
    session: aiohttp.ClientSession,
    key: ControlKey,
    relay: str | None,
    value: bool,
    path: str,
    body: dict[str, object],
) -> None:
    """Grid relay and dry contacts: one POST with the documented body, read back."""
    client, gw = await _client(simulate, session)
    await client.apply(await _change(client, key, relay, value))
    [sent] = _writes(gw)
    assert (sent.method, sent.path, sent.json()) == ("POST", path, body)
    assert sent.headers["Authorization"].startswith("Bearer ")


async def test_a_relay_setting_sends_the_complete_settings(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """The relay's complete settings go out, with only the change applied."""
    client, gw = await _client(simulate, session)
    await client.apply(await _change(client, ControlKey.CUTOFF_SOC, "NO1", 20.0))
    [sent] = _writes(gw)
    expected = copy.deepcopy(RELAYS["dry_contacts"][1])
    expected.update(soc_low=20.0)
    assert (sent.method, sent.path) == ("POST", "/ivp/ss/dry_contact_settings")
    assert sent.json() == {"dry_contacts": expected}
    with pytest.raises(FeatureUnavailableError):
        await client.apply(ControlChange(ControlKey.CUTOFF_SOC, "NC9", 20.0))


@pytest.mark.parametrize(
    ("key", "value", "changed"),
    [
        # A mode change turns Enphase's optimised schedules off (the batteries
        # ignore the mode while they are on).
        (ControlKey.BATTERY_MODE, "backup", {"mode": "backup", "opt_schedules": False}),
        (
            ControlKey.BATTERY_MODE,
            "self_consumption",
            {"mode": "self-consumption", "opt_schedules": False},
        ),
        # Spelt as the gateway reports its own savings mode (economy here).
        (
            ControlKey.BATTERY_MODE,
            "savings",
            {"mode": "economy", "opt_schedules": False},
        ),
        (ControlKey.BACKUP_RESERVE, 45, {"reserved_soc": 45.0}),
        (ControlKey.CHARGE_FROM_GRID, True, {"charge_from_grid": True}),
    ],
)
async def test_tariff_controls(
    simulate: Simulate,
    session: aiohttp.ClientSession,
    key: ControlKey,
    value: ControlValue,
    changed: dict[str, object],
) -> None:
    """A PUT of the whole tariff with only storage_settings changed; read back."""
    client, gw = await _client(simulate, session)
    await client.apply(ControlChange(key, None, value))
    [sent] = _writes(gw)
    expected = copy.deepcopy(TARIFF["tariff"])
    expected["storage_settings"].update(changed)
    assert (sent.method, sent.path) == ("PUT", "/admin/lib/tariff")
    assert sent.json() == {"tariff": expected}
    # The read-back shows what the gateway saved: what was sent.
    assert client.data.tariff is not None
    assert client.data.tariff.document == {**TARIFF, "tariff": expected}


async def test_settings_read_back_after_write(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A write reads the settings back at once; the next live refresh does not."""
    client, gw = await _client(simulate, session)
    await client.apply(await _change(client, ControlKey.GRID_CONNECTION, None, False))
    paths = {r.path for r in gw.requests}
    assert {"/admin/lib/tariff", "/ivp/ss/dry_contact_settings"} <= paths
    gw.requests.clear()
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert "/admin/lib/tariff" not in {r.path for r in gw.requests}


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_control(
    simulate: Simulate, session: aiohttp.ClientSession, status: int
) -> None:
    """401/403 on a write is ControlRefusedError with the status."""
    client, gw = await _client(simulate, session)
    gw.answer("POST", "/ivp/ensemble/relay", status, {})
    change = await _change(client, ControlKey.GRID_CONNECTION, None, True)
    with pytest.raises(ControlRefusedError) as err:
        await client.apply(change)
    assert err.value.status == status


async def test_control_odd_answers(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Empty or non-object JSON answers are taken; errors and junk are typed."""
    client, gw = await _client(simulate, session)
    change = await _change(client, ControlKey.GRID_CONNECTION, None, True)
    gw.answer("POST", "/ivp/ensemble/relay", 200, "")
    await client.apply(change)
    gw.answer("POST", "/ivp/ensemble/relay", 200, "[1, 2]")
    await client.apply(change)
    gw.answer("POST", "/ivp/ensemble/relay", 500, "boom")
    with pytest.raises(UnexpectedPayloadError):
        await client.apply(change)
    gw.answer("POST", "/ivp/ensemble/relay", 200, "<html>")
    with pytest.raises(UnexpectedPayloadError):
        await client.apply(change)


async def test_tariff_controls_need_storage(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """No storage settings: no such control; bad reserve: ValueError; nothing sent."""
    three_phase = await simulate("envoy/metered_3phase")
    three_phase.answer("GET", "/admin/lib/tariff", 404, {"error": "404 - Not Found"})
    client = envoy_client(session, three_phase)
    await client.setup()
    with pytest.raises(FeatureUnavailableError):
        await client.apply(ControlChange(ControlKey.BACKUP_RESERVE, None, 30))
    client, gw = await _client(simulate, session)
    with pytest.raises(ValueError):
        await client.apply(ControlChange(ControlKey.BACKUP_RESERVE, None, 120))
    assert not three_phase.received("PUT")
    assert not gw.received("PUT")


@pytest.mark.parametrize(("reserve", "sent"), [(0, 0.0), (100, 100.0)])
async def test_reserve_from_empty_to_full(
    simulate: Simulate, session: aiohttp.ClientSession, reserve: int, sent: float
) -> None:
    """0 % and 100 % are reserves the gateway takes; just outside them nothing is
    sent."""
    client, gw = await _client(simulate, session)
    await client.apply(ControlChange(ControlKey.BACKUP_RESERVE, None, reserve))
    [put] = _writes(gw)
    assert put.json()["tariff"]["storage_settings"]["reserved_soc"] == sent
    gw.requests.clear()
    for outside in (-0.5, 100.5):
        with pytest.raises(ValueError, match=r"0\.\.100"):
            await client.apply(ControlChange(ControlKey.BACKUP_RESERVE, None, outside))
    assert not _writes(gw)


async def test_no_storage_settings_is_a_missing_feature(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A gateway whose tariff has no storage settings: the feature is absent (as a
    404 would say), not an error of the gateway."""
    gw = await simulate("envoy/metered_3phase")
    gw.answer("GET", "/admin/lib/tariff", 404, {"error": "404 - Not Found"})
    client = envoy_client(session, gw)
    await client.setup()
    with pytest.raises(FeatureUnavailableError):
        await client.apply(ControlChange(ControlKey.BATTERY_MODE, None, "backup"))
    with pytest.raises(
        FeatureUnavailableError, match=r"^this gateway has no storage settings$"
    ) as caught:
        tariff_request(client.data.tariff, mode=StorageMode.BACKUP)
    assert caught.value.status == 404
    assert not _writes(gw)


async def test_a_site_without_system_controller_has_no_grid_or_relay_controls(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """No IQ System Controller: neither the grid connection nor relays are offered."""
    gw = await simulate("envoy/metered_3phase")
    client = envoy_client(session, gw)
    await client.setup()
    snapshot = await client.first_refresh()
    keys = {control.key for control in snapshot.controls}
    assert ControlKey.GRID_CONNECTION not in keys
    assert ControlKey.RELAY not in keys


async def test_grid_and_relay_controls_as_the_raw_files_say(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """The grid connection is the system controller's switch, on while its mains
    relay is closed, read with the devices; each dry contact is a switch of its own
    device, on while closed, read with the live data; a write re-reads settings too."""
    client, _ = await _client(simulate, session)
    snapshot = await client.first_refresh()
    inventory = json.loads(
        (ENVOY_FIXTURES / "metered_battery" / "ivp_ensemble_inventory").read_text()
    )
    (enpower,) = next(s["devices"] for s in inventory if s["type"] == "ENPOWER")
    controller = enpower["serial_num"]
    switches = {
        (c.key, c.device): c for c in snapshot.controls if c.kind is ControlKind.SWITCH
    }
    grid = switches[(ControlKey.GRID_CONNECTION, controller)]
    assert grid.value is (enpower["mains_admin_state"] == "closed")
    assert grid.source is DataGroup.DEVICES
    assert grid.groups == {DataGroup.DEVICES, DataGroup.SETTINGS}
    for contact in CONTACTS["dry_contacts"]:
        relay = switches[(ControlKey.RELAY, relay_serial(controller, contact["id"]))]
        assert relay.value is (contact["status"] == "closed")
        assert relay.source is DataGroup.LIVE
        assert relay.groups == {DataGroup.LIVE, DataGroup.SETTINGS}


def test_a_relays_id_cannot_be_changed() -> None:
    """Settings are written for the relay they were read from."""
    first, second = parse_dry_contact_settings(RELAYS)[:2]
    with pytest.raises(ValueError, match="id cannot be changed"):
        dry_contact_settings_request(first, {"id": second.id})
    request = dry_contact_settings_request(first, {"id": first.id, "soc_low": 20.0})
    assert request.body == {"dry_contacts": {**first.document, "soc_low": 20.0}}
