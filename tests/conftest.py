"""Shared fixtures for the whole test suite."""

import logging
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"

# pytest-homeassistant-custom-component logs every SQL statement of the recorder at
# INFO, through a handler made before pytest captures output: dozens of lines per
# recorder test. Failures still show the recorder's warnings and errors.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def corpus_root() -> Path:
    """Return the folder of real captures (``SOLAR_GATEWAY_CORPUS``, default ../shared/corpus)."""
    configured = os.environ.get("SOLAR_GATEWAY_CORPUS")
    if configured:
        return Path(configured).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "corpus").resolve()
