"""Live streams in Home Assistant: opt-in, fresher power, polling as the fall-back.

Against the simulator, with the real clients: the stream's figures reach the power
entities within 2 s of a change, the LIVE group is polled only for its counters
while the stream runs, a drop falls back to polling at once and the stream comes
back, a refused stream polls and says so once in the options form, and the state
writes stay within the recorder budget.
"""

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
import time

from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.solar_gateway.const import (
    CONF_CAPTURE_DIAGNOSTICS,
    CONF_LIVE_STREAM,
    CONF_STREAM_WRITE_INTERVAL,
    DOMAIN,
)
from custom_components.solar_gateway.coordinator import (
    COUNTER_INTERVAL,
    EVENT_LIVE_POWER,
    POWER_FIGURES,
    LiveFeed,
    SolarGatewayData,
    large_change,
)
from custom_components.solar_gateway.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.site import SiteSnapshot
from custom_components.solar_gateway.gateway.stream import StreamReading, StreamState
from simulator.clock import ManualClock
from simulator.faults import Fault, FaultName
from simulator.server import SimulatedGateway, SimulatorOptions

from .simulated import FIXTURES, NOON, simulated_entry

pytestmark = pytest.mark.usefixtures("socket_enabled")

STREAMING = {CONF_LIVE_STREAM: True, CONF_STREAM_WRITE_INTERVAL: 1}
FAST = SimulatorOptions(utc_offset_hours=0.0, stream_interval=0.1)


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait, in real time, until ``condition`` holds."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - states and counters have no event
            await asyncio.sleep(0.02)


def feed_of(hub: SolarGatewayData) -> LiveFeed:
    assert hub.stream is not None
    return hub.stream


def solar_entity(hass: HomeAssistant, serial: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{serial}_solar_power"
    )
    assert entity_id is not None
    return entity_id


async def test_streamed_power_reaches_the_entities_within_two_seconds(
    hass: HomeAssistant,
) -> None:
    """The solar power sensor follows the simulated site through the stream."""
    clock = ManualClock(NOON)
    async with simulated_entry(
        hass, "envoy/metered_battery", clock, options=STREAMING, simulator=FAST
    ) as (entry, gw):
        hub: SolarGatewayData = entry.runtime_data
        feed = feed_of(hub)
        await until(lambda: feed.stream.state is StreamState.STREAMING)
        live = hub.coordinators[DataGroup.LIVE]
        # The stream carries no battery power: the live group keeps its own rate.
        assert live.update_interval == live.configured_interval
        entity_id = solar_entity(hass, gw.identity.serial)
        clock.advance(6 * 3600)  # evening: solar falls
        expected = round(gw.state.figures().solar_w)
        changed = time.monotonic()

        def shown() -> bool:
            state = hass.states.get(entity_id)
            return state is not None and abs(float(state.state) - expected) <= 1

        await until(shown, within=3)
        assert time.monotonic() - changed < 2.0

        # Every message is at hand for automations, once something listens.
        events: list[Event] = []
        remove = hass.bus.async_listen(EVENT_LIVE_POWER, events.append)
        await until(lambda: len(events) >= 3)
        remove()
        assert events[-1].data["entry_id"] == entry.entry_id
        assert events[-1].data["solar_power"] == pytest.approx(expected, abs=1)
        assert set(events[-1].data) == {"entry_id", *POWER_FIGURES}

        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        stream = diagnostics["stream"]
        assert stream["state"] == "streaming"
        assert stream["source"] == "GET /stream/meter"
        assert stream["messages_per_minute"] > 0
        assert stream["reconnects"] == 0


async def test_a_dropped_stream_falls_back_to_polling_and_returns(
    hass: HomeAssistant,
) -> None:
    """Drop: the live group is polled at once and at its interval; then streams."""
    async with simulated_entry(
        hass, "envoy/metered_3phase", options=STREAMING, simulator=FAST
    ) as (entry, gw):
        hub: SolarGatewayData = entry.runtime_data
        feed = feed_of(hub)
        live = hub.coordinators[DataGroup.LIVE]
        stats = hub.client.transport.stats
        await until(lambda: feed.stream.state is StreamState.STREAMING)
        polled = stats.by_path["/ivp/meters/readings"]
        gw.streams.drop(down_for=1.5)
        await until(lambda: feed.stream.state is StreamState.DOWN)
        assert live.update_interval == live.configured_interval
        # Polled at once, not a live interval later.
        await until(lambda: stats.by_path["/ivp/meters/readings"] > polled)
        await until(lambda: feed.stream.state is StreamState.STREAMING, within=10)
        assert live.update_interval == COUNTER_INTERVAL
        assert feed.stream.stats.reconnects >= 1


