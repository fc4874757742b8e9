"""The site's devices in Home Assistant's device registry, in their hierarchy.

The gateway comes first; every other device hangs off its parent (a meter, an
inverter, a battery off the gateway; ESS parts off the ESS hub, and so on), so
parents are registered before their children.
"""

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN
from .coordinator import SiteHub, SolarGatewayConfigEntry
from .gateway.site import Brand, Device, SiteSnapshot

MANUFACTURERS = {Brand.ENPHASE: "Enphase Energy", Brand.SUNPOWER: "SunPower"}

type RegistryFingerprint = tuple[tuple[str, str | None, str | None, str | None], ...]


def _fingerprint(snapshot: SiteSnapshot) -> RegistryFingerprint:
    """What, when it changes, needs the registry updated."""
    identity = snapshot.identity
    return (
        (identity.serial, identity.firmware, identity.model, None),
        *((d.serial, d.firmware, d.model, d.parent) for d in snapshot.devices),
    )


def gateway_name(snapshot: SiteSnapshot) -> str:
    """The default name of the gateway's device."""
    identity = snapshot.identity
    if identity.brand is Brand.ENPHASE:
        return "Envoy"
    return identity.model or "PVS"


def device_name(device: Device) -> str:
    """The default name of a site device: its own name, else its kind and serial."""
    if device.name:
        return device.name
    return f"{device.kind.value.replace('_', ' ').capitalize()} {device.serial}"


def parents_first(snapshot: SiteSnapshot) -> list[Device]:
    """The site's devices other than the gateway, each after its parent."""
    gateway = snapshot.identity.serial
    pending = [d for d in snapshot.devices if d.serial != gateway]
    present = {d.serial for d in pending}
    ordered: list[Device] = []
    placed = {gateway}
    while pending:
        ready = [
            d
            for d in pending
            if (d.parent or gateway) in placed or d.parent not in present
        ]
        if not ready:
            # A parent loop in the gateway's data: hang the rest off the gateway.
            ready = pending
        ordered.extend(ready)
        placed.update(d.serial for d in ready)
        pending = [d for d in pending if d.serial not in placed]
    return ordered


class DeviceRegistrar:
    """Keeps the registry in step with the devices the gateway reports."""

    def __init__(
        self, hass: HomeAssistant, entry: SolarGatewayConfigEntry, hub: SiteHub
    ) -> None:
        """Prepare to register ``hub``'s devices for ``entry``."""
        self._hass = hass
        self._entry = entry
        self._hub = hub
        self._last: RegistryFingerprint | None = None

    @callback
    def async_update(self) -> None:
        """Register new devices and new firmware versions; cheap when nothing changed."""
        snapshot = self._hub.snapshot
        fingerprint = _fingerprint(snapshot)
        if fingerprint == self._last:
            return
        self._last = fingerprint
        registry = dr.async_get(self._hass)
        identity = snapshot.identity
        own = snapshot.device(identity.serial)
        gateway = registry.async_get_or_create(
            config_entry_id=self._entry.entry_id,
            identifiers={(DOMAIN, identity.serial)},
            manufacturer=MANUFACTURERS[identity.brand],
            model=(own.model if own else None) or identity.model,
            name=(own.name if own else None) or gateway_name(snapshot),
            serial_number=identity.serial,
            sw_version=(own.firmware if own else None) or identity.firmware,
            hw_version=own.hardware if own else None,
            configuration_url=self._hub.client.transport.base_url,
        )
        ids = {identity.serial: gateway.id}
        for device in parents_first(snapshot):
            parent = device.parent if device.parent in ids else identity.serial
            entry = registry.async_get_or_create(
                config_entry_id=self._entry.entry_id,
                identifiers={(DOMAIN, device.serial)},
                manufacturer=device.manufacturer,
                model=device.model,
                name=device_name(device),
                serial_number=device.serial,
                sw_version=device.firmware,
                hw_version=device.hardware,
                via_device_id=ids[parent or identity.serial],
            )
            ids[device.serial] = entry.id

    @callback
    def async_remove_stale(self) -> list[str]:
        """Remove this entry's devices that the gateway no longer reports.

        Called only after a complete read of every group, so a device is never
        removed because one poll failed. Returns the removed devices' serials.
        """
        snapshot = self._hub.snapshot
        current = {snapshot.identity.serial} | {d.serial for d in snapshot.devices}
        registry = dr.async_get(self._hass)
        removed: list[str] = []
        for entry in dr.async_entries_for_config_entry(registry, self._entry.entry_id):
            serials = {value for domain, value in entry.identifiers if domain == DOMAIN}
            if serials and not serials & current:
                registry.async_update_device(
                    entry.id, remove_config_entry_id=self._entry.entry_id
                )
                removed.extend(sorted(serials))
        return removed
