"""The local record of every call placed from this machine (SQLite in the data folder).

Deliberately small: one row per call, written before the request leaves and updated with
the outcome. The history issue grows this into the full store (migrations, timelines,
provider reports); the schema version in ``PRAGMA user_version`` is where it starts.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dialer.core.calls import CallStatus
from dialer.core.sqlite import immediate_transaction, open_database

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id            TEXT PRIMARY KEY,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    account       TEXT NOT NULL,
    provider      TEXT NOT NULL,
    agent         TEXT,
    customer      TEXT NOT NULL,
    bridge        TEXT,
    flow_id       TEXT,
    status        TEXT NOT NULL,
    provider_ref  TEXT,
    message       TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    request       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS calls_created ON calls (created_at);
"""


@dataclass(frozen=True, slots=True)
class CallRecord:
    id: str
    account: str
    provider: str
    customer: str
    agent: str | None = None
    bridge: str | None = None
    flow_id: str | None = None
    status: CallStatus = CallStatus.PLACING
    provider_ref: str | None = None
    message: str = ""
    error: str = ""
    request: Mapping[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "provider": self.provider,
            "status": str(self.status),
            "provider_ref": self.provider_ref,
            "agent": self.agent,
            "customer": self.customer,
            "bridge": self.bridge,
            "flow_id": self.flow_id,
            "message": self.message,
            "error": self.error,
            "created_at": self.created_at,
            "request": dict(self.request),
        }


_COLUMNS = (
    "id, created_at, updated_at, account, provider, agent, customer, bridge, flow_id, status, "
    "provider_ref, message, error, request"
)


def _row(record: CallRecord) -> tuple[Any, ...]:
    return (
        record.id,
        record.created_at,
        record.updated_at,
        record.account,
        record.provider,
        record.agent,
        record.customer,
        record.bridge,
        record.flow_id,
        str(record.status),
        record.provider_ref,
        record.message,
        record.error,
        json.dumps(dict(record.request), sort_keys=True),
    )


def _record(row: tuple[Any, ...]) -> CallRecord:
    return CallRecord(
        id=row[0],
        created_at=row[1],
        updated_at=row[2],
        account=row[3],
        provider=row[4],
        agent=row[5],
        customer=row[6],
        bridge=row[7],
        flow_id=row[8],
        status=CallStatus(row[9]),
        provider_ref=row[10],
        message=row[11],
        error=row[12],
        request=json.loads(row[13]),
    )


class CallLog:
    """SQLite-backed call records, thread-safe.

    The async writes (:meth:`insert`, :meth:`amend`) go to one writer thread that commits
    everything queued so far in a single transaction (group commit) and resolves each
    caller's future once its row is durable: the event loop never waits on the disk, and a
    burst of 200 calls costs a few commits instead of 400.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path) if str(path) != ":memory:" else path
        self._lock = threading.Lock()
        self._db = open_database(path, _SCHEMA, SCHEMA_VERSION, "call log")
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, immediate_transaction(self._db) as db:
            yield db

    def add(self, record: CallRecord) -> CallRecord:
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO calls ({_COLUMNS}) VALUES ({', '.join('?' * 14)})", _row(record)
            )
        return record

    def update(self, record: CallRecord, **changes: Any) -> CallRecord:
        updated = replace(record, updated_at=time.time(), **changes)
        with self._transaction() as db:
            db.execute(
                f"REPLACE INTO calls ({_COLUMNS}) VALUES ({', '.join('?' * 14)})", _row(updated)
            )
        return updated

    async def insert(self, record: CallRecord) -> CallRecord:
        """Store a new record; returns once it is committed."""
        await self._write(record)
        return record

    async def amend(self, record: CallRecord, **changes: Any) -> CallRecord:
        """Store ``record`` with ``changes``; returns the new record once it is committed."""
        updated = replace(record, updated_at=time.time(), **changes)
        await self._write(updated)
        return updated

    async def _write(self, record: CallRecord) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_batches, name="dialer-calllog", daemon=True
            )
            self._writer.start()
        self._queue.put(_Write(_row(record), future, loop))
        await future

    def _write_batches(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < 1000:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            error: BaseException | None = None
            try:
                with self._transaction() as db:
                    db.executemany(
                        f"REPLACE INTO calls ({_COLUMNS}) VALUES ({', '.join('?' * 14)})",
                        [item.row for item in batch],
                    )
            except BaseException as exc:  # handed to every waiter, never lost in this thread
                error = exc
            # One wake-up per loop and batch, not one per row: a burst is one callback.
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for item in batch:
                by_loop.setdefault(item.loop, []).append(item.future)
            for loop, futures in by_loop.items():
                loop.call_soon_threadsafe(_settle, futures, error)

    def get(self, call_id: str) -> CallRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM calls WHERE id = ?", (call_id,)
            ).fetchone()
        return _record(row) if row else None

    def page(
        self, *, before: tuple[float, str] | None = None, limit: int = 200
    ) -> list[CallRecord]:
        """Newest first, ``limit`` rows older than ``before`` = (created_at, id) of the last
        row already shown: keyset paging stays fast however long the history grows."""
        with self._lock:
            if before is None:
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM calls ORDER BY created_at DESC, id DESC LIMIT ?",
                    (limit,),
                ).fetchall()
            else:
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM calls WHERE (created_at, id) < (?, ?) "
                    "ORDER BY created_at DESC, id DESC LIMIT ?",
                    (*before, limit),
                ).fetchall()
        return [_record(row) for row in rows]

    def recent(self, limit: int = 100) -> list[CallRecord]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM calls ORDER BY created_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_record(row) for row in rows]

    def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        with self._lock:
            self._db.close()


@dataclass(frozen=True, slots=True)
class _Write:
    row: tuple[Any, ...]
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():  # the caller was cancelled; the row is stored all the same
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
