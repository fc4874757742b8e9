"""The documentation a user and a contributor read matches the project.

The README's required sections (the quality scale's docs rules), the licence, the
version, the entity tables and polling figures (generated from the integration set
up on every fixture), and the entity ids of its automation examples (those a user of
``scripts/develop`` gets) are checked here.
"""

from contextlib import AsyncExitStack
import os
from pathlib import Path
import re
import subprocess
import tomllib

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
import yaml

from simulator.cli import build_parser
from simulator.faults import FaultName
from tests.conftest import PROJECT_ROOT
from tests.integration.simulated import SCENARIOS, simulated_entry

from .docs_tables import (
    POLLING_SCENARIOS,
    README,
    generated_parts,
    measure_polling,
    registered_entities,
    render_entity_tables,
    render_polling_table,
    update_or_compare,
)
from .validators import validate_docs, validate_license

INTEGRATION = PROJECT_ROOT / "custom_components" / "solar_gateway"
UPDATE = os.environ.get("SOLAR_GATEWAY_UPDATE_README") == "1"
CONTROL_PLATFORMS = (
    "sensor",
    "binary_sensor",
    "switch",
    "select",
    "number",
    "time",
    "button",
)


@pytest.fixture(autouse=True)
def sockets(socket_enabled: None) -> None:
    """Let the integration reach the simulator on 127.0.0.1."""


# --- licence, sections, version --------------------------------------------------


def test_real_documentation_is_complete() -> None:
    """LICENSE, README sections and quality_scale.yaml's docs rules agree."""
    assert validate_license(PROJECT_ROOT) == []
    assert validate_docs(PROJECT_ROOT) == []


def test_missing_license_fails(tmp_path: Path) -> None:
    """A repository without LICENSE, or with another licence, is caught."""
    assert any("LICENSE" in p for p in validate_license(tmp_path))
    (tmp_path / "LICENSE").write_text("MIT License\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nlicense = "MIT"\n', encoding="utf-8"
    )
    problems = validate_license(tmp_path)
    assert any("Apache" in p for p in problems), problems
    assert any("pyproject" in p for p in problems), problems


def _copy_docs(tmp_path: Path) -> Path:
    for name in ("README.md", "LICENSE", "pyproject.toml", "CONTRIBUTING.md"):
        (tmp_path / name).write_bytes((PROJECT_ROOT / name).read_bytes())
    for name in ("CHANGELOG.md", "docs", "blueprints"):
        (tmp_path / name).symlink_to(PROJECT_ROOT / name)
    target = tmp_path / "custom_components" / "solar_gateway"
    target.mkdir(parents=True)
    (target / "quality_scale.yaml").write_bytes(
        (INTEGRATION / "quality_scale.yaml").read_bytes()
    )
    return tmp_path


def test_readme_without_a_required_section_fails(tmp_path: Path) -> None:
    """Removing the troubleshooting section from the README is caught."""
    root = _copy_docs(tmp_path)
    readme = root / "README.md"
    readme.write_text(
        readme.read_text(encoding="utf-8").replace("## Troubleshooting", "## Help"),
        encoding="utf-8",
    )
    problems = validate_docs(root)
    assert any("Troubleshooting" in p for p in problems), problems


def test_readme_link_to_a_missing_section_fails(tmp_path: Path) -> None:
    """An internal link whose heading was renamed is caught."""
    root = _copy_docs(tmp_path)
    readme = root / "README.md"
    readme.write_text(
        readme.read_text(encoding="utf-8") + "\nSee [gone](#no-such-section).\n",
        encoding="utf-8",
    )
    assert any("#no-such-section" in p for p in validate_docs(root))
    assert not any("does not exist" in p for p in validate_docs(root))
    (root / "docs").unlink()
    assert any("docs/images/energy.png" in p for p in validate_docs(root))


def test_docs_rule_not_done_or_not_pointing_at_the_readme_fails(
    tmp_path: Path,
) -> None:
    """Each docs rule is done and its comment names its README section."""
    root = _copy_docs(tmp_path)
    path = root / "custom_components" / "solar_gateway" / "quality_scale.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"]["docs-examples"] = "todo"
    data["rules"]["docs-use-cases"] = {"status": "done", "comment": "somewhere"}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    problems = validate_docs(root)
    assert any("docs-examples" in p for p in problems), problems
    assert any("docs-use-cases" in p for p in problems), problems


