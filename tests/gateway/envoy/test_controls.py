"""Every control sends exactly the documented request and returns the answer.

The simulated Envoy applies each write as the real one does (and refuses a body it
would refuse), so the answers are the gateway's own."""

import copy
import json

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy import EnvoyClient
from custom_components.solar_gateway.gateway.envoy.site_mapping import relay_serial
from custom_components.solar_gateway.gateway.errors import (
    ControlRefusedError,
    FeatureUnavailableError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.site import (
    ControlChange,
    ControlKey,
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
        (ControlKey.BATTERY_MODE, "backup", {"mode": "backup"}),
        (ControlKey.BATTERY_MODE, "self_consumption", {"mode": "self-consumption"}),
        # Spelt as the gateway reports its own savings mode (economy here).
        (ControlKey.BATTERY_MODE, "savings", {"mode": "economy"}),
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
