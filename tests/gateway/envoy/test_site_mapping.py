"""Energy semantics and firmware quirks of the mapping to the site model."""

from dataclasses import replace

from custom_components.solar_gateway.gateway.envoy.models import EnvoyData, EnvoyInfo
from custom_components.solar_gateway.gateway.envoy.parsers.ensemble import (
    parse_ensemble_inventory,
)
from custom_components.solar_gateway.gateway.envoy.parsers.inverters import (
    parse_inverters,
)
from custom_components.solar_gateway.gateway.envoy.parsers.meters import (
    parse_meter_readings,
    parse_meters,
)
from custom_components.solar_gateway.gateway.envoy.parsers.production import (
    parse_api_production,
    parse_production_json,
)
from custom_components.solar_gateway.gateway.envoy.parsers.settings import parse_tariff
from custom_components.solar_gateway.gateway.envoy.probe import identity_of
from custom_components.solar_gateway.gateway.envoy.site_mapping import (
    build_figures,
    build_snapshot,
)

INFO = EnvoyInfo(serial="1", part_number="800", firmware="D8.3.5433", metered=True)
BASE = EnvoyData(info=INFO)


def _eim(kind: str, power: float, lifetime: float, count: int = 1) -> dict[str, object]:
    return {
        "type": "eim",
        "activeCount": count,
        "measurementType": kind,
        "wNow": power,
        "whLifetime": lifetime,
    }


def _production(
    *consumption: dict[str, object],
    production: dict[str, object] | None = None,
    inverters: tuple[int, float, float] = (4, 800, 1000),
) -> object:
    count, power, lifetime = inverters
    items: list[object] = [
        {
            "type": "inverters",
            "activeCount": count,
            "wNow": power,
            "whLifetime": lifetime,
        }
    ]
    if production is not None:
        items.append(production)
    return {"production": items, "consumption": list(consumption)}


def test_total_equal_to_net_is_not_consumption() -> None:
    """8.3.5433: total consumption equal to net is derived from solar + grid instead."""
    data = replace(
        BASE,
        production=parse_production_json(
            _production(
                _eim("total-consumption", 300.0, 2000.0),
                _eim("net-consumption", 300.0, 2000.0),
                production=_eim("production", 1000.0, 9000.0),
            )
        ),
        meter_configs=parse_meters(
            [
                {"eid": 1, "state": "enabled", "measurementType": "production"},
                {"eid": 2, "state": "enabled", "measurementType": "net-consumption"},
            ]
        ),
        meter_readings=parse_meter_readings(
            [
                {
                    "eid": 1,
                    "activePower": 1000.0,
                    "actEnergyDlvd": 9000.0,
                    "actEnergyRcvd": 1.0,
                },
                {
                    "eid": 2,
                    "activePower": 300.0,
                    "actEnergyDlvd": 5000.0,
                    "actEnergyRcvd": 3000.0,
                },
            ]
        ),
    )
    figures = build_figures(data)
    assert figures.consumption_power == 1300.0
    assert figures.consumption_energy == 9000.0 + 5000.0 - 3000.0
    assert figures.grid_power == 300.0


def test_total_consumption_ct_is_house_load() -> None:
    """A total-consumption CT measures the house; grid power is load minus solar."""
    data = replace(
        BASE,
        meter_configs=parse_meters(
            [
                {"eid": 1, "state": "enabled", "measurementType": "production"},
                {"eid": 3, "state": "enabled", "measurementType": "total-consumption"},
            ]
        ),
        meter_readings=parse_meter_readings(
            [
                {"eid": 1, "activePower": 1000.0, "actEnergyDlvd": 9000.0},
                {"eid": 3, "activePower": 1400.0, "actEnergyDlvd": 20000.0},
            ]
        ),
    )
    figures = build_figures(data)
    assert figures.consumption_power == 1400.0
    assert figures.consumption_energy == 20000.0
    assert figures.grid_power == 400.0
    # Import and export cannot be measured by a load CT: absent, not 0.
    assert figures.grid_import_energy is None
    assert figures.grid_export_energy is None


