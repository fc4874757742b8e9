"""The config flow: finding the gateway, asking only what it needs, every error."""

from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
import json
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import jwt
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solar_gateway.connection import identified_to_data
from custom_components.solar_gateway.const import (
    CONF_AUTH_METHOD,
    CONF_BRAND,
    CONF_CAPTURE_DIAGNOSTICS,
    CONF_DEVICES_INTERVAL,
    CONF_IDENTIFIED,
    CONF_LIVE_INTERVAL,
    CONF_SETTINGS_INTERVAL,
    CONF_TOKEN,
    DOMAIN,
    INTERVAL_OPTIONS,
)
from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.envoy.client import polling_table
from custom_components.solar_gateway.gateway.errors import (
    GatewayBusyError,
    GatewayConnectionError,
    GatewayError,
    InvalidCredentialsError,
    MfaRequiredError,
    NotSupportedGatewayError,
    TokenExpiredError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.identify import Access, Identified
from custom_components.solar_gateway.gateway.site import Brand, GatewayIdentity
from tests.conftest import PROJECT_ROOT

ENVOY = GatewayIdentity(
    Brand.ENPHASE, "122233344455", "800-00555-r03", "D8.2.4286", "envoy", True
)
OLD_ENVOY = GatewayIdentity(
    Brand.ENPHASE, "121700000001", "800-00069-r05", "R3.9.36", "envoy", False
)
PVS_NEW = GatewayIdentity(
    Brand.SUNPOWER,
    "ZT204885000549A1234",
    "PVS6",
    "2025.09, Build 61845",
    "pvs_varserver",
)
PVS_OLD = GatewayIdentity(
    Brand.SUNPOWER, "ZT184585000549A0069", "PVS6", "2024.2, Build 61640", "pvs_legacy"
)

FOUND = {
    "envoy": Identified(ENVOY, Access.ENVOY_ACCOUNT, "https://192.168.1.50"),
    "old_envoy": Identified(OLD_ENVOY, Access.ENVOY_LOCAL, "http://192.168.1.51"),
    "pvs_new": Identified(PVS_NEW, Access.PVS_OWNER, "https://192.168.1.60"),
    "pvs_old": Identified(PVS_OLD, Access.OPEN, "http://192.168.1.61"),
}


def make_token(expires: datetime, user: str = "owner") -> str:
    """A JWT with the claims an Enphase token carries."""
    return jwt.encode(
        {"exp": int(expires.timestamp()), "enphaseUser": user},
        "k" * 32,
        algorithm="HS256",
    )


class Gateways:
    """What the patched identify() and clients answer."""

    def __init__(self) -> None:
        self.by_host: dict[str, Identified | GatewayError] = {}
        self.setup_error: GatewayError | None = None
        self.setup_data: list[dict[str, object]] = []

    async def identify(self, session: object, host: str) -> Identified:
        found = self.by_host.get(host, GatewayConnectionError("nothing there"))
        if isinstance(found, GatewayError):
            raise found
        return found

    def client(
        self, session: object, data: dict[str, object], *, probe: bool = False
    ) -> MagicMock:
        client = MagicMock()
        found = self.by_host.get(str(data["host"]))
        # What a setup would learn: the gateway that answered at the host.
        client.identification = found if isinstance(found, Identified) else None

        async def setup() -> None:
            self.setup_data.append(dict(data))
            if self.setup_error is not None:
                raise self.setup_error

        client.setup = AsyncMock(side_effect=setup)
        return client


@pytest.fixture
def gateways() -> Generator[Gateways]:
    """Patch gateway identification and connection in the flow."""
    fake = Gateways()
    with (
        patch("custom_components.solar_gateway.config_flow.identify", fake.identify),
        patch(
            "custom_components.solar_gateway.config_flow.client_from_data", fake.client
        ),
        patch("custom_components.solar_gateway.async_setup_entry", return_value=True),
    ):
        yield fake


async def start(hass: HomeAssistant, host: str) -> dict:
    """Open the user step and submit ``host``."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host}
    )


async def test_envoy_with_enphase_account(
    hass: HomeAssistant, gateways: Gateways
) -> None:
    """Firmware 7+: a menu, then the Enphase account; the entry keeps the account."""
    gateways.by_host["192.168.1.50"] = FOUND["envoy"]
    result = await start(hass, " 192.168.1.50 ")
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["enlighten", "token"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "enlighten"}
    )
    assert result["step_id"] == "enlighten"

    gateways.setup_error = MfaRequiredError("mfa")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "owner@example.com", CONF_PASSWORD: "secret"}
    )
    assert result["errors"] == {"base": "mfa_required"}

    gateways.setup_error = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_USERNAME: " owner@example.com ", CONF_PASSWORD: "secret"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Envoy 122233344455"
    assert result["result"].unique_id == "122233344455"
    assert result["data"] == {
        CONF_HOST: "192.168.1.50",
        CONF_BRAND: "enphase",
        CONF_AUTH_METHOD: "enlighten",
        CONF_USERNAME: "owner@example.com",
        CONF_PASSWORD: "secret",
        CONF_IDENTIFIED: identified_to_data(FOUND["envoy"]),
    }


async def test_envoy_with_pasted_token(hass: HomeAssistant, gateways: Gateways) -> None:
    """A pasted token is checked for form and expiry before it is tried."""
    gateways.by_host["envoy.local"] = FOUND["envoy"]
    result = await start(hass, "envoy.local")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "token"}
    )
    assert result["step_id"] == "token"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "not a jwt"}
    )
    assert result["errors"] == {"base": "invalid_token"}

    old = make_token(datetime.now(UTC) - timedelta(days=1))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: old}
    )
    assert result["errors"] == {"base": "token_expired"}
    assert result["description_placeholders"]["user_type"] == "owner"

    good = make_token(datetime.now(UTC) + timedelta(days=300))
    gateways.setup_error = InvalidCredentialsError("not for this gateway")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: good}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert result["description_placeholders"]["expires"] != ""

    gateways.setup_error = None
    # Line breaks from copying are removed.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: f"{good[:20]}\n{good[20:]}"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TOKEN] == good
    assert result["data"][CONF_AUTH_METHOD] == "token"


async def test_token_without_expiry(hass: HomeAssistant, gateways: Gateways) -> None:
    """A token without an expiry claim is accepted and said to never expire."""
    gateways.by_host["envoy.local"] = FOUND["envoy"]
    result = await start(hass, "envoy.local")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "token"}
    )
    gateways.setup_error = TokenExpiredError("expired on the gateway")
    token = jwt.encode({"enphaseUser": "installer"}, "k" * 32, algorithm="HS256")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: token}
    )
    assert result["errors"] == {"base": "token_expired"}
    assert result["description_placeholders"]["expires"] == "never"


async def test_old_envoy_with_local_user(
    hass: HomeAssistant, gateways: Gateways
) -> None:
    """Firmware < 7: the optional local user, empty by default."""
    gateways.by_host["10.0.0.5"] = FOUND["old_envoy"]
    result = await start(hass, "10.0.0.5")
    assert result["step_id"] == "local"
    gateways.setup_error = InvalidCredentialsError("digest rejected")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "installer", CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    gateways.setup_error = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_HOST: "10.0.0.5",
        CONF_BRAND: "enphase",
        CONF_AUTH_METHOD: "local",
        CONF_USERNAME: "",
        CONF_PASSWORD: "",
        CONF_IDENTIFIED: identified_to_data(FOUND["old_envoy"]),
    }


async def test_pvs_varserver_password_prefilled(
    hass: HomeAssistant, gateways: Gateways
) -> None:
    """New PVS firmware: the password form is pre-filled from the serial."""
    gateways.by_host["172.27.153.1:8080"] = FOUND["pvs_new"]
    result = await start(hass, "172.27.153.1:8080")
    assert result["step_id"] == "pvs_password"
    schema = result["data_schema"].schema
    suggested = next(iter(schema)).description["suggested_value"]
    assert suggested == "A1234"
    gateways.setup_error = GatewayBusyError("503", 60)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "A1234"}
    )
    assert result["errors"] == {"base": "gateway_busy"}
    gateways.setup_error = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: " A1234 "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "PVS6 ZT204885000549A1234"
    assert result["data"] == {
        CONF_HOST: "172.27.153.1:8080",
        CONF_BRAND: "sunpower",
        CONF_PASSWORD: "A1234",
        CONF_IDENTIFIED: identified_to_data(FOUND["pvs_new"]),
    }


async def test_pvs_legacy_asks_nothing(hass: HomeAssistant, gateways: Gateways) -> None:
    """Old PVS firmware needs no credentials: the entry is created after one read."""
    gateways.by_host["pvs"] = FOUND["pvs_old"]
    result = await start(hass, "pvs")
    # The user is told the legacy API is in use, and asked nothing.
    assert result["step_id"] == "pvs_legacy"
    assert result["description_placeholders"]["firmware"] == "2024.2, Build 61640"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_HOST: "pvs",
        CONF_BRAND: "sunpower",
        CONF_IDENTIFIED: identified_to_data(FOUND["pvs_old"]),
    }
    assert gateways.setup_data == [{CONF_HOST: "pvs", CONF_BRAND: "sunpower"}]


async def test_pvs_legacy_that_does_not_answer_with_data(
    hass: HomeAssistant, gateways: Gateways
) -> None:
    """A PVS that identifies but cannot be read aborts with the reason."""
    gateways.by_host["pvs"] = FOUND["pvs_old"]
    gateways.setup_error = UnexpectedPayloadError("truncated")
    result = await start(hass, "pvs")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unexpected_answer"}
    gateways.setup_error = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (GatewayConnectionError("refused"), "cannot_connect"),
        (NotSupportedGatewayError("a printer"), "not_supported"),
        (UnexpectedPayloadError("garbage"), "unexpected_answer"),
    ],
)
async def test_user_step_errors(
    hass: HomeAssistant, gateways: Gateways, error: GatewayError, key: str
) -> None:
    """Each failure to identify the host is shown, and the user can try again."""
    gateways.by_host["192.168.1.99"] = error
    result = await start(hass, "192.168.1.99")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": key}
    gateways.by_host["192.168.1.99"] = FOUND["pvs_old"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "192.168.1.99"}
    )
    assert result["step_id"] == "pvs_legacy"


@pytest.mark.parametrize(
    "host",
    ["192.168.1.50\x00", "envoy\n.local", "host:0", "host:99999", "x" * 5000, "[::1"],
)
async def test_user_step_refuses_what_is_no_address(
    hass: HomeAssistant, host: str
) -> None:
    """A NUL, a control character or a bad port is a form error, nothing is sent."""
    with patch("custom_components.solar_gateway.config_flow.identify") as identify:
        result = await start(hass, host)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_host"}
    identify.assert_not_called()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("http://192.168.1.99/home/", "http://192.168.1.99"),
        ("192.168.1.99:8080", "192.168.1.99:8080"),
        ("[fe80::99]:80", "[fe80::99]:80"),
        ("  PVS.Local  ", "pvs.local"),
    ],
)
async def test_user_step_host_forms(
    hass: HomeAssistant, gateways: Gateways, typed: str, stored: str
) -> None:
    """Whatever form the user pastes, the entry stores one clean address."""
    gateways.by_host[stored] = FOUND["pvs_old"]
    result = await start(hass, typed)
    assert result["step_id"] == "pvs_legacy"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == stored


async def test_zeroconf_ipv6_with_port(hass: HomeAssistant, gateways: Gateways) -> None:
    """An IPv6 announcement on a custom port gets brackets around the address."""
    gateways.by_host["[fe80::99]:8080"] = FOUND["envoy"]
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_ZEROCONF},
        data=ZeroconfServiceInfo(
            ip_address=ip_address("fe80::99"),
            ip_addresses=[ip_address("fe80::99")],
            hostname="envoy.local.",
            name="envoy._enphase-envoy._tcp.local.",
            port=8080,
            type="_enphase-envoy._tcp.local.",
            properties={},
        ),
    )
    assert result["step_id"] == "zeroconf_confirm"


async def test_user_step_already_configured(
    hass: HomeAssistant, gateways: Gateways
) -> None:
    """The same gateway twice is refused; its address is updated."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PVS_OLD.serial,
        data={CONF_HOST: "old", CONF_BRAND: "sunpower"},
    )
    entry.add_to_hass(hass)
    gateways.by_host["new"] = FOUND["pvs_old"]
    result = await start(hass, "new")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "new"


