"""A scripted gateway client, for testing the integration's own rules in isolation.

The integration's behaviour with real gateways is tested through the simulator; this
client lets a test decide exactly what each poll returns (a glitching counter, a device
that appears, a gateway that drops off) without building captures for it.
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import override
from unittest.mock import MagicMock

from custom_components.solar_gateway.gateway.client import (
    Access,
    DataGroup,
    GatewayClient,
    Identified,
    PollingRule,
)
from custom_components.solar_gateway.gateway.errors import (
    FeatureUnavailableError,
    GatewayError,
)
from custom_components.solar_gateway.gateway.site import (
    Brand,
    ControlChange,
    Device,
    DeviceKind,
    GatewayIdentity,
    Measurement,
    Phase,
    Quantity,
    SiteFigures,
    SiteSnapshot,
)
from custom_components.solar_gateway.gateway.transport import Transport

SERIAL = "122233344455"

IDENTITY = GatewayIdentity(
    brand=Brand.ENPHASE,
    serial=SERIAL,
    model="800-00555-r03",
    firmware="8.2.4286",
    api="envoy",
    metered=True,
)

FIGURES = SiteFigures(
    solar_power=3200.0,
    solar_energy=12_500_000.0,
    consumption_power=1200.0,
    consumption_energy=9_000_000.0,
    grid_power=-2000.0,
    grid_import_energy=4_000_000.0,
    grid_export_energy=6_500_000.0,
    grid_connected=True,
)


def inverter(serial: str, lifetime: float, power: float = 250.0) -> Device:
    """A microinverter hanging off the gateway."""
    return Device(
        kind=DeviceKind.INVERTER,
        serial=serial,
        manufacturer="Enphase Energy",
        model="IQ8M",
        measurements=(
            Measurement(Quantity.POWER, power),
            Measurement(Quantity.LIFETIME_ENERGY, lifetime),
            Measurement(Quantity.COMMUNICATING, True),
        ),
    )


METER = Device(
    kind=DeviceKind.METER,
    serial=f"{SERIAL}EIM1",
    manufacturer="Enphase Energy",
    name="Production CT",
    parent=SERIAL,
    measurements=(
        Measurement(Quantity.POWER, 3200.0),
        Measurement(Quantity.ENERGY_DELIVERED, 12_500_000.0),
        Measurement(Quantity.VOLTAGE, 241.2, Phase.L1),
        Measurement(Quantity.WORKING, True),
    ),
)

SNAPSHOT = SiteSnapshot(
    identity=IDENTITY,
    figures=FIGURES,
    devices=(
        METER,
        inverter("482301000001", 1_000_000.0),
        inverter("482301000002", 990_000.0),
    ),
    data_time=datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
)


class FakeGatewayClient(GatewayClient):
    """Returns ``self.snapshot`` on every refresh, or raises ``self.error``."""

    def __init__(self, snapshot: SiteSnapshot = SNAPSHOT) -> None:
        """Start with ``snapshot``; tests change it between polls."""
        self.snapshot = snapshot
        self.error: GatewayError | None = None
        self.failing: frozenset[DataGroup] = frozenset(DataGroup)  # where error hits
        self.setup_error: GatewayError | None = None
        self.refreshed: list[frozenset[DataGroup]] = []
        self.transport = Transport(MagicMock(), "https://192.0.2.10")
        self.intervals = {
            DataGroup.LIVE: timedelta(seconds=30),
            DataGroup.DEVICES: timedelta(minutes=5),
            DataGroup.SETTINGS: timedelta(hours=1),
        }
        self.next_due: datetime | None = None

    @property
    @override
    def identity(self) -> GatewayIdentity:
        return self.snapshot.identity

    @property
    @override
    def identification(self) -> Identified:
        return Identified(self.identity, Access.ENVOY_ACCOUNT, "https://192.0.2.10")

    @property
    @override
    def polling(self) -> Mapping[DataGroup, PollingRule]:
        return {
            group: PollingRule(interval, interval / 6, interval * 10)
            for group, interval in self.intervals.items()
        }

    @override
    async def setup(self) -> None:
        if self.setup_error is not None:
            raise self.setup_error

    @override
    async def refresh(self, groups: frozenset[DataGroup]) -> SiteSnapshot:
        self.refreshed.append(groups)
        if self.error is not None and groups & self.failing:
            raise self.error
        return self.snapshot

    @override
    async def apply(self, change: ControlChange) -> SiteSnapshot:
        raise FeatureUnavailableError(f"no {change.key} control here", 404)

    @override
    def next_data_due(
        self, group: DataGroup, snapshot: SiteSnapshot
    ) -> datetime | None:
        return self.next_due

    def set_figures(self, **changes: float | bool | None) -> None:
        """Change site figures for the next poll."""
        self.snapshot = replace(
            self.snapshot, figures=replace(self.snapshot.figures, **changes)
        )
