"""Fail when coverage is below the bar overall or for any single module.

Reads the JSON report written by ``pytest --cov-report=json:coverage.json`` (coverage.py's
format) and checks the overall figure and every measured file: a module hidden behind
well-tested neighbours must not slip under the bar. ``config_flow.py`` has to be fully
covered, as Home Assistant's quality scale asks.

Usage: ``python scripts/check_coverage.py [coverage.json]``; exit status 1 when below.
"""

from collections.abc import Mapping
import json
from pathlib import Path
import sys

MODULE_MINIMUM = 95.0
OVERALL_MINIMUM = 95.0
# Files held to a stricter bar than MODULE_MINIMUM, matched by file name.
STRICT_FILES: Mapping[str, float] = {"config_flow.py": 100.0}


def _percent(summary: Mapping[str, object]) -> float:
    statements = summary.get("num_statements")
    covered = summary.get("covered_lines")
    if not isinstance(statements, int) or not isinstance(covered, int):
        raise TypeError("coverage summary lacks num_statements/covered_lines")
    if statements == 0:
        return 100.0
    return 100.0 * covered / statements


def problems(report: Mapping[str, object]) -> list[str]:
    """Return one message per file (and for the total) that is under its bar."""
    found: list[str] = []
    files = report.get("files")
    totals = report.get("totals")
    if not isinstance(files, Mapping) or not isinstance(totals, Mapping):
        return ["not a coverage.py JSON report (no 'files'/'totals')"]
    if not files:
        return ["the report measured no files"]
    for path, data in sorted(files.items()):
        summary = data.get("summary") if isinstance(data, Mapping) else None
        if not isinstance(summary, Mapping):
            found.append(f"{path}: no summary in the report")
            continue
        minimum = STRICT_FILES.get(Path(path).name, MODULE_MINIMUM)
        percent = _percent(summary)
        if percent < minimum:
            found.append(f"{path}: {percent:.1f}% covered, needs {minimum:.0f}%")
    overall = _percent(totals)
    if overall < OVERALL_MINIMUM:
        found.append(f"total: {overall:.1f}% covered, needs {OVERALL_MINIMUM:.0f}%")
    return found


def main(argv: list[str]) -> int:
    """Check the report named in ``argv`` (default coverage.json)."""
    path = Path(argv[1] if len(argv) > 1 else "coverage.json")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        print(f"check_coverage: cannot read {path}: {err}")
        return 1
    try:
        found = (
            problems(report) if isinstance(report, Mapping) else ["not a JSON object"]
        )
    except TypeError as err:
        found = [str(err)]
    for message in found:
        print(f"check_coverage: {message}")
    if found:
        return 1
    print(
        f"check_coverage: every module >= {MODULE_MINIMUM:.0f}% (config_flow.py 100%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
