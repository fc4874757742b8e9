"""Every control sends exactly the documented request and returns the answer."""

import copy
import json

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy import EnvoyClient, StorageMode
from custom_components.solar_gateway.gateway.errors import (
    ControlRefusedError,
    FeatureUnavailableError,
    UnexpectedPayloadError,
)
from tests.conftest import make_token

from .helpers import ENVOY_FIXTURES
from .server import FakeEnvoy

TARIFF = json.loads(
    (ENVOY_FIXTURES / "metered_battery" / "admin_lib_tariff").read_text()
)
RELAYS = json.loads(
    (ENVOY_FIXTURES / "metered_battery" / "ivp_ss_dry_contact_settings").read_text()
)


async def _client(
    fake: FakeEnvoy, session: aiohttp.ClientSession, scenario: str = "metered_battery"
) -> EnvoyClient:
    fake.folder = ENVOY_FIXTURES / scenario
    fake.reply("GET", "/auth/check_jwt", 200, "ok")
    client = EnvoyClient(session, fake.host, token=make_token())
    await client.setup()
    fake.requests.clear()
    return client


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
            {"dry_contacts": [{"id": "NC1", "status": "open"}]},
        ),
        (
            "close_dry_contact",
            ("NO1",),
            "/ivp/ensemble/dry_contacts",
            {"dry_contacts": {"id": "NO1", "status": "closed"}},
            {"dry_contacts": [{"id": "NO1", "status": "closed"}]},
        ),
    ],
)
async def test_simple_controls(
    fake: FakeEnvoy,
    session: aiohttp.ClientSession,
    method_name: str,
    args: tuple[str, ...],
    path: str,
    body: dict[str, object],
    answer: dict[str, object],
) -> None:
    """Grid relay and dry contacts: one POST with the documented body."""
    client = await _client(fake, session)
    fake.reply("POST", path, 200, answer)
    result = await getattr(client, method_name)(*args)
    assert result == answer
    [sent] = fake.requests
    assert (sent.method, sent.path, sent.json()) == ("POST", path, body)
    assert sent.headers["Authorization"].startswith("Bearer ")


async def test_update_dry_contact_sends_complete_settings(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """The relay's complete settings go out, with only the change applied."""
    client = await _client(fake, session)
    fake.reply("POST", "/ivp/ss/dry_contact_settings", 200, {"status": "ok"})
    assert await client.update_dry_contact(
        "NO1", {"load_name": "Heater", "soc_low": 20.0}
    ) == {"status": "ok"}
    [sent] = fake.requests
    expected = copy.deepcopy(RELAYS["dry_contacts"][1])
    expected.update(load_name="Heater", soc_low=20.0)
    assert (sent.method, sent.path) == ("POST", "/ivp/ss/dry_contact_settings")
    assert sent.json() == {"dry_contacts": expected}
    with pytest.raises(FeatureUnavailableError):
        await client.update_dry_contact("NC9", {"load_name": "x"})
    with pytest.raises(ValueError):
        await client.update_dry_contact("NO1", {"id": "NC1"})


@pytest.mark.parametrize(
    ("method_name", "value", "changed"),
    [
        ("set_storage_mode", StorageMode.BACKUP, {"mode": "backup"}),
        ("set_storage_mode", StorageMode.SAVINGS, {"mode": "savings-mode"}),
        ("set_reserve_soc", 45, {"reserved_soc": 45.0}),
        ("set_charge_from_grid", True, {"charge_from_grid": True}),
    ],
)
async def test_tariff_controls(
    fake: FakeEnvoy,
    session: aiohttp.ClientSession,
    method_name: str,
    value: object,
    changed: dict[str, object],
) -> None:
    """A PUT of the whole tariff with only storage_settings changed."""
    client = await _client(fake, session)
    fake.reply("PUT", "/admin/lib/tariff", 200, {"tariff": "saved"})
    assert await getattr(client, method_name)(value) == {"tariff": "saved"}
    [sent] = fake.requests
    expected = copy.deepcopy(TARIFF["tariff"])
    expected["storage_settings"].update(changed)
    assert (sent.method, sent.path) == ("PUT", "/admin/lib/tariff")
    assert sent.json() == {"tariff": expected}
    # What was read is untouched until the gateway is read again.
    assert client.data.tariff is not None
    assert client.data.tariff.document == TARIFF


async def test_settings_stale_after_write(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """After a write the next refresh re-reads the settings, whatever groups it asks."""
    client = await _client(fake, session)
    fake.reply("POST", "/ivp/ensemble/relay", 200, {"mains_admin_state": "open"})
    await client.go_off_grid()
    fake.requests.clear()
    await client.refresh(frozenset({DataGroup.LIVE}))
    paths = {r.path for r in fake.requests}
    assert {"/admin/lib/tariff", "/ivp/ss/dry_contact_settings"} <= paths
    fake.requests.clear()
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert "/admin/lib/tariff" not in {r.path for r in fake.requests}


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_control(
    fake: FakeEnvoy, session: aiohttp.ClientSession, status: int
) -> None:
    """401/403 on a write is ControlRefusedError with the status."""
    client = await _client(fake, session)
    fake.reply("POST", "/ivp/ensemble/relay", status, {})
    with pytest.raises(ControlRefusedError) as err:
        await client.go_on_grid()
    assert err.value.status == status


async def test_control_odd_answers(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """Empty answers are {}; non-object JSON is wrapped; errors and junk are typed."""
    client = await _client(fake, session)
    fake.reply("POST", "/ivp/ensemble/relay", 200, "")
    assert await client.go_on_grid() == {}
    fake.reply("POST", "/ivp/ensemble/relay", 200, "[1, 2]")
    assert await client.go_on_grid() == {"answer": [1, 2]}
    fake.reply("POST", "/ivp/ensemble/relay", 500, "boom")
    with pytest.raises(UnexpectedPayloadError):
        await client.go_on_grid()
    fake.reply("POST", "/ivp/ensemble/relay", 200, "<html>")
    with pytest.raises(UnexpectedPayloadError):
        await client.go_on_grid()


async def test_tariff_controls_need_storage(
    fake: FakeEnvoy, session: aiohttp.ClientSession
) -> None:
    """No storage settings: FeatureUnavailableError; bad reserve: ValueError; nothing sent."""
    fake.reply("GET", "/admin/lib/tariff", 404, '{"error": "404 - Not Found"}')
    client = await _client(fake, session, "metered_3phase")
    fake.routes.pop(("GET", "/admin/lib/tariff"))
    with pytest.raises(FeatureUnavailableError):
        await client.set_reserve_soc(30)
    client = await _client(fake, session)
    with pytest.raises(ValueError):
        await client.set_reserve_soc(120)
    assert not fake.sent("PUT")
