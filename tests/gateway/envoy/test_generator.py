"""The generator's settings: what is read from the gateway and the bodies written."""

import json
from pathlib import Path

import pytest

from custom_components.solar_gateway.gateway.envoy.generator_writes import (
    charge_from_generator_request,
    check_charge_from_generator,
    generator_mode_request,
    generator_schedule_request,
)
from custom_components.solar_gateway.gateway.envoy.models import GeneratorCommand
from custom_components.solar_gateway.gateway.envoy.parsers.generator import (
    parse_generator_config,
    parse_generator_mode,
    parse_generator_schedule,
)
from custom_components.solar_gateway.gateway.errors import (
    ControlNotAppliedError,
    FeatureUnavailableError,
    UnexpectedPayloadError,
)
from tests.captures import captured_json
from tests.conftest import FIXTURES, corpus_root

SITE = FIXTURES / "envoy" / "generator_running"
CORPUS = corpus_root() / "envoy" / "8.3.5169_with_generator"


def load(folder: Path, name: str) -> object:
    return json.loads((folder / name).read_text())


@pytest.mark.parametrize(
    "folder",
    [
        SITE,
        pytest.param(
            CORPUS,
            marks=pytest.mark.skipif(not CORPUS.is_dir(), reason="no corpus"),
        ),
    ],
    ids=["fixture", "corpus"],
)
def test_settings_as_the_gateway_reports_them(folder: Path) -> None:
    """Mode, exercise schedule and configuration, each from its raw document."""
    raw_mode = captured_json(folder / "ivp_ss_gen_mode")
    raw_schedule = captured_json(folder / "ivp_ss_gen_schedule")
    raw_config = captured_json(folder / "ivp_ss_gen_config")
    if not (
        isinstance(raw_mode, dict)
        and isinstance(raw_schedule, dict)
        and isinstance(raw_config, dict)
    ):
        pytest.skip("the set holds no generator settings")
    mode = parse_generator_mode(raw_mode)
    assert mode is not None
    assert mode.command == GeneratorCommand(raw_mode["gen_cmd"])
    assert mode.last_updated_by == raw_mode["last_updated_by"]
    schedule = parse_generator_schedule(raw_schedule)
    assert schedule is not None
    exercise, soc = raw_schedule["exercise_config"], raw_schedule["default_soc"]
    assert (
        schedule.exercise_weeks,
        schedule.exercise_day,
        schedule.exercise_start,
        schedule.exercise_duration,
        schedule.start_soc,
        schedule.stop_soc,
    ) == (
        exercise["freq_in_weeks"],
        exercise["day"],
        exercise["start"],
        exercise["duration"],
        soc["start_soc"],
        soc["stop_soc"],
    )
    assert schedule.document == raw_schedule
    config = parse_generator_config(raw_config)
    assert config is not None
    assert config.charge_from_generator is raw_config["charge_from_generator"]
    assert (config.manufacturer, config.model, config.start_method) == (
        raw_config["manufacturer"],
        raw_config["model"],
        raw_config["start_method"],
    )
    assert config.rating == raw_config["name_plate_rating_wat"]


@pytest.mark.parametrize(
    "parse", [parse_generator_mode, parse_generator_schedule, parse_generator_config]
)
def test_empty_document_is_no_generator(parse: object) -> None:
    """A system controller without a generator answers ``{}``: no generator."""
    assert callable(parse)
    assert parse({}) is None


@pytest.mark.parametrize(
    "parse", [parse_generator_mode, parse_generator_schedule, parse_generator_config]
)
@pytest.mark.parametrize("payload", [None, [], "on"])
def test_not_an_object_is_a_typed_error(parse: object, payload: object) -> None:
    """Anything but an object is an unexpected payload."""
    assert callable(parse)
    with pytest.raises(UnexpectedPayloadError):
        parse(payload)


