"""Selects: battery mode (Envoy storage, SunVault) and dry contact relay settings."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
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
from .gateway.envoy.models import DryContactSettings, StorageMode
from .gateway.pvs.client import PvsClient
from .gateway.pvs.models import EssControlMode
from .gateway.site import Device

# One write at a time: each is confirmed by a read before the next is sent.
PARALLEL_UPDATES = 1

SETTINGS_GROUPS = frozenset({DataGroup.SETTINGS})

# Current firmware calls the savings mode "economy", older firmware "savings-mode":
# one "savings" option either way, written back in the spelling the gateway uses.
STORAGE_OPTIONS = {
    StorageMode.BACKUP: "backup",
    StorageMode.SELF_CONSUMPTION: "self_consumption",
    StorageMode.ECONOMY: "savings",
    StorageMode.SAVINGS: "savings",
}
ESS_MODES = {mode.name.lower(): mode for mode in EssControlMode}

STORAGE_MODE = SelectEntityDescription(
    key="storage_mode",
    translation_key="storage_mode",
    options=list(dict.fromkeys(STORAGE_OPTIONS.values())),
)
ESS_CONTROL_MODE = SelectEntityDescription(
    key="battery_control_mode",
    translation_key="battery_control_mode",
    options=list(ESS_MODES),
)

RELAY_MODES = ["manual", "soc", "none"]
RELAY_ACTIONS = ["apply", "shed", "schedule", "none"]


@dataclass(frozen=True, kw_only=True)
class RelaySelectDescription(SelectEntityDescription):
    """A dry contact setting shown as a select."""

    field: str  # the key in the relay's settings document
    value_fn: Callable[[DryContactSettings], str | None]


RELAY_SELECTS: tuple[RelaySelectDescription, ...] = (
    RelaySelectDescription(
        key="relay_mode",
        translation_key="relay_mode",
        entity_category=EntityCategory.CONFIG,
        options=RELAY_MODES,
        field="mode",
        value_fn=lambda s: s.mode,
    ),
    RelaySelectDescription(
        key="grid_action",
        translation_key="grid_action",
        entity_category=EntityCategory.CONFIG,
        options=RELAY_ACTIONS,
        field="grid_action",
        value_fn=lambda s: s.grid_action,
    ),
    RelaySelectDescription(
        key="micro_grid_action",
        translation_key="micro_grid_action",
        entity_category=EntityCategory.CONFIG,
        options=RELAY_ACTIONS,
        field="micro_grid_action",
        value_fn=lambda s: s.micro_grid_action,
    ),
    RelaySelectDescription(
        key="generator_action",
        translation_key="generator_action",
        entity_category=EntityCategory.CONFIG,
        options=RELAY_ACTIONS,
        field="gen_action",
        value_fn=lambda s: s.gen_action,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a select for every multi-choice control the gateway offers."""
    hub = entry.runtime_data
    known: set[str] = set()

    @callback
    def add_new() -> None:
        entities: list[SelectEntity] = []
        if (client := envoy_client(hub)) is not None:
            if "storage" not in known and storage_settings(hub) is not None:
                known.add("storage")
                entities.append(StorageModeSelect(hub, client))
            for settings in client.data.dry_contact_settings:
                device = relay_device(hub, client, settings.id)
                if device is None or settings.id in known:
                    continue
                known.add(settings.id)
                entities.extend(
                    RelaySelect(hub, client, device, settings.id, description)
                    for description in RELAY_SELECTS
                )
        elif (pvs := pvs_client(hub)) is not None:
            config = pvs.data.ess_config
            if (
                "ess" not in known
                and config is not None
                and config.control_mode is not None
            ):
                known.add("ess")
                entities.append(EssControlModeSelect(hub, pvs))
        if entities:
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(hub.async_add_listener(add_new))


class ControlSelect(ControlEntity[str], SelectEntity):
    """A gateway setting shown as a select; options are translated keys."""

    @property
    @override
    def current_option(self) -> str | None:
        """The requested option while a write is confirmed, else the reported one."""
        return self.displayed()


class StorageModeSelect(ControlSelect):
    """The Envoy's battery mode (a tariff setting)."""

    entity_description = STORAGE_MODE

    def __init__(self, hub: SiteHub, client: EnvoyClient) -> None:
        """Show the mode on the gateway's device."""
        super().__init__(hub, None, STORAGE_MODE.key)
        self.client = client

    @override
    def reported(self) -> str | None:
        storage = storage_settings(self.hub)
        mode = storage.mode if storage else None
        if mode is None or mode not in StorageMode:
            return None
        return STORAGE_OPTIONS[StorageMode(mode)]

    def _mode(self, option: str) -> StorageMode:
        """The gateway's own spelling of ``option`` (savings: as it reports it)."""
        if option == "savings":
            storage = storage_settings(self.hub)
            if storage is not None and storage.mode == StorageMode.SAVINGS:
                return StorageMode.SAVINGS
            return StorageMode.ECONOMY
        return next(m for m, key in STORAGE_OPTIONS.items() if key == option)

    @override
    def exists(self) -> bool:
        return storage_settings(self.hub) is not None

    @override
    async def async_select_option(self, option: str) -> None:
        """Change the battery mode; the whole tariff is written back."""
        mode = self._mode(option)

        async def send() -> object:
            return await self.client.set_storage_mode(mode)

        await self.async_change(
            option, envoy_write(self.client, send, SETTINGS_GROUPS), SETTINGS_GROUPS
        )


class RelaySelect(ControlSelect):
    """One setting of a dry contact relay; the relay's complete settings are sent."""

    entity_description: RelaySelectDescription

    def __init__(
        self,
        hub: SiteHub,
        client: EnvoyClient,
        device: Device,
        relay_id: str,
        description: RelaySelectDescription,
    ) -> None:
        """Show ``description``'s setting of relay ``relay_id`` on its device."""
        super().__init__(hub, device, description.key)
        self.entity_description = description
        self.client = client
        self.relay_id = relay_id

    @override
    def reported(self) -> str | None:
        settings = relay_settings(self.client, self.relay_id)
        if settings is None:
            return None
        value = self.entity_description.value_fn(settings)
        return value if value in self.options else None

    @override
    def exists(self) -> bool:
        return relay_settings(self.client, self.relay_id) is not None

    @override
    async def async_select_option(self, option: str) -> None:
        """Change the setting; the relay's complete settings are written."""
        changes = {self.entity_description.field: option}

        async def send() -> object:
            return await self.client.update_dry_contact(self.relay_id, changes)

        await self.async_change(
            option, envoy_write(self.client, send, SETTINGS_GROUPS), SETTINGS_GROUPS
        )


class EssControlModeSelect(ControlSelect):
    """The SunVault's control mode."""

    entity_description = ESS_CONTROL_MODE

    def __init__(self, hub: SiteHub, client: PvsClient) -> None:
        """Show the mode on the PVS's device."""
        super().__init__(hub, None, ESS_CONTROL_MODE.key)
        self.client = client

    @override
    def reported(self) -> str | None:
        config = self.client.data.ess_config
        mode = config.control_mode if config else None
        return next((key for key, m in ESS_MODES.items() if m == mode), None)

    @override
    def exists(self) -> bool:
        config = self.client.data.ess_config
        return config is not None and config.control_mode is not None

    @override
    async def async_select_option(self, option: str) -> None:
        """Change the control mode; the PVS reads the settings back."""
        mode = ESS_MODES[option]

        async def send() -> object:
            return await self.client.set_control_mode(mode)

        await self.async_change(option, pvs_write(self.client, send), SETTINGS_GROUPS)
