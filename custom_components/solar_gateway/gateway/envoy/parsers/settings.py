"""Parsers of the settings documents: tariff, dry contacts (relays), AC Battery sleep."""

from collections.abc import Mapping

from custom_components.solar_gateway.gateway.envoy.models import (
    AcbSleepSetting,
    DryContactSettings,
    DryContactStatus,
    StorageSettings,
    Tariff,
)
from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from custom_components.solar_gateway.gateway.values import JsonObject, as_bool, as_str

from .common import keyed, num, root_object


def parse_tariff(payload: object) -> Tariff:
    """Parse ``/admin/lib/tariff``; the whole document is kept for writes."""
    root = root_object(payload, "/admin/lib/tariff")
    tariff = root.get("tariff")
    if not isinstance(tariff, Mapping):
        raise UnexpectedPayloadError("/admin/lib/tariff has no tariff object")
    settings = tariff.get("storage_settings")
    storage: StorageSettings | None = None
    if isinstance(settings, Mapping):
        storage = StorageSettings(
            mode=as_str(settings.get("mode")),
            reserved_soc=num(settings.get("reserved_soc")),
            charge_from_grid=as_bool(settings.get("charge_from_grid")),
            very_low_soc=num(settings.get("very_low_soc")),
            opt_schedules=as_bool(settings.get("opt_schedules")),
        )
    return Tariff(storage=storage, document=root, date=_date(tariff.get("date")))


def _date(value: object) -> str | None:
    """The tariff's ``date`` as sent (epoch seconds, a string or a number)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


def parse_dry_contacts(payload: object) -> tuple[DryContactStatus, ...]:
    """Parse ``/ivp/ensemble/dry_contacts`` (each relay open or closed)."""
    root = root_object(payload, "/ivp/ensemble/dry_contacts")
    return keyed(
        root.get("dry_contacts"),
        "id",
        as_str,
        lambda item, relay_id: DryContactStatus(
            id=relay_id, status=as_str(item.get("status"))
        ),
    )


def parse_dry_contact_settings(payload: object) -> tuple[DryContactSettings, ...]:
    """Parse ``/ivp/ss/dry_contact_settings``; each relay keeps its complete body."""
    root = root_object(payload, "/ivp/ss/dry_contact_settings")
    return keyed(root.get("dry_contacts"), "id", as_str, _dry_contact_settings)


def _dry_contact_settings(item: JsonObject, relay_id: str) -> DryContactSettings:
    return DryContactSettings(
        id=relay_id,
        type=as_str(item.get("type")),
        load_name=as_str(item.get("load_name")),
        mode=as_str(item.get("mode")),
        grid_action=as_str(item.get("grid_action")),
        micro_grid_action=as_str(item.get("micro_grid_action")),
        gen_action=as_str(item.get("gen_action")),
        soc_low=num(item.get("soc_low")),
        soc_high=num(item.get("soc_high")),
        priority=num(item.get("priority")),
        document=item,
    )


def parse_acb_config(payload: object) -> tuple[AcbSleepSetting, ...]:
    """Parse ``/admin/lib/acb_config``: each AC Battery's sleep setting."""
    root = root_object(payload, "/admin/lib/acb_config")
    return keyed(
        root.get("acb_sleep"),
        "serial_num",
        as_str,
        lambda item, serial: AcbSleepSetting(
            serial=serial,
            enabled=as_bool(item.get("sleep_enabled")),
            min_soc=num(item.get("sleep_min_soc")),
            max_soc=num(item.get("sleep_max_soc")),
        ),
    )
