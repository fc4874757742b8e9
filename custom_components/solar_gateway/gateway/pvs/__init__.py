"""SunPower PVS5/PVS6: legacy DeviceList and new-firmware varserver clients."""

from .client import PvsClient
from .models import EssControlMode, PvsApi, PvsData

__all__ = ["EssControlMode", "PvsApi", "PvsClient", "PvsData"]
