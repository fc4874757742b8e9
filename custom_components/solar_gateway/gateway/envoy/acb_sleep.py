"""AC Battery sleep: the band a battery sleeps in, and the writes that set or end it.

A sleeping AC Battery first charges or discharges into its band
(``sleep_min_soc``..``sleep_max_soc``), then holds there. The gateway reports each
battery's band and whether sleep is on in its inventory (``/inventory.json``);
``PUT /admin/lib/acb_config`` sets a band, ``DELETE`` with the serial wakes it.
"""

from collections.abc import Iterable, Iterator

from custom_components.solar_gateway.gateway.errors import FeatureUnavailableError
from custom_components.solar_gateway.gateway.site import (
    Control,
    ControlChange,
    ControlKey,
    ControlKind,
    DataGroup,
    SiteSnapshot,
)

from .control_request import ControlRequest
from .models import EnvoyData, InventoryDevice

ACB_CONFIG_PATH = "/admin/lib/acb_config"
# The sleep setting is in the inventory (devices); a write re-reads it.
ACB_GROUPS = frozenset({DataGroup.DEVICES})
# The status flag of a battery that has reached its band and sleeps.
SLEEPING_FLAG = "envoy.cond_flags.pcu_ctrl.sleep-mode"


def sleep_request(serial: str, min_soc: float, max_soc: float) -> ControlRequest:
    """Send one AC Battery to sleep between ``min_soc`` and ``max_soc`` (%)."""
    if not serial.strip():
        raise ValueError("an AC Battery serial is needed")
    for name, value in (("low", min_soc), ("high", max_soc)):
        if not 0 <= value <= 100:
            raise ValueError(f"sleep {name} charge must be 0..100 %, not {value:g}")
    if min_soc > max_soc:
        raise ValueError(
            f"sleep low charge {min_soc:g} % is above the high one {max_soc:g} %"
        )
    return ControlRequest(
        "PUT",
        ACB_CONFIG_PATH,
        {
            "acb_sleep": [
                {
                    "serial_num": serial,
                    "sleep_min_soc": round(min_soc),
                    "sleep_max_soc": round(max_soc),
                }
            ]
        },
    )


def wake_request(serial: str) -> ControlRequest:
    """Wake one AC Battery (or cancel its sleep before it reached the band)."""
    if not serial.strip():
        raise ValueError("an AC Battery serial is needed")
    return ControlRequest(
        "DELETE", ACB_CONFIG_PATH, {"acb_sleep": [{"serial_num": serial}]}
    )


def ac_batteries(inventory: Iterable[InventoryDevice]) -> tuple[InventoryDevice, ...]:
    """The AC Batteries of the inventory still installed, in gateway order."""
    return tuple(d for d in inventory if d.group == "ACB" and not d.deleted)


SLEEP_BAND = (ControlKey.SLEEP_MIN_SOC, ControlKey.SLEEP_MAX_SOC)


def acb_controls(data: EnvoyData, snapshot: SiteSnapshot) -> Iterator[Control]:
    """Each AC Battery's sleep band and its sleep and wake actions.

    Changing the band sends the battery to sleep in it (the gateway has no band
    without sleep); Wake ends it.
    """
    for battery in ac_batteries(data.inventory):
        if snapshot.device(battery.serial) is None or battery.sleep_enabled is None:
            continue
        for key in SLEEP_BAND:
            value = getattr(battery, key)
            if value is not None:
                yield Control(
                    key=key,
                    kind=ControlKind.NUMBER,
                    value=value,
                    device=battery.serial,
                    resolution=1.0,
                    source=DataGroup.DEVICES,
                    groups=ACB_GROUPS,
                )
        for key in (ControlKey.ACB_SLEEP, ControlKey.ACB_WAKE):
            yield Control(
                key=key,
                kind=ControlKind.BUTTON,
                value=True,
                device=battery.serial,
                source=DataGroup.DEVICES,
                groups=ACB_GROUPS,
            )


def acb_request(change: ControlChange, data: EnvoyData) -> ControlRequest | None:
    """The request for an AC Battery control's change; None for any other control."""
    if change.key not in (*SLEEP_BAND, ControlKey.ACB_SLEEP, ControlKey.ACB_WAKE):
        return None
    battery = next(
        (b for b in ac_batteries(data.inventory) if b.serial == change.device), None
    )
    if battery is None:
        raise FeatureUnavailableError(f"no AC Battery {change.device}", 404)
    if change.key is ControlKey.ACB_WAKE:
        return wake_request(battery.serial)
    low = battery.sleep_min_soc if battery.sleep_min_soc is not None else 0.0
    high = battery.sleep_max_soc if battery.sleep_max_soc is not None else 100.0
    if change.key is ControlKey.SLEEP_MIN_SOC:
        low = float(change.value)
    elif change.key is ControlKey.SLEEP_MAX_SOC:
        high = float(change.value)
    return sleep_request(battery.serial, low, high)
