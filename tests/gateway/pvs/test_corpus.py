"""Conformance of the PVS parsers over every real capture in the corpus.

Generic: each capture folder under ``corpus_root()/pvs`` is parsed and checked
against what its own files contain, so the test holds for captures never seen.
"""

import json
from pathlib import Path
import re

import pytest

from custom_components.solar_gateway.gateway.pvs.parsers.legacy import (
    ESS_DEVICE_TYPES,
    parse_device_list,
)
from custom_components.solar_gateway.gateway.pvs.parsers.varserver import parse_vars
from custom_components.solar_gateway.gateway.pvs.site_mapping import (
    ESS_PART_KINDS,
    legacy_snapshot,
    pvs_identity,
    varserver_snapshot,
)
from custom_components.solar_gateway.gateway.site import DeviceKind, Quantity
from tests.conftest import corpus_root

PVS_CORPUS = corpus_root() / "pvs"


def _captures(name: str) -> list[Path]:
    if not PVS_CORPUS.is_dir():
        return []
    return sorted(PVS_CORPUS.glob(f"*/{name}"))


DEVICE_LISTS = _captures("DeviceList.json")
VARS_DUMPS = _captures("vars_fmt_obj.json")
pytestmark = pytest.mark.skipif(
    not PVS_CORPUS.is_dir(), reason="no PVS corpus at SOLAR_GATEWAY_CORPUS"
)


def _float(value: object) -> float | None:
    try:
        result = float(value)  # type: ignore[arg-type]
    except TypeError, ValueError:
        return None
    return result if result == result and abs(result) != float("inf") else None


@pytest.mark.parametrize("path", DEVICE_LISTS, ids=lambda p: p.parent.name)
def test_device_list_capture(path: Path) -> None:
    """Counts, kinds and key figures of a DeviceList equal the file's own."""
    raw = json.loads(path.read_text())
    entries = [d for d in raw["devices"] if isinstance(d, dict) and d.get("SERIAL")]
    parsed = parse_device_list(raw)
    warnings: list[str] = []
    snapshot = legacy_snapshot(
        pvs_identity("corpus", None, None, "pvs_legacy"), parsed, None, warnings
    )
    by_type: dict[str, list[dict[str, object]]] = {}
    for entry in entries:
        by_type.setdefault(str(entry.get("DEVICE_TYPE")), []).append(entry)
    assert len(parsed.inverters) == len(by_type.get("Inverter", []))
    assert len(parsed.meters) == len(by_type.get("Power Meter", []))
    assert (parsed.supervisor is not None) == ("PVS" in by_type)
    ess_entries = [e for e in entries if e.get("DEVICE_TYPE") in ESS_DEVICE_TYPES]
    assert len(parsed.ess_parts) == len(ess_entries)
    serials = {str(e["SERIAL"]) for e in entries}
    assert {d.serial for d in snapshot.devices} == serials
    for entry in ess_entries:
        device = snapshot.device(str(entry["SERIAL"]))
        assert device is not None
        assert device.kind is ESS_PART_KINDS[str(entry["DEVICE_TYPE"])]
    for entry in by_type.get("Inverter", []):
        device = snapshot.device(str(entry["SERIAL"]))
        assert device is not None
        assert device.kind is DeviceKind.INVERTER
        kw = _float(entry.get("p_3phsum_kw"))
        assert device.get(Quantity.POWER) == (
            None if kw is None else pytest.approx(kw * 1000)
        )
        kwh = _float(entry.get("ltea_3phsum_kwh"))
        assert device.get(Quantity.LIFETIME_ENERGY) == (
            None if kwh is None else pytest.approx(kwh * 1000)
        )
        assert device.data_time is not None or "DATATIME" not in entry
    for entry in by_type.get("Power Meter", []):
        meter = next(m for m in parsed.meters if m.serial == entry["SERIAL"])
        assert meter.power_kw == _float(entry.get("p_3phsum_kw"))
        assert meter.net_kwh == _float(entry.get("net_ltea_3phsum_kwh"))
        if meter.pos_kwh is not None and meter.neg_kwh is not None:
            assert meter.net_kwh == pytest.approx(
                meter.pos_kwh - meter.neg_kwh, abs=0.5
            )
    production = [
        e for e in by_type.get("Power Meter", []) if str(e.get("TYPE")).endswith("-P")
    ]
    if production and (kw := _float(production[0].get("p_3phsum_kw"))) is not None:
        assert snapshot.figures.solar_power == pytest.approx(kw * 1000)
    assert snapshot.data_time is not None


@pytest.mark.parametrize("path", VARS_DUMPS, ids=lambda p: p.parent.name)
def test_vars_capture(path: Path) -> None:
    """Devices keyed by sn, livedata figures and the meter identity of a dump."""
    raw = json.loads(path.read_text())
    parsed = parse_vars(raw)
    warnings: list[str] = []
    snapshot = varserver_snapshot(
        pvs_identity("corpus", None, None, "pvs_varserver"), parsed, None, warnings
    )
    pattern = re.compile(r"^/sys/devices/([a-z_]+)/(\d+)/sn$")
    sns: dict[str, list[str]] = {}
    for name, value in raw.items():
        if match := pattern.match(name):
            sns.setdefault(match.group(1), []).append(value)
    assert len(parsed.inverters) == len(sns.get("inverter", []))
    assert len(parsed.meters) == len(sns.get("meter", []))
    assert len(parsed.ess) == len(sns.get("ess", []))
    # Devices are keyed by serial: one device per distinct sn.
    kind_of = {
        "inverter": DeviceKind.INVERTER,
        "meter": DeviceKind.METER,
        "ess": DeviceKind.ESS,
        "transfer_switch": DeviceKind.TRANSFER_SWITCH,
    }
    for kind, values in sns.items():
        if kind in kind_of:
            assert len(snapshot.of_kind(kind_of[kind])) == len(set(values))
    live = {
        "solar_power": "/sys/livedata/pv_p",
        "grid_power": "/sys/livedata/net_p",
        "consumption_power": "/sys/livedata/site_load_p",
        "consumption_energy": "/sys/livedata/site_load_en",
    }
    for attribute, name in live.items():
        expected = _float(raw.get(name))
        actual = getattr(snapshot.figures, attribute)
        assert actual == (None if expected is None else pytest.approx(expected * 1000))
    for meter in parsed.meters:
        if meter.pos_kwh and meter.neg_kwh and meter.net_kwh is not None:
            assert meter.net_kwh == pytest.approx(
                meter.pos_kwh - meter.neg_kwh, abs=0.5
            )
    if parsed.supervisor is not None:
        assert parsed.supervisor.serial == raw["/sys/info/serialnum"]
