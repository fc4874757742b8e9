"""Parsers of Envoy responses into the typed models, one module per area."""
