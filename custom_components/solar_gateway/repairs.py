"""Fix flows for the repair issues raised in ``issues``."""

from typing import override

from homeassistant.components.repairs import (
    ConfirmRepairFlow,
    RepairsFlow,
    RepairsFlowResult,
)
from homeassistant.core import HomeAssistant

from .issues import ISSUE_INTERVAL, ISSUE_TOKEN


class ReauthRepairFlow(ConfirmRepairFlow):
    """Confirm, then open the entry's reauthentication to give a new token.

    Home Assistant only offers reauthentication once credentials have failed; this
    lets the owner replace a token before it runs out.
    """

    def __init__(self, entry_id: str) -> None:
        """Fix the entry ``entry_id``."""
        self._entry_id = entry_id

    @override
    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Start reauthentication once confirmed."""
        if user_input is None:
            return await super().async_step_confirm()
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        entry.async_start_reauth(self.hass)
        return self.async_create_entry(data={})


class IntervalRepairFlow(ConfirmRepairFlow):
    """Confirm, then store the gateway's minimum as the interval option."""

    def __init__(self, entry_id: str, option: str, minimum: int) -> None:
        """Set ``option`` of entry ``entry_id`` to ``minimum`` seconds."""
        self._entry_id = entry_id
        self._option = option
        self._minimum = minimum

    @override
    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Write the option once confirmed, then reload the entry with it."""
        if user_input is None:
            return await super().async_step_confirm()
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, self._option: self._minimum}
        )
        # As after the options flow: reload, so polling is set up from the options.
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Return the fix flow of a fixable issue."""
    data = data or {}
    entry_id = str(data.get("entry_id"))
    option, minimum = data.get("option"), data.get("minimum")
    if (
        issue_id.startswith(f"{ISSUE_INTERVAL}_")
        and isinstance(option, str)
        and isinstance(minimum, int)
    ):
        return IntervalRepairFlow(entry_id, option, minimum)
    if issue_id.startswith(f"{ISSUE_TOKEN}_"):
        return ReauthRepairFlow(entry_id)
    # An issue of an older version whose data no longer fits: only acknowledge it.
    return ConfirmRepairFlow()
