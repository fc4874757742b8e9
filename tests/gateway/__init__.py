"""Tests of the shared protocol core."""
