"""Find out whether a host is an Envoy: ``GET /info`` over HTTPS, then HTTP."""

from functools import lru_cache

import aiohttp

from custom_components.solar_gateway.gateway.errors import (
    GatewayConnectionError,
    NotSupportedGatewayError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.hosts import HostAddress, parse_host
from custom_components.solar_gateway.gateway.site import Brand, GatewayIdentity
from custom_components.solar_gateway.gateway.transport import (
    RetryPolicy,
    Timeouts,
    Transport,
)

from .endpoints import INFO_PATH
from .models import EnvoyInfo
from .parsers.info import parse_info

SCHEMES = ("https", "http")


# The same object for the same /info: the gateway's device is rebuilt only when its
# identity is a new one.
@lru_cache(maxsize=32)
def identity_of(info: EnvoyInfo) -> GatewayIdentity:
    """The vendor-neutral identity of an Envoy."""
    return GatewayIdentity(
        brand=Brand.ENPHASE,
        serial=info.serial,
        model=info.part_number,
        firmware=info.firmware,
        api="envoy",
        metered=info.metered,
    )


async def probe(
    session: aiohttp.ClientSession,
    host: str | HostAddress,
    *,
    timeouts: Timeouts | None = None,
    max_body: int | None = None,
) -> tuple[EnvoyInfo, str]:
    """Return the Envoy's identity and the base URL that answered.

    ``host`` is anything ``parse_host`` reads; a pasted URL's scheme is tried first.
    Raises ``InvalidHostError`` for text that is no address,
    ``NotSupportedGatewayError`` when the host answers but is not an Envoy,
    ``GatewayTimeoutError`` or ``GatewayConnectionError`` when nothing answers.
    """
    address = host if isinstance(host, HostAddress) else parse_host(host)
    schemes = sorted(SCHEMES, key=lambda scheme: scheme != address.scheme)
    connection_error: GatewayConnectionError | None = None
    not_envoy: NotSupportedGatewayError | None = None
    for scheme in schemes:
        base_url = address.url(scheme)
        # A probe must be quick and must not leave a back-off behind: no retries.
        transport = Transport(
            session, base_url, timeouts=timeouts, retry=RetryPolicy(retries=0)
        )
        if max_body is not None:
            transport.max_body = max_body
        try:
            response = await transport.get(INFO_PATH, cache=False)
        except GatewayConnectionError as err:
            connection_error = err
            continue
        except UnexpectedPayloadError as err:
            # An answer no Envoy sends (too large, badly encoded).
            not_envoy = NotSupportedGatewayError(f"{scheme} {INFO_PATH}: {err}")
            continue
        if not response.ok:
            not_envoy = NotSupportedGatewayError(
                f"{scheme} {INFO_PATH} answered {response.status}: not an Envoy"
            )
            continue
        try:
            return parse_info(response.text()), base_url
        except NotSupportedGatewayError as err:
            not_envoy = err
    if not_envoy is not None:
        raise not_envoy
    assert connection_error is not None
    raise connection_error
