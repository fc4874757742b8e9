"""The PVS site model as a user reads it: product names, states, SunVault figures."""

from dataclasses import replace
import json
from pathlib import Path

import pytest

from custom_components.solar_gateway.gateway.pvs.models import (
    DeviceList,
    EssConfig,
    EssStatus,
    HubPlusStatus,
    Legs,
)
from custom_components.solar_gateway.gateway.pvs.parsers.varserver import parse_vars
from custom_components.solar_gateway.gateway.pvs.site_mapping import (
    gateway_model,
    inverter_model,
    legacy_figures,
    pvs_identity,
    varserver_figures,
    varserver_snapshot,
)
from custom_components.solar_gateway.gateway.site import DeviceKind, Quantity

VARS = Path(__file__).resolve().parents[2] / "fixtures/pvs/varserver/vars_fmt_obj.json"


def test_product_names() -> None:
    """The DeviceList's "PV Supervisor PVS6" is a PVS6; AC modules by their type."""
    assert gateway_model("PV Supervisor PVS6") == "PVS6"
    assert gateway_model(None) == "PVS"
    assert inverter_model("AC_Module_Type_H") == "AC module type H"
    assert inverter_model("SPR-X22-360-E-AC") == "Microinverter"


@pytest.mark.parametrize(
    ("position", "connected"),
    [("CLOSED", True), ("close", True), ("OPEN", False), ("MOVING", None)],
)
def test_hub_contactor_is_the_grid_connection(
    position: str, connected: bool | None
) -> None:
    """The Hub+ contactor's word, as the site's grid connection (unknown: absent)."""
    hub = HubPlusStatus(
        serial="SY1",
        contactor_position=position,
        grid_voltage_state=None,
        grid_voltage_legs=Legs(),
        load_voltage_legs=Legs(),
        temperature_c=None,
        humidity_pct=None,
    )
    status = EssStatus(batteries=(), units=(), hub_plus=hub)
    empty = DeviceList(supervisor=None, meters=(), inverters=(), ess_parts=())
    assert legacy_figures(empty, status, []).grid_connected is connected


def test_two_sunvaults_each_show_their_own_figures() -> None:
    """With one SunVault its power is the site's; with two each has its own."""
    data = parse_vars(json.loads(VARS.read_text()))
    [ess] = data.ess
    second = replace(ess, serial="00003ABC9999_X", pos_kwh=5.0, neg_kwh=7.0)
    both = replace(data, ess=(ess, second))
    identity = pvs_identity("ZT1", "PVS6", "2025.10", "pvs_varserver")
    snapshot = varserver_snapshot(identity, both, None, [])
    sunvaults = snapshot.of_kind(DeviceKind.ESS)
    assert [s.get(Quantity.ENERGY_RECEIVED) for s in sunvaults] == [
        pytest.approx(1840220.947),
        7000.0,
    ]
    assert sunvaults[0].get(Quantity.POWER) == pytest.approx(-800.0)
    assert sunvaults[0].get(Quantity.BACKUP_TIME) is None  # the site's, not its own
    figures = varserver_figures(both, EssConfig(None, 0.2), [])
    assert figures.battery_charged_energy == pytest.approx(1840220.947 + 7000.0)
    assert figures.battery_discharged_energy == pytest.approx(1495109.009 + 5000.0)


def _dump_with(**changes: str) -> dict[str, str]:
    """The varserver fixture's whole dump, with some device variables changed."""
    values: dict[str, str] = json.loads(VARS.read_text())
    for name, value in changes.items():
        key = next(key for key in values if key.endswith(f"/{name}"))
        values[key] = value
    return values


@pytest.mark.parametrize(
    ("word", "connected"),
    [
        ("MID_STATE_CLOSED", True),  # a real on-grid SunVault site
        ("MID_STATE_OPEN", False),  # islanded
        ("CLOSED", True),
        ("OPEN", False),
    ],
)
def test_transfer_switch_state_is_the_grid_connection(
    word: str, connected: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """The Hub+ MID's ``midStEnum``, as real gateways spell it, is grid connected."""
    data = parse_vars(_dump_with(midStEnum=word))
    identity = pvs_identity("ZT1", "PVS6", "2025.10", "pvs_varserver")
    snapshot = varserver_snapshot(identity, data, None, [])
    assert snapshot.figures.grid_connected is connected
    assert not caplog.records


def test_unknown_transfer_switch_state_is_unknown_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A state word no PVS is known to send leaves the grid connection unknown (never
    a guess) and is logged once, however many polls report it."""
    data = parse_vars(_dump_with(midStEnum="MID_STATE_TRANSITIONING"))
    identity = pvs_identity("ZT1", "PVS6", "2025.10", "pvs_varserver")
    warnings: list[str] = []
    for _ in range(3):
        snapshot = varserver_snapshot(identity, data, None, warnings)
        assert snapshot.figures.grid_connected is None
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert "MID_STATE_TRANSITIONING" in record.getMessage()
    assert "grid connection unknown" in record.getMessage()


@pytest.mark.parametrize(
    ("soh", "percent"), [("1", 100.0), ("0.93", 93.0), ("98", None), ("nan", None)]
)
def test_sunvault_state_of_health_is_a_fraction(
    soh: str, percent: float | None
) -> None:
    """``sohVal`` is a fraction like ``socVal`` ("1" is 100 %); a value outside 0..1
    is no fraction the PVS sends, so it is absent rather than shown wrong."""
    data = parse_vars(_dump_with(sohVal=soh))
    identity = pvs_identity("ZT1", "PVS6", "2025.10", "pvs_varserver")
    [ess] = varserver_snapshot(identity, data, None, []).of_kind(DeviceKind.ESS)
    assert ess.get(Quantity.STATE_OF_HEALTH) == (
        pytest.approx(percent) if percent is not None else None
    )
