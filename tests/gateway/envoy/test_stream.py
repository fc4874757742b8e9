"""``/stream/meter`` events: parsed without trusting them, folded into the CT readings."""

from dataclasses import replace
from datetime import UTC, datetime
import json

import pytest

from custom_components.solar_gateway.gateway.envoy.models import (
    CtType,
    EnvoyData,
    EnvoyInfo,
)
from custom_components.solar_gateway.gateway.envoy.parsers.meters import (
    parse_meter_readings,
    parse_meters,
)
from custom_components.solar_gateway.gateway.envoy.probe import identity_of
from custom_components.solar_gateway.gateway.envoy.site_mapping import build_snapshot
from custom_components.solar_gateway.gateway.envoy.stream import (
    apply_meter_event,
    parse_meter_event,
)
from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from custom_components.solar_gateway.gateway.site import Phase, Quantity

from .helpers import ENVOY_FIXTURES

NOW = datetime(2025, 6, 21, 12, 0, 5, tzinfo=UTC)
FOLDER = ENVOY_FIXTURES / "metered_battery"
INFO = EnvoyInfo(
    serial="122312345678", part_number="800", firmware="D8.2.4286", metered=True
)


def _phase(p: object, v: object = 120.0) -> dict[str, object]:
    return {"p": p, "q": 10.0, "s": 1000.0, "v": v, "i": 8.0, "pf": 0.98, "f": 60.0}


def _event(**sections: dict[str, object]) -> str:
    return json.dumps({key.replace("_", "-"): value for key, value in sections.items()})


ZERO = _phase(0.0, 0.0)
EVENT = _event(
    production={"ph-a": _phase(1100.0), "ph-b": _phase(900.0), "ph-c": ZERO},
    net_consumption={"ph-a": _phase(-400.0), "ph-b": _phase(-200.0), "ph-c": ZERO},
    total_consumption={"ph-a": _phase(700.0), "ph-b": _phase(700.0), "ph-c": ZERO},
)


def _data() -> EnvoyData:
    """The metered site (production, net-consumption and storage CTs) as polled."""
    return EnvoyData(
        info=INFO,
        meter_configs=parse_meters(json.loads((FOLDER / "ivp_meters").read_text())),
        meter_readings=parse_meter_readings(
            json.loads((FOLDER / "ivp_meters_readings").read_text())
        ),
    )


def test_an_event_carries_each_ct_types_phases() -> None:
    """Three CT types, three phases each, every figure read."""
    event = parse_meter_event(EVENT, NOW)
    assert event.time == NOW
    assert set(event.meters) == {
        CtType.PRODUCTION,
        CtType.NET_CONSUMPTION,
        CtType.TOTAL_CONSUMPTION,
    }
    first = event.meters[CtType.PRODUCTION][0]
    assert first is not None
    assert (first.power, first.reactive_power, first.apparent_power) == (
        1100.0,
        10.0,
        1000.0,
    )
    assert (first.voltage, first.current, first.power_factor, first.frequency) == (
        120.0,
        8.0,
        0.98,
        60.0,
    )


def test_odd_values_are_absent_not_errors() -> None:
    """Strings are read, "nan" and null are absent; a phase without power is none."""
    event = parse_meter_event(
        _event(
            production={
                "ph-a": _phase("1500.5", "nan"),
                "ph-b": _phase(None),
                "ph-c": "not a phase",
            },
            net_consumption={"ph-a": {"p": "nan"}},
            storage={"ph-a": _phase(5.0)},
        ),
        NOW,
    )
    assert list(event.meters) == [CtType.PRODUCTION]
    first, second, third = event.meters[CtType.PRODUCTION]
    assert first is not None
    assert first.power == 1500.5
    assert first.voltage is None
    assert second is None
    assert third is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"production": {"ph-a": ', "invalid JSON"),
        ("[1, 2]", "not a JSON object"),
        ("<html>busy</html>", "invalid JSON"),
        ('{"production": {"ph-a": {"p": null}}}', "without CT readings"),
        ("{}", "without CT readings"),
    ],
)
def test_unreadable_events_are_typed_errors(payload: str, message: str) -> None:
    """Truncated, HTML, empty or powerless events end as UnexpectedPayloadError."""
    with pytest.raises(UnexpectedPayloadError, match=message):
        parse_meter_event(payload, NOW)


