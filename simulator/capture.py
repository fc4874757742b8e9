"""Reading a simulator source: a capture folder or a diagnostics file holding one."""

import json
from pathlib import Path

from custom_components.solar_gateway.gateway.capture import (
    Capture,
    capture_from_json,
    read_capture,
)
from custom_components.solar_gateway.gateway.errors import UnexpectedPayloadError


class SourceError(Exception):
    """A source is neither a capture folder nor a file with a capture inside."""


def load_source(source: Path) -> Capture:
    """Read the capture in ``source`` (a folder, or a diagnostics JSON file)."""
    try:
        if source.is_dir():
            capture = read_capture(source)
        elif source.is_file():
            capture = capture_from_json(json.loads(source.read_text(encoding="utf-8")))
        else:
            raise SourceError(f"{source}: no such file or folder")
    except (UnexpectedPayloadError, ValueError, UnicodeDecodeError) as err:
        raise SourceError(f"{source}: {err}") from err
    if not len(capture):
        raise SourceError(f"{source}: the capture holds no answers")
    return capture
