"""AC Battery sleep: the band a battery sleeps in, and the writes that set or end it.

A sleeping AC Battery first charges or discharges into its band
(``sleep_min_soc``..``sleep_max_soc``), then holds there. ``PUT
/admin/lib/acb_config`` sets a band (and sleep), ``DELETE`` with the serial wakes it,
and ``GET`` reads the setting back; the inventory (``/inventory.json``) shows the
battery's own state: its status flags say when it sleeps.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from custom_components.solar_gateway.gateway.errors import (
    FeatureUnavailableError,
    InvalidControlValueError,
    InvalidValueReason,
)
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
# A write is read back from the setting (settings) and the battery's own report
# in the inventory (devices).
ACB_GROUPS = frozenset({DataGroup.SETTINGS, DataGroup.DEVICES})


def sleep_request(serial: str, min_soc: float, max_soc: float) -> ControlRequest:
    """Send one AC Battery to sleep between ``min_soc`` and ``max_soc`` (%)."""
    if not serial.strip():
        raise ValueError("an AC Battery serial is needed")
    for name, value in (("low", min_soc), ("high", max_soc)):
        if not 0 <= value <= 100:
            raise InvalidControlValueError(
                f"sleep {name} charge must be 0..100 %, not {value:g}",
                InvalidValueReason.OUT_OF_RANGE,
                {"value": value, "minimum": 0, "maximum": 100},
            )
    if min_soc > max_soc:
        raise InvalidControlValueError(
            f"sleep low charge {min_soc:g} % is above the high one {max_soc:g} %",
            InvalidValueReason.SLEEP_BAND_ORDER,
            {"low": min_soc, "high": max_soc},
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
ACB_KEYS = frozenset({*SLEEP_BAND, ControlKey.ACB_SLEEP})


@dataclass(frozen=True, slots=True)
class AcbSleepState:
    """One AC Battery's sleep as written (the setting) and as the battery reports it."""

    requested: bool | None  # sleep is on in the setting
    min_soc: float | None
    max_soc: float | None
    asleep: bool | None  # the battery's status says it sleeps
    from_setting: bool  # read from ``/admin/lib/acb_config`` (else the inventory)

    @property
    def pending(self) -> bool:
        """Whether the battery has not yet followed the setting (into or out of sleep)."""
        return (
            self.requested is not None
            and self.asleep is not None
            and self.asleep is not self.requested
        )


def sleep_state(data: EnvoyData, battery: InventoryDevice) -> AcbSleepState:
    """``battery``'s sleep: the setting where the gateway serves it, else the inventory.

    The setting holds what was last written at once; the inventory follows as the
    battery moves, and shows the band from before a sleep once it is woken.
    """
    setting = next(
        (s for s in data.acb_config or () if s.serial == battery.serial), None
    )
    if setting is None:
        return AcbSleepState(
            battery.sleep_enabled,
            battery.sleep_min_soc,
            battery.sleep_max_soc,
            battery.sleeping,
            from_setting=False,
        )
    return AcbSleepState(
        setting.enabled,
        setting.min_soc,
        setting.max_soc,
        battery.sleeping,
        from_setting=True,
    )


def acb_controls(data: EnvoyData, snapshot: SiteSnapshot) -> Iterator[Control]:
    """Each AC Battery's sleep switch and sleep band.

    Sleep on sends the battery to sleep in its band (it first charges or discharges
    into it), off wakes it; it is pending until the battery reports it has followed.
    Changing the band sends the battery to sleep in it (the gateway has no band
    without sleep).
    """
    for battery in ac_batteries(data.inventory):
        if snapshot.device(battery.serial) is None:
            continue
        state = sleep_state(data, battery)
        if state.requested is None:
            continue
        source = DataGroup.SETTINGS if state.from_setting else DataGroup.DEVICES
        band = zip(SLEEP_BAND, (state.min_soc, state.max_soc), strict=True)
        for key, value in band:
            if value is not None:
                yield Control(
                    key=key,
                    kind=ControlKind.NUMBER,
                    value=value,
                    device=battery.serial,
                    resolution=1.0,
                    source=source,
                    groups=ACB_GROUPS,
                )
        yield Control(
            key=ControlKey.ACB_SLEEP,
            kind=ControlKind.SWITCH,
            value=state.requested,
            device=battery.serial,
            pending=state.pending,
            # The inventory, read every few minutes, tells when the battery followed.
            source=DataGroup.DEVICES,
            groups=ACB_GROUPS,
        )


def acb_request(change: ControlChange, data: EnvoyData) -> ControlRequest | None:
    """The request for an AC Battery control's change; None for any other control."""
    if change.key not in ACB_KEYS:
        return None
    battery = next(
        (b for b in ac_batteries(data.inventory) if b.serial == change.device), None
    )
    if battery is None:
        raise FeatureUnavailableError(f"no AC Battery {change.device}", 404)
    if change.key is ControlKey.ACB_SLEEP and not change.value:
        return wake_request(battery.serial)
    state = sleep_state(data, battery)
    low = state.min_soc if state.min_soc is not None else 0.0
    high = state.max_soc if state.max_soc is not None else 100.0
    if change.key is ControlKey.SLEEP_MIN_SOC:
        low = float(change.value)
    elif change.key is ControlKey.SLEEP_MAX_SOC:
        high = float(change.value)
    return sleep_request(battery.serial, low, high)
