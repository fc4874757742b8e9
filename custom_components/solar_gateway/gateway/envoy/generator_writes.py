"""The generator's writes: its mode, its exercise schedule, charge from generator.

Each body is the one the gateway expects: the mode as ``{"gen_cmd"}``, the schedule
with only the keys that change, the configuration whole with only
``charge_from_generator`` changed.
"""

from collections.abc import Iterator, Mapping
import copy
from dataclasses import dataclass

from custom_components.solar_gateway.gateway.errors import (
    ControlNotAppliedError,
    FeatureUnavailableError,
    InvalidControlValueError,
    InvalidValueReason,
)
from custom_components.solar_gateway.gateway.site import (
    Control,
    ControlChange,
    ControlKey,
    ControlKind,
    DeviceKind,
    SiteSnapshot,
)

from .control_request import ControlRequest
from .models import EnvoyData, GeneratorCommand, GeneratorConfig, GeneratorSchedule
from .parsers.generator import WEEK_DAYS

GEN_MODE_PATH = "/ivp/ss/gen_mode"
GEN_SCHEDULE_PATH = "/ivp/ss/gen_schedule"
GEN_CONFIG_PATH = "/ivp/ss/gen_config"


def generator_mode_request(command: GeneratorCommand) -> ControlRequest:
    """Turn the generator off or on, or leave it to the system controller (auto)."""
    return ControlRequest("POST", GEN_MODE_PATH, {"gen_cmd": str(command)})


@dataclass(frozen=True, slots=True)
class ScheduleField:
    """One exercise schedule setting: the key a write sends and its allowed range."""

    key: str  # in the POST body
    minimum: float
    maximum: float


# The schedule's numeric settings by the name of their ``GeneratorSchedule`` field.
SCHEDULE_NUMBERS: Mapping[str, ScheduleField] = {
    "exercise_weeks": ScheduleField("exercise_freq_in_weeks", 1, 52),
    "exercise_start": ScheduleField("exercise_start", 0, 1439),
    "exercise_duration": ScheduleField("exercise_duration", 1, 240),
    "start_soc": ScheduleField("default_start_soc", 0, 100),
    "stop_soc": ScheduleField("default_stop_soc", 0, 100),
}
EXERCISE_DAY_KEY = "exercise_day"


def generator_schedule_request(
    schedule: GeneratorSchedule | None,
    *,
    numbers: Mapping[str, float] | None = None,
    exercise_day: str | None = None,
) -> ControlRequest:
    """Only the schedule keys that change, checked against their ranges.

    ``numbers`` is keyed by ``SCHEDULE_NUMBERS``; start and stop charge must keep
    start below stop, as the generator would otherwise start and stop at once.
    """
    if schedule is None:
        raise FeatureUnavailableError("this gateway has no generator schedule", 404)
    body: dict[str, object] = {}
    for name, value in (numbers or {}).items():
        field = SCHEDULE_NUMBERS[name]
        if not field.minimum <= value <= field.maximum:
            raise InvalidControlValueError(
                f"{name} must be {field.minimum:g}..{field.maximum:g}, not {value:g}",
                InvalidValueReason.OUT_OF_RANGE,
                {"value": value, "minimum": field.minimum, "maximum": field.maximum},
            )
        body[field.key] = int(value) if float(value).is_integer() else value
    if exercise_day is not None:
        if exercise_day not in WEEK_DAYS:
            raise ValueError(f"exercise day must be one of {WEEK_DAYS}")
        body[EXERCISE_DAY_KEY] = exercise_day
    if not body:
        raise ValueError("nothing to change in the generator schedule")
    start = (numbers or {}).get("start_soc", schedule.start_soc)
    stop = (numbers or {}).get("stop_soc", schedule.stop_soc)
    if start is not None and stop is not None and start >= stop:
        raise InvalidControlValueError(
            f"start charge {start:g} % must be below stop {stop:g} %",
            InvalidValueReason.GENERATOR_SOC_ORDER,
            {"low": start, "high": stop},
        )
    return ControlRequest("POST", GEN_SCHEDULE_PATH, body)


def charge_from_generator_request(
    config: GeneratorConfig | None, enabled: bool
) -> ControlRequest:
    """The whole generator configuration as read, ``charge_from_generator`` changed."""
    if config is None:
        raise FeatureUnavailableError("this gateway has no generator", 404)
    body = dict(copy.deepcopy(dict(config.document)))
    body["charge_from_generator"] = enabled
    return ControlRequest("POST", GEN_CONFIG_PATH, body)


