"""Parser of ``GET /info``, the XML identity document every Envoy serves without auth.

Any host can answer ``/info`` (the probe asks hosts before knowing what they are), so
the document is read with plain substring searches: linear in its length, whatever
it holds. A backtracking pattern such as ``<sn>\\s*(.*?)\\s*</sn>`` spent seconds on
a document padded with spaces.
"""

from custom_components.solar_gateway.gateway.envoy.models import EnvoyInfo
from custom_components.solar_gateway.gateway.errors import NotSupportedGatewayError
from custom_components.solar_gateway.gateway.values import as_bool


def _between(text: str, name: str) -> str | None:
    """The text of the first ``<name>...</name>`` element, or None."""
    opening = f"<{name}>"
    start = text.find(opening)
    if start < 0:
        return None
    start += len(opening)
    end = text.find(f"</{name}>", start)
    if end < 0:
        return None
    return text[start:end]


def _tag(block: str, name: str) -> str | None:
    value = _between(block, name)
    if value is None or "<" in value:
        return None
    return value.strip() or None


def _is_envoy_info(body: str) -> bool:
    start = body.find("<envoy_info")
    if start < 0:
        return False
    after = body[start + len("<envoy_info") : start + len("<envoy_info") + 1]
    return after == ">" or after.isspace()


def parse_info(body: str) -> EnvoyInfo:
    """Read serial, part number, firmware and metering from the ``/info`` XML.

    Raises ``NotSupportedGatewayError`` when the document is not an Envoy's.
    """
    if not _is_envoy_info(body):
        raise NotSupportedGatewayError("/info is not an Envoy identity document")
    block = _between(body, "device") or ""
    serial = _tag(block, "sn")
    if serial is None:
        raise NotSupportedGatewayError("/info carries no serial number")
    imeter = _tag(block, "imeter")
    tokens = _tag(body, "web-tokens")
    return EnvoyInfo(
        serial=serial,
        part_number=_tag(block, "pn"),
        firmware=_tag(block, "software"),
        metered=as_bool(imeter) if imeter is not None else None,
        web_tokens=as_bool(tokens) if tokens is not None else None,
    )
