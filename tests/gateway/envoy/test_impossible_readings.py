"""Readings that cannot be true never reach the site figures as they are.

Each scenario is a whole set of answers reproducing what real gateways send: a
storage CT against the batteries' own report, a split-phase storage CT reading one
leg (8.3.6087), an AC Battery total days older than the rest of its document, a
capacity below the energy available, total consumption reported as net (8.3.5433).
"""

import logging

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy import EnvoyClient, site_mapping
from custom_components.solar_gateway.gateway.envoy.models import (
    CtType,
    Encharge,
    EnchargePower,
    EnsembleInventory,
    EnvoyData,
    EnvoyInfo,
    MeterChannel,
    MeterConfig,
    MeterReading,
)
from custom_components.solar_gateway.gateway.site import SiteFigures
from tests.gateway.conftest import Simulate

from .helpers import envoy_client

ALL = frozenset(DataGroup)
LIVE = frozenset({DataGroup.LIVE})


@pytest.fixture(autouse=True)
def _log_every_gateway_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the first warning of its own gateway."""
    monkeypatch.setattr(site_mapping, "_LOGGED", set(), raising=False)


async def _client(
    simulate: Simulate, session: aiohttp.ClientSession, scenario: str
) -> EnvoyClient:
    client = envoy_client(session, await simulate(f"envoy/{scenario}"))
    await client.setup()
    return client


async def test_storage_ct_against_the_batteries_gives_way(
    simulate: Simulate,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A storage CT charging while the batteries report discharging, which would make
    the house load negative: the batteries' own report is used, logged once."""
    client = await _client(simulate, session, "storage_ct_implausible")
    with caplog.at_level(logging.WARNING):
        figures = (await client.refresh(ALL)).figures
        again = (await client.refresh(LIVE)).figures
    # Solar 1500 W, exporting 2400 W: the storage CT's -400 W would leave -1300 W
    # for the house; the three batteries report 433 + 433 + 434 W discharging.
    assert figures.solar_power == 1500.0
    assert figures.grid_power == -2400.0
    assert figures.battery_power == pytest.approx(1300.0)
    assert figures.consumption_power == pytest.approx(400.0)
    assert again.consumption_power == pytest.approx(400.0)
    # The CT's counters stay the battery's energy counters.
    assert figures.battery_charged_energy == 2000000.0
    assert figures.battery_discharged_energy == 1800000.0
    warnings = [r for r in caplog.records if "contradicts" in r.getMessage()]
    assert len(warnings) == 1


