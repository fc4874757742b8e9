"""Parser of ``GET /info``, the XML identity document every Envoy serves without auth."""

import re

from custom_components.solar_gateway.gateway.envoy.models import EnvoyInfo
from custom_components.solar_gateway.gateway.errors import NotSupportedGatewayError
from custom_components.solar_gateway.gateway.values import as_bool

_ROOT = re.compile(r"<envoy_info[\s>]")
_DEVICE = re.compile(r"<device>(.*?)</device>", re.DOTALL)
_WEB_TOKENS = re.compile(r"<web-tokens>\s*([^<]*?)\s*</web-tokens>")


def _tag(block: str, name: str) -> str | None:
    match = re.search(rf"<{name}>\s*([^<]*?)\s*</{name}>", block)
    if match is None or not match.group(1):
        return None
    return match.group(1)


def parse_info(body: str) -> EnvoyInfo:
    """Read serial, part number, firmware and metering from the ``/info`` XML.

    Raises ``NotSupportedGatewayError`` when the document is not an Envoy's.
    """
    if _ROOT.search(body) is None:
        raise NotSupportedGatewayError("/info is not an Envoy identity document")
    device = _DEVICE.search(body)
    block = device.group(1) if device else ""
    serial = _tag(block, "sn")
    if serial is None:
        raise NotSupportedGatewayError("/info carries no serial number")
    imeter = _tag(block, "imeter")
    tokens = _WEB_TOKENS.search(body)
    return EnvoyInfo(
        serial=serial,
        part_number=_tag(block, "pn"),
        firmware=_tag(block, "software"),
        metered=as_bool(imeter) if imeter is not None else None,
        web_tokens=as_bool(tokens.group(1)) if tokens else None,
    )
