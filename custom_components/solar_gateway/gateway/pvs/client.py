"""``PvsClient``: a SunPower PVS5/PVS6 behind the ``GatewayClient`` interface.

Polling defaults, and why:

- Legacy API: one ``DeviceList`` request gives both LIVE and DEVICES, and its data only
  changes every 5 minutes (``DATATIME`` on 5-minute boundaries). Polling faster gets
  the same data and has crashed PVSs (users report reboots at 30 s), so both groups
  default to, and may not go below, 5 minutes; ``next_data_due`` tells the caller when
  the next data set is out. Until then the DeviceList held answers every group: the
  groups' polls fall due a fraction of a second apart, and one read serves both. There are no settings to poll: ``Get_Comm``,
  ``GridProfileGet`` and ``CheckFW`` feed no entity, so they are read only for a
  diagnostics capture (``read_support_commands``), never on a timer.
- Varserver: ``/sys/livedata`` is a dozen in-memory variables, cheap for the PVS;
  SunStrong asks for no more than one query every few seconds, SunVault PVSs being
  the busiest. 60 s (60 requests/hour) gives the Energy dashboard's 5-minute
  statistics a dozen samples each; the floor is 10 s. Device data (``msmtEps``) is
  on 5-minute boundaries, so DEVICES defaults to 5 minutes (floor 1 minute). The
  SunVault settings are read every 10 minutes and right after a write.
"""

from collections.abc import Awaitable, Mapping
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.cookies import Morsel
import logging
from typing import override
from urllib.parse import urlsplit

import aiohttp

