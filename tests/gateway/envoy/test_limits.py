"""The production record and the export limits as the gateway reports them."""

import json
from pathlib import Path

import pytest

from custom_components.solar_gateway.gateway.envoy.parsers.limits import (
    parse_export_limit,
    parse_production_power,
    parse_pv_limit,
)
from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from tests.captures import captured_json
from tests.conftest import FIXTURES, corpus_root

CORPUS = corpus_root() / "envoy"


def folders(name: str) -> list[Path]:
    """Every fixture and corpus set that holds ``name`` as a JSON document with data
    (not a refusal, an HTML error page or an error document)."""
    found = sorted(FIXTURES.glob(f"envoy/*/{name}"))
    if CORPUS.is_dir():
        found += sorted(CORPUS.glob(f"*/{name}"))
    return [path for path in found if isinstance(captured_json(path), dict)]


def test_production_record() -> None:
    """The gateway-wide record: everything, solar and batteries held off or not."""
    record = parse_production_power(
        json.loads(
            '{ "powerForcedOff": true, "pvPowerForcedOff": false,'
            ' "enchargePowerForcedOff": false}'
        )
    )
    assert (record.forced_off, record.pv_forced_off, record.battery_forced_off) == (
        True,
        False,
        False,
    )


def test_production_record_error_is_a_typed_error() -> None:
    """A record the gateway does not have answers an error object."""
    error = {"error": "power mode get: not valid for (eid=0x61000111) level=3"}
    with pytest.raises(UnexpectedPayloadError, match="power mode get"):
        parse_production_power(error)
    with pytest.raises(UnexpectedPayloadError, match="no powerForcedOff"):
        parse_production_power({"pvPowerForcedOff": False})
    with pytest.raises(UnexpectedPayloadError):
        parse_production_power([])


@pytest.mark.parametrize("file", folders("ivp_ss_pel_settings"), ids=str)
def test_export_limit_from_raw(file: Path) -> None:
    """Every captured export limit, field by field from the raw document."""
    raw = json.loads(file.read_text())
    limit = parse_export_limit(raw)
    assert limit is not None
    assert limit.enabled is raw["PEL"]
    assert limit.hard is raw.get("Hard_PEL")
    assert limit.soft is raw.get("Soft_PEL")
    assert limit.limit_type == raw.get("Export_Limit_Type")
    assert limit.in_percent is raw.get("percent")
    assert limit.limit == raw.get("PEL_Limit")


@pytest.mark.parametrize("file", folders("ivp_sc_pvlimit"), ids=str)
def test_pv_limit_from_raw(file: Path) -> None:
    """Every captured PV limit, from the raw document."""
    raw = json.loads(file.read_text())
    limit = parse_pv_limit(raw)
    assert limit is not None
    assert (limit.enabled, limit.percent) == (raw["enable"], raw["pv_limit_pct"])


def test_limits_without_their_fields_are_absent() -> None:
    """An object without the fields is no limit; an error document or anything else
    a typed error."""
    assert parse_export_limit({"Export_Limit_Type": "Aggregate"}) is None
    assert parse_pv_limit({}) is None
    with pytest.raises(UnexpectedPayloadError, match="404 - Not Found"):
        parse_export_limit({"err": "404 - Not Found"})
    with pytest.raises(UnexpectedPayloadError, match="404 - Not Found"):
        parse_pv_limit({"error": "404 - Not Found"})
    with pytest.raises(UnexpectedPayloadError):
        parse_export_limit("PEL")
    with pytest.raises(UnexpectedPayloadError):
        parse_pv_limit(None)
