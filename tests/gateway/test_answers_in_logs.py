"""A gateway's answer never reaches an error message, and DEBUG shows it redacted.

An error's message ends in Home Assistant's log at ERROR level, so an answer that
does not parse is described by the request, its size and the kind of fault. The
answer itself is logged at DEBUG only, redacted as diagnostics are. The answers
below are the project's whole fixtures, spoiled the way gateways spoil them.
"""

from datetime import UTC, datetime
import json
import logging

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
import pytest

from custom_components.solar_gateway.gateway.envoy.parsers.common import root_object
from custom_components.solar_gateway.gateway.envoy.stream import parse_meter_event
from custom_components.solar_gateway.gateway.errors import (
    ControlRefusedError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.pvs.parsers.common import (
    check_result,
    load_json_object,
)
from custom_components.solar_gateway.gateway.pvs.stream import parse_power_notification
from custom_components.solar_gateway.gateway.redaction import REDACTED, Redactor
from custom_components.solar_gateway.gateway.site import ControlKey
from custom_components.solar_gateway.gateway.transport import Response
from tests.conftest import FIXTURES
from tests.gateway.conftest import Simulate
from tests.gateway.envoy.test_controls import _change, _client

VARS = FIXTURES / "pvs/varserver/vars_fmt_obj.json"
INVERTERS = FIXTURES / "envoy/metered_battery/api_v1_production_inverters"
INFO = FIXTURES / "envoy/metered_battery/info"
LOGGER = "custom_components.solar_gateway.gateway"


def _secrets_of_vars() -> set[str]:
    """Every serial, address and Wi-Fi secret of the varserver dump."""
    values: dict[str, str] = json.loads(VARS.read_text())
    return {
        value
        for name, value in values.items()
        if name.endswith(("/sn", "serialnum", "ssid", "wpa_key", "mac"))
    }


def _serials_of_inverters() -> set[str]:
    return {item["serialNumber"] for item in json.loads(INVERTERS.read_text())}


def _response(path: str, body: bytes) -> Response:
    return Response("GET", path, 200, CIMultiDictProxy(CIMultiDict()), body)


def _debug_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(LOGGER) and record.levelno == logging.DEBUG
    ]


def test_broken_varserver_dump_is_described_not_quoted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The issue's case: ``/vars?match=/sys/`` broken in its first quotes. The
    message names the query, the fault and the size; no serial, SSID, Wi-Fi key or
    MAC of the dump is in it; DEBUG shows the answer with those redacted."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    body = VARS.read_bytes().replace(b'"', b"'", 3) + b",]"
    with pytest.raises(UnexpectedPayloadError) as err:
        load_json_object(body, "/vars?match=/sys/")
    message = str(err.value)
    assert message == (
        "/vars?match=/sys/ answered invalid JSON (Expecting property name enclosed "
        f"in double quotes at character 3; {len(body)} bytes)"
    )
    [debug] = _debug_lines(caplog)
    assert debug.startswith(message)
    assert REDACTED in debug
    assert "/sys/livedata/pv_p" in debug  # what is no secret stays readable
    for secret in _secrets_of_vars():
        assert secret not in message
        assert secret not in debug, secret


def test_truncated_inverters_answer_is_described_not_quoted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``/api/v1/production/inverters`` cut in half: "cut short" and its size, no
    inverter serial; DEBUG numbers the serials instead."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    whole = INVERTERS.read_bytes()
    body = whole[: len(whole) // 2]
    response = _response("/api/v1/production/inverters", body)
    with pytest.raises(UnexpectedPayloadError) as err:
        response.json()
    assert str(err.value) == (
        "GET /api/v1/production/inverters answered invalid JSON "
        f"(cut short; {len(body)} bytes)"
    )
    [debug] = _debug_lines(caplog)
    assert "**REDACTED_1**" in debug
    assert "lastReportWatts" in debug
    for serial in _serials_of_inverters():
        assert serial not in debug, serial


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"<html><body>503 Service Unavailable</body></html>", "an HTML or XML page"),
        (b'{"sn": "\xff\xfe"}', "not UTF-8 at byte 8"),
        (b'{"a": 1} {"b": 2}', "Extra data at character 9"),
        (b"[" + b"7" * 5000 + b"]", "ValueError"),  # a number past Python's limit
    ],
)
def test_kind_of_fault(body: bytes, kind: str) -> None:
    """Each kind of unreadable answer is named, in words of our own."""
    with pytest.raises(UnexpectedPayloadError) as err:
        load_json_object(body, "/cgi-bin/dl_cgi?Command=DeviceList")
    assert str(err.value) == (
        "/cgi-bin/dl_cgi?Command=DeviceList answered invalid JSON "
        f"({kind}; {len(body)} bytes)"
    )


