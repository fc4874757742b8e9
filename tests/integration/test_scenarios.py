"""Every platform's entities for every fixture scenario, served by the simulator."""

from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from .simulated import SCENARIOS, simulated_entry

# Let the integration reach the simulator on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


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
