"""The interface every gateway client offers to the layers above.

A client reads its gateway in *groups* of endpoints that change at different rates,
so that a caller can poll fast data often and slow data rarely, and turns whatever it
last read into one vendor-neutral ``SiteSnapshot``.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from .site import GatewayIdentity, SiteSnapshot
from .stream import StreamSource
from .transport import Response, Transport


class DataGroup(StrEnum):
    """Endpoints grouped by how fast their data changes."""

    LIVE = "live"  # site power, CT meters, battery power: seconds
    DEVICES = "devices"  # inverters, PVS device list: minutes
    SETTINGS = (
        "settings"  # inventory, tariff, relay settings: after a write, else rarely
    )


class GatewayClient(ABC):
    """A connected gateway: identity known, authenticated, features detected."""

    transport: Transport

    @property
    @abstractmethod
    def identity(self) -> GatewayIdentity:
        """What the gateway is (serial, model, firmware, API)."""

    @property
    @abstractmethod
    def default_intervals(self) -> Mapping[DataGroup, timedelta]:
        """How often each group should be read on this gateway, by default."""

    @property
    @abstractmethod
    def minimum_intervals(self) -> Mapping[DataGroup, timedelta]:
        """The shortest interval per group that this gateway bears without harm."""

    @abstractmethod
    async def setup(self) -> None:
        """Authenticate and detect which endpoints answer with data.

        Raises an ``AuthenticationError`` the user must act on, or a connection,
        busy or payload error that may pass.
        """

    @abstractmethod
    async def refresh(self, groups: frozenset[DataGroup]) -> SiteSnapshot:
        """Read the endpoints of ``groups`` and return the whole site.

        Groups not read keep the data of their last read. One call is one polling
        cycle: responses are cached for its duration only.
        """

    def next_data_due(
        self, group: DataGroup, snapshot: SiteSnapshot
    ) -> datetime | None:
        """When the gateway will have new data for ``group``, if it has a fixed cadence.

        None (the default) means the gateway measures continuously: poll at the
        configured interval.
        """
        del group, snapshot
        return None

    def stream_source(self) -> StreamSource | None:
        """The live stream this gateway offers for the LIVE group, or None (default).

        Available after ``setup``. Each message folds into the data last read, so
        that ``refresh`` of the other groups and the stream build one site.
        """
        return None

    def responses(self) -> Mapping[str, Response]:
        """The last answer to every request sent, keyed by request path (for captures)."""
        return dict(self.transport.last_responses)
