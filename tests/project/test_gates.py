"""scripts/test fails when a gate breaks: the tools it runs reject broken code."""

import json
from pathlib import Path
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import PROJECT_ROOT

SCRIPTS = PROJECT_ROOT / "scripts"


def _run(
    *args: str | Path, cwd: Path = PROJECT_ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed tool, arguments made here
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_scripts_test_runs_every_gate() -> None:
    """The test script runs lint, format, types, tests with coverage and the module check."""
    script = (SCRIPTS / "test").read_text(encoding="utf-8")
    for command in (
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        ".venv/bin/mypy",
        "--cov-report=json:coverage.json",
        "scripts/check_coverage.py coverage.json",
    ):
        assert command in script
    assert "set -euo pipefail" in script


def test_mypy_rejects_a_type_error(tmp_path: Path) -> None:
    """mypy, with the project's strict settings, fails on a type error."""
    bad = tmp_path / "bad.py"
    bad.write_text('def double(value: int) -> int:\n    return value * "2"\n')
    good = tmp_path / "good.py"
    good.write_text("def double(value: int) -> int:\n    return value * 2\n")
    config = PROJECT_ROOT / "pyproject.toml"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    failed = _run(sys.executable, "-m", "mypy", "--config-file", config, *cache, bad)
    assert failed.returncode == 1
    assert "bad.py:2: error" in failed.stdout
    passed = _run(sys.executable, "-m", "mypy", "--config-file", config, *cache, good)
    assert passed.returncode == 0, passed.stdout


def test_ruff_rejects_lint_and_format(tmp_path: Path) -> None:
    """ruff, with the project's rules, fails on an unused import and bad formatting."""
    module = tmp_path / "module.py"
    module.write_text('"""Doc."""\n\nimport os\nx   =  1\n')
    config = ["--config", str(PROJECT_ROOT / "pyproject.toml")]
    ruff = Path(sys.executable).parent / "ruff"
    lint = _run(ruff, "check", *config, module)
    assert lint.returncode == 1
    assert "F401" in lint.stdout
    fmt = _run(ruff, "format", "--check", *config, module)
    assert fmt.returncode == 1


COVERED = textwrap.dedent(
    """
    def used(value):
        return value + 1

    def unused(value):
        if value:
            return value * 2
        return 0

    used(1)
    """
)


def _coverage_report(tmp_path: Path, name: str) -> Path:
    module = tmp_path / name
    module.write_text(COVERED)
    data = tmp_path / ".coverage"
    run = _run(
        sys.executable,
        "-m",
        "coverage",
        "run",
        f"--data-file={data}",
        module,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    report = tmp_path / "coverage.json"
    out = _run(
        sys.executable,
        "-m",
        "coverage",
        "json",
        f"--data-file={data}",
        "-o",
        report,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    return report


@pytest.mark.parametrize("name", ["module.py", "config_flow.py"])
def test_coverage_check_fails_below_the_bar(tmp_path: Path, name: str) -> None:
    """A module with untested code fails the per-module check."""
    report = _coverage_report(tmp_path, name)
    result = _run(sys.executable, SCRIPTS / "check_coverage.py", report)
    assert result.returncode == 1
    assert f"{name}: " in result.stdout
    assert "total: " in result.stdout


def test_coverage_check_passes_and_holds_config_flow_to_100(tmp_path: Path) -> None:
    """95% passes for an ordinary module, but config_flow.py needs every line."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        import check_coverage
    finally:
        sys.path.remove(str(SCRIPTS))

    def report(name: str, covered: int) -> dict[str, object]:
        summary = {"num_statements": 100, "covered_lines": covered}
        return {"files": {name: {"summary": summary}}, "totals": summary}

    assert check_coverage.problems(report("sensor.py", 95)) == []
    assert check_coverage.problems(report("sensor.py", 94)) == [
        "sensor.py: 94.0% covered, needs 95%",
        "total: 94.0% covered, needs 95%",
    ]
    assert check_coverage.problems(report("x/config_flow.py", 99)) == [
        "x/config_flow.py: 99.0% covered, needs 100%"
    ]
    assert check_coverage.problems({"files": {}, "totals": {}}) == [
        "the report measured no files"
    ]
    assert check_coverage.problems({}) == [
        "not a coverage.py JSON report (no 'files'/'totals')"
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"files": {"a.py": {"summary": {}}}, "totals": {}}))
    result = _run(sys.executable, SCRIPTS / "check_coverage.py", bad)
    assert result.returncode == 1
    assert "lacks num_statements" in result.stdout
    assert (
        _run(
            sys.executable, SCRIPTS / "check_coverage.py", tmp_path / "none.json"
        ).returncode
        == 1
    )