async def test_power_stays_available_when_the_counter_poll_fails_while_streaming(
    hass: HomeAssistant,
) -> None:
    """The live poll fails: the streamed power sensors stay available and keep
    moving, the counters they do not carry become unavailable."""
    clock = ManualClock(NOON)
    async with simulated_entry(
        hass, "envoy/metered_battery", clock, options=STREAMING, simulator=FAST
    ) as (entry, gw):
        hub: SolarGatewayData = entry.runtime_data
        feed = feed_of(hub)
        await until(lambda: feed.stream.state is StreamState.STREAMING)
        serial = gw.identity.serial
        power = solar_entity(hass, serial)
        registry = er.async_get(hass)
        energy = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{serial}_solar_energy"
        )
        assert energy is not None
        gw.add_fault(Fault(FaultName.MALFORMED_JSON, count=20))
        await hub.coordinators[DataGroup.LIVE].async_refresh()
        assert not hub.coordinators[DataGroup.LIVE].last_update_success
        await until(lambda: hass.states.get(energy).state == "unavailable")
        clock.advance(6 * 3600)  # evening: solar falls, the stream shows it
        expected = round(gw.state.figures().solar_w)

        def streamed() -> bool:
            state = hass.states.get(power)
            return (
                state is not None
                and state.state != "unavailable"
                and abs(float(state.state) - expected) <= 1
            )

        await until(streamed, within=3)
        # The stream drops while the poll still fails: nothing is fresh any more.
        gw.streams.drop(down_for=30)
        await until(lambda: hass.states.get(power).state == "unavailable")


async def test_a_refused_stream_polls_and_says_so_once(hass: HomeAssistant) -> None:
    """An owner token refused: polling at the live interval, a note in the options."""
    refusing = replace(FAST, refuse_owner_stream=True)
    async with simulated_entry(
        hass, "envoy/metered_battery", options=STREAMING, simulator=refusing
    ) as (entry, _):
        hub: SolarGatewayData = entry.runtime_data
        feed = feed_of(hub)
        await until(lambda: feed.stream.state is StreamState.REFUSED)
        live = hub.coordinators[DataGroup.LIVE]
        assert live.update_interval == live.configured_interval
        result = await hass.config_entries.options.async_init(entry.entry_id)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_LIVE_STREAM: "stream_refused"}
        keys = {str(key) for key in result["data_schema"].schema}
        assert {CONF_LIVE_STREAM, CONF_STREAM_WRITE_INTERVAL} <= keys
        hass.config_entries.options.async_abort(result["flow_id"])
        again = await hass.config_entries.options.async_init(entry.entry_id)
        assert again["errors"] == {}
        hass.config_entries.options.async_abort(again["flow_id"])


async def test_the_option_is_offered_only_where_a_stream_is(
    hass: HomeAssistant,
) -> None:
    """A legacy PVS has no stream: no live stream option; a PVS6 varserver has one."""
    for scenario, offered in (("pvs/legacy_basic", False), ("pvs/varserver", True)):
        async with simulated_entry(hass, scenario) as (entry, _):
            result = await hass.config_entries.options.async_init(entry.entry_id)
            keys = {str(key) for key in result["data_schema"].schema}
            assert (CONF_LIVE_STREAM in keys) is offered
            assert CONF_CAPTURE_DIAGNOSTICS in keys
            assert entry.runtime_data.stream is None
            hass.config_entries.options.async_abort(result["flow_id"])


