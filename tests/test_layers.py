"""The layers stay apart, read from the imports of every module.

The protocol layer (``gateway/``) never imports Home Assistant: it could ship on its
own. The Home Assistant glue reaches it only through its public modules (the client
PUBLIC = frozenset(
    {"client", "site", "errors", "hosts", "identify", "capture", "stream", "redaction"}
)
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

INTEGRATION = PROJECT_ROOT / "custom_components" / "solar_gateway"
GATEWAY = INTEGRATION / "gateway"
PACKAGE = "custom_components.solar_gateway"
PUBLIC = frozenset(
    {"client", "site", "errors", "hosts", "identify", "capture", "stream", "redaction"}
)


def _imported_modules(source: Path, package: str = PACKAGE) -> set[str]:
    """Every module ``source`` imports, relative imports made absolute."""
    tree = ast.parse(source.read_text(), filename=str(source))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            target = ".".join(part for part in (base, node.module or "") if part)
            if node.module is not None:
                modules.add(target)
            # A name may itself be a module (``from .gateway import pvs``).
            modules.update(f"{target}.{alias.name}" for alias in node.names)
    return modules


def _gateway_modules_used(source: Path) -> set[str]:
    """The top ``gateway`` modules a glue module imports, e.g. ``{"site", "envoy"}``."""
    prefix = f"{PACKAGE}.gateway."
    return {
        module.removeprefix(prefix).split(".")[0]
        for module in _imported_modules(source)
        if module.startswith(prefix)
    }


@pytest.mark.parametrize(
    "source",
    sorted(GATEWAY.rglob("*.py")),
    ids=lambda p: str(p.relative_to(GATEWAY)),
)
def test_no_homeassistant_import(source: Path) -> None:
    """No module under gateway/ imports homeassistant (or the integration's HA glue)."""
    for module in _imported_modules(source, f"{PACKAGE}.gateway.x"):
        assert module.split(".")[0] != "homeassistant", f"{source} imports {module}"


@pytest.mark.parametrize(
    "source",
    sorted(INTEGRATION.glob("*.py")),
    ids=lambda p: p.name,
)
def test_glue_uses_only_the_public_protocol_modules(source: Path) -> None:
    """No glue module imports a vendor package (gateway.envoy, gateway.pvs) or any
    other internal of the protocol layer."""
    internal = {m for m in _gateway_modules_used(source) if m not in PUBLIC}
    assert not internal, f"{source.name} imports gateway.{sorted(internal)}"


def test_scan_detects_an_import(tmp_path: Path) -> None:
    """The scan sees ``import`` and ``from`` forms alike, relative ones too."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import homeassistant.core\nfrom homeassistant import const\n"
        "from .gateway.envoy.client import EnvoyClient\nfrom .gateway import pvs\n"
    )
    assert {"homeassistant.core", "homeassistant"} <= _imported_modules(sample)
    assert _gateway_modules_used(sample) == {"envoy", "pvs"}
