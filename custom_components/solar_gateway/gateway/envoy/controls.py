"""Control writes: the exact request bodies the Envoy expects, built from what was read.

The tariff and a relay's settings are written back whole: the gateway replaces the
document, and a partial relay body has been seen to crash it.
"""

from collections.abc import Mapping
import copy
from dataclasses import dataclass

from custom_components.solar_gateway.gateway.errors import FeatureUnavailableError
from custom_components.solar_gateway.gateway.values import JsonObject

from .models import DryContactSettings, StorageMode, Tariff

DRY_CONTACTS_PATH = "/ivp/ensemble/dry_contacts"
DRY_CONTACT_SETTINGS_PATH = "/ivp/ss/dry_contact_settings"
TARIFF_PATH = "/admin/lib/tariff"
RELAY_PATH = "/ivp/ensemble/relay"


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """One write: method, path and JSON body."""

    method: str
    path: str
    body: JsonObject


def grid_request(on_grid: bool) -> ControlRequest:
    """Close (on grid) or open (off grid) the system controller's mains relay."""
    return ControlRequest(
        "POST", RELAY_PATH, {"mains_admin_state": "closed" if on_grid else "open"}
    )


def dry_contact_request(relay_id: str, closed: bool) -> ControlRequest:
    """Close or open one dry contact relay."""
    return ControlRequest(
        "POST",
        DRY_CONTACTS_PATH,
        {"dry_contacts": {"id": relay_id, "status": "closed" if closed else "open"}},
    )


def dry_contact_settings_request(
    current: DryContactSettings, changes: Mapping[str, object]
) -> ControlRequest:
    """The relay's complete settings as read, with ``changes`` applied."""
    if "id" in changes and changes["id"] != current.id:
        raise ValueError("a relay's id cannot be changed")
    body = copy.deepcopy(dict(current.document))
    body.update(copy.deepcopy(dict(changes)))
    return ControlRequest("POST", DRY_CONTACT_SETTINGS_PATH, {"dry_contacts": body})


def tariff_request(
    tariff: Tariff | None,
    *,
    mode: StorageMode | None = None,
    reserved_soc: float | None = None,
    charge_from_grid: bool | None = None,
) -> ControlRequest:
    """The whole tariff as read, with only ``storage_settings`` changed."""
    if tariff is None or tariff.storage is None:
        raise FeatureUnavailableError("this gateway has no storage settings", 404)
    if reserved_soc is not None and not 0 <= reserved_soc <= 100:
        raise ValueError(f"reserve SOC must be 0..100, not {reserved_soc}")
    document = copy.deepcopy(dict(tariff.document))
    body = dict(document["tariff"])  # type: ignore[call-overload]
    storage = dict(body["storage_settings"])
    if mode is not None:
        storage["mode"] = str(mode)
    if reserved_soc is not None:
        storage["reserved_soc"] = float(reserved_soc)
    if charge_from_grid is not None:
        storage["charge_from_grid"] = charge_from_grid
    body["storage_settings"] = storage
    return ControlRequest("PUT", TARIFF_PATH, {"tariff": body})
