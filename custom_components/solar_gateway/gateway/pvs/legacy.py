"""Requests of the legacy ``dl_cgi`` API (no authentication).

The DeviceList is slow (seconds on a small site, more than a minute on a busy PVS),
so it gets a long read timeout; the Transport never retries it and backs off on 503.
"""

from collections.abc import Mapping
from urllib.parse import quote

from custom_components.solar_gateway.gateway.errors import (
    FeatureUnavailableError,
    UnexpectedPayloadError,
)
from custom_components.solar_gateway.gateway.transport import (
    Response,
    Timeouts,
    Transport,
)

from .models import (
    DeviceList,
    EssStatus,
    FirmwareCheck,
    GridProfile,
    NetworkStatus,
    SupervisorInfo,
)
from .parsers.common import load_json_object
from .parsers.legacy import (
    parse_check_fw,
    parse_device_list,
    parse_ess_status,
    parse_grid_profile,
    parse_network_status,
    parse_supervisor_info,
)

COMMAND_PATH = "/cgi-bin/dl_cgi?Command="
DEVICE_LIST_PATH = COMMAND_PATH + "DeviceList"
SUPERVISOR_INFO_PATH = "/cgi-bin/dl_cgi/supervisor/info"
ESS_STATUS_PATH = "/cgi-bin/dl_cgi/energy-storage-system/status"
GRID_PROFILE_PATH = COMMAND_PATH + "GridProfileGet"
CHECK_FW_PATH = COMMAND_PATH + "CheckFW"

# A PVS with many devices can take more than a minute to build its DeviceList.
SLOW_TIMEOUTS = Timeouts(connect=10.0, read=120.0)
QUICK_TIMEOUTS = Timeouts(connect=10.0, read=30.0)


def json_body(response: Response, what: str) -> Mapping[str, object]:
    """Return a 200 answer's JSON object, or raise the typed error its status means."""
    if response.status in (401, 403, 404):
        raise FeatureUnavailableError(
            f"{what} answered {response.status}", response.status
        )
    if response.status != 200:
        raise UnexpectedPayloadError(f"{what} answered HTTP {response.status}")
    return load_json_object(response.body, what)


class LegacyApi:
    """The dl_cgi commands of one PVS, over its Transport."""

    def __init__(self, transport: Transport) -> None:
        """Use ``transport`` for every request."""
        self._transport = transport

    async def supervisor_info(self) -> SupervisorInfo:
        """``GET /cgi-bin/dl_cgi/supervisor/info``: serial, model and build."""
        response = await self._transport.get(
            SUPERVISOR_INFO_PATH, timeouts=QUICK_TIMEOUTS
        )
        return parse_supervisor_info(json_body(response, "supervisor/info"))

    async def device_list_response(self) -> Response:
        """``GET ...?Command=DeviceList``, the raw answer (cached for the cycle)."""
        return await self._transport.get(DEVICE_LIST_PATH, timeouts=SLOW_TIMEOUTS)

    async def device_list(self) -> DeviceList:
        """Every device with its latest data."""
        response = await self.device_list_response()
        return parse_device_list(json_body(response, "DeviceList"))

    async def ess_status(self) -> EssStatus:
        """The SunVault battery status endpoint."""
        response = await self._transport.get(ESS_STATUS_PATH, timeouts=SLOW_TIMEOUTS)
        return parse_ess_status(json_body(response, "energy-storage-system/status"))

    async def network_status(self, serial: str) -> NetworkStatus:
        """``Get_Comm``: network interfaces (the PVS wants its own serial)."""
        path = f"{COMMAND_PATH}Get_Comm&SerialNumber={quote(serial, safe='')}"
        response = await self._transport.get(path, timeouts=QUICK_TIMEOUTS)
        return parse_network_status(json_body(response, "Get_Comm"))

    async def grid_profile(self) -> GridProfile:
        """``GridProfileGet``: the active grid profile."""
        response = await self._transport.get(GRID_PROFILE_PATH, timeouts=QUICK_TIMEOUTS)
        return parse_grid_profile(json_body(response, "GridProfileGet"))

    async def check_firmware(self) -> FirmwareCheck:
        """``CheckFW``: whether a firmware update is available."""
        response = await self._transport.get(CHECK_FW_PATH, timeouts=QUICK_TIMEOUTS)
        return parse_check_fw(json_body(response, "CheckFW"))
