"""Fixtures for tests that run Home Assistant."""

from collections.abc import Generator
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.solar_gateway.const import CONF_BRAND, DOMAIN

from .fake_gateway import SERIAL, FakeGatewayClient


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components in every test."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots that leave out what changes every run (ids, timestamps)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, including those disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new=True,
    ):
        yield


@pytest.fixture
def fake_client() -> Generator[FakeGatewayClient]:
    """A scripted gateway client that the integration gets instead of a real one."""
    client = FakeGatewayClient()
    with patch(
        "custom_components.solar_gateway.async_create_client", return_value=client
    ):
        yield client


@pytest.fixture
def fake_entry() -> MockConfigEntry:
    """A config entry for the scripted gateway."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Envoy 122233344455",
        unique_id=SERIAL,
        data={"host": "192.0.2.10", CONF_BRAND: "enphase"},
    )
