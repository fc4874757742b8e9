"""What kind of gateway a capture comes from, and who it is."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import re
from xml.etree import ElementTree as ET

from custom_components.solar_gateway.gateway.capture import Capture
from custom_components.solar_gateway.gateway.values import as_str, objects

from .capture import SourceError

VARSERVER_DUMP = "vars_fmt_obj.json"
DEVICE_LIST_NAMES = ("DeviceList.json", "cgi-bin_dl_cgi_Command_DeviceList")


class GatewayKind(StrEnum):
    """The APIs the simulator can serve."""

    ENVOY = "envoy"
    PVS_LEGACY = "pvs_legacy"
    PVS_VARSERVER = "pvs_varserver"


@dataclass(frozen=True, slots=True)
class CaptureIdentity:
    """The gateway a capture was taken from."""

    kind: GatewayKind
    serial: str
    firmware: str
    model: str

    @property
    def firmware_major(self) -> int:
        """The first number of the firmware version (0 when there is none)."""
        match = re.search(r"\d+", self.firmware)
        return int(match.group()) if match else 0


def identify(capture: Capture) -> CaptureIdentity:
    """Detect the kind of a capture from its files; raise ``SourceError`` if unknown."""
    info = capture.get("info")
    if info is not None and b"envoy_info" in info.body:
        return _envoy_identity(info.body)
    if (variables := varserver_variables(capture)) is not None:
        return CaptureIdentity(
            kind=GatewayKind.PVS_VARSERVER,
            serial=as_str(variables.get("/sys/info/serialnum")) or "",
            firmware=as_str(variables.get("/sys/info/sw_rev")) or "",
            model=as_str(variables.get("/sys/info/model")) or "PVS",
        )
    for name in DEVICE_LIST_NAMES:
        if (found := capture.get(name)) is not None:
            data = found.json()
            if isinstance(data, Mapping):
                return _legacy_identity(data)
    raise SourceError(
        "not a known gateway capture (expected an Envoy 'info', a PVS "
        "DeviceList.json or a varserver vars_fmt_obj.json)"
    )


def varserver_variables(capture: Capture) -> dict[str, object] | None:
    """Return the varserver variables of a capture (``/vars`` dumps merged).

    Values stay as the dump has them: strings on current firmware, a JSON object
    per device (``/sys/devices/<n>/<type>/data``) on build 61840.
    """
    merged: dict[str, object] = {}
    for name in sorted(capture):
        if not name.startswith("vars"):
            continue
        data = capture.responses[name].json()
        if isinstance(data, Mapping):
            merged.update(
                {
                    str(key): value
                    for key, value in data.items()
                    if str(key).startswith("/")
                }
            )
    return merged or None


def _envoy_identity(body: bytes) -> CaptureIdentity:
    try:
        root = ET.fromstring(body)  # noqa: S314 - our own capture files, not the network
    except ET.ParseError as err:
        raise SourceError(f"the Envoy 'info' file is not XML: {err}") from err
    device = root.find("device")
    serial = firmware = model = ""
    if device is not None:
        serial = (device.findtext("sn") or "").strip()
        firmware = (device.findtext("software") or "").strip()
        model = (device.findtext("pn") or "").strip()
    return CaptureIdentity(
        kind=GatewayKind.ENVOY, serial=serial, firmware=firmware, model=model
    )


def _legacy_identity(data: Mapping[str, object]) -> CaptureIdentity:
    for device in objects(data.get("devices")):
        if device.get("DEVICE_TYPE") == "PVS":
            model = as_str(device.get("MODEL")) or "PVS"
            return CaptureIdentity(
                kind=GatewayKind.PVS_LEGACY,
                serial=as_str(device.get("SERIAL")) or "",
                firmware=as_str(device.get("SWVER")) or "",
                model=model.removeprefix("PV Supervisor ").strip(),
            )
    return CaptureIdentity(
        kind=GatewayKind.PVS_LEGACY, serial="", firmware="", model="PVS"
    )
