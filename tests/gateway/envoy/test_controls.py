"""Every control sends exactly the documented request and returns the answer.

The simulated Envoy applies each write as the real one does (and refuses a body it
would refuse), so the answers are the gateway's own."""

import copy
from dataclasses import replace
import json

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy import EnvoyClient, StorageMode
from custom_components.solar_gateway.gateway.envoy.controls import (
    CONTROL_INPUTS,
    ControlsCache,
    describe,
)
from custom_components.solar_gateway.gateway.envoy.models import EnvoyData
from custom_components.solar_gateway.gateway.envoy.production_switch import (
    ProductionTracker,
)
from custom_components.solar_gateway.gateway.errors import (
    ControlRefusedError,
    FeatureUnavailableError,
    UnexpectedPayloadError,
)
from simulator.server import SimulatedGateway
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


@pytest.mark.parametrize(
    ("method_name", "args", "path", "body", "answer"),
    [
        (
            "go_off_grid",
            (),
            "/ivp/ensemble/relay",
            {"mains_admin_state": "open"},
            {"mains_admin_state": "open"},
        ),
        (
            "go_on_grid",
            (),
            "/ivp/ensemble/relay",
            {"mains_admin_state": "closed"},
            {"mains_admin_state": "closed"},
        ),
        (
            "open_dry_contact",
            ("NC1",),
            "/ivp/ensemble/dry_contacts",
            {"dry_contacts": {"id": "NC1", "status": "open"}},
            _contacts_with("NC1", "open"),
        ),
        (
            "close_dry_contact",
            ("NO1",),
            "/ivp/ensemble/dry_contacts",
            {"dry_contacts": {"id": "NO1", "status": "closed"}},
            _contacts_with("NO1", "closed"),
        ),
    ],
)
async def test_simple_controls(
    simulate: Simulate,
    session: aiohttp.ClientSession,
    method_name: str,
    args: tuple[str, ...],
    path: str,
    body: dict[str, object],
    answer: dict[str, object],
) -> None:
    """Grid relay and dry contacts: one POST with the documented body."""
    client, gw = await _client(simulate, session)
    result = await getattr(client, method_name)(*args)
    assert result == answer
    [sent] = gw.requests
    assert (sent.method, sent.path, sent.json()) == ("POST", path, body)
    assert sent.headers["Authorization"].startswith("Bearer ")


