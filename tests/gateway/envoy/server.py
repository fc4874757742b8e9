"""A recording fake Envoy for the tests: serves a capture folder, records requests.

Each request path maps to a file named in the corpus format (``/`` -> ``_``, query
folded the same way, falling back to the file without the query), with the status
from its ``<name>_log.json`` sidecar when there is one. Tests can override any
route with a handler and read every request the client sent.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import json
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

type Handler = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Recorded:
    """One request the fake gateway received."""

    method: str
    path: str  # with query
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        """The request body as JSON."""
        return json.loads(self.body)


def file_name(path_qs: str) -> str:
    """The corpus file name of a request path (with query)."""
    name = path_qs.lstrip("/").replace("/", "_")
    return name.replace("?", "_").replace("=", "_").replace("&", "_")


@dataclass(slots=True)
class FakeEnvoy:
    """A fake gateway on 127.0.0.1 backed by a folder of capture files."""

    folder: Path | None = None
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    server: TestServer | None = None

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer ``method path`` (path with query) with ``handler``."""
        self.routes[(method, path)] = handler

    def reply(
        self, method: str, path: str, status: int = 200, body: object = None
    ) -> None:
        """Answer ``method path`` with a fixed status and JSON (or text) body."""

        async def handler(_request: web.Request, _body: bytes) -> web.StreamResponse:
            if isinstance(body, str | bytes):
                return web.Response(status=status, body=body)
            return web.json_response(body, status=status)

        self.route(method, path, handler)

    def sent(
        self, method: str | None = None, path: str | None = None
    ) -> list[Recorded]:
        """The requests received, optionally filtered."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (path is None or r.path == path)
        ]

    @property
    def host(self) -> str:
        """``host:port`` of the running server."""
        assert self.server is not None
        return f"127.0.0.1:{self.server.port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Recorded(request.method, request.path_qs, dict(request.headers), body)
        )
        handler = self.routes.get((request.method, request.path_qs))
        if handler is not None:
            return await handler(request, body)
        if request.method != "GET" or self.folder is None:
            return web.Response(status=404)
        return self._from_folder(request.path_qs)

    def _from_folder(self, path_qs: str) -> web.StreamResponse:
        assert self.folder is not None
        candidates = [file_name(path_qs)]
        if "?" in path_qs:
            candidates.append(file_name(path_qs.split("?", 1)[0]))
        for name in candidates:
            file = self.folder / name
            if name and file.is_file():
                status = 200
                log = self.folder / f"{name}_log.json"
                if log.is_file():
                    status = int(json.loads(log.read_text()).get("code", 200))
                return web.Response(status=status, body=file.read_bytes())
        return web.Response(status=404)

    async def start(self) -> None:
        """Start serving on 127.0.0.1 and an ephemeral port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        """Stop serving."""
        if self.server is not None:
            await self.server.close()
