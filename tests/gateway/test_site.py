"""The vendor-neutral site model: lookups by quantity, phase, serial and kind."""

from dataclasses import FrozenInstanceError

import pytest

from custom_components.solar_gateway.gateway.site import (
    Brand,
    Device,
    DeviceKind,
    GatewayIdentity,
    Measurement,
    Phase,
    Quantity,
    SiteFigures,
    SiteSnapshot,
)

IDENTITY = GatewayIdentity(
    brand=Brand.ENPHASE, serial="122", model="IQ Gateway", firmware="D8.2", api="envoy"
)
METER = Device(
    kind=DeviceKind.METER,
    serial="122EIM1",
    manufacturer="Enphase",
    measurements=(
        Measurement(Quantity.POWER, 1200.0),
        Measurement(Quantity.POWER, 600.0, Phase.L1),
        Measurement(Quantity.POWER, 600.0, Phase.L2),
        Measurement(Quantity.COMMUNICATING, True),
    ),
)
INVERTER_A = Device(kind=DeviceKind.INVERTER, serial="A1", manufacturer="Enphase")
INVERTER_B = Device(kind=DeviceKind.INVERTER, serial="B2", manufacturer="Enphase")


def test_device_get_by_quantity_and_phase() -> None:
    """A whole-device value and per-phase values are told apart."""
    assert METER.get(Quantity.POWER) == 1200.0
    assert METER.get(Quantity.POWER, Phase.L1) == 600.0
    assert METER.get(Quantity.POWER, Phase.L3) is None
    assert METER.get(Quantity.COMMUNICATING) is True
    assert METER.get(Quantity.VOLTAGE) is None


def test_device_iterates_its_measurements() -> None:
    """Iterating a device yields its measurements in order."""
    assert [m.phase for m in METER] == [None, Phase.L1, Phase.L2, None]


def test_snapshot_lookups() -> None:
    """Devices are found by serial and listed by kind in gateway order."""
    snapshot = SiteSnapshot(
        identity=IDENTITY,
        figures=SiteFigures(solar_power=1500.0),
        devices=(INVERTER_A, METER, INVERTER_B),
    )
    assert snapshot.device("122EIM1") is METER
    assert snapshot.device("missing") is None
    assert snapshot.of_kind(DeviceKind.INVERTER) == [INVERTER_A, INVERTER_B]
    assert snapshot.of_kind(DeviceKind.BATTERY) == []


def test_absent_figures_are_none_not_zero() -> None:
    """A figure the gateway cannot measure is None."""
    figures = SiteFigures(solar_power=0.0)
    assert figures.solar_power == 0.0
    assert figures.battery_power is None
    assert figures.grid_connected is None


def test_models_are_frozen() -> None:
    """Snapshots are shared between entities; nobody may change them."""
    with pytest.raises(FrozenInstanceError):
        METER.serial = "other"  # type: ignore[misc]