def zeroconf(
    host: str, serial: str | None, port: int | None = 80
) -> ZeroconfServiceInfo:
    """A zeroconf announcement of a gateway."""
    properties = {"serialnum": serial} if serial else {}
    return ZeroconfServiceInfo(
        ip_address=ip_address(host),
        ip_addresses=[ip_address(host)],
        hostname="envoy.local.",
        name="envoy._enphase-envoy._tcp.local.",
        port=port,
        type="_enphase-envoy._tcp.local.",
        properties=properties,
    )


async def test_zeroconf_discovery_confirm(
    hass: HomeAssistant, gateways: Gateways
) -> None:
    """A discovered gateway is confirmed, then set up as from the user step."""
    gateways.by_host["192.168.1.60:8443"] = FOUND["pvs_old"]
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_ZEROCONF},
        data=zeroconf("192.168.1.60", None, 8443),
    )
    assert result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"]["name"] == "PVS6 ZT184585000549A0069"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "pvs_legacy"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == "192.168.1.60:8443"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (NotSupportedGatewayError("no"), "not_supported"),
        (GatewayConnectionError("no"), "cannot_connect"),
    ],
)
async def test_zeroconf_errors(
    hass: HomeAssistant, gateways: Gateways, error: GatewayError, reason: str
) -> None:
    """A discovered host that cannot be identified is dropped with a reason."""
    gateways.by_host["192.168.1.61"] = error
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf("192.168.1.61", None)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


