"""Constants shared by the Solar Gateway integration."""

from typing import Final

DOMAIN: Final = "solar_gateway"

# Config entry data
CONF_BRAND: Final = "brand"  # gateway.site.Brand value
CONF_AUTH_METHOD: Final = "auth_method"  # Envoy: one of the AUTH_* values below
CONF_TOKEN: Final = "token"  # noqa: S105 - the name of a field, not a secret

AUTH_ENLIGHTEN: Final = "enlighten"  # Enphase account e-mail and password
AUTH_TOKEN: Final = "token"  # noqa: S105 - a token pasted by the user
AUTH_LOCAL: Final = "local"  # firmware < 7: optional local user and password

# Options
CONF_LIVE_INTERVAL: Final = "live_interval"
CONF_DEVICES_INTERVAL: Final = "devices_interval"
CONF_SETTINGS_INTERVAL: Final = "settings_interval"
CONF_CAPTURE_DIAGNOSTICS: Final = "capture_diagnostics"
