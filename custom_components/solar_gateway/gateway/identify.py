"""Tell what gateway answers at a host, and make the client that talks to it.

``identify`` is used before any credentials are known, so only unauthenticated
endpoints are asked: the Envoy's ``/info`` (HTTPS, then HTTP), then the PVS's
``supervisor/info`` or, on old firmware, its DeviceList. ``create_client`` builds the
client for a gateway of either brand; ``decode_token`` reads a token a user pastes.
"""

import asyncio

import aiohttp

from .client import Access, GatewayClient, Identified
from .envoy.auth import TokenInfo, decode_token
from .envoy.client import EnvoyClient
from .envoy.probe import identity_of, probe as probe_envoy
from .errors import (
    FeatureUnavailableError,
    GatewayConnectionError,
    GatewayTimeoutError,
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)
from .hosts import HostAddress, parse_host
from .pvs.client import PvsClient, probe_url, varserver_url
from .pvs.legacy import LegacyApi
from .pvs.models import PvsApi
from .pvs.probe import probe as probe_pvs
from .pvs.site_mapping import pvs_identity
from .site import Brand
from .transport import RetryPolicy, Timeouts, Transport

__all__ = [
    "Access",
    "Identified",
    "TokenInfo",
    "create_client",
    "decode_token",
    "identify",
]

# A host that is not there should fail fast in a setup dialog.
PROBE_TIMEOUTS = Timeouts(connect=5.0, read=10.0)
# The whole identification, however many requests it takes and however slowly a host
# drips its answer: zeroconf runs it for any device that announces itself.
PROBE_DEADLINE = 15.0
# An identity document is a few kilobytes; a DeviceList of a large site under 1 MiB.
PROBE_MAX_BODY = 2 * 1024 * 1024


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
        info, url = await probe_envoy(
            session, address, timeouts=PROBE_TIMEOUTS, max_body=PROBE_MAX_BODY
        )
    except NotSupportedGatewayError, GatewayConnectionError:
        pass  # not an Envoy, or not on the Envoy's ports: maybe a PVS
    else:
        return Identified(
            identity_of(info),
            Access.ENVOY_ACCOUNT if info.uses_tokens else Access.ENVOY_LOCAL,
            url,
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
    varserver = result.api is PvsApi.VARSERVER
    return Identified(
        pvs_identity(
            result.info.serial, result.info.model, result.info.software, result.api
        ),
        Access.PVS_OWNER if varserver else Access.OPEN,
        varserver_url(address) if varserver else transport.base_url,
    )


def create_client(
    session: aiohttp.ClientSession,
    brand: Brand,
    host: str,
    *,
    username: str | None = None,
    password: str | None = None,
    token: str | None = None,
    known: Identified | None = None,
) -> GatewayClient:
    """Return an unconnected client for a gateway of ``brand`` at ``host``.

    ``known`` is what an earlier setup learned (``GatewayClient.identification``):
    the client starts from it instead of probing the host.
    """
    if brand is Brand.ENPHASE:
        return EnvoyClient(
            session,
            host,
            username=username,
            password=password,
            token=token,
            known=known,
        )
    return PvsClient(session, host, password=password, known=known)
