"""The demo profile learns every call's outcome the way a real account does: the C2C v2
webhook into the in-app receiver, v1 report polling, Kazoo history, DigiDonar's "no report"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dialer.app.demo import open_demo_profile
from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallStatus
from dialer.core.paths import AppPaths


@pytest.fixture
async def profile(tmp_path: Path) -> AsyncIterator[Any]:
    opened = await open_demo_profile(AppPaths.under(tmp_path), ring_seconds=0.05, talk_seconds=0.2)
    yield opened
    await opened.aclose()


async def settled(profile: Any, call_id: str, timeout: float = 15.0) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            record = profile.history.get(call_id)
            if record is not None and record.is_final:
                return record
            await asyncio.sleep(0.05)


async def test_every_demo_call_ends_with_its_reported_outcome(profile: Any) -> None:
    assert profile.receiver is not None
    assert profile.reporting_problem == ""
    by_kind = {a.provider: a.name for a in profile.accounts.list()}
    placed = {
        kind: await profile.service.place_call("+91 88671 35000", account=name)
        for kind, name in by_kind.items()
    }
    outcomes = {kind: await settled(profile, r.id) for kind, r in placed.items()}

    webhook = outcomes[ProviderKind.C2C_V2]
    assert webhook.status is CallStatus.COMPLETED
    assert webhook.answered is True
    assert webhook.talk_seconds is not None and webhook.talk_seconds >= 1
    assert [r.source for r in profile.history.reports(webhook.id)] == ["webhook"]

    polled = outcomes[ProviderKind.CLICK2CALL_V1]
    assert polled.status is CallStatus.COMPLETED
    assert polled.charge is not None
    assert {r.source for r in profile.history.reports(polled.id)} == {"poll"}

    kazoo = outcomes[ProviderKind.KAZOO]
    assert kazoo.status is CallStatus.COMPLETED
    assert profile.history.reports(kazoo.id)

    digidonar = outcomes[ProviderKind.DIGIDONAR]
    assert digidonar.status is CallStatus.NO_REPORT
    assert "DigiDonar" in digidonar.message
    # Each report updated the call placed here: no call "placed outside" appeared.
    assert profile.history.count() == 4
