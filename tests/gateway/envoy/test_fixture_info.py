"""The project's Envoy ``/info`` fixtures are whole documents, as real gateways send.

A client that reads more of ``/info`` than ours (package versions, build details)
must find in the fixtures what a real gateway answers, not a shortened version.
"""

from pathlib import Path
import re
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import FIXTURES, corpus_root

FIXTURE_INFOS = sorted((FIXTURES / "envoy").glob("*/info"))
CORPUS_INFOS = sorted((corpus_root() / "envoy").glob("*/info"))
DEVICE_FIELDS = ("sn", "pn", "software", "euaid", "seqnum", "apiver")


def _root(path: Path) -> ET.Element:
    return ET.fromstring(path.read_bytes())  # noqa: S314 - our own fixture files


def _shape(root: ET.Element) -> list[str]:
    """Every element's path, packages named, in document order (values left out)."""
    shape: list[str] = []

    def walk(element: ET.Element, prefix: str) -> None:
        for child in element:
            name = child.tag
            if child.get("name"):
                name += f"[{child.get('name')}]"
            shape.append(f"{prefix}/{name}")
            walk(child, f"{prefix}/{name}")

    walk(root, "")
    return shape


def _firmware(root: ET.Element) -> list[int]:
    return [
        int(part) for part in re.findall(r"\d+", root.findtext("device/software", ""))
    ]


@pytest.mark.parametrize("path", FIXTURE_INFOS, ids=lambda p: p.parent.name)
def test_fixture_info_is_whole(path: Path) -> None:
    """Device fields, packages with part number, version and build, the app's version."""
    root = _root(path)
    firmware = _firmware(root)
    for field in DEVICE_FIELDS:
        assert root.findtext(f"device/{field}"), field
    packages = root.findall("package")
    assert len(packages) >= 5
    for package in packages:
        for field in ("pn", "version", "build"):
            assert package.findtext(field), (package.get("name"), field)
    # The application package is the firmware the device reports.
    app = next(p for p in packages if p.get("name") == "app")
    assert [int(part) for part in app.findtext("version", "").split(".")] == firmware
    assert (root.find("build_info") is not None) == (firmware[0] >= 5)
    assert (root.findtext("web-tokens") == "true") == (firmware[0] >= 7)


@pytest.mark.skipif(not CORPUS_INFOS, reason="no Envoy captures in the corpus")
@pytest.mark.parametrize("path", FIXTURE_INFOS, ids=lambda p: p.parent.name)
def test_fixture_info_has_the_shape_of_a_real_one(path: Path) -> None:
    """A fixture's elements are those of a real gateway on the same firmware."""
    root = _root(path)
    software = root.findtext("device/software")
    real = [_root(p) for p in CORPUS_INFOS]
    shape = _shape(root)
    same = [r for r in real if r.findtext("device/software") == software]
    if same:
        assert any(sorted(shape) == sorted(_shape(r)) for r in same), shape
        return
    # No capture of that exact firmware: builds of one release line ship different
    # packages, so the fixture holds at least the other elements every capture of
    # the line holds.
    line = [r for r in real if _firmware(r)[:2] == _firmware(root)[:2]]
    if not line:
        pytest.skip(f"no real /info of firmware {software}")
    common = set.intersection(
        *({e for e in _shape(r) if not e.startswith("/package")} for r in line)
    )
    assert common <= set(shape), sorted(common - set(shape))
