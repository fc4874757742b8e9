"""Faults that are events rather than spoiled answers: an expired token, a gateway
that refuses connections, a slow DeviceList, stale data, a new address."""

from ipaddress import ip_address
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_ZEROCONF
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest

from custom_components.solar_gateway.const import CONF_TOKEN, DOMAIN
from custom_components.solar_gateway.gateway.client import DataGroup
from simulator.faults import Fault, FaultName, next_firmware
from simulator.pvs_legacy import PvsLegacyPersonality
from simulator.server import SimulatedGateway, SimulatorOptions
from tests.integration.simulated import FIXTURES

from .harness import STEP, fault_run

ENVOY = "envoy/metered_battery"
LEGACY = "pvs/legacy_basic"
VARSERVER = "pvs/varserver"
LIVE = {ENVOY: 15.0, VARSERVER: 60.0, LEGACY: 300.0}
DEVICES_SECONDS = 300.0  # devices, and their firmware, are read every 5 minutes


async def test_token_expired_mid_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The gateway stops accepting the token: polling stops, one reauth flow opens;
    with a new token everything is back at once."""
    async with fault_run(hass, freezer, caplog, ENVOY) as run:
        start = run.now
        run.gateway.add_fault(Fault(FaultName.TOKEN_EXPIRED))
        await run.run(30 * 60)
        end = run.now
        flows = [
            flow
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"]["source"] == SOURCE_REAUTH
        ]
        issues = [
            issue
            for (domain, _), issue in ir.async_get(hass).issues.items()
            if domain == DOMAIN
        ]
        # The user pastes a new token.
        token = run.gateway.issue_token(lifetime=100 * 365 * 86400)
        hass.config_entries.async_update_entry(
            run.entry, data={**run.entry.data, CONF_TOKEN: token}
        )
        await hass.config_entries.async_reload(run.entry.entry_id)
        recovery = await run.until_recovered(limit=60)
        outcome = run.outcome("token expired (envoy)", start, end, recovery)
        assert not run.tracebacks()
    assert len(flows) == 1
    # The gateway refused the token: the repair says it has expired.
    assert [issue.translation_key for issue in issues] == ["token_expired"]
    # The request that met the refusal and the token check that confirmed it.
    assert outcome.requests_during_fault <= 3
    assert recovery is not None
    assert recovery <= STEP.total_seconds()


async def test_token_running_out_says_expired_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A pasted token runs out: the repair that said "expiring" says "expired" from
    the poll that stopped for it, not minutes later with the next device poll."""
    async with fault_run(hass, freezer, caplog, ENVOY) as run:
        lifetime = 100.0
        hass.config_entries.async_update_entry(
            run.entry,
            data={
                **run.entry.data,
                CONF_TOKEN: run.gateway.issue_token(lifetime=lifetime),
            },
        )
        await hass.config_entries.async_reload(run.entry.entry_id)
        await run.settle()
        issue_id = f"token_{run.entry.entry_id}"
        registry = ir.async_get(hass)
        found = registry.async_get_issue(DOMAIN, issue_id)
        assert found is not None
        assert found.translation_key == "token_expiring"
        hub = run.entry.runtime_data
        live = hub.coordinators[DataGroup.LIVE]
        seen: list[tuple[float, bool, str | None]] = []
        for _ in range(round(2 * DEVICES_SECONDS / STEP.total_seconds())):
            await run.step()
            found = registry.async_get_issue(DOMAIN, issue_id)
            seen.append(
                (
                    run.now,
                    live.last_update_success,
                    None if found is None else found.translation_key,
                )
            )
        assert not run.tracebacks()
    stopped = [(t, key) for t, ok, key in seen if not ok]
    assert stopped, "the token never stopped the polls"
    assert {key for _, key in stopped} == {"token_expired"}, stopped[:3]


@pytest.mark.parametrize("scenario", [ENVOY, LEGACY, VARSERVER])
async def test_connection_refused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
) -> None:
    """Five minutes of refused connections (the gateway is down), then back."""
    async with fault_run(hass, freezer, caplog, scenario) as run:
        start = run.now
        await run.gateway.go_offline()
        await run.run(300)
        await run.gateway.go_online()
        end = run.now
        recovery = await run.until_recovered(limit=4 * LIVE[scenario])
        outcome = run.outcome(f"refused ({scenario})", start, end, recovery)
        attempts = run.gateway.requests  # a refused connection never reaches it
        assert not run.tracebacks()
    assert outcome.glitches == 0, outcome.notes
    assert attempts
    assert recovery is not None
    assert recovery <= LIVE[scenario] + STEP.total_seconds(), recovery


