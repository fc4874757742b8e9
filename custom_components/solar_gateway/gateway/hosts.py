"""One way to read the gateway address a user types or a discovery announces.

Accepted, the same for every gateway: ``host``, ``host:port``, ``[v6]`` and
``[v6]:port``, a bare IPv6 address, and a pasted URL (``http(s)://host[:port]/...``):
its path is dropped, its port kept and its scheme remembered as the one to try first.
Anything else (control characters, spaces, ports outside 1..65535, names no resolver
accepts) raises ``InvalidHostError`` before a single byte is sent.
"""

from dataclasses import dataclass
import ipaddress
import re

from .errors import InvalidHostError

# Longer than any URL a user pastes for a gateway; refused before any parsing.
MAX_HOST_TEXT = 512
_MAX_NAME = 253  # DNS limit for a whole name
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class HostAddress:
    """A gateway's address: host name or IP, and the port and scheme if given."""

    host: str  # a name (ASCII, IDNA-encoded) or an IP address, without brackets
    port: int | None = None
    scheme: str | None = None  # from a pasted URL: the scheme to try first

    @property
    def netloc(self) -> str:
        """``host[:port]``, with brackets around an IPv6 address."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    def url(self, scheme: str) -> str:
        """``scheme://host[:port]``."""
        return f"{scheme}://{self.netloc}"

    def __str__(self) -> str:
        """The address as stored in a config entry (no path, no default scheme)."""
        return self.netloc if self.scheme is None else self.url(self.scheme)


def parse_host(text: str) -> HostAddress:
    """Read a gateway address; raise ``InvalidHostError`` when it is not one."""
    text = text.strip()
    if not text:
        raise InvalidHostError("no host given")
    if len(text) > MAX_HOST_TEXT:
        raise InvalidHostError(f"a host of {len(text)} characters is not an address")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidHostError("the host contains spaces or control characters")
    scheme: str | None = None
    if "://" in text:
        scheme, _, rest = text.partition("://")
        scheme = scheme.lower()
        if scheme not in _SCHEMES:
            raise InvalidHostError(f"{scheme!r} is not http or https")
        # The path, query and fragment say nothing about where the gateway is.
        text = re.split(r"[/?#]", rest, maxsplit=1)[0]
        if "@" in text:
            raise InvalidHostError("the host carries a user name")
    host, port = _split_port(text)
    return HostAddress(host=_checked_host(host), port=port, scheme=scheme)


def _split_port(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise InvalidHostError("unbalanced brackets around an IPv6 address")
        try:
            ipaddress.IPv6Address(host)
        except ValueError as err:
            raise InvalidHostError(f"{host!r} is not an IPv6 address") from err
        return host, _port(rest[1:]) if rest else None
    if text.count(":") > 1:
        return text, None  # a bare IPv6 address; checked below
    host, colon, port = text.partition(":")
    return host, _port(port) if colon else None


def _port(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise InvalidHostError(f"{text!r} is not a port number")
    port = int(text)
    if not 1 <= port <= 65535:
        raise InvalidHostError(f"port {port} is outside 1..65535")
    return port


def _checked_host(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if ":" in host:
        raise InvalidHostError(f"{host!r} is not an IPv6 address")
    try:
        # Unicode names go to the resolver as IDNA (punycode) labels.
        name = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as err:
        raise InvalidHostError(f"{host!r} is not a host name") from err
    labels = name.split(".")
    if not name or len(name) > _MAX_NAME or not all(map(_LABEL.fullmatch, labels)):
        raise InvalidHostError(f"{host!r} is not a host name")
    return name
