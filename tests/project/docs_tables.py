"""The README's generated parts: entity tables and the polling table, from the code.

Each part sits in README.md between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->``. ``tests/project/test_docs.py`` sets the integration up
against every fixture scenario through the simulator, renders the parts from what it
registered and read, and fails when the README differs; run it with
``SOLAR_GATEWAY_UPDATE_README=1`` to rewrite them.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import re

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.solar_gateway.connection import client_from_data, gateway_session
from custom_components.solar_gateway.const import DOMAIN
from custom_components.solar_gateway.coordinator import SolarGatewayData
from custom_components.solar_gateway.gateway.client import DataGroup, PollingRule
from custom_components.solar_gateway.gateway.site import DeviceKind
from simulator.clock import ManualClock
from tests.conftest import PROJECT_ROOT
from tests.integration.simulated import NOON, simulated_entry

README = PROJECT_ROOT / "README.md"
TRANSLATIONS = PROJECT_ROOT / "custom_components" / DOMAIN / "translations" / "en.json"

# Headings of the entity tables, in the order a user meets the devices.
KIND_TITLES: Mapping[str, str] = {
    DeviceKind.GATEWAY: "Gateway (the site)",
    DeviceKind.METER: "Meters (Envoy CTs, PVS production and consumption meters)",
    DeviceKind.INVERTER: "Inverters",
    DeviceKind.BATTERY: "Batteries (IQ Battery, AC Battery, SunVault)",
    DeviceKind.SYSTEM_CONTROLLER: "IQ System Controller",
    DeviceKind.RELAY: "Dry-contact relays",
    DeviceKind.COLLAR: "IQ Meter Collar",
    DeviceKind.COMBINER: "IQ Combiner",
    DeviceKind.ESS: "SunVault energy storage system",
    DeviceKind.ESS_HUB: "SunVault hub",
    DeviceKind.BATTERY_MANAGEMENT: "SunVault battery management",
    DeviceKind.STORAGE_INVERTER: "SunVault storage inverter",
    DeviceKind.PV_DISCONNECT: "PV disconnect",
    DeviceKind.TRANSFER_SWITCH: "Transfer switch",
    DeviceKind.GENERATOR: "Generator",
}
PLATFORM_ORDER = (
    "sensor",
    "binary_sensor",
    "switch",
    "select",
    "number",
    "time",
    "button",
)
GROUP_TITLES: Mapping[DataGroup, str] = {
    DataGroup.LIVE: "Power and meters",
    DataGroup.DEVICES: "Inverters and devices",
    DataGroup.SETTINGS: "Settings and inventory",
}
# One scenario per kind of gateway for the polling table.
POLLING_SCENARIOS: Mapping[str, str] = {
    "envoy/metered_battery": "Envoy, metered (CTs, batteries)",
    "envoy/legacy_production": "Envoy, not metered",
    "pvs/legacy_basic": "PVS, legacy API",
    "pvs/varserver": "PVS, varserver API",
}
BRANDS = {"envoy": "Envoy", "pvs": "PVS"}


@dataclass(frozen=True, slots=True)
class EntityRow:
    """One registered entity, as the README's tables describe it."""

    brand: str  # "Envoy" or "PVS"
    kind: str  # DeviceKind value
    platform: str
    key: str  # translation key, or "" for an entity named after its device
    phase: str | None
    unit: str | None
    category: str | None
    enabled: bool
    entity_id: str


def _names() -> dict[tuple[str, str], str]:
    data = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))
    return {
        (platform, key): str(value.get("name", key))
        for platform, entities in data["entity"].items()
        for key, value in entities.items()
    }


def _phase(original_name: str | None, template: str) -> str | None:
    """The ``{phase}`` an entity's name filled in, if its name has one."""
    if original_name is None or "{phase}" not in template:
        return None
    pattern = re.escape(template).replace(re.escape("{phase}"), "(.+)")
    match = re.fullmatch(pattern, original_name)
    return match.group(1) if match else None


