"""Custom components folder (a package so that tests and mypy can import it)."""
