"""Simulator tests talk to a real simulator over loopback HTTP with a plain httpx client."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from dialer.core.accounts import ProviderKind
from dialer.simulator import ProviderSimulator, SimulatorConfig

C2C_TOKEN = "sim-c2c-token"
AGENT = "919876543210"
CUSTOMER = "918867135000"
BRIDGE = "918068280000"

# One TLS context for every test client: building one per client (loading the CA bundle)
# costs more than a whole simulator test. Plain-http requests never use it.
TLS = ssl.create_default_context()


@pytest.fixture
def config() -> SimulatorConfig:
    return SimulatorConfig(ring_seconds=0.02, talk_seconds=0.05)


@pytest.fixture
async def sim(config: SimulatorConfig) -> AsyncIterator[ProviderSimulator]:
    async with ProviderSimulator(config) as simulator:
        yield simulator


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env off: a proxy in the environment must not capture loopback requests.
    async with httpx.AsyncClient(trust_env=False, timeout=5.0, verify=TLS) as http:
        yield http


def url(sim: ProviderSimulator, kind: ProviderKind, path: str) -> str:
    return sim.account_url(kind) + path


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``predicate()`` holds; for state the simulator updates after answering."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)
