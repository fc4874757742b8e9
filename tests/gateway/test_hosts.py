"""Every form of address a user pastes reads the same for every gateway."""

import pytest

from custom_components.solar_gateway.gateway.errors import InvalidHostError
from custom_components.solar_gateway.gateway.hosts import HostAddress, parse_host
from custom_components.solar_gateway.gateway.pvs.client import probe_url, varserver_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.168.1.50", HostAddress("192.168.1.50")),
        ("  envoy.local  ", HostAddress("envoy.local")),
        ("Envoy.Local.", HostAddress("envoy.local")),
        ("192.168.1.50:8080", HostAddress("192.168.1.50", 8080)),
        ("fe80::1", HostAddress("fe80::1")),
        ("[fe80::1]", HostAddress("fe80::1")),
        ("[2001:db8::5]:8443", HostAddress("2001:db8::5", 8443)),
        ("http://192.168.1.50/", HostAddress("192.168.1.50", None, "http")),
        (
            "HTTPS://envoy.local:8443/home?x=1#top",
            HostAddress("envoy.local", 8443, "https"),
        ),
        ("https://[2001:db8::5]/x", HostAddress("2001:db8::5", None, "https")),
        ("bücher.example", HostAddress("xn--bcher-kva.example")),
        ("pvs_6.lan", HostAddress("pvs_6.lan")),
    ],
)
def test_accepted_forms(text: str, expected: HostAddress) -> None:
    """host, host:port, IPv6 with or without brackets, URLs and unicode names."""
    assert parse_host(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "192.168.1.50\x00",
        "envoy\x00.local",
        "envoy\n.local",
        "envoy local",
        "host:0",
        "host:99999",
        "host:-1",
        "host:\uff18\uff10",  # full-width digits
        "host:",
        "[fe80::1",
        "[fe80::1]x",
        "[not-v6]:80",
        "fe80::zz",
        "ftp://envoy.local",
        "http://user:pw@envoy.local",
        "http:///path",
        "a" * 64 + ".local",
        ".".join(["a" * 60] * 5),
        "x" * 10_000,
        "bad!name",
        "-leading.dash",
    ],
)
def test_refused_forms(text: str) -> None:
    """Garbage, control characters, ports outside 1..65535: refused before sending."""
    with pytest.raises(InvalidHostError):
        parse_host(text)


def test_netloc_and_stored_form() -> None:
    """IPv6 gets its brackets back; a URL keeps its scheme but not its path."""
    assert HostAddress("2001:db8::5", 8443).netloc == "[2001:db8::5]:8443"
    assert str(parse_host("https://envoy.local/home")) == "https://envoy.local"
    assert str(parse_host("[fe80::1]:80")) == "[fe80::1]:80"


@pytest.mark.parametrize(
    ("text", "probe", "varserver"),
    [
        ("pvs.lan", "http://pvs.lan", "https://pvs.lan"),
        # A port without a scheme answered HTTP: the varserver stays on HTTP there.
        ("pvs.lan:8080", "http://pvs.lan:8080", "http://pvs.lan:8080"),
        ("https://pvs.lan:8443", "https://pvs.lan:8443", "https://pvs.lan:8443"),
        ("http://pvs.lan/", "http://pvs.lan", "http://pvs.lan"),
    ],
)
def test_pvs_urls(text: str, probe: str, varserver: str) -> None:
    """Where a PVS is asked, before and after login."""
    address = parse_host(text)
    assert probe_url(address) == probe
    assert varserver_url(address) == varserver
