"""Telemetry socket messages: read like ``/sys/livedata``, never trusted."""

from datetime import UTC, datetime
import json

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.errors import (
    GatewayConnectionError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.pvs.stream import (
    _SocketMessages,
    parse_power_notification,
)

PARAMS: dict[str, object] = {
    "time": 1761316812,
    "pv_p": 4.21,
    "pv_en": 27867.65,
    "net_p": -1.62,
    "net_en": 14116.0,
    "site_load_p": 2.59,
    "site_load_en": 41983.6,
    "ess_p": 0.0,
    "ess_en": 0.0,
    "soc": 0.85,
    "backupTimeRemaining": 620,
    "midstate": 1,
}


def _message(**overrides: object) -> str:
    return json.dumps({"notification": "power", "params": {**PARAMS, **overrides}})


def test_a_power_notification_is_the_livedata() -> None:
    """Every figure is read in the units of /sys/livedata (kW, kWh, SOC 0..1)."""
    live = parse_power_notification(_message())
    assert live is not None
    assert live.time == datetime.fromtimestamp(1761316812, UTC)
    assert (live.pv_kw, live.pv_kwh) == (4.21, 27867.65)
    assert (live.net_kw, live.net_kwh) == (-1.62, 14116.0)
    assert (live.site_load_kw, live.site_load_kwh) == (2.59, 41983.6)
    assert (live.ess_kw, live.soc, live.backup_minutes, live.mid_state) == (
        0.0,
        0.85,
        620.0,
        1,
    )


def test_strings_nan_and_null_are_read_as_the_varserver_sends_them() -> None:
    """Strings as numbers, "nan" and null as absent."""
    live = parse_power_notification(_message(pv_p="4.5", soc="nan", ess_p=None))
    assert live is not None
    assert live.pv_kw == 4.5
    assert live.soc is None
    assert live.ess_kw is None


def test_other_notifications_carry_no_figures() -> None:
    """A notification of another kind is skipped, not an error."""
    assert parse_power_notification('{"notification": "status", "params": {}}') is None


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ('{"notification": "power", "params": ', "invalid JSON"),
        ('["power"]', "not a JSON object"),
        ('{"notification": "power"}', "without params"),
        ('{"notification": "power", "params": {"time": 1}}', "without power"),
        (
            '{"notification": "power", "params": {"pv_p": "nan", "net_p": null}}',
            "without power",
        ),
    ],
)
def test_unreadable_notifications_are_typed_errors(message: str, error: str) -> None:
    """Truncated, odd or empty power notifications end as UnexpectedPayloadError."""
    with pytest.raises(UnexpectedPayloadError, match=error):
        parse_power_notification(message)


class _Socket:
    """Plays WebSocket messages as aiohttp hands them over."""

    def __init__(self, *messages: aiohttp.WSMessage) -> None:
        self._messages = list(messages)

    async def receive(self) -> aiohttp.WSMessage:
        return self._messages.pop(0)


async def test_socket_messages_text_binary_pings_close_and_errors() -> None:
    """Text and binary frames are messages, pings are skipped, close ends, errors raise."""
    frames = _Socket(
        aiohttp.WSMessage(aiohttp.WSMsgType.PING, b"", None),
        aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, "one", None),
        aiohttp.WSMessage(aiohttp.WSMsgType.BINARY, b"two", None),
        aiohttp.WSMessage(aiohttp.WSMsgType.CLOSE, 1000, ""),
        aiohttp.WSMessage(aiohttp.WSMsgType.ERROR, ValueError("reset"), None),
    )
    messages = _SocketMessages(frames)  # type: ignore[arg-type]
    assert await messages.receive() == "one"
    assert await messages.receive() == "two"
    assert await messages.receive() is None
    with pytest.raises(GatewayConnectionError, match="reset"):
        await messages.receive()
