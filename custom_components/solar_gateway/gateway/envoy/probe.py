"""Find out whether a host is an Envoy: ``GET /info`` over HTTPS, then HTTP."""

import aiohttp

from custom_components.solar_gateway.gateway.errors import (
    GatewayConnectionError,
    NotSupportedGatewayError,
)
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
    host: str,
    *,
    timeouts: Timeouts | None = None,
) -> tuple[EnvoyInfo, str]:
    """Return the Envoy's identity and the base URL that answered.

    Raises ``NotSupportedGatewayError`` when the host answers but is not an Envoy,
    ``GatewayTimeoutError`` or ``GatewayConnectionError`` when nothing answers.
    """
    connection_error: GatewayConnectionError | None = None
    not_envoy: NotSupportedGatewayError | None = None
    for scheme in SCHEMES:
        base_url = f"{scheme}://{host}"
        # A probe must be quick and must not leave a back-off behind: no retries.
        transport = Transport(
            session, base_url, timeouts=timeouts, retry=RetryPolicy(retries=0)
        )
        try:
            response = await transport.get(INFO_PATH, cache=False)
        except GatewayConnectionError as err:
            connection_error = err
            continue
        if not response.ok:
            not_envoy = NotSupportedGatewayError(
                f"{base_url}{INFO_PATH} answered {response.status}: not an Envoy"
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