@pytest.mark.parametrize(
    ("announced", "serial", "answering", "kept"),
    [
        # The old address is dead: the entry moves to the announced one.
        ("192.168.1.20", ENVOY.serial, (), "192.168.1.20"),
        # Seen on a second interface while the first still works: it stays.
        (
            "192.168.1.11",
            ENVOY.serial,
            ("192.168.1.10", "192.168.1.11"),
            "192.168.1.10",
        ),
        # No serial announced: matched after identifying the host, nothing moves.
        ("192.168.1.10", None, ("192.168.1.10",), "192.168.1.10"),
    ],
    ids=["address_changed", "second_interface", "no_serial"],
)
async def test_zeroconf_for_a_known_gateway(
    hass: HomeAssistant,
    gateways: Gateways,
    announced: str,
    serial: str | None,
    answering: tuple[str, ...],
    kept: str,
) -> None:
    """A configured gateway announced again is never added twice; its address
    follows the announcement only when the old one stops answering."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ENVOY.serial,
        data={CONF_HOST: "192.168.1.10", CONF_BRAND: "enphase"},
    )
    entry.add_to_hass(hass)
    for host in answering:
        gateways.by_host[host] = FOUND["envoy"]
    for _ in range(2):  # announcements repeat
        result = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": SOURCE_ZEROCONF},
            data=zeroconf(announced, serial),
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == kept
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_reauth_envoy_account(hass: HomeAssistant, gateways: Gateways) -> None:
    """Reauthentication asks the same question as setup and updates the entry."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ENVOY.serial,
        title="Envoy 122233344455",
        data={
            CONF_HOST: "192.168.1.50",
            CONF_BRAND: "enphase",
            CONF_AUTH_METHOD: "enlighten",
            CONF_USERNAME: "owner@example.com",
            CONF_PASSWORD: "old",
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "cannot_connect"}
    gateways.by_host["192.168.1.50"] = FOUND["envoy"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "enlighten"}
    )
    suggested = next(iter(result["data_schema"].schema)).description["suggested_value"]
    assert suggested == "owner@example.com"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "owner@example.com", CONF_PASSWORD: "new"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD] == "new"
    assert entry.data[CONF_HOST] == "192.168.1.50"