def registered_entities(
    hass: HomeAssistant, entry_id: str, brand: str
) -> list[EntityRow]:
    """Every entity the integration registered for one entry, with its device kind."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    hub: SolarGatewayData = entry.runtime_data
    names = _names()
    rows: list[EntityRow] = []
    for entity in er.async_entries_for_config_entry(entities, entry_id):
        device = devices.async_get(entity.device_id) if entity.device_id else None
        serials = {v for d, v in device.identifiers if d == DOMAIN} if device else set()
        found = next(
            (d for s in serials if (d := hub.snapshot.device(s)) is not None), None
        )
        kind = found.kind.value if found else DeviceKind.GATEWAY.value
        platform = entity.domain
        key = entity.translation_key or ""
        rows.append(
            EntityRow(
                brand=brand,
                kind=kind,
                platform=platform,
                key=key,
                phase=_phase(entity.original_name, names.get((platform, key), "")),
                unit=entity.unit_of_measurement,
                category=entity.entity_category.value
                if entity.entity_category
                else None,
                enabled=entity.disabled_by is None,
                entity_id=entity.entity_id,
            )
        )
    return rows


def _note(rows: list[EntityRow]) -> str:
    notes = []
    categories = sorted({r.category for r in rows if r.category})
    notes.extend(categories)
    if not any(r.enabled for r in rows):
        notes.append("disabled by default")
    return "; ".join(notes)


def render_entity_tables(rows: Iterable[EntityRow]) -> str:
    """Markdown: one table per device kind, one row per entity name (phases merged)."""
    names = _names()
    by_kind: dict[str, dict[tuple[str, str], list[EntityRow]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        # Rows with the same shown name are one row (per-phase entities share theirs,
        # the Envoy and the PVS reserve differ only in key).
        template = names.get((row.platform, row.key), "") if row.key else ""
        by_kind[row.kind][(row.platform, template)].append(row)
    parts: list[str] = []
    for kind in KIND_TITLES:
        if kind not in by_kind:
            continue
        entries = by_kind[kind]
        parts.append(f"#### {KIND_TITLES[kind]}\n")
        parts.append("| Entity | Platform | Unit | Envoy | PVS | Notes |")
        parts.append("|---|---|---|---|---|---|")
        ordered = sorted(
            entries.items(),
            key=lambda item: (PLATFORM_ORDER.index(item[0][0]), item[0][1]),
        )
        for (platform, template), group in ordered:
            phases = ", ".join(sorted({r.phase for r in group if r.phase}))
            name = (
                template.replace("{phase}", phases)
                if template
                else "(named after the device)"
            )
            units = ", ".join(sorted({r.unit for r in group if r.unit}))
            brands = {r.brand for r in group}
            parts.append(
                f"| {name} | {platform} | {units} "
                f"| {'yes' if 'Envoy' in brands else ''} "
                f"| {'yes' if 'PVS' in brands else ''} | {_note(group)} |"
            )
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


@dataclass(frozen=True, slots=True)
class PollingFigures:
    """What one kind of gateway is asked, at the default intervals."""

    title: str
    rules: Mapping[DataGroup, PollingRule]
    paths: Mapping[DataGroup, tuple[str, ...]]
    requests_per_hour: int
    per_path: Mapping[str, int]  # requests in the hour, by path
    # A battery-mode change from Home Assistant: the settings requests in the
    # following ``CHANGE_WINDOW`` (the write, its read-back, follow-up reads), by
    # path; None where the gateway has no battery mode.
    change_cost: Mapping[str, int] | None = None


# How long after a battery-mode change its requests are counted (the Envoy follows
# the tariff for 5 minutes after a write).
CHANGE_WINDOW = timedelta(minutes=10)


async def measure_polling(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, scenario: str
) -> PollingFigures:
    """Set up ``scenario``, list what each group reads, count the requests of an
    hour of running (the second after the start)."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    clock = ManualClock(NOON)
    async with simulated_entry(hass, scenario, clock) as (entry, gateway):
        hub: SolarGatewayData = entry.runtime_data
        client = hub.client
        stats = client.transport.stats
        paths: dict[DataGroup, tuple[str, ...]] = {}
        for group in hub.coordinators:
            # A client of its own that knows the site, a measurement later, so that
            # a group shows what it reads alone (a legacy PVS's groups share the
            # DeviceList the first one read until the PVS has a newer one).
            reader = client_from_data(gateway_session(hass), entry.data)
            await reader.setup()
            await reader.refresh(frozenset(hub.coordinators))
            later = reader.now() + timedelta(minutes=5)
            reader.now = lambda later=later: later  # type: ignore[method-assign]
            last = reader.transport.last_responses
            # A fresh answer object for every request this group's read sent.
            before = dict(last)
            await reader.refresh(frozenset({group}))
            paths[group] = tuple(
                sorted(
                    # The fixture's serial says nothing to a reader.
                    p.replace(client.identity.serial, "<serial>")
                    for p, r in last.items()
                    if before.get(p) is not r
                )
            )
        # The first hour settles (setup's reads, the hourly ones it stands for); the
        # second is what every hour of a real run sends.
        await _run_for(hass, freezer, clock, timedelta(hours=1))
        start = stats.requests
        start_paths = stats.by_path.copy()
        await _run_for(hass, freezer, clock, timedelta(hours=1))
        hour = stats.by_path - start_paths
        requests = stats.requests - start
        change_cost = None
        mode = hub.snapshot.control("battery_mode")
        entity_id = er.async_get(hass).async_get_entity_id(
            "select", DOMAIN, f"{client.identity.serial}_battery_mode"
        )
        settings_rule = client.polling.get(DataGroup.SETTINGS)
        if (
            mode is not None
            and entity_id is not None
            and settings_rule is not None
            # Settings read hourly: none of their own reads falls in the window.
            and settings_rule.default >= 2 * CHANGE_WINDOW
        ):
            # Past the hourly settings read, which fell due as the hour ended.
            await _run_for(hass, freezer, clock, timedelta(minutes=1))
            option = next(o for o in mode.options if o != mode.value)
            changed_at = clock.now()
            await hass.services.async_call(
                "select",
                "select_option",
                {"entity_id": entity_id, "option": option},
                blocking=True,
            )
            await _run_for(hass, freezer, clock, CHANGE_WINDOW)
            # The settings are otherwise read hourly: the write and every read of
            # theirs in the window are the change's.
            settings = set(paths.get(DataGroup.SETTINGS, ()))
            serial = client.identity.serial
            change_cost = Counter(
                request.path.split("?", 1)[0]
                for request in gateway.requests
                if request.time >= changed_at
                and (
                    request.method != "GET"
                    or request.path.replace(serial, "<serial>") in settings
                )
            )
        return PollingFigures(
            title=POLLING_SCENARIOS[scenario],
            rules={g: client.polling[g] for g in hub.coordinators},
            paths=paths,
            requests_per_hour=requests,
            per_path={
                p.replace(client.identity.serial, "<serial>"): n
                for p, n in hour.items()
            },
            change_cost=change_cost,
        )