from custom_components.solar_gateway.gateway.cadence import next_due, next_report_due
from custom_components.solar_gateway.gateway.client import (
    Access,
    DataGroup,
    GatewayClient,
    Identified,
    PollingRule,
)
from custom_components.solar_gateway.gateway.errors import (
    AuthenticationError,
    FeatureUnavailableError,
    GatewayBusyError,
    GatewayError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.hosts import HostAddress, parse_host
from custom_components.solar_gateway.gateway.site import (
    Control,
    ControlChange,
    ControlKey,
    ControlKind,
    GatewayIdentity,
    SiteFigures,
    SiteSnapshot,
)
from custom_components.solar_gateway.gateway.transport import (
    Response,
    RetryPolicy,
    Timeouts,
    Transport,
)

from .legacy import LegacyApi
from .models import (
    DeviceList,
    EssConfig,
    EssControlMode,
    LiveData,
    PvsApi,
    PvsData,
    Supervisor,
    SupervisorInfo,
    VarserverData,
)
from .parsers.common import DATA_INTERVAL, parse_build
from .parsers.varserver import (
    CONTROL_MODE_VAR,
    MIN_SOC_VAR,
    parse_ess_config,
    parse_vars,
    software_build,
)
from .probe import probe
from .site_mapping import (
    legacy_data_time,
    legacy_snapshot,
    pvs_identity,
    varserver_snapshot,
)
from .stream import STREAM_PORT, TELEMETRY_VAR, PvsTelemetryStream
from .varserver import VarserverSession, default_password

_LOGGER = logging.getLogger(__name__)

BUSY_MESSAGE = "gateway busy or restarting"
# How long a PVS that answered 503 or just rebooted is left alone.
RESTART_BACKOFF = 300.0
# Never retry: a PVS that failed once is not helped by a second request right away.
PVS_RETRY = RetryPolicy(
    retries=0, busy_backoff=RESTART_BACKOFF, failure_backoff=60.0, max_backoff=900.0
)
PVS_TIMEOUTS = Timeouts(connect=10.0, read=120.0)

_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_FIVE_MINUTES = timedelta(minutes=5)
# A DeviceList without a data time answers the polls that fall due with it.
_SAME_POLL = timedelta(minutes=1)

# LIVE is fixed on the legacy API: it comes from the same DeviceList as DEVICES. No
# SETTINGS: the legacy settings commands feed no entity (see above).
LEGACY_POLLING: Mapping[DataGroup, PollingRule] = {
    DataGroup.LIVE: PollingRule(_FIVE_MINUTES, _FIVE_MINUTES, _FIVE_MINUTES),
    DataGroup.DEVICES: PollingRule(_FIVE_MINUTES, _FIVE_MINUTES, _HOUR),
}
VARSERVER_POLLING: Mapping[DataGroup, PollingRule] = {
    DataGroup.LIVE: PollingRule(
        timedelta(seconds=60), timedelta(seconds=10), timedelta(minutes=10)
    ),
    DataGroup.DEVICES: PollingRule(_FIVE_MINUTES, _MINUTE, _HOUR),
    DataGroup.SETTINGS: PollingRule(timedelta(minutes=10), _MINUTE, _DAY),
}
# Varserver figures read in another group than LIVE: grid import and export come
# from the meters, the reserve from the SunVault settings.
_VARSERVER_FIGURE_GROUPS: Mapping[str, DataGroup] = {
    "grid_import_energy": DataGroup.DEVICES,
    "grid_export_energy": DataGroup.DEVICES,
    "backup_reserve": DataGroup.SETTINGS,
}
# The same battery mode options as the Envoy's: SunPower's "cost savings" and
# "emergency reserve" are Enphase's savings and full backup. Standby is not offered:
# the PVS refuses it from the owner account.
ESS_MODES = {
    "self_consumption": EssControlMode.SELF_CONSUMPTION,
    "savings": EssControlMode.ENERGY_ARBITRAGE,
    "backup": EssControlMode.BACKUP_ONLY,
}
# One key per fact on both brands: the battery mode select and the reserve number.
CONTROL_MODE = ControlKey.BATTERY_MODE
MIN_CUSTOMER_SOC = ControlKey.BACKUP_RESERVE

# Varserver query groups: one request per group and cycle.
MATCH_ALL_SYS = "/sys/"  # info, flash wear, livedata and every device
MATCH_LIVEDATA = "/sys/livedata/"
MATCH_ESS_CONFIG = "/ess/config/dcm/"


def probe_url(address: HostAddress) -> str:
    """Where a PVS's unauthenticated endpoints answer: HTTP unless a URL said HTTPS."""
    return address.url(address.scheme or "http")


def varserver_url(address: HostAddress) -> str:
    """Where the varserver answers.

    On its own the PVS serves the varserver on HTTPS (port 443). A port given without
    a scheme is where it answered HTTP (a proxy, a forwarded port), so it stays HTTP:
    sending TLS there could only fail, and a wrong password must read as one.
    """
    if address.scheme is None and address.port is None:
        return address.url("https")
    return probe_url(address)


class PvsClient(GatewayClient):
    """A SunPower PVS5/PVS6 on either of its local APIs."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        password: str | None = None,
        known: Identified | None = None,
        *,
        stream_port: int | None = None,
    ) -> None:
        """Prepare a client for ``host`` (anything ``parse_host`` reads).

        ``password`` overrides the default owner password (last 5 characters of the
        serial) of the new-firmware API. With ``known`` (what an earlier setup
        learned) setup starts from it instead of probing which API the PVS answers.
        ``stream_port`` is the telemetry socket's (None: the PVS's own, 9002).
        Raises ``InvalidHostError`` for text that is no address.
        """
        self._session = session
        self._known = known
        self._address = parse_host(host)
        self._password = password
        self.transport = Transport(
            session, probe_url(self._address), timeouts=PVS_TIMEOUTS, retry=PVS_RETRY
        )
        self._legacy = LegacyApi(self.transport)
        self._vars: VarserverSession | None = None
        self._api: PvsApi | None = None
        self._identity: GatewayIdentity | None = None
        self._last_uptime: float | None = None
        # Until when the DeviceList held is the latest the PVS has (legacy API).
        self._device_list_until: datetime | None = None
        self._stream_port = stream_port or STREAM_PORT
        self._stream_live: LiveData | None = None
        # The controls last handed over, handed over again while they are unchanged.
        self.data = PvsData()

    # --- what the gateway is -------------------------------------------------

    @property
    def api(self) -> PvsApi:
        """The API in use (after ``setup``)."""
        if self._api is None:
            raise GatewayError("PvsClient.setup() has not run")
        return self._api

    @property
    @override
    def identity(self) -> GatewayIdentity:
        if self._identity is None:
            raise GatewayError("PvsClient.setup() has not run")
        return self._identity

    @property
    @override
    def identification(self) -> Identified:
        api = self.api
        return Identified(
            self.identity,
            Access.PVS_OWNER if api is PvsApi.VARSERVER else Access.OPEN,
            self.transport.base_url,
        )

    @property
    @override
    def polling(self) -> Mapping[DataGroup, PollingRule]:
        api = self._api
        if api is None and self._known is not None:
            api = PvsApi(self._known.identity.api)
        return VARSERVER_POLLING if api is PvsApi.VARSERVER else LEGACY_POLLING

    @override
    def figure_group(self, figure: str) -> DataGroup:
        if self._api is PvsApi.VARSERVER:
            return _VARSERVER_FIGURE_GROUPS.get(figure, DataGroup.LIVE)
        return DataGroup.LIVE

    # --- setup ---------------------------------------------------------------

    @override
    async def setup(self) -> None:
        if self._known is not None:
            await self._start_known(self._known)
            return
        result = await self._busy_guard(probe(self._legacy))
        self._api = result.api
        self._cap_backoff()
        info = result.info
        if result.device_list is not None:
            self.data.device_list = result.device_list
            self._check_uptime(result.device_list.supervisor)
        if result.api is PvsApi.LEGACY:
            assert info is not None
            self._set_identity(info, PvsApi.LEGACY)
            return
        self.transport.base_url = varserver_url(self._address)
        await self._log_in(info)
        assert self._vars is not None
        if info is None:
            values = await self._busy_guard(self._vars.query("/sys/info/"))
            vars_data = parse_vars(values)
            if vars_data.supervisor is None:
                raise UnexpectedPayloadError("the varserver does not tell the serial")
            info = SupervisorInfo(
                serial=vars_data.supervisor.serial,
                model=vars_data.supervisor.model,
                build=software_build(values),
                software=vars_data.supervisor.software,
                hardware=vars_data.supervisor.hardware,
            )
        self._set_identity(info, PvsApi.VARSERVER)

    async def _start_known(self, known: Identified) -> None:
        """Start on the API and URL an earlier setup found, without probing."""
        identity = known.identity
        api = PvsApi(identity.api)
        info = SupervisorInfo(
            serial=identity.serial,
            model=identity.model,
            build=parse_build(identity.firmware),
            software=identity.firmware,
        )
        self._api = api
        self._cap_backoff()
        self.transport.base_url = known.url
        if api is PvsApi.VARSERVER:
            await self._log_in(info)
        self._set_identity(info, api)

    def _cap_backoff(self) -> None:
        """Never back off longer than the live interval: a PVS that answers again is
        read within one."""
        self.transport.cap_backoff(self.polling[DataGroup.LIVE].default)

    async def _log_in(self, info: SupervisorInfo | None) -> None:
        password = self._password or (default_password(info.serial) if info else None)
        if not password:
            raise AuthenticationError(
                "the PVS does not tell its serial; enter the owner password"
            )
        self._vars = VarserverSession(
            self.transport, password, on_login=self._forget_jar_cookie
        )
        await self._busy_guard(self._vars.login())

    def _set_identity(self, info: SupervisorInfo, api: PvsApi) -> None:
        self.data.info = info
        self._identity = pvs_identity(info.serial, info.model, info.software, api)

    def _forget_jar_cookie(self) -> None:
        """Drop the PVS session cookie if the shared session's jar kept it."""
        host = urlsplit(self.transport.base_url).hostname or ""

        def ours(morsel: Morsel[str]) -> bool:
            domain = morsel.get("domain") or ""
            return morsel.key == "session" and domain.lstrip(".") == host

        self._session.cookie_jar.clear(ours)

    async def _busy_guard[T](self, awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except GatewayBusyError as err:
            raise GatewayBusyError(f"{BUSY_MESSAGE}: {err}", err.retry_after) from err

    # --- polling -------------------------------------------------------------

    @override
    async def refresh(self, groups: frozenset[DataGroup]) -> SiteSnapshot:
        api = self.api
        self.transport.new_cycle()
        if api is PvsApi.LEGACY:
            await self._busy_guard(self._refresh_legacy(groups))
        else:
            await self._busy_guard(self._refresh_varserver(groups))
        return self.snapshot()

    def snapshot(self) -> SiteSnapshot:
        """The site as last read (without sending anything)."""
        identity = self.identity
        if self._api is PvsApi.VARSERVER:
            varserver = self.data.varserver
            if varserver is None:
                return SiteSnapshot(identity=identity, figures=SiteFigures())
            if self._stream_live is not None:
                varserver = _with_livedata(varserver, self._stream_live)
            snapshot = varserver_snapshot(
                identity, varserver, self.data.ess_config, self.data.warnings
            )
            return replace(snapshot, controls=self._controls())
        if self.data.device_list is None:
            return SiteSnapshot(identity=identity, figures=SiteFigures())
        return legacy_snapshot(
            identity, self.data.device_list, self.data.ess_status, self.data.warnings
        )

    async def _refresh_legacy(self, groups: frozenset[DataGroup]) -> None:
        if not groups & {DataGroup.LIVE, DataGroup.DEVICES}:
            return
        now = self.now()
        if self._device_list_until is not None and now < self._device_list_until:
            # The PVS has nothing newer: the answer held serves this group too.
            return
        device_list = await self._legacy.device_list()
        self.data.device_list = device_list
        self._device_list_until = _latest_until(device_list, now)
        self._check_uptime(device_list.supervisor)
        if device_list.ess_parts:
            try:
                self.data.ess_status = await self._legacy.ess_status()
            except FeatureUnavailableError, UnexpectedPayloadError:
                self.data.ess_status = None
                _LOGGER.debug("no usable SunVault status", exc_info=True)

    @override
    async def capture_responses(self) -> Mapping[str, Response]:
        """The last answers, with a legacy PVS's support commands read for them."""
        await self.read_support_commands()
        return self.responses()

    async def read_support_commands(self) -> None:
        """Read a legacy PVS's network, grid profile and firmware check, for support.

        Nothing shows them, so polling never asks for them; a diagnostics capture does.
        Each is optional (an old firmware may lack any of them); a PVS that is busy or
        does not answer is left alone.
        """
        if self._api is not PvsApi.LEGACY:
            return
        legacy = self._legacy
        serial = self.identity.serial
        try:
            with suppress(FeatureUnavailableError, UnexpectedPayloadError):
                self.data.network = await legacy.network_status(serial)
            with suppress(FeatureUnavailableError, UnexpectedPayloadError):
                self.data.grid_profile = await legacy.grid_profile()
            with suppress(FeatureUnavailableError, UnexpectedPayloadError):
                self.data.firmware = await legacy.check_firmware()
        except GatewayError as err:
            _LOGGER.debug("PVS support commands not read: %s", err)

    async def _refresh_varserver(self, groups: frozenset[DataGroup]) -> None:
        session = self._session_or_fail()
        if groups & {DataGroup.LIVE, DataGroup.DEVICES}:
            # Both read /sys/livedata: newer than the last streamed figures.
            self._stream_live = None
        if DataGroup.DEVICES in groups:
            values = await session.query(MATCH_ALL_SYS)
            parsed = parse_vars(values)
            self._check_uptime(parsed.supervisor)
            self.data.varserver = parsed
        elif DataGroup.LIVE in groups:
            values = await session.query(MATCH_LIVEDATA)
            live = parse_vars(values).livedata
            previous = self.data.varserver
            self.data.varserver = (
                VarserverData(
                    supervisor=None,
                    livedata=live,
                    meters=(),
                    inverters=(),
                    ess=(),
                    transfer_switches=(),
                )
                if previous is None
                else _with_livedata(previous, live)
            )
        if DataGroup.SETTINGS in groups and self._has_storage():
            await self._read_ess_config(session)

    def _has_storage(self) -> bool:
        data = self.data.varserver
        if data is None:
            return False
        if data.ess:
            return True
        return data.system_type is not None and data.system_type.lower() != "pv-only"

    async def _read_ess_config(self, session: VarserverSession) -> EssConfig | None:
        config = parse_ess_config(await session.query(MATCH_ESS_CONFIG))
        self.data.ess_config = config
        return config

    def _session_or_fail(self) -> VarserverSession:
        if self._vars is None:
            raise GatewayError("PvsClient.setup() has not run")
        return self._vars

    def _check_uptime(self, supervisor: Supervisor | None) -> None:
        """Note a reboot (uptime went backwards).

        The answer that shows it is kept: it is the PVS's data as it is now (the
        counter guard keeps restarted counters from the Energy dashboard), and the
        next poll is an interval away in any case. A varserver session does not
        outlive a reboot, so the next query logs in first.
        """
        if supervisor is None or supervisor.uptime_s is None:
            return
        previous, self._last_uptime = self._last_uptime, supervisor.uptime_s
        if previous is not None and supervisor.uptime_s < previous:
            _LOGGER.info(
                "The PVS restarted (uptime %.0f s, was %.0f s)",
                supervisor.uptime_s,
                previous,
            )
            if self._vars is not None:
                self._vars.forget()

    # --- telemetry stream (PVS6 varserver only) --------------------------------

    @override
    def stream_source(self) -> PvsTelemetryStream | None:
        """The telemetry WebSocket on a PVS6 with the varserver API, else None."""
        if self._api is not PvsApi.VARSERVER or self._vars is None:
            return None
        model = (self.identity.model or "").upper()
        if model.startswith("PVS5"):
            return None
        session = self._vars
        host = urlsplit(self.transport.base_url).hostname or ""
        netloc = f"[{host}]" if ":" in host else host

        async def enable() -> None:
            await self._busy_guard(session.set_var_by_query(TELEMETRY_VAR, "1"))

        return PvsTelemetryStream(
            self._session,
            f"ws://{netloc}:{self._stream_port}/",
            enable=enable,
            fold=self.fold_stream_live,
            timeouts=PVS_TIMEOUTS,
        )

    def fold_stream_live(self, live: LiveData) -> SiteSnapshot:
        """Take one streamed power notification as the live figures; return the site."""
        self._stream_live = live
        return self.snapshot()

    @override
    def next_data_due(
        self, group: DataGroup, snapshot: SiteSnapshot
    ) -> datetime | None:
        """When the PVS will have new data for ``group`` (None: poll at the interval).

        Legacy LIVE and DEVICES both come from the DeviceList, published every 5
        minutes at DATATIME; varserver device data carries ``msmtEps`` on the same
        cadence, while its livedata is continuous.
        """
        if group is DataGroup.SETTINGS:
            return None
        if self._api is PvsApi.VARSERVER:
            if group is DataGroup.LIVE:
                return None
            return next_report_due(
                (d.data_time for d in snapshot.devices if d.data_time is not None),
                self.now(),
                interval=DATA_INTERVAL,
                asleep_after=3 * DATA_INTERVAL,
            )
        return next_due(snapshot.data_time, self.now(), interval=DATA_INTERVAL)

    @override
    def now(self) -> datetime:
        """The current time (a method so that tests can pin it)."""
        return datetime.now(UTC)

    # --- SunVault controls (varserver only) ------------------------------------

    def _controls(self) -> tuple[Control, ...]:
        """The SunVault settings this PVS offers, as last read."""
        config = self.data.ess_config
        if config is None:
            return ()
        controls: list[Control] = []
        if config.control_mode is not None:
            controls.append(
                Control(
                    key=CONTROL_MODE,
                    kind=ControlKind.SELECT,
                    value=next(
                        (k for k, m in ESS_MODES.items() if m == config.control_mode),
                        None,
                    ),
                    options=tuple(ESS_MODES),
                )
            )
        if config.min_customer_soc is not None:
            controls.append(
                Control(
                    key=MIN_CUSTOMER_SOC,
                    kind=ControlKind.NUMBER,
                    value=round(config.min_customer_soc * 100, 1),
                    # The PVS stores a fraction with two decimals: whole percents.
                    resolution=1.0,
                )
            )
        return tuple(controls)

    @override
    async def apply(self, change: ControlChange) -> SiteSnapshot:
        """Write one SunVault setting; the PVS reads the settings back."""
        if change.device is None and change.key == CONTROL_MODE:
            await self.set_control_mode(ESS_MODES[str(change.value)])
        elif change.device is None and change.key == MIN_CUSTOMER_SOC:
            await self.set_min_customer_soc(float(change.value))
        else:
            raise FeatureUnavailableError(
                f"this PVS offers no {change.key} control for {change.device}", 404
            )
        return self.snapshot()

    async def set_control_mode(self, mode: EssControlMode) -> EssConfig | None:
        """Set the SunVault control mode; returns the settings read back."""
        session = self._controls_session()
        await self._busy_guard(session.set_var(CONTROL_MODE_VAR, str(mode)))
        return await self._after_write(session)

    async def set_min_customer_soc(self, percent: float) -> EssConfig | None:
        """Set the SunVault reserve (minimum customer SOC), 0..100 %."""
        if not 0.0 <= percent <= 100.0:
            raise ValueError(f"reserve {percent} % is outside 0..100 %")
        session = self._controls_session()
        await self._busy_guard(session.set_var(MIN_SOC_VAR, f"{percent / 100.0:.2f}"))
        return await self._after_write(session)

    def _controls_session(self) -> VarserverSession:
        if self._api is not PvsApi.VARSERVER or self._vars is None:
            # status 0: no HTTP status said so; this API has no such control.
            raise FeatureUnavailableError(
                "SunVault controls need the new-firmware (varserver) API", 0
            )
        return self._vars

    async def _after_write(self, session: VarserverSession) -> EssConfig | None:
        self.transport.new_cycle()
        return await self._busy_guard(self._read_ess_config(session))


def _latest_until(device_list: DeviceList, read_at: datetime) -> datetime:
    """Until when ``device_list``, read at ``read_at``, is the PVS's latest.

    The PVS publishes a new one at each 5-minute boundary after its DATATIME.
    """
    data_time = legacy_data_time(device_list)
    if data_time is None:
        return read_at + _SAME_POLL
    return next_due(data_time, read_at, interval=DATA_INTERVAL, margin=timedelta(0))


def _with_livedata(data: VarserverData, live: LiveData | None) -> VarserverData:
    return replace(data, livedata=live)
