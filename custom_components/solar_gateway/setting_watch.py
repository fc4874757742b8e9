"""Settings changed from Home Assistant that the gateway's cloud may put back.

After a write, the client asks to read the setting again a few times
(``GatewayClient.follow_up_in``; an Envoy's tariff at 30 s, 2 and 5 minutes, as the
Enphase cloud overwrites local battery settings within minutes). Those reads run
between polls, as a write's read-back does, and their answer is shared at once. An
override the client notices (``SiteSnapshot.overrides``) fires one
``solar_gateway_setting_overridden`` event, for automations; the repair issue that
explains it is raised in ``issues.py``. Nothing here writes: Home Assistant never
argues with the cloud.
"""

import logging
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_call_later

from .const import DOMAIN
from .control import CHANGED_BY
from .coordinator import SolarGatewayConfigEntry, SolarGatewayData
from .gateway.client import DataGroup
from .gateway.errors import GatewayError
from .gateway.site import SettingOverride, SiteSnapshot

LOGGER = logging.getLogger(__name__)

EVENT_SETTING_OVERRIDDEN: Final = f"{DOMAIN}_setting_overridden"


def override_entity_id(
    hass: HomeAssistant, snapshot: SiteSnapshot, override: SettingOverride
) -> str | None:
    """The entity id of the control an override concerns, when it has one."""
    control = snapshot.control(override.key, override.device)
    if control is None:
        return None
    unique_id = f"{override.device or snapshot.identity.serial}_{override.key}"
    # A control's kind is the platform that shows it.
    return er.async_get(hass).async_get_entity_id(control.kind.value, DOMAIN, unique_id)


class SettingWatch:
    """Runs the follow-up reads the client asks for and tells of overrides."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarGatewayConfigEntry,
        runtime: SolarGatewayData,
    ) -> None:
        """Watch ``runtime``; overrides already standing are not told again."""
        self._hass = hass
        self._entry = entry
        self._runtime = runtime
        self._told = frozenset(runtime.snapshot.overrides)
        self._cancel: CALLBACK_TYPE | None = None

    @callback
    def async_update(self) -> None:
        """After a write or a settings poll: tell new overrides, plan the next read."""
        self._tell_overrides()
        self._schedule()

    @callback
    def async_stop(self) -> None:
        """Cancel a follow-up read still planned."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None

    def _schedule(self) -> None:
        self.async_stop()
        delay = self._runtime.client.follow_up_in()
        if delay is not None:
            self._cancel = async_call_later(self._hass, delay, self._follow_up)

    async def _follow_up(self, _now: object) -> None:
        self._cancel = None
        runtime = self._runtime
        try:
            # Between polls, like a write's read-back; the answer is shared at once
            # as the settings' (whose update then plans the next read).
            await runtime.async_write(
                runtime.client.follow_up, frozenset({DataGroup.SETTINGS})
            )
        except GatewayError as err:
            # The next poll of the settings shows what the gateway holds.
            LOGGER.debug("Reading the settings again after a write failed: %s", err)
            self._schedule()

    def _tell_overrides(self) -> None:
        snapshot = self._runtime.snapshot
        standing = frozenset(snapshot.overrides)
        for override in snapshot.overrides:
            if override in self._told:
                continue
            self._hass.bus.async_fire(
                EVENT_SETTING_OVERRIDDEN,
                {
                    "entry_id": self._entry.entry_id,
                    "entity_id": override_entity_id(self._hass, snapshot, override),
                    "setting": override.key,
                    "written": override.written,
                    "written_at": override.written_at.isoformat(),
                    "value": override.value,
                    "changed_by": CHANGED_BY[override.changed_by],
                    "changed_at": override.changed_at.isoformat(),
                },
            )
        self._told = standing


@callback
def async_watch_settings(
    hass: HomeAssistant, entry: SolarGatewayConfigEntry, runtime: SolarGatewayData
) -> CALLBACK_TYPE:
    """Follow written settings from now on; the returned callback stops."""
    watch = SettingWatch(hass, entry, runtime)
    remove = runtime.async_add_structure_listener(watch.async_update)

    @callback
    def stop() -> None:
        remove()
        watch.async_stop()

    return stop
