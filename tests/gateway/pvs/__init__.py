"""Tests of the SunPower PVS client."""
