"""Config flow: find the gateway, tell Envoy from PVS, ask only what it needs."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_USER,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.util import dt as dt_util
import probatio as vol

from .connection import client_from_data, gateway_session, identified_to_data
from .const import (
    AUTH_ENLIGHTEN,
    AUTH_LOCAL,
    AUTH_TOKEN,
    CONF_AUTH_METHOD,
    CONF_BRAND,
    CONF_CAPTURE_DIAGNOSTICS,
    CONF_IDENTIFIED,
    CONF_LIVE_STREAM,
    CONF_STREAM_WRITE_INTERVAL,
    CONF_TOKEN,
    DEFAULT_STREAM_WRITE_SECONDS,
    DOMAIN,
    INTERVAL_OPTIONS,
)
from .coordinator import LOGGER, SolarGatewayConfigEntry
from .gateway.client import GatewayClient
from .gateway.errors import (
    AuthenticationError,
    CloudConnectionError,
    GatewayBusyError,
    GatewayConnectionError,
    GatewayError,
    InvalidHostError,
    MfaRequiredError,
    NotSupportedGatewayError,
    TokenExpiredError,
    TokenForAnotherGatewayError,
)
from .gateway.hosts import HostAddress, parse_host
from .gateway.identify import Access, Identified, decode_token, identify
from .gateway.site import Brand, GatewayIdentity
from .migration import CURRENT_MINOR_VERSION


def _title(identity: GatewayIdentity) -> str:
    if identity.brand is Brand.ENPHASE:
        return f"Envoy {identity.serial}"
    return f"{identity.model or 'PVS'} {identity.serial}"


def _error_key(err: GatewayError) -> str:
    """The translation key of the form error for a failed connection attempt."""
    match err:
        case MfaRequiredError():
            return "mfa_required"
        case TokenExpiredError():
            return "token_expired"
        case TokenForAnotherGatewayError():
            return "token_wrong_gateway"
        case AuthenticationError():
            return "invalid_auth"
        case GatewayBusyError():
            return "gateway_busy"
        case InvalidHostError():
            return "invalid_host"
        case CloudConnectionError():
            return "cloud_cannot_connect"
        case GatewayConnectionError():
            return "cannot_connect"
        case NotSupportedGatewayError():
            return "not_supported"
        case _:
            return "unexpected_answer"


class SolarGatewayConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up an Enphase Envoy or a SunPower PVS."""

    VERSION = 1
    # 1.2: the entry keeps what setup learned about the host (CONF_IDENTIFIED).
    # 1.3: one unique-id suffix for battery mode and reserve on both brands.
    MINOR_VERSION = CURRENT_MINOR_VERSION

    def __init__(self) -> None:
        """Start with nothing known."""
        self._host: str | None = None
        self._found: Identified | None = None
        self._learned: Identified | None = None

    @staticmethod
    @callback
    @override
    def async_get_options_flow(
        config_entry: SolarGatewayConfigEntry,
    ) -> SolarGatewayOptionsFlow:
        """Polling intervals and diagnostics capture."""
        return SolarGatewayOptionsFlow()

    # --- Finding the gateway -------------------------------------------------

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the host, then find out what answers there."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                host = str(parse_host(user_input[CONF_HOST]))
                found = await identify(gateway_session(self.hass), host)
            except GatewayError as err:
                errors["base"] = _error_key(err)
            else:
                # A user who starts again replaces an attempt left half-done (a
                # browser closed at the token step): it would otherwise hold the
                # gateway until a restart, unseen in any list.
                await self.async_set_unique_id(
                    found.identity.serial, raise_on_progress=False
                )
                self._abort_if_unique_id_configured(updates={CONF_HOST: host})
                self._abort_earlier_attempts()
                self._host = host
                self._found = found
                return await self._async_step_access()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_HOST): TextSelector()}), user_input
            ),
            errors=errors,
        )

    @override
    async def async_step_zeroconf(
        self, discovery_info: ZeroconfServiceInfo
    ) -> ConfigFlowResult:
        """A gateway announced itself on the network."""
        # An announced address is an IP address; brackets go around IPv6 ones.
        port = discovery_info.port
        host = str(
            HostAddress(discovery_info.host, None if port in (None, 80, 443) else port)
        )
        serial = discovery_info.properties.get("serialnum")
        if serial:
            await self.async_set_unique_id(serial)
            await self._async_keep_working_host(serial, host)
        try:
            found = await identify(gateway_session(self.hass), host)
        except NotSupportedGatewayError:
            return self.async_abort(reason="not_supported")
        except GatewayError:
            return self.async_abort(reason="cannot_connect")
        await self.async_set_unique_id(found.identity.serial)
        await self._async_keep_working_host(found.identity.serial, host)
        self._host = host
        self._found = found
        self.context["title_placeholders"] = {"name": _title(found.identity)}
        return await self.async_step_zeroconf_confirm()

    @callback
    def _abort_earlier_attempts(self) -> None:
        """End this user's other set-up flows for the same gateway.

        Discovered ones stay: they are listed under Discovered, and the first
        entry created for the gateway ends them anyway.
        """
        for flow in self._async_in_progress(
            include_uninitialized=True,
            match_context={"unique_id": self.unique_id, "source": SOURCE_USER},
        ):
            if flow["flow_id"] != self.flow_id:
                self.hass.config_entries.flow.async_abort(flow["flow_id"])

    async def _async_keep_working_host(self, serial: str, host: str) -> None:
        """Abort for a known gateway; move it to ``host`` only if its old one is dead.

        A gateway on two interfaces (wired and Wi-Fi) announces both addresses; the
        entry keeps the one that works instead of flipping with every announcement.
        """
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, serial
        )
        if entry is None:
            return
        current = entry.data.get(CONF_HOST)
        if current and current != host:
            try:
                still = await identify(gateway_session(self.hass), current)
            except GatewayError:
                still = None
            if still is not None and still.identity.serial == serial:
                self._abort_if_unique_id_configured()
        self._abort_if_unique_id_configured(updates={CONF_HOST: host})

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user confirm a discovered gateway."""
        assert self._found is not None
        if user_input is not None:
            return await self._async_step_access()
        identity = self._found.identity
        return self.async_show_form(
            step_id="zeroconf_confirm",
            description_placeholders={
                "name": _title(identity),
                "host": self._host or "",
                "firmware": identity.firmware or "?",
            },
        )

    async def _async_step_access(self) -> ConfigFlowResult:
        """Ask only for what this gateway needs."""
        assert self._found is not None
        match self._found.access:
            case Access.ENVOY_ACCOUNT:
                return await self.async_step_envoy_auth()
            case Access.ENVOY_LOCAL:
                return await self.async_step_local()
            case Access.PVS_OWNER:
                return await self.async_step_pvs_password()
            case _:
                return await self.async_step_pvs_legacy()

    # --- Credentials -----------------------------------------------------------

    async def async_step_envoy_auth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Firmware 7+: choose between the Enphase account and a pasted token."""
        return self.async_show_menu(
            step_id="envoy_auth", menu_options=["enlighten", "token"]
        )

    async def async_step_enlighten(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enphase account e-mail and password (a token is fetched and renewed)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_AUTH_METHOD: AUTH_ENLIGHTEN,
                CONF_USERNAME: user_input[CONF_USERNAME].strip(),
                CONF_PASSWORD: user_input[CONF_PASSWORD],
            }
            if (error := await self._async_try(data)) is None:
                return await self._async_finish(data)
            errors["base"] = error
        schema = vol.Schema(
            {
                vol.Required(CONF_USERNAME): TextSelector(
                    TextSelectorConfig(
                        type=TextSelectorType.EMAIL, autocomplete="username"
                    )
                ),
                vol.Required(CONF_PASSWORD): TextSelector(
                    TextSelectorConfig(
                        type=TextSelectorType.PASSWORD, autocomplete="current-password"
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="enlighten",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                {CONF_USERNAME: (user_input or self._stored()).get(CONF_USERNAME)},
            ),
            errors=errors,
        )

    async def async_step_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A token pasted by the user (accounts with multi-factor authentication)."""
        assert self._found is not None
        errors: dict[str, str] = {}
        placeholders = {
            "expires": "",
            "user_type": "",
            "serial": self._found.identity.serial,
        }
        if user_input is not None:
            token = "".join(user_input[CONF_TOKEN].split())
            try:
                info = decode_token(token)
            except AuthenticationError:
                errors["base"] = "invalid_token"
            else:
                if info.expires is not None and info.expires <= dt_util.utcnow():
                    errors["base"] = "token_expired"
                else:
                    data = {CONF_AUTH_METHOD: AUTH_TOKEN, CONF_TOKEN: token}
                    if (error := await self._async_try(data)) is None:
                        return await self._async_finish(data)
                    errors["base"] = error
                placeholders |= {
                    "expires": _when(info.expires),
                    "user_type": info.user_type or "",
                }
        return self.async_show_form(
            step_id="token",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_TOKEN): TextSelector(
                        TextSelectorConfig(multiline=True)
                    )
                }
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_local(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Firmware before 7: a local user, optional (derived from the serial)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_AUTH_METHOD: AUTH_LOCAL,
                CONF_USERNAME: user_input.get(CONF_USERNAME, "").strip(),
                CONF_PASSWORD: user_input.get(CONF_PASSWORD, ""),
            }
            if (error := await self._async_try(data)) is None:
                return await self._async_finish(data)
            errors["base"] = error
        schema = vol.Schema(
            {
                vol.Optional(CONF_USERNAME): TextSelector(),
                vol.Optional(CONF_PASSWORD): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.PASSWORD)
                ),
            }
        )
        return self.async_show_form(
            step_id="local",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {CONF_USERNAME: self._stored().get(CONF_USERNAME)}
            ),
            errors=errors,
        )

    async def async_step_pvs_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The PVS owner password; by default the last 5 characters of the serial."""
        assert self._found is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {CONF_PASSWORD: user_input[CONF_PASSWORD].strip()}
            if (error := await self._async_try(data)) is None:
                return await self._async_finish(data)
            errors["base"] = error
        default = self._stored().get(CONF_PASSWORD) or self._found.identity.serial[-5:]
        schema = vol.Schema(
            {
                vol.Required(CONF_PASSWORD): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.PASSWORD)
                )
            }
        )
        return self.async_show_form(
            step_id="pvs_password",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {CONF_PASSWORD: default}
            ),
            errors=errors,
        )

    async def async_step_pvs_legacy(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Old PVS firmware: nothing to ask, but say which API will be used."""
        assert self._found is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            # Nothing to ask: make sure it answers before creating the entry (its
            # supervisor; the device list can take minutes and is left to setup).
            if (error := await self._async_try({})) is None:
                return await self._async_finish({})
            errors["base"] = error
        identity = self._found.identity
        return self.async_show_form(
            step_id="pvs_legacy",
            errors=errors,
            description_placeholders={
                "name": _title(identity),
                "firmware": identity.firmware or "?",
            },
        )

    # --- Reauthentication and reconfiguration -----------------------------------

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The gateway stopped accepting the stored credentials."""
        self._host = entry_data[CONF_HOST]
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Find out what the gateway needs now, then ask for it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entry = self._get_reauth_entry()
            try:
                found = await identify(
                    gateway_session(self.hass), entry.data[CONF_HOST]
                )
            except GatewayError as err:
                errors["base"] = _error_key(err)
            else:
                await self.async_set_unique_id(found.identity.serial)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                self._found = found
                return await self._async_step_access()
        return self.async_show_form(
            step_id="reauth_confirm",
            description_placeholders={"name": self._get_reauth_entry().title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the entry to a new address; it must be the same gateway."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                host = str(parse_host(user_input[CONF_HOST]))
                found = await identify(gateway_session(self.hass), host)
            except GatewayError as err:
                errors["base"] = _error_key(err)
            else:
                await self.async_set_unique_id(found.identity.serial)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                data = {**entry.data, CONF_HOST: host}
                client = client_from_data(gateway_session(self.hass), data, probe=True)
                try:
                    await client.setup()
                except GatewayError as err:
                    errors["base"] = _error_key(err)
                else:
                    return self.async_update_reload_and_abort(
                        entry,
                        data_updates={
                            CONF_HOST: host,
                            CONF_IDENTIFIED: identified_to_data(client.identification),
                        },
                    )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_HOST): TextSelector()}),
                user_input or {CONF_HOST: entry.data[CONF_HOST]},
            ),
            errors=errors,
        )

    # --- Helpers -----------------------------------------------------------------

    def _stored(self) -> Mapping[str, Any]:
        """The reauthenticated entry's data, to pre-fill forms; empty otherwise."""
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry().data
        return {}

    def _entry_data(self, credentials: Mapping[str, Any]) -> dict[str, Any]:
        assert self._found is not None
        host = self._host
        if self.source == SOURCE_REAUTH:
            host = self._get_reauth_entry().data[CONF_HOST]
        return {
            CONF_HOST: host,
            CONF_BRAND: self._found.identity.brand.value,
            **credentials,
        }

    async def _async_try(self, credentials: Mapping[str, Any]) -> str | None:
        """Connect with ``credentials``; return a form error key, or None on success."""
        client = client_from_data(
            gateway_session(self.hass), self._entry_data(credentials), probe=True
        )
        try:
            await client.setup()
        except GatewayError as err:
            LOGGER.debug("Connecting to the gateway failed: %s", err)
            return _error_key(err)
        # Kept in the entry: the first start begins from it instead of probing.
        self._learned = client.identification
        return None

    async def _async_finish(self, credentials: Mapping[str, Any]) -> ConfigFlowResult:
        """Create the entry, or update it when reauthenticating."""
        assert self._found is not None
        assert self._learned is not None
        data = {
            **self._entry_data(credentials),
            CONF_IDENTIFIED: identified_to_data(self._learned),
        }
        if self.source == SOURCE_REAUTH:
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data=data
            )
        return self.async_create_entry(title=_title(self._found.identity), data=data)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M")


