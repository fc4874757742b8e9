"""The command line: address plan, --json output, errors."""

import asyncio
import io
import json
from pathlib import Path

import pytest

from custom_components.solar_gateway.gateway.capture import capture_to_json
from simulator import cli
from simulator.capture import SourceError, load_source
from simulator.cli import Endpoint, loopback_address, parse_listen, plan_endpoints
from simulator.kinds import identify
from tests.captures import write_capture

from .test_envoy import envoy_capture
from .test_pvs import varserver_capture


def test_loopback_addresses_one_per_gateway() -> None:
    """Gateways get 127.0.0.2, 127.0.0.3... on the real ports."""
    assert plan_endpoints(2, []) == [
        Endpoint("127.0.0.2", 80, 443),
        Endpoint("127.0.0.3", 80, 443),
    ]
    assert loopback_address(252) == "127.0.0.254"
    with pytest.raises(ValueError):
        loopback_address(253)


def test_listen_plans() -> None:
    """One --listen per source, one for all (ports step by 2), or free ports."""
    assert plan_endpoints(2, [("127.0.0.1", 8000), ("::1", 9000)]) == [
        Endpoint("127.0.0.1", 8000, 8001),
        Endpoint("::1", 9000, 9001),
    ]
    assert plan_endpoints(2, [("127.0.0.1", 8000)]) == [
        Endpoint("127.0.0.1", 8000, 8001),
        Endpoint("127.0.0.1", 8002, 8003),
    ]
    assert plan_endpoints(2, [("127.0.0.1", 0)]) == [Endpoint("127.0.0.1", 0, 0)] * 2
    with pytest.raises(ValueError):
        plan_endpoints(3, [("a", 1), ("b", 2)])


def test_parse_listen() -> None:
    """HOST:PORT, with brackets for IPv6."""
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:80") == ("::1", 80)
    for bad in ("8080", ":80", "host:x", "host:70000"):
        with pytest.raises(Exception, match="HOST:PORT"):
            parse_listen(bad)


def write(folder: Path, capture_responses: dict[str, object]) -> None:
    """Write a capture given as file name -> CapturedResponse."""
    folder.mkdir()
    for name, response in capture_responses.items():
        (folder / name).write_bytes(response.body)  # type: ignore[attr-defined]


async def test_json_lines_for_each_gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--json prints kind, address, serial, firmware and a working token."""
    envoy, pvs = tmp_path / "envoy", tmp_path / "pvs"
    write(envoy, dict(envoy_capture().responses))
    # The PVS travels inside a diagnostics download.
    diagnostics = tmp_path / "diagnostics.json"
    diagnostics.write_text(
        json.dumps({"data": {"capture": capture_to_json(varserver_capture())}})
    )
    del pvs
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    ready = asyncio.Event()
    task = asyncio.create_task(
        cli.run(
            [
                "--json",
                "--listen",
                "127.0.0.1:0",
                "--fault",
                "stale:60",
                str(envoy),
                str(diagnostics),
            ],
            ready=ready,
        )
    )
    await asyncio.wait_for(ready.wait(), 10)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["kind"] for line in lines] == ["envoy", "pvs_varserver"]
    first = lines[0]
    assert first["serial"] == "122233344455"
    assert first["firmware"] == "D8.2.4286"
    assert first["address"] == "127.0.0.1"
    assert first["https_url"].startswith("https://127.0.0.1:")
    assert first["token"]
    assert lines[1]["token"] is None
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{first['url']}/ivp/meters",
            headers={"Authorization": f"Bearer {first['token']}"},
        ) as response,
    ):
        assert response.status == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_installer_token_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--installer-token SOURCE: served after the others, with an installer token the
    installer-only export limit answers (an owner's is refused it)."""
    import aiohttp
    import jwt

    from tests.conftest import FIXTURES

    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    ready = asyncio.Event()
    generator = FIXTURES / "envoy" / "generator_running"
    task = asyncio.create_task(
        cli.run(
            [
                "--json",
                "--listen",
                "127.0.0.1:0",
                str(generator),
                "--installer-token",
                str(generator),
            ],
            ready=ready,
        )
    )
    await asyncio.wait_for(ready.wait(), 10)
    owner, installer = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (owner["token_user"], installer["token_user"]) == ("owner", "installer")
    claims = jwt.decode(installer["token"], options={"verify_signature": False})
    assert claims["enphaseUser"] == "installer"
    async with aiohttp.ClientSession() as session:
        for line, status in ((owner, 401), (installer, 200)):
            async with session.get(
                f"{line['url']}/ivp/ss/dpel",
                headers={"Authorization": f"Bearer {line['token']}"},
            ) as response:
                assert response.status == status
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_token_user_must_be_an_envoy_user() -> None:
    """Only owners and installers get tokens."""
    from simulator.server import SimulatorOptions

    with pytest.raises(ValueError, match="token_user"):
        SimulatorOptions(token_user="admin")


