"""The Enphase cloud puts back a battery mode written from Home Assistant (firmware
8.2.4225+): Home Assistant follows the tariff after the write, shows the gateway's
mode, explains once (a repair) and tells automations once (an event), and never
writes again."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest

from custom_components.solar_gateway.const import DOMAIN
from custom_components.solar_gateway.setting_watch import EVENT_SETTING_OVERRIDDEN
from simulator.faults import Fault, FaultName
from simulator.server import SimulatorOptions

from .harness import ENVOY, fault_run

TARIFF = "/admin/lib/tariff"
CLOUD_DELAY = 90.0


def _entity(hass: HomeAssistant, serial: str, platform: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{serial}_{key}"
    )
    assert entity_id is not None
    return entity_id


async def test_cloud_reverts_savings(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Write Savings; the cloud reverts 90 s later; the select shows the gateway's
    mode within 3 minutes; one repair, one event; the follow-up reads are the
    tariff's alone, three of them."""
    events: list[Event] = []
    options = SimulatorOptions(utc_offset_hours=0.0, cloud_revert_after=CLOUD_DELAY)
    async with fault_run(hass, freezer, caplog, ENVOY, options=options) as run:
        hass.bus.async_listen(EVENT_SETTING_OVERRIDDEN, events.append)
        serial = run.gateway.identity.serial
        select = _entity(hass, serial, "select", "battery_mode")
        switch = _entity(hass, serial, "switch", "optimised_schedules")
        assert hass.states.get(switch).state == "on"  # type: ignore[union-attr]
        start = run.now
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": select, "option": "savings"},
            blocking=True,
        )
        state = hass.states.get(select)
        assert state is not None
        assert state.state == "savings"
        assert state.attributes["changed_by"] == "home_assistant"
        assert hass.states.get(switch).state == "off"  # type: ignore[union-attr]
        shown_back: float | None = None
        while run.now - start < 10 * 60:
            await run.step()
            state = hass.states.get(select)
            assert state is not None
            if shown_back is None and state.state == "self_consumption":
                shown_back = run.now - start
        issues = [
            issue
            for (domain, _), issue in ir.async_get(hass).issues.items()
            if domain == DOMAIN
        ]
        tariff_reads = [
            r.time - start
            for r in run.gateway.received("GET", TARIFF)
            if r.time >= start
        ]
        puts = run.gateway.received("PUT", TARIFF)
        assert not run.tracebacks()
    assert shown_back is not None
    assert CLOUD_DELAY <= shown_back <= 3 * 60
    assert state.attributes["changed_by"] == "enphase_cloud"
    assert [issue.translation_key for issue in issues] == ["cloud_override"]
    assert issues[0].translation_placeholders is not None
    assert issues[0].translation_placeholders["entity"] == select
    assert len(events) == 1
    assert events[0].data["entity_id"] == select
    assert (events[0].data["written"], events[0].data["value"]) == (
        "savings",
        "self_consumption",
    )
    assert events[0].data["changed_by"] == "enphase_cloud"
    # The read-back, then 30 s, 2 and 5 minutes after the write.
    assert len(tariff_reads) == 4, tariff_reads
    assert tariff_reads[1:] == pytest.approx([30, 120, 300], abs=6)
    # Home Assistant never wrote again.
    assert len(puts) == 1


async def test_failed_follow_up_waits_and_new_write_clears_the_repair(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A follow-up the gateway refuses (503) is not retried at once: the next one is
    minutes later. Writing the setting again clears the repair; with the cloud's
    connection blocked it then holds, and no repair comes back."""
    async with fault_run(hass, freezer, caplog, ENVOY) as run:
        run.gateway.add_fault(Fault(FaultName.CLOUD_OVERRIDE, amount=CLOUD_DELAY))
        serial = run.gateway.identity.serial
        reserve = _entity(hass, serial, "number", "backup_reserve")
        start = run.now
        await hass.services.async_call(
            "number", "set_value", {"entity_id": reserve, "value": 60}, blocking=True
        )
        run.gateway.answer("GET", TARIFF, 503, "busy", count=1)
        await run.run(10 * 60)
        reads = [
            r.time - start
            for r in run.gateway.received("GET", TARIFF)
            if r.time > start
        ]
        issue_id = f"cloud_override_{run.entry.entry_id}"
        registry = ir.async_get(hass)
        assert registry.async_get_issue(DOMAIN, issue_id) is not None
        state = hass.states.get(reserve)
        assert state is not None
        assert state.state == "30.0"  # the cloud's reserve
        # The owner blocks the gateway's internet; Home Assistant writes again.
        run.gateway.faults.clear(FaultName.CLOUD_OVERRIDE)
        await hass.services.async_call(
            "number", "set_value", {"entity_id": reserve, "value": 60}, blocking=True
        )
        assert registry.async_get_issue(DOMAIN, issue_id) is None
        await run.run(10 * 60)
        assert registry.async_get_issue(DOMAIN, issue_id) is None
        state = hass.states.get(reserve)
        assert state is not None
        assert (state.state, state.attributes["changed_by"]) == (
            "60.0",
            "home_assistant",
        )
        assert not run.tracebacks()
    # After the read-back: the refused follow-up at 30 s, then 2 and 5 minutes, no
    # retry in between.
    assert reads == pytest.approx([30, 120, 300], abs=6)
