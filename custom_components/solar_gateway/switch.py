"""Switches: grid connection, dry contact relays, charging the batteries from the grid."""

from typing import Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import (
    ControlEntity,
    envoy_client,
    envoy_write,
    relay_device,
    storage_settings,
    system_controller,
)
from .coordinator import SiteHub, SolarGatewayConfigEntry
from .gateway.client import DataGroup
from .gateway.envoy.client import EnvoyClient
from .gateway.site import Device

# One write at a time: each is confirmed by a read before the next is sent.
PARALLEL_UPDATES = 1

GRID_CONNECTION = SwitchEntityDescription(
    key="grid_connection", translation_key="grid_connection"
)
DRY_CONTACT = SwitchEntityDescription(key="relay", name=None)
CHARGE_FROM_GRID = SwitchEntityDescription(
    key="charge_from_grid",
    translation_key="charge_from_grid",
    entity_category=EntityCategory.CONFIG,
)

# The mains relay's state is in the ensemble inventory (devices), a dry contact's in
# its status (live); a write also makes the client re-read the settings.
GRID_GROUPS = frozenset({DataGroup.DEVICES, DataGroup.SETTINGS})
RELAY_GROUPS = frozenset({DataGroup.LIVE, DataGroup.SETTINGS})
SETTINGS_GROUPS = frozenset({DataGroup.SETTINGS})


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SolarGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a switch for every on/off control the gateway offers, now and later."""
    hub = entry.runtime_data
    client = envoy_client(hub)
    if client is None:
        return
    known: set[str] = set()

    @callback
    def add_new() -> None:
        entities: list[SwitchEntity] = []
        controller = system_controller(client)
        if (
            "grid" not in known
            and controller is not None
            and controller.mains_admin_state is not None
        ):
            known.add("grid")
            entities.append(
                GridSwitch(hub, client, hub.snapshot.device(controller.serial))
            )
        for contact in client.data.dry_contacts:
            device = relay_device(hub, client, contact.id)
            marker = f"relay_{contact.id}"
            if device is not None and marker not in known:
                known.add(marker)
                entities.append(DryContactSwitch(hub, client, device, contact.id))
        if "charge" not in known and storage_settings(hub) is not None:
            known.add("charge")
            entities.append(ChargeFromGridSwitch(hub, client))
        if entities:
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(hub.async_add_listener(add_new, structure=True))


class EnvoySwitch(ControlEntity[bool], SwitchEntity):
    """An Envoy control shown as a switch."""

    def __init__(
        self,
        hub: SiteHub,
        client: EnvoyClient,
        device: Device | None,
        description: SwitchEntityDescription,
        key: str,
    ) -> None:
        """Bind to ``device`` (None: the gateway)."""
        super().__init__(hub, device, key)
        self.entity_description = description
        self.client = client

    @property
    @override
    def is_on(self) -> bool | None:
        """The requested state while a write is confirmed, else the reported one."""
        return self.displayed()

    async def _switch(self, on: bool) -> None:
        raise NotImplementedError

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on, confirmed by the gateway."""
        await self._switch(True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off, confirmed by the gateway."""
        await self._switch(False)


class GridSwitch(EnvoySwitch):
    """On: the site is connected to the grid; off: islanded on its batteries."""

    def __init__(
        self, hub: SiteHub, client: EnvoyClient, device: Device | None
    ) -> None:
        """Show the mains relay on the system controller's device."""
        super().__init__(hub, client, device, GRID_CONNECTION, GRID_CONNECTION.key)

    @override
    def reported(self) -> bool | None:
        controller = system_controller(self.client)
        state = controller.mains_admin_state if controller else None
        return None if state is None else state == "closed"

    @override
    async def _switch(self, on: bool) -> None:
        send = self.client.go_on_grid if on else self.client.go_off_grid
        await self.async_change(
            on, envoy_write(self.client, send, GRID_GROUPS), GRID_GROUPS
        )


class DryContactSwitch(EnvoySwitch):
    """A dry contact relay: on closes it, off opens it; named after its load."""

    def __init__(
        self, hub: SiteHub, client: EnvoyClient, device: Device, relay_id: str
    ) -> None:
        """Show relay ``relay_id`` as the main control of its device."""
        super().__init__(hub, client, device, DRY_CONTACT, DRY_CONTACT.key)
        self.relay_id = relay_id

    @override
    def reported(self) -> bool | None:
        for contact in self.client.data.dry_contacts:
            if contact.id == self.relay_id and contact.status is not None:
                return contact.status == "closed"
        return None

    @override
    async def _switch(self, on: bool) -> None:
        relay_id = self.relay_id

        async def send() -> object:
            if on:
                return await self.client.close_dry_contact(relay_id)
            return await self.client.open_dry_contact(relay_id)

        await self.async_change(
            on, envoy_write(self.client, send, RELAY_GROUPS), RELAY_GROUPS
        )


class ChargeFromGridSwitch(EnvoySwitch):
    """Whether the batteries may charge from the grid (a tariff setting)."""

    def __init__(self, hub: SiteHub, client: EnvoyClient) -> None:
        """Show the setting on the gateway's device."""
        super().__init__(hub, client, None, CHARGE_FROM_GRID, CHARGE_FROM_GRID.key)

    @override
    def reported(self) -> bool | None:
        storage = storage_settings(self.hub)
        return storage.charge_from_grid if storage else None

    @override
    async def _switch(self, on: bool) -> None:
        async def send() -> object:
            return await self.client.set_charge_from_grid(on)

        await self.async_change(
            on, envoy_write(self.client, send, SETTINGS_GROUPS), SETTINGS_GROUPS
        )
