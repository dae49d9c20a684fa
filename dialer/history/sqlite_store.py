"""The history on a SQLite file in the data folder (WAL, versioned migrations).

One writer thread owns every change: the coroutines queue a job and await it; the thread
runs everything queued so far in one transaction (group commit, each job in a savepoint so
one failure spoils nothing else) and resolves each caller once the transaction committed.
Reads use a connection per reading thread, so the window pages and totals while the
writer commits, never waiting on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from dialer.core.calls import CallStatus, new_reference
from dialer.core.sqlite import immediate_transaction, open_migrated, open_reader
from dialer.history.records import (
    FINAL_STATUSES,
    CallOrigin,
    CallRecord,
    HistoryQuery,
    HistoryTotals,
    ProviderReport,
    SortKey,
    StoredReport,
    TimelineEntry,
    digits_of,
)
from dialer.history.store import HistoryListener, PageKey

logger = logging.getLogger(__name__)

# Schema 1 is the call log of the first release; every later step is an upgrade of it.
_V1 = """
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

_FINAL_SQL = ", ".join(f"'{status}'" for status in sorted(FINAL_STATUSES))

_V2 = f"""
ALTER TABLE calls ADD COLUMN origin TEXT NOT NULL DEFAULT 'app';
ALTER TABLE calls ADD COLUMN numbers TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN bridge_digits TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN is_open INTEGER NOT NULL DEFAULT 1;
ALTER TABLE calls ADD COLUMN answered INTEGER;
ALTER TABLE calls ADD COLUMN started_at REAL;
ALTER TABLE calls ADD COLUMN ended_at REAL;
ALTER TABLE calls ADD COLUMN agent_seconds INTEGER;
ALTER TABLE calls ADD COLUMN talk_seconds INTEGER;
ALTER TABLE calls ADD COLUMN billed_seconds INTEGER;
ALTER TABLE calls ADD COLUMN charge REAL;
ALTER TABLE calls ADD COLUMN recording_url TEXT;
ALTER TABLE calls ADD COLUMN hangup_by TEXT;
ALTER TABLE calls ADD COLUMN cause TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN disposition TEXT NOT NULL DEFAULT '';
UPDATE calls SET
    numbers = history_digits(customer) || ' ' || history_digits(agent),
    bridge_digits = history_digits(bridge),
    is_open = status NOT IN ({_FINAL_SQL});
DROP INDEX IF EXISTS calls_created;
CREATE INDEX calls_by_created ON calls (created_at, id);
CREATE INDEX calls_by_customer ON calls (customer, id);
CREATE INDEX calls_by_account ON calls (account, id);
CREATE INDEX calls_by_agent ON calls (COALESCE(agent, ''), id);
CREATE INDEX calls_by_bridge ON calls (COALESCE(bridge, ''), id);
CREATE INDEX calls_by_status ON calls (status, id);
CREATE INDEX calls_by_talk ON calls (COALESCE(talk_seconds, -1), id);
CREATE INDEX calls_by_billed ON calls (COALESCE(billed_seconds, -1), id);
CREATE INDEX calls_by_disposition ON calls (disposition, id);
CREATE INDEX calls_by_ref ON calls (provider, provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX calls_open ON calls (provider, created_at) WHERE is_open = 1;
CREATE TABLE timeline (
    call_id  TEXT NOT NULL,
    at       REAL NOT NULL,
    status   TEXT NOT NULL,
    source   TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX timeline_by_call ON timeline (call_id, at);
INSERT INTO timeline (call_id, at, status, source) SELECT id, created_at, status, 'app' FROM calls;
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY,
    call_id      TEXT NOT NULL,
    received_at  REAL NOT NULL,
    source       TEXT NOT NULL,
    digest       TEXT NOT NULL UNIQUE,
    body         TEXT NOT NULL
);
CREATE INDEX reports_by_call ON reports (call_id)
"""

MIGRATIONS = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)

