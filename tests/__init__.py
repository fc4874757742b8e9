"""Tests for the Solar Gateway integration."""
