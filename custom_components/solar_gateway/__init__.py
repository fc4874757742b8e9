"""Solar Gateway: local Enphase IQ Gateway (Envoy) and SunPower PVS5/PVS6 in Home Assistant.

The protocol layer lives in ``gateway/`` and never imports Home Assistant; this package
holds the Home Assistant glue on top of it.
"""

from collections.abc import Callable, Mapping
from datetime import timedelta

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .connection import async_create_client, identified_from_data, identified_to_data
from .const import CONF_IDENTIFIED, CONF_TOKEN, DOMAIN, INTERVAL_OPTIONS
from .coordinator import (
    LOGGER,
    SolarGatewayConfigEntry,
    SolarGatewayData,
    build_runtime,
    raise_translated,
)
from .devices import DeviceRegistrar
from .gateway.client import DataGroup, GatewayClient
from .gateway.errors import (
    GatewayConnectionError,
    GatewayError,
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)
from .gateway.site import SiteSnapshot
from .issues import async_watch_issues
from .migration import async_migrate_entry as async_migrate_entry
from .setting_watch import async_watch_settings

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]

# Errors that mean "not the gateway that was there": worth probing the host again.
NOT_WHERE_IT_WAS = (
    GatewayConnectionError,
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)


def polling_intervals(
    client: GatewayClient, options: Mapping[str, object] | None
) -> dict[DataGroup, timedelta]:
    """The interval of each group: the user's option within the gateway's table."""
    intervals: dict[DataGroup, timedelta] = {}
    for group, rule in client.polling.items():
        chosen = (options or {}).get(INTERVAL_OPTIONS[group])
        if (
            not rule.adjustable
            or not isinstance(chosen, int | float)
            or isinstance(chosen, bool)
        ):
            intervals[group] = rule.default
            continue
        intervals[group] = rule.clamp(timedelta(seconds=chosen))
    return intervals


async def _async_first_read(client: GatewayClient) -> SiteSnapshot:
    await client.setup()
    return await client.first_refresh()


async def _async_connect(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry
) -> tuple[GatewayClient, SiteSnapshot]:
    """Connect from what the last setup learned; probe again only when that fails."""
    client = async_create_client(hass, entry)
    try:
        return client, await _async_first_read(client)
    except NOT_WHERE_IT_WAS as err:
        if identified_from_data(entry.data) is None:
            raise
        LOGGER.info("%s not found as it was (%s); probing again", entry.title, err)
    client = async_create_client(hass, entry, probe=True)
    return client, await _async_first_read(client)


async def async_setup_entry(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry
) -> bool:
    """Connect to the gateway, read everything once, then poll each group at its rate."""
    try:
        client, snapshot = await _async_connect(hass, entry)
    except GatewayError as err:
        raise_translated(err, setting_up=True)
    _keep_identification(hass, entry, client)

    runtime = build_runtime(
        hass, entry, client, snapshot, polling_intervals(client, entry.options)
    )
    entry.runtime_data = runtime

    registrar = DeviceRegistrar(hass, entry, runtime)
    registrar.async_update()
    # Everything was just read successfully, so what the gateway no longer reports
    # is really gone.
    for serial in registrar.async_remove_stale():
        LOGGER.info("Removed device %s: the gateway no longer reports it", serial)
    on_structure = runtime.async_add_structure_listener
    entry.async_on_unload(on_structure(registrar.async_update))

    @callback
    def remove_gone() -> None:
        for serial in registrar.async_remove_gone():
            LOGGER.info("Removed device %s: not reported for a day", serial)

    entry.async_on_unload(on_structure(remove_gone))
    entry.async_on_unload(
        on_structure(
            _firmware_watcher(hass, entry, runtime, snapshot.identity.firmware)
        )
    )
    store_token = _token_keeper(hass, entry, client)
    store_token()
    entry.async_on_unload(on_structure(store_token))
    entry.async_on_unload(async_watch_issues(hass, entry, runtime))
    entry.async_on_unload(async_watch_settings(hass, entry, runtime))

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if runtime.stream is not None:
        runtime.stream.start(hass)
    return True


def _keep_identification(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, client: GatewayClient
) -> None:
    """Store what setup learned, so that the next start need not probe."""
    learned = identified_to_data(client.identification)
    if entry.data.get(CONF_IDENTIFIED) != learned:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_IDENTIFIED: learned}
        )


def _firmware_watcher(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    runtime: SolarGatewayData,
    firmware: str | None,
) -> Callable[[], None]:
    """Reload the entry once the gateway runs new firmware (features may differ).

    What setup learned is dropped first: the reload probes the gateway afresh.
    """

    @callback
    def check() -> None:
        current = runtime.snapshot.identity.firmware
        if current and firmware and current != firmware:
            LOGGER.info(
                "%s firmware changed from %s to %s; reloading to detect its features",
                entry.title,
                firmware,
                current,
            )
            data = {k: v for k, v in entry.data.items() if k != CONF_IDENTIFIED}
            hass.config_entries.async_update_entry(entry, data=data)
            hass.config_entries.async_schedule_reload(entry.entry_id)

    return check


def _token_keeper(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, client: GatewayClient
) -> Callable[[], None]:
    """Store a token the client fetched or renewed with the stored account.

    So that a restart reuses it instead of logging in to the cloud again; tokens the
    user gave are theirs and stay as they were given.
    """

    @callback
    def store() -> None:
        token = client.obtained_token
        if token and entry.data.get(CONF_TOKEN) != token:
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
