"""Repair issues: problems the owner has to act on, checked at setup and after
every device or settings poll.

- An Envoy token that has run out, or runs out within 30 days, and cannot be renewed
  (a pasted token, no Enphase account stored): fixable, the fix starts reauth.
- A PVS whose flash memory reports most or all of its rated write life used.
- A polling interval option below what the gateway bears (options written before a
  firmware or API change lowered nothing, but raised the floor): fixable, the fix
  stores the minimum.

Every check is cheap (no request to the gateway) and deletes its issue once resolved.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN, INTERVAL_OPTIONS
from .coordinator import SolarGatewayConfigEntry, SolarGatewayData
from .gateway.client import AccessExpiry, DataGroup, GatewayClient
from .gateway.site import DeviceKind, Quantity, SiteSnapshot

TOKEN_WARNING: Final = timedelta(days=30)
# eMMC life estimates come in tenths (level 0x0A: 90-100 % used, reported as 100 %;
# 0x0B: beyond the rated life, 110 %).
FLASH_WEAR_HIGH: Final = 100
FLASH_WORN_OUT: Final = 110

ISSUE_TOKEN: Final = "token"  # noqa: S105 - an issue id prefix, not a secret
ISSUE_FLASH_WEAR: Final = "flash_wear"
ISSUE_INTERVAL: Final = "interval"


@dataclass(frozen=True, slots=True)
class TokenProblem:
    """A token the integration cannot renew, and when it stops (or stopped) working."""

    expires: datetime
    expired: bool


def token_problem(expiry: AccessExpiry | None, now: datetime) -> TokenProblem | None:
    """Return the problem with the credential in use, or None when there is none."""
    if expiry is None or expiry.renewable:
        return None
    if expiry.expires - TOKEN_WARNING > now:
        return None
    return TokenProblem(expires=expiry.expires, expired=expiry.expires <= now)


def flash_wear(snapshot: SiteSnapshot) -> int | None:
    """The gateway's flash wear in % of its rated life, when it reports it."""
    for device in snapshot.of_kind(DeviceKind.GATEWAY):
        value = device.get(Quantity.FLASH_WEAR)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return round(value)
    return None


def intervals_too_short(
    options: Mapping[str, object], minimum: Mapping[DataGroup, timedelta]
) -> dict[DataGroup, tuple[int, int]]:
    """The groups whose interval option is below the gateway's floor:
    ``{group: (chosen seconds, minimum seconds)}``."""
    found: dict[DataGroup, tuple[int, int]] = {}
    for group, floor in minimum.items():
        chosen = options.get(INTERVAL_OPTIONS[group])
        if not isinstance(chosen, int | float) or isinstance(chosen, bool):
            continue
        if timedelta(seconds=chosen) < floor:
            found[group] = (round(chosen), round(floor.total_seconds()))
    return found


def issue_id(kind: str, entry: SolarGatewayConfigEntry, suffix: str = "") -> str:
    """The id of one kind of issue for one entry."""
    return f"{kind}_{entry.entry_id}{f'_{suffix}' if suffix else ''}"


@callback
def async_check_issues(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, runtime: SolarGatewayData
) -> None:
    """Raise or clear every issue of ``entry`` from what the hub knows now."""
    _check_token(hass, entry, runtime.client)
    _check_flash_wear(hass, entry, runtime.snapshot)
    _check_intervals(hass, entry, runtime.client)


@callback
def async_watch_issues(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, runtime: SolarGatewayData
) -> CALLBACK_TYPE:
    """Check now and after every device or settings poll; the returned callback
    stops and clears."""
    async_check_issues(hass, entry, runtime)
    remove_listener = runtime.async_add_structure_listener(
        lambda: async_check_issues(hass, entry, runtime)
    )

    @callback
    def stop() -> None:
        remove_listener()
        # Issues describe a running entry; setup checks again from scratch.
        async_delete_issues(hass, entry)

    return stop


@callback
def async_delete_issues(hass: HomeAssistant, entry: SolarGatewayConfigEntry) -> None:
    """Delete every issue raised for ``entry``."""
    prefix = tuple(
        issue_id(kind, entry)
        for kind in (ISSUE_TOKEN, ISSUE_FLASH_WEAR, ISSUE_INTERVAL)
    )
    registry = ir.async_get(hass)
    for domain, found in list(registry.issues):
        if domain == DOMAIN and found.startswith(prefix):
            ir.async_delete_issue(hass, DOMAIN, found)


def _check_token(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, client: GatewayClient
) -> None:
    problem = token_problem(client.access_expiry, dt_util.utcnow())
    identifier = issue_id(ISSUE_TOKEN, entry)
    if problem is None:
        ir.async_delete_issue(hass, DOMAIN, identifier)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        identifier,
        is_fixable=True,
        is_persistent=False,
        # Expired: data has stopped; expiring: it will.
        severity=ir.IssueSeverity.ERROR
        if problem.expired
        else ir.IssueSeverity.WARNING,
        translation_key="token_expired" if problem.expired else "token_expiring",
        translation_placeholders={
            "title": entry.title,
            "expires": dt_util.as_local(problem.expires).strftime("%Y-%m-%d %H:%M"),
        },
        data={"entry_id": entry.entry_id},
    )


def _check_flash_wear(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, snapshot: SiteSnapshot
) -> None:
    wear = flash_wear(snapshot)
    identifier = issue_id(ISSUE_FLASH_WEAR, entry)
    if wear is None or wear < FLASH_WEAR_HIGH:
        ir.async_delete_issue(hass, DOMAIN, identifier)
        return
    worn_out = wear >= FLASH_WORN_OUT
    ir.async_create_issue(
        hass,
        DOMAIN,
        identifier,
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR if worn_out else ir.IssueSeverity.WARNING,
        translation_key="flash_worn_out" if worn_out else "flash_wear_high",
        translation_placeholders={"title": entry.title, "percent": str(wear)},
    )


def _check_intervals(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, client: GatewayClient
) -> None:
    too_short = intervals_too_short(entry.options, client.minimum_intervals)
    for group in DataGroup:
        identifier = issue_id(ISSUE_INTERVAL, entry, group.value)
        if group not in too_short:
            ir.async_delete_issue(hass, DOMAIN, identifier)
            continue
        chosen, minimum = too_short[group]
        ir.async_create_issue(
            hass,
            DOMAIN,
            identifier,
            is_fixable=True,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=f"{group.value}_interval_too_short",
            translation_placeholders={
                "title": entry.title,
                "interval": str(chosen),
                "minimum": str(minimum),
            },
            data={
                "entry_id": entry.entry_id,
                "option": INTERVAL_OPTIONS[group],
                "minimum": minimum,
            },
        )
