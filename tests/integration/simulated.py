"""Set up the integration against a simulated gateway served from a project fixture."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solar_gateway.const import (
    AUTH_LOCAL,
    AUTH_TOKEN,
    CONF_AUTH_METHOD,
    CONF_BRAND,
    CONF_TOKEN,
    DOMAIN,
)
from simulator.clock import ManualClock
from simulator.kinds import GatewayKind
from simulator.server import SimulatedGateway, SimulatorOptions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# A June noon at the site, so that the simulated sun is up.
NOON = datetime(2025, 6, 21, 12, 0, tzinfo=UTC).timestamp()
OPTIONS = SimulatorOptions(utc_offset_hours=0.0)

SCENARIOS = [
    "envoy/legacy_production",
    "envoy/metered_3phase",
    "envoy/metered_battery",
    "envoy/acb",
    "envoy/collar",
    "envoy/collar_off_grid",
    "envoy/metered_no_ct",
    "envoy/ct_disabled",
    "envoy/device_data_only",
    "envoy/generator_running",
    "envoy/acb_with_iq_battery",
    "pvs/legacy_basic",
    "pvs/legacy_sunvault",
    "pvs/varserver",
]


def entry_data(gateway: SimulatedGateway, user: str = "owner") -> dict[str, str]:
    """The config entry data a user would end with for this gateway."""
    host = gateway.url.removeprefix("http://")
    match gateway.kind:
        case GatewayKind.ENVOY if gateway.token is not None:
            assert gateway.https_url is not None
            return {
                CONF_HOST: gateway.https_url.removeprefix("https://"),
                CONF_BRAND: "enphase",
                CONF_AUTH_METHOD: AUTH_TOKEN,
                # Long-lived: the simulated clock is pinned in the past, the client
                # judges expiry by the real one.
                CONF_TOKEN: gateway.issue_token(user=user, lifetime=100 * 365 * 86400),
            }
        case GatewayKind.ENVOY:
            return {
                CONF_HOST: host,
                CONF_BRAND: "enphase",
                CONF_AUTH_METHOD: AUTH_LOCAL,
            }
        case GatewayKind.PVS_VARSERVER:
            assert gateway.https_url is not None
            return {
                CONF_HOST: gateway.https_url,
                CONF_BRAND: "sunpower",
                CONF_PASSWORD: gateway.identity.serial[-5:],
            }
        case _:
            return {CONF_HOST: host, CONF_BRAND: "sunpower"}


@asynccontextmanager
async def simulated_entry(
    hass: HomeAssistant,
    scenario: str,
    clock: ManualClock | None = None,
    *,
    user: str = "owner",
    options: Mapping[str, object] | None = None,
    simulator: SimulatorOptions = OPTIONS,
    stream_port: int = 0,
) -> AsyncIterator[tuple[MockConfigEntry, SimulatedGateway]]:
    """Serve ``scenario``, set up an entry (an Envoy: ``user``'s token, ``options``)."""
    async with SimulatedGateway.start(
        FIXTURES / scenario,
        clock=clock or ManualClock(NOON),
        options=simulator,
        stream_port=stream_port,
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=scenario,
            unique_id=gateway.identity.serial,
            data=entry_data(gateway, user),
            options=dict(options or {}),
        )
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield entry, gateway
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
