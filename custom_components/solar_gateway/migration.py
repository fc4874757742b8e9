"""Config entry migrations, so renamed entities keep their entity ids and history."""

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .coordinator import LOGGER, SolarGatewayConfigEntry

# 1.2: entries keep what setup learned about the host; older ones have nothing
# stored, so their next start probes once and stores it (nothing to change here).
# 1.3: the battery mode select and the reserve number have one unique-id suffix on
# both brands; the reserve sensor beside the number was dropped.
RENAMED_SUFFIXES: dict[tuple[str, str], str] = {
    ("select", "storage_mode"): "battery_mode",
    ("select", "battery_control_mode"): "battery_mode",
    ("number", "reserve_soc"): "backup_reserve",
    ("number", "min_customer_soc"): "backup_reserve",
}
DROPPED_SUFFIXES = frozenset({("sensor", "backup_reserve")})
UNIQUE_IDS_MINOR_VERSION = 3
# 1.4: the generator's mode sensor (the select shows the mode), its exercise start
# as a number of minutes (now a time entity) and the AC Battery buttons (now a
# switch) are gone. A number's history
# cannot become a time's: the old entities are removed, not left unavailable.
GENERATOR_DROPPED_SUFFIXES = frozenset(
    {
        ("sensor", "generator_mode"),
        ("number", "generator_exercise_start"),
        # An AC Battery's Sleep and Wake buttons are one Sleep switch.
        ("button", "acb_sleep"),
        ("button", "acb_wake"),
    }
)
GENERATOR_MINOR_VERSION = 4
CURRENT_MINOR_VERSION = 4


def _suffix_of(unique_id: str, suffix: str) -> str | None:
    """The part before ``_suffix`` (the gateway's serial), or None."""
    ending = f"_{suffix}"
    return unique_id.removesuffix(ending) if unique_id.endswith(ending) else None


@callback
def _drop_generator_entities(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry
) -> None:
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if any(
            entity.domain == domain and _suffix_of(entity.unique_id, suffix)
            for domain, suffix in GENERATOR_DROPPED_SUFFIXES
        ):
            LOGGER.info("Removing %s: shown otherwise now", entity.entity_id)
            registry.async_remove(entity.entity_id)


@callback
def _migrate_unique_ids(hass: HomeAssistant, entry: SolarGatewayConfigEntry) -> None:
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if any(
            entity.domain == domain and _suffix_of(entity.unique_id, suffix)
            for domain, suffix in DROPPED_SUFFIXES
        ):
            LOGGER.info("Removing %s: the reserve number shows it", entity.entity_id)
            registry.async_remove(entity.entity_id)
            continue
        for (domain, old), new in RENAMED_SUFFIXES.items():
            serial = _suffix_of(entity.unique_id, old)
            if entity.domain != domain or not serial:
                continue
            registry.async_update_entity(
                entity.entity_id, new_unique_id=f"{serial}_{new}"
            )


async def async_migrate_entry(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry
) -> bool:
    """Bring an entry and its entities to the current version.

    Home Assistant itself refuses entries of a newer major version.
    """
    if entry.minor_version < UNIQUE_IDS_MINOR_VERSION:
        _migrate_unique_ids(hass, entry)
    if entry.minor_version < GENERATOR_MINOR_VERSION:
        _drop_generator_entities(hass, entry)
    if entry.minor_version < CURRENT_MINOR_VERSION:
        hass.config_entries.async_update_entry(
            entry, minor_version=CURRENT_MINOR_VERSION
        )
    return True
