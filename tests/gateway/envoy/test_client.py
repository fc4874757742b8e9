"""EnvoyClient on the project's fixture scenarios: figures, devices, features, polling."""

import json

import aiohttp
from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy import EnvoyClient
from custom_components.solar_gateway.gateway.envoy.endpoints import Endpoint
from custom_components.solar_gateway.gateway.errors import (
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.site import (
    Brand,
    ControlChange,
    ControlKey,
    DeviceKind,
    Phase,
    Quantity,
)
from custom_components.solar_gateway.gateway.transport import RetryPolicy, Timeouts
from simulator.faults import Fault, FaultName
from simulator.server import SimulatedGateway
from tests.gateway.conftest import Simulate

from .helpers import ENVOY_FIXTURES, envoy_client

ALL = frozenset(DataGroup)


async def _client(
    simulate: Simulate, session: aiohttp.ClientSession, scenario: str
) -> tuple[EnvoyClient, SimulatedGateway]:
    gw = await simulate(f"envoy/{scenario}")
    client = envoy_client(session, gw)
    await client.setup()
    return client, gw


async def test_metered_battery_site(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """CTs, IQ Batteries, system controller and relays map to the site model."""
    client, _ = await _client(simulate, session, "metered_battery")
    snapshot = await client.refresh(ALL)
    figures = snapshot.figures
    assert client.identity.brand is Brand.ENPHASE
    assert client.identity.api == "envoy"
    assert client.identity.firmware == "D8.2.4286"
    assert client.identity.metered is True
    assert figures.solar_power == 1500.0
    assert figures.solar_energy == 5000000.0
    assert figures.grid_power == 400.0
    assert figures.grid_import_energy == 3200000.0  # net CT delivered
    assert figures.grid_export_energy == 1000000.0  # net CT received
    assert figures.battery_power == 400.0  # storage CT, positive = discharging
    assert figures.battery_discharged_energy == 1800000.0
    assert figures.battery_charged_energy == 2000000.0
    # Load power from this poll's CTs (solar + grid + battery), its energy from the
    # same CTs' counters: the house's load, not the gateway's total consumption
    # (7.2 MWh), which also counts what charged the batteries.
    assert figures.consumption_power == 2300.0
    assert figures.consumption_energy == 5000000.0 + 3200000.0 - 1000000.0 - 200000.0
    assert figures.consumption_energy_today is None
    assert figures.battery_state_of_charge == 60.0
    assert figures.battery_available_energy == 6300.0
    assert figures.battery_capacity == 10500.0
    assert figures.backup_reserve == 30.0
    assert figures.grid_connected is True
    assert snapshot.data_time is not None

    kinds = {k: len(snapshot.of_kind(k)) for k in DeviceKind}
    assert kinds[DeviceKind.GATEWAY] == 1
    assert kinds[DeviceKind.METER] == 3
    assert kinds[DeviceKind.INVERTER] == 5
    assert kinds[DeviceKind.BATTERY] == 3
    assert kinds[DeviceKind.SYSTEM_CONTROLLER] == 1
    assert kinds[DeviceKind.RELAY] == 2
    assert kinds[DeviceKind.GENERATOR] == 0  # present: 0

    storage = snapshot.device("202400000789_ct_storage")
    assert storage is not None
    assert storage.parent == "202400000789"
    assert storage.get(Quantity.POWER, Phase.L1) == 200.0
    assert storage.get(Quantity.VOLTAGE, Phase.L2) == 120.0
    # Split phase: the third, empty channel is not a phase.
    assert storage.get(Quantity.POWER, Phase.L3) is None
    assert storage.get(Quantity.WORKING) is True

    inverter = snapshot.device("202330057501")
    assert inverter is not None
    assert inverter.get(Quantity.POWER) == 300.0
    assert inverter.get(Quantity.LIFETIME_ENERGY) == pytest.approx(1000000.0)
    assert inverter.get(Quantity.DC_VOLTAGE) == pytest.approx(35.2)
    assert inverter.get(Quantity.FREQUENCY) == pytest.approx(60.01)
    assert inverter.get(Quantity.TEMPERATURE) == 31.0
    assert inverter.get(Quantity.LAST_REPORT) is not None

    battery = snapshot.device("492320000140")
    assert battery is not None
    assert battery.parent == "482326107450"
    assert battery.get(Quantity.STATE_OF_CHARGE) == 61.0
    assert battery.get(Quantity.POWER) == 133.0
    assert battery.get(Quantity.APPARENT_POWER) == 140.0
    assert battery.get(Quantity.DC_SWITCH_ON) is True
    assert battery.model == "IQ Battery"  # 3.5 kWh units: a 3T or a 10T
    assert battery.model_id == "836-01826-r76"
    assert battery.firmware == "3.0.7545_rel/31.33"

    controller = snapshot.device("482326107450")
    assert controller is not None
    assert controller.get(Quantity.TEMPERATURE) == 35.0  # 95 °F
    assert controller.model == "IQ System Controller"

    relay = snapshot.device("482326107450_relay_NC1")
    assert relay is not None
    assert relay.name == "Pool pump"
    assert relay.get(Quantity.RELAY_CLOSED) is True
    other = snapshot.device("482326107450_relay_NO1")
    assert other is not None
    assert other.get(Quantity.RELAY_CLOSED) is False

    assert client.data.tariff is not None
    assert client.data.tariff.storage is not None
    assert client.data.tariff.storage.mode == "self-consumption"
    assert client.default_intervals[DataGroup.LIVE].total_seconds() == 15
    assert client.minimum_intervals[DataGroup.LIVE].total_seconds() == 5
    assert "/ivp/meters/readings" in client.responses()


async def test_metered_3phase(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Three phases per CT; a disabled storage CT is no meter and no battery."""
    client, _ = await _client(simulate, session, "metered_3phase")
    snapshot = await client.refresh(ALL)
    assert snapshot.figures.grid_power == -1770.0
    assert snapshot.figures.grid_export_energy == 3603000.0
    assert snapshot.figures.consumption_power == 1230.0
    assert snapshot.figures.battery_power is None
    assert snapshot.figures.battery_state_of_charge is None
    assert snapshot.figures.backup_reserve is None
    assert snapshot.figures.grid_connected is None
    meters = snapshot.of_kind(DeviceKind.METER)
    assert [m.name for m in meters] == ["Production CT", "Net consumption CT"]
    production = meters[0]
    assert [production.get(Quantity.POWER, p) for p in Phase] == [1010.0, 1000.0, 990.0]


@pytest.mark.parametrize(
    ("ct_active", "power", "energy"),
    [(True, 1500.0, 5000000.0), (False, 1490.0, 4990000.0)],
)
async def test_production_document_at_the_old_page(
    simulate: Simulate,
    session: aiohttp.ClientSession,
    ct_active: bool,
    power: float,
    energy: float,
) -> None:
    """Without production.json, firmware 7+ serves the same document at /production:
    its production CT where active, else its inverter totals, are the solar figures."""
    gw = await simulate("envoy/legacy_production")
    document = json.loads(
        (ENVOY_FIXTURES / "metered_battery" / "production.json").read_text()
    )
    for entry in document["production"]:
        if entry["type"] == "eim" and not ct_active:
            entry["activeCount"] = 0
    gw.answer("GET", "/production", 200, document)
    client = envoy_client(session, gw)
    await client.setup()
    assert Endpoint.PRODUCTION_PAGE in client.features
    snapshot = await client.first_refresh()
    assert snapshot.figures.solar_power == power
    assert snapshot.figures.solar_energy == energy


async def test_legacy_production(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Firmware 3.x: production from the HTML page, digest auth, nothing else."""
    gw = await simulate("envoy/legacy_production")
    client = envoy_client(session, gw)
    await client.setup()
    assert client.features == {Endpoint.PRODUCTION_PAGE, Endpoint.INVERTERS}
    gw.requests.clear()
    snapshot = await client.refresh(ALL)
    assert snapshot.figures.solar_power == 1020.0
    assert snapshot.figures.solar_energy == 14600000.0
    assert snapshot.figures.consumption_power is None
    assert snapshot.figures.grid_power is None
    assert len(snapshot.of_kind(DeviceKind.INVERTER)) == 4
    assert client.default_intervals[DataGroup.LIVE].total_seconds() == 60
    # Only endpoints detected at setup are read again.
    assert not gw.received("GET", "/ivp/meters/readings")


async def test_acb_site(simulate: Simulate, session: aiohttp.ClientSession) -> None:
    """AC Batteries from the inventory and production.json; disabled CTs ignored."""
    client, gw = await _client(simulate, session, "acb")
    gw.requests.clear()
    snapshot = await client.refresh(ALL)
    figures = snapshot.figures
    # CTs disabled on 8.2.4264+: /api/v1/production is stale, the inverters are right.
    assert figures.solar_power == 800.0
    assert figures.solar_energy == 3000000.0
    assert figures.consumption_power is None
    assert figures.battery_power == -250.0
    assert figures.battery_state_of_charge == 44.0
    assert figures.battery_available_energy == 1100.0
    acbs = snapshot.of_kind(DeviceKind.BATTERY)
    assert [b.serial for b in acbs] == ["121638000001", "121638000002"]
    assert acbs[0].get(Quantity.STATE_OF_CHARGE) == 43.0
    assert acbs[0].get(Quantity.STATE) == "charging"
    inverter = snapshot.device("121600000001")
    assert inverter is not None
    assert inverter.model == "Microinverter"
    assert inverter.model_id == "800-00631-r02"
    assert inverter.get(Quantity.PRODUCING) is True
    assert snapshot.of_kind(DeviceKind.METER) == []
    assert not gw.received("GET", "/ivp/meters/readings")


async def test_collar_site(simulate: Simulate, session: aiohttp.ClientSession) -> None:
    """Collar and C6 combiner devices; the collar gives the grid state."""
    client, gw = await _client(simulate, session, "collar")
    gw.requests.clear()
    snapshot = await client.refresh(ALL)
    assert snapshot.figures.grid_connected is True
    assert snapshot.figures.backup_reserve == 100.0
    collar = snapshot.of_kind(DeviceKind.COLLAR)[0]
    assert collar.get(Quantity.RELAY_CLOSED) is True
    assert collar.firmware == "3.0.6-D0"
    combiner = snapshot.of_kind(DeviceKind.COMBINER)[0]
    assert combiner.firmware == "0.1.20-D1"
    assert combiner.get(Quantity.STATE) == "ENCMN_C6_CC_READY"
    net = snapshot.device("202500000654_ct_net-consumption")
    assert net is not None
    assert net.get(Quantity.WORKING) is False  # status flags raised
    # 8.2.4264+ metered: /api/v1/production returns zeros; it is not even read.
    assert not gw.received("GET", "/api/v1/production")


async def test_groups_read_only_their_endpoints(
    simulate: Simulate, session: aiohttp.ClientSession, freezer: FrozenDateTimeFactory
) -> None:
    """A LIVE refresh reads live endpoints only, each once and each at its own rate.

    The CT readings carry the site's power; production.json (energy today and last
    seven days) every 5 minutes; battery SOC every minute; ensemble power (a storage
    CT carries the battery's) and the relays every 5 minutes; the generator endpoint,
    which says there is none, not again.
    """
    client, gw = await _client(simulate, session, "metered_battery")

    async def live_after(seconds: float) -> list[str]:
        freezer.tick(seconds)
        gw.requests.clear()
        await client.refresh(frozenset({DataGroup.LIVE}))
        return [r.path for r in gw.requests]

    assert await live_after(15) == ["/ivp/meters/readings"]
    assert await live_after(45) == ["/ivp/meters/readings", "/ivp/ensemble/secctrl"]
    assert await live_after(240) == [
        "/production.json?details=1",
        "/ivp/meters/readings",
        "/ivp/ensemble/power",
        "/ivp/ensemble/secctrl",
        "/ivp/ensemble/dry_contacts",
    ]
    assert await live_after(15) == ["/ivp/meters/readings"]
    gw.requests.clear()
    await client.refresh(frozenset({DataGroup.SETTINGS}))
    assert [r.path for r in gw.requests] == [
        "/ivp/meters",
        "/ivp/ss/dry_contact_settings",
        "/admin/lib/tariff",
    ]


async def test_a_ct_poll_rebuilds_only_what_it_changed(
    simulate: Simulate, session: aiohttp.ClientSession, freezer: FrozenDateTimeFactory
) -> None:
    """Each CT poll brings new site figures; the CT meters' own devices (their per
    phase detail) follow the readings every 5 minutes, not at every CT poll."""
    client, _ = await _client(simulate, session, "metered_battery")
    live = frozenset({DataGroup.LIVE})
    first = await client.refresh(live)
    freezer.tick(15)
    second = await client.refresh(live)
    assert second.figures is not first.figures
    meters = first.of_kind(DeviceKind.METER)
    assert len(meters) == 3
    assert all(
        a is b for a, b in zip(second.of_kind(DeviceKind.METER), meters, strict=True)
    )
    freezer.tick(300)  # relays, battery power and production are read again too
    third = await client.refresh(live)
    assert all(
        a is not b for a, b in zip(third.of_kind(DeviceKind.METER), meters, strict=True)
    )
    assert third.controls == first.controls  # read again, unchanged
    changed = await client.apply(ControlChange(ControlKey.BACKUP_RESERVE, None, 45))
    reserve = changed.control(ControlKey.BACKUP_RESERVE)
    assert reserve is not None
    assert reserve.value == 45


async def test_endpoint_gone_is_dropped(
    simulate: Simulate, session: aiohttp.ClientSession, freezer: FrozenDateTimeFactory
) -> None:
    """An endpoint answering 404 later is no longer read; a 500 is an error."""
    client, gw = await _client(simulate, session, "metered_battery")
    gw.answer("GET", "/ivp/ensemble/dry_contacts", 404, {})
    freezer.tick(300)
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert Endpoint.DRY_CONTACTS not in client.features
    gw.answer("GET", "/ivp/ensemble/secctrl", 500, "oops")
    freezer.tick(300)
    with pytest.raises(UnexpectedPayloadError):
        await client.refresh(frozenset({DataGroup.LIVE}))


async def test_pdm_failure_keeps_last_data(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """/ivp/pdm/device_data failing (late evening) does not fail the update."""
    client, gw = await _client(simulate, session, "metered_battery")
    gw.answer("GET", "/ivp/pdm/device_data", 200, "<html>busy</html>")
    snapshot = await client.refresh(frozenset({DataGroup.DEVICES}))
    inverter = snapshot.device("202330057501")
    assert inverter is not None
    assert inverter.get(Quantity.LIFETIME_ENERGY) == pytest.approx(1000000.0)


async def test_info_read_again_after_an_outage(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Out of reach, then back on new firmware: /info is read once more (an update
    reboots the gateway) and the new version taken; an unreadable /info after the
    next outage changes nothing."""
    gw = await simulate("envoy/metered_battery")
    client = envoy_client(session, gw, retry=RetryPolicy(retries=0, failure_backoff=0))
    await client.setup()
    await client.refresh(frozenset({DataGroup.LIVE}))

    async def outage() -> None:
        await gw.go_offline()
        with pytest.raises(GatewayConnectionError):
            await client.refresh(frozenset({DataGroup.LIVE}))
        await gw.go_online()

    def info_reads() -> int:
        return sum(1 for r in gw.requests if r.path == "/info")

    before = info_reads()
    await outage()
    gw.add_fault(Fault(FaultName.FIRMWARE_UPDATE))
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.identity.firmware == "D8.2.4287"
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert info_reads() == before + 1
    await outage()
    gw.add_fault(
        Fault(FaultName.ANSWER, path="/info", status=200, body="<html>busy</html>")
    )
    snapshot = await client.refresh(frozenset({DataGroup.LIVE}))
    assert snapshot.identity.firmware == "D8.2.4287"
    assert info_reads() == before + 2


async def test_truncated_payload_is_typed_error(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Truncated JSON from a live endpoint raises UnexpectedPayloadError."""
    client, gw = await _client(simulate, session, "metered_battery")
    gw.add_fault(Fault(FaultName.TRUNCATED_JSON, path="/ivp/meters/readings"))
    with pytest.raises(UnexpectedPayloadError):
        await client.refresh(frozenset({DataGroup.LIVE}))


async def test_not_set_up(session: aiohttp.ClientSession) -> None:
    """Using a client before setup is a typed error."""
    client = EnvoyClient(session, "127.0.0.1:1")
    with pytest.raises(GatewayError):
        _ = client.identity
    with pytest.raises(GatewayError):
        _ = client.data
    with pytest.raises(GatewayError):
        await client.refresh(ALL)
    with pytest.raises(GatewayError):
        await client.apply(ControlChange(ControlKey.GRID_CONNECTION, None, True))


async def test_probe_not_an_envoy(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A host answering /info with something else is not supported."""
    gw = await simulate("envoy/metered_battery")
    gw.answer("GET", "/info", 200, "<html><body>router</body></html>")
    with pytest.raises(NotSupportedGatewayError):
        await envoy_client(session, gw).setup()
    gw.answer("GET", "/info", 404, "")
    with pytest.raises(NotSupportedGatewayError):
        await envoy_client(session, gw).setup()
    gw.answer("GET", "/info", 200, "<envoy_info><device></device></envoy_info>")
    with pytest.raises(NotSupportedGatewayError):
        await envoy_client(session, gw).setup()


async def test_probe_nothing_there(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """A closed port is a connection error."""
    gw = await simulate("envoy/metered_battery")
    await gw.go_offline()
    with pytest.raises(GatewayConnectionError):
        await envoy_client(session, gw).setup()


async def test_probe_timeout(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """A host that never answers is a timeout error."""
    gw = await simulate("envoy/metered_battery")
    gw.add_fault(Fault(FaultName.HANG, path="/info"))
    client = envoy_client(
        session,
        gw,
        timeouts=Timeouts(connect=1, read=0.05),
        retry=RetryPolicy(retries=0),
    )
    with pytest.raises(GatewayTimeoutError):
        await client.setup()


def test_fixture_files_are_json() -> None:
    """Every JSON fixture parses (a broken fixture would hide as 'absent')."""
    for file in ENVOY_FIXTURES.rglob("*"):
        if (
            file.is_file()
            and file.name not in {"info", "production"}
            and "html" not in file.read_text()[:20].lower()
        ):
            json.loads(file.read_text())
