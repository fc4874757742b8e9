"""The write discipline every control entity (switch, select, number) follows.

A write is sent between two polls (the hub's lock), the requested state is shown at
once, and the settings are read back straight away. The state stays only when the
gateway's own answer shows it; otherwise the entity shows what the gateway reports
and the action fails with a translated error, so an automation knows.
"""

from collections.abc import Awaitable, Callable, Hashable
from typing import override

from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .coordinator import SiteHub
from .entity import SolarGatewayEntity
from .gateway.client import DataGroup
from .gateway.envoy.client import EnvoyClient
from .gateway.envoy.models import DryContactSettings, Enpower, StorageSettings
from .gateway.envoy.site_mapping import relay_serial
from .gateway.errors import ControlRefusedError, GatewayError, GatewayTimeoutError
from .gateway.pvs.client import PvsClient
from .gateway.site import Device, DeviceKind, SiteSnapshot

type Send = Callable[[], Awaitable[object]]


def envoy_client(hub: SiteHub) -> EnvoyClient | None:
    """The hub's Envoy client, or None for another gateway."""
    return hub.client if isinstance(hub.client, EnvoyClient) else None


def pvs_client(hub: SiteHub) -> PvsClient | None:
    """The hub's PVS client, or None for another gateway."""
    return hub.client if isinstance(hub.client, PvsClient) else None


def system_controller(client: EnvoyClient) -> Enpower | None:
    """The IQ System Controller, whose mains relay takes the site off the grid."""
    ensemble = client.data.ensemble
    return ensemble.enpowers[0] if ensemble and ensemble.enpowers else None


def storage_settings(hub: SiteHub) -> StorageSettings | None:
    """The tariff's battery settings, on an Envoy site that has batteries."""
    client = envoy_client(hub)
    tariff = client.data.tariff if client else None
    if tariff is None or tariff.storage is None:
        return None
    if not any(d.kind is DeviceKind.BATTERY for d in hub.snapshot.devices):
        return None
    return tariff.storage


def relay_settings(client: EnvoyClient, relay_id: str) -> DryContactSettings | None:
    """The settings of one dry contact relay, as last read."""
    return next((s for s in client.data.dry_contact_settings if s.id == relay_id), None)


def relay_device(hub: SiteHub, client: EnvoyClient, relay_id: str) -> Device | None:
    """The site device of one dry contact relay."""
    controller = system_controller(client)
    if controller is None:
        return None
    return hub.snapshot.device(relay_serial(controller.serial, relay_id))


def envoy_write(
    client: EnvoyClient, send: Send, groups: frozenset[DataGroup]
) -> Callable[[], Awaitable[SiteSnapshot]]:
    """Send an Envoy control, then read back the groups that show its effect."""

    async def write() -> SiteSnapshot:
        await send()
        return await client.refresh(groups)

    return write


def pvs_write(client: PvsClient, send: Send) -> Callable[[], Awaitable[SiteSnapshot]]:
    """Send a SunVault control (the client reads the settings back itself)."""

    async def write() -> SiteSnapshot:
        await send()
        return client.snapshot()

    return write


def control_error(err: GatewayError, control: str) -> HomeAssistantError:
    """The translated error an action raises when the gateway did not take a change."""
    if isinstance(err, ControlRefusedError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="control_refused",
            translation_placeholders={"control": control, "status": str(err.status)},
        )
    if isinstance(err, GatewayTimeoutError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="control_timeout",
            translation_placeholders={"control": control},
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="control_failed",
        translation_placeholders={"control": control, "error": str(err)},
    )


class ControlEntity[T: Hashable](SolarGatewayEntity):
    """An entity that changes a gateway setting, optimistically and then confirmed."""

    def __init__(self, hub: SiteHub, device: Device | None, key: str) -> None:
        """Bind to ``device`` (None: the gateway), with nothing pending."""
        super().__init__(hub, device, key)
        self._pending: T | None = None
        self._writing = False

    def reported(self) -> T | None:
        """What the gateway last reported for this setting (None: unknown)."""
        raise NotImplementedError

    def exists(self) -> bool:
        """Whether the gateway still reports the setting at all."""
        return self.reported() is not None

    def displayed(self) -> T | None:
        """What the entity shows: the requested value while a write is confirmed."""
        return self._pending if self._writing else self.reported()

    def confirmed(self, requested: T, reported: T | None) -> bool:
        """Whether the read-back shows the requested value."""
        return reported == requested

    @property
    @override
    def available(self) -> bool:
        """Available while the gateway answers and reports the setting."""
        return super().available and self.exists()

    @override
    def shown(self) -> Hashable:
        return self.displayed()

    def _write_state(self) -> None:
        self._last_written = (self.available, self.shown())
        self.async_write_ha_state()

    async def async_change(
        self,
        requested: T,
        write: Callable[[], Awaitable[SiteSnapshot]],
        groups: frozenset[DataGroup],
    ) -> None:
        """Show ``requested`` now, run ``write`` and keep it only when confirmed."""
        self._pending = requested
        self._writing = True
        self._write_state()
        try:
            await self.hub.async_write(write, groups)
        except GatewayError as err:
            raise control_error(err, self.entity_id) from err
        finally:
            self._writing = False
            self._pending = None
            self._write_state()
        reported = self.reported()
        if not self.confirmed(requested, reported):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="control_not_confirmed",
                translation_placeholders={
                    "control": self.entity_id,
                    "requested": str(requested),
                    "reported": str(reported),
                },
            )
