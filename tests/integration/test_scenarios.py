"""Every platform's entities for every fixture scenario, served by the simulator."""

from contextlib import AsyncExitStack
from pathlib import Path
import re
from typing import override
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation
from syrupy.types import SnapshotIndex

from .simulated import SCENARIOS, simulated_entry

# Let the integration reach the simulator on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


class ScenarioSnapshots(HomeAssistantSnapshotExtension):
    """One snapshot file per scenario and platform:
    ``snapshots/test_scenarios/<scenario>/<platform>.ambr``.

    A change to one platform of one site then reads as a change to one small file.
    """

    @classmethod
    @override
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        scenario = test_location.item.callspec.params["scenario"]  # type: ignore[attr-defined]
        folder = Path(super().dirname(test_location=test_location))
        return str(folder / test_location.basename / scenario)

    @classmethod
    @override
    def get_file_basename(
        cls, *, test_location: PyTestLocation, index: SnapshotIndex
    ) -> str:
        return str(test_location.item.callspec.params["platform"])  # type: ignore[attr-defined]


@pytest.fixture
def scenario_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots filed by scenario and platform."""
    return snapshot.use_extension(ScenarioSnapshots)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(
    "platform",
    [
        Platform.SENSOR,
        Platform.BINARY_SENSOR,
        Platform.SWITCH,
        Platform.SELECT,
        Platform.NUMBER,
        Platform.TIME,
    ],
)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    scenario_snapshot: SnapshotAssertion,
    scenario: str,
    platform: Platform,
) -> None:
    """The entity set, states and attributes of each scenario."""
    snapshot = scenario_snapshot
    with patch("custom_components.solar_gateway.PLATFORMS", [platform]):
        async with simulated_entry(hass, scenario) as (entry, _):
            assert entry.state is ConfigEntryState.LOADED
            if er.async_entries_for_config_entry(entity_registry, entry.entry_id):
                await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
            else:
                # Nothing of this kind on this site: no entity, rather than a zero.
                assert snapshot(name="no entities") == []


SITES_WITH_TWO_GATEWAYS = {
    "two_envoys": ("envoy/metered_battery", "envoy/metered_3phase"),
    "two_pvs": ("pvs/legacy_sunvault", "pvs/varserver"),
}


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("site", SITES_WITH_TWO_GATEWAYS)
async def test_two_gateways_of_a_brand(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    site: str,
) -> None:
    """A home with two gateways of one brand: every name and entity id is unique."""
    async with AsyncExitStack() as stack:
        entries = [
            (await stack.enter_async_context(simulated_entry(hass, scenario)))[0]
            for scenario in SITES_WITH_TWO_GATEWAYS[site]
        ]
        devices = [
            device
            for entry in entries
            for device in dr.async_entries_for_config_entry(
                device_registry, entry.entry_id
            )
        ]
        names = [device.name for device in devices]
        assert len(names) == len(set(names)), "two devices share a name"
        entities = [
            entity
            for entry in entries
            for entity in er.async_entries_for_config_entry(
                entity_registry, entry.entry_id
            )
        ]
        # Home Assistant appends _2, _3... only when an entity id is taken.
        assert not [e.entity_id for e in entities if re.search(r"_\d$", e.entity_id)]
        by_device = {device.id: device.name for device in devices}
        assert snapshot == sorted(
            (by_device.get(entity.device_id or ""), entity.entity_id)
            for entity in entities
        )
