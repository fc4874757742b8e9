"""Values a control refuses before sending: a translated validation error, no request.

Crossed thresholds (an AC Battery's sleep band, the generator's start and stop
charge, a relay's cutoff and restore levels) would make the equipment start and stop
at once or never: the action fails as the user's input error (HTTP 400 through the
REST API, nothing logged as an error), nothing reaches the gateway and the entity
keeps its state.
"""

from dataclasses import replace
from http import HTTPStatus
import logging

from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.solar_gateway.control import invalid_value
from custom_components.solar_gateway.gateway.errors import (
    InvalidControlValueError,
    InvalidValueReason,
)
from custom_components.solar_gateway.gateway.site import (
    Control,
    ControlChange,
    ControlKey,
    ControlKind,
    SiteSnapshot,
)

from .fake_gateway import SNAPSHOT, FakeGatewayClient
from .simulated import simulated_entry
from .test_controls import call, recording, state, writes

pytestmark = pytest.mark.usefixtures("socket_enabled")

BAND_LOW = "number.battery_121638000001_sleep_band_low"
STOP_SOC = "number.envoy_004444_generator_stop_charge"
START_SOC = "number.envoy_004444_generator_start_charge"
POOL_CUTOFF = "number.pool_pump_cutoff_battery_level"
GARAGE_RESTORE = "number.garage_pv_restore_battery_level"

CASES = [
    # scenario, entity, value, translation key, shown figures (low, high)
    ("envoy/acb", BAND_LOW, 60, "invalid_sleep_band", ("60", "30")),
    ("envoy/generator_running", STOP_SOC, 20, "invalid_generator_levels", ("30", "20")),
    (
        "envoy/generator_running",
        START_SOC,
        70,
        "invalid_generator_levels",
        ("70", "70"),
    ),
    ("envoy/metered_battery", POOL_CUTOFF, 80, "invalid_relay_levels", ("80", "70")),
    ("envoy/metered_battery", GARAGE_RESTORE, 25, "invalid_relay_levels", ("25", "25")),
]


@pytest.mark.parametrize(("scenario", "entity_id", "value", "key", "figures"), CASES)
async def test_crossed_thresholds_are_refused(
    hass: HomeAssistant,
    scenario: str,
    entity_id: str,
    value: int,
    key: str,
    figures: tuple[str, str],
) -> None:
    """A translated ServiceValidationError naming both levels; nothing sent."""
    async with simulated_entry(hass, scenario, user="installer") as (entry, _):
        before = state(hass, entity_id)
        changes: list[Event] = []
        hass.bus.async_listen("state_changed", changes.append)
        with (
            recording(entry.runtime_data) as sent,
            pytest.raises(ServiceValidationError) as caught,
        ):
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, entity_id, **{ATTR_VALUE: value}
            )
        assert caught.value.translation_key == key
        placeholders = caught.value.translation_placeholders or {}
        assert (placeholders["low"], placeholders["high"]) == figures
        assert f"({figures[0]} %)" in str(caught.value)
        assert writes(sent) == []
        assert state(hass, entity_id) == before
        # Not even for a moment: the value is refused before it is shown.
        assert [e.data["entity_id"] for e in changes] == []


async def test_refusal_is_a_bad_request_not_a_server_error(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Through the REST API the refusal is HTTP 400 and no ERROR line is logged."""
    assert await async_setup_component(hass, "api", {})
    async with simulated_entry(hass, "envoy/acb") as (_, _):
        client = await hass_client()
        with caplog.at_level(logging.WARNING):
            response = await client.post(
                f"/api/services/{NUMBER_DOMAIN}/{SERVICE_SET_VALUE}",
                json={ATTR_ENTITY_ID: BAND_LOW, ATTR_VALUE: 60},
            )
        assert response.status == HTTPStatus.BAD_REQUEST
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
        assert state(hass, BAND_LOW) == "25.0"


async def test_levels_apart_are_sent(hass: HomeAssistant) -> None:
    """The same relay with its cutoff moved below its restore level is written."""
    async with simulated_entry(hass, "envoy/metered_battery") as (entry, gateway):
        with recording(entry.runtime_data) as sent:
            await call(
                hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, POOL_CUTOFF, **{ATTR_VALUE: 69}
            )
        assert [s.path for s in writes(sent)] == ["/ivp/ss/dry_contact_settings"]
        held = gateway.personality.describe()["ivp_ss_dry_contact_settings"]
        pool = next(r for r in held["dry_contacts"] if r["id"] == "NC1")
        assert (pool["soc_low"], pool["soc_high"]) == (69.0, 70.0)
        assert state(hass, POOL_CUTOFF) == "69.0"


async def test_a_value_the_client_refuses_while_sending_is_an_input_error(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """A client that refuses the value only in ``apply`` (no rule of its own for
    ``check``): still the user's input error, and the reserve shows what it was."""
    reserve = Control(key=ControlKey.BACKUP_RESERVE, kind=ControlKind.NUMBER, value=30)
    fake_client.snapshot = replace(SNAPSHOT, controls=(reserve,))

    async def refuse(change: ControlChange) -> SiteSnapshot:
        raise ValueError(f"reserve {change.value} % is not one the gateway takes")

    fake_client.apply = refuse  # type: ignore[method-assign]
    fake_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    entity_id = "number.envoy_344455_battery_backup_reserve"
    with pytest.raises(ServiceValidationError) as caught:
        await call(hass, NUMBER_DOMAIN, SERVICE_SET_VALUE, entity_id, value=45)
    assert caught.value.translation_key == "control_invalid"
    assert "is not one the gateway takes" in str(caught.value)
    assert state(hass, entity_id) == "30"


def test_an_out_of_range_value_names_the_range() -> None:
    """Refused for its range: the message gives the range and the value."""
    err = InvalidControlValueError(
        "weeks must be 1..52, not 60",
        InvalidValueReason.OUT_OF_RANGE,
        {"value": 60, "minimum": 1, "maximum": 52},
    )
    refused = invalid_value(err, "number.envoy_004444_generator_exercise_every_weeks")
    assert refused.translation_key == "invalid_out_of_range"
    assert refused.translation_placeholders == {
        "control": "number.envoy_004444_generator_exercise_every_weeks",
        "value": "60",
        "minimum": "1",
        "maximum": "52",
    }
