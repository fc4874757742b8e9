"""Parsers never trust the payload: wrong shapes are typed errors, odd values None."""

import pytest

from custom_components.solar_gateway.gateway.envoy import decode_token
from custom_components.solar_gateway.gateway.envoy.models import EnvoyInfo
from custom_components.solar_gateway.gateway.envoy.parsers.ensemble import (
    parse_ensemble_inventory,
    parse_ensemble_power,
    parse_generator,
    parse_secctrl,
)
from custom_components.solar_gateway.gateway.envoy.parsers.info import parse_info
from custom_components.solar_gateway.gateway.envoy.parsers.inverters import (
    parse_inventory,
    parse_inverters,
    parse_pdm_device_data,
)
from custom_components.solar_gateway.gateway.envoy.parsers.meters import (
    parse_meter_readings,
    parse_meters,
)
from custom_components.solar_gateway.gateway.envoy.parsers.production import (
    parse_api_production,
    parse_production_html,
    parse_production_json,
)
from custom_components.solar_gateway.gateway.envoy.parsers.settings import (
    parse_dry_contact_settings,
    parse_dry_contacts,
    parse_tariff,
)
from custom_components.solar_gateway.gateway.errors import (
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)
from tests.conftest import make_token


@pytest.mark.parametrize(
    ("parser", "payload"),
    [
        (parse_production_json, []),
        (parse_production_json, {"other": 1}),
        (parse_api_production, {"error": "404"}),
        (parse_api_production, None),
        (parse_meters, {}),
        (parse_meter_readings, "x"),
        (parse_inverters, {}),
        (parse_pdm_device_data, []),
        (parse_inventory, {}),
        (parse_ensemble_inventory, {}),
        (parse_ensemble_power, {"devices": 3}),
        (parse_secctrl, {"shutdown": False}),
        (parse_generator, []),
        (parse_tariff, {"tariff": []}),
        (parse_dry_contacts, []),
        (parse_dry_contact_settings, []),
    ],
)
def test_wrong_shapes_raise(parser: object, payload: object) -> None:
    """A payload of the wrong shape is UnexpectedPayloadError."""
    with pytest.raises(UnexpectedPayloadError):
        parser(payload)  # type: ignore[operator]


def test_odd_values_become_none() -> None:
    """nan, strings, null and junk items end as None or are skipped."""
    [meter] = parse_meters(
        [
            {"eid": "7", "state": "enabled", "statusFlags": ["a", 3]},
            {"eid": None},
            "junk",
        ]
    )
    assert meter.eid == 7
    assert meter.status_flags == ("a",)
    [reading] = parse_meter_readings(
        [
            {
                "eid": 7,
                "activePower": "nan",
                "voltage": "230.5",
                "freq": None,
                "channels": "x",
            }
        ]
    )
    assert reading.total.active_power is None
    assert reading.total.voltage == 230.5
    assert reading.total.frequency is None
    assert reading.channels == ()
    assert (
        parse_inverters(
            [{"serialNumber": None}, {"serialNumber": "a", "lastReportWatts": "x"}]
        )[0].power
        is None
    )
    assert (
        parse_inventory(
            [{"type": None}, {"type": "PCU", "devices": [{"serial_num": None}]}]
        )
        == ()
    )
    assert (
        parse_ensemble_power(
            {
                "devices:": [
                    {"serial_num": None},
                    {"serial_num": "b", "real_power_mw": float("inf")},
                ]
            }
        )[0].real_power
        is None
    )
    inventory = parse_ensemble_inventory(
        [{"type": "ENCHARGE", "devices": [{"serial_num": None}]}]
    )
    assert inventory.encharges == ()
    pdm = parse_pdm_device_data(
        {"1": {"sn": None}, "2": {"sn": "x", "channels": []}, "deviceCount": 2}
    )
    assert [d.serial for d in pdm] == ["x"]
    assert pdm[0].power is None
    assert (
        parse_dry_contacts({"dry_contacts": [{"id": None}, {"id": "NC1"}]})[0].status
        is None
    )
    assert parse_dry_contact_settings({"dry_contacts": [{"id": None}]}) == ()
    assert parse_tariff({"tariff": {}}).storage is None
    generator = parse_generator({"present": 1, "admin_mode": "2"})
    assert generator.present is True
    assert generator.admin_mode == 2
    eim = parse_production_json(
        {"production": [{"type": "eim"}], "consumption": [{"measurementType": "x"}]}
    ).production
    assert eim is not None
    assert eim.measurement_type == "production"
    assert not eim.active


def test_production_html() -> None:
    """The legacy page's units are scaled to W and Wh; a page without table is junk."""
    page = (
        "<tr><td>Currently</td><td> 512 W</td></tr><tr><td>Today</td><td>1.5 kWh</td></tr>"
        "<tr><td>Past Week</td><td>20.25 kWh</td></tr><tr><td>Since Installation</td><td>2.1 MWh</td></tr>"
    )
    result = parse_production_html(page)
    assert (
        result.power,
        result.energy_today,
        result.energy_last_seven_days,
        result.lifetime_energy,
    ) == (
        512.0,
        1500.0,
        20250.0,
        2100000.0,
    )
    with pytest.raises(UnexpectedPayloadError):
        parse_production_html("<html>Page Not Found</html>")


def test_info() -> None:
    """Serial, part number, firmware and metering from /info; odd documents refused."""
    info = parse_info(
        "<?xml version='1.0'?><envoy_info><device><sn>1234</sn><pn>800-1</pn>"
        "<software>D7.6.175</software><imeter>false</imeter></device>"
        "<web-tokens>true</web-tokens></envoy_info>"
    )
    assert info == EnvoyInfo("1234", "800-1", "D7.6.175", False, True)
    assert info.firmware_version == (7, 6, 175)
    assert info.uses_tokens
    bare = parse_info("<envoy_info><device><sn>9</sn></device></envoy_info>")
    assert bare.metered is None
    assert bare.firmware_version == ()
    assert not bare.uses_tokens
    with pytest.raises(NotSupportedGatewayError):
        parse_info("<html></html>")
    assert EnvoyInfo("1", None, "R3.9.36", None).firmware_version == (3, 9, 36)
    assert EnvoyInfo("1", None, "D8.x.1", None).firmware_version == (8,)


def test_token_without_claims() -> None:
    """A JWT without exp or user type decodes with those absent."""
    import jwt

    token = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")
    info = decode_token(token)
    assert info.expires is None
    assert info.user_type is None
    assert decode_token(make_token(user="owner")).user_type == "owner"
