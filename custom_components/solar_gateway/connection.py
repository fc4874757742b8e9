"""Build the right protocol client for a config entry's data."""

from collections.abc import Mapping
from typing import Any

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CONF_BRAND, CONF_TOKEN
from .gateway.client import GatewayClient
from .gateway.envoy.client import EnvoyClient
from .gateway.pvs.client import PvsClient
from .gateway.site import Brand


def client_from_data(
    session: aiohttp.ClientSession, data: Mapping[str, Any]
) -> GatewayClient:
    """Return an unconnected client for a gateway described by entry data."""
    if Brand(data[CONF_BRAND]) is Brand.ENPHASE:
        return EnvoyClient(
            session,
            data[CONF_HOST],
            username=data.get(CONF_USERNAME) or None,
            password=data.get(CONF_PASSWORD) or None,
            token=data.get(CONF_TOKEN) or None,
        )
    return PvsClient(session, data[CONF_HOST], password=data.get(CONF_PASSWORD) or None)


def gateway_session(hass: HomeAssistant) -> aiohttp.ClientSession:
    """The HTTP session for gateways: their certificates are self-signed."""
    return async_get_clientsession(hass, verify_ssl=False)


def async_create_client(hass: HomeAssistant, entry: ConfigEntry) -> GatewayClient:
    """Return an unconnected client for the entry's gateway."""
    return client_from_data(gateway_session(hass), entry.data)