# The record's fields in table order; the table adds the derived search columns.
_FIELDS = tuple(f.name for f in fields(CallRecord))
_DERIVED = ("numbers", "bridge_digits", "is_open")
_COLUMNS = ", ".join(_FIELDS)
_INSERT = (
    f"INSERT INTO calls ({_COLUMNS}, {', '.join(_DERIVED)}) "
    f"VALUES ({', '.join('?' * (len(_FIELDS) + len(_DERIVED)))})"
)

# Each sort key is an expression with an index of its own; NULLs sort as '' or -1 so that
# keyset paging can compare them.
_SORT_SQL = {
    SortKey.CREATED: "created_at",
    SortKey.CUSTOMER: "customer",
    SortKey.ACCOUNT: "account",
    SortKey.AGENT: "COALESCE(agent, '')",
    SortKey.BRIDGE: "COALESCE(bridge, '')",
    SortKey.STATUS: "status",
    SortKey.TALK: "COALESCE(talk_seconds, -1)",
    SortKey.BILLED: "COALESCE(billed_seconds, -1)",
    SortKey.DISPOSITION: "disposition",
}

# How many open calls of one provider a report's numbers are compared against.
_MATCH_WINDOW = 50


def sort_value(key: SortKey, record: CallRecord) -> Any:
    """A record's value under a sort key, as the store's SQL computes it."""
    value = getattr(record, str(key))
    if value is None:
        return -1 if key in (SortKey.TALK, SortKey.BILLED) else ""
    return str(value) if key is SortKey.STATUS else value


def _row(record: CallRecord) -> tuple[Any, ...]:
    values: list[Any] = []
    for name in _FIELDS:
        value = getattr(record, name)
        if name == "request":
            value = json.dumps(dict(value), sort_keys=True)
        elif name in ("status", "origin"):
            value = str(value)
        elif name == "answered" and value is not None:
            value = int(value)
        values.append(value)
    values.append(f"{digits_of(record.customer)} {digits_of(record.agent)}")
    values.append(digits_of(record.bridge))
    values.append(0 if record.is_final else 1)
    return tuple(values)


def _record(row: tuple[Any, ...]) -> CallRecord:
    values = dict(zip(_FIELDS, row, strict=True))
    values["request"] = json.loads(values["request"])
    values["status"] = CallStatus(values["status"])
    values["origin"] = CallOrigin(values["origin"])
    if values["answered"] is not None:
        values["answered"] = bool(values["answered"])
    return CallRecord(**values)


