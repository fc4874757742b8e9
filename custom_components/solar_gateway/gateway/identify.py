"""Tell what gateway answers at a host, and make the client that talks to it.

``identify`` is used before any credentials are known, so only unauthenticated
endpoints are asked: the Envoy's ``/info`` (HTTPS, then HTTP), then the PVS's
``supervisor/info`` or, on old firmware, its DeviceList. ``create_client`` builds the
client for a gateway of either brand; ``decode_token`` reads a token a user pastes.
"""

import aiohttp

from .client import Access, GatewayClient, Identified
from .envoy.auth import TokenInfo, decode_token
from .envoy.client import EnvoyClient
from .envoy.probe import identity_of, probe as probe_envoy
from .errors import (
    FeatureUnavailableError,
    GatewayConnectionError,
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)
from .pvs.client import PvsClient, base_url as pvs_base_url
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
PROBE_TIMEOUTS = Timeouts(connect=10.0, read=20.0)


async def identify(session: aiohttp.ClientSession, host: str) -> Identified:
    """Return what the gateway at ``host`` (``host`` or ``host:port``) is.

    Raises ``NotSupportedGatewayError`` when something answers that is neither, and
    ``GatewayConnectionError`` (or its ``GatewayTimeoutError``) when nothing answers.
    """
    try:
        info, url = await probe_envoy(session, host, timeouts=PROBE_TIMEOUTS)
    except NotSupportedGatewayError, GatewayConnectionError:
        pass  # not an Envoy, or not on the Envoy's ports: maybe a PVS
    else:
        return Identified(
            identity_of(info),
            Access.ENVOY_ACCOUNT if info.uses_tokens else Access.ENVOY_LOCAL,
            url,
        )
    try:
        transport = Transport(
            session, pvs_base_url(host, "http"), retry=RetryPolicy(retries=0)
        )
    except ValueError as err:
        raise GatewayConnectionError(f"{host!r} is not a host name or address") from err
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
        # The varserver only listens on HTTPS, unless the host names its scheme.
        pvs_base_url(host, "https")
        if varserver and "://" not in host
        else transport.base_url,
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
