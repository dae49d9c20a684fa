"""A local fake of the four click-to-call services, so the app and its tests need no account.

It is an independent implementation of the provider documents (it never imports
:mod:`dialer.providers`), so a client that misreads a document fails against it.

    async with ProviderSimulator(SimulatorConfig()) as sim:
        url = sim.account_url(ProviderKind.C2C_V2)
"""

from dialer.simulator.context import WebhookDelivery
from dialer.simulator.model import (
    CallState,
    Fault,
    FaultKind,
    Outcome,
    RecordedRequest,
    SimCall,
    SimCredentials,
    SimulatorConfig,
)
from dialer.simulator.server import ProviderSimulator, SimulatorAddress

__all__ = [
    "CallState",
    "Fault",
    "FaultKind",
    "Outcome",
    "ProviderSimulator",
    "RecordedRequest",
    "SimCall",
    "SimCredentials",
    "SimulatorAddress",
    "SimulatorConfig",
    "WebhookDelivery",
]
