"""Solar Gateway: local Enphase IQ Gateway (Envoy) and SunPower PVS5/PVS6 in Home Assistant.

The protocol layer lives in ``gateway/`` and never imports Home Assistant; this package
holds the Home Assistant glue on top of it.
"""

from collections.abc import Callable
from datetime import timedelta

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr

from .connection import async_create_client
from .const import (
    AUTH_ENLIGHTEN,
    CONF_AUTH_METHOD,
    CONF_DEVICES_INTERVAL,
    CONF_LIVE_INTERVAL,
    CONF_SETTINGS_INTERVAL,
    CONF_TOKEN,
    DOMAIN,
)
from .coordinator import (
    LOGGER,
    SiteHub,
    SolarGatewayConfigEntry,
    build_coordinators,
    translated,
)
from .devices import DeviceRegistrar
from .gateway.client import DataGroup, GatewayClient
from .gateway.envoy.client import EnvoyClient
from .gateway.errors import AuthenticationError, GatewayError
from .issues import async_watch_issues

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

INTERVAL_OPTIONS = {
    DataGroup.LIVE: CONF_LIVE_INTERVAL,
    DataGroup.DEVICES: CONF_DEVICES_INTERVAL,
    DataGroup.SETTINGS: CONF_SETTINGS_INTERVAL,
}


def polling_intervals(
    client: GatewayClient, options: dict[str, object] | None
) -> dict[DataGroup, timedelta]:
    """The interval of each group: the user's option, never below the gateway's floor."""
    intervals: dict[DataGroup, timedelta] = {}
    for group, default in client.default_intervals.items():
        chosen = (options or {}).get(INTERVAL_OPTIONS[group])
        interval = (
            timedelta(seconds=chosen)
            if isinstance(chosen, int | float) and not isinstance(chosen, bool)
            else default
        )
        intervals[group] = max(interval, client.minimum_intervals.get(group, interval))
    return intervals


async def async_setup_entry(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry
) -> bool:
    """Connect to the gateway, read everything once, then poll each group at its rate."""
    try:
        client = async_create_client(hass, entry)
        await client.setup()
        snapshot = await client.refresh(frozenset(client.default_intervals))
    except AuthenticationError as err:
        key, placeholders = translated(err)
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err
    except GatewayError as err:
        key, placeholders = translated(err)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err

    hub = SiteHub(client=client, snapshot=snapshot)
    build_coordinators(hass, entry, hub, polling_intervals(client, dict(entry.options)))
    entry.runtime_data = hub

    registrar = DeviceRegistrar(hass, entry, hub)
    registrar.async_update()
    # Everything was just read successfully, so what the gateway no longer reports
    # is really gone.
    for serial in registrar.async_remove_stale():
        LOGGER.info("Removed device %s: the gateway no longer reports it", serial)
    entry.async_on_unload(hub.async_add_listener(registrar.async_update))
    entry.async_on_unload(
        hub.async_add_listener(
            _firmware_watcher(hass, entry, hub, snapshot.identity.firmware)
        )
    )
    store_token = _token_keeper(hass, entry, client)
    store_token()
    entry.async_on_unload(hub.async_add_listener(store_token))
    entry.async_on_unload(async_watch_issues(hass, entry, hub))

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    for coordinator in hub.coordinators.values():
        # Hand each coordinator the first read; from now on it polls on its own.
        coordinator.async_set_updated_data(snapshot)
    return True


def _firmware_watcher(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    hub: SiteHub,
    firmware: str | None,
) -> Callable[[], None]:
    """Reload the entry once the gateway runs new firmware (features may differ)."""

    @callback
    def check() -> None:
        current = hub.snapshot.identity.firmware
        if current and firmware and current != firmware:
            LOGGER.info(
                "%s firmware changed from %s to %s; reloading to detect its features",
                entry.title,
                firmware,
                current,
            )
            hass.config_entries.async_schedule_reload(entry.entry_id)

    return check


def _token_keeper(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, client: GatewayClient
) -> Callable[[], None]:
    """Store a token fetched or renewed from the Enphase account in the entry.

    So that a restart reuses it instead of logging in to the cloud again; pasted
    tokens are the user's and stay as they were given.
    """

    @callback
    def store() -> None:
        if not isinstance(client, EnvoyClient):
            return
        token = client.token
        if (
            token
            and entry.data.get(CONF_AUTH_METHOD) == AUTH_ENLIGHTEN
            and entry.data.get(CONF_TOKEN) != token
        ):
            hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_TOKEN: token}
            )

    return store


async def async_unload_entry(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry
) -> bool:
    """Stop polling and remove the entities."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user remove a device the gateway no longer reports."""
    snapshot = entry.runtime_data.snapshot
    current = {snapshot.identity.serial} | {d.serial for d in snapshot.devices}
    return not any(
        domain == DOMAIN and serial in current for domain, serial in device.identifiers
    )