async def test_pvs6_streams_through_its_telemetry_socket(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opted in, a PVS6 streams its livedata; the live poll waits for counters."""
    async with SimulatedGateway.start(
        FIXTURES / "pvs" / "varserver", stream_port=0, options=FAST
    ) as probe:
        port = probe.stream_port
    # The simulated socket listens where the PVS's own would (9002 on a real one).
    monkeypatch.setattr(
        "custom_components.solar_gateway.gateway.pvs.client.STREAM_PORT", port
    )
    async with simulated_entry(
        hass, "pvs/varserver", options=STREAMING, simulator=FAST, stream_port=port
    ) as (entry, gw):
        hub: SolarGatewayData = entry.runtime_data
        feed = feed_of(hub)
        await until(lambda: feed.stream.state is StreamState.STREAMING)
        live = hub.coordinators[DataGroup.LIVE]
        solar = live.data.figures.solar_power
        assert solar == pytest.approx(gw.state.figures().solar_w, abs=0.01)
        # The telemetry carries every power figure, the SunVault's too.
        assert live.update_interval == COUNTER_INTERVAL


async def test_state_writes_stay_within_the_recorder_budget(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An hour of 1-second messages: at most 3600/N writes plus the large changes."""
    async with simulated_entry(hass, "envoy/metered_battery") as (entry, _):
        hub: SolarGatewayData = entry.runtime_data
        source = hub.client.stream_source()
        assert source is not None
        write_interval = 5
        live = hub.coordinators[DataGroup.LIVE]
        feed = LiveFeed(entry, live, source, timedelta(seconds=write_interval))
        now = [1000.0]
        monkeypatch.setattr(
            "custom_components.solar_gateway.coordinator.time.monotonic",
            lambda: now[0],
        )
        writes: list[float | None] = []
        remove = live.async_add_listener(
            lambda: writes.append(live.data.figures.grid_power)
        )
        base = hub.snapshot
        steps = {600, 1200, 1800, 2400, 3000}  # a kettle, on and off
        power = 500.0
        folds = 0

        def reading(grid: float) -> StreamReading:
            def fold() -> SiteSnapshot:
                nonlocal folds
                folds += 1
                return replace(base, figures=replace(base.figures, grid_power=grid))

            return StreamReading({"net-consumption": grid}, fold)

        for second in range(3600):
            now[0] += 1
            if second in steps:
                power = 3500.0 if power == 500.0 else 500.0
            noise = 15.0 if second % 2 else -15.0
            feed._on_reading(reading(power + noise))
        remove()
        # A message is folded into the site only when it is written.
        assert folds == feed.writes
        assert len(writes) <= 3600 / write_interval + len(steps) + 1
        # Each step shows at once, not up to N seconds later.
        assert feed.writes == len(writes)
        assert writes[0] == pytest.approx(485.0)
        assert max(w or 0 for w in writes) == pytest.approx(3515.0)


def test_large_change_is_ten_percent_or_two_hundred_watts() -> None:
    """The rule that writes a streamed figure at once."""
    base: dict[str, float | None] = {"production": 1000.0, "net": -100.0}
    assert not large_change(base, {**base, "production": 1090.0})
    assert large_change(base, {**base, "production": 1101.0})
    assert large_change(base, {**base, "net": -205.0})
    assert not large_change(base, {**base, "net": -109.0})
    assert large_change(base, {**base, "storage": 10.0})
    assert large_change(base, {**base, "net": None})
    # Around 0 W, noise is no large change, however large a share it is.
    assert not large_change({"net": 0.0}, {"net": 15.0})
    assert large_change({"net": 0.0}, {"net": 25.0})
    assert not large_change(base, dict(base))


STREAMING_ENVOYS = (
    "envoy/metered_battery",
    "envoy/metered_3phase",
    "envoy/collar",
    "envoy/device_data_only",
    "envoy/generator_running",
)


@pytest.mark.parametrize("scenario", STREAMING_ENVOYS)
async def test_the_stream_replaces_only_what_it_carries(
    hass: HomeAssistant, scenario: str
) -> None:
    """With the stream on, every power figure is at most its group's interval old:
    the Envoy's stream carries no battery, so a site with batteries keeps polling
    its live group at its own rate, and battery power and the house load made with
    it follow the site at that rate (not 5 minutes later)."""
    clock = ManualClock(NOON)
    async with simulated_entry(
        hass, scenario, clock, options=STREAMING, simulator=FAST
    ) as (entry, gw):
        runtime: SolarGatewayData = entry.runtime_data
        feed = feed_of(runtime)
        await until(lambda: feed.stream.state is StreamState.STREAMING)
        live = runtime.coordinators[DataGroup.LIVE]
        figures = runtime.snapshot.figures
        polled = [
            name
            for name in POWER_FIGURES
            if getattr(figures, name) is not None
            and name not in feed.stream.source.carries
        ]
        if not polled:
            assert live.update_interval == COUNTER_INTERVAL
            return
        assert polled == ["battery_power"]
        assert live.update_interval == live.configured_interval
        registry = er.async_get(hass)
        serial = gw.identity.serial
        battery = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{serial}_battery_power"
        )
        assert battery is not None
        before = float(hass.states.get(battery).state)
        clock.advance(8 * 3600)  # evening: the battery turns from charging
        expected = gw.state.figures().battery_w
        assert abs(expected - before) > 100
        async_fire_time_changed(hass, dt_util.utcnow() + live.configured_interval)
        await hass.async_block_till_done()
        await until(lambda: abs(float(hass.states.get(battery).state) - expected) <= 5)
