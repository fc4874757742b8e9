"""No secret of a fixture ever reaches its diagnostics or the logs (debug included)."""

from datetime import timedelta
import json
import logging
from pathlib import Path
import re

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.solar_gateway.const import CONF_CAPTURE_DIAGNOSTICS, CONF_TOKEN

from .simulated import FIXTURES, SCENARIOS, simulated_entry

_MAC = re.compile(r"\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SECRET_VARS = ("/sys/info/ssid", "/sys/info/wpa_key", "/sys/info/lmac")


@pytest.fixture(autouse=True)
def sockets(socket_enabled: None) -> None:
    """Let the integration reach the simulator on 127.0.0.1."""


def fixture_secrets(folder: Path) -> set[str]:
    """The secrets written in a fixture's own files: MAC and IP addresses, e-mails,
    the Wi-Fi name and key of a varserver PVS."""
    found: set[str] = set()
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        found |= set(_MAC.findall(text))
        found |= set(_IPV4.findall(text)) | set(_EMAIL.findall(text))
        if path.name == "vars_fmt_obj.json":
            values = json.loads(text)
            found |= {str(values[name]) for name in _SECRET_VARS if values.get(name)}
    return {secret for secret in found if len(secret) >= 6}


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_no_secret_in_diagnostics_or_logs(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
) -> None:
    """Serial, token, password, the gateway's address, the fixture's MAC and IP
    addresses and e-mails, SSID and Wi-Fi key: nowhere in the download (with a
    capture of the raw answers) or in what the integration logged, also when the
    gateway cannot be reached (the error still says which request and why)."""
    caplog.set_level(logging.DEBUG)
    async with simulated_entry(hass, scenario) as (entry, gateway):
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_CAPTURE_DIAGNOSTICS: True}
        )
        await hass.async_block_till_done()
        await gateway.go_offline()
        # A measurement later: a legacy PVS's DeviceList is held until the PVS has
        # a newer one, so only then does a poll go to the gateway.
        client = entry.runtime_data.client
        later = client.now() + timedelta(minutes=5)
        client.now = lambda: later  # type: ignore[method-assign]
        for coordinator in entry.runtime_data.coordinators.values():
            await coordinator.async_refresh()
        errors = [
            str(coordinator.last_exception)
            for coordinator in entry.runtime_data.coordinators.values()
        ]
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        secrets = fixture_secrets(FIXTURES / scenario) | {
            gateway.identity.serial,
            gateway.host,
        }
        for key in (CONF_TOKEN, CONF_PASSWORD, CONF_USERNAME):
            if entry.data.get(key):
                secrets.add(entry.data[key])
    text = json.dumps(diagnostics)
    formatter = logging.Formatter()
    ours = "\n".join(
        record.getMessage()
        + (formatter.formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
        if record.name.startswith("custom_components.solar_gateway")
    )
    assert secrets
    # What the user is shown: the translated reason, the request and the cause.
    assert any(
        error.startswith("Could not reach the gateway: GET /")
        and error.endswith(" failed: connection refused")
        for error in errors
    ), errors
    for secret in secrets:
        assert secret not in text, f"{secret!r} in the diagnostics"
        assert secret not in ours, f"{secret!r} in the logs"