async def test_human_output_and_stop_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --json, one line per gateway (and its token); SIGTERM stops cleanly."""
    import os
    import signal

    envoy = tmp_path / "envoy"
    write(envoy, dict(envoy_capture().responses))
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    ready = asyncio.Event()
    task = asyncio.create_task(
        cli.run(["--listen", "127.0.0.1:0", str(envoy)], ready=ready)
    )
    await asyncio.wait_for(ready.wait(), 10)
    assert out.getvalue().startswith(
        "envoy 122233344455 D8.2.4286 at http://127.0.0.1:"
    )
    assert "owner token: " in out.getvalue()
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, 10) == 0


async def test_bad_sources_and_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown captures, bad faults and taken ports end with a message, not a trace."""
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert await cli.run([str(empty)]) == 2
    assert await cli.run([str(tmp_path / "missing")]) == 2
    envoy = tmp_path / "envoy"
    write(envoy, dict(envoy_capture().responses))
    assert await cli.run(["--fault", "meteor", str(envoy)]) == 2
    assert await cli.run(["--listen", "a:1", "--listen", "b:2", str(envoy)]) == 2
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.json").write_text("{}")
    assert await cli.run([str(other)]) == 2
    assert "not a known gateway capture" in err.getvalue()
    # A port already taken: the simulator says so and ends.
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert await cli.run(["--listen", f"127.0.0.1:{port}", str(envoy)]) == 1
    assert "cannot listen" in err.getvalue()


def test_sources(tmp_path: Path) -> None:
    """Folders, diagnostics files and their errors."""
    write_capture(
        tmp_path / "w",
        {"/info": (200, {}, b"<envoy_info><device><sn>1</sn></device></envoy_info>")},
    )
    assert identify(load_source(tmp_path / "w")).serial == "1"
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(SourceError):
        load_source(bad)
    none = tmp_path / "none.json"
    none.write_text("{}")
    with pytest.raises(SourceError):
        load_source(none)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "info").write_text("<envoy_info><unclosed>")
    with pytest.raises(SourceError):
        identify(load_source(tmp_path / "broken"))


def test_module_entry_point(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``python -m simulator`` runs the CLI and exits with its status."""
    import runpy

    monkeypatch.setattr("sys.argv", ["simulator", str(tmp_path / "missing")])
    monkeypatch.setattr("sys.stderr", io.StringIO())
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("simulator", run_name="__main__")
    assert exited.value.code == 2


async def test_certificate_names_hosts() -> None:
    """Addresses and names both go into the self-signed certificate it serves."""
    import ipaddress
    import ssl

    from cryptography import x509

    from simulator.tls import self_signed_context

    context = self_signed_context("gw", ["127.0.0.1", "envoy.local"])
    server = await asyncio.start_server(
        lambda _r, w: w.close(), "127.0.0.1", 0, ssl=context
    )
    port = server.sockets[0].getsockname()[1]
    client = ssl.create_default_context()
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    async with server:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
    names = (
        x509.load_der_x509_certificate(der)
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1")
    ]
    assert names.get_values_for_type(x509.DNSName) == ["envoy.local"]
