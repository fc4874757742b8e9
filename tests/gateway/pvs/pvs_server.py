"""A recording fake PVS on 127.0.0.1 that serves a fixture folder.

Request -> file (tests/fixtures/pvs/README.md): ``dl_cgi?Command=X`` -> ``X.json``,
``/cgi-bin/dl_cgi/a/b`` -> ``a_b.json``, ``/auth?login`` -> ``auth_login.json``,
``/vars?match=M&fmt=obj`` -> the entries of ``vars_fmt_obj.json`` whose name contains
``M``. The varserver part checks the login password and the session cookie, can expire
sessions, and applies ``POST /vars`` ``set=<name>=<value>`` writes. Tests may override
any request with a fixed answer and read every request the client sent.
"""

import base64
from dataclasses import dataclass, field
import json
from pathlib import Path
import secrets

from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pvs"


@dataclass(slots=True)
class Recorded:
    """One request the fake PVS received."""

    method: str
    path: str  # with query
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Canned:
    """A fixed answer; ``times`` None answers forever, else that many times."""

    status: int
    body: bytes
    headers: dict[str, str]
    times: int | None


def fixture_file(path: str, query: dict[str, str]) -> str | None:
    """The fixture file name answering a dl_cgi request, or None."""
    if path == "/cgi-bin/dl_cgi" and "Command" in query:
        return f"{query['Command']}.json"
    if path.startswith("/cgi-bin/dl_cgi/"):
        return path.removeprefix("/cgi-bin/dl_cgi/").replace("/", "_") + ".json"
    return None


@dataclass(slots=True)
class FakePvs:
    """The fake gateway; start it with ``await fake.start()``."""

    folder: Path | None
    password: str | None = None  # None: the last 5 characters of the serial
    requests: list[Recorded] = field(default_factory=list)
    canned: dict[tuple[str, str], Canned] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    vars: dict[str, str] = field(default_factory=dict)
    server: TestServer | None = None

    def __post_init__(self) -> None:
        """Load the varserver store from the folder."""
        if self.folder is not None and (self.folder / "vars_fmt_obj.json").exists():
            self.vars = json.loads((self.folder / "vars_fmt_obj.json").read_text())

    @property
    def host(self) -> str:
        """``http://127.0.0.1:<port>`` for the client."""
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    def reply(
        self,
        method: str,
        path: str,
        status: int = 200,
        body: object = None,
        *,
        headers: dict[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer ``method path`` (path with query) with a fixed status and body."""
        raw = (
            body
            if isinstance(body, bytes)
            else body.encode()
            if isinstance(body, str)
            else json.dumps(body).encode()
        )
        self.canned[(method, path)] = Canned(status, raw, headers or {}, times)

    def expire_sessions(self) -> None:
        """Forget every session, as the PVS does after a few minutes."""
        self.sessions.clear()

    def of(self, method: str, prefix: str) -> list[Recorded]:
        """The recorded requests of one method whose path starts with ``prefix``."""
        return [
            r for r in self.requests if r.method == method and r.path.startswith(prefix)
        ]

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        """Stop listening."""
        if self.server is not None:
            await self.server.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Recorded(request.method, request.path_qs, dict(request.headers), body)
        )
        if (canned := self.canned.get((request.method, request.path_qs))) is not None:
            if canned.times is not None:
                canned.times -= 1
                if canned.times <= 0:
                    del self.canned[(request.method, request.path_qs)]
            return web.Response(
                status=canned.status, body=canned.body, headers=canned.headers
            )
        if request.path == "/auth":
            return self._login(request)
        if request.path == "/vars":
            return self._vars(request, body)
        name = fixture_file(request.path, dict(request.query))
        return self._file(name)

    def _file(self, name: str | None) -> web.Response:
        if self.folder is None or name is None or not (self.folder / name).exists():
            return web.Response(status=404, text="404 Not Found")
        status, headers = 200, {"Content-Type": "application/json"}
        log = self.folder / name.replace(".json", "_log.json")
        if log.exists():
            sidecar = json.loads(log.read_text())
            status = int(sidecar.get("code", 200))
            headers.update(sidecar.get("headers", {}))
        return web.Response(
            status=status, body=(self.folder / name).read_bytes(), headers=headers
        )

    def _expected_password(self) -> str:
        if self.password is not None:
            return self.password
        return self.vars.get("/sys/info/serialnum", "")[-5:]

    def _login(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(
            f"ssm_owner:{self._expected_password()}".encode()
        ).decode()
        if request.headers.get("Authorization") != f"basic {expected}":
            return web.Response(status=401, text="Unauthorized")
        token = secrets.token_hex(16)
        self.sessions.add(token)
        return web.json_response(
            {"session": token},
            headers={"Set-Cookie": f"session={token}; Path=/; HttpOnly; Secure"},
        )

    def _vars(self, request: web.Request, body: bytes) -> web.Response:
        cookie = request.headers.get("Cookie", "")
        token = cookie.removeprefix("session=")
        if token not in self.sessions:
            return web.Response(status=401, text="Unauthorized")
        if request.method == "POST":
            form = body.decode()
            if not form.startswith("set=") or "=" not in form[4:]:
                return web.Response(status=400, text="Bad Request")
            name, value = form[4:].split("=", 1)
            self.vars[name] = value
            return web.json_response(
                {"values": [{"name": name, "value": value}], "count": 1}
            )
        match = request.query.get("match", "")
        return web.json_response(
            {name: value for name, value in self.vars.items() if match in name}
        )
