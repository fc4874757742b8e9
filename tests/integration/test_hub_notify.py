"""How the hub tells entities and scans about each poll."""

import asyncio
from dataclasses import replace
from types import SimpleNamespace

from custom_components.solar_gateway.coordinator import NOTIFY_SLICE, SiteHub
from custom_components.solar_gateway.gateway.client import DataGroup

from .fake_gateway import SNAPSHOT, FakeGatewayClient


def hub() -> SiteHub:
    """A hub on a fake gateway."""
    return SiteHub(client=FakeGatewayClient(), snapshot=SNAPSHOT)


async def test_scans_hear_of_device_and_settings_polls_only() -> None:
    """Registry, new-entity scans and repairs: not after a live poll."""
    site = hub()
    heard: list[str] = []
    site.async_add_listener(lambda: heard.append("entity"))
    site.async_add_listener(lambda: heard.append("scan"), structure=True)
    site.async_notify(DataGroup.LIVE)
    assert heard == ["entity"]
    heard.clear()
    for group in (DataGroup.DEVICES, DataGroup.SETTINGS, None):
        site.async_notify(group)
    assert heard == ["entity", "scan"] * 3


async def test_a_large_site_is_told_in_slices() -> None:
    """Thousands of entities: a slice per event-loop turn from the next one on (not
    in the poll's own step), each told once, the latest poll superseding a slice
    still waiting, a removed entity not told."""
    site = hub()
    count = NOTIFY_SLICE * 3 + 1
    told = [0] * count
    removers = [
        site.async_add_listener(lambda i=i: told.__setitem__(i, told[i] + 1))
        for i in range(count)
    ]
    site.async_notify(DataGroup.LIVE)
    assert sum(told) == 0  # told from the next turns
    await asyncio.sleep(0)
    assert sum(told) == NOTIFY_SLICE
    removers[-1]()
    site.async_notify(DataGroup.LIVE)  # a new poll before the others were told
    for _ in range(6):
        await asyncio.sleep(0)
    assert told[:NOTIFY_SLICE] == [2] * NOTIFY_SLICE
    assert told[NOTIFY_SLICE:-1] == [1] * (count - NOTIFY_SLICE - 1)
    assert told[-1] == 0


async def test_a_device_entity_is_told_when_its_device_changed() -> None:
    """An entity of one device hears of a poll only when the poll brought a new
    object for that device, a group's availability changed, or the device went;
    an entity of the site figures hears of every poll."""
    site = hub()
    meter, first, second = SNAPSHOT.devices
    heard: list[str] = []
    site.async_add_listener(lambda: heard.append("site"))
    site.async_add_listener(lambda: heard.append("first"), serial=first.serial)
    site.async_add_listener(lambda: heard.append("second"), serial=second.serial)
    site.async_notify(DataGroup.LIVE)  # nothing told before: everyone
    assert heard == ["site", "first", "second"]

    heard.clear()
    site.snapshot = replace(SNAPSHOT, figures=replace(SNAPSHOT.figures, solar_power=1))
    site.async_notify(DataGroup.LIVE)  # the same device objects
    assert heard == ["site"]

    heard.clear()
    site.snapshot = replace(
        site.snapshot, devices=(meter, replace(first, firmware="2"), second)
    )
    site.async_notify(DataGroup.DEVICES)
    assert heard == ["site", "first"]

    heard.clear()
    site.snapshot = replace(site.snapshot, devices=(meter, first))
    site.async_notify(DataGroup.DEVICES)
    assert heard == ["site", "first", "second"]  # first changed again; second went


async def test_availability_epoch_moves_only_when_availability_may_have() -> None:
    """Entities skip an update whose data they have seen only while the epoch
    stands: it moves on the first notice, on a notice of everything (a write) and
    when a group's success changes, not on an ordinary poll."""
    site = hub()
    live = SimpleNamespace(last_update_success=True)
    site.coordinators[DataGroup.LIVE] = live  # type: ignore[assignment]
    site.async_notify(DataGroup.LIVE)
    epoch = site.availability_epoch
    site.async_notify(DataGroup.LIVE)
    site.async_notify(DataGroup.DEVICES)
    assert site.availability_epoch == epoch
    live.last_update_success = False
    site.async_notify(DataGroup.LIVE)
    assert site.availability_epoch == epoch + 1
    site.async_notify(DataGroup.LIVE)
    assert site.availability_epoch == epoch + 1
    site.async_notify(None)
    assert site.availability_epoch == epoch + 2
