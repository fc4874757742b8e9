"""Shared helpers of the Envoy unit tests."""

from pathlib import Path

from tests.conftest import FIXTURES

ENVOY_FIXTURES: Path = FIXTURES / "envoy"