def test_inactive_totals_are_not_measured() -> None:
    """activeCount 0 totals (CTs disabled) leave consumption and grid absent."""
    data = replace(
        BASE,
        production=parse_production_json(
            _production(
                _eim("total-consumption", 0.0, 0.0, count=0),
                _eim("net-consumption", 0.0, 0.0, count=0),
                production=_eim("production", 0.0, 0.0, count=0),
            )
        ),
        api_production=parse_api_production(
            {"wattsNow": 790, "wattHoursLifetime": 5000}
        ),
    )
    figures = build_figures(data)
    # 8.2.4264+ metered without an enabled production CT: /api/v1/production is
    # stale, the inverter total is the truth.
    assert figures.solar_power == 800.0
    assert figures.solar_energy == 1000.0
    older = build_figures(replace(data, info=replace(INFO, firmware="D7.6.175")))
    assert older.solar_power == 790.0
    assert older.solar_energy == 5000.0
    assert figures.consumption_power is None
    assert figures.grid_power is None


def test_all_zero_api_production_falls_back_to_inverters() -> None:
    """/api/v1/production all zeros (8.2.4264+ without CTs, 3.x): use other sources."""
    data = replace(
        BASE,
        production=parse_production_json(_production()),
        api_production=parse_api_production(
            {
                "wattsNow": 0,
                "wattHoursToday": 0,
                "wattHoursSevenDays": 0,
                "wattHoursLifetime": 0,
            }
        ),
    )
    figures = build_figures(data)
    assert figures.solar_power == 800.0
    assert figures.solar_energy == 1000.0
    only_inverters = replace(
        BASE,
        inverters=parse_inverters(
            [
                {"serialNumber": "a", "lastReportWatts": 100},
                {"serialNumber": "b", "lastReportWatts": 150},
            ]
        ),
    )
    figures = build_figures(only_inverters)
    assert figures.solar_power == 250.0
    assert figures.solar_energy is None
    assert build_figures(BASE).solar_power is None


def test_net_from_production_json_without_readings() -> None:
    """Without CT readings, production.json's net total still gives grid power."""
    data = replace(
        BASE,
        production=parse_production_json(
            _production(
                _eim("net-consumption", -200.0, 100.0),
                production=_eim("production", 900.0, 9000.0),
            )
        ),
    )
    figures = build_figures(data)
    assert figures.grid_power == -200.0
    assert figures.consumption_power == 700.0
    assert figures.consumption_energy is None


def test_batteries_without_secctrl() -> None:
    """SOC is the mean of the batteries when secctrl is absent; reserve from tariff."""
    data = replace(
        BASE,
        ensemble=parse_ensemble_inventory(
            [
                {
                    "type": "ENCHARGE",
                    "devices": [
                        {"serial_num": "b1", "percentFull": 40},
                        {"serial_num": "b2", "percentFull": 60},
                    ],
                },
            ]
        ),
        tariff=parse_tariff(
            {"tariff": {"storage_settings": {"mode": "backup", "reserved_soc": 100}}}
        ),
    )
    figures = build_figures(data)
    assert figures.battery_state_of_charge == 50.0
    assert figures.battery_power is None
    assert figures.backup_reserve == 100.0
    acb_only = replace(
        BASE,
        production=parse_production_json(
            {
                "storage": [
                    {"type": "acb", "activeCount": 1, "wNow": 100, "percentFull": 70}
                ]
            }
        ),
    )
    figures = build_figures(acb_only)
    assert figures.battery_state_of_charge == 70.0
    assert figures.battery_power == 100.0


def test_unknown_ct_type_and_grid_states() -> None:
    """An unknown CT type still is a meter; controller and collar states map."""
    data = replace(
        BASE,
        meter_configs=parse_meters(
            [{"eid": 9, "state": "enabled", "measurementType": "heat-pump"}]
        ),
        ensemble=parse_ensemble_inventory(
            [
                {
                    "type": "ENPOWER",
                    "devices": [{"serial_num": "e1", "mains_oper_state": "open"}],
                },
            ]
        ),
    )
    snapshot = build_snapshot(identity_of(INFO), data)
    meter = snapshot.device("1_ct_heat-pump")
    assert meter is not None
    assert meter.model == "CT"
    assert snapshot.figures.grid_connected is False
    collar = replace(
        BASE,
        ensemble=parse_ensemble_inventory(
            [
                {
                    "type": "COLLAR",
                    "devices": [{"serial_num": "c1", "grid_state": "off_grid"}],
                },
            ]
        ),
    )
    assert build_figures(collar).grid_connected is False
    assert build_snapshot(identity_of(INFO), BASE).data_time is None
