"""Every platform's entities for every fixture scenario, served by the simulator."""

from pathlib import Path
from typing import override
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
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
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
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
    ],
)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    scenario: str,
    platform: Platform,
) -> None:
    """The entity set, states and attributes of each scenario."""
    with patch("custom_components.solar_gateway.PLATFORMS", [platform]):
        async with simulated_entry(hass, scenario) as (entry, _):
            assert entry.state is ConfigEntryState.LOADED
            if er.async_entries_for_config_entry(entity_registry, entry.entry_id):
                await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
            else:
                # Nothing of this kind on this site: no entity, rather than a zero.
                assert snapshot(name="no entities") == []
