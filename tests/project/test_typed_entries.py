"""The runtime-data rule: the integration's config entries are typed with their
runtime data (``SolarGatewayConfigEntry``), never a bare ``ConfigEntry``."""

import ast
from pathlib import Path

from tests.conftest import PROJECT_ROOT

INTEGRATION = PROJECT_ROOT / "custom_components" / "solar_gateway"


def bare_config_entries(source: str, filename: str) -> list[str]:
    """``file:line name`` of every parameter annotated with a bare ``ConfigEntry``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = node.args
        for argument in (
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
        ):
            annotation = argument.annotation
            name = (
                annotation.id
                if isinstance(annotation, ast.Name)
                else annotation.attr
                if isinstance(annotation, ast.Attribute)
                else None
            )
            if name == "ConfigEntry":
                found.append(f"{filename}:{argument.lineno} {argument.arg}")
    return sorted(found)


def test_no_function_takes_an_untyped_config_entry() -> None:
    """Every function of the integration takes the typed entry."""
    found = [
        hit
        for path in sorted(INTEGRATION.rglob("*.py"))
        for hit in bare_config_entries(
            path.read_text(encoding="utf-8"), str(path.relative_to(PROJECT_ROOT))
        )
    ]
    assert found == []


def test_an_untyped_config_entry_is_found() -> None:
    """The check finds the options flow factory as it used to be written."""
    source = (
        "class Flow:\n"
        "    @staticmethod\n"
        "    def async_get_options_flow(config_entry: ConfigEntry) -> None: ...\n"
        "def setup(entry: config_entries.ConfigEntry) -> None: ...\n"
        "def typed(entry: SolarGatewayConfigEntry) -> None: ...\n"
    )
    assert bare_config_entries(source, "flow.py") == [
        "flow.py:3 config_entry",
        "flow.py:4 entry",
    ]


def test_the_integration_folder_is_read() -> None:
    """The scan reads the integration's modules (an empty scan proves nothing)."""
    assert (INTEGRATION / "config_flow.py") in set(INTEGRATION.rglob("*.py"))
    assert Path(INTEGRATION / "__init__.py").is_file()
