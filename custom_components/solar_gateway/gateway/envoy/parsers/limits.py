"""Parsers for what limits production: the production switch and the export limits."""

from collections.abc import Mapping

from custom_components.solar_gateway.gateway.envoy.models import (
    DynamicExportLimit,
    ExportLimit,
    ProductionPower,
    PvLimit,
)
from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from custom_components.solar_gateway.gateway.values import as_bool, as_str

from .common import num, root_object


def parse_production_power(payload: object) -> ProductionPower:
    """Parse ``/ivp/mod/603980032/mode/power``.

    The gateway answers an error object (``{"error": "power mode get: ..."}``) for a
    record it does not have: that is a payload we cannot use, not a state.
    """
    root = root_object(payload, "mode/power")
    forced_off = as_bool(root.get("powerForcedOff"))
    if forced_off is None:
        raise UnexpectedPayloadError("mode/power: no powerForcedOff")
    return ProductionPower(
        forced_off=forced_off,
        pv_forced_off=as_bool(root.get("pvPowerForcedOff")),
        battery_forced_off=as_bool(root.get("enchargePowerForcedOff")),
    )


def parse_export_limit(payload: object) -> ExportLimit | None:
    """Parse ``/ivp/ss/pel_settings``; None when it says nothing of the limit."""
    root = root_object(payload, "pel_settings")
    enabled = as_bool(root.get("PEL"))
    if enabled is None:
        return None
    return ExportLimit(
        enabled=enabled,
        hard=as_bool(root.get("Hard_PEL")),
        soft=as_bool(root.get("Soft_PEL")),
        limit_type=as_str(root.get("Export_Limit_Type")),
        in_percent=as_bool(root.get("percent")),
        limit=num(root.get("PEL_Limit")),
    )


def parse_dynamic_export_limit(payload: object) -> DynamicExportLimit:
    """Parse ``/ivp/ss/dpel``.

    A document without ``dynamic_pel_settings.enable`` says nothing we can show or
    write back: an unexpected payload.
    """
    root = root_object(payload, "dpel")
    settings = root.get("dynamic_pel_settings")
    enabled = as_bool(settings.get("enable")) if isinstance(settings, Mapping) else None
    if not isinstance(settings, Mapping) or enabled is None:
        raise UnexpectedPayloadError("dpel: no dynamic_pel_settings.enable")
    return DynamicExportLimit(
        enabled=enabled,
        export_limit=as_bool(settings.get("export_limit")),
        limit_w=num(settings.get("limit_value_W")),
        slew_rate=num(settings.get("slew_rate")),
        dynamic=as_bool(settings.get("enable_dynamic_limiting")),
    )


def parse_pv_limit(payload: object) -> PvLimit | None:
    """Parse ``/ivp/sc/pvlimit``; None when it holds neither field."""
    root = root_object(payload, "pvlimit")
    enabled = as_bool(root.get("enable"))
    percent = num(root.get("pv_limit_pct"))
    if enabled is None and percent is None:
        return None
    return PvLimit(enabled=enabled, percent=percent)
