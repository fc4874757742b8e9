"""Shared helpers of the Envoy unit tests."""

from pathlib import Path

import jwt

from tests.conftest import FIXTURES

ENVOY_FIXTURES: Path = FIXTURES / "envoy"
FAR_FUTURE = 4102444800  # 2100-01-01


def make_token(exp: int = FAR_FUTURE, user: str = "owner", marker: str = "a") -> str:
    """A JWT with the claims the gateway's tokens carry (signature irrelevant)."""
    return jwt.encode(
        {"exp": exp, "enphaseUser": user, "marker": marker},
        "test-secret-test-secret-test-secret!",
        algorithm="HS256",
    )
