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


# Keys of the small documents a gateway answers instead of data (``{"error": "404 -
# Not Found"}`` on firmware without the feature, ``{"err": ...}`` on some endpoints).
_ERROR_KEYS = frozenset({"error", "err"})


def captured_status(file: Path) -> int:
    """The HTTP status a capture file was answered with (200 without a log)."""
    log = file.with_name(f"{file.name}{LOG_SUFFIX}")
    if not log.is_file():
        return 200
    return int(json.loads(log.read_text())["code"])


def captured_json(file: Path) -> object:
    """The data a capture file holds, or None when the gateway sent none.

    None for a refusal (a status other than 200), a body that is not JSON (an HTML
    error page, a truncated document) and an error document, which is how real
    captures hold an endpoint the gateway does not offer.
    """
    if not file.is_file() or captured_status(file) != 200:
        return None
    try:
        document = json.loads(file.read_bytes())
    except ValueError:
        return None
    if isinstance(document, dict) and document and set(document) <= _ERROR_KEYS:
        return None
    return document
