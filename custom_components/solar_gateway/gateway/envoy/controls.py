"""The Envoy's controls: what it offers, and the exact request bodies it expects.

``describe`` lists the settings as vendor-neutral ``Control``s from what was read;
``request_for`` turns a ``ControlChange`` into the request that makes it. The tariff
and a relay's settings are written back whole: the gateway replaces the document, and
a partial relay body has been seen to crash it.
"""

from collections.abc import Callable, Iterator, Mapping
import copy
from dataclasses import dataclass

from custom_components.solar_gateway.gateway.errors import (
    FeatureUnavailableError,
    InvalidControlValueError,
    InvalidValueReason,
)
from custom_components.solar_gateway.gateway.site import (
    Control,
    ControlChange,
    ControlKey,
    ControlKind,
    DataGroup,
    DeviceKind,
    SiteSnapshot,
)

from .acb_sleep import acb_controls, acb_request
from .control_request import ControlRequest
from .export_limit import export_limit_change, export_limit_controls
from .generator_writes import generator_controls, generator_request
from .models import DryContactSettings, EnvoyData, StorageMode, StorageSettings, Tariff
from .production_switch import (
    ProductionTracker,
    production_controls,
    production_request,
)
from .site_mapping import relay_serial

__all__ = ["ControlRequest", "describe", "request_for"]

DRY_CONTACTS_PATH = "/ivp/ensemble/dry_contacts"
DRY_CONTACT_SETTINGS_PATH = "/ivp/ss/dry_contact_settings"
TARIFF_PATH = "/admin/lib/tariff"
RELAY_PATH = "/ivp/ensemble/relay"


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
    opt_schedules: bool | None = None,
) -> ControlRequest:
    """The whole tariff as read, with only ``storage_settings`` changed.

    A mode change turns Enphase's optimised schedules off where the gateway has them:
    while they are on, the battery controller ignores the mode.
    """
    if tariff is None or tariff.storage is None:
        raise FeatureUnavailableError("this gateway has no storage settings", 404)
    if reserved_soc is not None and not 0 <= reserved_soc <= 100:
        raise InvalidControlValueError(
            f"reserve SOC must be 0..100, not {reserved_soc}",
            InvalidValueReason.OUT_OF_RANGE,
            {"value": reserved_soc, "minimum": 0, "maximum": 100},
        )
    document = copy.deepcopy(dict(tariff.document))
    body = dict(document["tariff"])  # type: ignore[call-overload]
    storage = dict(body["storage_settings"])
    if mode is not None:
        storage["mode"] = str(mode)
    if reserved_soc is not None:
        storage["reserved_soc"] = float(reserved_soc)
    if charge_from_grid is not None:
        storage["charge_from_grid"] = charge_from_grid
    if mode is not None and "opt_schedules" in storage and opt_schedules is None:
        opt_schedules = False
    if opt_schedules is not None:
        storage["opt_schedules"] = opt_schedules
    body["storage_settings"] = storage
    return ControlRequest("PUT", TARIFF_PATH, {"tariff": body})


# Vendor-neutral option keys. Current firmware calls the savings mode "economy",
# older firmware "savings-mode": one "savings" option either way, written back in the
# spelling the gateway uses.
STORAGE_OPTIONS: Mapping[StorageMode, str] = {
    StorageMode.BACKUP: "backup",
    StorageMode.SELF_CONSUMPTION: "self_consumption",
    StorageMode.ECONOMY: "savings",
    StorageMode.SAVINGS: "savings",
}
RELAY_MODES = ("manual", "soc", "none")
RELAY_ACTIONS = ("apply", "shed", "schedule", "none")

# The mains relay's state is in the ensemble inventory (devices), a dry contact's in
# its status (live); a write also makes the client re-read the settings.
GRID_GROUPS = frozenset({DataGroup.DEVICES, DataGroup.SETTINGS})
RELAY_GROUPS = frozenset({DataGroup.LIVE, DataGroup.SETTINGS})


@dataclass(frozen=True, slots=True)
class RelaySetting:
    """One field of a relay's settings offered as a control."""

    kind: ControlKind
    field: str  # the key in the relay's settings document
    value_fn: Callable[[DryContactSettings], str | float | None]
    options: tuple[str, ...] = ()


