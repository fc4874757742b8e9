"""AC Battery sleep: each battery's band from the inventory, the sleep and wake bodies."""

import json

import pytest

from custom_components.solar_gateway.gateway.envoy.acb_sleep import (
    ac_batteries,
    sleep_request,
    wake_request,
)
from custom_components.solar_gateway.gateway.envoy.parsers.inverters import (
    parse_inventory,
)
from tests.conftest import FIXTURES

INVENTORY = FIXTURES / "envoy" / "acb" / "inventory.json_deleted_1"


def test_each_battery_reports_its_band() -> None:
    """Sleep on or off and the band, from each AC Battery's inventory entry."""
    raw = json.loads(INVENTORY.read_text())
    expected = [
        (d["serial_num"], d["sleep_enabled"], d["sleep_min_soc"], d["sleep_max_soc"])
        for group in raw
        if group["type"] == "ACB"
        for d in group["devices"]
    ]
    batteries = ac_batteries(parse_inventory(raw))
    assert expected
    assert [
        (b.serial, b.sleep_enabled, b.sleep_min_soc, b.sleep_max_soc) for b in batteries
    ] == expected


def test_deleted_and_other_devices_are_not_batteries() -> None:
    """Only AC Batteries still installed."""
    raw = [
        {"type": "PCU", "devices": [{"serial_num": "1"}]},
        {
            "type": "ACB",
            "devices": [
                {"serial_num": "2", "deleted": True},
                {"serial_num": "3", "sleep_min_soc": "junk"},
            ],
        },
    ]
    batteries = ac_batteries(parse_inventory(raw))
    assert [b.serial for b in batteries] == ["3"]
    assert batteries[0].sleep_min_soc is None


def test_sleep_body() -> None:
    """PUT with the serial and the band, whole percent."""
    request = sleep_request("121638000001", 10.0, 95.0)
    assert (request.method, request.path) == ("PUT", "/admin/lib/acb_config")
    assert request.body == {
        "acb_sleep": [
            {"serial_num": "121638000001", "sleep_min_soc": 10, "sleep_max_soc": 95}
        ]
    }


def test_wake_body() -> None:
    """DELETE with the serial alone."""
    request = wake_request("121638000001")
    assert (request.method, request.path, request.body) == (
        "DELETE",
        "/admin/lib/acb_config",
        {"acb_sleep": [{"serial_num": "121638000001"}]},
    )


@pytest.mark.parametrize(
    ("serial", "low", "high", "message"),
    [
        ("", 10, 20, "serial"),
        ("1", -1, 20, "low"),
        ("1", 10, 101, "high"),
        ("1", 30, 20, "above"),
    ],
)
def test_sleep_values_checked_before_sending(
    serial: str, low: float, high: float, message: str
) -> None:
    """A missing serial, a SOC outside 0..100 or an upside-down band: refused here."""
    with pytest.raises(ValueError, match=message):
        sleep_request(serial, low, high)


def test_wake_needs_a_serial() -> None:
    """No serial, no write."""
    with pytest.raises(ValueError, match="serial"):
        wake_request(" ")
