"""Write capture folders in the corpus format, for tests that read them back."""

from collections.abc import Mapping
import json
from pathlib import Path

from custom_components.solar_gateway.gateway.capture import LOG_SUFFIX, name_for_path


def write_capture(
    folder: Path, responses: Mapping[str, tuple[int, Mapping[str, str], bytes]]
) -> None:
    """Write ``{path: (status, headers, body)}`` into ``folder`` in the corpus format."""
    folder.mkdir(parents=True, exist_ok=True)
    for path, (status, headers, body) in responses.items():
        name = name_for_path(path)
        (folder / name).write_bytes(body)
        sidecar = {"code": status, "headers": dict(headers), "path": path}
        (folder / f"{name}{LOG_SUFFIX}").write_text(
            json.dumps(sidecar, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
