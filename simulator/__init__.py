"""Simulated Enphase and SunPower gateways served from captures."""
