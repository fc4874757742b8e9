"""Parsers for the generator's settings: ``/ivp/ss/gen_mode``, ``gen_schedule``, ``gen_config``.

Gateways without a generator answer these with ``{}``: that is no generator (None),
not a generator whose settings are unknown.
"""

from custom_components.solar_gateway.gateway.envoy.models import (
    GeneratorCommand,
    GeneratorConfig,
    GeneratorMode,
    GeneratorSchedule,
)
from custom_components.solar_gateway.gateway.values import (
    as_bool,
    as_int,
    as_object,
    as_str,
)

from .common import num, root_object

WEEK_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def parse_generator_mode(payload: object) -> GeneratorMode | None:
    """Parse ``/ivp/ss/gen_mode``; None when the gateway has no generator."""
    root = root_object(payload, "gen_mode")
    if not root:
        return None
    command = as_str(root.get("gen_cmd"))
    return GeneratorMode(
        command=_command(command),
        last_updated_by=as_str(root.get("last_updated_by")),
    )


def _command(value: str | None) -> GeneratorCommand | None:
    if value is None:
        return None
    try:
        return GeneratorCommand(value.lower())
    except ValueError:
        return None


def parse_generator_schedule(payload: object) -> GeneratorSchedule | None:
    """Parse ``/ivp/ss/gen_schedule``; None when the gateway has no generator."""
    root = root_object(payload, "gen_schedule")
    exercise = as_object(root.get("exercise_config"))
    soc = as_object(root.get("default_soc"))
    if exercise is None and soc is None:
        return None
    exercise = exercise or {}
    soc = soc or {}
    day = as_str(exercise.get("day"))
    return GeneratorSchedule(
        exercise_weeks=as_int(exercise.get("freq_in_weeks")),
        exercise_day=day if day in WEEK_DAYS else None,
        exercise_start=as_int(exercise.get("start")),
        exercise_duration=as_int(exercise.get("duration")),
        start_soc=num(soc.get("start_soc")),
        stop_soc=num(soc.get("stop_soc")),
        document=root,
    )


def parse_generator_config(payload: object) -> GeneratorConfig | None:
    """Parse ``/ivp/ss/gen_config``; None when the gateway has no generator."""
    root = root_object(payload, "gen_config")
    if not root:
        return None
    return GeneratorConfig(
        manufacturer=as_str(root.get("manufacturer")),
        model=as_str(root.get("model")),
        rating=num(root.get("name_plate_rating_wat")),
        start_method=as_str(root.get("start_method")),
        charge_from_generator=as_bool(root.get("charge_from_generator")),
        document=root,
    )
