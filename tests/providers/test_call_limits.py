"""Call limits, enforced by the call service over loopback HTTP: a call over a limit or
outside the allow-list is refused before any request is sent, and is not recorded."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallOptions, CallStatus
from dialer.core.errors import CallRejected, DialerError
from dialer.core.limits import NO_LIMITS, CallLimitReached, CallLimits
from dialer.history import CallOrigin, CallRecord, HistoryQuery
from dialer.history.sqlite_store import SqliteHistory
from dialer.simulator import Fault, ProviderSimulator
from tests.providers.conftest import MakeService, provider_requests

CUSTOMERS = [f"+91 88671 350{n:02d}" for n in range(10)]


def stored(history: SqliteHistory) -> list[CallRecord]:
    return history.page(HistoryQuery(), limit=100)


async def test_a_burst_is_refused_at_the_limit_with_nothing_sent(
    sim: ProviderSimulator, make_service: MakeService, history: SqliteHistory
) -> None:
    service = await make_service(ProviderKind.C2C_V2, limits=CallLimits(per_minute=6))
    # Slow answers: every call of the burst is past the check before the first is answered.
    sim.inject(Fault.latency(0.3))
    outcomes = await asyncio.gather(
        *(service.place_call(number) for number in CUSTOMERS), return_exceptions=True
    )
    accepted = [o for o in outcomes if isinstance(o, CallRecord)]
    refused = [o for o in outcomes if isinstance(o, CallLimitReached)]
    assert (len(accepted), len(refused)) == (6, 4)
    assert len(provider_requests(sim)) == 6
    assert len(stored(history)) == 6  # a refused call is not recorded
    assert all(r.status is CallStatus.ACCEPTED for r in accepted)
    sentence = str(refused[0])
    assert re.fullmatch(
        r"Account 'Demo C2C v2' may place at most 6 calls a minute; the next call can be "
        r"placed in \d+ seconds \(at \d\d:\d\d:\d\d\)",
        sentence,
    ), sentence
    assert refused[0].exit_code == 2


async def test_a_limit_frees_up_when_its_oldest_call_leaves_the_window(
    sim: ProviderSimulator, make_service: MakeService, history: SqliteHistory
) -> None:
    service = await make_service(ProviderKind.C2C_V2, limits=CallLimits(per_minute=2))
    [account] = service.accounts.list()
    now = time.time()
    # Two calls placed 30 and 20 seconds ago: the first leaves the minute in 30 s at most.
    for n, age in enumerate((30.0, 20.0)):
        await history.insert(
            CallRecord(
                id=f"earlier{n}",
                account=account.name,
                provider=str(account.provider),
                customer="+918867135099",
                agent="+919876543210",
                created_at=now - age,
            )
        )
    with pytest.raises(CallLimitReached) as refused:
        await service.place_call(CUSTOMERS[0])
    wait = re.search(r"the next call can be placed in (\d+) seconds? ", str(refused.value))
    assert wait is not None and 1 <= int(wait[1]) <= 30, str(refused.value)
    assert provider_requests(sim) == []
    # Once the older one is more than a minute old, the call goes through.
    await history.amend(history.get("earlier0"), created_at=now - 61)  # type: ignore[arg-type]
    record = await service.place_call(CUSTOMERS[0])
    assert record.status is CallStatus.ACCEPTED
    assert len(provider_requests(sim)) == 1


async def test_the_day_limit_counts_24_hours_and_says_so(
    sim: ProviderSimulator, make_service: MakeService, history: SqliteHistory
) -> None:
    limits = CallLimits(per_minute=0, per_day=3, agent_per_minute=0, agent_per_day=0)
    service = await make_service(ProviderKind.DIGIDONAR, limits=limits)
    [account] = service.accounts.list()
    now = time.time()
    for n, age in enumerate((25 * 3600.0, 5 * 3600.0, 4 * 3600.0, 3 * 3600.0)):
        await history.insert(
            CallRecord(
                id=f"earlier{n}",
                account=account.name,
                provider=str(account.provider),
                customer="+918867135099",
                created_at=now - age,
            )
        )
    with pytest.raises(CallLimitReached) as refused:
        await service.place_call(CUSTOMERS[0])
    # The oldest of the three in the last 24 hours (5 hours old) frees a place in 19 hours.
    assert re.fullmatch(
        r"Account 'Demo DigiDonar' may place at most 3 calls a day \(24 hours\); the next "
        r"call can be placed in 19 hours \(at \d\d:\d\d( tomorrow)?\)",
        str(refused.value),
    ), str(refused.value)
    assert provider_requests(sim) == []


async def test_each_agent_has_a_limit_of_their_own(
    sim: ProviderSimulator, make_service: MakeService, history: SqliteHistory
) -> None:
    limits = CallLimits(per_minute=0, per_day=0, agent_per_minute=2, agent_per_day=0)
    service = await make_service(ProviderKind.C2C_V2, limits=limits)
    for number in CUSTOMERS[:2]:
        await service.place_call(number)
    with pytest.raises(CallLimitReached) as refused:
        await service.place_call(CUSTOMERS[2])
    assert str(refused.value).startswith(
        "Agent +919876543210 may place at most 2 calls a minute through account "
        "'Demo C2C v2'; the next call can be placed in "
    )
    # Another agent on the same account is not held up by the first one's calls.
    other = await service.place_call(CUSTOMERS[3], CallOptions(agent="+91 90000 00001"))
    assert other.agent == "+919000000001"
    assert len(provider_requests(sim)) == 3
    assert len(stored(history)) == 3


async def test_calls_the_provider_refused_count_and_calls_learned_from_reports_do_not(
    sim: ProviderSimulator, make_service: MakeService, history: SqliteHistory
) -> None:
    service = await make_service(ProviderKind.C2C_V2, limits=CallLimits(per_minute=2))
    [account] = service.accounts.list()
    await history.insert(
        CallRecord(
            id="outside",
            account=account.name,
            provider=str(account.provider),
            customer="+918867135099",
            agent="+919876543210",
            origin=CallOrigin.OUTSIDE,
        )
    )
    sim.inject(Fault.failure_in_200("Insufficient balance"))
    with pytest.raises(CallRejected):
        await service.place_call(CUSTOMERS[0])  # it reached the provider: it counts
    await service.place_call(CUSTOMERS[1])
    with pytest.raises(CallLimitReached):
        await service.place_call(CUSTOMERS[2])
    assert len(provider_requests(sim)) == 2


async def test_a_number_outside_the_allow_list_is_refused_before_sending(
    sim: ProviderSimulator, make_service: MakeService, history: SqliteHistory
) -> None:
    limits = CallLimits(allowed_numbers=("+9180*", "+918867135001"))
    service = await make_service(ProviderKind.CLICK2CALL_V1, limits=limits)
    with pytest.raises(CallLimitReached) as refused:
        await service.place_call(CUSTOMERS[0])
    assert str(refused.value) == (
        "Account 'Demo Click2Call v1' may call only numbers matching +9180*, +918867135001; "
        "+918867135000 is not one of them. Check the number, or ask whoever manages the "
        "account to allow it"
    )
    assert provider_requests(sim) == []
    assert stored(history) == []
    for number in ("+91 80 4000 0000", CUSTOMERS[1]):
        assert (await service.place_call(number)).status is CallStatus.ACCEPTED
    assert len(provider_requests(sim)) == 2


async def test_no_limits_lets_a_burst_through(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(ProviderKind.C2C_V2, limits=NO_LIMITS)
    outcomes = await asyncio.gather(
        *(service.place_call(n) for n in CUSTOMERS), return_exceptions=True
    )
    assert not [o for o in outcomes if isinstance(o, DialerError)]
    assert len(provider_requests(sim)) == len(CUSTOMERS)
