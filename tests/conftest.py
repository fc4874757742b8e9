"""Shared fixtures for the whole test suite."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"


def corpus_root() -> Path:
    """Return the folder of real captures (``SOLAR_GATEWAY_CORPUS``, default ../shared/corpus)."""
    configured = os.environ.get("SOLAR_GATEWAY_CORPUS")
    if configured:
        return Path(configured).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "corpus").resolve()
