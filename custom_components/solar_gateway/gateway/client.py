"""The interface every gateway client offers to the layers above.

A client reads its gateway in *groups* of endpoints that change at different rates,
so that a caller can poll fast data often and slow data rarely, and turns whatever it
last read into one vendor-neutral ``SiteSnapshot``. It describes the settings it can
change in that snapshot (``SiteSnapshot.controls``) and applies a vendor-neutral
``ControlChange``; how often each group may be read is its ``polling`` table.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from .site import ControlChange, DataGroup, Device, GatewayIdentity, SiteSnapshot
from .stream import StreamSource
from .transport import Response, Transport

# DataGroup and Response belong to the interface: callers take them from here.
__all__ = [
    "Access",
    "AccessExpiry",
    "DataGroup",
    "GatewayClient",
    "Identified",
    "PollingRule",
    "Response",
]


class Access(StrEnum):
    """What the user must give before the gateway answers with data."""

    OPEN = "open"  # PVS legacy API: nothing to give
    ENVOY_ACCOUNT = "envoy_account"  # Envoy firmware 7+: Enphase account or a token
    ENVOY_LOCAL = "envoy_local"  # Envoy firmware < 7: optional local user
    PVS_OWNER = "pvs_owner"  # PVS varserver: the owner password


@dataclass(frozen=True, slots=True)
class Identified:
    """A gateway found at a host, what it needs to let us in and where it answered.

    Worth keeping: a client given it starts without probing the host again.
    """

    identity: GatewayIdentity
    access: Access
    url: str  # scheme://host[:port] that answered
    # Endpoints that answered "not here" (404, or refused to these credentials) on
    # this firmware: not asked again until the firmware or the credentials change.
    absent: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PollingRule:
    """How often one group of a gateway is read: by default, at the most, the least."""

    default: timedelta
    minimum: timedelta  # the shortest interval the gateway bears without harm
    maximum: timedelta  # the longest worth offering

    @property
    def adjustable(self) -> bool:
        """Whether an owner may choose the interval (a fixed cadence may not)."""
        return self.minimum < self.maximum

    def clamp(self, interval: timedelta) -> timedelta:
        """``interval`` moved inside the allowed range."""
        return min(max(interval, self.minimum), self.maximum)


@dataclass(frozen=True, slots=True)
class AccessExpiry:
    """When the credential in use stops working, and whether the client renews it.

    A credential the gateway refused (or the client found expired) before a read
    stopped working then, whatever it claims.
    """

    expires: datetime
    renewable: bool


class GatewayClient(ABC):
    """A connected gateway: identity known, authenticated, features detected."""

    transport: Transport

    @property
    @abstractmethod
    def identity(self) -> GatewayIdentity:
        """What the gateway is (serial, model, firmware, API)."""

    @property
    @abstractmethod
    def identification(self) -> Identified:
        """What ``setup`` learned about the host (identity, access, URL), to keep."""

    @property
    @abstractmethod
    def polling(self) -> Mapping[DataGroup, PollingRule]:
        """The polling table: how often each group may be read on this gateway."""

    @property
    def default_intervals(self) -> Mapping[DataGroup, timedelta]:
        """How often each group should be read on this gateway, by default."""
        return {group: rule.default for group, rule in self.polling.items()}

    @property
    def minimum_intervals(self) -> Mapping[DataGroup, timedelta]:
        """The shortest interval per group that this gateway bears without harm."""
        return {group: rule.minimum for group, rule in self.polling.items()}

    @abstractmethod
    async def setup(self) -> None:
        """Authenticate and detect which endpoints answer with data.

        Raises an ``AuthenticationError`` the user must act on, or a connection,
        busy or payload error that may pass.
        """

    async def first_refresh(self) -> SiteSnapshot:
        """The whole site right after ``setup``.

        A client whose setup already read every group returns that instead of asking
        the gateway again.
        """
        return await self.refresh(frozenset(self.default_intervals))

    @abstractmethod
    async def refresh(self, groups: frozenset[DataGroup]) -> SiteSnapshot:
        """Read the endpoints of ``groups`` and return the whole site.

        Groups not read keep the data of their last read. One call is one polling
        cycle: responses are cached for its duration only.
        """

    @abstractmethod
    async def apply(self, change: ControlChange) -> SiteSnapshot:
        """Send ``change``, read back the groups it affects and return the site.

        Raises ``FeatureUnavailableError`` for a control the gateway does not offer,
        ``ControlRefusedError`` when it refuses the write.
        """

    def follow_up_in(self) -> float | None:
        """Seconds until the client wants to read a written setting again (0: now),
        because something other than the client may change it back; None (the
        default): nothing to follow."""
        return None

    async def follow_up(self) -> SiteSnapshot:
        """Read again what ``follow_up_in`` asked for and return the whole site."""
        raise NotImplementedError

    def check(self, change: ControlChange) -> None:
        """Raise ``ValueError`` for a change ``apply`` would refuse; nothing is sent.

        So a refused value is never shown, not even for a moment. The default has
        nothing to check before sending.
        """
        del change

    def figure_group(self, figure: str) -> DataGroup:
        """The group whose read reports site figure ``figure`` (a field name)."""
        del figure
        return DataGroup.LIVE

    def device_group(self, device: Device) -> DataGroup:
        """The group whose read reports the measurements of ``device``."""
        del device
        return DataGroup.DEVICES

    def next_data_due(
        self, group: DataGroup, snapshot: SiteSnapshot
    ) -> datetime | None:
        """When the gateway will have new data for ``group``, if it has a fixed cadence.

        None (the default) means the gateway measures continuously: poll at the
        configured interval.
        """
        del group, snapshot
        return None

    def now(self) -> datetime:
        """The time ``next_data_due`` is reckoned against (the wall clock)."""
        return datetime.now(UTC)

    def stream_source(self) -> StreamSource | None:
        """The live stream this gateway offers for the LIVE group, or None (default).

        Available after ``setup``. Each message folds into the data last read, so
        that ``refresh`` of the other groups and the stream build one site.
        """
        return None

    @property
    def absent_controls(self) -> Mapping[str, str]:
        """Controls this gateway kind can offer but this one does not, and why.

        Keyed by control key; each reason is a short code (e.g. ``owner_token``) for
        diagnostics and the options form. Empty by default.
        """
        return {}

    @property
    def access_expiry(self) -> AccessExpiry | None:
        """When the credential in use expires; None when it does not (or renews)."""
        return None

    @property
    def obtained_token(self) -> str | None:
        """A credential the client obtained itself and a restart may reuse.

        E.g. a token fetched from the vendor's cloud with the stored account. None
        when there is none, or when the credential in use is the user's own.
        """
        return None

    def responses(self) -> Mapping[str, Response]:
        """The last answer to every request sent, keyed by request path (for captures)."""
        return dict(self.transport.last_responses)

    async def capture_responses(self) -> Mapping[str, Response]:
        """Every answer a replayable capture of this gateway needs.

        By default the last answers; a client whose setup reads something it keeps no
        copy of reads it again here.
        """
        return self.responses()