async def test_reauth_pvs_keeps_stored_password_suggestion(
    hass: HomeAssistant, gateways: Gateways
) -> None:
    """A PVS reauth pre-fills the stored password, and the local form the user."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PVS_NEW.serial,
        data={CONF_HOST: "pvs", CONF_BRAND: "sunpower", CONF_PASSWORD: "custom"},
    )
    entry.add_to_hass(hass)
    gateways.by_host["pvs"] = FOUND["pvs_new"]
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert (
        next(iter(result["data_schema"].schema)).description["suggested_value"]
        == "custom"
    )


async def test_reconfigure(hass: HomeAssistant, gateways: Gateways) -> None:
    """A new address is accepted for the same gateway only, and must answer."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PVS_OLD.serial,
        data={CONF_HOST: "old", CONF_BRAND: "sunpower"},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "nowhere"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    gateways.by_host["new"] = FOUND["pvs_old"]
    gateways.setup_error = GatewayBusyError("503", 30)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "new"}
    )
    assert result["errors"] == {"base": "gateway_busy"}
    gateways.setup_error = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "new"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == "new"


@pytest.mark.parametrize("source", ["reauth", "reconfigure"])
async def test_another_gateway_at_the_address_is_refused(
    hass: HomeAssistant, gateways: Gateways, source: str
) -> None:
    """Reauthenticating or reconfiguring finds another gateway (another serial) at
    the address: refused, and the entry keeps its address."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ENVOY.serial,
        data={CONF_HOST: "192.168.1.50", CONF_BRAND: "enphase"},
    )
    entry.add_to_hass(hass)
    gateways.by_host["192.168.1.50"] = FOUND["pvs_old"]
    gateways.by_host["other"] = FOUND["pvs_old"]
    if source == "reauth":
        result = await entry.start_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    else:
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "other"}
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_HOST] == "192.168.1.50"


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {CONF_BRAND: "enphase"},
            {CONF_LIVE_INTERVAL, CONF_DEVICES_INTERVAL, CONF_SETTINGS_INTERVAL},
        ),
        # A legacy PVS has no settings to poll: its settings commands feed nothing.
        ({CONF_BRAND: "sunpower"}, {CONF_DEVICES_INTERVAL}),
        (
            {
                CONF_BRAND: "sunpower",
                CONF_IDENTIFIED: identified_to_data(
                    Identified(PVS_NEW, Access.PVS_OWNER, "https://h")
                ),
            },
            {CONF_LIVE_INTERVAL, CONF_DEVICES_INTERVAL, CONF_SETTINGS_INTERVAL},
        ),
    ],
)
async def test_options_bounds_per_gateway(
    hass: HomeAssistant, data: dict[str, str], fields: set[str]
) -> None:
    """Options offer each group the gateway has, within its safe bounds."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id="x", data={CONF_HOST: "h", **data})
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    keys = {str(key) for key in result["data_schema"].schema}
    assert keys == fields | {CONF_CAPTURE_DIAGNOSTICS}
    defaults = {str(key): key.default() for key in result["data_schema"].schema}
    assert defaults[CONF_DEVICES_INTERVAL] >= 300
    options = defaults | {CONF_CAPTURE_DIAGNOSTICS: True}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == options