def test_odd_values_are_unknown() -> None:
    """An unknown mode, a day that is not a week day, junk numbers: None."""
    mode = parse_generator_mode({"gen_cmd": "standby"})
    assert mode is not None
    assert mode.command is None
    assert parse_generator_mode({"gen_cmd": None, "x": 1}) == parse_generator_mode(
        {"gen_cmd": 5, "x": 1}
    )
    schedule = parse_generator_schedule(
        {"exercise_config": {"day": "Someday", "start": "nan", "freq_in_weeks": 1.5}}
    )
    assert schedule is not None
    assert (
        schedule.exercise_day,
        schedule.exercise_start,
        schedule.exercise_weeks,
    ) == (
        None,
        None,
        None,
    )
    assert schedule.start_soc is None
    config = parse_generator_config({"charge_from_generator": "maybe"})
    assert config is not None
    assert config.charge_from_generator is None


def test_mode_body() -> None:
    """The mode is POSTed as ``{"gen_cmd"}``, lower case."""
    request = generator_mode_request(GeneratorCommand.AUTO)
    assert (request.method, request.path, request.body) == (
        "POST",
        "/ivp/ss/gen_mode",
        {"gen_cmd": "auto"},
    )


def test_schedule_body_holds_only_the_changed_keys() -> None:
    """Only the keys that change, in the gateway's flat spelling."""
    schedule = parse_generator_schedule(load(SITE, "ivp_ss_gen_schedule"))
    request = generator_schedule_request(
        schedule, numbers={"exercise_duration": 25.0}, exercise_day="Sun"
    )
    assert (request.method, request.path) == ("POST", "/ivp/ss/gen_schedule")
    assert request.body == {"exercise_duration": 25, "exercise_day": "Sun"}
    request = generator_schedule_request(schedule, numbers={"stop_soc": 85})
    assert request.body == {"default_stop_soc": 85}


@pytest.mark.parametrize(
    ("numbers", "day", "message"),
    [
        ({"exercise_weeks": 0}, None, "exercise_weeks"),
        ({"exercise_start": 1440}, None, "exercise_start"),
        ({"start_soc": 101}, None, "start_soc"),
        ({"start_soc": 75}, None, "below stop"),
        ({"stop_soc": 30}, None, "below stop"),
        ({}, "Funday", "exercise day"),
        ({}, None, "nothing to change"),
    ],
)
def test_schedule_values_checked_before_sending(
    numbers: dict[str, float], day: str | None, message: str
) -> None:
    """Out-of-range values and a start above the stop charge are refused here."""
    schedule = parse_generator_schedule(load(SITE, "ivp_ss_gen_schedule"))
    with pytest.raises(ValueError, match=message):
        generator_schedule_request(schedule, numbers=numbers, exercise_day=day)


def test_config_body_is_whole_with_one_change() -> None:
    """The whole configuration as read, only ``charge_from_generator`` changed."""
    raw = load(SITE, "ivp_ss_gen_config")
    assert isinstance(raw, dict)
    request = charge_from_generator_request(parse_generator_config(raw), False)
    assert (request.method, request.path) == ("POST", "/ivp/ss/gen_config")
    assert request.body == {**raw, "charge_from_generator": False}
    assert raw["charge_from_generator"] is True  # the read document is untouched


def test_without_generator_nothing_is_written() -> None:
    """No generator document: the control is absent, not a blind write."""
    with pytest.raises(FeatureUnavailableError):
        charge_from_generator_request(None, True)
    with pytest.raises(FeatureUnavailableError):
        generator_schedule_request(None, exercise_day="Mon")


def test_charge_from_generator_set_back_is_not_applied() -> None:
    """Answered 200 but read back on: the write was not applied."""
    config = parse_generator_config(load(SITE, "ivp_ss_gen_config"))
    check_charge_from_generator(config, True)
    with pytest.raises(ControlNotAppliedError, match="reads True after writing False"):
        check_charge_from_generator(config, False)
    with pytest.raises(ControlNotAppliedError):
        check_charge_from_generator(None, True)
