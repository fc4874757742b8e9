"""Parsers of the PVS's answers: the legacy DeviceList and commands, the varserver."""
