"""AC Battery sleep: the band a battery sleeps in, and the writes that set or end it.

A sleeping AC Battery first charges or discharges into its band
(``sleep_min_soc``..``sleep_max_soc``), then holds there. The gateway reports each
battery's band and whether sleep is on in its inventory (``/inventory.json``);
``PUT /admin/lib/acb_config`` sets a band, ``DELETE`` with the serial wakes it.
"""

from collections.abc import Iterable

from .controls import ControlRequest
from .models import InventoryDevice

ACB_CONFIG_PATH = "/admin/lib/acb_config"
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
