"""Constants shared by the Solar Gateway integration."""

from typing import Final

DOMAIN: Final = "solar_gateway"