def test_versions_agree() -> None:
    """manifest.json, pyproject.toml and the newest CHANGELOG entry name one version."""
    import json

    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text("utf-8"))
    changelog = (PROJECT_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[?(\d+\.\d+\.\d+)\]?", changelog, re.MULTILINE)
    assert releases, "CHANGELOG.md names no release"
    assert manifest["version"] == project["project"]["version"] == releases[0]


def test_no_file_points_outside_the_repository() -> None:
    """Code, comments and docs never refer to the design notes or seeds beside it."""
    tracked = subprocess.run(
        ["git", "ls-files"],  # noqa: S607 - git from PATH
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # Spelled in two parts so that this file does not match itself.
    forbidden = re.compile("DESIGN" + r"\.md|\.\./shared/" + "seeds")
    found = [
        name
        for name in tracked
        if name != "uv.lock"
        and (PROJECT_ROOT / name).is_file()
        and (PROJECT_ROOT / name).suffix not in {".png", ".ambr"}
        and forbidden.search(
            (PROJECT_ROOT / name).read_text(encoding="utf-8", errors="replace")
        )
    ]
    assert found == []


def test_paths_named_in_the_docs_exist() -> None:
    """Every repository path the README and CONTRIBUTING.md name in code spans exists.

    ``gateway/...`` is relative to the integration's folder, as the layer table
    writes it; ``config/`` is made by scripts/develop and not committed.
    """
    integration = PROJECT_ROOT / "custom_components" / "solar_gateway"
    named = 0
    missing = []
    for doc in ("README.md", "CONTRIBUTING.md"):
        text = (PROJECT_ROOT / doc).read_text(encoding="utf-8")
        for path in set(re.findall(r"`([\w.-]+/[\w./-]*)`", text)):
            first = path.split("/")[0]
            base = integration if first == "gateway" else PROJECT_ROOT
            if first == "config" or not (base / first).exists():
                continue  # not a path of this repository (a URL part, a host...)
            named += 1
            if not (base / path).exists():
                missing.append(f"{doc}: {path}")
    assert named >= 20, named
    assert missing == []


def test_simulator_help_describes_every_option() -> None:
    """``python -m simulator --help`` explains each option and names every fault."""
    parser = build_parser()
    for action in parser._actions:
        assert action.help, f"{action.option_strings or action.dest} has no help"
    text = parser.format_help()
    for fault in FaultName:
        assert fault.value in text, fault


def test_workflows_run_the_gates_and_the_validators() -> None:
    """CI runs scripts/test, hassfest and the HACS action."""
    workflows = PROJECT_ROOT / ".github" / "workflows"
    steps = [
        step
        for path in sorted(workflows.glob("*.yaml"))
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values()
        for step in job["steps"]
    ]
    uses = [str(step.get("uses", "")) for step in steps]
    runs = " ".join(str(step.get("run", "")) for step in steps)
    assert "scripts/test" in runs or ".ci/run" in runs
    assert any(u.startswith("home-assistant/actions/hassfest@") for u in uses)
    hacs = [s for s in steps if str(s.get("uses", "")).startswith("hacs/action@")]
    assert hacs
    assert hacs[0]["with"]["category"] == "integration"


# --- generated parts and examples ------------------------------------------------


async def test_readme_entity_tables_match_the_code(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """The README's entity tables list what every fixture scenario registers."""
    rows = []
    for scenario in SCENARIOS:
        async with simulated_entry(hass, scenario) as (entry, _):
            brand = "Envoy" if scenario.startswith("envoy/") else "PVS"
            rows += registered_entities(hass, entry.entry_id, brand)
    problem = update_or_compare(README, "entities", render_entity_tables(rows), UPDATE)
    assert problem is None, problem


async def test_readme_polling_table_matches_the_code(
    hass: HomeAssistant,
    enable_custom_integrations: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Intervals, floors, reads and an hour's requests per kind of gateway."""
    figures = [await measure_polling(hass, freezer, s) for s in POLLING_SCENARIOS]
    problem = update_or_compare(
        README, "polling", render_polling_table(figures), UPDATE
    )
    assert problem is None, problem


def develop_fixtures(name: str = "FIXTURES") -> list[str]:
    """The fixtures scripts/develop serves (``INSTALLER_FIXTURES``: with an installer
    token), as scenario names."""
    script = (PROJECT_ROOT / "scripts" / "develop").read_text(encoding="utf-8")
    (fixtures,) = re.findall(rf"^{name}=\((.*)\)$", script, re.MULTILINE)
    return [f.removeprefix("tests/fixtures/") for f in fixtures.split()]


def example_entity_ids(text: str) -> set[str]:
    """Entity ids of this integration's platforms in the README's YAML and code spans.

    A code span is where the README names an id for the user to copy (the controls
    table, the SunVault variant of an example); plain prose and other code blocks
    are not scanned.
    """
    yaml_blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", prose)
    pattern = rf"\b(?:{'|'.join(CONTROL_PLATFORMS)})\.[a-z0-9_]+\b"
    return {
        match for part in (*yaml_blocks, *spans) for match in re.findall(pattern, part)
    }


async def test_readme_examples_use_entity_ids_of_the_develop_scenario(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Every entity id the README names exists once scripts/develop's gateways are set up.

    The ids come from the integration set up with the same fixtures, in the same
    Home Assistant, as scripts/develop does. Examples name other entities (weather,
    helpers) only in other domains.
    """
    async with AsyncExitStack() as stack:
        for scenario in develop_fixtures():
            await stack.enter_async_context(simulated_entry(hass, scenario))
        for scenario in develop_fixtures("INSTALLER_FIXTURES"):
            await stack.enter_async_context(
                simulated_entry(hass, scenario, user="installer")
            )
        existing = set(er.async_get(hass).entities)
        # ``switch.turn_on`` and the like are the platforms' actions, not entities.
        used = {
            entity_id
            for entity_id in example_entity_ids(README.read_text(encoding="utf-8"))
            if not hass.services.has_service(*entity_id.split("."))
        }
    assert len(used) >= 5, used
    assert sorted(used - existing) == []


def test_readme_yaml_examples_are_automations() -> None:
    """Each YAML example parses, as a whole automation (triggers and actions)."""
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        automation = yaml.safe_load(block)
        assert isinstance(automation, dict), block
        assert (
            {"actions"}
            <= automation.keys()
            <= {
                "triggers",
                "conditions",
                "actions",
            }
        ), block


def test_example_ids_are_found_in_yaml_and_code_spans() -> None:
    """The id scan reads YAML blocks and code spans, in this integration's domains."""
    text = (
        "sensor.in_prose, `select.in_a_span`, `select.<gateway>_battery_mode`\n"
        "```yaml\nentity_id: sensor.envoy_solar_power\n"
        "target: weather.home\n```\n```sh\nswitch.not_yaml `switch.x`\n```\n"
    )
    assert example_entity_ids(text) == {"sensor.envoy_solar_power", "select.in_a_span"}


def test_generated_parts_are_present() -> None:
    """The README keeps both generated parts (so the checks above cannot pass empty)."""
    parts = generated_parts(README.read_text(encoding="utf-8"))
    assert set(parts) >= {"entities", "polling"}
    assert all(part.strip() for part in parts.values())


def test_request_counts_agree_between_sections() -> None:
    """The hourly requests the README states in prose and in the load tables are
    those of the generated polling table."""
    text = README.read_text(encoding="utf-8")
    generated = {
        gateway: int(count)
        for gateway, count in re.findall(r"^\| ([^|]+?) \| (\d+) \| `", text, re.M)
    }
    envoy = generated["Envoy, metered (CTs, batteries)"]
    load = re.findall(r"^\| requests to the gateway \| (\d+) \|", text, re.M)
    assert load
    assert {int(count) for count in load} == {envoy}
    prose = " ".join(text.split())
    (legacy,) = re.findall(
        r"legacy API is asked for its device list (\d+) times", prose
    )
    (varserver,) = re.findall(r"a varserver PVS (\d+) times", prose)
    assert int(legacy) == generated["PVS, legacy API"]
    assert int(varserver) == generated["PVS, varserver API"]


CONTRIBUTING = PROJECT_ROOT / "CONTRIBUTING.md"
SOURCES = ("custom_components", "simulator", "tests", "scripts", "benchmarks")
# Names of code: CamelCase, UPPER_SNAKE and snake_case with an underscore.
CODE_NAME = re.compile(
    r"[A-Z][a-z0-9]+[A-Z]\w*|[A-Z][A-Z0-9]*_[A-Z0-9_]+|[a-z][a-z0-9]*_[a-z0-9_]+"
)


def _prose_spans(text: str) -> list[str]:
    """The code spans of ``text`` outside its code blocks."""
    return re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))


def test_contributing_names_only_what_exists() -> None:
    """Every file the layer table names is in its layer's folder, and every name of
    code (class, constant, function, variable) CONTRIBUTING.md gives is in the
    project's code: renamed or deleted things are not left in the guide."""
    text = CONTRIBUTING.read_text(encoding="utf-8")
    integration = PROJECT_ROOT / "custom_components" / "solar_gateway"
    missing = []
    rows = re.findall(r"^\| [^|]+ \| (`[^|]+`) \| ([^\n]+) \|$", text, re.M)
    assert len(rows) >= 6
    for where, holds in rows:
        folders = []
        for folder in re.findall(r"`([^`]+)`", where):
            base = integration if folder.startswith("gateway") else PROJECT_ROOT
            path = base / folder
            folders.append(path.parent if path.suffix == ".py" else path)
        folders = [f.parent if "*" in f.name else f for f in folders]
        missing.extend(
            f"{name} in {where}"
            for name in re.findall(r"`([\w*.-]+(?:\.py|/))`", holds)
            if not any(any(folder.rglob(name.rstrip("/"))) for folder in folders)
        )
    code = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for top in SOURCES
        for path in (PROJECT_ROOT / top).rglob("*")
        if path.is_file()
        and path.suffix in {".py", ""}
        and "fixtures" not in path.parts
    )
    names = {span for span in _prose_spans(text) if CODE_NAME.fullmatch(span)}
    assert len(names) >= 10, names
    missing += sorted(n for n in names if not re.search(rf"\b{n}\b", code))
    assert missing == []
