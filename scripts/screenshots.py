"""Screenshots of the integration in a real Home Assistant, from a real browser.

Run ``scripts/screenshots [FOLDER]`` (default ``docs/images``). It starts
``scripts/develop`` (simulated Envoy and PVS6, the dev user logged in), drives the
Debian ``chromium`` package headless through Playwright (no browser download), and
saves: the integration page, the device pages of the gateways (the Envoy with an
installer token too, with its production switch and export limit), a battery, the
SunVault, an inverter and the system controller, the config flow's first step and the
Energy dashboard. Each device page is also checked as a user reads it: no two
entities of a device share a name and no state is a gateway's raw code; the script
fails when one is. Home Assistant and the simulator are stopped at the end.
"""

import argparse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.request

from playwright.sync_api import (
    Page,
    TimeoutError as PlaywrightTimeoutError,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parent.parent
HOST, PORT = "127.0.0.1", 8123
BASE = f"http://{HOST}:{PORT}"
TOKEN_FILE = ROOT / "config" / "develop_access_token"
LOG = ROOT / "config" / "screenshots-develop.log"
# The first start downloads the frontend and builds packages: give it time.
START_TIMEOUT = 900.0
VIEWPORT = {"width": 1280, "height": 1000}
# A state that reads like a gateway's code: ENCHG_STATE_READY, SELF_CONSUMPTION,
# multimode-ongrid, net-consumption.
RAW_CODE = re.compile(r"^[A-Z0-9]+(_[A-Z0-9]+)+$|^[a-z]+(-[a-z]+)+$")


@dataclass(frozen=True, slots=True)
class Shot:
    """One page to capture."""

    name: str
    path: str
    wait_for: str  # a CSS selector (shadow DOM pierced) that shows the page is drawn


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        sys.exit("screenshots: install Chromium first: apt-get install -y chromium")
    return found


def _port_free() -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, PORT)) != 0


