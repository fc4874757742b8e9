"""The simulated Envoy's generator, AC Battery sleep, production switch and export
limit.

Each behaves as the real gateway does: the generator mode takes a few seconds to
apply, the exercise schedule takes only the keys that change, the generator
configuration comes back whole and keeps charge from generator on where the site has
no Enphase batteries, AC Battery sleep is held in ``/admin/lib/acb_config`` at once
(the band last written kept after a wake) and shows in the inventory (asleep once
the battery is in its band; awake, the band from before the sleep), production held
off stops the inverters minutes later, and an export limit curtails them within
seconds. The production record and the export limit answer installer tokens only.
"""

from collections.abc import Callable, Mapping
import copy
from dataclasses import dataclass

from .envoy_live import dicts, number
from .live_state import LiveState, PowerLimit
from .personality import Answer

GEN_MODE = "ivp_ss_gen_mode"
GEN_SCHEDULE = "ivp_ss_gen_schedule"
GEN_CONFIG = "ivp_ss_gen_config"
PRODUCTION_POWER = "ivp_mod_603980032_mode_power"
ACB_CONFIG = "admin_lib_acb_config"
EXPORT_LIMIT = "ivp_ss_dpel"
INVENTORY_NAMES = ("inventory.json_deleted_1", "inventory.json", "inventory")
SETTINGS_DOCUMENTS = (
    GEN_MODE,
    GEN_SCHEDULE,
    GEN_CONFIG,
    PRODUCTION_POWER,
    EXPORT_LIMIT,
    ACB_CONFIG,
)
# Requests only an installer token may make (owner tokens get 401).
INSTALLER_PATHS = frozenset({"/ivp/mod/603980032/mode/power", "/ivp/ss/dpel"})
GEN_MODE_DELAY_S = 3.0  # the system controller takes seconds to apply a mode
PRODUCTION_DELAY_S = 12 * 60.0  # the inverters follow within about 15 minutes
EXPORT_LIMIT_DELAY_S = 15.0  # current firmware curtails within 10-20 seconds
SLEEPING_FLAG = "envoy.cond_flags.pcu_ctrl.sleep-mode"
# Exercise schedule keys a POST may hold, and where each lives in the document.
SCHEDULE_KEYS: Mapping[str, tuple[str, str]] = {
    "exercise_freq_in_weeks": ("exercise_config", "freq_in_weeks"),
    "exercise_day": ("exercise_config", "day"),
    "exercise_start": ("exercise_config", "start"),
    "exercise_duration": ("exercise_config", "duration"),
    "default_start_soc": ("default_soc", "start_soc"),
    "default_stop_soc": ("default_soc", "stop_soc"),
}
WEEK_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
UNAUTHORIZED: Mapping[str, object] = {"status": 401, "message": "Unauthorized"}

type Handler = Callable[[dict[str, object]], Answer]


@dataclass(slots=True)
class AcbSleep:
    """One AC Battery's sleep setting as last written."""

    enabled: bool
    min_soc: float | None = None
    max_soc: float | None = None


