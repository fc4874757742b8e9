"""Find out what a PVS is and which local API it answers on.

``/cgi-bin/dl_cgi/supervisor/info`` (no authentication) gives serial, model and build
where the firmware has it; older firmware only answers the legacy DeviceList. The API
follows the build: the varserver from build 61840 on a PVS6 and 5408 on a PVS5, and a
legacy DeviceList answering 403 means the varserver too.
"""

from dataclasses import dataclass

from custom_components.solar_gateway.gateway.errors import (
    FeatureUnavailableError,
    UnexpectedPayloadError,
)

from .legacy import LegacyApi
from .models import DeviceList, PvsApi, SupervisorInfo
from .parsers.common import parse_build

VARSERVER_MIN_BUILD_PVS6 = 61840
VARSERVER_MIN_BUILD_PVS5 = 5408


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a probe learned; ``info`` is None when only the varserver can tell."""

    api: PvsApi
    info: SupervisorInfo | None
    device_list: DeviceList | None = None


def api_for_build(model: str | None, build: int | None) -> PvsApi:
    """The API a PVS of this model and build answers on."""
    if build is None:
        return PvsApi.LEGACY
    threshold = (
        VARSERVER_MIN_BUILD_PVS5
        if model is not None and "PVS5" in model.upper()
        else VARSERVER_MIN_BUILD_PVS6
    )
    return PvsApi.VARSERVER if build >= threshold else PvsApi.LEGACY


async def probe(api: LegacyApi) -> ProbeResult:
    """Probe a PVS through ``api`` (one or two requests)."""
    try:
        info = await api.supervisor_info()
    except FeatureUnavailableError, UnexpectedPayloadError:
        pass  # firmware without supervisor/info: ask the DeviceList
    else:
        return ProbeResult(api=api_for_build(info.model, info.build), info=info)
    try:
        device_list = await api.device_list()
    except FeatureUnavailableError as err:
        if err.status == 403:
            # New firmware closes the unauthenticated DeviceList.
            return ProbeResult(api=PvsApi.VARSERVER, info=None)
        raise
    supervisor = device_list.supervisor
    if supervisor is None:
        raise UnexpectedPayloadError("the DeviceList lists no PVS supervisor")
    info = SupervisorInfo(
        serial=supervisor.serial,
        model=supervisor.model,
        build=parse_build(supervisor.software),
        software=supervisor.software,
        hardware=supervisor.hardware,
    )
    return ProbeResult(api=PvsApi.LEGACY, info=info, device_list=device_list)
