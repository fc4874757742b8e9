"""No secret of a fixture ever reaches its diagnostics or the logs (debug included)."""

import json
import logging
from pathlib import Path
import re

from homeassistant.const import CONF_PASSWORD
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.solar_gateway.const import CONF_CAPTURE_DIAGNOSTICS, CONF_TOKEN

from .simulated import FIXTURES, SCENARIOS, simulated_entry

_MAC = re.compile(r"\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b")
_SECRET_VARS = ("/sys/info/ssid", "/sys/info/wpa_key", "/sys/info/lmac")


@pytest.fixture(autouse=True)
def sockets(socket_enabled: None) -> None:
    """Let the integration reach the simulator on 127.0.0.1."""


def fixture_secrets(folder: Path) -> set[str]:
    """The secrets written in a fixture's own files: MAC addresses, the Wi-Fi name
    and key of a varserver PVS."""
    found: set[str] = set()
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        found |= set(_MAC.findall(text))
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
    """Serial, token, password, MACs, SSID and Wi-Fi key: nowhere in the download
    (with a capture of the raw answers) or in what the integration logged."""
    caplog.set_level(logging.DEBUG)
    async with simulated_entry(hass, scenario) as (entry, gateway):
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_CAPTURE_DIAGNOSTICS: True}
        )
        await hass.async_block_till_done()
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        secrets = fixture_secrets(FIXTURES / scenario) | {gateway.identity.serial}
        for key in (CONF_TOKEN, CONF_PASSWORD):
            if entry.data.get(key):
                secrets.add(entry.data[key])
    text = json.dumps(diagnostics)
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.solar_gateway")
    )
    assert secrets
    for secret in secrets:
        assert secret not in text, f"{secret!r} in the diagnostics"
        assert secret not in ours, f"{secret!r} in the logs"
