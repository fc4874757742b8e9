"""Shared fixtures and helpers for the whole test suite."""

from collections.abc import AsyncIterator
import logging
import os
from pathlib import Path

import aiohttp
import jwt
import pytest

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


FAR_FUTURE = 4102444800  # 2100-01-01


def make_token(exp: int = FAR_FUTURE, user: str = "owner", marker: str = "a") -> str:
    """A JWT with the claims an Enphase token carries (signature irrelevant)."""
    return jwt.encode(
        {"exp": exp, "enphaseUser": user, "marker": marker},
        "test-secret-test-secret-test-secret!",
        algorithm="HS256",
    )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain client session, as Home Assistant injects one into the clients."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session