async def test_update_dry_contact_sends_complete_settings(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """The relay's complete settings go out, with only the change applied."""
    client, gw = await _client(simulate, session)
    answer = await client.update_dry_contact(
        "NO1", {"load_name": "Heater", "soc_low": 20.0}
    )
    [sent] = gw.requests
    expected = copy.deepcopy(RELAYS["dry_contacts"][1])
    expected.update(load_name="Heater", soc_low=20.0)
    saved = copy.deepcopy(RELAYS)
    saved["dry_contacts"][1] = expected
    assert answer == saved  # the gateway took the complete settings
    assert (sent.method, sent.path) == ("POST", "/ivp/ss/dry_contact_settings")
    assert sent.json() == {"dry_contacts": expected}
    with pytest.raises(FeatureUnavailableError):
        await client.update_dry_contact("NC9", {"load_name": "x"})
    with pytest.raises(ValueError):
        await client.update_dry_contact("NO1", {"id": "NC1"})


@pytest.mark.parametrize(
    ("method_name", "value", "changed"),
    [
        # A mode change turns Enphase's optimised schedules off (the batteries
        # ignore the mode while they are on).
        (
            "set_storage_mode",
            StorageMode.BACKUP,
            {"mode": "backup", "opt_schedules": False},
        ),
        (
            "set_storage_mode",
            StorageMode.SAVINGS,
            {"mode": "savings-mode", "opt_schedules": False},
        ),
        ("set_reserve_soc", 45, {"reserved_soc": 45.0}),
        ("set_charge_from_grid", True, {"charge_from_grid": True}),
    ],
)
async def test_tariff_controls(
    simulate: Simulate,
    session: aiohttp.ClientSession,
    method_name: str,
    value: object,
    changed: dict[str, object],
) -> None:
    """A PUT of the whole tariff with only storage_settings changed."""
    client, gw = await _client(simulate, session)
    answer = await getattr(client, method_name)(value)
    [sent] = gw.requests
    expected = copy.deepcopy(TARIFF["tariff"])
    expected["storage_settings"].update(changed)
    assert (sent.method, sent.path) == ("PUT", "/admin/lib/tariff")
    assert sent.json() == {"tariff": expected}
    assert answer == {**TARIFF, "tariff": expected}  # saved as sent
    # What was read is untouched until the gateway is read again.
    assert client.data.tariff is not None
    assert client.data.tariff.document == TARIFF


async def test_settings_stale_after_write(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """After a write the next refresh re-reads the settings, whatever groups it asks."""
    client, gw = await _client(simulate, session)
    await client.go_off_grid()
    gw.requests.clear()
    await client.refresh(frozenset({DataGroup.LIVE}))
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
    with pytest.raises(ControlRefusedError) as err:
        await client.go_on_grid()
    assert err.value.status == status


async def test_control_odd_answers(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Empty answers are {}; non-object JSON is wrapped; errors and junk are typed."""
    client, gw = await _client(simulate, session)
    gw.answer("POST", "/ivp/ensemble/relay", 200, "")
    assert await client.go_on_grid() == {}
    gw.answer("POST", "/ivp/ensemble/relay", 200, "[1, 2]")
    assert await client.go_on_grid() == {"answer": [1, 2]}
    gw.answer("POST", "/ivp/ensemble/relay", 500, "boom")
    with pytest.raises(UnexpectedPayloadError):
        await client.go_on_grid()
    gw.answer("POST", "/ivp/ensemble/relay", 200, "<html>")
    with pytest.raises(UnexpectedPayloadError):
        await client.go_on_grid()


async def test_tariff_controls_need_storage(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """No storage settings: FeatureUnavailableError; bad reserve: ValueError; nothing sent."""
    three_phase = await simulate("envoy/metered_3phase")
    three_phase.answer("GET", "/admin/lib/tariff", 404, {"error": "404 - Not Found"})
    client = envoy_client(session, three_phase)
    await client.setup()
    with pytest.raises(FeatureUnavailableError):
        await client.set_reserve_soc(30)
    client, gw = await _client(simulate, session)
    with pytest.raises(ValueError):
        await client.set_reserve_soc(120)
    assert not three_phase.received("PUT")
    assert not gw.received("PUT")


async def test_controls_follow_every_part_of_the_data_but_the_live_ones(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """The controls are described again when any part of the data they may read is
    new; after a poll that replaced only the CT readings and production documents
    they are the very objects they were, as they are when rebuilt equal."""
    client, _ = await _client(simulate, session)
    snapshot = await client.refresh(frozenset(DataGroup))
    data = client.data
    cache, tracker = ControlsCache(), ProductionTracker()
    first = cache.describe(data, snapshot, tracker)
    assert first == describe(data, snapshot, tracker)
    live = replace(data, meter_readings=(), production=None, api_production=None)
    assert cache.describe(live, snapshot, tracker) is first
    assert data.tariff is not None
    assert (
        cache.describe(replace(live, tariff=copy.copy(data.tariff)), snapshot, tracker)
        is first
    )
    without_tariff = cache.describe(replace(live, tariff=None), snapshot, tracker)
    assert {c.key for c in first} - {c.key for c in without_tariff} == {
        "battery_mode",
        "backup_reserve",
        "charge_from_grid",
        "optimised_schedules",
    }
    no_relays = cache.describe(replace(live, dry_contacts=()), snapshot, tracker)
    assert (
        sum(c.key == "relay" for c in no_relays)
        == 0
        < sum(c.key == "relay" for c in first)
    )


class _Recording:
    """Stands in for an ``EnvoyData`` and notes each part read from it."""

    def __init__(self, data: EnvoyData) -> None:
        self.data = data
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> object:
        self.read.add(name)
        return getattr(self.data, name)


@pytest.mark.parametrize(
    "scenario", sorted(p.name for p in ENVOY_FIXTURES.iterdir() if p.is_dir())
)
async def test_controls_read_only_their_inputs(
    simulate: Simulate, session: aiohttp.ClientSession, scenario: str
) -> None:
    """On every fixture site the controls read no part of the data but
    ``CONTROL_INPUTS``: the cache that keeps them while those are unchanged is
    right."""
    client, _ = await _client(simulate, session, scenario)
    snapshot = await client.refresh(frozenset(DataGroup))
    recording = _Recording(client.data)
    tracker = ProductionTracker()
    controls = describe(recording, snapshot, tracker)  # type: ignore[arg-type]
    assert controls == describe(client.data, snapshot, tracker)
    assert recording.read <= set(CONTROL_INPUTS), recording.read - set(CONTROL_INPUTS)
