"""Conformance of the Envoy client with every capture set in ``corpus_root()/envoy``.

Each set is served unchanged by the simulator. The expectations are computed here from
the files themselves, the same way for every set, so the test holds for captures it
has never seen.
"""

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.capture import name_for_path
from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy.endpoints import Endpoint
from custom_components.solar_gateway.gateway.site import DeviceKind, Quantity
from tests.captures import captured_json, captured_status
from tests.conftest import corpus_root
from tests.gateway.conftest import Simulate

from .helpers import envoy_client

ENVOY_CORPUS = corpus_root() / "envoy"
SETS = (
    sorted(p for p in ENVOY_CORPUS.iterdir() if p.is_dir())
    if ENVOY_CORPUS.is_dir()
    else []
)

pytestmark = pytest.mark.skipif(not SETS, reason="no Envoy captures in the corpus")


def _file(folder: Path, path_qs: str) -> Path | None:
    """The file holding the answer to ``path_qs``, if any."""
    names = [name_for_path(path_qs)]
    if "?" in path_qs:
        names.append(name_for_path(path_qs.split("?", 1)[0]))
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None


def _json(folder: Path, path_qs: str) -> object:
    """The data a set holds for an endpoint, else None (absent, refused, an error
    page or an error document)."""
    file = _file(folder, path_qs)
    return None if file is None else captured_json(file)


def _expected_present(folder: Path, endpoint: Endpoint) -> bool:
    file = _file(folder, endpoint.value)
    if file is None or captured_status(file) != 200:
        return False
    body = file.read_text(errors="replace")
    if endpoint is Endpoint.PRODUCTION_PAGE:
        # JSON on new firmware, an HTML page with a production table on old.
        return body.lstrip().startswith("{") or "Since Installation" in body
    return _json(folder, endpoint.value) is not None


# Endpoints that report production, one of which every Envoy answers.
_PRODUCTION_SOURCES = (
    Endpoint.PRODUCTION_JSON,
    Endpoint.API_PRODUCTION,
    Endpoint.PRODUCTION_PAGE,
    Endpoint.INVERTERS,
    Endpoint.PDM_DEVICE_DATA,
)


def _not_asked(folder: Path) -> set[Endpoint]:
    """Endpoints setup does not ask, because others in the set carry their data."""
    if _expected_present(folder, Endpoint.PRODUCTION_JSON):
        # The old production page carries nothing production.json does not.
        return {Endpoint.PRODUCTION_PAGE}
    return set()