async def _run_for(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    clock: ManualClock,
    duration: timedelta,
) -> None:
    """Move Home Assistant's clock and the simulated gateway's together."""
    step = timedelta(seconds=5)
    for _ in range(int(duration / step)):
        clock.advance(step.total_seconds())
        freezer.tick(step)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def render_polling_table(figures: Iterable[PollingFigures]) -> str:
    """Markdown: per gateway kind and group, default interval, allowed range, reads."""
    lines = [
        "| Gateway | Data | Default | Allowed | Reads |",
        "|---|---|---|---|---|",
    ]
    totals = []
    for figure in figures:
        for group in DataGroup:
            if (rule := figure.rules.get(group)) is None:
                continue
            allowed = (
                f"{_duration(rule.minimum)} to {_duration(rule.maximum)}"
                if rule.adjustable
                else "fixed (the gateway's cadence)"
            )
            reads = ", ".join(f"`{p}`" for p in figure.paths[group]) or "nothing here"
            lines.append(
                f"| {figure.title} | {GROUP_TITLES[group]} "
                f"| {_duration(rule.default)} | {allowed} | {reads} |"
            )
        by_path = ", ".join(
            f"`{p}` {n}"
            for p, n in sorted(figure.per_path.items(), key=lambda i: (-i[1], i[0]))
        )
        totals.append(f"| {figure.title} | {figure.requests_per_hour} | {by_path} |")
    lines += [
        "",
        (
            "Requests in an hour of running at the default intervals (the second "
            "hour after a start), counted on the simulator:"
        ),
        "",
        "| Gateway | Requests per hour | By endpoint |",
        "|---|---|---|",
        *totals,
    ]
    changes = [
        f"| {figure.title} | +{sum(cost.values())} | "
        + ", ".join(
            f"`{p}` {n}" for p, n in sorted(cost.items(), key=lambda i: (-i[1], i[0]))
        )
        + " |"
        for figure in figures
        if (cost := figure.change_cost) is not None
    ]
    if changes:
        lines += [
            "",
            (
                "A battery-mode change from Home Assistant adds, in the "
                f"{_duration(CHANGE_WINDOW)} that follow (the write, the settings "
                "read back at once, the follow-up reads of the Envoy's tariff):"
            ),
            "",
            "| Gateway | Requests added | By endpoint |",
            "|---|---|---|",
            *changes,
        ]
    return "\n".join(lines) + "\n"


def generated_parts(text: str) -> dict[str, str]:
    """The generated parts of a README, by name."""
    return {
        match.group(1): match.group(2)
        for match in re.finditer(
            r"<!-- generated:(\S+) -->\n(.*?)<!-- /generated:\1 -->", text, re.S
        )
    }


def replace_part(text: str, name: str, content: str) -> str:
    """``text`` with the generated part ``name`` replaced by ``content``."""
    pattern = re.compile(
        rf"(<!-- generated:{re.escape(name)} -->\n).*?(<!-- /generated:{re.escape(name)} -->)",
        re.S,
    )
    if not pattern.search(text):
        raise ValueError(f"README has no generated part {name!r}")
    return pattern.sub(lambda m: m.group(1) + content + m.group(2), text)


def update_or_compare(path: Path, name: str, content: str, update: bool) -> str | None:
    """Rewrite part ``name`` of ``path`` (update) or return a message if it differs."""
    text = path.read_text(encoding="utf-8")
    current = generated_parts(text).get(name)
    if current == content:
        return None
    if update:
        path.write_text(replace_part(text, name, content), encoding="utf-8")
        return None
    return (
        f"README part {name!r} is out of date with the code; regenerate it with "
        "SOLAR_GATEWAY_UPDATE_README=1 .venv/bin/pytest tests/project/test_docs.py"
    )
