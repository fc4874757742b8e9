"""The fault suite's fixtures and its summary table."""

import pytest

from simulator.tls import self_signed_context
from tests.integration.conftest import auto_enable_custom_integrations  # noqa: F401 - fixtures used by the suite

from .harness import OUTCOMES

# cryptography's Rust x509 code looks up the datetime type once, at its first
# certificate. Made under a frozen clock, that would be freezegun's fake type for
# the rest of the session, and every later certificate would fail; make the first
# one here, before any test freezes time.
self_signed_context("fault-suite", ["127.0.0.1"])


@pytest.fixture(autouse=True)
def sockets(socket_enabled: None) -> None:
    """Let the integration reach the simulator on 127.0.0.1."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print, per scenario: requests during the fault, the most in any minute,
    glitches that reached a state, how long recovery took, and (where measured)
    the longest the event loop spent in one callback."""
    if not OUTCOMES:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fault suite")
    write(
        f"{'scenario':44} {'requests':>8} {'max/min':>7} {'glitches':>8} "
        f"{'recovery s':>10} {'loop ms':>7}"
    )
    for o in OUTCOMES:
        recovery = "never" if o.recovery_s is None else f"{o.recovery_s:.0f}"
        loop = (
            "-" if o.longest_callback_s is None else f"{o.longest_callback_s * 1e3:.0f}"
        )
        write(
            f"{o.scenario:44} {o.requests_during_fault:>8} {o.max_per_minute:>7} "
            f"{o.glitches:>8} {recovery:>10} {loop:>7}"
        )
        if o.longest_callback:
            write(f"  longest callback: {o.longest_callback}")