@pytest.mark.parametrize("folder", SETS, ids=[p.name for p in SETS])
async def test_capture_set(
    folder: Path, simulate: Simulate, session: aiohttp.ClientSession
) -> None:
    """Probe, setup and a full refresh succeed and match the files' figures."""
    client = envoy_client(session, await simulate(folder))
    await client.setup()
    snapshot = await client.refresh(frozenset(DataGroup))

    info = (folder / "info").read_text()
    assert f"<sn>{client.identity.serial}</sn>" in info
    assert f"<software>{client.identity.firmware}</software>" in info

    expected = {e for e in Endpoint if _expected_present(folder, e)}
    # Setup asks only what feeds something: never an endpoint another one carries,
    # and every endpoint present but not asked is one nothing needs on this site.
    assert client.features <= expected
    assert not client.features & _not_asked(folder)
    for endpoint in expected - client.features:
        assert not client._needed(endpoint, client.data, client.features), endpoint

    gateway = snapshot.of_kind(DeviceKind.GATEWAY)
    assert [d.serial for d in gateway] == [client.identity.serial]

    # Inverters: every microinverter of the list (AC Batteries, devType 11, are not
    # inverters), else every active pcu of the device data; each one's power from
    # whichever of the two reported last.
    listed = _json(folder, Endpoint.INVERTERS.value)
    pdm = _json(folder, Endpoint.PDM_DEVICE_DATA.value)
    records = {
        d["sn"]: d
        for d in (pdm.values() if isinstance(pdm, dict) else ())
        if isinstance(d, dict) and d.get("devName") == "pcu"
    }
    micros = (
        [i for i in listed if isinstance(listed, list) and i.get("devType") != 11]
        if isinstance(listed, list)
        else []
    )
    expected_power: dict[str, float] = {}
    for item in micros:
        record = records.get(item["serialNumber"])
        reading = record["channels"][0] if record else None
        if reading and reading["lastReading"]["endDate"] > item["lastReportDate"]:
            expected_power[item["serialNumber"]] = float(reading["watts"]["now"])
        else:
            expected_power[item["serialNumber"]] = float(item["lastReportWatts"])
    if not micros:
        for serial, record in records.items():
            if record.get("active") is not False:
                expected_power[serial] = float(record["channels"][0]["watts"]["now"])
    inverters = snapshot.of_kind(DeviceKind.INVERTER)
    assert [d.serial for d in inverters] == list(expected_power)
    for device in inverters:
        assert device.get(Quantity.POWER) == pytest.approx(
            expected_power[device.serial]
        )
    acbs = [i["serialNumber"] for i in listed or [] if i.get("devType") == 11]
    batteries = {d.serial for d in snapshot.of_kind(DeviceKind.BATTERY)}
    assert set(acbs) <= batteries

    # Detailed inverter lifetime energy: joules produced / 3600 per inverter.
    if records:
        joules = sum(
            records[serial]["channels"][0]["lifetime"].get("joulesProduced", 0)
            for serial in expected_power
            if serial in records
        )
        lifetime = sum(float(d.get(Quantity.LIFETIME_ENERGY) or 0) for d in inverters)
        assert lifetime == pytest.approx(joules / 3600)

    # CTs: every enabled CT is a meter device with the readings' energies.
    configs = _json(folder, Endpoint.METERS.value)
    readings = _json(folder, Endpoint.METER_READINGS.value)
    enabled = [c for c in configs or [] if c.get("state") == "enabled"]
    meters = snapshot.of_kind(DeviceKind.METER)
    assert len(meters) == len(enabled)
    by_eid = {r["eid"]: r for r in readings or []}
    for config, meter in zip(enabled, meters, strict=True):
        reading = by_eid.get(config["eid"])
        assert meter.serial.endswith(f"_ct_{config['measurementType']}")
        if reading is None:
            continue
        assert meter.get(Quantity.ENERGY_DELIVERED) == pytest.approx(
            reading["actEnergyDlvd"]
        )
        assert meter.get(Quantity.ENERGY_RECEIVED) == pytest.approx(
            reading["actEnergyRcvd"]
        )
        assert meter.get(Quantity.POWER) == pytest.approx(reading["activePower"])
        if config["measurementType"] == "net-consumption":
            assert snapshot.figures.grid_import_energy == pytest.approx(
                reading["actEnergyDlvd"]
            )
            assert snapshot.figures.grid_export_energy == pytest.approx(
                reading["actEnergyRcvd"]
            )
        if config["measurementType"] == "production":
            assert snapshot.figures.solar_energy == pytest.approx(
                reading["actEnergyDlvd"]
            )
        if config["measurementType"] == "storage":
            assert snapshot.figures.battery_discharged_energy == pytest.approx(
                reading["actEnergyDlvd"]
            )
    if not any(c["measurementType"] == "net-consumption" for c in enabled):
        assert snapshot.figures.grid_import_energy is None

    # Ensemble devices: one device per battery, controller, collar and C6 combiner.
    inventory = _json(folder, Endpoint.ENSEMBLE_INVENTORY.value)
    kinds = {
        "ENCHARGE": DeviceKind.BATTERY,
        "ENPOWER": DeviceKind.SYSTEM_CONTROLLER,
        "COLLAR": DeviceKind.COLLAR,
        "C6 COMBINER CONTROLLER": DeviceKind.COMBINER,
    }
    for section in inventory if isinstance(inventory, list) else []:
        if section.get("type") in kinds:
            devices = {d.serial for d in snapshot.of_kind(kinds[section["type"]])}
            assert {d["serial_num"] for d in section["devices"]} <= devices

    # A solar figure exists wherever the set holds a production source.
    if any(_expected_present(folder, e) for e in _PRODUCTION_SOURCES):
        assert snapshot.figures.solar_power is not None
    solar = _expected_solar(folder, enabled, by_eid, info)
    # A capture set of a few endpoints may lack every production source.
    if solar is not None:
        assert snapshot.figures.solar_power == pytest.approx(solar)


def _expected_solar(
    folder: Path,
    enabled: list[dict[str, Any]],
    readings: dict[int, dict[str, Any]],
    info: str,
) -> float | None:
    """Solar power from the raw files: production CT (plus third-party PV), else the
    production total, else /api/v1/production where it is sound, else the inverters."""
    types = {c["measurementType"]: c["eid"] for c in enabled}
    third = float(readings.get(types.get("pv3p", -1), {}).get("activePower", 0))
    if "production" in types and types["production"] in readings:
        return float(readings[types["production"]]["activePower"]) + third
    production = _json(folder, Endpoint.PRODUCTION_JSON.value)
    entries = production.get("production", []) if isinstance(production, dict) else []
    for entry in entries:
        if (
            entry.get("type") == "eim"
            and entry.get("activeCount")
            and entry.get("whLifetime")
        ):
            return float(entry["wNow"]) + third
    api = _json(folder, Endpoint.API_PRODUCTION.value)
    if isinstance(api, dict) and "wattsNow" in api:
        counters = [api.get(k) for k in ("wattHoursToday", "wattHoursSevenDays")]
        counters.append(api.get("wattHoursLifetime"))
        version = tuple(
            int(x)
            for x in info.split("<software>")[1]
            .split("<", maxsplit=1)[0][1:]
            .split(".")
        )
        stale = "<imeter>true</imeter>" in info and version >= (8, 2, 4264)
        if any(counters) and not stale:
            return float(api["wattsNow"]) + third
    for entry in entries:
        if entry.get("type") == "inverters" and entry.get("activeCount"):
            return float(entry["wNow"]) + third
    return None
