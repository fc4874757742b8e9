"""Protocol layer: async clients for the Enphase Envoy and SunPower PVS gateways.

Nothing in this package imports Home Assistant; it could be published on its own.
"""
