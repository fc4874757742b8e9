"""The Envoy's live CT stream: ``GET /stream/meter``, server-sent events.

Each event is one line ``data: {...}`` holding the objects ``production``,
``net-consumption`` and ``total-consumption``, each with ``ph-a``, ``ph-b`` and
``ph-c``, and in each phase ``p`` (W), ``q`` (var), ``s`` (VA), ``v`` (V), ``i`` (A),
``pf`` and ``f`` (Hz). Powers follow ``/ivp/meters/readings``: positive towards the
house. Firmware before 7 streams to the ``installer`` digest user only; from 7 on to
the bearer token, and some firmware and account combinations refuse an owner token
(401/403): the stream is then unavailable and the site is polled.

The stream is folded into the CT readings that polling last read: the phases' power,
voltage, current and frequency are replaced, the lifetime counters stay as polled
(the stream carries none). The site snapshot is then built exactly as after a poll,
so every quirk handled there (disabled CTs, consumption derived from net) applies
to streamed figures too.
"""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
import json
import math
from typing import override

import aiohttp

from custom_components.solar_gateway.gateway.errors import (
    GatewayBusyError,
    GatewayConnectionError,
    StreamRefusedError,
    UnexpectedPayloadError,
    invalid_json,
)
from custom_components.solar_gateway.gateway.site import SiteSnapshot
from custom_components.solar_gateway.gateway.stream import StreamReading, StreamSource
from custom_components.solar_gateway.gateway.transport import (
    BUSY_STATUSES,
    Timeouts,
    failures_named,
)
from custom_components.solar_gateway.gateway.values import (
    JsonObject,
    as_float,
    as_object,
)

from .models import CtType, EnvoyData, MeterChannel, MeterReading

STREAM_PATH = "/stream/meter"
STREAM_TYPES = (CtType.PRODUCTION, CtType.NET_CONSUMPTION, CtType.TOTAL_CONSUMPTION)
PHASE_KEYS = ("ph-a", "ph-b", "ph-c")
REFUSED_STATUSES = frozenset({401, 403, 404})
BUSY_WAIT = 60.0  # seconds a busy gateway is left alone when it does not say
_DATA = "data:"


@dataclass(frozen=True, slots=True)
class StreamPhase:
    """One phase of one CT in a stream event."""

    power: float | None  # W, positive towards the house
    reactive_power: float | None  # var
    apparent_power: float | None  # VA
    voltage: float | None  # V
    current: float | None  # A
    power_factor: float | None
    frequency: float | None  # Hz


@dataclass(frozen=True, slots=True)
class MeterStreamEvent:
    """One event of ``/stream/meter``: the phases of each CT type it carries."""

    time: datetime  # when it arrived (the event carries no time of its own)
    meters: Mapping[CtType, tuple[StreamPhase | None, ...]]


def parse_meter_event(payload: str, time: datetime) -> MeterStreamEvent:
    """Read the JSON of one ``data:`` line; raise ``UnexpectedPayloadError`` if not one."""
    try:
        document = json.loads(payload)
    except ValueError as err:
        raise invalid_json(f"an event of {STREAM_PATH}", payload, err) from err
    root = as_object(document)
    if root is None:
        raise UnexpectedPayloadError(f"{STREAM_PATH}: not a JSON object")
    meters: dict[CtType, tuple[StreamPhase | None, ...]] = {}
    for kind in STREAM_TYPES:
        section = as_object(root.get(kind))
        if section is None:
            continue
        phases = tuple(_phase(as_object(section.get(key))) for key in PHASE_KEYS)
        if any(phase is not None for phase in phases):
            meters[kind] = phases
    if not meters:
        raise UnexpectedPayloadError(f"{STREAM_PATH}: an event without CT readings")
    return MeterStreamEvent(time=time, meters=meters)


def read_powers(payload: str) -> dict[str, float | None]:
    """Each CT type's power (W, its phases summed) in the JSON of one ``data:`` line;
    raise ``UnexpectedPayloadError`` if it is none."""
    try:
        document = json.loads(payload)
    except ValueError as err:
        raise UnexpectedPayloadError(
            f"{STREAM_PATH}: invalid JSON ({err}): {payload[:80]!r}"
        ) from err
    if not isinstance(document, dict):
        raise UnexpectedPayloadError(f"{STREAM_PATH}: not a JSON object")
    powers: dict[str, float | None] = {}
    for kind in STREAM_TYPES:
        section = document.get(kind)
        if not isinstance(section, dict):
            continue
        phases = [section.get(key) for key in PHASE_KEYS]
        found = [_number(phase.get("p")) for phase in phases if isinstance(phase, dict)]
        present = [power for power in found if power is not None]
        if present:
            powers[kind] = sum(present)
    if not powers:
        raise UnexpectedPayloadError(f"{STREAM_PATH}: an event without CT readings")
    return powers


def _phase(item: JsonObject | None) -> StreamPhase | None:
    if item is None:
        return None
    power = _number(item.get("p"))
    if power is None:
        return None  # a phase without its power is no reading at all
    return StreamPhase(
        power=power,
        reactive_power=_number(item.get("q")),
        apparent_power=_number(item.get("s")),
        voltage=_number(item.get("v")),
        current=_number(item.get("i")),
        power_factor=_number(item.get("pf")),
        frequency=_number(item.get("f")),
    )