def check_charge_from_generator(config: GeneratorConfig | None, wanted: bool) -> None:
    """Raise when the configuration read back does not hold ``wanted``.

    On a site without Enphase batteries the gateway answers 200 and sets the value
    back to on: the write was accepted but not applied.
    """
    found = None if config is None else config.charge_from_generator
    if found is not wanted:
        raise ControlNotAppliedError(
            f"charge from generator reads {found} after writing {wanted}"
            " (the gateway keeps it on where there are no Enphase batteries)"
        )


# Vendor-neutral control keys of the schedule's numbers, by ``GeneratorSchedule`` field.
SCHEDULE_CONTROLS: Mapping[ControlKey, str] = {
    ControlKey.GENERATOR_EXERCISE_WEEKS: "exercise_weeks",
    ControlKey.GENERATOR_EXERCISE_START: "exercise_start",
    ControlKey.GENERATOR_EXERCISE_DURATION: "exercise_duration",
    ControlKey.GENERATOR_START_SOC: "start_soc",
    ControlKey.GENERATOR_STOP_SOC: "stop_soc",
}
# The exercise starts at a time of day the gateway keeps as minutes after midnight.
TIME_CONTROLS = frozenset({ControlKey.GENERATOR_EXERCISE_START})
MODE_OPTIONS = tuple(str(command) for command in GeneratorCommand)
DAY_OPTIONS = tuple(day.lower() for day in WEEK_DAYS)


def generator_controls(data: EnvoyData, snapshot: SiteSnapshot) -> Iterator[Control]:
    """The generator's mode, exercise schedule and charge from generator.

    Offered on the generator's device, only where the site has a wired generator
    and the document answered with it; charge from generator only where the site
    has Enphase batteries (IQ or AC Batteries).
    """
    generators = snapshot.of_kind(DeviceKind.GENERATOR)
    if not generators:
        return
    device = generators[0].serial
    mode = data.generator_mode
    if mode is not None:
        yield Control(
            key=ControlKey.GENERATOR_MODE,
            kind=ControlKind.SELECT,
            value=None if mode.command is None else str(mode.command),
            device=device,
            options=MODE_OPTIONS,
        )
    schedule = data.generator_schedule
    if schedule is not None:
        for key, name in SCHEDULE_CONTROLS.items():
            value = getattr(schedule, name)
            if value is None:
                continue
            field = SCHEDULE_NUMBERS[name]
            yield Control(
                key=key,
                kind=ControlKind.TIME if key in TIME_CONTROLS else ControlKind.NUMBER,
                value=float(value),
                device=device,
                minimum=field.minimum,
                maximum=field.maximum,
                resolution=1.0,
            )
        day = schedule.exercise_day
        yield Control(
            key=ControlKey.GENERATOR_EXERCISE_DAY,
            kind=ControlKind.SELECT,
            value=None if day is None else day.lower(),
            device=device,
            options=DAY_OPTIONS,
        )
    config = data.generator_config
    # Without Enphase batteries there is nothing to charge: the gateway sets it
    # back on whatever is written, so it is not offered.
    if (
        config is not None
        and config.charge_from_generator is not None
        and snapshot.of_kind(DeviceKind.BATTERY)
    ):
        yield Control(
            key=ControlKey.CHARGE_FROM_GENERATOR,
            kind=ControlKind.SWITCH,
            value=config.charge_from_generator,
            device=device,
        )


def generator_request(change: ControlChange, data: EnvoyData) -> ControlRequest | None:
    """The request for a generator control's change; None for any other control."""
    key, value = change.key, change.value
    if key is ControlKey.GENERATOR_MODE:
        return generator_mode_request(GeneratorCommand(str(value)))
    if key is ControlKey.GENERATOR_EXERCISE_DAY:
        return generator_schedule_request(
            data.generator_schedule, exercise_day=str(value).capitalize()
        )
    if key in SCHEDULE_CONTROLS:
        return generator_schedule_request(
            data.generator_schedule, numbers={SCHEDULE_CONTROLS[key]: float(value)}
        )
    if key is ControlKey.CHARGE_FROM_GENERATOR:
        return charge_from_generator_request(data.generator_config, bool(value))
    return None
