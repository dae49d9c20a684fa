"""The receiver runs for real on loopback, over a real SQLite history in the test's folder."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialer.core.accounts import Account, ProviderKind, StaticAccounts
from dialer.core.calls import CallStatus
from dialer.core.secrets import MemorySecretStore
from dialer.history import CallRecord
from dialer.history.sqlite_store import SqliteHistory
from dialer.webhooks.receiver import WebhookReceiver

TOKEN = "test-path-token-0123456789abcdef"


def c2c_account(name: str, webhook_id: str) -> Account:
    return Account(
        name=name,
        provider=ProviderKind.C2C_V2,
        url="http://127.0.0.1:9/api/v2/",
        region="IN",
        agent="+919876543210",
        bridges=("918068280000",),
        options={"webhook_id": webhook_id},
    )


# A little before the example report's start_at, in this machine's zone (in which the
# receiver reads the report of an account that names no zone): its calls were placed then.
PLACED_AT = datetime(2021, 4, 9, 16, 27, 30).timestamp()


def callback(**changes: Any) -> dict[str, Any]:
    """The document's example report (values as strings, as the platform sends them)."""
    body: dict[str, Any] = {
        "webhook_id": "hook-shop",
        "bridge": "918068280000",
        "from": "919891952000",
        "to": "918867135000",
        "source": "C2C",
        "start_at": "2021-04-09 16:27:39",
        "end_at": "2021-04-09 16:27:55",
        "date": "2021-04-09 16:27:55",
        "unixtime": "1617965875",
        "duration": "23",
        "billing": "16",
        "status": "COMPLETED",
        "status1": "RECEIVED",
        "status2": "ANSWER",
        "recording_url": "https://recordings.example/1.wav",
        "hangup_by": "caller",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def shop_call(call_id: str, status: CallStatus, **fields: Any) -> CallRecord:
    """One of the shop's calls placed here, with the numbers :func:`callback` reports."""
    return CallRecord(
        id=call_id,
        account="shop",
        provider="c2c-v2",
        customer="+918867135000",
        agent="+919891952000",
        bridge="918068280000",
        status=status,
        **{"created_at": PLACED_AT, **fields},
    )


def stored(history: SqliteHistory) -> tuple[int, int]:
    """(calls, reports) in the history file, read by a connection of our own."""
    db = sqlite3.connect(history.path)
    try:
        calls = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
        reports = db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    finally:
        db.close()
    return int(calls), int(reports)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[SqliteHistory]:
    store = SqliteHistory(tmp_path / "calls.sqlite3")
    yield store
    store.close()


@pytest.fixture
def accounts() -> StaticAccounts:
    return StaticAccounts([c2c_account("shop", "hook-shop"), c2c_account("branch", "hook-branch")])


@pytest.fixture
def secrets() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture(params=["test-loop", "writer-thread"])
async def receiver(
    request: pytest.FixtureRequest,
    history: SqliteHistory,
    accounts: StaticAccounts,
    secrets: MemorySecretStore,
) -> AsyncIterator[WebhookReceiver]:
    """Every receiver test runs twice: served from the test's loop (as ``dialer webhooks
    serve`` does) and from the history's writer thread (as the window does)."""
    serve_on = history.writer_thread if request.param == "writer-thread" else None
    if serve_on is not None:
        history.call_listeners_on(asyncio.get_running_loop())
    async with WebhookReceiver(
        history, accounts, secrets, path_token=TOKEN, serve_on=serve_on
    ) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        yield http
