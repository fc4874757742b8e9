"""The simulated Enphase cloud, which puts its battery settings back after a local
write (firmware 8.2.4225+): off by default, on by option or fault."""

import copy
from dataclasses import replace
import json
from typing import Any

import aiohttp

from simulator import SimulatedGateway
from simulator.clock import ManualClock
from simulator.faults import Fault, FaultName
from tests.conftest import FIXTURES

from .conftest import NOON, OPTIONS

SITE = FIXTURES / "envoy" / "metered_battery"
TARIFF = "/admin/lib/tariff"


async def read(gw: SimulatedGateway, session: aiohttp.ClientSession) -> Any:
    """The tariff document as the gateway serves it now."""
    async with session.get(
        f"{gw.url}{TARIFF}", headers={"Authorization": f"Bearer {gw.token}"}
    ) as response:
        assert response.status == 200
        return json.loads(await response.read())


async def write(
    gw: SimulatedGateway, session: aiohttp.ClientSession, **storage: object
) -> None:
    """PUT the whole tariff as read, with ``storage`` changed (as the client does)."""
    tariff = copy.deepcopy((await read(gw, session))["tariff"])
    tariff["storage_settings"].update(storage)
    async with session.put(
        f"{gw.url}{TARIFF}",
        json={"tariff": tariff},
        headers={"Authorization": f"Bearer {gw.token}"},
    ) as response:
        assert response.status == 200


async def test_cloud_puts_its_settings_back_after_the_delay(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """With the option, a local mode write is taken, then rewritten N seconds later
    as the cloud does: new date, optimised schedules on, self-consumption."""
    options = replace(OPTIONS, cloud_revert_after=90.0)
    async with SimulatedGateway.start(SITE, clock=clock, options=options) as gw:
        before = await read(gw, session)
        await write(gw, session, mode="economy", opt_schedules=False)
        clock.advance(89)
        held = await read(gw, session)
        assert held["tariff"]["storage_settings"]["mode"] == "economy"
        assert held["tariff"]["date"] == before["tariff"]["date"]
        clock.advance(1)
        pushed = await read(gw, session)
    storage = pushed["tariff"]["storage_settings"]
    assert storage["mode"] == "self-consumption"
    assert storage["opt_schedules"] is True
    assert pushed["tariff"]["date"] == str(int(NOON + 90))
    assert storage["date"] == str(int(NOON + 90))
    # Everything else is the document as written.
    expected = copy.deepcopy(before)
    expected["tariff"]["date"] = storage["date"]
    expected["tariff"]["storage_settings"].update(
        date=storage["date"], mode="self-consumption", opt_schedules=True
    )
    assert pushed == expected


async def test_cloud_restores_reserve_and_leaves_agreeing_writes(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """The reserve goes back to the cloud's; a write the cloud agrees with is left."""
    options = replace(OPTIONS, cloud_revert_after=60.0)
    async with SimulatedGateway.start(SITE, clock=clock, options=options) as gw:
        captured = (await read(gw, session))["tariff"]["storage_settings"]
        await write(gw, session, reserved_soc=55.0)
        assert gw.state.reserve_soc == 55.0
        clock.advance(60)
        storage = (await read(gw, session))["tariff"]["storage_settings"]
        assert storage["reserved_soc"] == captured["reserved_soc"]
        assert gw.state.reserve_soc == captured["reserved_soc"]
        pushed = await read(gw, session)
        await write(gw, session, reserved_soc=captured["reserved_soc"])
        clock.advance(600)
        assert await read(gw, session) == pushed


async def test_no_cloud_by_default(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Without the option or fault a local write stays (no cloud reaches the gateway)."""
    async with SimulatedGateway.start(SITE, clock=clock, options=OPTIONS) as gw:
        await write(gw, session, mode="backup", opt_schedules=False)
        clock.advance(3600)
        storage = (await read(gw, session))["tariff"]["storage_settings"]
        assert storage["mode"] == "backup"
        assert gw.state.backup_only


async def test_cloud_override_fault(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """The fault turns the cloud on with its own delay until cleared."""
    async with SimulatedGateway.start(SITE, clock=clock, options=OPTIONS) as gw:
        gw.add_fault(Fault(FaultName.CLOUD_OVERRIDE, amount=30.0))
        await write(gw, session, mode="backup", opt_schedules=False)
        assert gw.state.backup_only
        clock.advance(30)
        storage = (await read(gw, session))["tariff"]["storage_settings"]
        assert storage["mode"] == "self-consumption"
        assert not gw.state.backup_only
        cloud = gw.state_document()["controls"]
        assert isinstance(cloud, dict)
        assert cloud["enphase_cloud"]["pushes"] == 1
        gw.faults.clear(FaultName.CLOUD_OVERRIDE)
        await write(gw, session, mode="backup", opt_schedules=False)
        clock.advance(600)
        storage = (await read(gw, session))["tariff"]["storage_settings"]
        assert storage["mode"] == "backup"


async def test_mode_ignored_while_optimised_schedules_are_on(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """With opt_schedules true the mode reads back, but the batteries ignore it."""
    async with SimulatedGateway.start(SITE, clock=clock, options=OPTIONS) as gw:
        await write(gw, session, mode="backup", opt_schedules=True)
        storage = (await read(gw, session))["tariff"]["storage_settings"]
        assert storage["mode"] == "backup"
        assert not gw.state.backup_only
        await write(gw, session, mode="backup", opt_schedules=False)
        assert gw.state.backup_only