RELAY_SETTINGS: Mapping[ControlKey, RelaySetting] = {
    ControlKey.RELAY_MODE: RelaySetting(
        ControlKind.SELECT, "mode", lambda s: s.mode, RELAY_MODES
    ),
    ControlKey.GRID_ACTION: RelaySetting(
        ControlKind.SELECT, "grid_action", lambda s: s.grid_action, RELAY_ACTIONS
    ),
    ControlKey.MICRO_GRID_ACTION: RelaySetting(
        ControlKind.SELECT,
        "micro_grid_action",
        lambda s: s.micro_grid_action,
        RELAY_ACTIONS,
    ),
    ControlKey.GENERATOR_ACTION: RelaySetting(
        ControlKind.SELECT, "gen_action", lambda s: s.gen_action, RELAY_ACTIONS
    ),
    ControlKey.CUTOFF_SOC: RelaySetting(
        ControlKind.NUMBER, "soc_low", lambda s: s.soc_low
    ),
    ControlKey.RESTORE_SOC: RelaySetting(
        ControlKind.NUMBER, "soc_high", lambda s: s.soc_high
    ),
}


def _controller(data: EnvoyData) -> str | None:
    """The IQ System Controller's serial: its mains relay takes the site off grid."""
    ensemble = data.ensemble
    return ensemble.enpowers[0].serial if ensemble and ensemble.enpowers else None


def _storage(data: EnvoyData, snapshot: SiteSnapshot) -> StorageSettings | None:
    """The tariff's battery settings, on a site that has batteries."""
    tariff = data.tariff
    if tariff is None or tariff.storage is None:
        return None
    if not snapshot.of_kind(DeviceKind.BATTERY):
        return None
    return tariff.storage


def _relay_device(data: EnvoyData, snapshot: SiteSnapshot, relay_id: str) -> str | None:
    """The site serial of a dry contact relay, when the site lists its device."""
    controller = _controller(data)
    if controller is None:
        return None
    serial = relay_serial(controller, relay_id)
    return serial if snapshot.device(serial) is not None else None


def describe(
    data: EnvoyData, snapshot: SiteSnapshot, tracker: ProductionTracker | None = None
) -> tuple[Control, ...]:
    """The controls this Envoy offers, with their current values."""
    return (
        *_grid_controls(data, snapshot),
        *_storage_controls(data, snapshot),
        *_relay_controls(data, snapshot),
        *generator_controls(data, snapshot),
        *acb_controls(data, snapshot),
        *production_controls(data, snapshot, tracker),
        *export_limit_controls(data),
    )


def _grid_controls(data: EnvoyData, snapshot: SiteSnapshot) -> Iterator[Control]:
    ensemble = data.ensemble
    controller = ensemble.enpowers[0] if ensemble and ensemble.enpowers else None
    if controller is not None and controller.mains_admin_state is not None:
        yield Control(
            key=ControlKey.GRID_CONNECTION,
            kind=ControlKind.SWITCH,
            value=controller.mains_admin_state == "closed",
            device=controller.serial
            if snapshot.device(controller.serial) is not None
            else None,
            source=DataGroup.DEVICES,
            groups=GRID_GROUPS,
        )
    for contact in data.dry_contacts:
        device = _relay_device(data, snapshot, contact.id)
        if device is not None:
            yield Control(
                key=ControlKey.RELAY,
                kind=ControlKind.SWITCH,
                value=None if contact.status is None else contact.status == "closed",
                device=device,
                source=DataGroup.LIVE,
                groups=RELAY_GROUPS,
            )


def _storage_controls(data: EnvoyData, snapshot: SiteSnapshot) -> Iterator[Control]:
    storage = _storage(data, snapshot)
    if storage is None:
        return
    yield Control(
        key=ControlKey.CHARGE_FROM_GRID,
        kind=ControlKind.SWITCH,
        value=storage.charge_from_grid,
    )
    mode = storage.mode
    yield Control(
        key=ControlKey.BATTERY_MODE,
        kind=ControlKind.SELECT,
        value=STORAGE_OPTIONS[StorageMode(mode)]
        if mode is not None and mode in StorageMode
        else None,
        options=tuple(dict.fromkeys(STORAGE_OPTIONS.values())),
    )
    if storage.reserved_soc is not None:
        yield Control(
            key=ControlKey.BACKUP_RESERVE,
            kind=ControlKind.NUMBER,
            value=storage.reserved_soc,
        )
    if storage.opt_schedules is not None:
        yield Control(
            key=ControlKey.OPTIMISED_SCHEDULES,
            kind=ControlKind.SWITCH,
            value=storage.opt_schedules,
        )


