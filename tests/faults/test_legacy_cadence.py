"""A legacy PVS is read once per 5-minute measurement, whichever groups need it.

Both data groups (power, devices) come from one ``DeviceList``; in a real Home
Assistant their polls fall due a fraction of a second apart, so the timers here fire
at their own time (``run_timers``), not together in one 5 s step.
"""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from custom_components.solar_gateway.gateway.pvs.legacy import (
    DEVICE_LIST_PATH,
    ESS_STATUS_PATH,
)

from .harness import fault_run

HOURS = 2
# The PVS measures every 5 minutes: 12 DeviceLists an hour at most.
PER_HOUR = 12


@pytest.mark.parametrize("scenario", ["pvs/legacy_basic", "pvs/legacy_sunvault"])
async def test_one_device_list_per_measurement(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
) -> None:
    """Two hours: at most 24 DeviceList reads, and as many battery-status reads
    as DeviceLists on a SunVault site (none without one)."""
    async with fault_run(hass, freezer, caplog, scenario) as run:
        start = run.now
        await run.run_timers(HOURS * 3600)
        sent = [r.path for r in run.gateway.requests if r.time > start]
        assert not run.tracebacks()
    device_lists = sent.count(DEVICE_LIST_PATH)
    statuses = sent.count(ESS_STATUS_PATH)
    # Every measurement read (a poll of each group), none read twice.
    assert HOURS * PER_HOUR - 1 <= device_lists <= HOURS * PER_HOUR, sent
    assert set(sent) <= {DEVICE_LIST_PATH, ESS_STATUS_PATH}, set(sent)
    if scenario.endswith("sunvault"):
        assert statuses == device_lists
    else:
        assert statuses == 0
