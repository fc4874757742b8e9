"""The dynamic export limit: curtailing the inverters so that the site exports at most
a number of watts (``/ivp/ss/dpel``).

At negative prices this is the better answer than stopping production: the house
keeps using its own solar and the batteries keep charging, only export stops. Only an
installer token may read or write it (owner tokens are refused 401), as for the
production switch. The gateway takes the whole setting in one POST; turning it off
sends ``{"enable": false}`` alone, and it then reports no limit at all.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from custom_components.solar_gateway.gateway.errors import FeatureUnavailableError
from custom_components.solar_gateway.gateway.site import (
    Control,
    ControlChange,
    ControlKey,
    ControlKind,
)

from .control_request import ControlRequest
from .models import DynamicExportLimit, EnvoyData

DPEL_PATH = "/ivp/ss/dpel"
FILENAME = "site_settings"
VERSION = "00.00.01"
# The switch turns the limit on at the power the number shows; with the limit off the
# gateway keeps no value, and turning it on limits export to 0 W (zero export).
ZERO_EXPORT_W = 0.0
# The slew rate a gateway with the limit set reports; kept as the gateway reports it
# once it does.
DEFAULT_SLEW_RATE = 50.0
# Far above any home site's export; the gateway publishes no range of its own.
MAXIMUM_W = 100_000.0


class ExportLimitAbsence(StrEnum):
    """Why a gateway offers no export limit control."""

    OWNER_TOKEN = "owner_token"  # noqa: S105 - a reason, not a secret; only an installer token may read or set it
    NOT_METERED = "not_metered"  # no consumption CT: export cannot be measured
    NOT_OFFERED = "not_offered"  # the gateway answered 401, 403 or 404
    PRODUCTION_LIMIT = "production_limit"  # it holds a production limit instead


@dataclass(frozen=True, slots=True)
class ExportLimitChange:
    """What a write asks: the limit on at ``limit_w`` W, or off."""

    enabled: bool
    limit_w: float = ZERO_EXPORT_W


def export_limit_request(
    current: DynamicExportLimit, change: ExportLimitChange
) -> ControlRequest:
    """The whole setting the gateway expects (off: ``enable: false`` alone)."""
    if not change.enabled:
        settings: dict[str, object] = {"enable": False}
    else:
        if not 0 <= change.limit_w <= MAXIMUM_W:
            raise ValueError(
                f"the export limit must be 0 to {MAXIMUM_W:.0f} W, not {change.limit_w}"
            )
        settings = {
            "enable": True,
            "export_limit": True,
            "limit_value_W": float(change.limit_w),
            "slew_rate": float(current.slew_rate or DEFAULT_SLEW_RATE),
            "enable_dynamic_limiting": False,
        }
    return ControlRequest(
        "POST",
        DPEL_PATH,
        {"dynamic_pel_settings": settings, "filename": FILENAME, "version": VERSION},
    )


def shown_limit(limit: DynamicExportLimit) -> float:
    """The limit the number shows: in force, or the one turning the limit on applies."""
    if limit.enabled and limit.limit_w is not None:
        return limit.limit_w
    return ZERO_EXPORT_W


def holds_production_limit(limit: DynamicExportLimit) -> bool:
    """Whether the setting limits production, not export (an installer's choice)."""
    return limit.enabled and limit.export_limit is False


def export_limit_controls(data: EnvoyData) -> Iterator[Control]:
    """The switch and the power in W, where the gateway answered the setting.

    Not offered while the gateway holds a production limit: turning that off or
    into an export limit is the installer's decision, not an automation's.
    """
    limit = data.dynamic_export_limit
    if limit is None or holds_production_limit(limit):
        return
    yield Control(
        key=ControlKey.DYNAMIC_EXPORT_LIMIT,
        kind=ControlKind.SWITCH,
        value=limit.enabled,
    )
    yield Control(
        key=ControlKey.DYNAMIC_EXPORT_LIMIT_POWER,
        kind=ControlKind.NUMBER,
        value=shown_limit(limit),
        minimum=0,
        maximum=MAXIMUM_W,
        step=1,
    )


def export_limit_change(
    change: ControlChange, data: EnvoyData
) -> ControlRequest | None:
    """The request for a change of the export limit's controls; None for others.

    The switch turns the limit on at the power shown; setting the power turns the
    limit on at that power.
    """
    limit = data.dynamic_export_limit
    if change.key not in (
        ControlKey.DYNAMIC_EXPORT_LIMIT,
        ControlKey.DYNAMIC_EXPORT_LIMIT_POWER,
    ):
        return None
    if limit is None:
        raise FeatureUnavailableError("this Envoy reports no export limit", 404)
    if change.key is ControlKey.DYNAMIC_EXPORT_LIMIT:
        wanted = ExportLimitChange(bool(change.value), shown_limit(limit))
    else:
        wanted = ExportLimitChange(enabled=True, limit_w=float(change.value))
    return export_limit_request(limit, wanted)