def _number(value: object) -> float | None:
    # Sixty numbers a message, a message a second: a finite float as it came is
    # taken as it is; anything else goes through the defensive conversion.
    if type(value) is float and math.isfinite(value):
        return value
    return as_float(value)


def apply_meter_event(data: EnvoyData, event: MeterStreamEvent) -> EnvoyData:
    """Return ``data`` with the event's figures in the readings of the enabled CTs."""
    updated: dict[int | None, MeterReading] = {}
    for meter in data.ct_meters:
        kind = meter.config.measurement_type
        if meter.reading is None or kind not in STREAM_TYPES:
            continue
        phases = event.meters.get(CtType(kind))
        if phases is None:
            continue
        count = max(1, meter.config.phase_count or 1)
        used = [phase for phase in phases[:count] if phase is not None]
        if len(used) < count:
            # A phase the CT measures is missing: keep the polled reading whole.
            continue
        updated[meter.reading.eid] = _folded(meter.reading, used, event.time)
    if not updated:
        return data
    return replace(
        data,
        meter_readings=tuple(
            updated.get(reading.eid, reading) for reading in data.meter_readings
        ),
    )


def _folded(
    reading: MeterReading, phases: list[StreamPhase], time: datetime
) -> MeterReading:
    """The reading with the event's totals now and its phases when first asked for:
    a message a second makes the site figures, which need the totals alone."""
    power = sum(phase.power or 0.0 for phase in phases)
    apparent = _sum([phase.apparent_power for phase in phases])
    total = replace(
        reading.total,
        timestamp=time,
        active_power=power,
        reactive_power=_sum([phase.reactive_power for phase in phases]),
        apparent_power=apparent,
        current=_sum([phase.current for phase in phases]),
        power_factor=(
            round(power / apparent, 3)
            if apparent
            else _mean([phase.power_factor for phase in phases])
        ),
        frequency=_mean([phase.frequency for phase in phases]),
    )

    def channels() -> tuple[MeterChannel, ...]:
        folded = list(reading.channels)
        for index, phase in enumerate(phases[: len(folded)]):
            folded[index] = _with_phase(folded[index], phase, time)
        return tuple(folded)

    return MeterReading(total, channels)


def _with_phase(
    channel: MeterChannel, phase: StreamPhase, time: datetime
) -> MeterChannel:
    return replace(
        channel,
        timestamp=time,
        active_power=phase.power,
        reactive_power=phase.reactive_power,
        apparent_power=phase.apparent_power,
        voltage=phase.voltage,
        current=phase.current,
        power_factor=phase.power_factor,
        frequency=phase.frequency,
    )


def _sum(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def _mean(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None


class _EventLines:
    """The ``data:`` lines of an open event stream."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def receive(self) -> str | None:
        """Return the next event's data, or None at the end of the stream."""
        while True:
            line = await self._response.content.readline()
            if not line:
                return None
            text = line.decode("utf-8", errors="replace").strip()
            # Blank lines end events; ":" comments and "event:" lines carry no data.
            if text.startswith(_DATA):
                return text[len(_DATA) :].strip()


class EnvoyMeterStream(StreamSource):
    """``GET /stream/meter`` of one Envoy, folded into its client's data."""

    name = f"GET {STREAM_PATH}"
    # The production and consumption CTs: the storage CT and the batteries' own
    # report are not streamed, so battery power stays with polling.
    carries = frozenset({"solar_power", "grid_power", "consumption_power"})

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        headers: Callable[[], Mapping[str, str]],
        middlewares: tuple[aiohttp.ClientMiddlewareType, ...],
        fold: Callable[[MeterStreamEvent], SiteSnapshot],
        clock: Callable[[], datetime],
        timeouts: Timeouts | None = None,
    ) -> None:
        """Prepare the stream; ``headers`` is asked at each connection (tokens renew)."""
        self._session = session
        self.url = f"{base_url.rstrip('/')}{STREAM_PATH}"
        self._headers = headers
        self._middlewares = middlewares
        self._fold = fold
        self._clock = clock
        self._timeouts = timeouts or Timeouts()

    @override
    @asynccontextmanager
    async def connect(self) -> AsyncIterator[_EventLines]:
        """Open the event stream (no read timeout: the watchdog watches it)."""
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._timeouts.connect, sock_read=None
        )
        with failures_named(f"GET {STREAM_PATH}"):
            async with self._session.get(
                self.url,
                headers={**self._headers(), "Accept": "text/event-stream"},
                middlewares=self._middlewares,
                ssl=False,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                _check_status(response)
                yield _EventLines(response)

    @override
    def read(self, message: str) -> StreamReading | None:
        """Each CT type's power at once; the whole event parsed when folded."""
        if not message:
            return None
        time = self._clock()
        return StreamReading(
            read_powers(message),
            lambda: self._fold(parse_meter_event(message, time)),
        )


def _check_status(response: aiohttp.ClientResponse) -> None:
    status = response.status
    if status in REFUSED_STATUSES:
        raise StreamRefusedError(
            f"the gateway refuses {STREAM_PATH} to these credentials ({status})",
            status,
        )
    if status in BUSY_STATUSES:
        wait = as_float(response.headers.get("Retry-After"))
        raise GatewayBusyError(
            f"{STREAM_PATH} answered {status}",
            wait if wait is not None and wait > 0 else BUSY_WAIT,
        )
    if status != 200:
        raise GatewayConnectionError(f"{STREAM_PATH} answered {status}")
