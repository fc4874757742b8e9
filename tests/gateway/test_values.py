"""Defensive conversion of gateway values: odd inputs end as None, never a crash."""

from datetime import UTC, datetime

import pytest

from custom_components.solar_gateway.gateway.values import (
    as_bool,
    as_float,
    as_int,
    as_list,
    as_object,
    as_str,
    as_timestamp,
    objects,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (2.5, 2.5),
        ("3.25", 3.25),
        (" 4 ", 4.0),
        ("-0.5", -0.5),
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        (float("inf"), None),
        (float("nan"), None),
        ("", None),
        ("   ", None),
        ("abc", None),
        (None, None),
        (True, None),
        (False, None),
        ([1], None),
        ({"a": 1}, None),
    ],
)
def test_as_float(value: object, expected: float | None) -> None:
    """Numbers and numeric strings convert; everything else is absent."""
    assert as_float(value) == expected


def test_as_float_scales() -> None:
    """kW strings become W with a scale."""
    assert as_float("1.5", 1000) == 1500.0
    assert as_float("nan", 1000) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        ("7", 7),
        ("7.0", 7),
        (7.5, None),
        ("x", None),
        (None, None),
        (True, None),
    ],
)
def test_as_int(value: object, expected: int | None) -> None:
    """Whole numbers only."""
    assert as_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" abc ", "abc"),
        ("", None),
        ("  ", None),
        ("nan", None),
        ("NAN", None),
        (5, "5"),
        (1.5, "1.5"),
        (True, None),
        (None, None),
        ([], None),
    ],
)
def test_as_str(value: object, expected: str | None) -> None:
    """Non-empty text, numbers as text, nothing else."""
    assert as_str(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (1.0, True),
        (2, None),
        ("1", True),
        (" TRUE ", True),
        ("yes", True),
        ("on", True),
        ("enabled", True),
        ("0", False),
        ("false", False),
        ("Off", False),
        ("disabled", False),
        ("no", False),
        ("maybe", None),
        ("", None),
        (None, None),
        ([], None),
    ],
)
def test_as_bool(value: object, expected: bool | None) -> None:
    """JSON booleans, 0/1 and the usual words; anything else is absent."""
    assert as_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (0, None),
        (-5, None),
        ("nan", None),
        (None, None),
        (1e20, None),  # beyond what datetime holds
    ],
)
def test_as_timestamp(value: object, expected: datetime | None) -> None:
    """Unix seconds become aware UTC datetimes; 0 and nonsense are absent."""
    assert as_timestamp(value) == expected


def test_as_object_as_list_and_objects() -> None:
    """Containers are returned only when they have the expected JSON shape."""
    assert as_object({"a": 1}) == {"a": 1}
    assert as_object([1]) is None
    assert as_object("x") is None
    assert as_list([1, 2]) == [1, 2]
    assert as_list({"a": 1}) == []
    assert as_list(None) == []
    assert objects([{"a": 1}, 2, "x", None, {"b": 2}]) == [{"a": 1}, {"b": 2}]
    assert objects("not a list") == []
