"""PVS parsers on odd and hostile values: typed errors or absent values, never crashes."""

from datetime import UTC, datetime

import pytest

from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from custom_components.solar_gateway.gateway.pvs.models import MeterRole
from custom_components.solar_gateway.gateway.pvs.parsers.common import (
    epoch_time,
    flag,
    iso_time,
    legacy_time,
    load_json_object,
    num,
    parse_build,
    text,
)
from custom_components.solar_gateway.gateway.pvs.parsers.legacy import (
    meter_role,
    parse_check_fw,
    parse_device_list,
    parse_ess_status,
    parse_network_status,
    parse_supervisor_info,
)
from custom_components.solar_gateway.gateway.pvs.parsers.varserver import parse_vars
from custom_components.solar_gateway.gateway.pvs.probe import api_for_build
from custom_components.solar_gateway.gateway.pvs.site_mapping import (
    legacy_figures,
    legacy_snapshot,
    pvs_identity,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.25", 0.25), ("nan", None), ("", None), ("inf", None), ("x", None), (3, 3.0)],
)
def test_num(value: object, expected: float | None) -> None:
    """Numbers arrive as strings; junk is absent."""
    assert num(value) == expected


def test_text_flag_and_times() -> None:
    """Strings, 0/1 flags and both timestamp forms."""
    assert text(" nan ") is None
    assert text("NaN") is None
    assert text(5) == "5"
    assert flag("1") is True
    assert flag("0") is False
    assert flag("2") is None
    assert legacy_time("2024,04,16,23,45,00") == datetime(
        2024, 4, 16, 23, 45, tzinfo=UTC
    )
    assert legacy_time("2024,13,16,23,45,00") is None
    assert legacy_time("2024-04-16") is None
    assert legacy_time(None) is None
    assert iso_time("2025-09-30T15:50:00Z") == datetime(2025, 9, 30, 15, 50, tzinfo=UTC)
    assert iso_time("2025-09-30T15:50:00") == datetime(2025, 9, 30, 15, 50, tzinfo=UTC)
    assert iso_time("n/a") is None
    assert iso_time("") is None
    assert epoch_time("1759247902") == datetime.fromtimestamp(1759247902, UTC)
    assert epoch_time("0") is None
    assert epoch_time("1e30") is None


@pytest.mark.parametrize(
    ("candidates", "build"),
    [
        ((61840,), 61840),
        (("61845",), 61845),
        (("2025.06, Build 61840",), 61840),
        (("2025.09.04.61845",), 61845),
        ((None, "2024.2, Build 61640"), 61640),
        (("beta",), None),
        ((0,), None),
    ],
)
def test_parse_build(candidates: tuple[object, ...], build: int | None) -> None:
    """Every form of firmware build the PVS reports."""
    assert parse_build(*candidates) == build


def test_api_for_build() -> None:
    """PVS6 from 61840, PVS5 from 5408; unknown build: legacy."""
    assert api_for_build("PVS6", 61840).value == "pvs_varserver"
    assert api_for_build("PVS6", 61839).value == "pvs_legacy"
    assert api_for_build("PVS5", 5408).value == "pvs_varserver"
    assert api_for_build(None, None).value == "pvs_legacy"


def test_load_json_object() -> None:
    """HTML, truncated JSON and arrays are typed errors."""
    with pytest.raises(UnexpectedPayloadError, match="invalid JSON"):
        load_json_object(b"<html><body>503</body></html>", "x")
    with pytest.raises(UnexpectedPayloadError):
        load_json_object('{"a": ', "x")
    with pytest.raises(UnexpectedPayloadError, match="not a JSON object"):
        load_json_object(b"[1]", "x")


def test_device_list_skips_junk_and_keeps_unknown_types() -> None:
    """Entries without serial are dropped; unknown device types are kept apart."""
    parsed = parse_device_list(
        {
            "result": "succeed",
            "devices": [
                "junk",
                {"DEVICE_TYPE": "Inverter"},
                {"SERIAL": "X1", "DEVICE_TYPE": "Weather Station", "STATE": "Working"},
                {"SERIAL": "P1", "DEVICE_TYPE": "PVS", "dl_uptime": "nan"},
                {"SERIAL": "P2", "DEVICE_TYPE": "PVS"},
                {
                    "SERIAL": "I1",
                    "DEVICE_TYPE": "Inverter",
                    "p_mpptsum_kw": "0.2",
                    "p_3phsum_kw": "",
                },
            ],
        }
    )
    assert [o.serial for o in parsed.others] == ["X1"]
    assert parsed.others[0].state == "working"
    assert parsed.supervisor is not None
    assert parsed.supervisor.serial == "P1"
    assert parsed.supervisor.uptime_s is None
    assert parsed.inverters[0].dc_power_kw == pytest.approx(0.2)
    assert parsed.inverters[0].power_kw is None


def test_meter_role_hints() -> None:
    """TYPE, model or serial tell the meter's role."""
    assert meter_role(None, "PVS6M0400c") is MeterRole.CONSUMPTION
    assert meter_role("PVS5-METER-P") is MeterRole.PRODUCTION
    assert meter_role(None, None, "odd") is MeterRole.PRODUCTION


