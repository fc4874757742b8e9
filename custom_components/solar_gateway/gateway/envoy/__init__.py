"""Enphase IQ Gateway (Envoy) protocol client."""

from .auth import EnvoyCredentials, decode_token, installer_password
from .client import EnvoyClient
from .models import EnvoyData, StorageMode
from .probe import probe

__all__ = [
    "EnvoyClient",
    "EnvoyCredentials",
    "EnvoyData",
    "StorageMode",
    "decode_token",
    "installer_password",
    "probe",
]