class SolarGatewayOptionsFlow(OptionsFlowWithReload):
    """Polling intervals within what the gateway bears, and diagnostics capture."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and take the options."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        fields: dict[vol.Marker, Any] = {}
        for group, rule in self._client().polling.items():
            if not rule.adjustable:
                continue  # fixed by the gateway's own cadence
            key = INTERVAL_OPTIONS[group]
            default = round(rule.default.total_seconds())
            fields[
                vol.Required(key, default=self.config_entry.options.get(key, default))
            ] = NumberSelector(
                NumberSelectorConfig(
                    min=round(rule.minimum.total_seconds()),
                    max=round(rule.maximum.total_seconds()),
                    step=1,
                    unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            )
        client = self._client()
        if client.stream_source() is not None:
            options = self.config_entry.options
            fields[
                vol.Required(
                    CONF_LIVE_STREAM, default=options.get(CONF_LIVE_STREAM, False)
                )
            ] = BooleanSelector()
            fields[
                vol.Required(
                    CONF_STREAM_WRITE_INTERVAL,
                    default=options.get(
                        CONF_STREAM_WRITE_INTERVAL, DEFAULT_STREAM_WRITE_SECONDS
                    ),
                )
            ] = NumberSelector(
                NumberSelectorConfig(
                    min=1,
                    max=60,
                    step=1,
                    unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            )
        fields[
            vol.Required(
                CONF_CAPTURE_DIAGNOSTICS,
                default=self.config_entry.options.get(CONF_CAPTURE_DIAGNOSTICS, False),
            )
        ] = BooleanSelector()
        errors: dict[str, str] = {}
        if self._stream_refusal_unseen():
            errors[CONF_LIVE_STREAM] = "stream_refused"
        return self.async_show_form(
            step_id="init", data_schema=vol.Schema(fields), errors=errors
        )

    def _stream_refusal_unseen(self) -> bool:
        """Whether the gateway refused the live stream and the owner was not told."""
        runtime = getattr(self.config_entry, "runtime_data", None)
        feed = getattr(runtime, "stream", None)
        if feed is None or feed.stream.refusal is None or feed.note_shown:
            return False
        feed.note_shown = True
        return True

    def _client(self) -> GatewayClient:
        """The entry's client: the running one, or one built from the entry's data
        (nothing is sent) when the entry is not loaded."""
        runtime = getattr(self.config_entry, "runtime_data", None)
        if runtime is not None:
            return runtime.client  # type: ignore[no-any-return]
        return client_from_data(gateway_session(self.hass), self.config_entry.data)
