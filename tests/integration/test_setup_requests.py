"""What each gateway is asked at setup: each endpoint that feeds something, once, and
nothing an earlier setup already learned (identity, endpoints the firmware lacks).

The read that detects the features is the first refresh; the token is verified by
the gateway on every read, so it is asked about the token only when a read is refused.
"""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solar_gateway.const import CONF_IDENTIFIED, CONF_TOKEN, DOMAIN
from simulator.clock import ManualClock
from simulator.faults import Fault, FaultName
from simulator.server import SimulatedGateway
from tests.conftest import make_token

from .simulated import FIXTURES, NOON, OPTIONS, entry_data
from .test_polling_load import run_for

# Let the integration reach the simulator on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")

# The metered Envoy with CTs, IQ Batteries, a system controller and relays. Its
# firmware answers 404 to the AC Battery inventory, the export limit and the
# production cap; an owner's token is never sent to the installer's production record.
METERED_BATTERY_FOUND = [
    "/ivp/meters",
    "/ivp/meters/readings",
    "/ivp/pdm/device_data",
    "/api/v1/production/inverters",
    "/production.json?details=1",
    "/ivp/ensemble/inventory",
    "/ivp/ensemble/power",
    "/ivp/ensemble/secctrl",
    "/ivp/ensemble/generator",
    "/ivp/ensemble/dry_contacts",
    "/ivp/ss/dry_contact_settings",
    "/admin/lib/tariff",
]
METERED_BATTERY_ABSENT = [
    "/inventory.json?deleted=1",
    "/ivp/ss/pel_settings",
    "/ivp/sc/pvlimit",
]
# Started from what an earlier setup learned, per gateway kind.
STARTS = {
    "envoy/metered_battery": METERED_BATTERY_FOUND,
    # Firmware 3.9 (digest): the inverters (each digest read is challenged once
    # first), then the production page, as neither production document answers
    # (production.json is a 200 "Page Not Found" there, asked again: no firmware
    # status says it is absent). The device data stops answering on some evenings,
    # so an answer without it is never taken as its absence.
    "envoy/legacy_production": [
        "/ivp/pdm/device_data",
        "/api/v1/production/inverters",
        "/api/v1/production/inverters",
        "/production.json?details=1",
        "/production",
    ],
    "pvs/legacy_basic": ["/cgi-bin/dl_cgi?Command=DeviceList"],
    "pvs/varserver": [
        "/auth?login",
        "/vars?match=/sys/&fmt=obj",
        "/vars?match=/ess/config/dcm/&fmt=obj",
    ],
}


