"""Build the protocol client for a config entry, and keep what its setup learned."""

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import aiohttp
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CONF_BRAND, CONF_IDENTIFIED, CONF_TOKEN
from .coordinator import SolarGatewayConfigEntry
from .gateway.client import Access, GatewayClient, Identified
from .gateway.errors import InvalidHostError
from .gateway.hosts import parse_host
from .gateway.identify import create_client
from .gateway.site import Brand, GatewayIdentity


def identified_to_data(found: Identified) -> dict[str, Any]:
    """``found`` as config entry data (JSON types only)."""
    identity = found.identity
    return {
        "serial": identity.serial,
        "model": identity.model,
        "firmware": identity.firmware,
        "api": identity.api,
        "metered": identity.metered,
        "access": found.access.value,
        "url": found.url,
        "absent": sorted(found.absent),
    }


def identified_from_data(data: Mapping[str, Any]) -> Identified | None:
    """What the entry's last setup learned, if it is stored and still for its host.

    A host changed since (reconfigured, rediscovered) makes it stale: another device
    may answer at the old address.
    """
    stored = data.get(CONF_IDENTIFIED)
    if not isinstance(stored, Mapping):
        return None
    try:
        found = Identified(
            GatewayIdentity(
                brand=Brand(data[CONF_BRAND]),
                serial=str(stored["serial"]),
                model=stored.get("model"),
                firmware=stored.get("firmware"),
                api=str(stored["api"]),
                metered=stored.get("metered"),
            ),
            Access(stored["access"]),
            str(stored["url"]),
            _absent(stored.get("absent")),
        )
    except KeyError, ValueError:
        return None
    # The stored URL is read like any address; one that is none (edited storage) or
    # that names another host than the entry's is no start.
    try:
        stored_at = parse_host(found.url)
        host = parse_host(str(data[CONF_HOST]))
    except InvalidHostError:
        return None
    if stored_at.scheme is None or stored_at.host != host.host:
        return None
    return replace(found, url=str(stored_at))


def _absent(stored: object) -> frozenset[str]:
    """The endpoints stored as absent; none from anything but a list of paths (an
    entry stored before they were kept, or edited storage): all are asked again."""
    if not isinstance(stored, list) or not all(isinstance(p, str) for p in stored):
        return frozenset()
    return frozenset(stored)


def client_from_data(
    session: aiohttp.ClientSession, data: Mapping[str, Any], *, probe: bool = False
) -> GatewayClient:
    """Return an unconnected client for a gateway described by entry data.

    It starts from what the last setup learned, unless ``probe`` asks to find out
    again (or nothing usable is stored).
    """
    return create_client(
        session,
        Brand(data[CONF_BRAND]),
        data[CONF_HOST],
        username=data.get(CONF_USERNAME) or None,
        password=data.get(CONF_PASSWORD) or None,
        token=data.get(CONF_TOKEN) or None,
        known=None if probe else identified_from_data(data),
    )


def gateway_session(hass: HomeAssistant) -> aiohttp.ClientSession:
    """The HTTP session for gateways: their certificates are self-signed."""
    return async_get_clientsession(hass, verify_ssl=False)


def async_create_client(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, *, probe: bool = False
) -> GatewayClient:
    """Return an unconnected client for the entry's gateway."""
    return client_from_data(gateway_session(hass), entry.data, probe=probe)
