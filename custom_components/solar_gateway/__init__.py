"""Solar Gateway: local Enphase IQ Gateway (Envoy) and SunPower PVS5/PVS6 in Home Assistant.

The protocol layer lives in ``gateway/`` and never imports Home Assistant; this package
holds the Home Assistant glue on top of it.
"""