async def test_options_use_the_running_gateway_kind(
    hass: HomeAssistant, fake_client: object, fake_entry: MockConfigEntry
) -> None:
    """A loaded entry's options follow the API the gateway really uses."""
    fake_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(fake_entry.entry_id)
    live = next(
        key for key in result["data_schema"].schema if str(key) == CONF_LIVE_INTERVAL
    )
    # The scripted client's table: 30 s by default, a sixth of it at the least.
    assert result["data_schema"].schema[live].config["min"] == 5
    assert live.default() == 30


@pytest.mark.parametrize(
    ("identity", "metered"),
    [(ENVOY, True), (OLD_ENVOY, False)],
)
async def test_options_form_shows_the_clients_polling_table(
    hass: HomeAssistant, identity: GatewayIdentity, metered: bool
) -> None:
    """Defaults and floors are the client's: a metered Envoy 15 s (at least 5 s), a
    production-only one 60 s (at least 30 s), so the form takes nothing that the
    coordinators would raise or a repair would flag."""
    found = Identified(identity, Access.ENVOY_ACCOUNT, "https://envoy")
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=identity.serial,
        data={
            CONF_HOST: "envoy",
            CONF_BRAND: "enphase",
            CONF_IDENTIFIED: identified_to_data(found),
        },
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    fields = {str(key): key for key in result["data_schema"].schema}
    table = polling_table(metered)
    for group, option in INTERVAL_OPTIONS.items():
        config = result["data_schema"].schema[fields[option]].config
        rule = table[group]
        assert config["min"] == rule.minimum.total_seconds()
        assert config["max"] == rule.maximum.total_seconds()
        assert fields[option].default() == rule.default.total_seconds()
    live = table[DataGroup.LIVE]
    assert (live.default, live.minimum) == (
        (timedelta(seconds=15), timedelta(seconds=5))
        if metered
        else (timedelta(seconds=60), timedelta(seconds=30))
    )


async def test_envoy_options_help_speaks_of_no_other_gateway(
    hass: HomeAssistant,
) -> None:
    """Every help text the Envoy's options form shows fits an Envoy."""
    found = Identified(ENVOY, Access.ENVOY_ACCOUNT, "https://envoy")
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ENVOY.serial,
        data={
            CONF_HOST: "envoy",
            CONF_BRAND: "enphase",
            CONF_IDENTIFIED: identified_to_data(found),
        },
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    shown = {str(key) for key in result["data_schema"].schema}
    translations = json.loads(
        (
            PROJECT_ROOT / "custom_components/solar_gateway/translations/en.json"
        ).read_text(encoding="utf-8")
    )
    helps = translations["options"]["step"]["init"]["data_description"]
    assert shown <= set(helps)
    assert [key for key in shown if "PVS" in helps[key]] == []
