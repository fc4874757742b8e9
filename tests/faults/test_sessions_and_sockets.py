"""A PVS6 on varserver firmware as it behaves in the field: it forgets a login session
after about 8 minutes and closes its telemetry socket every 10 minutes (the
simulator does both by default). Neither may show: no entity becomes unavailable,
live power reaches automations within every write window, the socket is reopened at
once without a fall-back poll of the live data, and polls log in again as needed.

Timers fire at their own time (``run_timers``): the socket sends every second.
"""

from collections.abc import Callable
import itertools

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
import pytest

from custom_components.solar_gateway.const import (
    CONF_LIVE_STREAM,
    CONF_STREAM_WRITE_INTERVAL,
)
from custom_components.solar_gateway.gateway.pvs.client import MATCH_LIVEDATA
from custom_components.solar_gateway.gateway.pvs.varserver import LOGIN_PATH, vars_path
from simulator.pvs_varserver import DEFAULT_SESSION_SECONDS
from simulator.streams import TELEMETRY_SOCKET_SECONDS

from .harness import FaultRun, fault_run

VARSERVER = "pvs/varserver"
WRITE_INTERVAL = 5.0
STREAMING = {CONF_LIVE_STREAM: True, CONF_STREAM_WRITE_INTERVAL: WRITE_INTERVAL}
# The event every streamed message fires for automations (see the README).
LIVE_POWER_EVENT = "solar_gateway_live_power"
# Streaming, the live data is polled for its counters only, this often.
COUNTER_POLLS = 300.0
MINUTES = 25


def follow(
    run: FaultRun, event_type: str, keep: Callable[[Event], bool]
) -> list[float]:
    """The times (gateway clock) of the events ``keep`` accepts, from now on."""
    times: list[float] = []

    @callback
    def record(event: Event) -> None:
        if keep(event):
            times.append(run.now)

    run.entry.async_on_unload(run.hass.bus.async_listen(event_type, record))
    return times


async def test_session_expiry_and_socket_closes_do_not_show(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """25 minutes of streaming through two socket closes and three session expiries."""
    assert DEFAULT_SESSION_SECONDS < TELEMETRY_SOCKET_SECONDS <= 600
    async with fault_run(
        hass, freezer, caplog, VARSERVER, entry_options=STREAMING
    ) as run:
        entities = set(run.entity_ids())

        def lost(event: Event[EventStateChangedData]) -> bool:
            state = event.data["new_state"]
            return (
                event.data["entity_id"] in entities
                and state is not None
                and state.state == STATE_UNAVAILABLE
            )

        unavailable = follow(run, EVENT_STATE_CHANGED, lost)
        live_power = follow(run, LIVE_POWER_EVENT, lambda _: True)
        start = run.now
        await run.run_timers(MINUTES * 60)
        streams = run.gateway.streams
        closed, opened = list(streams.closed_at), list(streams.opened_at)
        sent = [r for r in run.gateway.requests if r.time > start]
        # Before the entry is unloaded (which leaves every entity unavailable).
        unavailable = list(unavailable)
        # Nothing to recover from: 0 s when nothing became unavailable.
        outcome = run.outcome(
            "socket close, session expiry (pvs/varserver)",
            start,
            run.now,
            None if unavailable else 0.0,
        )
        assert not run.tracebacks()
    assert outcome.glitches == 0, outcome.notes
    # The PVS closed its socket every 10 minutes; it was open again each time.
    assert len(closed) >= 2, closed
    assert len(opened) == len(closed) + 1, (opened, closed)
    assert unavailable == []
    # Live power within every write window, through the closes too.
    gaps = [b - a for a, b in itertools.pairwise(live_power)]
    assert live_power, "no live power"
    assert max(gaps) <= WRITE_INTERVAL, max(gaps)
    # Sessions expired and polls logged in again.
    logins = [r.time for r in sent if r.path == LOGIN_PATH]
    assert len(logins) >= 2, logins
    # Streaming throughout: the live data polled for its counters only, no
    # fall-back poll when the socket closed.
    polls = [r.time for r in sent if r.path == vars_path(MATCH_LIVEDATA)]
    assert polls
    assert min(b - a for a, b in itertools.pairwise(polls)) >= COUNTER_POLLS - 5