async def test_capacity_is_never_below_the_available_energy(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """``Max_energy`` 10.5 kWh beside 10.71 kWh available: capacity 10.71 kWh."""
    client = await _client(simulate, session, "storage_ct_implausible")
    figures = (await client.refresh(ALL)).figures
    assert figures.battery_available_energy == 10710.0
    assert figures.battery_capacity == 10710.0


async def test_storage_ct_reading_one_leg_is_absent(
    simulate: Simulate,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """8.3.6087: a split-phase storage CT reads one leg now and then (about half the
    power); that read's battery power is the batteries' own report instead."""
    client = await _client(simulate, session, "storage_ct_one_leg")
    assert client.identity.firmware == "D8.3.6087"
    with caplog.at_level(logging.WARNING):
        half = (await client.refresh(ALL)).figures
        whole = (await client.refresh(LIVE)).figures
    # Whole: 200 W on each leg, 400 W; one leg: 200 W. The batteries report
    # 133 + 134 + 135 W.
    assert whole.battery_power == 400.0
    assert whole.consumption_power == 1500.0 + 400.0 + 400.0
    assert half.battery_power == pytest.approx(402.0)
    assert half.consumption_power == pytest.approx(1500.0 + 400.0 + 402.0)
    assert len([r for r in caplog.records if "one leg" in r.getMessage()]) == 1


async def test_stale_ac_battery_total_is_not_live(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """An AC Battery total two days older than the rest of production.json: its
    260 W are not added to the batteries' power, its charge not used."""
    client = await _client(simulate, session, "acb_with_iq_battery")
    figures = (await client.first_refresh()).figures
    assert figures.battery_power == 105.0  # the IQ Battery's own report alone
    # The aggregate state of charge and energy come from the battery controller.
    assert figures.battery_state_of_charge == 39.0
    assert figures.battery_available_energy == 1890.0 + 625.0


async def test_total_consumption_reported_as_net_is_corrected(
    simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """8.3.5433 reports total consumption equal to net consumption; where it is the
    consumption's source (the CT readings refused) the total is net + production."""
    client = await _client(simulate, session, "total_is_net")
    first = (await client.first_refresh()).figures
    # production 3000 W and 6.3 MWh; net -1770 W and -1.197 MWh.
    assert first.consumption_power == pytest.approx(3000.0 - 1770.0)
    assert first.consumption_energy == pytest.approx(6300000.0 - 1197000.0)
    assert first.grid_power == -1770.0
    # The gateway keeps no day or week of net consumption: the total's are unknown.
    assert first.consumption_energy_today is None
    assert first.consumption_energy_last_seven_days is None
    # Five minutes on: 250 Wh produced, 102.5 Wh net; the house used 352.5 Wh.
    later = (await client.refresh(ALL)).figures
    assert later.consumption_energy == pytest.approx(first.consumption_energy + 352.5)


def test_negative_house_load_is_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    """CTs that add up to a negative load without any battery to blame: absent,
    logged once."""
    with caplog.at_level(logging.WARNING):
        assert _figures_with_load(-350.0).consumption_power is None
        assert _figures_with_load(-360.0).consumption_power is None
    assert len([r for r in caplog.records if "negative" in r.getMessage()]) == 1
    assert _figures_with_load(0.0).consumption_power == 0.0


def _figures_with_load(load: float) -> SiteFigures:
    """Figures of a site whose production and net CTs add up to ``load``."""

    def channel(eid: int, power: float) -> MeterChannel:
        return MeterChannel(
            eid, None, 1000.0, 10.0, power, None, None, None, None, None, None
        )

    configs = tuple(
        MeterConfig(eid, "enabled", kind, "single", 1, "normal")
        for eid, kind in ((1, CtType.PRODUCTION), (2, CtType.NET_CONSUMPTION))
    )
    data = EnvoyData(
        info=EnvoyInfo("202400000001", None, "D8.2.4286", True),
        meter_configs=configs,
        meter_readings=(
            MeterReading.of(channel(1, 1000.0), ()),
            MeterReading.of(channel(2, load - 1000.0), ()),
        ),
    )
    return site_mapping.build_figures(data)


def test_storage_ct_sign_against_the_same_reads_report_gives_way() -> None:
    """A storage CT discharging 800 W while the batteries, read with it, report
    charging 900 W: the report stands. A report read minutes before the CT may be
    of another moment, so its sign alone proves nothing then."""
    data = _site(production=2000.0, net=500.0, storage=800.0, batteries=-900.0)
    same_read = site_mapping.build_figures(data, report_current=True)
    assert same_read.battery_power == -900.0
    assert same_read.consumption_power == 2000.0 + 500.0 - 900.0
    older_report = site_mapping.build_figures(data)
    assert older_report.battery_power == 800.0
    # Noise of either sign is no contradiction.
    quiet = _site(production=2000.0, net=500.0, storage=60.0, batteries=-80.0)
    assert site_mapping.build_figures(quiet, report_current=True).battery_power == 60.0


def _site(
    *, production: float, net: float, storage: float, batteries: float
) -> EnvoyData:
    """A site of production, net consumption and storage CTs and one IQ Battery."""

    def channel(eid: int, power: float) -> MeterChannel:
        return MeterChannel(
            eid, None, 1000.0, 10.0, power, None, None, None, None, None, None
        )

    kinds = (CtType.PRODUCTION, CtType.NET_CONSUMPTION, CtType.STORAGE)
    powers = (production, net, storage)
    return EnvoyData(
        info=EnvoyInfo("202400000002", None, "D8.2.4286", True),
        meter_configs=tuple(
            MeterConfig(eid, "enabled", kind, "single", 1, "normal")
            for eid, kind in enumerate(kinds, 1)
        ),
        meter_readings=tuple(
            MeterReading.of(channel(eid, power), ())
            for eid, power in enumerate(powers, 1)
        ),
        ensemble=EnsembleInventory(
            encharges=(
                Encharge(
                    *("482300000001", None, None, None, 50.0, None, None, True),
                    *(False, False, None, 3500.0, None, None, None),
                ),
            )
        ),
        ensemble_power=(EnchargePower("482300000001", batteries, None, None),),
    )