class EnvoySettings:
    """The documents these controls write, and the handlers of their writes."""

    def __init__(self, captured: Callable[[str], object], state: LiveState) -> None:
        """Start from the captured documents (``captured(name)``: its JSON or None)."""
        self.state = state
        self.documents: dict[str, dict[str, object]] = {}
        for name in SETTINGS_DOCUMENTS:
            data = captured(name)
            if isinstance(data, dict) and data:
                self.documents[name] = copy.deepcopy(data)
        self.batteries = self._enphase_batteries(captured)
        self.acbs = {
            str(device.get("serial_num")): device
            for name in INVENTORY_NAMES
            for group in dicts(captured(name))
            if group.get("type") == "ACB"
            for device in dicts(group.get("devices"))
        }
        self.sleep: dict[str, AcbSleep] = {}
        self.written: set[str] = set()  # documents served as written from now on
        if (captured_limit := self._captured_limit()) is not None:
            state.limit_power(captured_limit, state.clock.now())
        self._mode_due: tuple[str, float] | None = None

    def _captured_limit(self) -> PowerLimit | None:
        """The export or production limit in force when the capture was taken."""
        document = self.documents.get(EXPORT_LIMIT, {})
        settings = document.get("dynamic_pel_settings")
        if not isinstance(settings, dict) or settings.get("enable") is not True:
            return None
        watts = number(settings.get("limit_value_W"))
        if watts is None:
            return None
        return PowerLimit(watts, settings.get("export_limit") is not False)

    @staticmethod
    def _enphase_batteries(captured: Callable[[str], object]) -> bool:
        """Whether the site has IQ Batteries or AC Batteries."""
        for name in ("ivp_ensemble_inventory", *INVENTORY_NAMES):
            for group in dicts(captured(name)):
                if group.get("type") in ("ENCHARGE", "ACB") and dicts(
                    group.get("devices")
                ):
                    return True
        return False

    @property
    def handlers(self) -> Mapping[tuple[str, str], Handler]:
        """The writes handled here, by method and path."""
        routes: dict[tuple[str, str], Handler] = {}
        if GEN_MODE in self.documents:
            routes["POST", "/ivp/ss/gen_mode"] = self._set_mode
        if GEN_SCHEDULE in self.documents:
            routes["POST", "/ivp/ss/gen_schedule"] = self._set_schedule
        if GEN_CONFIG in self.documents:
            routes["POST", "/ivp/ss/gen_config"] = self._set_config
        if self.acbs:
            routes["PUT", "/admin/lib/acb_config"] = self._sleep
            routes["DELETE", "/admin/lib/acb_config"] = self._wake
        if PRODUCTION_POWER in self.documents:
            routes["PUT", "/ivp/mod/603980032/mode/power"] = self._set_production
        if EXPORT_LIMIT in self.documents:
            routes["POST", "/ivp/ss/dpel"] = self._set_export_limit
        return routes

    def document(self, name: str) -> dict[str, object] | None:
        """The document as the gateway serves it now (after any write), or None."""
        due = self._mode_due
        if name == GEN_MODE and due is not None and self.state.clock.now() >= due[1]:
            self.documents[GEN_MODE]["gen_cmd"] = due[0]
            self._mode_due = None
        return self.documents.get(name)

    def live_inventory(self, data: object) -> None:
        """Show each AC Battery's sleep setting in an inventory answer."""
        for group in dicts(data):
            if group.get("type") != "ACB":
                continue
            for device in dicts(group.get("devices")):
                sleep = self.sleep.get(str(device.get("serial_num")))
                if sleep is None:
                    continue
                device["sleep_enabled"] = sleep.enabled
                status = device.get("device_status")
                flags = [f for f in strings(status) if f != SLEEPING_FLAG]
                if sleep.enabled:
                    # Awake, the inventory goes on showing the band it had before.
                    device["sleep_min_soc"] = sleep.min_soc
                    device["sleep_max_soc"] = sleep.max_soc
                    soc = number(device.get("percentFull"))
                    low, high = sleep.min_soc or 0.0, sleep.max_soc or 100.0
                    if soc is not None and low <= soc <= high:
                        flags.append(SLEEPING_FLAG)  # in its band: asleep
                device["device_status"] = flags

    # --- Writes ----------------------------------------------------------------------

    def _set_mode(self, body: dict[str, object]) -> Answer:
        command = body.get("gen_cmd")
        if not isinstance(command, str) or command.lower() not in ("off", "on", "auto"):
            return _bad_request("gen_cmd must be 'off', 'on' or 'auto'")
        self._mode_due = (command.lower(), self.state.clock.now() + GEN_MODE_DELAY_S)
        self.written.add(GEN_MODE)
        return Answer.of_json({"gen_cmd": command.lower()})

    def _set_schedule(self, body: dict[str, object]) -> Answer:
        if not body:
            return _bad_request("nothing to change in the schedule")
        if unknown := sorted(set(body) - set(SCHEDULE_KEYS)):
            return _bad_request(f"unknown schedule keys {unknown}")
        doc = self.documents[GEN_SCHEDULE]
        updated = copy.deepcopy(doc)
        for key, value in body.items():
            if key == "exercise_day":
                if value not in WEEK_DAYS:
                    return _bad_request(f"exercise_day must be one of {WEEK_DAYS}")
            elif number(value) is None or isinstance(value, bool):
                return _bad_request(f"{key} must be a number")
            section, field = SCHEDULE_KEYS[key]
            part = updated.setdefault(section, {})
            assert isinstance(part, dict)
            part[field] = value
        self.documents[GEN_SCHEDULE] = updated
        self.written.add(GEN_SCHEDULE)
        return Answer.of_json(updated)

    def _set_config(self, body: dict[str, object]) -> Answer:
        doc = self.documents[GEN_CONFIG]
        if missing := sorted(set(doc) - set(body)):
            return _bad_request(
                f"incomplete generator configuration, missing {missing}"
            )
        wanted = body.get("charge_from_generator")
        if not isinstance(wanted, bool):
            return _bad_request("charge_from_generator must be true or false")
        updated = copy.deepcopy(body)
        if not self.batteries:
            # Nothing to charge: the gateway accepts the write and keeps it on.
            updated["charge_from_generator"] = True
        self.documents[GEN_CONFIG] = updated
        self.written.add(GEN_CONFIG)
        return Answer.of_json(updated)

    def _sleep(self, body: dict[str, object]) -> Answer:
        entries = dicts(body.get("acb_sleep"))
        if not entries:
            return _bad_request(
                "expected {'acb_sleep': [{serial_num, sleep_min_soc, sleep_max_soc}]}"
            )
        changes: dict[str, AcbSleep] = {}
        for entry in entries:
            serial = str(entry.get("serial_num"))
            low, high = (
                number(entry.get("sleep_min_soc")),
                number(entry.get("sleep_max_soc")),
            )
            if serial not in self.acbs:
                return _bad_request(f"no AC Battery {serial}")
            if low is None or high is None or not 0 <= low <= high <= 100:
                return _bad_request(
                    "sleep_min_soc and sleep_max_soc must be 0..100, min <= max"
                )
            changes[serial] = AcbSleep(True, low, high)
        self.sleep.update(changes)
        self._sleep_written()
        return Answer.of_json(body)

    def _wake(self, body: dict[str, object]) -> Answer:
        entries = dicts(body.get("acb_sleep"))
        serials = [str(entry.get("serial_num")) for entry in entries]
        if not serials or any(serial not in self.acbs for serial in serials):
            return _bad_request(
                "expected {'acb_sleep': [{serial_num}]} of known batteries"
            )
        for serial in serials:
            current = self.sleep.get(serial)
            captured = self._captured_band(serial)
            self.sleep[serial] = AcbSleep(
                False,
                current.min_soc if current else captured[0],
                current.max_soc if current else captured[1],
            )
        self._sleep_written()
        return Answer.of_json({"message": "success"})

    def _captured_band(self, serial: str) -> tuple[float | None, float | None]:
        """The band the captured inventory shows for a battery never written."""
        device = self.acbs.get(serial, {})
        return number(device.get("sleep_min_soc")), number(device.get("sleep_max_soc"))

    def _sleep_written(self) -> None:
        """Serve the inventory and the sleep settings as written from now on."""
        self.written.update(INVENTORY_NAMES)
        document = self.documents.get(ACB_CONFIG)
        if document is None:
            return  # a gateway that does not serve its sleep settings
        entries = dicts(document.get("acb_sleep"))
        listed = {str(entry.get("serial_num")) for entry in entries}
        for serial in self.acbs:
            if serial not in listed and serial in self.sleep:
                entries.append({"serial_num": serial})
        for entry in entries:
            sleep = self.sleep.get(str(entry.get("serial_num")))
            if sleep is not None:
                entry["sleep_enabled"] = sleep.enabled
                entry["sleep_min_soc"] = _whole(sleep.min_soc)
                entry["sleep_max_soc"] = _whole(sleep.max_soc)
        document["acb_sleep"] = entries
        self.written.add(ACB_CONFIG)

    def _set_production(self, body: dict[str, object]) -> Answer:
        arr = body.get("arr")
        if (
            body.get("length") != 1
            or not isinstance(arr, list)
            or arr not in ([0], [1])
        ):
            return _bad_request("expected {'length': 1, 'arr': [0 | 1]}")
        held_off = arr == [1]
        self.documents[PRODUCTION_POWER]["powerForcedOff"] = held_off
        self.written.add(PRODUCTION_POWER)
        later = self.state.clock.now() + PRODUCTION_DELAY_S
        if held_off:
            self.state.hold_production(later)
        else:
            self.state.release_production(later)
        return Answer(
            status=200, body=b"", headers={"Content-Type": "application/json"}
        )

    def _set_export_limit(self, body: dict[str, object]) -> Answer:
        settings = body.get("dynamic_pel_settings")
        if not isinstance(settings, dict) or not isinstance(
            settings.get("enable"), bool
        ):
            return _bad_request(
                "expected {'dynamic_pel_settings': {'enable': bool...}}"
            )
        if body.get("filename") != "site_settings":
            return _bad_request("filename must be 'site_settings'")
        limit: PowerLimit | None = None
        stored: dict[str, object] = {"enable": False}
        if settings["enable"]:
            watts = settings.get("limit_value_W")
            on_export = settings.get("export_limit")
            slew = settings.get("slew_rate")
            if not isinstance(on_export, bool):
                return _bad_request("export_limit must be true or false")
            if isinstance(watts, bool) or (value := number(watts)) is None or value < 0:
                return _bad_request("limit_value_W must be a number of W, 0 or more")
            if isinstance(slew, bool) or (rate := number(slew)) is None or rate <= 0:
                return _bad_request("slew_rate must be a positive number")
            limit = PowerLimit(value, on_export)
            stored = {
                "enable": True,
                "export_limit": on_export,
                "limit_value_W": value,
                "slew_rate": rate,
                "enable_dynamic_limiting": settings.get("enable_dynamic_limiting")
                is True,
            }
        # The gateway keeps its own fields (the date) beside what it was sent.
        self.documents[EXPORT_LIMIT] = {
            **self.documents[EXPORT_LIMIT],
            "dynamic_pel_settings": stored,
            "filename": body["filename"],
            "version": body.get("version", "00.00.01"),
        }
        self.written.add(EXPORT_LIMIT)
        self.state.limit_power(limit, self.state.clock.now() + EXPORT_LIMIT_DELAY_S)
        return Answer(
            status=200, body=b"", headers={"Content-Type": "application/json"}
        )


def strings(value: object) -> list[str]:
    """The strings of a JSON array (a device's status flags)."""
    return (
        [item for item in value if isinstance(item, str)]
        if isinstance(value, list)
        else []
    )


def _whole(value: float | None) -> float | int | None:
    """A percentage as the gateway keeps it: whole numbers without a decimal point."""
    return int(value) if value is not None and float(value).is_integer() else value


def _bad_request(message: str) -> Answer:
    return Answer.of_json({"error": message}, status=400)
