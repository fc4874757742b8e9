"""Tell what gateway answers at a host: an Envoy, or a PVS and which of its APIs.

Used before any credentials are known, so only unauthenticated endpoints are asked:
the Envoy's ``/info`` (HTTPS, then HTTP), then the PVS's ``supervisor/info`` or, on old
firmware, its DeviceList.
"""

from dataclasses import dataclass
from enum import StrEnum

import aiohttp

from .envoy.probe import identity_of, probe as probe_envoy
from .errors import (
    FeatureUnavailableError,
    GatewayConnectionError,
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)
from .pvs.client import base_url as pvs_base_url
from .pvs.legacy import LegacyApi
from .pvs.models import PvsApi
from .pvs.probe import probe as probe_pvs
from .pvs.site_mapping import pvs_identity
from .site import GatewayIdentity
from .transport import RetryPolicy, Timeouts, Transport

# A host that is not there should fail fast in a setup dialog.
PROBE_TIMEOUTS = Timeouts(connect=10.0, read=20.0)


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


async def identify(session: aiohttp.ClientSession, host: str) -> Identified:
    """Return what the gateway at ``host`` (``host`` or ``host:port``) is.

    Raises ``NotSupportedGatewayError`` when something answers that is neither, and
    ``GatewayConnectionError`` (or its ``GatewayTimeoutError``) when nothing answers.
    """
    try:
        info, _ = await probe_envoy(session, host, timeouts=PROBE_TIMEOUTS)
    except NotSupportedGatewayError, GatewayConnectionError:
        pass  # not an Envoy, or not on the Envoy's ports: maybe a PVS
    else:
        return Identified(
            identity_of(info),
            Access.ENVOY_ACCOUNT if info.uses_tokens else Access.ENVOY_LOCAL,
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
    return Identified(
        pvs_identity(
            result.info.serial, result.info.model, result.info.software, result.api
        ),
        Access.PVS_OWNER if result.api is PvsApi.VARSERVER else Access.OPEN,
    )
