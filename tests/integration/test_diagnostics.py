"""Diagnostics: redaction, the parsed site, raw answers, and a capture that replays."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from multidict import CIMultiDict, CIMultiDictProxy
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.solar_gateway.const import CONF_CAPTURE_DIAGNOSTICS, DOMAIN
from custom_components.solar_gateway.diagnostics import json_safe, snapshot_serials
from custom_components.solar_gateway.gateway.capture import capture_from_json
from custom_components.solar_gateway.gateway.envoy.client import EnvoyClient
from custom_components.solar_gateway.gateway.errors import GatewayConnectionError
from custom_components.solar_gateway.gateway.redaction import REDACTED, Redactor
from custom_components.solar_gateway.gateway.site import Brand, DeviceKind, SiteSnapshot
from custom_components.solar_gateway.gateway.transport import Response, Transport
from simulator.capture import load_source
from simulator.clock import ManualClock
from simulator.server import SimulatedGateway

from .fake_gateway import SERIAL, SNAPSHOT, FakeGatewayClient
from .simulated import FIXTURES, NOON, OPTIONS, entry_data

JWT = (
    "eyJhbGciOiJFUzI1NiJ9.eyJlbnBoYXNlVXNlciI6Im93bmVyIiwiZXhwIjo0MTAyNDQ0ODAwfQ."
    "c2lnbmF0dXJl"
)


def response(
    path: str,
    body: bytes,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> Response:
    """A raw answer as the transport keeps it."""
    return Response(
        method=method,
        path=path,
        status=200,
        headers=CIMultiDictProxy(CIMultiDict(headers or {})),
        body=body,
    )


# --- the redaction itself -----------------------------------------------------------


def test_serials_are_numbered_consistently_everywhere() -> None:
    """The same serial gets the same stand-in in values, keys, text and paths."""
    redactor = Redactor(["122233344455", "482301000001"])
    data = redactor.data(
        {
            "serialNumber": "482301000001",
            "other": {"sn": "999900001111", "parent": "122233344455"},
            "482301000001": {"note": "envoy 122233344455 and 482301000001"},
            "/sys/devices/meter/0/sn": "PVS6M24428841p",
            "SERIAL": 12345678,
        }
    )
    assert data == {
        "serialNumber": "**REDACTED_2**",
        "other": {"sn": "**REDACTED_3**", "parent": "**REDACTED_1**"},
        "**REDACTED_2**": {"note": "envoy **REDACTED_1** and **REDACTED_2**"},
        "/sys/devices/meter/0/sn": "**REDACTED_4**",
        "SERIAL": "**REDACTED_5**",
    }
    # Serials met under a serial key are replaced in later text too.
    assert redactor.text("Get_Comm&SerialNumber=999900001111") == (
        "Get_Comm&SerialNumber=**REDACTED_3**"
    )
    assert redactor.serials["999900001111"] == "**REDACTED_3**"
    # A stand-in is never numbered again.
    assert redactor.serial("**REDACTED_3**") == "**REDACTED_3**"
    assert redactor.serial(REDACTED) == REDACTED


def test_longer_serials_win_and_short_ones_only_match_whole() -> None:
    """A serial inside a longer one is not split; short serials hit only whole values."""
    redactor = Redactor(
        ["ZT244285000549W8841", "00003ABC4455_ZT244285000549W8841", "42"]
    )
    assert redactor.text("00003ABC4455_ZT244285000549W8841") == "**REDACTED_2**"
    assert redactor.text("ZT244285000549W8841 at 42 W") == "**REDACTED_1** at 42 W"
    assert redactor.data({"id": "42", "power": 42}) == {
        "id": "**REDACTED_3**",
        "power": 42,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("owner@example.com", REDACTED),
        (f"Bearer {JWT}", f"Bearer {REDACTED}"),
        ("mac 00:22:f2:aa:bb:cc", f"mac {REDACTED}"),
        ("MAC 00-22-F2-AA-BB-CD.", f"MAC {REDACTED}."),
        ("http://192.168.1.50:80/info", f"http://{REDACTED}:80/info"),
        ("fe80::1ff:fe23:4567:890a", REDACTED),
        ("2001:db8:0:0:0:0:2:1", REDACTED),
        # Not addresses: versions, times, dates and numbers stay.
        ("D8.2.4286", "D8.2.4286"),
        ("2025.10.02.61846", "2025.10.02.61846"),
        ("2025-10-24T14:35:00Z", "2025-10-24T14:35:00Z"),
        ("12:00:00", "12:00:00"),
        ("1.2.3.4.5", "1.2.3.4.5"),
        ("256.1.1.1", "256.1.1.1"),
        ("800-00555-r03", "800-00555-r03"),
    ],
)
def test_text_patterns(text: str, expected: str) -> None:
    """Addresses, e-mails and tokens are found in free text; look-alikes are kept."""
    assert Redactor().text(text) == expected


def test_secret_keys() -> None:
    """Secrets are blanked by key name, including varserver paths and headers."""
    redactor = Redactor()
    assert redactor.data(
        {
            "host": "192.0.2.10",
            "username": "owner",
            "password": "hunter2",
            "token": "abc",
            "/sys/info/wpa_key": "not-a-real-key",
            "/sys/info/ssid": "SunPower88418",
            "/sys/info/active_interface_mac": "0022f2aabbcd",
            "Set-Cookie": "session=1",
            "location": {"latitude": 1.0, "longitude": 2.0},
            "wifi": [{"ESSID": "home"}],
            "empty_password": "",
            "brand": "enphase",
            "empty": None,
            "password_again": None,
        }
    ) == {
        "host": REDACTED,
        "username": REDACTED,
        "password": REDACTED,
        "token": REDACTED,
        "/sys/info/wpa_key": REDACTED,
        "/sys/info/ssid": REDACTED,
        "/sys/info/active_interface_mac": REDACTED,
        "Set-Cookie": REDACTED,
        "location": REDACTED,
        "wifi": [{"ESSID": REDACTED}],
        "empty_password": "",
        "brand": "enphase",
        "empty": None,
        "password_again": None,
    }


def test_bodies() -> None:
    """JSON bodies are redacted as data, others as text; bools under serial keys stay."""
    redactor = Redactor(["122233344455"])
    assert json.loads(
        redactor.body(b'{"serial_num": "122233344455", "has_sn": true, "sn": ""}')
    ) == {"serial_num": "**REDACTED_1**", "has_sn": True, "sn": ""}
    assert redactor.body(b"<sn>122233344455</sn><ip>10.0.0.2</ip>") == (
        f"<sn>**REDACTED_1**</sn><ip>{REDACTED}</ip>"
    )
    assert redactor.body(b'"just a string 10.0.0.3"') == (f'"just a string {REDACTED}"')
    assert redactor.body(b"\xff\xfe") == "\ufffd\ufffd"


def test_json_safe() -> None:
    """Enums, datetimes, tuples and sets become JSON types."""
    data = json_safe(
        {Brand.ENPHASE: (SNAPSHOT.data_time, frozenset({1})), "kind": DeviceKind.METER}
    )
    assert data == {
        "enphase": ["2026-06-01T12:00:00+00:00", [1]],
        "kind": "meter",
    }
    json.dumps(data)


# --- diagnostics of a scripted gateway ----------------------------------------------


def raw_answers(client: FakeGatewayClient) -> None:
    """Give the scripted client answers full of things to redact."""
    client.transport.last_responses.update(
        {
            "/info": response(
                "/info",
                b"<envoy_info><device><sn>122233344455</sn>"
                b"<software>D8.2.4286</software></device></envoy_info>",
                headers={"Content-Type": "text/xml", "Content-Length": "99"},
            ),
            "/api/v1/production/inverters": response(
                "/api/v1/production/inverters",
                json.dumps(
                    [
                        {"serialNumber": "482301000001", "lastReportWatts": 250},
                        {"serialNumber": "482301000002", "lastReportWatts": 251},
                    ]
                ).encode(),
                headers={"Content-Type": "application/json"},
            ),
            "/home.json": response(
                "/home.json",
                json.dumps(
                    {
                        "network": {"interfaces": [{"ip": "192.168.1.50"}]},
                        "wireless": {"ssid": "MyWifi42", "mac": "00:22:f2:aa:bb:cc"},
                        "contact": "owner@example.com",
                    }
                ).encode(),
            ),
            "/auth/check_jwt": response(
                "/auth/check_jwt",
                b"<p>Valid token.</p>",
                headers={"Authorization": f"Bearer {JWT}"},
            ),
            "/ivp/ensemble/relay": response(
                "/ivp/ensemble/relay", b'{"mains_admin_state": "closed"}', "POST"
            ),
        }
    )
    client.transport.stats.requests = 7
    client.transport.stats.by_path.update({"/info": 1, "/home.json": 6})


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up ``entry``."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_diagnostics_snapshot(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """The whole download of a scripted gateway, redacted, without a capture."""
    raw_answers(fake_client)
    await setup_entry(hass, fake_entry)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, fake_entry)

    assert diagnostics == snapshot(
        exclude=props("last_changed", "last_updated", "last_exception")
    )
    text = json.dumps(diagnostics)
    for secret in (SERIAL, "482301000001", "192.0.2.10", "192.168.1.50", "MyWifi42"):
        assert secret not in text
    for secret in ("00:22:f2:aa:bb:cc", "owner@example.com", JWT[:20]):
        assert secret not in text
    assert "capture" not in diagnostics
    # The model keeps its devices apart and its figures whole.
    devices = diagnostics["site"]["devices"]
    assert [d["serial"] for d in devices] == [
        "**REDACTED_2**",
        "**REDACTED_3**",
        "**REDACTED_4**",
    ]
    assert diagnostics["site"]["figures"]["solar_power"] == 3200.0
    assert diagnostics["coordinators"]["live"]["last_update_success"] is True
    assert diagnostics["transport"]["by_path"] == {"/home.json": 6, "/info": 1}


async def test_capture_holds_gets_only_and_safe_headers(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """With the option on, the capture has every GET answer, redacted, replayable."""
    raw_answers(fake_client)
    fake_entry = MockConfigEntry(
        domain=DOMAIN,
        title=fake_entry.title,
        unique_id=fake_entry.unique_id,
        data=dict(fake_entry.data),
        options={CONF_CAPTURE_DIAGNOSTICS: True},
    )
    await setup_entry(hass, fake_entry)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, fake_entry)

    capture = capture_from_json(diagnostics)
    assert sorted(capture) == [
        "api_v1_production_inverters",
        "auth_check_jwt",
        "home.json",
        "info",
    ]
    info = capture.lookup("/info")
    assert info is not None
    assert info.text() == (
        "<envoy_info><device><sn>**REDACTED_1**</sn>"
        "<software>D8.2.4286</software></device></envoy_info>"
    )
    # Lengths change with redaction, so only the content type is kept.
    assert info.headers == {"Content-Type": "text/xml"}
    assert info.path == "/info"
    inverters = capture.lookup("/api/v1/production/inverters")
    assert inverters is not None
    assert inverters.json() == [
        {"serialNumber": "**REDACTED_3**", "lastReportWatts": 250},
        {"serialNumber": "**REDACTED_4**", "lastReportWatts": 251},
    ]
    assert SERIAL not in json.dumps(diagnostics)


@pytest.mark.parametrize("answers", [True, False])
async def test_envoy_capture_reads_info_once_more(answers: bool) -> None:
    """An Envoy's /info comes from its probe, so a capture asks for it again."""
    info = response("/info", b"<envoy_info><sn>122233344455</sn></envoy_info>")
    client = EnvoyClient(MagicMock(), "192.0.2.10")
    client.transport = Transport(MagicMock(), "https://192.0.2.10")
    client.transport.get = AsyncMock(  # type: ignore[method-assign]
        return_value=info if answers else None,
        side_effect=None if answers else GatewayConnectionError("gone"),
    )

    responses = await client.capture_responses()

    client.transport.get.assert_awaited_once_with("/info", cache=False)
    assert ("/info" in responses) is answers


