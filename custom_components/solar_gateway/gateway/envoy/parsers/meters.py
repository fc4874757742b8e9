"""Parsers of the CT endpoints ``/ivp/meters`` and ``/ivp/meters/readings``."""

from functools import partial

from custom_components.solar_gateway.gateway.envoy.models import (
    MeterChannel,
    MeterConfig,
    MeterReading,
)
from custom_components.solar_gateway.gateway.values import (
    JsonObject,
    as_int,
    as_list,
    as_str,
    objects,
)

from .common import keyed, num, root_list, timestamp


def parse_meters(payload: object) -> tuple[MeterConfig, ...]:
    """Parse ``/ivp/meters`` (an empty list: no CT configured)."""
    return keyed(root_list(payload, "/ivp/meters"), "eid", as_int, _meter_config)


def _meter_config(item: JsonObject, eid: int) -> MeterConfig:
    return MeterConfig(
        eid=eid,
        state=as_str(item.get("state")),
        measurement_type=as_str(item.get("measurementType")),
        phase_mode=as_str(item.get("phaseMode")),
        phase_count=as_int(item.get("phaseCount")),
        metering_status=as_str(item.get("meteringStatus")),
        status_flags=tuple(
            flag for flag in as_list(item.get("statusFlags")) if isinstance(flag, str)
        ),
    )


def _channel(item: JsonObject) -> MeterChannel:
    return MeterChannel(
        eid=as_int(item.get("eid")),
        timestamp=timestamp(item.get("timestamp")),
        energy_delivered=num(item.get("actEnergyDlvd")),
        energy_received=num(item.get("actEnergyRcvd")),
        active_power=num(item.get("activePower")),
        apparent_power=num(item.get("apparentPower")),
        reactive_power=num(item.get("reactivePower")),
        power_factor=num(item.get("pwrFactor")),
        voltage=num(item.get("voltage")),
        current=num(item.get("current")),
        frequency=num(item.get("freq")),
    )


def parse_meter_readings(payload: object) -> tuple[MeterReading, ...]:
    """Parse ``/ivp/meters/readings``: each CT's totals, its phases when asked."""
    return tuple(
        MeterReading(
            total=_channel(item), read_channels=partial(_channels, item.get("channels"))
        )
        for item in objects(root_list(payload, "/ivp/meters/readings"))
    )


def _channels(items: object) -> tuple[MeterChannel, ...]:
    return tuple(_channel(item) for item in objects(items))
