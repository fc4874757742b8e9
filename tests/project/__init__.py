"""Validation tests standing in for hassfest and the HACS action."""