def test_gross_meter_and_pvs5_meter_without_pos() -> None:
    """Gross line-side: house consumption; net meter lacking pos: pos = net + neg."""
    meter = {
        "SERIAL": "M1c",
        "DEVICE_TYPE": "Power Meter",
        "TYPE": "PVS5-METER-C",
        "subtype": "GROSS_CONSUMPTION_LINESIDE",
        "p_3phsum_kw": "1.5",
        "net_ltea_3phsum_kwh": "100",
    }
    production = {
        "SERIAL": "M1p",
        "DEVICE_TYPE": "Power Meter",
        "TYPE": "PVS5-METER-P",
        "p_3phsum_kw": "2.0",
        "net_ltea_3phsum_kwh": "50",
    }
    gross = legacy_figures(
        parse_device_list({"devices": [meter, production]}), None, []
    )
    assert gross.consumption_power == pytest.approx(1500)
    assert gross.consumption_energy == pytest.approx(100000)
    assert gross.grid_power == pytest.approx(-500)
    assert gross.grid_import_energy is None
    assert gross.grid_export_energy is None
    pvs5 = dict(meter, subtype="", neg_ltea_3phsum_kwh="20")
    net = legacy_figures(parse_device_list({"devices": [pvs5]}), None, [])
    assert net.grid_import_energy == pytest.approx(120000)
    assert net.grid_export_energy == pytest.approx(20000)
    assert net.solar_power is None  # no production meter, no inverters


def test_solar_from_inverters_without_production_meter() -> None:
    """Without a production meter the inverters give solar power and energy."""
    inverters = [
        {
            "SERIAL": f"I{i}",
            "DEVICE_TYPE": "Inverter",
            "p_3phsum_kw": "0.1",
            "ltea_3phsum_kwh": "10",
        }
        for i in range(3)
    ]
    snapshot = legacy_snapshot(
        pvs_identity("s", None, None, "pvs_legacy"),
        parse_device_list({"devices": inverters}),
        None,
        [],
    )
    assert snapshot.figures.solar_power == pytest.approx(300)
    assert snapshot.figures.solar_energy == pytest.approx(30000)
    assert snapshot.data_time is None


def test_ess_status_variants() -> None:
    """Bare numbers, fractions, missing serials and error lists."""
    status = parse_ess_status(
        {
            "errors": [{"message": "BMS offline"}, "plain"],
            "ess_report": {
                "battery_status": [
                    {"serial_number": "B1", "customer_state_of_charge": 0.5},
                    {"customer_state_of_charge": 50},
                ],
                "ess_status": [
                    {
                        "serial_number": "E1",
                        "ess_meter_reading": {"agg_power": {"value": 500, "unit": "W"}},
                    },
                    {"enclosure_temperature": 3},
                ],
                "hub_plus_status": {"grid_phase1_voltage": 1},
            },
        }
    )
    assert status.errors == ("BMS offline", "plain")
    assert [b.serial for b in status.batteries] == ["B1"]
    assert status.batteries[0].customer_soc_pct == pytest.approx(50)
    assert status.batteries[0].power_w is None
    assert status.units[0].power_kw == pytest.approx(0.5)
    assert status.hub_plus is None
    with pytest.raises(UnexpectedPayloadError):
        parse_ess_status({"errors": []})


def test_other_legacy_commands() -> None:
    """Get_Comm, supervisor/info and CheckFW odd answers."""
    with pytest.raises(UnexpectedPayloadError):
        parse_network_status({"result": "succeed"})
    network = parse_network_status(
        {
            "networkstatus": {
                "interfaces": [{"interface": "plc", "internet": "maybe"}, {}]
            }
        }
    )
    assert network.interfaces[0].internet is None
    assert network.active_interface is None
    with pytest.raises(UnexpectedPayloadError):
        parse_supervisor_info({"supervisor": {"MODEL": "PVS6"}})
    assert (
        parse_supervisor_info({"SERIAL": "Z1", "SWVER": "2025.06, Build 61840"}).build
        == 61840
    )
    with pytest.raises(UnexpectedPayloadError):
        parse_check_fw({"result": "succeed"})
    assert parse_check_fw({"url": "http://fw"}).update_url == "http://fw"


def test_vars_nested_shape_and_odd_values() -> None:
    """Early 61840 builds answer one JSON object per device; junk is skipped."""
    parsed = parse_vars(
        {
            "/sys/devices/12/meter/data": {"sn": "PVS6M1c", "netLtea3phsumKwh": 5.5},
            "/sys/devices/21/inverter/data": {"sn": "E1", "p3phsumKw": 0.2},
            "/sys/devices/22/inverter/data": "not an object",
            "/sys/devices/inverter/0/p3phsumKw": "0.1",  # no sn: dropped
            "/sys/devices/ess/0/opMode": "STANDBY",
            "/sys/devices/transfer_switch/0/tDegc": "20",
            "/sys/devices/odd": "x",
            "/sys/pvs/flashwear_type_b": "0xzz",
            "/sys/info/serialnum": "ZT1",
        }
    )
    assert [m.serial for m in parsed.meters] == ["PVS6M1c"]
    assert parsed.meters[0].role is MeterRole.CONSUMPTION
    assert parsed.meters[0].net_kwh == pytest.approx(5.5)
    assert [i.serial for i in parsed.inverters] == ["E1"]
    assert parsed.ess == ()
    assert parsed.transfer_switches == ()
    assert parsed.livedata is None
    assert parsed.ess_config is None
    assert parsed.supervisor is not None
    assert parsed.supervisor.flash_wear_level is None
    assert parsed.supervisor.flash_wear_pct is None
    assert (
        parse_vars(
            {"/sys/info/serialnum": "Z", "/sys/pvs/flashwear_type_b": "7"}
        ).supervisor.flash_wear_pct
        == 70
    )  # type: ignore[union-attr]
    assert (
        parse_vars(
            {"/sys/info/serialnum": "Z", "/sys/pvs/flashwear_type_b": "0x0c"}
        ).supervisor.flash_wear_level
        is None
    )  # type: ignore[union-attr]
