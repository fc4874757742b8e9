"""Battery settings after a write: followed for minutes, a cloud override told from
a change made here (the simulated Enphase cloud rewrites the tariff as the real one
does on firmware 8.2.4225+)."""

import copy
from datetime import UTC, datetime
import json

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy import EnvoyClient
from custom_components.solar_gateway.gateway.envoy.models import StorageSettings, Tariff
from custom_components.solar_gateway.gateway.envoy.tariff_watch import (
    FOLLOW_UPS,
    TariffWatch,
)
from custom_components.solar_gateway.gateway.errors import ControlNotAppliedError
from custom_components.solar_gateway.gateway.site import (
    Control,
    ControlChange,
    ControlKey,
    ControlKind,
    SettingOverride,
    SettingSource,
    SiteSnapshot,
)
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway
from tests.gateway.conftest import Simulate

from .helpers import ENVOY_FIXTURES, envoy_client

TARIFF_PATH = "/admin/lib/tariff"
TARIFF = json.loads(
    (ENVOY_FIXTURES / "metered_battery" / "admin_lib_tariff").read_text()
)


async def _client(
    simulate: Simulate, session: aiohttp.ClientSession, **options: object
) -> tuple[EnvoyClient, SimulatedGateway]:
    gw = await simulate("envoy/metered_battery", frozen=False, **options)
    client = envoy_client(session, gw)
    await client.setup()
    await client.first_refresh()
    gw.requests.clear()
    return client, gw


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def _follow_until(
    client: EnvoyClient, clock: ManualClock, seconds: float
) -> SiteSnapshot | None:
    """Let ``seconds`` pass, running each follow-up read when it falls due."""
    end = clock.now() + seconds
    snapshot = None
    while (wait := client.follow_up_in()) is not None and clock.now() + wait <= end:
        clock.advance(wait)
        snapshot = await client.follow_up()
    clock.advance(end - clock.now())
    return snapshot