def sent(gateway: SimulatedGateway, since: int = 0) -> list[str]:
    """The requests ``gateway`` received from the ``since``-th on, in order."""
    return [r.path for r in gateway.requests[since:]]


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the (added) entry up and wait for it to settle."""
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_an_entry_from_the_config_flow_starts_from_what_the_flow_learned(
    hass: HomeAssistant,
) -> None:
    """The config flow finds the gateway and its features; the entry it creates
    starts from them: no /info, no token check, no endpoint the firmware lacks."""
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        data = entry_data(gateway)
        with patch(
            "custom_components.solar_gateway.async_setup_entry", return_value=True
        ):
            result = await hass.config_entries.flow.async_init(
                DOMAIN, context={"source": SOURCE_USER}
            )
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {CONF_HOST: data[CONF_HOST]}
            )
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"next_step_id": "token"}
            )
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {CONF_TOKEN: data[CONF_TOKEN]}
            )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        # The flow itself: identify (/info on https), then what setup reads.
        flow = sent(gateway)
        assert flow[0] == "/info"
        assert "/auth/check_jwt" not in flow
        assert sorted(result["data"][CONF_IDENTIFIED]["absent"]) == sorted(
            METERED_BATTERY_ABSENT
        )

        entry = MockConfigEntry(
            domain=DOMAIN,
            title=result["title"],
            unique_id=result["result"].unique_id,
            data=result["data"],
        )
        entry.add_to_hass(hass)
        before = len(gateway.requests)
        await set_up(hass, entry)
        assert entry.state is ConfigEntryState.LOADED
        assert sent(gateway, before) == METERED_BATTERY_FOUND
        await hass.config_entries.async_unload(entry.entry_id)


async def test_an_entry_without_learned_data_probes_everything_once(
    hass: HomeAssistant,
) -> None:
    """An entry stored before identification was kept: /info, then every endpoint
    worth asking, each once; what answered absent is kept for the next start."""
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id=gateway.identity.serial, data=entry_data(gateway)
        )
        entry.add_to_hass(hass)
        await set_up(hass, entry)
        assert sent(gateway) == [
            "/info",
            "/ivp/meters",
            "/ivp/meters/readings",
            "/inventory.json?deleted=1",
            "/ivp/pdm/device_data",
            "/api/v1/production/inverters",
            "/production.json?details=1",
            "/ivp/ensemble/inventory",
            "/ivp/ensemble/power",
            "/ivp/ensemble/secctrl",
            "/ivp/ensemble/generator",
            "/ivp/ensemble/dry_contacts",
            "/ivp/ss/dry_contact_settings",
            "/admin/lib/tariff",
            "/ivp/ss/pel_settings",
            "/ivp/sc/pvlimit",
        ]
        assert sorted(entry.data[CONF_IDENTIFIED]["absent"]) == sorted(
            METERED_BATTERY_ABSENT
        )
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("scenario", sorted(STARTS))
async def test_a_restart_asks_only_what_feeds_the_first_refresh(
    hass: HomeAssistant, scenario: str
) -> None:
    """Per gateway kind, the requests of a start from what the last setup learned."""
    async with SimulatedGateway.start(
        FIXTURES / scenario, clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id=gateway.identity.serial, data=entry_data(gateway)
        )
        entry.add_to_hass(hass)
        await set_up(hass, entry)
        learned = entry.data[CONF_IDENTIFIED]
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()

        before = len(gateway.requests)
        await set_up(hass, entry)
        assert entry.state is ConfigEntryState.LOADED
        assert sent(gateway, before) == STARTS[scenario]
        assert entry.data[CONF_IDENTIFIED] == learned
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("stored", "asked"),
    [
        # A path this version does not read (another version's) is left aside.
        (
            ["/ivp/ss/pel_settings", "/no/such/endpoint"],
            ["/inventory.json?deleted=1", "/ivp/sc/pvlimit"],
        ),
        # Edited storage: nothing is known absent, each is asked.
        ("/ivp/ss/pel_settings", METERED_BATTERY_ABSENT),
        ([1, 2], METERED_BATTERY_ABSENT),
    ],
)
async def test_stored_absences_are_read_as_far_as_they_make_sense(
    hass: HomeAssistant, stored: object, asked: list[str]
) -> None:
    """Only endpoints this version knows are taken as absent; the next start stores
    what the gateway answered."""
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id=gateway.identity.serial, data=entry_data(gateway)
        )
        entry.add_to_hass(hass)
        await set_up(hass, entry)
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        learned = {**entry.data[CONF_IDENTIFIED], "absent": stored}
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_IDENTIFIED: learned}
        )

        before = len(gateway.requests)
        await set_up(hass, entry)
        requests = sent(gateway, before)
        assert "/info" not in requests
        assert [p for p in requests if p in METERED_BATTERY_ABSENT] == asked
        assert sorted(entry.data[CONF_IDENTIFIED]["absent"]) == sorted(
            METERED_BATTERY_ABSENT
        )
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("learned", [True, False])
async def test_a_refused_token_starts_reauthentication_at_setup(
    hass: HomeAssistant, learned: bool
) -> None:
    """A token the gateway no longer accepts: the first read is refused, the gateway
    is asked once about the token, and the user is asked for a new one."""
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id=gateway.identity.serial, data=entry_data(gateway)
        )
        entry.add_to_hass(hass)
        if learned:
            await set_up(hass, entry)
            assert await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
        refused = make_token(marker="revoked")  # not one this gateway issued
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_TOKEN: refused}
        )

        before = len(gateway.requests)
        await set_up(hass, entry)
        assert entry.state is ConfigEntryState.SETUP_ERROR
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
        probe = [] if learned else ["/info"]
        assert sent(gateway, before) == [*probe, "/ivp/meters", "/auth/check_jwt"]


async def test_an_expired_token_starts_reauthentication_without_a_request(
    hass: HomeAssistant,
) -> None:
    """A token whose claims say it has run out, and no account to renew it: the user
    is asked for a new one; the gateway is not asked anything."""
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=ManualClock(NOON), options=OPTIONS
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id=gateway.identity.serial, data=entry_data(gateway)
        )
        entry.add_to_hass(hass)
        await set_up(hass, entry)
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        hass.config_entries.async_update_entry(
            entry,
            data={**entry.data, CONF_TOKEN: gateway.issue_token(lifetime=-1)},
        )

        before = len(gateway.requests)
        await set_up(hass, entry)
        assert entry.state is ConfigEntryState.SETUP_ERROR
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
        assert sent(gateway, before) == []


async def test_new_firmware_installed_while_stopped_is_noticed_within_the_hour(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A start from what the entry stored reads no /info; the hourly settings poll
    does, so a firmware installed while Home Assistant was stopped is noticed then:
    the entry reloads, probes afresh and shows the new version."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    async with SimulatedGateway.start(
        FIXTURES / "envoy/metered_battery", clock=clock, options=OPTIONS
    ) as gateway:
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id=gateway.identity.serial, data=entry_data(gateway)
        )
        entry.add_to_hass(hass)
        await set_up(hass, entry)
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        gateway.add_fault(Fault(FaultName.FIRMWARE_UPDATE))
        firmware = gateway.identity.firmware
        assert entry.data[CONF_IDENTIFIED]["firmware"] != firmware

        await set_up(hass, entry)
        before = len(gateway.requests)
        await run_for(hass, freezer, clock, timedelta(minutes=61))
        assert sent(gateway, before).count("/info") == 2  # the hourly read, the probe
        assert entry.state is ConfigEntryState.LOADED
        assert entry.data[CONF_IDENTIFIED]["firmware"] == firmware
        device = dr.async_get(hass).async_get_device_by_identifier(
            (DOMAIN, gateway.identity.serial), entry.entry_id
        )
        assert device is not None
        assert device.sw_version == firmware
        await hass.config_entries.async_unload(entry.entry_id)