async def test_slow_legacy_device_list(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A DeviceList that takes 90 s is waited for (the read timeout is 120 s), never
    asked again while it is being built, and nothing goes unavailable."""
    async with fault_run(hass, freezer, caplog, LEGACY) as run:
        personality = run.gateway.personality
        assert isinstance(personality, PvsLegacyPersonality)
        personality.device_list_delay = 90.0
        start = run.now
        always_available = True
        for _ in range(30 * 60 // 5):
            await run.step()
            always_available &= run.recovered()
        device_lists = [
            r for r in run.gateway.requests if r.time > start and "DeviceList" in r.path
        ]
        outcome = run.outcome("slow DeviceList 90 s (pvs legacy)", start, run.now, 0.0)
        assert not run.tracebacks()
        # Let the DeviceList being built finish before the gateway stops.
        personality.device_list_delay = 0.0
        await run.run(120)
    assert outcome.glitches == 0, outcome.notes
    assert always_available
    # One per 5-minute data interval at most (the 90 s answer delays the next).
    assert 3 <= len(device_lists) <= 7, len(device_lists)


@pytest.mark.parametrize("scenario", [ENVOY, VARSERVER, LEGACY])
async def test_stale_data(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
) -> None:
    """The gateway repeats the same data for 15 minutes: counters stand still,
    nothing glitches, polling stays at its rate."""
    async with fault_run(hass, freezer, caplog, scenario) as run:
        # The busiest minute of one whole cycle of the slower reads (setup left out).
        await run.run(300)
        before = run.max_per_minute(run.now - 290, run.now + 1)
        start = run.now
        run.gateway.add_fault(Fault(FaultName.STALE, duration=900))
        await run.run(900)
        end = run.now
        recovery = await run.until_recovered(limit=LIVE[scenario])
        outcome = run.outcome(f"stale ({scenario})", start, end, recovery)
        assert not run.tracebacks()
    assert outcome.glitches == 0, outcome.notes
    assert outcome.max_per_minute <= before + 5


async def test_ip_move(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The gateway gets a new address and announces it: the entry follows, no
    counter glitches, entities are back within one live interval."""
    async with fault_run(hass, freezer, caplog, LEGACY) as run:
        start = run.now
        async with SimulatedGateway.start(
            FIXTURES / LEGACY,
            clock=run.clock,
            options=SimulatorOptions(utc_offset_hours=0.0),
        ) as moved:
            await run.gateway.go_offline()
            await run.run(60)
            result = await hass.config_entries.flow.async_init(
                DOMAIN,
                context={"source": SOURCE_ZEROCONF},
                data=ZeroconfServiceInfo(
                    ip_address=ip_address(moved.host),
                    ip_addresses=[ip_address(moved.host)],
                    hostname="pvs6.local.",
                    name="pvs6._pvs6._tcp.local.",
                    port=moved.port,
                    type="_pvs6._tcp.local.",
                    properties={"serialnum": moved.identity.serial},
                ),
            )
            await run.settle()
            end = run.now
            recovery = await run.until_recovered(limit=2 * LIVE[LEGACY])
            outcome = run.outcome("IP move (pvs legacy)", start, end, recovery)
            assert not run.tracebacks()
            assert result["reason"] == "already_configured"
            assert run.entry.data["host"] == f"{moved.host}:{moved.port}"
    assert outcome.glitches == 0, outcome.notes
    assert recovery is not None
    assert recovery <= LIVE[LEGACY] + STEP.total_seconds()


@pytest.mark.parametrize("scenario", [ENVOY, VARSERVER, LEGACY])
async def test_firmware_update(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
) -> None:
    """The gateway is down for two minutes and comes back on new firmware, its
    counters restarted: everything is back within one live interval, the device
    shows the new version after the next poll that may bring firmware (devices,
    every 5 minutes), the entry reloads once at most, nothing glitches."""
    async with fault_run(hass, freezer, caplog, scenario) as run:
        serial = run.gateway.identity.serial
        devices = dr.async_get(hass)

        def firmware() -> str | None:
            device = devices.async_get_device_by_identifier(
                (DOMAIN, serial), run.entry.entry_id
            )
            assert device is not None
            return device.sw_version

        old = firmware()
        assert old
        reload = hass.config_entries.async_reload
        with patch.object(hass.config_entries, "async_reload", wraps=reload) as reloads:
            start = run.now
            await run.gateway.go_offline()
            run.gateway.add_fault(Fault(FaultName.FIRMWARE_UPDATE))
            await run.run(120)
            await run.gateway.go_online()
            end = run.now
            recovery = await run.until_recovered(limit=4 * LIVE[scenario])
            while firmware() == old and run.now - end <= DEVICES_SECONDS:
                await run.step()
            shown_after = run.now - end
            # A little longer: a second reload would show now.
            await run.run(2 * LIVE[scenario])
        outcome = run.outcome(
            f"firmware update ({scenario})", start, end, recovery, resets_allowed=1
        )
        new = firmware()
        assert not run.tracebacks()
    assert new == next_firmware(old)
    assert shown_after <= DEVICES_SECONDS + STEP.total_seconds(), shown_after
    assert reloads.call_count <= 1
    assert outcome.glitches == 0, outcome.notes
    assert recovery is not None
    assert recovery <= LIVE[scenario] + STEP.total_seconds(), recovery
