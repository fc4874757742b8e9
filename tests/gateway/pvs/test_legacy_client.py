"""PvsClient on the legacy dl_cgi API, against the simulated PVS and the fixtures."""

from datetime import UTC, datetime, timedelta
import re

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.errors import (
    FeatureUnavailableError,
    GatewayBusyError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.pvs import EssControlMode, PvsClient
from custom_components.solar_gateway.gateway.site import DeviceKind, Phase, Quantity
from simulator.faults import Fault, FaultName
from simulator.server import Received, SimulatedGateway
from tests.conftest import FIXTURES
from tests.gateway.conftest import Simulate

LIVE_AND_DEVICES = frozenset({DataGroup.LIVE, DataGroup.DEVICES})
DEVICE_LIST = "/cgi-bin/dl_cgi?Command=DeviceList"


async def _client(session: aiohttp.ClientSession, gw: SimulatedGateway) -> PvsClient:
    client = PvsClient(session, gw.url)
    await client.setup()
    return client


def _commands(gw: SimulatedGateway, command: str) -> list[Received]:
    """The ``dl_cgi`` requests of one ``Command``, whatever their other parameters."""
    return [
        r
        for r in gw.received("GET", "/cgi-bin/dl_cgi")
        if r.query.get("Command") == command
    ]


async def test_setup_picks_legacy_by_build(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Build 61415 is below 61840: the legacy API, told to the user."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    assert client.identity.api == "pvs_legacy"
    assert client.identity.serial == "ZT222185000549A7712"
    assert client.identity.model == "PVS6"
    assert [r.path for r in gw.requests] == ["/cgi-bin/dl_cgi/supervisor/info"]
    assert client.default_intervals[DataGroup.LIVE] == timedelta(minutes=5)
    assert all(
        client.minimum_intervals[group] >= timedelta(minutes=5)
        for group in (DataGroup.LIVE, DataGroup.DEVICES)
    )


async def test_transport_never_retries_and_waits_for_a_slow_device_list(
    session: aiohttp.ClientSession,
) -> None:
    """No retry loop against a fragile PVS; a DeviceList may take over a minute."""
    from custom_components.solar_gateway.gateway.pvs.legacy import SLOW_TIMEOUTS

    client = PvsClient(session, "192.0.2.1:8080")
    assert client.transport.retry.retries == 0
    assert client.transport.base_url == "http://192.0.2.1:8080"
    assert SLOW_TIMEOUTS.read > 60


async def test_one_device_list_gives_live_and_devices(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Site figures with net-meter semantics, every device, one request."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    snapshot = await client.refresh(LIVE_AND_DEVICES)
    assert len(_commands(gw, "DeviceList")) == 1
    figures = snapshot.figures
    assert figures.solar_power == pytest.approx(2440.6)
    assert figures.solar_energy == pytest.approx(8123451.2)
    assert figures.grid_power == pytest.approx(-1339.1)  # exporting
    assert figures.consumption_power == pytest.approx(2440.6 - 1339.1)
    assert figures.grid_import_energy == pytest.approx(4210559.9)
    assert figures.grid_export_energy == pytest.approx(6255440.0)
    assert figures.consumption_energy == pytest.approx(8123451.2 - 2044880.1)
    assert snapshot.data_time == datetime(2024, 7, 2, 18, 35, tzinfo=UTC)
    assert len(snapshot.of_kind(DeviceKind.INVERTER)) == 8
    assert len(snapshot.of_kind(DeviceKind.METER)) == 2
    gateway = snapshot.of_kind(DeviceKind.GATEWAY)[0]
    assert gateway.get(Quantity.UPTIME) == 412230
    inverter = snapshot.device("E00122205007801")
    assert inverter is not None
    assert inverter.get(Quantity.POWER) == pytest.approx(310.1)
    assert inverter.get(Quantity.WORKING) is True
    assert inverter.data_time == datetime(2024, 7, 2, 18, 33, 41, tzinfo=UTC)
    # In error while the rest of the array produces: a real problem.
    broken = snapshot.device("E00122205007808")
    assert broken is not None
    assert broken.get(Quantity.WORKING) is False
    assert broken.get(Quantity.VOLTAGE) is None  # "nan"
    assert broken.get(Quantity.CURRENT) is None  # ""
    meter = snapshot.device("PVS6M22217712c")
    assert meter is not None
    assert meter.get(Quantity.POWER, Phase.L1) == pytest.approx(-640.2)
    assert meter.get(Quantity.ENERGY_DELIVERED) == pytest.approx(4210559.9)


async def test_one_device_list_per_measurement(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """The groups polled one after the other get the DeviceList read for the first
    (and its battery status) until the PVS publishes the next, at its next DATATIME
    boundary; then it is read again."""
    gw = await simulate("pvs/legacy_sunvault")
    client = await _client(session, gw)
    data_time = datetime(2025, 3, 14, 20, 10, tzinfo=UTC)  # the fixture's DATATIME
    client.now = lambda: data_time + timedelta(seconds=20)  # type: ignore[method-assign]
    assert (await client.refresh(frozenset({DataGroup.LIVE}))).data_time == data_time
    gw.requests.clear()
    client.now = lambda: data_time + timedelta(minutes=4, seconds=59)  # type: ignore[method-assign]
    snapshot = await client.refresh(frozenset({DataGroup.DEVICES}))
    assert gw.requests == []
    assert snapshot.of_kind(DeviceKind.INVERTER)
    client.now = lambda: data_time + timedelta(minutes=5, seconds=20)  # type: ignore[method-assign]
    await client.refresh(frozenset({DataGroup.LIVE}))
    await client.refresh(frozenset({DataGroup.DEVICES}))
    assert [r.path for r in gw.requests] == [
        DEVICE_LIST,
        "/cgi-bin/dl_cgi/energy-storage-system/status",
    ]


async def test_a_device_list_without_data_time_serves_the_polls_due_with_it(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """No DATATIME to go by: the polls due together share one read; a minute on,
    the PVS is asked again."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    body = (FIXTURES / "pvs/legacy_basic/DeviceList.json").read_text()
    gw.answer(
        "GET", DEVICE_LIST, 200, re.sub(r'"(DATATIME)": "[^"]*"', r'"\1": ""', body)
    )
    now = datetime(2024, 7, 2, 18, 36, tzinfo=UTC)
    client.now = lambda: now  # type: ignore[method-assign]
    assert (await client.refresh(frozenset({DataGroup.LIVE}))).data_time is None
    await client.refresh(frozenset({DataGroup.DEVICES}))
    assert len(_commands(gw, "DeviceList")) == 1
    client.now = lambda: now + timedelta(minutes=1)  # type: ignore[method-assign]
    await client.refresh(frozenset({DataGroup.LIVE}))
    assert len(_commands(gw, "DeviceList")) == 2


async def test_next_data_due_follows_datatime(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """New DeviceList data is due 5 minutes after DATATIME, plus a margin."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    snapshot = await client.refresh(LIVE_AND_DEVICES)
    client.now = lambda: datetime(2024, 7, 2, 18, 37, 45, tzinfo=UTC)  # type: ignore[method-assign]
    due = client.next_data_due(DataGroup.DEVICES, snapshot)
    assert due == datetime(2024, 7, 2, 18, 40, 20, tzinfo=UTC)
    assert client.next_data_due(DataGroup.SETTINGS, snapshot) is None
    # Missed intervals: the next boundary after now.
    client.now = lambda: datetime(2024, 7, 2, 18, 51, tzinfo=UTC)  # type: ignore[method-assign]
    assert client.next_data_due(DataGroup.LIVE, snapshot) == datetime(
        2024, 7, 2, 18, 55, 20, tzinfo=UTC
    )


async def test_settings_commands(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Get_Comm (with the serial), GridProfileGet and CheckFW land in client.data.

    Only on demand (for a diagnostics capture): no poll reads them.
    """
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    await client.refresh(frozenset(DataGroup))
    assert not _commands(gw, "Get_Comm")
    assert not _commands(gw, "GridProfileGet")
    assert not _commands(gw, "CheckFW")
    gw.requests.clear()
    await client.read_support_commands()
    assert _commands(gw, "Get_Comm")[0].path == (
        "/cgi-bin/dl_cgi?Command=Get_Comm&SerialNumber=ZT222185000549A7712"
    )
    assert client.data.network is not None
    assert client.data.network.active_interface == "sta0"
    assert client.data.network.internet is True
    sta0 = client.data.network.interfaces[1]
    assert (sta0.ip_address, sta0.signal) == ("192.168.4.61", -57)
    assert client.data.grid_profile is not None
    assert client.data.grid_profile.active_name == "IEEE-1547-2018 Cat B"
    assert client.data.firmware is not None
    assert client.data.firmware.update_url is None
    assert not _commands(gw, "DeviceList")


async def test_missing_settings_endpoints_are_tolerated(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """An old firmware without these commands still refreshes."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    gw.answer(
        "GET",
        "/cgi-bin/dl_cgi?Command=GridProfileGet",
        200,
        {"result": "unknown command"},
    )
    gw.answer("GET", "/cgi-bin/dl_cgi?Command=CheckFW", 404, "nope")
    gw.answer(
        "GET",
        "/cgi-bin/dl_cgi?Command=Get_Comm&SerialNumber=ZT222185000549A7712",
        200,
        "{",
    )
    await client.read_support_commands()
    assert client.data.grid_profile is None
    assert client.data.firmware is None
    assert client.data.network is None


async def test_support_commands_leave_a_busy_pvs_alone(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """A PVS that answers 503 to the first support command is asked nothing more."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    gw.answer(
        "GET",
        "/cgi-bin/dl_cgi?Command=Get_Comm&SerialNumber=ZT222185000549A7712",
        503,
        "busy",
    )
    gw.requests.clear()
    await client.read_support_commands()
    assert client.data.network is None
    assert [r.path for r in gw.requests] == [
        "/cgi-bin/dl_cgi?Command=Get_Comm&SerialNumber=ZT222185000549A7712"
    ]


async def test_busy_page_backs_off(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """A 503 HTML page: 'gateway busy or restarting', and no request until later."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    gw.add_fault(Fault(FaultName.UNAVAILABLE, path=DEVICE_LIST))
    with pytest.raises(GatewayBusyError, match="gateway busy or restarting") as err:
        await client.refresh(LIVE_AND_DEVICES)
    assert err.value.retry_after >= 60
    with pytest.raises(GatewayBusyError):
        await client.refresh(LIVE_AND_DEVICES)
    assert len(_commands(gw, "DeviceList")) == 1


async def test_uptime_reset_means_restarting(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """dl_uptime lower than last time: the PVS rebooted; its answer is shown (the
    counter guard handles restarted counters) and nothing is held back."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    await client.refresh(LIVE_AND_DEVICES)
    device_list = FIXTURES / "pvs/legacy_basic/DeviceList.json"
    body = device_list.read_text().replace('"412230"', '"95"')
    gw.answer("GET", DEVICE_LIST, 200, body)
    later = datetime.now(UTC) + timedelta(minutes=5)
    client.now = lambda: later  # type: ignore[method-assign]
    snapshot = await client.refresh(LIVE_AND_DEVICES)
    supervisor = client.data.device_list.supervisor if client.data.device_list else None
    assert supervisor is not None
    assert supervisor.uptime_s == 95
    assert snapshot.figures.solar_power is not None
    assert client.transport.backoff_remaining == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"devices": [{"SERIAL": "x"', 200),  # truncated
        ('{"result": "error", "devices": []}', 200),
        ("[]", 200),
        ('{"result": "succeed"}', 200),
        ("<html>oops</html>", 200),
        ("server error", 500),
    ],
)
async def test_bad_device_lists_are_typed_errors(
    session: aiohttp.ClientSession, simulate: Simulate, body: str, status: int
) -> None:
    """Garbage from the PVS ends as UnexpectedPayloadError."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    gw.answer("GET", DEVICE_LIST, status, body)
    with pytest.raises(UnexpectedPayloadError):
        await client.refresh(LIVE_AND_DEVICES)


async def test_sunvault_devices_and_status(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Every SunVault part with its kind and parent, and the ESS status merged in."""
    gw = await simulate("pvs/legacy_sunvault")
    client = await _client(session, gw)
    snapshot = await client.refresh(LIVE_AND_DEVICES)
    assert len(gw.received("GET", "/cgi-bin/dl_cgi/energy-storage-system/status")) == 1
    ess = "00002XYZ9911_ZT231885000549W3304"
    kinds = {device.serial: device.kind for device in snapshot.devices}
    assert kinds["SY23188001234HUB"] is DeviceKind.TRANSFER_SWITCH
    assert kinds["SY23188005678MIO"] is DeviceKind.ESS_HUB
    assert kinds["SY23188009012PVD"] is DeviceKind.PV_DISCONNECT
    assert kinds["BC2318800777"] is DeviceKind.SYSTEM_CONTROLLER
    assert kinds["00002XYZ9911"] is DeviceKind.STORAGE_INVERTER
    assert kinds["BC231880077733750001"] is DeviceKind.BATTERY_MANAGEMENT
    assert kinds["M00123180A0101"] is DeviceKind.BATTERY
    assert kinds[ess] is DeviceKind.ESS
    battery = snapshot.device("M00123180A0101")
    assert battery is not None
    assert battery.parent == ess
    assert battery.get(Quantity.STATE_OF_CHARGE) == 81
    assert battery.get(Quantity.POWER) == pytest.approx(10.2 * 52.4)  # discharging
    pvd = snapshot.device("SY23188009012PVD")
    assert pvd is not None
    assert pvd.get(Quantity.RELAY_CLOSED) is True
    assert pvd.get(Quantity.VOLTAGE, Phase.L2) == pytest.approx(121.7)
    hub = snapshot.device("SY23188001234HUB")
    assert hub is not None
    assert snapshot.figures.grid_connected is True  # its contactor is CLOSED
    assert hub.get(Quantity.TEMPERATURE) == 19
    unit = snapshot.device(ess)
    assert unit is not None
    assert unit.get(Quantity.POWER) == pytest.approx(1050.0)
    mio = snapshot.device("SY23188005678MIO")
    assert mio is not None
    assert mio.get(Quantity.DC_VOLTAGE) == pytest.approx(11.372)
    figures = snapshot.figures
    assert figures.battery_power == pytest.approx(10.2 * 52.4 + 9.8 * 52.6)
    assert figures.battery_state_of_charge == pytest.approx(80.0)
    assert figures.grid_power == pytest.approx(812.3)
    assert client.data.ess_status is not None
    assert client.data.ess_status.hub_plus is not None


async def test_sunvault_status_unavailable_keeps_devices(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Without the battery status endpoint the DeviceList still maps."""
    gw = await simulate("pvs/legacy_sunvault")
    client = await _client(session, gw)
    gw.answer("GET", "/cgi-bin/dl_cgi/energy-storage-system/status", 404, "")
    snapshot = await client.refresh(LIVE_AND_DEVICES)
    assert client.data.ess_status is None
    assert snapshot.figures.battery_power is None
    assert len(snapshot.of_kind(DeviceKind.BATTERY)) == 2


async def test_controls_need_the_varserver(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """The legacy API has no SunVault controls."""
    gw = await simulate("pvs/legacy_sunvault")
    client = await _client(session, gw)
    with pytest.raises(FeatureUnavailableError):
        await client.set_control_mode(EssControlMode.BACKUP_ONLY)


async def test_probe_falls_back_to_device_list(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Firmware without supervisor/info is probed through the DeviceList."""
    gw = await simulate("pvs/legacy_basic")
    gw.answer("GET", "/cgi-bin/dl_cgi/supervisor/info", 404, "")
    client = await _client(session, gw)
    assert client.identity.api == "pvs_legacy"
    assert client.identity.firmware == "2024.1, Build 61415"
    # The probe's DeviceList is kept: a snapshot is ready without a request.
    assert client.snapshot().figures.solar_power == pytest.approx(2440.6)


async def test_snapshot_before_any_read_is_empty(
    session: aiohttp.ClientSession, simulate: Simulate
) -> None:
    """Nothing read yet: no figures, no devices (never zeros)."""
    gw = await simulate("pvs/legacy_basic")
    client = await _client(session, gw)
    snapshot = client.snapshot()
    assert snapshot.devices == ()
    assert snapshot.figures.solar_power is None
