"""``EnvoyClient``: the Enphase IQ Gateway behind the ``GatewayClient`` interface."""

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
import logging
import time
from typing import override

import aiohttp

from custom_components.solar_gateway.gateway.cadence import next_report_due
from custom_components.solar_gateway.gateway.client import (
    Access,
    AccessExpiry,
    DataGroup,
    GatewayClient,
    Identified,
    PollingRule,
)
from custom_components.solar_gateway.gateway.errors import (
    AuthenticationError,
    ControlNotAppliedError,
    ControlRefusedError,
    FeatureUnavailableError,
    GatewayConnectionError,
    GatewayError,
    NotSupportedGatewayError,
    TokenExpiredError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.hosts import parse_host
from custom_components.solar_gateway.gateway.site import (
    ControlChange,
    ControlKey,
    ControlKind,
    Device,
    DeviceKind,
    GatewayIdentity,
    SiteSnapshot,
)
from custom_components.solar_gateway.gateway.transport import (
    Response,
    RetryPolicy,
    Timeouts,
    Transport,
)

from .auth import (
    ENLIGHTEN_URL,
    ENTREZ_URL,
    Clock,
    DigestAuth,
    EnvoyAuth,
    EnvoyCredentials,
    TokenAuth,
    TokenInfo,
    decode_token,
    installer_password,
)
from .controls import ControlRequest, describe, request_for
from .endpoints import GROUPS, INFO_PATH, PROBE_ORDER, READERS, REREAD_AFTER, Endpoint
from .export_limit import DPEL_PATH, ExportLimitAbsence, holds_production_limit
from .generator_writes import check_charge_from_generator
from .models import CtType, EnvoyData, EnvoyInfo
from .parsers.info import parse_info
from .probe import identity_of, probe
from .production_switch import PRODUCTION_POWER_PATH, ProductionTracker
from .site_mapping import DeviceCache, build_snapshot, with_live_figures
from .stream import STREAM_TYPES, EnvoyMeterStream, MeterStreamEvent, apply_meter_event
from .tariff_watch import TARIFF_CONTROLS, TariffWatch

_LOGGER = logging.getLogger(__name__)

# Statuses that mean "this endpoint is not for this firmware or account".
ABSENT_STATUSES = frozenset({401, 403, 404})
# Endpoints whose failure must not fail a whole update (pdm device data stops
# answering around 23:00 on some sites).
_OPTIONAL = frozenset({Endpoint.PDM_DEVICE_DATA})
# Polls run on a timer that drifts by a fraction of a second: an answer this much
# younger than its reread age is old enough.
_REREAD_SLACK = 2.0
# Figures read in another group than LIVE: the reserve is a tariff setting, the grid
# state comes with the ensemble inventory.
_FIGURE_GROUPS: Mapping[str, DataGroup] = {
    "backup_reserve": DataGroup.SETTINGS,
    "battery_very_low_soc": DataGroup.SETTINGS,
    "grid_connected": DataGroup.DEVICES,
}
# /info is read again this often with the settings, so that a firmware update is
# noticed however it came (a start from what the entry stored reads none).
_INFO_REREAD = timedelta(hours=1)
# Answers this close together came in one read of the site (its requests go one
# after the other, each within its timeout).
_SAME_READ = timedelta(seconds=30)
# Microinverters report every 5 minutes; none for 15 minutes means they sleep.
_INVERTER_REPORTS = timedelta(minutes=5)
_INVERTERS_ASLEEP = timedelta(minutes=15)
# Writes only an installer token may make (an owner's is refused 401).
_INSTALLER_PATHS = frozenset({PRODUCTION_POWER_PATH, DPEL_PATH})
# Devices whose measurements come with the live readings (CT meters, relay status).
_LIVE_DEVICES = frozenset({DeviceKind.METER, DeviceKind.RELAY})


def polling_table(metered: bool) -> Mapping[DataGroup, PollingRule]:
    """CT readings every 15 s, production-only sites every 60 s (the gateway's own
    inverter data changes every 5 minutes); devices 5 min; settings 1 h."""
    return {
        DataGroup.LIVE: PollingRule(
            default=timedelta(seconds=15 if metered else 60),
            minimum=timedelta(seconds=5 if metered else 30),
            maximum=timedelta(minutes=10),
        ),
        DataGroup.DEVICES: PollingRule(
            default=timedelta(minutes=5),
            minimum=timedelta(minutes=1),
            maximum=timedelta(hours=1),
        ),
        DataGroup.SETTINGS: PollingRule(
            default=timedelta(hours=1),
            minimum=timedelta(minutes=5),
            maximum=timedelta(days=1),
        ),
    }


class EnvoyClient(GatewayClient):
    """An Envoy: probe, authenticate, detect features, read groups, write controls."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        enlighten_url: str = ENLIGHTEN_URL,
        entrez_url: str = ENTREZ_URL,
        clock: Clock | None = None,
        known: Identified | None = None,
    ) -> None:
        """Prepare a client for ``host`` (anything ``parse_host`` reads); nothing is sent.

        With ``known`` (what an earlier setup learned) setup starts there instead of
        probing the host, and probes only when the gateway is not found there.
        Raises ``InvalidHostError`` for text that is no address.
        """
        self._session = session
        self._known = known
        self.host = host
        self._address = parse_host(host)
        self.credentials = EnvoyCredentials(username, password, token)
        self._timeouts = timeouts
        self._retry = retry
        self._enlighten_url = enlighten_url
        self._entrez_url = entrez_url
        self._clock = clock or _wall_time
        self._info: EnvoyInfo | None = None
        self._auth: EnvoyAuth | None = None
        self._data: EnvoyData | None = None
        self._settings_stale = False
        self._refused: AuthenticationError | None = None
        # When the token stopped being accepted (or was found past its expiry).
        self._token_refused_at: datetime | None = None
        # Set when the gateway went away: it may come back on new firmware.
        self._info_stale = False
        self._info_read_at = 0.0  # monotonic; setup stands for a read
        # Endpoints that answered "not here" at setup (or did at an earlier one).
        self._absent: frozenset[Endpoint] = frozenset()
        # Polls of two groups due together run one after the other: each starts from
        # what the other read, instead of writing back the data it started from.
        self._refreshing = asyncio.Lock()
        # Monotonic time of each endpoint's last answer, for those read more rarely
        # than their group (REREAD_AFTER).
        self._read_at: dict[Endpoint, float] = {}
        self._devices = DeviceCache()
        self._base_url: str | None = None
        self._snapshot: SiteSnapshot | None = None
        self._stream_event: MeterStreamEvent | None = None
        self._production = ProductionTracker()
        # Battery settings written, who changed them last, the follow-up reads due.
        self._watch = TariffWatch()
        # How long to wait for a setting the gateway applies seconds after a write.
        self.settle_delays: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0)
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.features: frozenset[Endpoint] = frozenset()

    # --- GatewayClient -------------------------------------------------------------

    @property
    @override
    def identity(self) -> GatewayIdentity:
        """What the gateway is; available after ``setup``."""
        return identity_of(self._require_info())

    @property
    @override
    def identification(self) -> Identified:
        """What setup learned: identity, how to get in and where it answered."""
        info = self._require_info()
        assert self._base_url is not None
        return Identified(
            identity_of(info),
            Access.ENVOY_ACCOUNT if info.uses_tokens else Access.ENVOY_LOCAL,
            self._base_url,
            frozenset(endpoint.value for endpoint in self._absent),
        )

    @property
    def info(self) -> EnvoyInfo:
        """The gateway's ``/info``; available after ``setup``."""
        return self._require_info()

    @property
    @override
    def obtained_token(self) -> str | None:
        """The token in use when it was fetched with the stored Enphase account."""
        credentials = self.credentials
        if not (credentials.username and credentials.password):
            return None
        return self.token

    @property
    @override
    def access_expiry(self) -> AccessExpiry | None:
        """When the token the user gave runs out; renewable with an account."""
        credentials = self.credentials
        if self._info is None or not self._info.uses_tokens or not credentials.token:
            return None
        try:
            expires = _decoded(credentials.token).expires
        except GatewayError:  # not a JWT: setup rejects it before this is asked
            return None
        refused = self._token_refused_at
        if refused is not None:
            # A read refused for it: it stopped working then, whatever it claims.
            expires = refused if expires is None else min(expires, refused)
        if expires is None:
            return None
        return AccessExpiry(
            expires, renewable=bool(credentials.username and credentials.password)
        )

    @property
    def token(self) -> str | None:
        """The JWT in use (after ``setup``), or None on digest firmware.

        Worth storing: a client given a still-valid token with the account does not
        log in to the cloud again until the token is due for renewal.
        """
        auth = self._auth
        if isinstance(auth, TokenAuth) and auth.token is not None:
            return auth.token.token
        return None

    @property
    def data(self) -> EnvoyData:
        """The typed vendor models of the last read (tariff, relays...)."""
        if self._data is None:
            raise GatewayError("the Envoy client is not set up")
        return self._data

    @property
    def metered(self) -> bool:
        """Whether an enabled CT feeds live readings (before setup: a metered model)."""
        if self._data is None:
            known = self._known
            return known is not None and bool(known.identity.metered)
        return bool(self._data.ct_meters)

    @property
    @override
    def polling(self) -> Mapping[DataGroup, PollingRule]:
        return polling_table(self.metered)

    @override
    def figure_group(self, figure: str) -> DataGroup:
        return _FIGURE_GROUPS.get(figure, DataGroup.LIVE)

    @override
    def device_group(self, device: Device) -> DataGroup:
        return DataGroup.LIVE if device.kind in _LIVE_DEVICES else DataGroup.DEVICES

    @override
    async def setup(self) -> None:
        """Authenticate and read each endpoint worth asking to detect features.

        What it reads is the data the first ``refresh`` returns.

        Starts from what an earlier setup learned, when given; probes the host when
        there is nothing known or the gateway no longer answers there.
        """
        if (known := self._known) is not None:
            identity = known.identity
            info = EnvoyInfo(
                serial=identity.serial,
                part_number=identity.model,
                firmware=identity.firmware,
                metered=identity.metered,
                web_tokens=known.access is Access.ENVOY_ACCOUNT,
            )
            try:
                await self._connect(info, known.url, _endpoints(known.absent))
            except (
                GatewayConnectionError,
                NotSupportedGatewayError,
                UnexpectedPayloadError,
            ) as err:
                _LOGGER.info("The Envoy is not where it was (%s); probing", err)
            else:
                return
        info, base_url = await probe(
            self._session, self._address, timeouts=self._timeouts
        )
        await self._connect(info, base_url)

    async def _connect(
        self,
        info: EnvoyInfo,
        base_url: str,
        known_absent: frozenset[Endpoint] = frozenset(),
    ) -> None:
        """Authenticate and detect features; ``known_absent`` are not asked."""
        self._info = info
        self._info_read_at = _monotonic()
        self._base_url = base_url
        self.transport = Transport(
            self._session, base_url, timeouts=self._timeouts, retry=self._retry
        )
        if info.uses_tokens:
            self._auth = TokenAuth(
                self._session,
                info.serial,
                self.credentials,
                enlighten_url=self._enlighten_url,
                entrez_url=self._entrez_url,
                timeouts=self._timeouts,
                clock=self._clock,
            )
        else:
            self._auth = DigestAuth(info.serial, self.credentials)
        auth = self._auth
        await auth.setup(self.transport)
        data = EnvoyData(info=info)
        present: set[Endpoint] = set()
        absent: set[Endpoint] = set()
        self.transport.new_cycle()
        for endpoint in PROBE_ORDER:
            if not self._needed(endpoint, data, present):
                continue
            if endpoint in known_absent:
                absent.add(endpoint)
                continue
            response = await self._get(endpoint)
            # The first refusal asks whether the token is at fault (reauthenticate,
            # or renew and read again) or the endpoint is not for this account.
            if response.status == 401 and await auth.handle_setup_unauthorized(
                self.transport
            ):
                response = await self._get(endpoint)
            if response.status in ABSENT_STATUSES and endpoint not in _OPTIONAL:
                # The firmware's or the account's answer, not the moment's.
                absent.add(endpoint)
            if response.status in ABSENT_STATUSES or not response.ok:
                _LOGGER.debug("%s absent (%s)", endpoint, response.status)
                continue
            try:
                data = READERS[endpoint](data, response)
            except UnexpectedPayloadError as err:
                _LOGGER.debug("%s absent: %s", endpoint, err)
                continue
            present.add(endpoint)
            self._read_at[endpoint] = _monotonic()
        self.features = frozenset(present)
        self._absent = frozenset(absent)
        self._data = data
        self._settings_stale = False
        self._snapshot = None
        # Never back off longer than the live interval: a gateway that answers again
        # is read within one.
        self.transport.cap_backoff(self.polling[DataGroup.LIVE].default)

    @override
    async def first_refresh(self) -> SiteSnapshot:
        """The site as setup read it: setup reads every endpoint that answers."""
        return self._build()

    @override
    async def refresh(self, groups: frozenset[DataGroup]) -> SiteSnapshot:
        """Read the wanted endpoints of ``groups`` and return the whole site.

        Once the gateway has refused the credentials, every later call raises the
        same error without sending anything: only the user can fix it, and asking
        again with a token it refused is noise on the gateway.
        """
        return await self._guarded(lambda: self._refresh(groups))

    async def _guarded(
        self, read: Callable[[], Awaitable[SiteSnapshot]]
    ) -> SiteSnapshot:
        """Run ``read`` alone, unless the credentials were refused (then raise that
        again without sending anything); remember a refusal and an outage."""
        if self._refused is not None:
            raise type(self._refused)(str(self._refused))
        try:
            async with self._refreshing:
                return await read()
        except AuthenticationError as err:
            self._refused = err
            if isinstance(err, TokenExpiredError):
                self._token_refused_at = self.now()
            raise
        except GatewayConnectionError:
            # A firmware update reboots the gateway: out of reach for minutes.
            self._info_stale = True
            raise

    async def _refresh(self, groups: frozenset[DataGroup]) -> SiteSnapshot:
        auth = self._require_auth()
        self.transport.new_cycle()
        if self._settings_stale:
            groups = groups | {DataGroup.SETTINGS}
        if self._info_stale or (DataGroup.SETTINGS in groups and self._info_due()):
            await self._reread_info()
        data = self.data
        await auth.ensure_fresh(self.transport)
        # Settings first: which CTs are enabled decides what the live group reads.
        for group in (DataGroup.SETTINGS, DataGroup.DEVICES, DataGroup.LIVE):
            if group not in groups:
                continue
            for endpoint in Endpoint:
                if (
                    GROUPS[endpoint] is group
                    and self._wanted(endpoint, data)
                    and self._due(endpoint, data)
                ):
                    data = await self._read(endpoint, data)
            if group is DataGroup.SETTINGS:
                self._settings_stale = False
        self._data = data
        if DataGroup.LIVE in groups:
            # Polled CT readings are newer than the last streamed event.
            self._stream_event = None
        if DataGroup.DEVICES in groups:
            # Let the loop breathe between parsing hundreds of devices and building
            # them: two short steps instead of one long one on a large site.
            await asyncio.sleep(0)
        return self._build()

    def _info_due(self) -> bool:
        """Whether ``/info`` was last read (or setup ran) an hour ago or more."""
        age = _monotonic() - self._info_read_at
        return age >= _INFO_REREAD.total_seconds() - _REREAD_SLACK

    async def _reread_info(self) -> None:
        """Read ``/info`` again (no auth, a few hundred bytes) for the firmware the
        gateway runs now; the entry reloads when it changed."""
        response = await self.transport.get(INFO_PATH, cache=False)
        self._info_stale = False
        self._info_read_at = _monotonic()
        try:
            _require_ok(response)
            info = parse_info(response.text())
        except (UnexpectedPayloadError, NotSupportedGatewayError) as err:
            _LOGGER.debug("%s unreadable after an outage: %s", INFO_PATH, err)
            return
        if info.serial == self.info.serial and info != self.info:
            self._info = info
            self._snapshot = None

    @override
    def now(self) -> datetime:
        """The client's clock, which the gateway's report times are compared with."""
        return datetime.fromtimestamp(self._clock(), UTC)

    @override
    def next_data_due(
        self, group: DataGroup, snapshot: SiteSnapshot
    ) -> datetime | None:
        """Just after the microinverters' next report, while they report.

        They report every 5 minutes: reading the inverters then, rather than on a
        timer that may fall just before a report, keeps their figures as fresh as
        a poll every minute would, with one request in five. At night (no report
        for 15 minutes) the configured interval applies.
        """
        if group is not DataGroup.DEVICES:
            return None
        return next_report_due(
            (
                device.data_time
                for device in snapshot.devices
                if device.kind is DeviceKind.INVERTER and device.data_time is not None
            ),
            self.now(),
            interval=_INVERTER_REPORTS,
            asleep_after=_INVERTERS_ASLEEP,
        )

    # --- Live stream ---------------------------------------------------------------

    @override
    def stream_source(self) -> EnvoyMeterStream | None:
        """``/stream/meter`` where an enabled CT feeds it, else None."""
        data = self._data
        if data is None or not any(data.ct(kind) for kind in STREAM_TYPES):
            return None
        auth = self._require_auth()
        middlewares: tuple[aiohttp.ClientMiddlewareType, ...] = ()
        if not self.info.uses_tokens:
            # Before firmware 7 the stream is for the installer user only.
            credentials = self.credentials
            password = (
                credentials.password
                if credentials.username == "installer" and credentials.password
                else installer_password(self.info.serial)
            )
            middlewares = (aiohttp.DigestAuthMiddleware("installer", password),)
        return EnvoyMeterStream(
            self._session,
            self.transport.base_url,
            headers=lambda: auth.headers,
            middlewares=middlewares,
            fold=self.fold_stream_event,
            clock=lambda: datetime.fromtimestamp(self._clock(), UTC),
            timeouts=self._timeouts,
        )

    def fold_stream_event(self, event: MeterStreamEvent) -> SiteSnapshot:
        """Take one streamed CT event as the live figures and return the site."""
        self._stream_event = event
        if self._snapshot is None:
            return self._build()
        self._snapshot = with_live_figures(
            self._snapshot, apply_meter_event(self.data, event)
        )
        return self._snapshot

    def _build(self) -> SiteSnapshot:
        data = self.data
        if self._stream_event is not None:
            data = apply_meter_event(data, self._stream_event)
        snapshot = build_snapshot(
            self.identity,
            data,
            self._devices,
            now=_monotonic(),
            report_current=self._read_together(
                Endpoint.METER_READINGS, Endpoint.ENSEMBLE_POWER
            ),
        )
        controls = describe(data, snapshot, self._production)
        controls = self._watch.follow(data.tariff, controls, self.now())
        self._snapshot = replace(
            snapshot, controls=controls, overrides=self._watch.overrides
        )
        return self._snapshot

    def _read_together(self, first: Endpoint, second: Endpoint) -> bool:
        """Whether the last answers of both endpoints came in one read of the site."""
        one, other = self._read_at.get(first), self._read_at.get(second)
        return (
            one is not None
            and other is not None
            and abs(one - other) <= _SAME_READ.total_seconds()
        )

    @override
    async def capture_responses(self) -> Mapping[str, Response]:
        """The last answers, and ``/info``: the probe that reads it keeps no copy, so
        it is read once more (no auth, a few hundred bytes)."""
        responses = dict(self.responses())
        if INFO_PATH not in responses:
            # Without an answer the capture lacks /info; the raw answers show that.
            try:
                responses[INFO_PATH] = await self.transport.get(INFO_PATH, cache=False)
            except GatewayError as err:
                _LOGGER.debug("%s for a capture failed: %s", INFO_PATH, err)
        return responses

    # --- Controls ------------------------------------------------------------------

    @property
    @override
    def absent_controls(self) -> Mapping[str, str]:
        """Why the export limit is not offered, where it is not."""
        data = self._data
        if data is None:
            return {}
        limit = data.dynamic_export_limit
        reason: ExportLimitAbsence | None
        if limit is not None:
            holds = holds_production_limit(limit)
            reason = ExportLimitAbsence.PRODUCTION_LIMIT if holds else None
        elif self._owner_token():
            reason = ExportLimitAbsence.OWNER_TOKEN
        elif not _measures_export(data):
            reason = ExportLimitAbsence.NOT_METERED
        else:
            reason = ExportLimitAbsence.NOT_OFFERED
        return (
            {}
            if reason is None
            else {ControlKey.DYNAMIC_EXPORT_LIMIT.value: reason.value}
        )

    @override
    def check(self, change: ControlChange) -> None:
        """Build the request ``change`` would send: a value it refuses raises."""
        snapshot = self._snapshot
        if snapshot is None or snapshot.control(change.key, change.device) is None:
            return  # not offered: ``apply`` says so
        try:
            request_for(change, self.data)
        except GatewayError:
            return  # the part it writes is gone: ``apply`` says so

    @override
    async def apply(self, change: ControlChange) -> SiteSnapshot:
        """Send ``change`` as the Envoy expects it, then read back what it changes."""
        snapshot = self._snapshot or self._build()
        control = snapshot.control(change.key, change.device)
        if control is None:
            raise FeatureUnavailableError(
                f"this Envoy offers no {change.key} control for {change.device}", 404
            )
        if control.kind is ControlKind.SELECT and change.value not in control.options:
            raise ValueError(f"{change.value!r} is not one of {control.options}")
        request = request_for(change, self.data)
        tariff = self.data.tariff
        if change.key is ControlKey.PRODUCTION:
            self._production.request(bool(change.value), self._gateway_now())
        try:
            await self._write(request)
        except GatewayError:
            self._production = ProductionTracker()  # nothing is on its way
            raise
        if change.key in TARIFF_CONTROLS and tariff is not None:
            # Confirmed by the read-back below, then watched: the cloud may undo it.
            self._watch.wrote(change.key, change.value, tariff, self.now())
        if change.key is ControlKey.GENERATOR_MODE:
            await self._await_generator_mode(str(change.value))
        snapshot = await self.refresh(control.groups)
        self._check_applied(change)
        return snapshot

    @override
    def follow_up_in(self) -> float | None:
        """Seconds until the tariff is to be read again after a battery-settings
        write (the Enphase cloud may undo it), or None."""
        if self._refused is not None:
            return None  # nothing is read until the user gives new credentials
        return self._watch.follow_up_in(self.now())

    @override
    async def follow_up(self) -> SiteSnapshot:
        """Read the tariff again (one request) and return the site."""
        return await self._guarded(self._follow_up)

    async def _follow_up(self) -> SiteSnapshot:
        # Done even when the read fails: the next one is minutes later, never a retry.
        self._watch.followed_up(self.now())
        self.transport.new_cycle()
        await self._require_auth().ensure_fresh(self.transport)
        if Endpoint.TARIFF in self.features:
            self._data = await self._read(Endpoint.TARIFF, self.data)
        return self._build()

    def _gateway_now(self) -> datetime:
        """The gateway's time as last measured (what pending changes are timed by)."""
        snapshot = self._snapshot
        if snapshot is not None and snapshot.data_time is not None:
            return snapshot.data_time
        return datetime.fromtimestamp(self._clock(), UTC)

    async def _await_generator_mode(self, wanted: str) -> None:
        """Re-read the mode until the system controller shows it (it takes seconds)."""
        for delay in self.settle_delays:
            await self.sleep(delay)
            self.transport.new_cycle()
            data = await self._read(Endpoint.GENERATOR_MODE, self.data)
            self._data = data
            mode = data.generator_mode
            if mode is not None and mode.command == wanted:
                return

    def _check_applied(self, change: ControlChange) -> None:
        """Raise when the read-back shows the gateway took the write but not the value."""
        data = self.data
        match change.key:
            case ControlKey.CHARGE_FROM_GENERATOR:
                check_charge_from_generator(data.generator_config, bool(change.value))
            case ControlKey.BATTERY_MODE if (
                data.tariff is not None
                and data.tariff.storage is not None
                and data.tariff.storage.opt_schedules
            ):
                raise ControlNotAppliedError(
                    "Enphase's optimised schedules are still on: the batteries "
                    "ignore the mode"
                )
            case ControlKey.PRODUCTION if data.production_power is not None and (
                self._production.not_applied(data.production_power)
            ):
                self._production = ProductionTracker()
                self._build()
                raise ControlNotAppliedError(
                    "the production record did not change after the write"
                )

    # --- Internals -----------------------------------------------------------------

    def _require_info(self) -> EnvoyInfo:
        if self._info is None:
            raise GatewayError("the Envoy client is not set up")
        return self._info

    def _require_auth(self) -> EnvoyAuth:
        if self._auth is None:
            raise GatewayError("the Envoy client is not set up")
        return self._auth

    def _wanted(self, endpoint: Endpoint, data: EnvoyData) -> bool:
        """Whether ``endpoint`` earns its request in this cycle."""
        return endpoint in self.features and self._needed(endpoint, data, self.features)

    def _due(self, endpoint: Endpoint, data: EnvoyData) -> bool:
        """Whether ``endpoint``'s last answer is old enough to ask again."""
        age = REREAD_AFTER.get(endpoint)
        if age is None or _carries_live_power(endpoint, data):
            return True
        last = self._read_at.get(endpoint)
        return last is None or (
            _monotonic() - last >= age.total_seconds() - _REREAD_SLACK
        )

    def _needed(
        self, endpoint: Endpoint, data: EnvoyData, features: Collection[Endpoint]
    ) -> bool:
        """Whether ``endpoint`` feeds anything, given what ``data`` already shows."""
        ensemble = data.ensemble
        match endpoint:
            case Endpoint.API_PRODUCTION:
                return data.ct(CtType.PRODUCTION) is None
            case Endpoint.PRODUCTION_PAGE:
                # Old firmware's page, where neither production document answers.
                return not (
                    Endpoint.PRODUCTION_JSON in features
                    or Endpoint.API_PRODUCTION in features
                )
            case Endpoint.METER_READINGS:
                return bool(data.ct_meters)
            case Endpoint.ENSEMBLE_POWER:
                return ensemble is not None and bool(ensemble.encharges)
            case Endpoint.SECCTRL:
                return (
                    ensemble is not None
                    and bool(ensemble.encharges or ensemble.enpowers)
                ) or any(d.group == "ACB" for d in data.inventory)
            case Endpoint.DRY_CONTACTS | Endpoint.DRY_CONTACT_SETTINGS:
                return ensemble is not None and bool(ensemble.enpowers)
            case Endpoint.GENERATOR:
                # A system controller without a generator still answers (type 0,
                # state "unknown"): asked once.
                return (
                    ensemble is not None
                    and bool(ensemble.enpowers)
                    and (endpoint not in features or _generator_wired(data))
                )
            case Endpoint.GENERATOR_CONFIG:
                # Without a generator it answers {}: not asked where the generator
                # endpoint already says there is none, else asked once.
                return (
                    ensemble is not None
                    and bool(ensemble.enpowers)
                    and _generator_wired(data)
                    and (endpoint not in features or data.generator_config is not None)
                )
            case Endpoint.GENERATOR_MODE | Endpoint.GENERATOR_SCHEDULE:
                return data.generator_config is not None
            case Endpoint.PRODUCTION_POWER:
                # Installer tokens only: an owner's token is refused it.
                return not self._owner_token()
            case Endpoint.ACB_CONFIG:
                return any(d.group == "ACB" for d in data.inventory)
            case Endpoint.DYNAMIC_EXPORT_LIMIT:
                # Installer tokens only, and a CT that sees what the site exports.
                return not self._owner_token() and _measures_export(data)
        return True

    def _owner_token(self) -> bool:
        auth = self._auth
        return (
            isinstance(auth, TokenAuth)
            and auth.token is not None
            and auth.token.user_type == "owner"
        )

    async def _get(self, endpoint: Endpoint) -> Response:
        auth = self._require_auth()
        return await self.transport.get(
            endpoint, headers=auth.headers, middlewares=auth.middlewares
        )

    async def _read(self, endpoint: Endpoint, data: EnvoyData) -> EnvoyData:
        auth = self._require_auth()
        response = await self._get(endpoint)
        if response.status == 401 and await auth.handle_unauthorized(self.transport):
            response = await self._get(endpoint)
        if response.status in ABSENT_STATUSES:
            # The feature went away (firmware update, account change): stop asking.
            _LOGGER.info("%s now answers %s; no longer read", endpoint, response.status)
            self.features = self.features - {endpoint}
            return data
        try:
            _require_ok(response)
            data = READERS[endpoint](data, response)
        except UnexpectedPayloadError:
            if endpoint in _OPTIONAL:
                _LOGGER.debug("%s failed; keeping its last data", endpoint)
                return data
            raise
        self._read_at[endpoint] = _monotonic()
        return data

    async def _write(self, request: ControlRequest) -> None:
        auth = self._require_auth()
        self._require_info()
        response = await self.transport.request(
            request.method,
            request.path,
            headers=auth.headers,
            json_body=request.body,
            middlewares=auth.middlewares,
        )
        # Whatever happened, what we know of the settings may no longer be true, and
        # the read-back must show the write's effect at once.
        self._settings_stale = True
        self._read_at.clear()
        if response.status in (401, 403):
            installer = request.path in _INSTALLER_PATHS
            raise ControlRefusedError(
                f"{request.method} {request.path} refused ({response.status})"
                + (": it needs an installer token" if installer else ""),
                response.status,
                needs_installer=installer,
            )
        if response.status == 400:
            # The gateway's word on the value (an unknown serial, a SOC out of range).
            raise ControlRefusedError(
                f"{request.method} {request.path} rejected the value: "
                f"{_error_text(response)}",
                400,
            )
        if not response.ok:
            raise UnexpectedPayloadError(
                f"{request.method} {request.path} answered {response.status}"
            )
        if response.body.strip():
            response.json()  # an answer that is no JSON (an error page) is no success


@lru_cache(maxsize=4)
def _decoded(token: str) -> TokenInfo:
    # Asked after every device poll (repairs): decode a token once, not each time.
    return decode_token(token)


def _monotonic() -> float:
    # Looked up at each call, so that a test's frozen clock applies.
    return time.monotonic()


def _wall_time() -> float:
    # The same: the wall clock as it is when asked.
    return time.time()


def _endpoints(paths: Collection[str]) -> frozenset[Endpoint]:
    """The endpoints among ``paths`` (others were stored by another version)."""
    return frozenset(Endpoint(path) for path in paths if path in Endpoint)


def _measures_export(data: EnvoyData) -> bool:
    """Whether an enabled consumption CT sees what the site exports."""
    return (
        data.ct(CtType.NET_CONSUMPTION) is not None
        or data.ct(CtType.TOTAL_CONSUMPTION) is not None
    )


def _generator_wired(data: EnvoyData) -> bool:
    """Whether a generator is wired, or the generator endpoint did not say."""
    return data.generator is None or data.generator.exists


def _carries_live_power(endpoint: Endpoint, data: EnvoyData) -> bool:
    """Whether ``endpoint`` has power no CT reading carries, so is read every poll."""
    match endpoint:
        case Endpoint.PRODUCTION_JSON:
            cts = _ct_answers(data, CtType.PRODUCTION) and (
                _ct_answers(data, CtType.NET_CONSUMPTION)
                or _ct_answers(data, CtType.TOTAL_CONSUMPTION)
            )
            return not cts or any(d.group == "ACB" for d in data.inventory)
        case Endpoint.ENSEMBLE_POWER:
            return not _ct_answers(data, CtType.STORAGE)
    return False


def _ct_answers(data: EnvoyData, kind: CtType) -> bool:
    """Whether an enabled CT of ``kind`` has a reading."""
    meter = data.ct(kind)
    return meter is not None and meter.reading is not None


def _error_text(response: Response) -> str:
    """The gateway's own word on a refused value (its ``error``), else the answer's
    size: an error message never quotes the answer (see ``errors``)."""
    try:
        answer = response.json()
    except UnexpectedPayloadError:
        answer = None
    if isinstance(answer, Mapping) and isinstance(answer.get("error"), str):
        return str(answer["error"])[:200]
    return f"an answer of {len(response.body)} bytes"


def _require_ok(response: Response) -> None:
    if not response.ok:
        raise UnexpectedPayloadError(f"{response.path} answered {response.status}")
