"""The glue of settings followed after a write: the entity an override concerns."""

from datetime import UTC, datetime

from homeassistant.core import HomeAssistant

from custom_components.solar_gateway.gateway.site import (
    Brand,
    GatewayIdentity,
    SettingOverride,
    SiteFigures,
    SiteSnapshot,
)
from custom_components.solar_gateway.setting_watch import override_entity_id


async def test_override_of_a_control_no_longer_offered(hass: HomeAssistant) -> None:
    """A setting the gateway no longer offers has no entity to name."""
    snapshot = SiteSnapshot(
        identity=GatewayIdentity(
            brand=Brand.ENPHASE, serial="1", model=None, firmware=None, api="envoy"
        ),
        figures=SiteFigures(),
    )
    moment = datetime(2025, 6, 21, tzinfo=UTC)
    override = SettingOverride(
        key="battery_mode",
        device=None,
        written="savings",
        value="self_consumption",
        written_at=moment,
        changed_at=moment,
    )
    assert override_entity_id(hass, snapshot, override) is None
