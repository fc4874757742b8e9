"""The site's devices in Home Assistant's device registry, in their hierarchy.

The gateway comes first; every other device hangs off its parent (a meter, an
inverter, a battery off the gateway; ESS parts off the ESS hub, and so on), so
parents are registered before their children.
"""

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import SolarGatewayConfigEntry, SolarGatewayData
from .gateway.site import Brand, Device, DeviceKind, SiteSnapshot

MANUFACTURERS = {brand: brand.manufacturer for brand in Brand}
# How many characters of its serial a gateway's name carries: enough to tell the
# gateways of one home apart, short enough to read.
SERIAL_SUFFIX = 6
# Kinds a site has many of: each is named after its own serial, so a second one
# never renames the first.
NAMED_BY_SERIAL = frozenset({DeviceKind.INVERTER, DeviceKind.BATTERY})
# How long a device must be missing from every read before it is removed while
# running: longer than a night, when some gateways stop listing inverters, and than
# any flaky read.
STALE_DEVICE_HOLD = timedelta(days=1)

type RegistryFingerprint = tuple[
    tuple[str, str | None, str | None, str | None, str | None], ...
]


def _fingerprint(snapshot: SiteSnapshot) -> RegistryFingerprint:
    """What, when it changes, needs the registry updated."""
    identity = snapshot.identity
    return (
        (identity.serial, identity.firmware, identity.model, None, None),
        *(
            (d.serial, d.firmware, d.model, d.parent, device_name(snapshot, d))
            for d in snapshot.devices
        ),
    )


def gateway_serial_suffix(snapshot: SiteSnapshot) -> str:
    """The end of the gateway's serial that its name carries."""
    return snapshot.identity.serial[-SERIAL_SUFFIX:]


def gateway_name(snapshot: SiteSnapshot) -> str:
    """The gateway's name: what its owner calls it and the end of its serial."""
    identity = snapshot.identity
    if identity.brand is Brand.ENPHASE:
        base = "Envoy"
    else:
        own = snapshot.device(identity.serial)
        base = (own.model if own else None) or identity.model or "PVS"
    return f"{base} {gateway_serial_suffix(snapshot)}"


def _label(device: Device) -> str:
    return device.name or device.kind.value.replace("_", " ").capitalize()


def device_name(snapshot: SiteSnapshot, device: Device) -> str:
    """A site device's name, unique among all the gateways of a home.

    A relay keeps the load name its owner gave it. Devices a site has many of carry
    their own serial; the others (meters, controllers, SunVault parts, a total
    whose serial is made from the gateway's) are named after their gateway, with
    their serial added where the site has two alike.
    """
    label = _label(device)
    if device.kind is DeviceKind.RELAY:
        return device.name or f"{gateway_name(snapshot)} Relay {device.model_id}"
    own_serial = not device.serial.startswith(f"{snapshot.identity.serial}_")
    if device.kind in NAMED_BY_SERIAL and own_serial:
        return f"{label} {device.serial}"
    alike = Counter(_label(d) for d in snapshot.devices if d.kind is device.kind)
    if alike[label] > 1:
        return f"{label} {device.serial}"
    return f"{gateway_name(snapshot)} {label}"


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
        self,
        hass: HomeAssistant,
        entry: SolarGatewayConfigEntry,
        runtime: SolarGatewayData,
    ) -> None:
        """Prepare to register ``runtime``'s devices for ``entry``."""
        self._hass = hass
        self._entry = entry
        self._runtime = runtime
        self._last: RegistryFingerprint | None = None
        self._seen: set[str] = set()  # serials reported since setup
        self._missing_since: dict[str, datetime] = {}

    @callback
    def async_update(self) -> None:
        """Register new devices and new firmware versions; cheap when nothing changed."""
        snapshot = self._runtime.snapshot
        fingerprint = _fingerprint(snapshot)
        if fingerprint == self._last:
            return
        self._last = fingerprint
        self._seen.update(d.serial for d in snapshot.devices)
        registry = dr.async_get(self._hass)
        identity = snapshot.identity
        own = snapshot.device(identity.serial)
        gateway = registry.async_get_or_create(
            config_entry_id=self._entry.entry_id,
            identifiers={(DOMAIN, identity.serial)},
            manufacturer=MANUFACTURERS[identity.brand],
            model=(own.model if own else None) or identity.model,
            model_id=own.model_id if own else None,
            name=(own.name if own else None) or gateway_name(snapshot),
            serial_number=identity.serial,
            sw_version=(own.firmware if own else None) or identity.firmware,
            hw_version=own.hardware if own else None,
            configuration_url=self._runtime.client.transport.base_url,
            connections=(
                {(dr.CONNECTION_NETWORK_MAC, dr.format_mac(own.mac))}
                if own and own.mac
                else set()
            ),
        )
        ids = {identity.serial: gateway.id}
        for device in parents_first(snapshot):
            parent = device.parent if device.parent in ids else identity.serial
            entry = registry.async_get_or_create(
                config_entry_id=self._entry.entry_id,
                identifiers={(DOMAIN, device.serial)},
                manufacturer=device.manufacturer,
                model=device.model,
                model_id=device.model_id,
                name=device_name(snapshot, device),
                serial_number=device.serial,
                sw_version=device.firmware,
                hw_version=device.hardware,
                via_device_id=ids[parent or identity.serial],
            )
            ids[device.serial] = entry.id

    def _current(self) -> set[str]:
        snapshot = self._runtime.snapshot
        return {snapshot.identity.serial} | {d.serial for d in snapshot.devices}

    def _remove(self, stale: Callable[[set[str]], bool]) -> list[str]:
        """Remove this entry's devices whose serials are ``stale``; their serials."""
        registry = dr.async_get(self._hass)
        removed: list[str] = []
        for entry in dr.async_entries_for_config_entry(registry, self._entry.entry_id):
            serials = {value for domain, value in entry.identifiers if domain == DOMAIN}
            if serials and stale(serials):
                registry.async_update_device(
                    entry.id, remove_config_entry_id=self._entry.entry_id
                )
                removed.extend(sorted(serials))
        return removed

    @callback
    def async_remove_stale(self) -> list[str]:
        """Remove this entry's devices that the gateway no longer reports.

        Called only after a complete read of every group, so a device is never
        removed because one poll failed. Returns the removed devices' serials.
        """
        current = self._current()
        return self._remove(lambda serials: not serials & current)

    @callback
    def async_remove_gone(self) -> list[str]:
        """While running, remove the devices missing from every read for a day.

        A device counts as missing only while the gateway answers every group: a
        failed poll proves nothing, so the clocks restart after one, as they do when
        the device comes back. Returns the removed devices' serials.
        """
        if not all(
            coordinator.last_update_success
            for coordinator in self._runtime.coordinators.values()
        ):
            self._missing_since.clear()
            return []
        current = self._current()
        now = dt_util.utcnow()
        for serial in current:
            self._missing_since.pop(serial, None)
        for serial in self._seen - current:
            self._missing_since.setdefault(serial, now)
        gone = {
            serial
            for serial, since in self._missing_since.items()
            if now - since >= STALE_DEVICE_HOLD
        }
        if not gone:
            return []
        self._seen -= gone
        for serial in gone:
            del self._missing_since[serial]
        return self._remove(lambda serials: serials <= gone)
