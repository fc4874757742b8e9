"""AC Battery sleep: each battery's setting and band, its state, the sleep and wake bodies."""

import json

import pytest

from custom_components.solar_gateway.gateway.envoy.acb_sleep import (
    ac_batteries,
    sleep_request,
    sleep_state,
    wake_request,
)
from custom_components.solar_gateway.gateway.envoy.models import (
    AcbSleepSetting,
    EnvoyData,
    EnvoyInfo,
)
from custom_components.solar_gateway.gateway.envoy.parsers.inverters import (
    parse_inventory,
)
from custom_components.solar_gateway.gateway.envoy.parsers.settings import (
    parse_acb_config,
)
from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from tests.conftest import FIXTURES

INVENTORY = FIXTURES / "envoy" / "acb" / "inventory.json_deleted_1"
SLEEP = "envoy.cond_flags.pcu_ctrl.sleep-mode"


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


CONFIG = FIXTURES / "envoy" / "acb" / "admin_lib_acb_config"


def test_sleep_settings_are_read_per_battery() -> None:
    """Each battery's setting from acb_config, as the raw document holds it."""
    raw = json.loads(CONFIG.read_text())
    expected = [
        (e["serial_num"], e["sleep_enabled"], e["sleep_min_soc"], e["sleep_max_soc"])
        for e in raw["acb_sleep"]
    ]
    assert [
        (s.serial, s.enabled, s.min_soc, s.max_soc) for s in parse_acb_config(raw)
    ] == expected


def test_odd_sleep_settings_are_absent_values() -> None:
    """No serial: left out; odd values: None; no list: no settings; not an object:
    a typed error."""
    raw = {
        "acb_sleep": [
            {"sleep_enabled": True},
            {"serial_num": "7", "sleep_enabled": "yes?", "sleep_min_soc": "nan"},
        ]
    }
    assert parse_acb_config(raw) == (AcbSleepSetting("7", None, None, None),)
    assert parse_acb_config({}) == ()
    with pytest.raises(UnexpectedPayloadError):
        parse_acb_config([])


@pytest.mark.parametrize(
    ("status", "sleeping"),
    [
        (["envoy.global.ok"], False),
        (["envoy.cond_flags.pcu_ctrl.sleep-mode"], True),
        (["envoy.cond_flags.obs_strs.sleeping"], True),
        ("sleep-mode", None),
    ],
)
def test_a_battery_says_it_sleeps_in_its_status(
    status: object, sleeping: bool | None
) -> None:
    """The inventory's status flags tell whether the battery has reached its band."""
    raw = [{"type": "ACB", "devices": [{"serial_num": "1", "device_status": status}]}]
    assert [b.sleeping for b in ac_batteries(parse_inventory(raw))] == [sleeping]


def sleeping_site(setting: AcbSleepSetting | None, status: list[str]) -> EnvoyData:
    raw = [
        {
            "type": "ACB",
            "devices": [
                {
                    "serial_num": "1",
                    "device_status": status,
                    "sleep_enabled": False,
                    "sleep_min_soc": 25,
                    "sleep_max_soc": 30,
                }
            ],
        }
    ]
    return EnvoyData(
        info=EnvoyInfo("1", None, None, None),
        inventory=parse_inventory(raw),
        acb_config=None if setting is None else (setting,),
    )


@pytest.mark.parametrize(
    ("setting", "status", "requested", "band", "pending"),
    [
        # The setting says sleep, the battery is not in its band yet: pending.
        (AcbSleepSetting("1", True, 40, 60), [], True, (40, 60), True),
        (AcbSleepSetting("1", True, 40, 60), [SLEEP], True, (40, 60), False),
        # Woken, still reporting sleep: pending the other way.
        (AcbSleepSetting("1", False, 40, 60), [SLEEP], False, (40, 60), True),
        # No settings served: the inventory is all there is.
        (None, [], False, (25, 30), False),
    ],
)
def test_sleep_state_is_the_setting_followed_by_the_battery(
    setting: AcbSleepSetting | None,
    status: list[str],
    requested: bool,
    band: tuple[float, float],
    pending: bool,
) -> None:
    data = sleeping_site(setting, status)
    state = sleep_state(data, data.inventory[0])
    assert (state.requested, (state.min_soc, state.max_soc), state.pending) == (
        requested,
        band,
        pending,
    )
