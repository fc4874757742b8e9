"""The Envoy conformance tests hold on any folder of real captures.

A user points ``SOLAR_GATEWAY_CORPUS`` at what they captured: sets of a few
endpoints, endpoints refused with an HTML error page where JSON was expected, error
documents saved without their status. The conformance tests must compute their
expectations from such files and pass, not crash on them. Here a corpus of that kind
is built from the project's fixtures and the conformance tests are run on it.
"""

from pathlib import Path
import re
import shutil
import subprocess
import sys

from tests.conftest import FIXTURES, PROJECT_ROOT

ENVOY = FIXTURES / "envoy"
CONFORMANCE = (
    "tests/gateway/envoy/test_corpus.py",
    "tests/gateway/envoy/test_limits.py",
    "tests/gateway/envoy/test_fixture_info.py",
    "tests/gateway/envoy/test_generator.py",
)
# What nginx on an Envoy answers a request the token may not make.
HTML_401 = (
    b"<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
    b"<center><h1>401 Authorization Required</h1></center>\r\n"
    b"<hr><center>openresty/1.17.8.1</center>\r\n</body>\r\n</html>\r\n"
)
NOT_FOUND = b'{ "error" : "404 - Not Found" }\n'
NOT_FOUND_ERR = b' { "err": "404 - Not Found" }\n'


def _copy(source: Path, target: Path, names: tuple[str, ...] | None = None) -> Path:
    target.mkdir(parents=True)
    for file in sorted(source.iterdir()):
        if names is None or file.name.split("_log.json")[0] in names:
            shutil.copy(file, target / file.name)
    return target


def _corpus(root: Path) -> None:
    envoy = root / "envoy"
    # Export limit, PV limit and generator settings saved as the 401 page (no log:
    # the capture tool kept the body only), the battery aggregate refused with it.
    refused = _copy(ENVOY / "acb", envoy / "8.2.4382_refused")
    for name in ("ivp_ss_pel_settings", "ivp_sc_pvlimit", "ivp_ss_gen_config"):
        (refused / name).write_bytes(HTML_401)
    (refused / "ivp_ensemble_secctrl").write_bytes(HTML_401)
    (refused / "ivp_ensemble_secctrl_log.json").write_text(
        '{"code": 401, "headers": {"content-type": "text/html"}}'
    )
    # A few endpoints only, no production source among them.
    _copy(ENVOY / "metered_battery", envoy / "8.2.4286_few", ("info", "ivp_meters"))
    # A few endpoints, one an error document kept without its 404.
    few = _copy(
        ENVOY / "legacy_production",
        envoy / "3.9.36_few",
        ("info", "api_v1_production_inverters"),
    )
    (few / "ivp_ensemble_inventory").write_bytes(NOT_FOUND)
    (few / "ivp_sc_pvlimit").write_bytes(NOT_FOUND_ERR)
    # The generator set with its settings refused.
    generator = _copy(ENVOY / "generator_running", envoy / "8.3.5169_with_generator")
    for name in ("ivp_ss_gen_mode", "ivp_ss_gen_schedule"):
        (generator / name).write_bytes(HTML_401)


def test_conformance_passes_on_captures_of_any_shape(tmp_path: Path) -> None:
    """Run against such a corpus, the conformance tests pass and none is skipped
    for want of captures."""
    _corpus(tmp_path)
    result = subprocess.run(  # noqa: S603 - our own interpreter and test files
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:randomly",
            "-p",
            "no:cov",
            *CONFORMANCE,
        ],
        cwd=PROJECT_ROOT,
        env={"SOLAR_GATEWAY_CORPUS": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for name in ("8.2.4382_refused", "8.2.4286_few", "3.9.36_few", "8.3.5169"):
        assert re.search(rf"test_capture_set\[{name}[^]]*\] PASSED", result.stdout)
    assert "test_settings_as_the_gateway_reports_them[corpus] SKIPPED" in result.stdout
    assert re.search(
        r"test_fixture_info_has_the_shape_of_a_real_one\[acb\] PASSED", result.stdout
    )
