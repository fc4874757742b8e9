"""The protocol layer must not import Home Assistant (it could ship on its own)."""

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

GATEWAY = PROJECT_ROOT / "custom_components" / "solar_gateway" / "gateway"


def _imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize(
    "source",
    sorted(GATEWAY.rglob("*.py")),
    ids=lambda p: str(p.relative_to(GATEWAY)),
)
def test_no_homeassistant_import(source: Path) -> None:
    """No module under gateway/ imports homeassistant (or the integration's HA glue)."""
    for module in _imported_modules(source):
        assert module.split(".")[0] != "homeassistant", f"{source} imports {module}"


def test_scan_detects_an_import(tmp_path: Path) -> None:
    """The scan sees ``import`` and ``from`` forms alike."""
    sample = tmp_path / "sample.py"
    sample.write_text("import homeassistant.core\nfrom homeassistant import const\n")
    assert _imported_modules(sample) == {"homeassistant.core", "homeassistant"}
