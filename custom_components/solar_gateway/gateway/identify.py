"""Tell what gateway answers at a host: an Envoy, or a PVS and which of its APIs.

Used before any credentials are known, so only unauthenticated endpoints are asked:
the Envoy's ``/info`` (HTTPS, then HTTP), then the PVS's ``supervisor/info`` or, on old
firmware, its DeviceList.
"""

import asyncio
from dataclasses import dataclass
from enum import StrEnum

import aiohttp

from .envoy.probe import identity_of, probe as probe_envoy
from .errors import (
    FeatureUnavailableError,
    GatewayConnectionError,
    GatewayTimeoutError,
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)
from .hosts import HostAddress, parse_host
from .pvs.client import probe_url
from .pvs.legacy import LegacyApi
from .pvs.models import PvsApi
from .pvs.probe import probe as probe_pvs
from .pvs.site_mapping import pvs_identity
from .site import GatewayIdentity
from .transport import RetryPolicy, Timeouts, Transport

# A host that is not there should fail fast in a setup dialog.
PROBE_TIMEOUTS = Timeouts(connect=5.0, read=10.0)
# The whole identification, however many requests it takes and however slowly a host
# drips its answer: zeroconf runs it for any device that announces itself.
PROBE_DEADLINE = 15.0
# An identity document is a few kilobytes; a DeviceList of a large site under 1 MiB.
PROBE_MAX_BODY = 2 * 1024 * 1024


class Access(StrEnum):
    """What the user must give before the gateway answers with data."""

    OPEN = "open"  # PVS legacy API: nothing to give
    ENVOY_ACCOUNT = "envoy_account"  # Envoy firmware 7+: Enphase account or a token
    ENVOY_LOCAL = "envoy_local"  # Envoy firmware < 7: optional local user
    PVS_OWNER = "pvs_owner"  # PVS varserver: the owner password


@dataclass(frozen=True, slots=True)
class Identified:
    """A gateway found at a host, and what it needs to let us in."""

    identity: GatewayIdentity
    access: Access


async def identify(
    session: aiohttp.ClientSession, host: str, *, deadline: float = PROBE_DEADLINE
) -> Identified:
    """Return what the gateway at ``host`` (anything ``parse_host`` reads) is.

    Raises ``InvalidHostError`` for text that is no address,
    ``NotSupportedGatewayError`` when something answers that is neither, and
    ``GatewayConnectionError`` (or its ``GatewayTimeoutError``) when nothing answers.
    """
    address = parse_host(host)
    try:
        async with asyncio.timeout(deadline):
            return await _identify(session, address)
    except TimeoutError as err:
        raise GatewayTimeoutError(
            f"{address} did not tell what it is within {deadline:.0f} s"
        ) from err


async def _identify(session: aiohttp.ClientSession, address: HostAddress) -> Identified:
    host = str(address)
    try:
        info, _ = await probe_envoy(
            session, address, timeouts=PROBE_TIMEOUTS, max_body=PROBE_MAX_BODY
        )
    except NotSupportedGatewayError, GatewayConnectionError:
        pass  # not an Envoy, or not on the Envoy's ports: maybe a PVS
    else:
        return Identified(
            identity_of(info),
            Access.ENVOY_ACCOUNT if info.uses_tokens else Access.ENVOY_LOCAL,
        )
    transport = Transport(
        session,
        probe_url(address),
        timeouts=PROBE_TIMEOUTS,
        retry=RetryPolicy(retries=0),
        max_body=PROBE_MAX_BODY,
    )
    try:
        result = await probe_pvs(LegacyApi(transport))
    except (FeatureUnavailableError, UnexpectedPayloadError) as err:
        # It answers HTTP, but neither as an Envoy nor as a PVS.
        raise NotSupportedGatewayError(
            f"{host} is neither an Envoy nor a PVS: {err}"
        ) from err
    if result.info is None:
        raise NotSupportedGatewayError(
            f"{host} answers like a PVS but does not say its serial number"
        )
    return Identified(
        pvs_identity(
            result.info.serial, result.info.model, result.info.software, result.api
        ),
        Access.PVS_OWNER if result.api is PvsApi.VARSERVER else Access.OPEN,
    )