def test_an_event_folds_into_the_polled_ct_readings() -> None:
    """Power, voltage, current and frequency from the stream; counters as polled."""
    polled = _data()
    folded = apply_meter_event(polled, parse_meter_event(EVENT, NOW))
    production = folded.ct(CtType.PRODUCTION)
    net = folded.ct(CtType.NET_CONSUMPTION)
    storage = folded.ct(CtType.STORAGE)
    assert production is not None
    assert production.reading is not None
    assert net is not None
    assert net.reading is not None
    total = production.reading.total
    # Split phase: the CTs measure two phases; ph-c is not theirs.
    assert total.active_power == 2000.0
    assert total.apparent_power == 2000.0
    assert total.reactive_power == 20.0
    assert total.current == 16.0
    assert total.power_factor == 1.0
    assert total.frequency == 60.0
    assert total.timestamp == NOW
    assert [c.active_power for c in production.phases] == [1100.0, 900.0]
    assert [c.voltage for c in production.phases] == [120.0, 120.0]
    assert net.reading.total.active_power == -600.0
    before_production = polled.ct(CtType.PRODUCTION)
    before_storage = polled.ct(CtType.STORAGE)
    assert before_production is not None
    assert before_production.reading is not None
    assert total.energy_delivered == before_production.reading.total.energy_delivered
    assert storage == before_storage

    figures = build_snapshot(identity_of(INFO), folded).figures
    assert figures.solar_power == 2000.0
    assert figures.grid_power == -600.0


def test_streamed_figures_reach_the_meter_devices() -> None:
    """The CT devices' per-phase measurements show the streamed values."""
    snapshot = build_snapshot(
        identity_of(INFO), apply_meter_event(_data(), parse_meter_event(EVENT, NOW))
    )
    meter = snapshot.device(f"{INFO.serial}_ct_production")
    assert meter is not None
    assert meter.get(Quantity.POWER, Phase.L1) == 1100.0
    assert meter.get(Quantity.POWER, Phase.L2) == 900.0
    assert meter.data_time == NOW


def test_a_missing_phase_keeps_the_polled_reading() -> None:
    """A CT whose measured phase is absent from the event is left as polled."""
    polled = _data()
    event = parse_meter_event(
        _event(
            production={"ph-a": _phase(1100.0)},
            net_consumption={"ph-a": _phase(-50.0), "ph-b": _phase(-50.0)},
        ),
        NOW,
    )
    folded = apply_meter_event(polled, event)
    assert folded.ct(CtType.PRODUCTION) == polled.ct(CtType.PRODUCTION)
    net = folded.ct(CtType.NET_CONSUMPTION)
    assert net is not None
    assert net.reading is not None
    assert net.reading.total.active_power == -100.0


def test_an_event_without_a_ct_type_leaves_that_ct_as_polled() -> None:
    """Production only: the net-consumption CT keeps its polled reading."""
    polled = _data()
    event = parse_meter_event(
        _event(production={"ph-a": _phase(10.0), "ph-b": _phase(20.0)}), NOW
    )
    folded = apply_meter_event(polled, event)
    assert folded.ct(CtType.NET_CONSUMPTION) == polled.ct(CtType.NET_CONSUMPTION)
    production = folded.ct(CtType.PRODUCTION)
    assert production is not None
    assert production.reading is not None
    assert production.reading.total.active_power == 30.0


def test_disabled_or_unread_cts_are_left_alone() -> None:
    """A disabled CT's zeros stay a quirk; a CT never polled gets no half reading."""
    polled = _data()
    disabled = replace(
        polled,
        meter_configs=tuple(
            replace(config, state="disabled") for config in polled.meter_configs
        ),
    )
    event = parse_meter_event(EVENT, NOW)
    assert apply_meter_event(disabled, event) is disabled
    unread = replace(polled, meter_readings=())
    assert apply_meter_event(unread, event) is unread


def test_single_phase_ct_takes_phase_a() -> None:
    """A one-phase CT reads its whole power from ph-a."""
    polled = _data()
    single = replace(
        polled,
        meter_configs=tuple(
            replace(config, phase_count=1) for config in polled.meter_configs
        ),
    )
    folded = apply_meter_event(single, parse_meter_event(EVENT, NOW))
    production = folded.ct(CtType.PRODUCTION)
    assert production is not None
    assert production.reading is not None
    assert production.reading.total.active_power == 1100.0
