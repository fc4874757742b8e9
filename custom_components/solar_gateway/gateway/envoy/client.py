"""``EnvoyClient``: the Enphase IQ Gateway behind the ``GatewayClient`` interface."""

from collections.abc import Mapping
from datetime import timedelta
import logging
import time
from typing import override

import aiohttp

from custom_components.solar_gateway.gateway.client import DataGroup, GatewayClient
from custom_components.solar_gateway.gateway.errors import (
    AuthenticationError,
    ControlRefusedError,
    FeatureUnavailableError,
    GatewayError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.hosts import parse_host
from custom_components.solar_gateway.gateway.site import GatewayIdentity, SiteSnapshot
from custom_components.solar_gateway.gateway.transport import (
    Response,
    RetryPolicy,
    Timeouts,
    Transport,
)
from custom_components.solar_gateway.gateway.values import JsonObject

from .auth import (
    ENLIGHTEN_URL,
    ENTREZ_URL,
    Clock,
    DigestAuth,
    EnvoyAuth,
    EnvoyCredentials,
    TokenAuth,
)
from .controls import (
    ControlRequest,
    dry_contact_request,
    dry_contact_settings_request,
    grid_request,
    tariff_request,
)
from .endpoints import GROUPS, READERS, Endpoint
from .models import CtType, EnvoyData, EnvoyInfo, StorageMode
from .probe import identity_of, probe
from .site_mapping import build_snapshot

_LOGGER = logging.getLogger(__name__)

# Statuses that mean "this endpoint is not for this firmware or account".
ABSENT_STATUSES = frozenset({401, 403, 404})
# Endpoints whose failure must not fail a whole update (pdm device data stops
# answering around 23:00 on some sites).
_OPTIONAL = frozenset({Endpoint.PDM_DEVICE_DATA})


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
        clock: Clock = time.time,
    ) -> None:
        """Prepare a client for ``host`` (anything ``parse_host`` reads); nothing is sent.

        Raises ``InvalidHostError`` for text that is no address.
        """
        self._session = session
        self.host = host
        self._address = parse_host(host)
        self.credentials = EnvoyCredentials(username, password, token)
        self._timeouts = timeouts
        self._retry = retry
        self._enlighten_url = enlighten_url
        self._entrez_url = entrez_url
        self._clock = clock
        self._info: EnvoyInfo | None = None
        self._auth: EnvoyAuth | None = None
        self._data: EnvoyData | None = None
        self._settings_stale = False
        self._refused: AuthenticationError | None = None
        self.features: frozenset[Endpoint] = frozenset()

    # --- GatewayClient -------------------------------------------------------------

    @property
    @override
    def identity(self) -> GatewayIdentity:
        """What the gateway is; available after ``setup``."""
        return identity_of(self._require_info())

    @property
    def info(self) -> EnvoyInfo:
        """The gateway's ``/info``; available after ``setup``."""
        return self._require_info()

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
        """Whether an enabled CT feeds live readings."""
        return self._data is not None and bool(self._data.ct_meters)

    @property
    @override
    def default_intervals(self) -> Mapping[DataGroup, timedelta]:
        """CT readings every 15 s, production-only sites every 60 s (the gateway's
        own inverter data changes every 5 minutes); devices 5 min; settings 1 h."""
        return {
            DataGroup.LIVE: timedelta(seconds=15 if self.metered else 60),
            DataGroup.DEVICES: timedelta(minutes=5),
            DataGroup.SETTINGS: timedelta(hours=1),
        }

    @property
    @override
    def minimum_intervals(self) -> Mapping[DataGroup, timedelta]:
        """The fastest each group may be read without burdening the gateway."""
        return {
            DataGroup.LIVE: timedelta(seconds=5 if self.metered else 30),
            DataGroup.DEVICES: timedelta(minutes=1),
            DataGroup.SETTINGS: timedelta(minutes=5),
        }

    @override
    async def setup(self) -> None:
        """Probe, authenticate and read every endpoint once to detect features."""
        info, base_url = await probe(
            self._session, self._address, timeouts=self._timeouts
        )
        self._info = info
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
        await self._auth.setup(self.transport)
        data = EnvoyData(info=info)
        present: set[Endpoint] = set()
        self.transport.new_cycle()
        for endpoint in Endpoint:
            response = await self._get(endpoint)
            if response.status in ABSENT_STATUSES or not response.ok:
                _LOGGER.debug("%s absent (%s)", endpoint, response.status)
                continue
            try:
                data = READERS[endpoint](data, response)
            except UnexpectedPayloadError as err:
                _LOGGER.debug("%s absent: %s", endpoint, err)
                continue
            present.add(endpoint)
        self.features = frozenset(present)
        self._data = data
        self._settings_stale = False
        self.transport.cap_backoff(self.default_intervals[DataGroup.LIVE])

    @override
    async def refresh(self, groups: frozenset[DataGroup]) -> SiteSnapshot:
        """Read the wanted endpoints of ``groups`` and return the whole site.

        Once the gateway has refused the credentials, every later call raises the
        same error without sending anything: only the user can fix it, and asking
        again with a token it refused is noise on the gateway.
        """
        if self._refused is not None:
            raise type(self._refused)(str(self._refused))
        try:
            return await self._refresh(groups)
        except AuthenticationError as err:
            self._refused = err
            raise

    async def _refresh(self, groups: frozenset[DataGroup]) -> SiteSnapshot:
        data = self.data
        auth = self._require_auth()
        self.transport.new_cycle()
        await auth.ensure_fresh(self.transport)
        if self._settings_stale:
            groups = groups | {DataGroup.SETTINGS}
        # Settings first: which CTs are enabled decides what the live group reads.
        for group in (DataGroup.SETTINGS, DataGroup.DEVICES, DataGroup.LIVE):
            if group not in groups:
                continue
            for endpoint in Endpoint:
                if GROUPS[endpoint] is group and self._wanted(endpoint, data):
                    data = await self._read(endpoint, data)
            if group is DataGroup.SETTINGS:
                self._settings_stale = False
        self._data = data
        return build_snapshot(self.identity, data)

    # --- Controls ------------------------------------------------------------------

    async def go_on_grid(self) -> JsonObject:
        """Reconnect the site to the grid (system controller mains relay closed)."""
        return await self._write(grid_request(on_grid=True))

    async def go_off_grid(self) -> JsonObject:
        """Island the site (system controller mains relay open)."""
        return await self._write(grid_request(on_grid=False))

    async def close_dry_contact(self, relay_id: str) -> JsonObject:
        """Close one dry contact relay."""
        return await self._write(dry_contact_request(relay_id, closed=True))

    async def open_dry_contact(self, relay_id: str) -> JsonObject:
        """Open one dry contact relay."""
        return await self._write(dry_contact_request(relay_id, closed=False))

    async def update_dry_contact(
        self, relay_id: str, changes: Mapping[str, object]
    ) -> JsonObject:
        """Change a relay's settings; the complete settings body is sent."""
        for settings in self.data.dry_contact_settings:
            if settings.id == relay_id:
                return await self._write(
                    dry_contact_settings_request(settings, changes)
                )
        raise FeatureUnavailableError(f"no settings for dry contact {relay_id}", 404)

    async def set_storage_mode(self, mode: StorageMode) -> JsonObject:
        """Set the battery mode (backup, self-consumption, economy, savings)."""
        return await self._write(tariff_request(self.data.tariff, mode=mode))

    async def set_reserve_soc(self, reserve: float) -> JsonObject:
        """Set the backup reserve state of charge (%)."""
        return await self._write(tariff_request(self.data.tariff, reserved_soc=reserve))

    async def set_charge_from_grid(self, enabled: bool) -> JsonObject:
        """Allow or forbid charging the batteries from the grid."""
        return await self._write(
            tariff_request(self.data.tariff, charge_from_grid=enabled)
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
        if endpoint not in self.features:
            return False
        features = self.features
        ensemble = data.ensemble
        match endpoint:
            case Endpoint.API_PRODUCTION:
                return data.ct(CtType.PRODUCTION) is None
            case Endpoint.PRODUCTION_PAGE:
                return not features & {
                    Endpoint.PRODUCTION_JSON,
                    Endpoint.API_PRODUCTION,
                }
            case Endpoint.METER_READINGS:
                return bool(data.ct_meters)
            case Endpoint.ENSEMBLE_POWER:
                return ensemble is not None and bool(ensemble.encharges)
            case Endpoint.SECCTRL:
                return (
                    ensemble is not None
                    and bool(ensemble.encharges or ensemble.enpowers)
                ) or any(d.group == "ACB" for d in data.inventory)
            case (
                Endpoint.DRY_CONTACTS
                | Endpoint.DRY_CONTACT_SETTINGS
                | Endpoint.GENERATOR
            ):
                return ensemble is not None and bool(ensemble.enpowers)
        return True

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
            return READERS[endpoint](data, response)
        except UnexpectedPayloadError:
            if endpoint in _OPTIONAL:
                _LOGGER.debug("%s failed; keeping its last data", endpoint)
                return data
            raise

    async def _write(self, request: ControlRequest) -> JsonObject:
        auth = self._require_auth()
        self._require_info()
        response = await self.transport.request(
            request.method,
            request.path,
            headers=auth.headers,
            json_body=request.body,
            middlewares=auth.middlewares,
        )
        # Whatever happened, what we know of the settings may no longer be true.
        self._settings_stale = True
        if response.status in (401, 403):
            raise ControlRefusedError(
                f"{request.method} {request.path} refused ({response.status})",
                response.status,
            )
        if not response.ok:
            raise UnexpectedPayloadError(
                f"{request.method} {request.path} answered {response.status}"
            )
        if not response.body.strip():
            return {}
        answer = response.json()
        if isinstance(answer, Mapping):
            return answer
        return {"answer": answer}


def _require_ok(response: Response) -> None:
    if not response.ok:
        raise UnexpectedPayloadError(f"{response.path} answered {response.status}")
