"""Repair issues: expiring tokens, worn flash, polling faster than the gateway bears."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import time
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import jwt
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.solar_gateway.const import (
    CONF_LIVE_INTERVAL,
    CONF_SETTINGS_INTERVAL,
    CONF_TOKEN,
    DOMAIN,
)
from custom_components.solar_gateway.gateway.client import AccessExpiry, DataGroup
from custom_components.solar_gateway.gateway.envoy.client import EnvoyClient
from custom_components.solar_gateway.gateway.site import (
    Device,
    DeviceKind,
    Measurement,
    Quantity,
)
from custom_components.solar_gateway.issues import (
    flash_wear,
    intervals_too_short,
    token_problem,
)
from custom_components.solar_gateway.repairs import (
    IntervalRepairFlow,
    ReauthRepairFlow,
    async_create_fix_flow,
)
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway

from .fake_gateway import SERIAL, SNAPSHOT, FakeGatewayClient
from .simulated import FIXTURES, NOON, OPTIONS, entry_data

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up ``entry``."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def issue(hass: HomeAssistant, kind: str, entry: MockConfigEntry) -> ir.IssueEntry:
    """The issue ``kind`` of ``entry``; fails when there is none."""
    found = ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry.entry_id}")
    assert found is not None, kind
    return found


def issue_ids(hass: HomeAssistant) -> set[str]:
    """The ids of every issue the integration has raised."""
    return {i for domain, i in ir.async_get(hass).issues if domain == DOMAIN}


async def fix(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, issue_id: str
) -> dict[str, Any]:
    """Open an issue's fix flow as the frontend does, check its form, confirm it."""
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    opened = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert opened.status == 200
    form = await opened.json()
    assert form["type"] == "form"
    assert form["step_id"] == "confirm"
    done = await client.post(f"/api/repairs/issues/fix/{form['flow_id']}", json={})
    assert done.status == 200
    result: dict[str, Any] = await done.json()
    await hass.async_block_till_done()
    return result


# --- the rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "can_renew", "expected"),
    [
        (None, False, None),  # a token without expiry
        (NOW + timedelta(days=31), False, None),
        (NOW + timedelta(days=30), False, (NOW + timedelta(days=30), False)),
        (NOW + timedelta(days=1), True, None),  # renewed by the integration
        (NOW - timedelta(seconds=1), False, (NOW - timedelta(seconds=1), True)),
        (NOW, False, (NOW, True)),
    ],
)
def test_token_problem(
    expires: datetime | None,
    can_renew: bool,
    expected: tuple[datetime, bool] | None,
) -> None:
    """Only a token that cannot be renewed and ends within 30 days is a problem."""
    expiry = None if expires is None else AccessExpiry(expires, renewable=can_renew)
    problem = token_problem(expiry, NOW)
    assert (None if problem is None else (problem.expires, problem.expired)) == (
        expected
    )


def test_access_expiry_of_other_and_unready_clients() -> None:
    """Only a set-up Envoy on token firmware has a token to judge."""
    assert FakeGatewayClient().access_expiry is None
    unready = EnvoyClient(MagicMock(), "envoy.local", username="a", password="b")
    assert unready.access_expiry is None
    pasted = EnvoyClient(MagicMock(), "envoy.local", token="not a jwt")
    pasted._info = MagicMock(uses_tokens=True)
    assert pasted.access_expiry is None


def test_flash_wear_reads_the_gateway_device() -> None:
    """Flash wear is a measurement of the gateway device, absent elsewhere."""
    assert flash_wear(SNAPSHOT) is None
    inverter_wear = replace(
        SNAPSHOT.devices[1],
        measurements=(Measurement(Quantity.FLASH_WEAR, 100),),
    )
    assert flash_wear(replace(SNAPSHOT, devices=(inverter_wear,))) is None
    assert flash_wear(with_flash_wear(SNAPSHOT, 90.4)) == 90


def test_intervals_too_short() -> None:
    """Options below the floor are found; absent or odd options are not."""
    minimum = {
        DataGroup.LIVE: timedelta(seconds=5),
        DataGroup.DEVICES: timedelta(minutes=1),
        DataGroup.SETTINGS: timedelta(minutes=5),
    }
    options = {CONF_LIVE_INTERVAL: 2, CONF_SETTINGS_INTERVAL: True}
    assert intervals_too_short(options, minimum) == {DataGroup.LIVE: (2, 5)}
    assert intervals_too_short({CONF_LIVE_INTERVAL: 5.0}, minimum) == {}


# --- flash wear -------------------------------------------------------------------


def with_flash_wear(snapshot: Any, percent: float) -> Any:
    """``snapshot`` with a PVS gateway device reporting ``percent`` flash wear."""
    pvs = Device(
        kind=DeviceKind.GATEWAY,
        serial=SERIAL,
        manufacturer="SunPower",
        measurements=(Measurement(Quantity.FLASH_WEAR, percent),),
    )
    return replace(snapshot, devices=(pvs, *snapshot.devices))


