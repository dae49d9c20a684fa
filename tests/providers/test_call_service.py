"""CallService decisions the window and the CLI both rely on, over loopback HTTP."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dialer.app.demo import demo_accounts, demo_secrets
from dialer.app.service import CallService
from dialer.core.accounts import ProviderKind, StaticAccounts
from dialer.core.calls import CallOptions, CallStatus
from dialer.core.errors import CallInProgress, InvalidInput
from dialer.core.secrets import MemorySecretStore
from dialer.history.sqlite_store import SqliteHistory
from dialer.simulator import Fault, ProviderSimulator
from tests.providers.conftest import MakeService, provider_requests


async def test_a_double_click_places_one_call(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service: CallService = await make_service(ProviderKind.C2C_V2)
    sim.inject(Fault.latency(0.5))
    first = asyncio.ensure_future(service.place_call("+91 88671 35000"))
    await asyncio.sleep(0)  # the first runs up to its first wait: it is being placed
    with pytest.raises(CallInProgress, match=r"A call to \+918867135000 is already being placed"):
        await service.place_call("+918867135000")
    record = await first
    assert record.status is CallStatus.ACCEPTED
    assert len(provider_requests(sim)) == 1
    await service.place_call("+91 88671 35000")  # once placed, the same number may be called
    assert len(provider_requests(sim)) == 2


async def test_numbers_are_parsed_with_the_accounts_rules(make_service: MakeService) -> None:
    service: CallService = await make_service(ProviderKind.KAZOO)
    [kazoo] = [a for a in service.accounts.list() if a.provider is ProviderKind.KAZOO]
    assert str(service.parse_number("sip:desk@pbx.example.com", kazoo)).startswith("sip:")
    service = await make_service(ProviderKind.C2C_V2)
    [c2c] = [a for a in service.accounts.list() if a.provider is ProviderKind.C2C_V2]
    with pytest.raises(InvalidInput):
        service.parse_number("sip:desk@pbx.example.com", c2c)


async def test_bridges_come_from_the_account_or_the_server(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service: CallService = await make_service(ProviderKind.C2C_V2)
    [c2c] = service.accounts.list()
    assert [b.id for b in await service.list_bridges(c2c)] == list(c2c.bridges)
    assert provider_requests(sim) == []  # a DID list is the account's own: nothing asked
    with pytest.raises(InvalidInput, match="need a flow"):
        service.build_request(c2c, "+918867135000", CallOptions(variables={"a": "b"}))


async def test_a_keyring_hanging_on_one_account_does_not_hold_up_a_call_on_another(
    sim: ProviderSimulator, history: SqliteHistory
) -> None:
    accounts = demo_accounts(sim).list()
    locked = next(a for a in accounts if a.provider is ProviderKind.C2C_V2)
    other = next(a for a in accounts if a.provider is ProviderKind.DIGIDONAR)
    asked, unlocked = threading.Event(), threading.Event()
    known = demo_secrets(sim)

    class LockedForOneAccount(MemorySecretStore):
        """The OS keyring waiting for its password while one account's secret is read."""

        def get(self, key: str) -> str | None:
            if key == locked.secret_key:
                asked.set()
                unlocked.wait(10)
            return known.get(key)

    service = CallService(StaticAccounts(accounts), LockedForOneAccount(), history)
    loop = asyncio.get_running_loop()
    waiting = asyncio.ensure_future(service.place_call("+91 88671 35000", account=locked.name))
    try:
        assert await loop.run_in_executor(None, asked.wait, 5)
        record = await asyncio.wait_for(
            service.place_call("+91 88671 35001", account=other.name), 5
        )
        assert record.status is CallStatus.ACCEPTED
        assert not waiting.done()  # still waiting for the keyring, and only that call
        unlocked.set()
        assert (await waiting).status is CallStatus.ACCEPTED
    finally:
        unlocked.set()
        await asyncio.wait([waiting])
        await service.aclose()
