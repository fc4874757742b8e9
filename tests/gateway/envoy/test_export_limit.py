"""The export limit (``/ivp/ss/dpel``): parsed, offered to installers, written whole."""

import json

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.envoy.controls import request_for
from custom_components.solar_gateway.gateway.envoy.models import EnvoyData, EnvoyInfo
from custom_components.solar_gateway.gateway.envoy.parsers.limits import (
    parse_dynamic_export_limit,
)
from custom_components.solar_gateway.gateway.errors import (
    ControlRefusedError,
    FeatureUnavailableError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.site import (
    ControlChange,
    ControlKey,
    ControlKind,
    SiteSnapshot,
)
from tests.gateway.conftest import Simulate

from .helpers import ENVOY_FIXTURES, envoy_client

SITE = "envoy/generator_running"
DPEL = "/ivp/ss/dpel"
CAPTURED = json.loads(
    (ENVOY_FIXTURES / "generator_running" / "ivp_ss_dpel").read_text()
)
ENVELOPE = {"filename": "site_settings", "version": "00.00.01"}
SWITCH, POWER = ControlKey.DYNAMIC_EXPORT_LIMIT, ControlKey.DYNAMIC_EXPORT_LIMIT_POWER


def limited(watts: float, *, on_export: bool = True) -> dict[str, object]:
    """The gateway's document with a limit set (as a gateway with one reports it)."""
    return {
        "dynamic_pel_settings": {
            "enable": True,
            "export_limit": on_export,
            "limit_value_W": watts,
            "slew_rate": 50.0,
            "enable_dynamic_limiting": False,
        },
        **ENVELOPE,
    }


def value(snapshot: SiteSnapshot, key: str) -> object:
    """The value of control ``key`` of the gateway (it must be offered)."""
    control = snapshot.control(key)
    assert control is not None, key
    return control.value


def test_parse_disabled_and_enabled() -> None:
    """Disabled: ``enable`` alone; enabled: every field, from the raw documents."""
    off = parse_dynamic_export_limit(CAPTURED)
    assert (off.enabled, off.export_limit, off.limit_w) == (False, None, None)
    raw = limited(1500.0)
    on = parse_dynamic_export_limit(raw)
    settings = raw["dynamic_pel_settings"]
    assert isinstance(settings, dict)
    assert (on.enabled, on.export_limit, on.limit_w, on.slew_rate, on.dynamic) == (
        settings["enable"],
        settings["export_limit"],
        settings["limit_value_W"],
        settings["slew_rate"],
        settings["enable_dynamic_limiting"],
    )


@pytest.mark.parametrize(
    "payload",
    [{"error": "not found"}, {"dynamic_pel_settings": {"enable": "maybe"}}, [], "x"],
)
def test_parse_garbage_is_a_typed_error(payload: object) -> None:
    """Anything without ``dynamic_pel_settings.enable`` is an unexpected payload."""
    with pytest.raises(UnexpectedPayloadError):
        parse_dynamic_export_limit(payload)


async def test_installer_token_reads_it_and_gets_the_controls(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Read at setup with an installer token; off, at the 0 W turning it on applies."""
    gw = await simulate(SITE)
    client = envoy_client(session, gw, token=gw.issue_token(user="installer"))
    await client.setup()
    snapshot = await client.first_refresh()
    assert [r.path for r in gw.received("GET", DPEL)] == [DPEL]
    switch, power = snapshot.control(SWITCH), snapshot.control(POWER)
    assert switch is not None
    assert (switch.kind, switch.value) == (ControlKind.SWITCH, False)
    assert power is not None
    assert (power.kind, power.value, power.minimum) == (ControlKind.NUMBER, 0.0, 0)
    assert client.absent_controls == {}


async def test_owner_token_never_asks_and_says_why(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """An owner token is refused the setting: not asked, no control, a reason."""
    gw = await simulate(SITE)
    client = envoy_client(session, gw)
    await client.setup()
    snapshot = await client.first_refresh()
    assert gw.received(path=DPEL) == []
    assert snapshot.control(SWITCH) is None
    assert snapshot.control(POWER) is None
    assert client.absent_controls == {"dynamic_export_limit": "owner_token"}


async def test_not_asked_without_a_consumption_ct(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A site whose CTs are disabled cannot measure export: not asked, said so."""
    gw = await simulate("envoy/acb")
    client = envoy_client(session, gw, token=gw.issue_token(user="installer"))
    await client.setup()
    assert gw.received(path=DPEL) == []
    assert client.absent_controls == {"dynamic_export_limit": "not_metered"}


async def test_a_gateway_without_it_is_not_offered(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Asked, answered 404: no control, and the reason says the gateway lacks it."""
    gw = await simulate(SITE)
    gw.answer("GET", DPEL, 404, {"error": "404 - Not Found"})
    client = envoy_client(session, gw, token=gw.issue_token(user="installer"))
    await client.setup()
    snapshot = await client.first_refresh()
    assert snapshot.control(SWITCH) is None
    assert client.absent_controls == {"dynamic_export_limit": "not_offered"}


async def test_a_production_limit_is_left_to_the_installer(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A gateway limiting production, not export: no control to override it."""
    gw = await simulate(SITE)
    gw.answer("GET", DPEL, 200, limited(2000.0, on_export=False))
    client = envoy_client(session, gw, token=gw.issue_token(user="installer"))
    await client.setup()
    snapshot = await client.first_refresh()
    assert snapshot.control(SWITCH) is None
    assert snapshot.control(POWER) is None
    assert client.absent_controls == {"dynamic_export_limit": "production_limit"}


async def test_switch_on_off_and_power_send_the_whole_setting(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """On: limited to the power shown (0 W); a power: on at it; off: enable alone.
    Each is read back at once."""
    gw = await simulate(SITE)
    client = envoy_client(session, gw, token=gw.issue_token(user="installer"))
    await client.setup()
    await client.first_refresh()

    snapshot = await client.apply(ControlChange(SWITCH, None, True))
    assert [r.json() for r in gw.received("POST", DPEL)] == [limited(0.0)]
    assert gw.received()[-1].method == "GET"  # read back
    assert (value(snapshot, SWITCH), value(snapshot, POWER)) == (True, 0.0)

    snapshot = await client.apply(ControlChange(POWER, None, 1200.0))
    assert gw.received("POST", DPEL)[-1].json() == limited(1200.0)
    assert value(snapshot, POWER) == 1200.0

    snapshot = await client.apply(ControlChange(SWITCH, None, False))
    assert gw.received("POST", DPEL)[-1].json() == {
        "dynamic_pel_settings": {"enable": False},
        **ENVELOPE,
    }
    # The gateway keeps no value: the power shown is what turning it on applies.
    assert (value(snapshot, SWITCH), value(snapshot, POWER)) == (False, 0.0)


async def test_the_gateway_slew_rate_is_kept(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A limit already set: a new power keeps the gateway's own slew rate."""
    gw = await simulate(SITE)
    current = limited(500.0)
    settings = current["dynamic_pel_settings"]
    assert isinstance(settings, dict)
    settings["slew_rate"] = 20.0
    gw.answer("GET", DPEL, 200, current, count=1)
    client = envoy_client(session, gw, token=gw.issue_token(user="installer"))
    await client.setup()
    snapshot = await client.first_refresh()
    assert value(snapshot, POWER) == 500.0
    await client.apply(ControlChange(POWER, None, 0.0))
    sent = gw.received("POST", DPEL)[-1].json()
    assert isinstance(sent, dict)
    assert sent["dynamic_pel_settings"]["slew_rate"] == 20.0


async def test_power_out_of_range_is_not_sent(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A negative limit is refused before anything is sent."""
    gw = await simulate(SITE)
    client = envoy_client(session, gw, token=gw.issue_token(user="installer"))
    await client.setup()
    await client.first_refresh()
    with pytest.raises(ValueError, match="0 to"):
        await client.apply(ControlChange(POWER, None, -1.0))
    assert gw.received("POST", DPEL) == []


def test_no_setting_read_no_request() -> None:
    """A change of the export limit where the gateway reported none is not made."""
    info = EnvoyInfo(serial="1", part_number=None, firmware="D8.3", metered=True)
    with pytest.raises(FeatureUnavailableError):
        request_for(ControlChange(SWITCH, None, True), EnvoyData(info=info))


@pytest.mark.parametrize(
    ("status", "installer"), [(401, True), (403, True), (400, False)]
)
async def test_refusals_are_typed(
    simulate: Simulate,
    session: aiohttp.ClientSession,
    status: int,
    installer: bool,
) -> None:
    """401/403: it needs an installer token; 400: the gateway's word on the value."""
    gw = await simulate(SITE)
    client = envoy_client(session, gw, token=gw.issue_token(user="installer"))
    await client.setup()
    await client.first_refresh()
    gw.answer("POST", DPEL, status, {"error": "limit_value_W out of range"})
    with pytest.raises(ControlRefusedError) as caught:
        await client.apply(ControlChange(SWITCH, None, True))
    assert caught.value.status == status
    assert caught.value.needs_installer is installer
    if status == 400:
        assert "limit_value_W out of range" in str(caught.value)