def _relay_controls(data: EnvoyData, snapshot: SiteSnapshot) -> Iterator[Control]:
    for settings in data.dry_contact_settings:
        device = _relay_device(data, snapshot, settings.id)
        if device is None:
            continue
        for key, setting in RELAY_SETTINGS.items():
            value = setting.value_fn(settings)
            if setting.kind is ControlKind.SELECT and value not in setting.options:
                value = None
            yield Control(
                key=key,
                kind=setting.kind,
                value=value,
                device=device,
                options=setting.options,
            )


def request_for(change: ControlChange, data: EnvoyData) -> ControlRequest:
    """The request that makes ``change`` (already checked against the control)."""
    value = change.value
    for request in (
        generator_request(change, data),
        acb_request(change, data),
        export_limit_change(change, data),
    ):
        if request is not None:
            return request
    match change.key:
        case ControlKey.PRODUCTION:
            return production_request(producing=bool(value))
        case ControlKey.GRID_CONNECTION:
            return grid_request(on_grid=bool(value))
        case ControlKey.CHARGE_FROM_GRID:
            return tariff_request(data.tariff, charge_from_grid=bool(value))
        case ControlKey.BATTERY_MODE:
            return tariff_request(data.tariff, mode=_storage_mode(str(value), data))
        case ControlKey.BACKUP_RESERVE:
            return tariff_request(data.tariff, reserved_soc=float(value))
        case ControlKey.OPTIMISED_SCHEDULES:
            return tariff_request(data.tariff, opt_schedules=bool(value))
    relay_id = _relay_id(change.device, data)
    if change.key is ControlKey.RELAY:
        return dry_contact_request(relay_id, closed=bool(value))
    setting = RELAY_SETTINGS[change.key]
    settings = next(s for s in data.dry_contact_settings if s.id == relay_id)
    written: object = float(value) if setting.kind is ControlKind.NUMBER else value
    if change.key in (ControlKey.CUTOFF_SOC, ControlKey.RESTORE_SOC):
        _check_relay_levels(settings, change.key, float(value))
    return dry_contact_settings_request(settings, {setting.field: written})


def _check_relay_levels(
    settings: DryContactSettings, key: ControlKey, value: float
) -> None:
    """Refuse a cutoff level not below the restore level.

    The relay opens at the cutoff and closes again at the restore level: with the
    two crossed it would switch back and forth around them.
    """
    cutoff = value if key is ControlKey.CUTOFF_SOC else settings.soc_low
    restore = value if key is ControlKey.RESTORE_SOC else settings.soc_high
    if cutoff is not None and restore is not None and cutoff >= restore:
        raise InvalidControlValueError(
            f"cutoff level {cutoff:g} % must be below restore level {restore:g} %",
            InvalidValueReason.RELAY_SOC_ORDER,
            {"low": cutoff, "high": restore},
        )


def _storage_mode(option: str, data: EnvoyData) -> StorageMode:
    """The gateway's own spelling of ``option`` (savings: as it reports it)."""
    if option == "savings":
        storage = data.tariff.storage if data.tariff else None
        if storage is not None and storage.mode == StorageMode.SAVINGS:
            return StorageMode.SAVINGS
        return StorageMode.ECONOMY
    return next(m for m, key in STORAGE_OPTIONS.items() if key == option)


def _relay_id(device: str | None, data: EnvoyData) -> str:
    controller = _controller(data)
    ids = [c.id for c in data.dry_contacts] + [s.id for s in data.dry_contact_settings]
    for relay_id in ids:
        if controller is not None and relay_serial(controller, relay_id) == device:
            return relay_id
    raise FeatureUnavailableError(f"no dry contact relay {device}", 404)