async def test_mode_write_turns_optimised_schedules_off_in_the_same_put(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Savings: one PUT of the tariff as read, mode and opt_schedules changed only."""
    client, gw = await _client(simulate, session)
    snapshot = await client.apply(
        ControlChange(ControlKey.BATTERY_MODE, None, "savings")
    )
    [put] = gw.received("PUT", TARIFF_PATH)
    expected = copy.deepcopy(TARIFF["tariff"])
    expected["storage_settings"].update(mode="economy", opt_schedules=False)
    assert put.json() == {"tariff": expected}
    switch = snapshot.control(ControlKey.OPTIMISED_SCHEDULES)
    assert switch is not None
    assert switch.value is False
    mode = snapshot.control(ControlKey.BATTERY_MODE)
    assert mode is not None
    assert (mode.value, mode.changed_by) == ("savings", SettingSource.CLIENT)


async def test_cloud_override_is_followed_and_told(
    simulate: Simulate, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Write Savings; the cloud puts self-consumption back 90 s later: the follow-up
    at 2 minutes shows it, as the cloud's change, an override of the write; each
    follow-up is one read of the tariff, three in all."""
    client, gw = await _client(simulate, session, cloud_revert_after=90.0)
    written_at = _at(clock.now())
    await client.apply(ControlChange(ControlKey.BATTERY_MODE, None, "savings"))
    assert client.follow_up_in() == FOLLOW_UPS[0].total_seconds()
    gw.requests.clear()

    first = await _follow_until(client, clock, 30)
    assert first is not None
    mode = first.control(ControlKey.BATTERY_MODE)
    assert mode is not None
    assert (mode.value, mode.changed_by, mode.changed_at) == (
        "savings",
        SettingSource.CLIENT,
        written_at,
    )
    assert first.overrides == ()

    later = await _follow_until(client, clock, 90)
    assert later is not None
    pushed_at = written_at.timestamp() + 90
    mode = later.control(ControlKey.BATTERY_MODE)
    assert mode is not None
    assert (mode.value, mode.changed_by, mode.changed_at) == (
        "self_consumption",
        SettingSource.ENPHASE_CLOUD,
        _at(pushed_at),
    )
    switch = later.control(ControlKey.OPTIMISED_SCHEDULES)
    assert switch is not None
    assert switch.value is True
    assert later.overrides == (
        SettingOverride(
            key=ControlKey.BATTERY_MODE,
            device=None,
            written="savings",
            value="self_consumption",
            written_at=written_at,
            changed_at=_at(pushed_at),
        ),
    )

    await _follow_until(client, clock, 600)
    assert client.follow_up_in() is None
    assert [(r.method, r.path) for r in gw.requests] == [("GET", TARIFF_PATH)] * 3
    # Never written again: the client does not argue with the cloud.
    assert not gw.received("PUT")


async def test_write_that_holds_is_no_override(
    simulate: Simulate, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Without a cloud (outbound internet blocked) the reserve stays: no override,
    changed by the client; a new write clears an override standing for the setting."""
    client, _ = await _client(simulate, session)
    await client.apply(ControlChange(ControlKey.BACKUP_RESERVE, None, 55.0))
    snapshot = await _follow_until(client, clock, 600)
    assert snapshot is not None
    assert snapshot.overrides == ()
    reserve = snapshot.control(ControlKey.BACKUP_RESERVE)
    assert reserve is not None
    assert (reserve.value, reserve.changed_by) == (55.0, SettingSource.CLIENT)


async def test_override_stands_until_written_again(
    simulate: Simulate, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """The override stays after the follow-ups end; the next write of the setting
    clears it (and is watched in turn)."""
    client, _ = await _client(simulate, session, cloud_revert_after=60.0)
    await client.apply(ControlChange(ControlKey.CHARGE_FROM_GRID, None, True))
    snapshot = await _follow_until(client, clock, 600)
    assert snapshot is not None
    assert [o.key for o in snapshot.overrides] == [ControlKey.CHARGE_FROM_GRID]
    assert (await client.refresh(frozenset())).overrides == snapshot.overrides
    rewritten = await client.apply(
        ControlChange(ControlKey.CHARGE_FROM_GRID, None, True)
    )
    assert rewritten.overrides == ()


async def test_change_in_the_app_is_the_clouds(
    simulate: Simulate, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A change pushed without a write here (the Enphase app) is shown as the
    cloud's, with its push time, and is no override."""
    client, gw = await _client(simulate, session)
    pushed = copy.deepcopy(TARIFF)
    pushed["tariff"]["date"] = str(int(clock.now()) + 10)
    pushed["tariff"]["storage_settings"]["reserved_soc"] = 70.0
    gw.answer("GET", TARIFF_PATH, 200, pushed)
    snapshot = await client.refresh(frozenset({DataGroup.SETTINGS}))
    reserve = snapshot.control(ControlKey.BACKUP_RESERVE)
    assert reserve is not None
    assert (reserve.value, reserve.changed_by, reserve.changed_at) == (
        70.0,
        SettingSource.ENPHASE_CLOUD,
        _at(int(clock.now()) + 10),
    )
    assert snapshot.overrides == ()


async def test_mode_ignored_under_optimised_schedules_is_not_confirmed(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A read-back with optimised schedules still on: the mode reads back, but the
    batteries ignore it, so the write is not confirmed."""
    client, gw = await _client(simulate, session)
    ignored = copy.deepcopy(TARIFF)
    ignored["tariff"]["storage_settings"]["mode"] = "backup"
    gw.answer("GET", TARIFF_PATH, 200, ignored, count=1)
    with pytest.raises(ControlNotAppliedError, match="optimised schedules"):
        await client.apply(ControlChange(ControlKey.BATTERY_MODE, None, "backup"))


async def test_optimised_schedules_switch_writes_only_that(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """The switch turns Enphase's optimisation back on: the tariff as read, only
    opt_schedules changed."""
    client, gw = await _client(simulate, session)
    await client.apply(ControlChange(ControlKey.OPTIMISED_SCHEDULES, None, False))
    [put] = gw.received("PUT", TARIFF_PATH)
    expected = copy.deepcopy(TARIFF["tariff"])
    expected["storage_settings"]["opt_schedules"] = False
    assert put.json() == {"tariff": expected}


async def test_no_optimised_schedules_switch_without_the_key(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Firmware without opt_schedules: no switch, and a mode write adds no key."""
    older = copy.deepcopy(TARIFF)
    del older["tariff"]["storage_settings"]["opt_schedules"]
    client, gw = await _client(simulate, session)
    gw.answer("GET", TARIFF_PATH, 200, older)
    snapshot = await client.refresh(frozenset({DataGroup.SETTINGS}))
    assert snapshot.control(ControlKey.OPTIMISED_SCHEDULES) is None
    gw.faults.clear()
    await client.apply(ControlChange(ControlKey.BATTERY_MODE, None, "backup"))
    [put] = gw.received("PUT", TARIFF_PATH)
    body = put.json()
    assert isinstance(body, dict)
    assert "opt_schedules" not in body["tariff"]["storage_settings"]


def _tariff(mode: str, date: str | None) -> Tariff:
    return Tariff(
        storage=StorageSettings(
            mode=mode, reserved_soc=30.0, charge_from_grid=False, very_low_soc=10
        ),
        document={},
        date=date,
    )


def _mode(value: str) -> tuple[Control, ...]:
    return (Control(key=ControlKey.BATTERY_MODE, kind=ControlKind.SELECT, value=value),)


@pytest.mark.parametrize("date", ["soon", "0", "1e30", None])
def test_push_time_unreadable_is_when_seen(date: str | None) -> None:
    """A tariff date that is no time: the cloud's change is dated when it was seen."""
    watch = TariffWatch()
    now = _at(1_750_000_000)
    watch.follow(_tariff("economy", "1"), _mode("savings"), now)
    [control] = watch.follow(_tariff("backup", date), _mode("backup"), now)
    assert (control.changed_by, control.changed_at) == (
        SettingSource.ENPHASE_CLOUD,
        now,
    )


def test_write_the_gateway_did_not_take_is_no_override() -> None:
    """A read-back under the date the write sent, with another value: the gateway
    did not take it (the write's confirmation says so); nothing is overridden."""
    watch = TariffWatch()
    now = _at(1_750_000_000)
    before = _tariff("self-consumption", "1")
    watch.follow(before, _mode("self_consumption"), now)
    watch.wrote(ControlKey.BATTERY_MODE, "backup", before, now)
    [control] = watch.follow(
        _tariff("self-consumption", "1"), _mode("self_consumption"), now
    )
    assert watch.overrides == ()
    assert control.changed_by is None
    assert watch.written == {}


def test_late_cloud_change_is_no_override() -> None:
    """The cloud's change seen long after the watch (an hourly read): the cloud's
    change, not an override of the write."""
    watch = TariffWatch()
    now = _at(1_750_000_000)
    before = _tariff("self-consumption", "1")
    watch.follow(before, _mode("self_consumption"), now)
    watch.wrote(ControlKey.BATTERY_MODE, "backup", before, now)
    watch.follow(_tariff("backup", "1"), _mode("backup"), now)
    later = _at(1_750_000_000 + 3600)
    [control] = watch.follow(
        _tariff("self-consumption", "2"), _mode("self_consumption"), later
    )
    assert watch.overrides == ()
    assert control.changed_by is SettingSource.ENPHASE_CLOUD
    assert watch.follow_up_in(later) == 0.0
    watch.followed_up(later)
    assert watch.follow_up_in(later) is None


def test_controls_carry_who_changed_them() -> None:
    """No origin known: the controls as described; a write read back: the client's."""
    watch = TariffWatch()
    now = _at(1_750_000_000)
    tariff = _tariff("self-consumption", "1")
    controls = _mode("self_consumption")
    assert watch.follow(tariff, controls, now) is controls
    watch.wrote(ControlKey.BATTERY_MODE, "self_consumption", tariff, now)
    [control] = watch.follow(_tariff("self-consumption", "1"), controls, now)
    assert (control.changed_by, control.changed_at) == (SettingSource.CLIENT, now)
    assert watch.follow(None, controls, now) == (control,)
