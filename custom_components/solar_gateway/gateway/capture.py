"""Captures: a gateway's answers saved one file per endpoint.

The format is the one of the development corpus, so that a user's capture, the
project's fixtures and the real captures can all be replayed by the simulator:

- each answer body is one file, named after the request path with the leading ``/``
  dropped and ``/``, ``?``, ``&`` and ``=`` replaced by ``_``
  (``/production.json?details=1`` -> ``production.json_details_1``);
- an optional ``<name>_log.json`` sidecar holds ``{"code": <status>, "headers": {...}}``
  and, when this module wrote it, the original ``"path"`` (the name alone cannot be
  turned back into a path: ``_`` is ambiguous);
- other files (``_readme``...) are notes, not answers.

A capture also travels inside a diagnostics download as a JSON object
(``capture_to_json`` / ``capture_from_json``).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
import json
from pathlib import Path
import re

from .errors import UnexpectedPayloadError

LOG_SUFFIX = "_log.json"
JSON_FORMAT = "solar_gateway.capture/1"

_FOLDED = re.compile(r"[/?&=]")


def name_for_path(path: str) -> str:
    """Return the capture file name of a request path (with its query, if any)."""
    return _FOLDED.sub("_", path.lstrip("/"))


def candidate_names(path: str) -> list[str]:
    """Return the file names that may hold the answer to ``path``, best first.

    The corpus stores ``GET /production.json?details=1`` as ``production.json`` when
    no detailed capture exists, and ``GET /inventory.json`` as ``inventory``.
    """
    bare = path.split("?", 1)[0]
    names = [name_for_path(path), name_for_path(bare)]
    for candidate in (path, bare):
        head, _, query = candidate.partition("?")
        if head.endswith(".json"):
            stripped = head.removesuffix(".json") + (f"?{query}" if query else "")
            names.append(name_for_path(stripped))
    return list(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class CapturedResponse:
    """One captured answer: status, headers and body (and its path when known)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    path: str | None = None

    def text(self) -> str:
        """Return the body as text (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> object:
        """Return the body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError, UnicodeDecodeError:
            return None


@dataclass(frozen=True, slots=True)
class Capture:
    """A set of captured answers keyed by file name."""

    responses: Mapping[str, CapturedResponse]
    notes: Mapping[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the file names."""
        return iter(self.responses)

    def __len__(self) -> int:
        """Return how many answers the capture holds."""
        return len(self.responses)

    def get(self, name: str) -> CapturedResponse | None:
        """Return the answer stored under file name ``name``."""
        return self.responses.get(name)

    def lookup(self, path: str) -> CapturedResponse | None:
        """Return the answer to request ``path`` (see ``candidate_names``)."""
        for name in candidate_names(path):
            if (found := self.responses.get(name)) is not None:
                return found
        return None


def read_capture(folder: Path) -> Capture:
    """Read a capture folder; raise ``UnexpectedPayloadError`` if it is not one."""
    if not folder.is_dir():
        raise UnexpectedPayloadError(f"{folder} is not a capture folder")
    responses: dict[str, CapturedResponse] = {}
    notes: dict[str, str] = {}
    for file in sorted(folder.iterdir()):
        if not file.is_file() or file.name.endswith(LOG_SUFFIX):
            continue
        if file.name.startswith("_"):
            notes[file.name] = file.read_text(encoding="utf-8", errors="replace")
            continue
        status, headers, path = _read_sidecar(folder / f"{file.name}{LOG_SUFFIX}")
        responses[file.name] = CapturedResponse(
            status=status, headers=headers, body=file.read_bytes(), path=path
        )
    return Capture(responses=responses, notes=notes)


def _read_sidecar(file: Path) -> tuple[int, dict[str, str], str | None]:
    if not file.is_file():
        return 200, {}, None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except ValueError, UnicodeDecodeError:
        return 200, {}, None
    return _sidecar_fields(data)


def _sidecar_fields(data: object) -> tuple[int, dict[str, str], str | None]:
    if not isinstance(data, Mapping):
        return 200, {}, None
    code = data.get("code")
    status = code if isinstance(code, int) and 100 <= code <= 599 else 200
    raw_headers = data.get("headers")
    headers = (
        {str(key): str(value) for key, value in raw_headers.items()}
        if isinstance(raw_headers, Mapping)
        else {}
    )
    path = data.get("path")
    return status, headers, path if isinstance(path, str) else None


def capture_to_json(capture: Capture) -> dict[str, object]:
    """Return ``capture`` as a JSON-ready object (for diagnostics downloads)."""
    files: dict[str, object] = {}
    for name, response in capture.responses.items():
        entry: dict[str, object] = {
            "code": response.status,
            "headers": dict(response.headers),
            "body": response.text(),
        }
        if response.path is not None:
            entry["path"] = response.path
        files[name] = entry
    return {"format": JSON_FORMAT, "files": files}


def capture_from_json(data: object) -> Capture:
    """Find a capture in a JSON document (e.g. a whole diagnostics download).

    The capture is the first object, searched depth first, whose ``format`` is
    ``JSON_FORMAT``; raise ``UnexpectedPayloadError`` when there is none.
    """
    found = _find_capture(data)
    if found is None:
        raise UnexpectedPayloadError("no capture found in the document")
    files = found.get("files")
    responses: dict[str, CapturedResponse] = {}
    if isinstance(files, Mapping):
        for name, entry in files.items():
            if not isinstance(entry, Mapping):
                continue
            body = entry.get("body")
            status, headers, path = _sidecar_fields(entry)
            responses[str(name)] = CapturedResponse(
                status=status,
                headers=headers,
                body=body.encode("utf-8") if isinstance(body, str) else b"",
                path=path,
            )
    return Capture(responses=responses)


def _find_capture(data: object) -> Mapping[str, object] | None:
    if isinstance(data, Mapping):
        if data.get("format") == JSON_FORMAT:
            return data
        children: list[object] = list(data.values())
    elif isinstance(data, list):
        children = list(data)
    else:
        return None
    for child in children:
        if (found := _find_capture(child)) is not None:
            return found
    return None