def test_stream_messages_are_described_not_quoted() -> None:
    """A broken message of either live stream: kind and size, not its text."""
    values: dict[str, str] = json.loads(VARS.read_text())
    serial = values["/sys/info/serialnum"]
    telemetry = '{"notification": "power", "sn": "' + serial
    with pytest.raises(UnexpectedPayloadError) as err:
        parse_power_notification(telemetry)
    assert str(err.value) == (
        f"a telemetry message answered invalid JSON (cut short; {len(telemetry)} bytes)"
    )
    event = '{"production": {"ph-a": {"p": 1.5, "serial": "' + serial
    with pytest.raises(UnexpectedPayloadError) as err:
        parse_meter_event(event, datetime.now(UTC))
    assert serial not in str(err.value)
    assert "cut short" in str(err.value)


def test_envoy_error_document_words_only() -> None:
    """An Envoy error document's word is named; an object in its place is not."""
    with pytest.raises(UnexpectedPayloadError, match="tariff: 404 - Not Found"):
        root_object({"error": "404 - Not Found"}, "tariff")
    with pytest.raises(UnexpectedPayloadError) as err:
        root_object({"error": {"serial_num": "482301000001"}}, "tariff")
    assert str(err.value) == "tariff: an error document"


def test_result_words_only() -> None:
    """A dl_cgi ``result`` word is named; anything else in its place is not quoted."""
    with pytest.raises(UnexpectedPayloadError, match="answered result 'failed'"):
        check_result({"result": "failed"}, "Start")
    with pytest.raises(UnexpectedPayloadError) as err:
        check_result({"result": "ZT244285000549W8841 busy"}, "Start")
    assert str(err.value) == "Start answered an unknown result"


def test_broken_xml_and_json_fragments_are_redacted_by_key() -> None:
    """Redaction of a body that does not parse goes by each fragment's key, as
    diagnostics do for JSON: serials numbered, secrets blanked, the rest kept."""
    info = INFO.read_bytes()
    half = info[: info.index(b"</device>")]
    redacted = Redactor().body(half)
    assert "<sn>**REDACTED_1**" in redacted
    assert "<software>" in redacted
    for value in (b"<sn>", b"<pn>"):
        assert value in half
    serial = half.split(b"<sn>")[1].split(b"<")[0].decode()
    assert serial not in redacted
    cut = b'{"ssid": "SunPower88418", "wpa_key": "secret-key", "sn": "E0012'
    assert Redactor().body(cut) == (
        '{"ssid": "**REDACTED**", "wpa_key": "**REDACTED**", "sn": "**REDACTED_1**'
    )


async def test_refused_value_quotes_the_gateways_error_only(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A 400 on a write names the gateway's own ``error``; any other answer only by
    its size."""
    client, gw = await _client(simulate, session)
    change = await _change(client, ControlKey.GRID_CONNECTION, None, True)
    gw.answer("POST", "/ivp/ensemble/relay", 400, {"error": "invalid mode"})
    with pytest.raises(ControlRefusedError, match="rejected the value: invalid mode"):
        await client.apply(change)
    page = '{"serial_num": "482301000001", "status": "bad"}'
    gw.answer("POST", "/ivp/ensemble/relay", 400, page)
    with pytest.raises(ControlRefusedError) as err:
        await client.apply(change)
    assert str(err.value).endswith(
        f"rejected the value: an answer of {len(page)} bytes"
    )
    assert "482301000001" not in str(err.value)