@contextmanager
def _develop() -> Iterator[None]:
    """Run scripts/develop in its own process group; stop it (and only it) after."""
    LOG.parent.mkdir(exist_ok=True)
    with LOG.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own script)
            [str(ROOT / "scripts" / "develop")],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        # TERM to the script alone, as Ctrl-C in a terminal reaches it: it stops
        # Home Assistant, waits for its clean shutdown, then stops the simulator.
        # A signal to the whole group would stop the simulator under a running
        # Home Assistant and signal Home Assistant twice.
        with suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _api(path: str, token: str) -> Any:
    # BASE is a fixed http:// address on this machine.
    request = urllib.request.Request(  # noqa: S310
        BASE + path, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.load(answer)


def _wait_until_ready() -> None:
    """Until both simulated gateways' entities are there (entries loaded)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            token = TOKEN_FILE.read_text().strip()
            states = _api("/api/states", token)
        except OSError, ValueError, urllib.error.URLError:
            time.sleep(2)
            continue
        ids = [state["entity_id"] for state in states]
        if any(re.match(r"sensor\.envoy_\w+_solar_power$", i) for i in ids) and any(
            re.match(r"sensor\.pvs6_\w+_solar_power$", i) for i in ids
        ):
            return
        time.sleep(2)
    sys.exit(f"screenshots: Home Assistant was not ready in time; see {LOG}")


def _open(page: Page, path: str, wait_for: str) -> None:
    page.goto(BASE + path)
    page.wait_for_function(
        "() => document.querySelector('home-assistant')?.hass?.states"
    )
    try:
        page.locator(wait_for).first.wait_for(state="attached", timeout=60_000)
    except PlaywrightTimeoutError:
        print(f"screenshots: {path} did not show {wait_for} in 60 s", file=sys.stderr)
    # Let cards finish drawing (charts animate, icons load).
    page.wait_for_timeout(2500)


def _call_ws(page: Page, message: dict[str, Any]) -> Any:
    return page.evaluate(
        "(message) => document.querySelector('home-assistant').hass.callWS(message)",
        message,
    )


def _devices(page: Page) -> list[dict[str, Any]]:
    devices: list[dict[str, Any]] = _call_ws(
        page, {"type": "config/device_registry/list"}
    )
    return [
        device
        for device in devices
        if any(domain == "solar_gateway" for domain, _ in device["identifiers"])
    ]


def _check_device(page: Page, device: dict[str, Any]) -> list[str]:
    """What would puzzle a user on this device's page."""
    entities: list[dict[str, Any]] = _call_ws(
        page, {"type": "config/entity_registry/list"}
    )
    states = page.evaluate("() => document.querySelector('home-assistant').hass.states")
    problems: list[str] = []
    names: dict[str, str] = {}
    for entity in entities:
        if entity["device_id"] != device["id"] or entity["disabled_by"]:
            continue
        state = states.get(entity["entity_id"])
        if state is None:
            continue
        name = state["attributes"].get("friendly_name", entity["entity_id"])
        if name in names:
            problems.append(f"{name!r} twice: {names[name]}, {entity['entity_id']}")
        names[name] = entity["entity_id"]
        if RAW_CODE.match(state["state"]):
            problems.append(f"{entity['entity_id']} shows {state['state']!r}")
    return problems


def _pick(
    devices: list[dict[str, Any]], model: str, *, skip: frozenset[str] = frozenset()
) -> dict[str, Any] | None:
    return next(
        (
            d
            for d in devices
            if (d["model"] or "").startswith(model) and d["id"] not in skip
        ),
        None,
    )


def _installer_gateway(page: Page) -> str | None:
    """The device id of the gateway whose token is an installer's (its export limit)."""
    entities: list[dict[str, Any]] = _call_ws(
        page, {"type": "config/entity_registry/list"}
    )
    return next(
        (
            e["device_id"]
            for e in entities
            if e["platform"] == "solar_gateway"
            and e["entity_id"].startswith("switch.")
            and e["unique_id"].endswith("_dynamic_export_limit")
        ),
        None,
    )


def _energy_prefs(page: Page) -> None:
    """Put both sites on the Energy dashboard, as a user would."""
    ids = sorted(
        page.evaluate(
            "() => Object.keys(document.querySelector('home-assistant').hass.states)"
        )
    )

    def one(pattern: str) -> str | None:
        return next((i for i in ids if re.fullmatch(pattern, i)), None)

    sources: list[dict[str, Any]] = []
    for gateway in ("envoy", "pvs6"):
        solar = one(rf"sensor\.{gateway}_\w{{6}}_solar_energy")
        if solar:
            sources.append(
                {
                    "type": "solar",
                    "stat_energy_from": solar,
                    "config_entry_solar_forecast": None,
                }
            )
        imported = one(rf"sensor\.{gateway}_\w{{6}}_grid_import_energy")
        exported = one(rf"sensor\.{gateway}_\w{{6}}_grid_export_energy")
        if imported and exported:
            sources.append(
                {
                    "type": "grid",
                    "stat_energy_from": imported,
                    "stat_energy_to": exported,
                    "stat_cost": None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                    "stat_compensation": None,
                    "entity_energy_price_export": None,
                    "number_energy_price_export": None,
                    "cost_adjustment_day": 0,
                }
            )
        charged = one(rf"sensor\.{gateway}_\w{{6}}_battery_charged_energy")
        discharged = one(rf"sensor\.{gateway}_\w{{6}}_battery_discharged_energy")
        if charged and discharged:
            sources.append(
                {
                    "type": "battery",
                    "stat_energy_from": discharged,
                    "stat_energy_to": charged,
                }
            )
    _call_ws(page, {"type": "energy/save_prefs", "energy_sources": sources})
    print(f"screenshots: Energy dashboard with {len(sources)} sources")


def capture(folder: Path) -> int:
    """Take every screenshot into ``folder``; return the number of problems found."""
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox"]
        )
        page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        _open(
            page,
            "/config/integrations/integration/solar_gateway",
            "ha-config-entry-row, ha-integration-card, hass-subpage",
        )
        page.screenshot(path=folder / "integration.png", full_page=True)
        devices = _devices(page)
        installer = _installer_gateway(page)
        by_installer = {d["id"]: d for d in devices if d["id"] == installer}
        wanted = {
            "device-envoy": "IQ Gateway",
            "device-pvs": "PVS",
            "device-battery": "IQ Battery",
            "device-sunvault": "SunVault",
            "device-system-controller": "IQ System Controller",
            "device-inverter": "Microinverter",
        }
        # The owner's Envoy for "device-envoy": the installer's has its own page.
        shots = [
            (name, _pick(devices, model, skip=frozenset(by_installer)), model)
            for name, model in wanted.items()
        ]
        shots.append(
            (
                "device-envoy-installer",
                by_installer.get(installer or ""),
                "IQ Gateway with an installer token",
            )
        )
        for name, device, model in shots:
            if device is None:
                problems.append(f"no device of model {model}")
                continue
            _open(page, f"/config/devices/device/{device['id']}", "ha-device-info-card")
            page.screenshot(path=folder / f"{name}.png", full_page=True)
            found = _check_device(page, device)
            problems += [
                f"{device['name_by_user'] or device['name']}: {p}" for p in found
            ]
            print(f"screenshots: {name}.png ({device['name']}, {model})")
        _open(
            page,
            "/config/integrations/dashboard/add?domain=solar_gateway",
            "ha-config-flow-card, dialog-data-entry-flow, ha-dialog",
        )
        # Home Assistant first asks whether to set it up; the form comes after.
        confirm = page.get_by_role("button", name="OK")
        if confirm.count():
            confirm.first.click()
        page.wait_for_timeout(3000)
        page.screenshot(path=folder / "config-flow.png")
        _energy_prefs(page)
        _open(page, "/energy", "hui-energy-distribution-card, ha-panel-energy")
        page.wait_for_timeout(3000)
        page.screenshot(path=folder / "energy.png", full_page=True)
        browser.close()
    for problem in problems:
        print(f"screenshots: {problem}", file=sys.stderr)
    return len(problems)


def main() -> None:
    """Start Home Assistant, capture, stop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", nargs="?", default="docs/images", type=Path)
    folder: Path = parser.parse_args().folder
    _chromium()
    if not _port_free():
        sys.exit(
            f"screenshots: port {PORT} is in use (another Home Assistant?); "
            "stop it first"
        )
    with _develop():
        _wait_until_ready()
        problems = capture(folder if folder.is_absolute() else ROOT / folder)
    print(f"screenshots: saved in {folder}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
