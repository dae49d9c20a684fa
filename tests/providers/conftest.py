"""Provider tests run against the real simulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dialer.app.demo import demo_accounts, demo_secrets
from dialer.app.service import CallService
from dialer.core.accounts import Account, ProviderKind, StaticAccounts
from dialer.core.limits import NO_LIMITS
from dialer.core.secrets import MemorySecretStore
from dialer.history.sqlite_store import SqliteHistory
from dialer.simulator import ProviderSimulator, SimulatorConfig

ALL_KINDS = list(ProviderKind)


@pytest.fixture
async def sim() -> AsyncIterator[ProviderSimulator]:
    async with ProviderSimulator(SimulatorConfig()) as simulator:
        yield simulator


@pytest.fixture
def history(tmp_path: Path) -> Iterator[SqliteHistory]:
    log = SqliteHistory(tmp_path / "calls.sqlite3")
    yield log
    log.close()


def sim_account(sim: ProviderSimulator, kind: str, **changes: Any) -> Account:
    """The demo account of ``kind`` with some settings changed; without call limits (tests
    of other things place bursts; the limits' own tests set theirs)."""
    account = next(a for a in demo_accounts(sim, limits=NO_LIMITS).list() if a.provider == kind)
    return replace(account, **changes)


MakeService = Callable[..., Awaitable[CallService]]


@pytest.fixture
async def make_service(
    sim: ProviderSimulator, history: SqliteHistory
) -> AsyncIterator[Callable[..., Awaitable[CallService]]]:
    """``await make_service(kind, secret=..., **account_changes)``: a service with one account."""
    services: list[CallService] = []

    async def factory(
        kind: ProviderKind, *, secret: str | None = None, **changes: Any
    ) -> CallService:
        demo = sim_account(sim, kind)
        account = replace(demo, **changes)
        secret = secret or demo_secrets(sim).get(demo.secret_key) or ""
        secrets = MemorySecretStore({account.secret_key: secret})
        service = CallService(StaticAccounts([account]), secrets, history)
        services.append(service)
        return service

    yield factory
    for service in services:
        await service.aclose()


def provider_requests(sim: ProviderSimulator) -> list[Any]:
    return [r for r in sim.requests if r.provider is not None]