def _where(query: HistoryQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.since is not None:
        clauses.append("created_at >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("created_at < ?")
        params.append(query.until)
    if query.accounts:
        clauses.append(f"account IN ({', '.join('?' * len(query.accounts))})")
        params.extend(query.accounts)
    if query.statuses:
        clauses.append(f"status IN ({', '.join('?' * len(query.statuses))})")
        params.extend(str(s) for s in query.statuses)
    agent = digits_of(query.agent)
    if query.agent:
        # The agent's digits are the second word of `numbers`.
        clauses.append("instr(substr(numbers, instr(numbers, ' ') + 1), ?) > 0")
        params.append(agent or query.agent)
    if query.bridge:
        bridge_digits = digits_of(query.bridge)
        if bridge_digits:
            clauses.append("(bridge = ? OR instr(bridge_digits, ?) > 0)")
            params.extend((query.bridge, bridge_digits))
        else:
            clauses.append("bridge = ?")
            params.append(query.bridge)
    wanted = digits_of(query.digits)
    if wanted:
        clauses.append("instr(numbers, ?) > 0")
        params.append(wanted)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _numbers_match(reported: str | None, placed: str | None) -> bool:
    """Two renderings of one number: the report may drop or add the country code."""
    a, b = digits_of(reported), digits_of(placed)
    if not a or not b:
        return True  # nothing to compare: not evidence against
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 6 and longer.endswith(shorter)


class SqliteHistory:
    """The :class:`~dialer.history.store.HistoryStore` on one SQLite file."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.listeners: list[HistoryListener] = []
        self._db = open_migrated(self.path, MIGRATIONS, "call history", prepare=_prepare)
        self._db_lock = threading.Lock()
        self._readers = threading.local()
        self._reader_list: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._closed = False

    # -- writes -------------------------------------------------------------------------

    async def insert(self, record: CallRecord, *, source: str = "app") -> CallRecord:
        def apply(db: sqlite3.Connection) -> CallRecord:
            db.execute(_INSERT, _row(record))
            _add_timeline(db, record.id, record.created_at, record.status, source=source, detail="")
            return record

        return await self._submit(apply)

    async def amend(
        self, record: CallRecord, *, source: str = "app", detail: str = "", **changes: Any
    ) -> CallRecord:
        def apply(db: sqlite3.Connection) -> CallRecord:
            current = _get(db, record.id) or record
            return _change(db, current, changes, source, detail)

        return await self._submit(apply)

    async def ingest(self, report: ProviderReport) -> CallRecord:
        return await self._submit(lambda db: _ingest(db, report))

    async def annotate(
        self, call_id: str, *, note: str | None = None, disposition: str | None = None
    ) -> CallRecord:
        def apply(db: sqlite3.Connection) -> CallRecord:
            current = _get(db, call_id)
            if current is None:
                raise KeyError(call_id)
            changes: dict[str, Any] = {}
            if note is not None:
                changes["note"] = note
            if disposition is not None:
                changes["disposition"] = disposition
            return _change(db, current, changes, "user", "")

        return await self._submit(apply)

    async def _submit(self, apply: Callable[[sqlite3.Connection], CallRecord]) -> CallRecord:
        if self._closed:
            raise RuntimeError("the call history is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CallRecord] = loop.create_future()
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_batches, name="dialer-history", daemon=True
            )
            self._writer.start()
        self._queue.put(_Job(apply, future, loop))
        return await future

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
            outcomes: list[tuple[_Job, CallRecord | None, BaseException | None]] = []
            try:
                with self._db_lock, immediate_transaction(self._db) as db:
                    for job in batch:
                        db.execute("SAVEPOINT job")
                        try:
                            result = job.apply(db)
                        except Exception as exc:  # this job's error; the others commit
                            db.execute("ROLLBACK TO job")
                            db.execute("RELEASE job")
                            outcomes.append((job, None, exc))
                        else:
                            db.execute("RELEASE job")
                            outcomes.append((job, result, None))
            except BaseException as exc:  # the commit failed: nothing of the batch is stored
                outcomes = [(job, None, exc) for job in batch]
            # One wake-up per loop and batch, not one per row: a burst is one callback.
            by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
            for job, outcome, error in outcomes:
                by_loop.setdefault(job.loop, []).append((job.future, outcome, error))
            for loop, settled in by_loop.items():
                # A closed loop has nobody waiting any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._settle, settled)

    def _settle(self, settled: list[_Outcome]) -> None:
        changed = [result for _, result, error in settled if error is None and result is not None]
        # Listeners first: when an awaiting caller resumes, the window already shows it.
        for record in changed:
            for listener in list(self.listeners):
                try:
                    listener(record)
                except Exception:
                    logger.exception("A history listener failed")
        for future, result, error in settled:
            if future.done():  # the caller was cancelled; the change is stored all the same
                continue
            if error is None:
                future.set_result(result)  # type: ignore[arg-type]
            else:
                future.set_exception(error)

    # -- reads --------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._readers, "db", None)
        if db is None:
            if self._closed:
                raise RuntimeError("the call history is closed")
            db = open_reader(self.path)
            self._readers.db = db
            with self._reader_lock:
                self._reader_list.append(db)
        return db

    def get(self, call_id: str) -> CallRecord | None:
        return _get(self._reader(), call_id)

    def page(
        self, query: HistoryQuery, *, after: PageKey | None = None, limit: int = 200
    ) -> list[CallRecord]:
        where, params = _where(query)
        order = _SORT_SQL[query.sort]
        direction = "DESC" if query.descending else "ASC"
        if after is not None:
            where += (" AND " if where else " WHERE ") + (
                f"({order}, id) {'<' if query.descending else '>'} (?, ?)"
            )
            params.extend(after)
        sql = (
            f"SELECT {_COLUMNS} FROM calls{where} "
            f"ORDER BY {order} {direction}, id {direction} LIMIT ?"
        )
        rows = self._reader().execute(sql, (*params, limit)).fetchall()
        return [_record(row) for row in rows]

    def page_key(self, query: HistoryQuery, record: CallRecord) -> PageKey:
        return (sort_value(query.sort, record), record.id)

    def totals(self, query: HistoryQuery) -> HistoryTotals:
        where, params = _where(query)
        row = (
            self._reader()
            .execute(
                "SELECT COUNT(*), COALESCE(SUM(answered), 0), COALESCE(SUM(talk_seconds), 0), "
                f"COALESCE(SUM(billed_seconds), 0), COALESCE(SUM(charge), 0) FROM calls{where}",
                params,
            )
            .fetchone()
        )
        return HistoryTotals(
            calls=row[0],
            answered=row[1],
            talk_seconds=row[2],
            billed_seconds=row[3],
            charge=float(row[4]),
        )

    def iter_records(self, query: HistoryQuery) -> Iterator[CallRecord]:
        after: PageKey | None = None
        while True:
            page = self.page(query, after=after, limit=1000)
            yield from page
            if len(page) < 1000:
                return
            after = self.page_key(query, page[-1])

    def open_calls(self, *, provider: str | None = None) -> list[CallRecord]:
        sql = f"SELECT {_COLUMNS} FROM calls WHERE is_open = 1"
        params: tuple[Any, ...] = ()
        if provider is not None:
            sql += " AND provider = ?"
            params = (provider,)
        rows = self._reader().execute(sql + " ORDER BY created_at", params).fetchall()
        return [_record(row) for row in rows]

    def timeline(self, call_id: str) -> list[TimelineEntry]:
        rows = (
            self._reader()
            .execute(
                "SELECT at, status, source, detail FROM timeline WHERE call_id = ? "
                "ORDER BY at, rowid",
                (call_id,),
            )
            .fetchall()
        )
        return [TimelineEntry(r[0], CallStatus(r[1]), r[2], r[3]) for r in rows]

    def reports(self, call_id: str) -> list[StoredReport]:
        rows = (
            self._reader()
            .execute(
                "SELECT received_at, source, body FROM reports WHERE call_id = ? ORDER BY id",
                (call_id,),
            )
            .fetchall()
        )
        return [StoredReport(r[0], r[1], r[2]) for r in rows]

    def count(self) -> int:
        return int(self._reader().execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        self._closed = True
        with self._reader_lock:
            for db in self._reader_list:
                db.close()
            self._reader_list.clear()
        with self._db_lock:
            self._db.close()


_Outcome = tuple["asyncio.Future[CallRecord]", CallRecord | None, BaseException | None]


@dataclass(frozen=True, slots=True)
class _Job:
    apply: Callable[[sqlite3.Connection], CallRecord]
    future: asyncio.Future[CallRecord]
    loop: asyncio.AbstractEventLoop


def _prepare(db: sqlite3.Connection) -> None:
    db.create_function("history_digits", 1, digits_of, deterministic=True)


def _get(db: sqlite3.Connection, call_id: str) -> CallRecord | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM calls WHERE id = ?", (call_id,)).fetchone()
    return _record(row) if row else None


def _add_timeline(
    db: sqlite3.Connection,
    call_id: str,
    at: float,
    status: CallStatus,
    *,
    source: str,
    detail: str,
) -> None:
    db.execute(
        "INSERT INTO timeline (call_id, at, status, source, detail) VALUES (?, ?, ?, ?, ?)",
        (call_id, at, str(status), source, detail),
    )


def _change(
    db: sqlite3.Connection,
    current: CallRecord,
    changes: Mapping[str, Any],
    source: str,
    detail: str,
) -> CallRecord:
    changes = dict(changes)
    status = changes.get("status")
    if status is not None and current.is_final and status not in FINAL_STATUSES:
        # A late progress step (the service's "accepted" after the webhook's "completed")
        # never reopens a finished call.
        del changes["status"]
    updated = replace(current, updated_at=time.time(), **changes)
    if updated == replace(current, updated_at=updated.updated_at):
        return current
    db.execute("DELETE FROM calls WHERE id = ?", (current.id,))
    db.execute(_INSERT, _row(updated))
    if updated.status is not current.status:
        _add_timeline(
            db, current.id, updated.updated_at, updated.status, source=source, detail=detail
        )
    return updated


_OUTCOME_FIELDS = (
    "answered",
    "started_at",
    "ended_at",
    "agent_seconds",
    "talk_seconds",
    "billed_seconds",
    "charge",
    "recording_url",
    "hangup_by",
)


def _ingest(db: sqlite3.Connection, report: ProviderReport) -> CallRecord:
    digest = hashlib.sha256(f"{report.provider}\n{report.body}".encode()).hexdigest()
    seen = db.execute("SELECT call_id FROM reports WHERE digest = ?", (digest,)).fetchone()
    if seen is not None:
        stored = _get(db, seen[0])
        if stored is not None:
            return stored  # a repeated delivery: already applied once
    now = time.time()
    match = _match(db, report)
    outcome = {name: getattr(report, name) for name in _OUTCOME_FIELDS}
    outcome = {name: value for name, value in outcome.items() if value is not None}
    if report.cause:
        outcome["cause"] = report.cause
    if match is None:
        flow = _flow_of(report)
        record = CallRecord(
            id=new_reference(),
            account=report.account or "",
            provider=report.provider,
            customer=(report.agent if flow is not None else report.customer) or "",
            agent=None if flow is not None else report.agent,
            bridge=report.bridge,
            flow_id=flow,
            status=report.status,
            provider_ref=report.provider_ref,
            origin=CallOrigin.OUTSIDE,
            created_at=report.started_at or report.reported_at or now,
            updated_at=now,
            **outcome,
        )
        db.execute(_INSERT, _row(record))
        _add_timeline(db, record.id, now, record.status, source=report.source, detail=report.cause)
    else:
        if report.provider_ref and not match.provider_ref:
            outcome["provider_ref"] = report.provider_ref
        record = _change(
            db, match, {"status": report.status, **outcome}, report.source, report.cause
        )
    db.execute(
        "INSERT INTO reports (call_id, received_at, source, digest, body) VALUES (?, ?, ?, ?, ?)",
        (record.id, now, report.source, digest, report.body),
    )
    return record


def _match(db: sqlite3.Connection, report: ProviderReport) -> CallRecord | None:
    if report.call_id:
        found = _get(db, report.call_id)
        if found is not None and found.provider == report.provider:
            return found
    if report.provider_ref:
        row = db.execute(
            f"SELECT {_COLUMNS} FROM calls WHERE provider = ? AND provider_ref = ? "
            "ORDER BY created_at DESC LIMIT 1",
            (report.provider, report.provider_ref),
        ).fetchone()
        if row is not None:
            return _record(row)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM calls WHERE is_open = 1 AND provider = ? "
        "ORDER BY created_at DESC LIMIT ?",
        (report.provider, _MATCH_WINDOW),
    ).fetchall()
    for row in rows:
        candidate = _record(row)
        if report.account and candidate.account != report.account:
            continue
        if _same_call(report, candidate):
            return candidate
    return None


def _flow_of(report: ProviderReport) -> str | None:
    customer = report.customer or ""
    return customer.removeprefix("flow:") if customer.startswith("flow:") else None


def _same_call(report: ProviderReport, call: CallRecord) -> bool:
    if report.bridge and call.bridge and digits_of(report.bridge) != digits_of(call.bridge):
        return False
    if not (report.customer or report.agent):
        return False  # a report with no numbers matches nothing
    flow = _flow_of(report)
    if flow is not None:
        # A flow call rings the customer ("from") into the flow ("to": "flow:220").
        return call.flow_id == flow and _numbers_match(report.agent, call.customer)
    if call.flow_id is not None:
        return False
    return _numbers_match(report.customer, call.customer) and _numbers_match(
        report.agent, call.agent
    )