async def test_flash_wear_issue_follows_each_device_poll(
    hass: HomeAssistant,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """90-100 % used warns, beyond the rated life is an error, a new PVS clears it."""
    fake_client.snapshot = with_flash_wear(SNAPSHOT, 100)
    await setup(hass, fake_entry)

    found = issue(hass, "flash_wear", fake_entry)
    assert found.severity is ir.IssueSeverity.WARNING
    assert found.translation_key == "flash_wear_high"
    assert found.translation_placeholders == {
        "title": fake_entry.title,
        "percent": "100",
    }
    assert not found.is_fixable

    async def poll() -> None:
        # Repairs are checked after device polls (every 5 minutes here).
        freezer.tick(timedelta(minutes=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    fake_client.snapshot = with_flash_wear(SNAPSHOT, 110)
    await poll()
    found = issue(hass, "flash_wear", fake_entry)
    assert found.severity is ir.IssueSeverity.ERROR
    assert found.translation_key == "flash_worn_out"

    fake_client.snapshot = with_flash_wear(SNAPSHOT, 10)
    await poll()
    assert issue_ids(hass) == set()


async def test_issues_go_with_the_entry(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Unloading an entry removes its issues; setting it up checks again."""
    fake_client.snapshot = with_flash_wear(SNAPSHOT, 110)
    await setup(hass, fake_entry)
    assert issue_ids(hass) == {f"flash_wear_{fake_entry.entry_id}"}

    await hass.config_entries.async_unload(fake_entry.entry_id)
    assert issue_ids(hass) == set()

    await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_ids(hass) == {f"flash_wear_{fake_entry.entry_id}"}


# --- polling intervals ------------------------------------------------------------


async def test_interval_issue(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_client: FakeGatewayClient,
) -> None:
    """A stale option below the gateway's floor warns; the fix stores the floor."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Envoy",
        unique_id=SERIAL,
        data={"host": "192.0.2.10", "brand": "enphase"},
        # The scripted gateway bears 5 s live and 10 min settings.
        options={CONF_LIVE_INTERVAL: 2, CONF_SETTINGS_INTERVAL: 600},
    )
    await setup(hass, entry)
    issue_id = f"interval_{entry.entry_id}_live"
    assert issue_ids(hass) == {issue_id}
    found = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert found is not None
    assert found.severity is ir.IssueSeverity.WARNING
    assert found.translation_key == "live_interval_too_short"
    assert found.translation_placeholders == {
        "title": "Envoy",
        "interval": "2",
        "minimum": "5",
    }
    # Meanwhile the gateway is polled at its floor, not faster.
    live = entry.runtime_data.coordinators[DataGroup.LIVE]
    assert live.update_interval == timedelta(seconds=5)

    hub = entry.runtime_data

    result = await fix(hass, hass_client, issue_id)

    assert result["type"] == "create_entry"
    assert entry.options == {CONF_LIVE_INTERVAL: 5, CONF_SETTINGS_INTERVAL: 600}
    # The entry was reloaded with the new option, and checked again: nothing left.
    assert entry.runtime_data is not hub
    assert issue_ids(hass) == set()


async def test_fix_flows_for_removed_entries_and_old_issues(
    hass: HomeAssistant,
) -> None:
    """A fix for an entry that is gone aborts; unknown issue data only confirms."""
    for flow in (ReauthRepairFlow("gone"), IntervalRepairFlow("gone", "x", 5)):
        flow.hass = hass
        result = await flow.async_step_confirm({})
        assert result["type"] == "abort"
        assert result["reason"] == "entry_removed"
    old = await async_create_fix_flow(hass, "interval_x_live", {"entry_id": "x"})
    assert type(old).__name__ == "ConfirmRepairFlow"
    assert isinstance(
        await async_create_fix_flow(hass, "token_x", None), ReauthRepairFlow
    )


# --- Envoy tokens, through the simulator and the real client ----------------------


@pytest.mark.usefixtures("socket_enabled")
async def test_pasted_token_expiring_leads_to_reauth(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """A pasted token running out in 10 days warns; the fix opens reauthentication,
    a new token clears it; an expired one is an error."""
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        data = entry_data(gateway)
        # The simulated clock is pinned in the past; the client judges by the real one.
        lifetime = time.time() - NOON + 10 * 86400
        data[CONF_TOKEN] = gateway.issue_token(lifetime=lifetime)
        entry = MockConfigEntry(
            domain=DOMAIN, title="Envoy", unique_id=gateway.identity.serial, data=data
        )
        await setup(hass, entry)

        found = issue(hass, "token", entry)
        assert found.severity is ir.IssueSeverity.WARNING
        assert found.translation_key == "token_expiring"
        assert found.is_fixable
        expires = jwt.decode(data[CONF_TOKEN], options={"verify_signature": False})
        assert found.translation_placeholders is not None
        assert found.translation_placeholders["title"] == "Envoy"
        assert found.translation_placeholders["expires"] == dt_util.as_local(
            datetime.fromtimestamp(expires["exp"], UTC)
        ).strftime("%Y-%m-%d %H:%M")

        # Later, the token has run out: the issue becomes an error.
        later = datetime.fromtimestamp(expires["exp"], UTC) + timedelta(hours=1)
        with patch(
            "custom_components.solar_gateway.issues.dt_util.utcnow", return_value=later
        ):
            entry.runtime_data.coordinators[DataGroup.SETTINGS].async_update_listeners()
        found = issue(hass, "token", entry)
        assert found.severity is ir.IssueSeverity.ERROR
        assert found.translation_key == "token_expired"

        result = await fix(hass, hass_client, f"token_{entry.entry_id}")
        assert result["type"] == "create_entry"
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]

        # The user gives a long-lived token (as reauthentication stores it).
        hass.config_entries.async_update_entry(
            entry,
            data={**data, CONF_TOKEN: gateway.issue_token(lifetime=100 * 365 * 86400)},
        )
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert issue_ids(hass) == set()
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


@pytest.mark.usefixtures("socket_enabled")
async def test_digest_envoy_has_no_token_issue(hass: HomeAssistant) -> None:
    """Firmware before 7 has no token to run out."""
    async with SimulatedGateway.start(
        FIXTURES / "envoy/legacy_production", clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id=gateway.identity.serial, data=entry_data(gateway)
        )
        await setup(hass, entry)
        assert entry.runtime_data.client.access_expiry is None
        assert issue_ids(hass) == set()
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
