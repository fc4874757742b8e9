"""Constants shared by the Solar Gateway integration."""

from collections.abc import Mapping
from typing import Final

from .gateway.client import DataGroup

DOMAIN: Final = "solar_gateway"

# Config entry data
CONF_BRAND: Final = "brand"  # gateway.site.Brand value
CONF_AUTH_METHOD: Final = "auth_method"  # Envoy: one of the AUTH_* values below
CONF_TOKEN: Final = "token"  # noqa: S105 - the name of a field, not a secret
# What setup learned about the host (identity, access, URL): the next start begins
# there instead of probing again. Written from config entry minor version 2.
CONF_IDENTIFIED: Final = "identified"

AUTH_ENLIGHTEN: Final = "enlighten"  # Enphase account e-mail and password
AUTH_TOKEN: Final = "token"  # noqa: S105 - a token pasted by the user
AUTH_LOCAL: Final = "local"  # firmware < 7: optional local user and password

# Options
CONF_LIVE_INTERVAL: Final = "live_interval"
CONF_DEVICES_INTERVAL: Final = "devices_interval"
CONF_SETTINGS_INTERVAL: Final = "settings_interval"
CONF_CAPTURE_DIAGNOSTICS: Final = "capture_diagnostics"
CONF_LIVE_STREAM: Final = "live_stream"  # opt-in: live power pushed by the gateway
CONF_STREAM_WRITE_INTERVAL: Final = "stream_write_interval"  # seconds between writes
DEFAULT_STREAM_WRITE_SECONDS: Final = 5

# The option holding each group's polling interval, in seconds.
INTERVAL_OPTIONS: Final[Mapping[DataGroup, str]] = {
    DataGroup.LIVE: CONF_LIVE_INTERVAL,
    DataGroup.DEVICES: CONF_DEVICES_INTERVAL,
    DataGroup.SETTINGS: CONF_SETTINGS_INTERVAL,
}