# --- a capture taken from a simulated gateway replays to the same states ------------


@asynccontextmanager
async def served_entry(
    hass: HomeAssistant, source: Path, options: dict[str, Any]
) -> AsyncIterator[tuple[MockConfigEntry, SimulatedGateway]]:
    """Serve ``source`` (pinned at noon) and set up an entry through the real client."""
    async with SimulatedGateway.start(
        load_source(source), clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"{gateway.kind} {gateway.identity.serial}",
            unique_id=gateway.identity.serial,
            data=entry_data(gateway),
            options=options,
        )
        await setup_entry(hass, entry)
        assert entry.state is ConfigEntryState.LOADED
        yield entry, gateway
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def device_labels(snapshot: SiteSnapshot) -> dict[str, str]:
    """A name for each serial that does not depend on the serial: kind and position."""
    labels = {snapshot.identity.serial: "gateway"}
    for kind in DeviceKind:
        for index, device in enumerate(snapshot.of_kind(kind)):
            labels[device.serial] = f"{kind}_{index}"
    return labels


def states_by_device(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """Every entity state of ``entry``, keyed by unique id with serials as labels.

    Capture replays rename serials, and serials derived from another one (an Envoy
    CT's) are renamed as a whole in the model but in part in the raw answers.
    """
    labels = device_labels(entry.runtime_data.snapshot)
    by_length = sorted(labels, key=len, reverse=True)
    registry = er.async_get(hass)
    states: dict[str, str] = {}
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        state = hass.states.get(entity.entity_id)
        unique_id = entity.unique_id
        serial = next(s for s in by_length if unique_id.startswith(f"{s}_"))
        key = labels[serial] + unique_id.removeprefix(serial)
        states[key] = state.state if state is not None else "disabled"
    return states


@dataclass(frozen=True, slots=True)
class Replay:
    """What the integration read from a gateway, and from its replayed capture."""

    figures: dict[str, Any]
    replayed_figures: dict[str, Any]
    states: dict[str, str]
    replayed_states: dict[str, str]
    devices: list[str]
    replayed_devices: list[str]


async def capture_and_replay(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tmp_path: Path,
    scenario: str,
) -> Replay:
    """Download diagnostics with a capture from ``scenario``, then replay the file."""
    options = {CONF_CAPTURE_DIAGNOSTICS: True}
    async with served_entry(hass, FIXTURES / scenario, options) as (entry, _):
        hub = entry.runtime_data
        figures, devices = hub.snapshot.figures, hub.snapshot.devices
        labels = device_labels(hub.snapshot)
        states = states_by_device(hass, entry)
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    download = tmp_path / "config_entry-solar_gateway.json"
    download.write_text(json.dumps({"data": diagnostics}), encoding="utf-8")
    text = download.read_text(encoding="utf-8")
    for serial in (entry.unique_id or "", *(d.serial for d in devices)):
        assert serial not in text

    async with served_entry(hass, download, {}) as (replayed, gateway):
        assert gateway.identity.serial == "**REDACTED_1**"
        snapshot = replayed.runtime_data.snapshot
        return Replay(
            figures=asdict(figures),
            replayed_figures=asdict(snapshot.figures),
            states=states,
            replayed_states=states_by_device(hass, replayed),
            devices=[labels[d.serial] for d in devices],
            replayed_devices=[
                device_labels(snapshot)[d.serial] for d in snapshot.devices
            ],
        )


@pytest.mark.usefixtures("socket_enabled", "entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "scenario",
    ["envoy/metered_battery", "envoy/legacy_production", "pvs/varserver"],
)
async def test_capture_replays_to_the_same_states(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tmp_path: Path,
    scenario: str,
) -> None:
    """Diagnostics from a simulated gateway, replayed by the simulator, read the same:
    the same devices and entities, site figures and entity states."""
    replay = await capture_and_replay(hass, hass_client, tmp_path, scenario)

    assert replay.replayed_states.keys() == replay.states.keys()
    assert replay.replayed_devices == replay.devices
    assert approximately(replay.replayed_figures) == replay.figures
    assert approximately(replay.replayed_states) == approximately(replay.states)


def approximately(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with numbers (and numeric states) compared to 0.1 %.

    The simulator synthesises live power from a day curve whose peak it estimates
    from the capture; a replayed capture holds the powers it served, some rounded to
    whole watts (``wattsNow``), so live powers may differ in the last digits.
    """
    approx: dict[str, Any] = {}
    for key, value in values.items():
        number = _number(value)
        approx[key] = (
            value if number is None else pytest.approx(number, rel=1e-3, abs=1e-6)
        )
    return approx


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except ValueError, TypeError:
        return None


def test_snapshot_serials_order() -> None:
    """The gateway is numbered first, then devices in gateway order."""
    assert snapshot_serials(replace(SNAPSHOT, devices=SNAPSHOT.devices[1:])) == [
        SERIAL,
        "482301000001",
        "482301000002",
    ]
