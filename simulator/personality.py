"""What every simulated gateway kind provides to the server."""

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
import json

from aiohttp import web

from .kinds import CaptureIdentity
from .live_state import Figures, LiveState, SiteProfile
from .streams import StreamBoard

# Returns the site's figures, as of a time (None: now) and with faults applied.
type FigureSource = Callable[[float | None], Figures]

JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer of a simulated gateway, before faults spoil it."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    is_json: bool = False  # a JSON body, which body faults may spoil
    counters: bool = False  # carries lifetime counters (a counter dip shows here)

    @classmethod
    def of_json(
        cls,
        data: object,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        counters: bool = False,
    ) -> Answer:
        """Return ``data`` as a JSON answer."""
        merged = dict(headers or {})
        merged["Content-Type"] = "application/json"
        return cls(
            status=status,
            body=json.dumps(data).encode(),
            headers=merged,
            is_json=True,
            counters=counters,
        )

    @classmethod
    def of_text(
        cls, text: str, *, status: int = 200, content_type: str = "text/plain"
    ) -> Answer:
        """Return ``text`` as an answer."""
        return cls(
            status=status, body=text.encode(), headers={"Content-Type": content_type}
        )


class Personality(ABC):
    """The behaviour of one gateway kind, served from one capture."""

    identity: CaptureIdentity
    state: LiveState

    @property
    @abstractmethod
    def uses_tls(self) -> bool:
        """Whether the gateway also serves HTTPS."""

    @abstractmethod
    def site_profile(self, utc_offset_hours: float) -> SiteProfile:
        """Return the site's shape, derived from the capture."""

    def uptime_at_start(self) -> float:
        """Return the gateway's uptime when the capture was taken (0 when unknown)."""
        return 0.0

    def attach(self, state: LiveState) -> None:
        """Use ``state`` as the live site (controls change it)."""
        self.state = state

    @abstractmethod
    async def answer(
        self, request: web.Request, now: float, figures: FigureSource
    ) -> Answer:
        """Answer one request."""

    async def stream(
        self,
        request: web.Request,
        now: float,
        figures: FigureSource,
        board: StreamBoard,
    ) -> Answer | web.StreamResponse | None:
        """Serve a live stream at ``request``'s path, or None: not a stream path."""
        del request, now, figures, board
        return None

    @property
    def has_telemetry_socket(self) -> bool:
        """Whether the gateway has a telemetry WebSocket on a port of its own."""
        return False

    def telemetry(self, figures: FigureSource) -> str | None:
        """The next telemetry socket message, or None while telemetry is off."""
        del figures
        return None

    def update_firmware(self, version: str) -> None:
        """Run firmware ``version`` from now on (installed by a reboot)."""
        self.identity = replace(self.identity, firmware=version)

    @abstractmethod
    def expire_credentials(self) -> None:
        """Make every token or session issued so far invalid."""

    @abstractmethod
    def restart(self) -> None:
        """Forget what a reboot loses (login sessions)."""

    def token(self, now: float, user: str = "owner") -> str | None:
        """Return a credential ``user`` can use, when the gateway needs one."""
        del now, user
        return None

    def describe(self) -> dict[str, object]:
        """Return the state of the gateway's controls, for the control endpoint."""
        return {}
