"""Numbers: battery reserve (Envoy storage, SunVault) and dry contact SOC thresholds."""

from collections.abc import Callable
from dataclasses import dataclass
import math
from typing import override

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import (
    ControlEntity,
    envoy_client,
    envoy_write,
    pvs_client,
    pvs_write,
    relay_device,
    relay_settings,
    storage_settings,
)
from .coordinator import SiteHub, SolarGatewayConfigEntry
from .gateway.client import DataGroup
from .gateway.envoy.client import EnvoyClient
from .gateway.envoy.models import DryContactSettings
from .gateway.pvs.client import PvsClient
from .gateway.site import Device

# One write at a time: each is confirmed by a read before the next is sent.
PARALLEL_UPDATES = 1

SETTINGS_GROUPS = frozenset({DataGroup.SETTINGS})


def _percent(key: str) -> NumberEntityDescription:
    return NumberEntityDescription(
        key=key,
        translation_key=key,
        device_class=NumberDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
    )


# One reserve number for both brands (Envoy reserve, SunVault minimum charge).
RESERVE_SOC = _percent("backup_reserve")


@dataclass(frozen=True, kw_only=True)
class RelayNumberDescription(NumberEntityDescription):
    """A dry contact SOC threshold shown as a number."""

    field: str  # the key in the relay's settings document
    value_fn: Callable[[DryContactSettings], float | None]


def _relay(
    key: str, field: str, value_fn: Callable[[DryContactSettings], float | None]
) -> RelayNumberDescription:
    return RelayNumberDescription(
        key=key,
        translation_key=key,
        device_class=NumberDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        field=field,
        value_fn=value_fn,
    )


RELAY_NUMBERS: tuple[RelayNumberDescription, ...] = (
    _relay("cutoff_soc", "soc_low", lambda s: s.soc_low),
    _relay("restore_soc", "soc_high", lambda s: s.soc_high),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a number for every numeric control the gateway offers."""
    hub = entry.runtime_data
    known: set[str] = set()

    @callback
    def add_new() -> None:
        entities: list[NumberEntity] = []
        if (client := envoy_client(hub)) is not None:
            storage = storage_settings(hub)
            if (
                "reserve" not in known
                and storage is not None
                and storage.reserved_soc is not None
            ):
                known.add("reserve")
                entities.append(ReserveSocNumber(hub, client))
            for settings in client.data.dry_contact_settings:
                device = relay_device(hub, client, settings.id)
                if device is None or settings.id in known:
                    continue
                known.add(settings.id)
                entities.extend(
                    RelayNumber(hub, client, device, settings.id, description)
                    for description in RELAY_NUMBERS
                )
        elif (pvs := pvs_client(hub)) is not None:
            config = pvs.data.ess_config
            if (
                "ess" not in known
                and config is not None
                and config.min_customer_soc is not None
            ):
                known.add("ess")
                entities.append(MinCustomerSocNumber(hub, pvs))
        if entities:
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(hub.async_add_listener(add_new))


class ControlNumber(ControlEntity[float], NumberEntity):
    """A gateway setting shown as a number."""

    # How finely the gateway stores the value: a read-back within half of it confirms.
    resolution = 0.0

    @property
    @override
    def native_value(self) -> float | None:
        """The requested value while a write is confirmed, else the reported one."""
        return self.displayed()

    @override
    def confirmed(self, requested: float, reported: float | None) -> bool:
        return reported is not None and math.isclose(
            reported, requested, abs_tol=self.resolution / 2 + 1e-9
        )


class ReserveSocNumber(ControlNumber):
    """The Envoy's backup reserve: the batteries keep this much for outages."""

    entity_description = RESERVE_SOC

    def __init__(self, hub: SiteHub, client: EnvoyClient) -> None:
        """Show the reserve on the gateway's device."""
        super().__init__(hub, None, RESERVE_SOC.key)
        self.client = client

    @override
    def reported(self) -> float | None:
        storage = storage_settings(self.hub)
        return storage.reserved_soc if storage else None

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Change the reserve; the whole tariff is written back."""

        async def send() -> object:
            return await self.client.set_reserve_soc(value)

        await self.async_change(
            value, envoy_write(self.client, send, SETTINGS_GROUPS), SETTINGS_GROUPS
        )


class RelayNumber(ControlNumber):
    """A dry contact SOC threshold; the relay's complete settings are sent."""

    entity_description: RelayNumberDescription

    def __init__(
        self,
        hub: SiteHub,
        client: EnvoyClient,
        device: Device,
        relay_id: str,
        description: RelayNumberDescription,
    ) -> None:
        """Show ``description``'s threshold of relay ``relay_id`` on its device."""
        super().__init__(hub, device, description.key)
        self.entity_description = description
        self.client = client
        self.relay_id = relay_id

    @override
    def reported(self) -> float | None:
        settings = relay_settings(self.client, self.relay_id)
        return self.entity_description.value_fn(settings) if settings else None

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Change the threshold; the relay's complete settings are written."""
        changes = {self.entity_description.field: float(value)}

        async def send() -> object:
            return await self.client.update_dry_contact(self.relay_id, changes)

        await self.async_change(
            value, envoy_write(self.client, send, SETTINGS_GROUPS), SETTINGS_GROUPS
        )


class MinCustomerSocNumber(ControlNumber):
    """The SunVault's reserve (minimum customer state of charge)."""

    entity_description = RESERVE_SOC
    # The PVS stores a fraction with two decimals: whole percents.
    resolution = 1.0

    def __init__(self, hub: SiteHub, client: PvsClient) -> None:
        """Show the reserve on the PVS's device."""
        super().__init__(hub, None, RESERVE_SOC.key)
        self.client = client

    @override
    def reported(self) -> float | None:
        config = self.client.data.ess_config
        fraction = config.min_customer_soc if config else None
        return None if fraction is None else round(fraction * 100, 1)

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Change the reserve; the PVS reads the settings back."""

        async def send() -> object:
            return await self.client.set_min_customer_soc(value)

        await self.async_change(value, pvs_write(self.client, send), SETTINGS_GROUPS)
