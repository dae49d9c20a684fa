"""The demo profile learns every call's outcome the way a real account does: the C2C v2
webhook into the in-app receiver, v1 report polling, Kazoo history, DigiDonar's "no report"."""

from __future__ import annotations

import asyncio
import contextlib
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


async def test_the_progress_follower_lets_go_of_finished_calls(profile: Any) -> None:
    """A demo left open all day follows the calls in progress only, not every call since."""
    from dialer.app.demo import follow_simulated_calls

    followed: dict[str, str] = {}
    follower = asyncio.ensure_future(
        follow_simulated_calls(profile.simulator, profile.service, 0.01, followed=followed)
    )
    try:
        c2c = next(a.name for a in profile.accounts.list() if a.provider is ProviderKind.C2C_V2)
        placed = [
            await profile.service.place_call(f"+91 88671 3500{n}", account=c2c) for n in range(3)
        ]
        assert all(p.provider_ref for p in placed)
        done = [await settled(profile, p.id) for p in placed]
        assert all(record.is_final for record in done)
        async with asyncio.timeout(5):
            while True:  # each is let go of once the simulator has finished it
                if not followed:
                    break
                await asyncio.sleep(0.02)
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
