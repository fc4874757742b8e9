"""Simulated Enphase and SunPower gateways, served from captures.

Start one in-process with ``SimulatedGateway.start(source)`` or from the command line
with ``python -m simulator SOURCE...``.
"""

from .faults import Fault, FaultName
from .kinds import GatewayKind
from .server import SimulatedGateway, SimulatorOptions

__all__ = ["Fault", "FaultName", "GatewayKind", "SimulatedGateway", "SimulatorOptions"]
