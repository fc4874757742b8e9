"""The capture format shared by the simulator and the diagnostics."""

import json
from pathlib import Path

import pytest

from custom_components.solar_gateway.gateway.capture import (
    Capture,
    CapturedResponse,
    candidate_names,
    capture_from_json,
    capture_to_json,
    name_for_path,
    read_capture,
)
from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError
from tests.captures import write_capture


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/info", "info"),
        ("/production.json?details=1", "production.json_details_1"),
        ("/inventory.json?deleted=1", "inventory.json_deleted_1"),
        ("/ivp/meters/readings", "ivp_meters_readings"),
        ("/api/v1/production/inverters", "api_v1_production_inverters"),
        ("/cgi-bin/dl_cgi?Command=DeviceList", "cgi-bin_dl_cgi_Command_DeviceList"),
        ("/vars?match=/&fmt=obj", "vars_match___fmt_obj"),
    ],
)
def test_name_for_path(path: str, name: str) -> None:
    """Paths fold into corpus file names."""
    assert name_for_path(path) == name


def test_candidate_names_fall_back_like_the_corpus() -> None:
    """A detailed request may be answered by the plain file, /x.json by x."""
    assert candidate_names("/production.json?details=1") == [
        "production.json_details_1",
        "production.json",
        "production_details_1",
        "production",
    ]
    assert candidate_names("/inventory.json") == ["inventory.json", "inventory"]


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    """What is written reads back with status, headers, body and path."""
    write_capture(
        tmp_path,
        {
            "/production.json?details=1": (
                200,
                {"Content-Type": "application/json"},
                b'{"production": []}',
            ),
            "/ivp/meters": (401, {}, b"no"),
        },
    )
    assert (tmp_path / "production.json_details_1").read_bytes() == (
        b'{"production": []}'
    )
    sidecar = json.loads((tmp_path / "production.json_details_1_log.json").read_text())
    assert sidecar["code"] == 200
    capture = read_capture(tmp_path)
    assert len(capture) == 2
    found = capture.lookup("/production.json?details=1")
    assert found is not None
    assert found.status == 200
    assert found.headers == {"Content-Type": "application/json"}
    assert found.json() == {"production": []}
    assert found.path == "/production.json?details=1"
    meters = capture.lookup("/ivp/meters")
    assert meters is not None
    assert meters.status == 401
    assert meters.json() is None
    assert meters.text() == "no"
    assert capture.lookup("/nothing") is None


def test_read_tolerates_bad_sidecars_and_keeps_notes(tmp_path: Path) -> None:
    """A broken or odd sidecar means status 200; ``_readme`` is a note."""
    (tmp_path / "info").write_text("<envoy_info/>")
    (tmp_path / "info_log.json").write_text("{not json")
    (tmp_path / "home").write_text("{}")
    (tmp_path / "home_log.json").write_text('{"code": "x", "headers": [1]}')
    (tmp_path / "list").write_text("[]")
    (tmp_path / "list_log.json").write_text("[1]")
    (tmp_path / "_readme").write_text("captured by hand")
    (tmp_path / "sub").mkdir()
    capture = read_capture(tmp_path)
    assert sorted(capture) == ["home", "info", "list"]
    assert {capture.responses[name].status for name in capture} == {200}
    assert capture.notes == {"_readme": "captured by hand"}


def test_read_refuses_a_file(tmp_path: Path) -> None:
    """Only folders are capture folders."""
    file = tmp_path / "x"
    file.write_text("")
    with pytest.raises(UnexpectedPayloadError):
        read_capture(file)


def test_json_round_trip_inside_a_diagnostics_document() -> None:
    """A capture found anywhere in a diagnostics download reads back."""
    capture = Capture(
        {
            "info": CapturedResponse(200, {"content-type": "text/xml"}, b"<x/>"),
            "ivp_meters": CapturedResponse(404, {}, b"{}", path="/ivp/meters"),
        }
    )
    document = {"data": {"entries": [1, {"capture": capture_to_json(capture)}]}}
    back = capture_from_json(json.loads(json.dumps(document)))
    assert back.responses == capture.responses


def test_json_without_capture_or_with_junk() -> None:
    """No capture is an error; junk entries are skipped."""
    with pytest.raises(UnexpectedPayloadError):
        capture_from_json({"data": [1, 2]})
    back = capture_from_json(
        {
            "format": "solar_gateway.capture/1",
            "files": {"a": "junk", "b": {"code": 200, "body": 5}},
        }
    )
    assert list(back) == ["b"]
    assert back.responses["b"].body == b""
