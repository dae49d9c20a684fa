"""The history on a SQLite file in the data folder (WAL, versioned migrations).

This module is storage only: what a report or a change does (which call it matches,
whether it is a redelivery, what it changes, each call's share of the totals) is decided by
:mod:`dialer.history.rules`, which every backend shares; here is how it is fetched and
written.

One writer thread owns every change: the coroutines queue a job and await it; the thread
runs everything queued so far in one transaction (group commit; should one job fail, the
batch is run again with each job in a savepoint, so one failure spoils nothing else) and
resolves each caller once the transaction committed. Checkpoints (copying the write-ahead
log back into the file) run on a thread of their own, so no caller waits for one.
Reads use a connection per reading thread, so the window pages and totals while the
writer commits, never waiting on it.

At a million calls every read the panel makes stays an index walk of a page or two
(``benchmarks/history.py`` measures it):

- each filter the panel offers has an index in ``created_at`` order under it (account, status,
  agent, bridge), so the default order reads its first page straight off that index; a filter
  with several values (two statuses) merges one ordered walk per value;
- other orders either collect a filter's matches and sort them (when a capped count on the
  filter's index says they are few) or walk the order's own index until the page is full
  (when matches are many, so the walk stops early);
- digits of a number are found through an FTS5 trigram index of the numbers (where SQLite
  has one);
- totals come from per-day totals by account and status, plus the rows of the partial days
  at the edges of a date range; a search for one to three digits, which may match a third
  of the history, from totals kept per run of digits (``digit_totals``).

The writer keeps the digits index, the per-day totals and the changes to the digit totals
in the transaction of the change (see ``_Tx``), and folds those changes in when it is idle;
a file written where SQLite has no trigram tokenizer has its digits index rebuilt by the
next open that has one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import operator
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dialer.core.calls import CallStatus
from dialer.core.errors import ConfigError
from dialer.core.sqlite import immediate_transaction, open_migrated, open_reader
from dialer.core.threads import LoopThread
from dialer.history import digit_totals, rules
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
from dialer.history.rules import sort_value as sort_value  # noqa: PLC0414 (re-export)
from dialer.history.store import HistoryListener, PageKey, records_in_pages

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

# The day a call's totals are kept under (rules.day_of), computed as SQLite's
# CAST(created_at / 86400 AS INTEGER) does (the same division, truncated).
_DAY = rules.DAY_SECONDS


# Schema 3: what a history of a million calls needs to stay fast (see the module docstring).
# `call_days` holds the totals of each (day, account, status); the writer keeps it (see _Tx).
_V3 = (
    "ALTER TABLE calls ADD COLUMN agent_digits TEXT NOT NULL DEFAULT ''",
    "UPDATE calls SET agent_digits = history_digits(agent)",
    "CREATE INDEX calls_by_account_created ON calls (account, created_at, id)",
    "CREATE INDEX calls_by_status_created ON calls (status, created_at, id)",
    "CREATE INDEX calls_by_agent_created ON calls (agent_digits, created_at, id)",
    "CREATE INDEX calls_by_bridge_created ON calls (bridge, created_at, id)",
    """CREATE TABLE call_days (
        day             INTEGER NOT NULL,
        account         TEXT NOT NULL,
        status          TEXT NOT NULL,
        calls           INTEGER NOT NULL,
        answered        INTEGER NOT NULL,
        talk_seconds    INTEGER NOT NULL,
        billed_seconds  INTEGER NOT NULL,
        charge          REAL NOT NULL,
        PRIMARY KEY (day, account, status)
    ) WITHOUT ROWID""",
    """INSERT INTO call_days
        SELECT CAST(created_at / 86400 AS INTEGER), account, status, COUNT(*),
            COALESCE(SUM(answered), 0), COALESCE(SUM(talk_seconds), 0),
            COALESCE(SUM(billed_seconds), 0), COALESCE(SUM(charge), 0)
        FROM calls GROUP BY 1, 2, 3""",
    # One row, current = 1, while the digits search index (below) holds every call.
    "CREATE TABLE number_search (current INTEGER NOT NULL)",
)


def _upgrade_to_v3(db: sqlite3.Connection) -> None:
    for statement in _V3:
        db.execute(statement)


def _upgrade_to_v4(db: sqlite3.Connection) -> None:
    for statement in digit_totals.SCHEMA:
        db.execute(statement)


MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
    _V1,
    _V2,
    _upgrade_to_v3,
    _upgrade_to_v4,
)
SCHEMA_VERSION = len(MIGRATIONS)

# The digits search index: an FTS5 table of trigrams over `numbers` (external content, so
# the numbers are stored once), kept in the writer's transaction. It is not part of the
# versioned schema: it needs SQLite 3.34 (the trigram tokenizer), and a file must stay
# writable on a machine whose SQLite is older; `number_search` says whether it is current.
# Where it is missing, a search scans instead.
#
# The writer changes it last in each transaction, not from triggers: SQLite asks a virtual
# table for a savepoint at every statement that may need one (any insert into `calls`), and
# FTS5 writes out what it holds at each, which made every insert ten times dearer.
_SEARCH_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS calls_numbers USING fts5(numbers, content='calls', "
    "content_rowid='rowid', tokenize='trigram', detail='full')"
)

# Who placed a call is the team history's to say (a profile's own file has one person).
_FIELDS = tuple(f.name for f in fields(CallRecord) if f.name != "user")
_DERIVED = ("numbers", "bridge_digits", "is_open", "agent_digits")
_COLUMNS = ", ".join(_FIELDS)
_INSERT = (
    f"INSERT INTO calls ({_COLUMNS}, {', '.join(_DERIVED)}) "
    f"VALUES ({', '.join('?' * (len(_FIELDS) + len(_DERIVED)))})"
)

# Each sort key is an expression with an index of its own (the same in every backend).
_SORT_SQL = rules.SORT_SQL

_ALL_COLUMNS = (*_FIELDS, *_DERIVED)
_NUMBERS = _ALL_COLUMNS.index("numbers")
_IS_OPEN = _ALL_COLUMNS.index("is_open")
# The columns :func:`_column_values` takes from a whole row: the encoded request and the
# digits columns (every other column is a field as it is, or its str/int).
_EXPENSIVE_COLUMNS = frozenset(
    _ALL_COLUMNS.index(name) for name in ("request", "numbers", "bridge_digits", "agent_digits")
)
_DERIVED_FROM = {
    "numbers": frozenset({"customer", "agent"}),
    "bridge_digits": frozenset({"bridge"}),
    "is_open": frozenset({"status"}),
    "agent_digits": frozenset({"agent"}),
}

# The most jobs one transaction writes (a caller waits for its whole batch).
_BATCH_AT_MOST = 1000
# Group commit: while writes come from many callers at once (the last batch held several
# and was written moments ago), the next batch waits this long for more to join it. Each
# transaction has a cost of its own (begin, commit, the log pages of the index pages it
# touched), so fewer, larger batches cost less per write: under the ingest benchmark's
# load, batches of about 14 reports became about 35, and the writer's CPU per report fell
# by 10-15% (a window of 1 ms groups as many as one of 3 ms). A write that comes alone (a
# call placed) is written at once.
_GROUP_WINDOW = 0.001

# The checkpointer's pace, and the log size (pages) at which the writer checkpoints itself.
# The checkpointer copies the log back passively, never blocking the writer; but while
# writes keep coming (a report every few ms) some frame is always newer than its copy, and
# the log only starts over after a checkpoint the writer makes itself: with a backstop of
# 20,000 pages 1,000 single reports grew it to 80 MB beside a 2 MB file. 256 pages (1 MiB)
# cost no measurable throughput (benchmarks.ingest), and each time the log starts over
# SQLite cuts the file back to _LOG_LIMIT_BYTES: a file never shrinks by itself.
_CHECKPOINT_EVERY = 0.25
_BACKSTOP_PAGES = 256
_LOG_LIMIT_BYTES = 1024 * 1024

# The writer folds the changes to the digit totals (see digit_totals) in the pauses
# between writes (once it has had nothing to write for this long), one step at a time. A
# burst with no pause (a campaign's reports) leaves them waiting, up to this many: then a
# step follows each batch, however busy. Totals read the waiting changes (100,000 take
# about 35 ms), and folding one costs about as much as writing it: a burst is absorbed at
# full speed and folded after.
_UPKEEP_IDLE = 0.05
_CHANGES_AT_MOST = 100_000

# How many matches a page query may collect and sort (about 50 ms at a million calls, rows
# read at random); beyond that it walks the order's index instead, which then stops early
# because matches are common: about limit * calls / matches rows are read.
_SORT_AT_MOST = 10_000
# Totals read every match of one filter: the one matching fewest, counted up to this many.
_COUNT_AT_MOST = 200_000
# A filter with several values (statuses, the agents a few digits match) is read as one walk
# per value in created order, merged, up to this many values.
_MERGE_AT_MOST = 64
# Agents or bridges a filter's digits are compared against, read from their index. A store
# with more distinct values than this filters by substring row by row instead.
_DISTINCT_AT_MOST = 5_000


_field_values = operator.attrgetter(*_FIELDS)
_REQUEST, _STATUS, _ORIGIN, _ANSWERED = (
    _FIELDS.index(name) for name in ("request", "status", "origin", "answered")
)
_encode_request = json.JSONEncoder(sort_keys=True).encode  # json.dumps(sort_keys=True), reused
_decode_request = json.JSONDecoder().decode
_STATUS_OF = {str(status): status for status in CallStatus}
_ORIGIN_OF = {str(origin): origin for origin in CallOrigin}


def _row(record: CallRecord) -> tuple[Any, ...]:
    """The record as the calls table stores it: its fields, then the derived columns."""
    values = list(_field_values(record))
    values[_REQUEST] = _encode_request(dict(record.request))
    values[_STATUS] = str(record.status)
    values[_ORIGIN] = str(record.origin)
    if record.answered is not None:
        values[_ANSWERED] = int(record.answered)
    agent = digits_of(record.agent)
    values.append(f"{digits_of(record.customer)} {agent}")  # as rules.numbers_of
    values.append(digits_of(record.bridge))
    values.append(0 if record.is_final else 1)
    values.append(agent)
    return tuple(values)


def _record(row: tuple[Any, ...]) -> CallRecord:
    # Positional, and the enums through their value maps: the writer reads a record per
    # report, so this is on the ingest path (about three times quicker than by keywords).
    values = list(row)
    values[_REQUEST] = _decode_request(values[_REQUEST])
    values[_STATUS] = _STATUS_OF[values[_STATUS]]
    values[_ORIGIN] = _ORIGIN_OF[values[_ORIGIN]]
    if values[_ANSWERED] is not None:
        values[_ANSWERED] = bool(values[_ANSWERED])
    return CallRecord(*values)


def _column_values(record: CallRecord, columns: tuple[int, ...]) -> tuple[Any, ...]:
    """Those columns of :func:`_row`, computing only them (an update writes a few)."""
    if not _EXPENSIVE_COLUMNS.isdisjoint(columns):
        row = _row(record)
        return tuple(row[n] for n in columns)
    values = _field_values(record)
    return tuple(
        str(values[n]) if n in (_STATUS, _ORIGIN)
        else (0 if record.is_final else 1) if n == _IS_OPEN
        else int(values[n]) if n == _ANSWERED and values[n] is not None
        else values[n]
        for n in columns
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Term:
    """One test of a query's WHERE clause, in two spellings: ``indexed`` may drive an index,
    ``plain`` is the same test kept off every index (a unary ``+`` on the column), for when
    another term or the order's index should drive the query."""

    indexed: str
    plain: str
    params: tuple[Any, ...]
    column: str = ""  # a list term's column; it has a (column, created_at, id) index
    values: tuple[Any, ...] = ()
    trigram: bool = False  # the digits through their index (plain: no test; `instr` tests)


@dataclass(frozen=True, slots=True)
class _Filter:
    """A query's tests, with the values of its agent and bridge filters already read."""

    time: _Term | None
    lists: tuple[_Term, ...]  # account, status, agent, bridge: most selective first
    others: tuple[_Term, ...]  # tests no index can drive (digits, a substring scan)
    search: _Term | None  # the digits, through the trigram index (None: scan)

    @property
    def rolls_up(self) -> bool:
        """Whether the per-day totals can answer: no agent, bridge or digits test."""
        return not self.others and all(t.column in ("account", "status") for t in self.lists)

    def terms(self) -> list[_Term]:
        return [t for t in (self.time, *self.lists, *self.others) if t is not None]


def _list_term(column: str, values: tuple[Any, ...] | list[Any]) -> _Term:
    marks = ", ".join("?" * len(values))
    return _Term(
        f"{column} IN ({marks})", f"+{column} IN ({marks})", tuple(values), column, tuple(values)
    )


def _distinct(db: sqlite3.Connection, column: str) -> list[str] | None:
    """Every value of an indexed column, one index seek each (a loose index scan); None when
    there are more than ``_DISTINCT_AT_MOST``."""
    rows = db.execute(
        f"WITH RECURSIVE seen(value) AS (SELECT MIN({column}) FROM calls UNION ALL "
        f"SELECT (SELECT MIN({column}) FROM calls WHERE {column} > seen.value) FROM seen "
        "WHERE seen.value IS NOT NULL) SELECT value FROM seen WHERE value IS NOT NULL LIMIT ?",
        (_DISTINCT_AT_MOST + 1,),
    ).fetchall()
    return None if len(rows) > _DISTINCT_AT_MOST else [row[0] for row in rows]


def _filter(db: sqlite3.Connection, query: HistoryQuery, search: bool) -> _Filter:
    time_term = None
    if query.since is not None or query.until is not None:
        tests = []
        if query.since is not None:
            tests.append(("created_at >= ?", query.since))
        if query.until is not None:
            tests.append(("created_at < ?", query.until))
        time_term = _Term(
            " AND ".join(t for t, _ in tests),
            " AND ".join("+" + t for t, _ in tests),
            tuple(v for _, v in tests),
        )
    lists: list[_Term] = []
    others: list[_Term] = []
    if query.agent:
        # Any run of the agent's digits: compared with every agent's digits here, the
        # matching ones are looked up in the index.
        needle = digits_of(query.agent) or query.agent
        agents = _distinct(db, "agent_digits")
        if agents is None:
            test = "instr(agent_digits, ?) > 0"
            others.append(_Term(test, test, (needle,)))
        else:
            lists.append(_list_term("agent_digits", [a for a in agents if needle in a]))
    if query.bridge:
        wanted, wanted_digits = query.bridge, digits_of(query.bridge)
        bridges = _distinct(db, "bridge")
        if bridges is None:
            test = "(bridge = ? OR instr(bridge_digits, ?) > 0)" if wanted_digits else "bridge = ?"
            params = (wanted, wanted_digits) if wanted_digits else (wanted,)
            others.append(_Term(test, test.replace("bridge =", "+bridge ="), params))
        else:
            matching = [
                b for b in bridges
                if b == wanted or (wanted_digits != "" and wanted_digits in digits_of(b))
            ]  # fmt: skip
            lists.append(_list_term("bridge", matching))
    if query.accounts:
        lists.append(_list_term("account", query.accounts))
    if query.statuses:
        lists.append(_list_term("status", tuple(str(s) for s in query.statuses)))
    if query.users and "" not in query.users:
        others.append(_Term("0", "0", ()))  # a profile's own calls name nobody
    search_term = None
    wanted = digits_of(query.digits)
    if wanted:
        others.append(_Term("instr(numbers, ?) > 0", "instr(numbers, ?) > 0", (wanted,)))
        if search and len(wanted) >= 3:  # a trigram index finds runs of three or more
            search_term = _Term(
                "rowid IN (SELECT rowid FROM calls_numbers WHERE calls_numbers MATCH ?)",
                "1",
                (f'"{wanted}"',),  # a phrase: the digits in this order, side by side
                trigram=True,
            )
    return _Filter(time_term, tuple(lists), tuple(others), search_term)


def _capped_count(db: sqlite3.Connection, term: _Term, cap: int = _SORT_AT_MOST) -> int:
    """How many rows ``term`` matches, counted on its index (no row read) up to ``cap + 1``."""
    if term.column and not term.values:
        return 0
    if term.trigram:
        sql = "SELECT rowid FROM calls_numbers WHERE calls_numbers MATCH ?"
    else:
        sql = f"SELECT 1 FROM calls WHERE {term.indexed}"
    row = db.execute(f"SELECT COUNT(*) FROM ({sql} LIMIT ?)", (*term.params, cap + 1)).fetchone()
    return int(row[0])


def _where(terms: list[tuple[_Term, bool]]) -> tuple[str, list[Any]]:
    """A WHERE clause of ``(term, indexed)`` pairs."""
    sql = [term.indexed if indexed else term.plain for term, indexed in terms]
    params = [value for term, _ in terms for value in term.params]
    return " AND ".join(t for t in sql if t != "1") or "1", params


@dataclass(frozen=True, slots=True)
class _Order:
    """A page's order (a sort expression and a direction), where it starts, and its size."""

    sql: str
    descending: bool
    after: PageKey | None
    limit: int

    @property
    def direction(self) -> str:
        return "DESC" if self.descending else "ASC"

    def select(self, where: str, params: list[Any], *, key: str, indexed: bool) -> _Sql:
        """The page's rowids: rows of ``where`` in ``key`` order (``indexed``: the order may
        come from ``key``'s index), after the page key."""
        if self.after is not None:
            pair = f"({key}, id)" if indexed else f"(+{key}, +id)"
            where += f" AND {pair} {'<' if self.descending else '>'} (?, ?)"
            params = [*params, *self.after]
        order = key if indexed else f"+{key}"
        return (
            f"SELECT rowid FROM calls WHERE {where} "
            f"ORDER BY {order} {self.direction}, id {self.direction} LIMIT ?",
            [*params, self.limit],
        )


_Sql = tuple[str, list[Any]]


def _page_rowids(db: sqlite3.Connection, query: HistoryQuery, order: _Order, search: bool) -> _Sql:
    """A query of the rowids of the page, in order: the plan is chosen here (see the module
    docstring); the caller reads the rows themselves by rowid."""
    found = _filter(db, query, search)
    terms = found.terms()
    if any(not t.values for t in found.lists):
        return "SELECT rowid FROM calls WHERE 0", []  # no agent or bridge has those digits
    if found.search is not None and _capped_count(db, found.search) <= _SORT_AT_MOST:
        # Few calls have these digits: collect them through the trigram index and sort.
        return _collected(found.search, terms, order)
    if query.sort is SortKey.CREATED:
        single = [t for t in found.lists if len(t.values) == 1]
        merged = [t for t in found.lists if 1 < len(t.values) <= _MERGE_AT_MOST]
        if not single and merged:
            return _merged(merged[0], found, order)
        # One value of a list filter (or the date range) walks its index in created order.
        where, params = _where([(t, t is found.time or t in single) for t in terms])
        return order.select(where, params, key="created_at", indexed=True)
    candidates = (found.time, *found.lists)
    counted = [(_capped_count(db, t), n, t) for n, t in enumerate(candidates) if t]
    if counted:
        fewest, _, driver = min(counted)
        if fewest <= _SORT_AT_MOST:
            return _collected(driver, terms, order)
    # No filter, or every filter matches many calls: walk the order's index, testing rows.
    where, params = _where([(t, False) for t in terms])
    return order.select(where, params, key=order.sql, indexed=True)


def _collected(driver: _Term, terms: list[_Term], order: _Order) -> _Sql:
    """The page from the few matches of ``driver``, sorted (no index serves the order)."""
    where, params = _where([(driver, True), *((t, False) for t in terms if t is not driver)])
    return order.select(where, params, key=order.sql, indexed=False)


def _merged(driver: _Term, found: _Filter, order: _Order) -> _Sql:
    """The page in created order for a filter with several values: one walk of the
    (column, created_at, id) index per value, merged as they stream (SQLite's MERGE)."""
    # The date range narrows each walk; every other test is made on the rows walked.
    where, params = _where([(t, t is found.time) for t in found.terms() if t is not driver])
    keyset = ""
    if order.after is not None:
        keyset = f" AND (created_at, id) {'<' if order.descending else '>'} (?, ?)"
    arms, arm_params = [], []
    for value in driver.values:
        arms.append(
            f"SELECT rowid AS r, created_at AS c, id AS i FROM calls "
            f"WHERE {driver.column} = ? AND {where}{keyset}"
        )
        arm_params.extend([value, *params, *(order.after or ())])
    return (
        f"SELECT r FROM ({' UNION ALL '.join(arms)} "
        f"ORDER BY c {order.direction}, i {order.direction} LIMIT ?)",
        [*arm_params, order.limit],
    )


_SUMS = (
    "COUNT(*), COALESCE(SUM(answered), 0), COALESCE(SUM(talk_seconds), 0), "
    "COALESCE(SUM(billed_seconds), 0), COALESCE(SUM(charge), 0)"
)


def _totals(db: sqlite3.Connection, query: HistoryQuery, search: bool) -> tuple[Any, ...]:
    wanted = digits_of(query.digits)
    if 0 < len(wanted) <= digit_totals.LONGEST and _only_digits(query):
        kept = digit_totals.totals(db, wanted)
        if kept is not None:
            return kept
    found = _filter(db, query, search)
    if any(not t.values for t in found.lists):
        return (0, 0, 0, 0, 0.0)  # no agent or bridge has those digits
    if found.rolls_up:
        return _rolled_up_totals(db, query, found)
    terms = found.terms()
    candidates = (found.search, found.time, *found.lists)
    counted = [(_capped_count(db, t, _COUNT_AT_MOST), n, t) for n, t in enumerate(candidates) if t]
    if counted:
        # Read the rows of the filter that matches fewest.
        _, _, driver = min(counted)
        if driver is found.search:
            where, params = _where([(t, False) for t in terms])
            return tuple(
                db.execute(
                    # A join visits the table in the index's rowid order (an IN list
                    # would be built first); the subquery keeps `numbers` unambiguous.
                    "SELECT "
                    + _SUMS
                    + " FROM (SELECT rowid AS found FROM calls_numbers WHERE calls_numbers "
                    f"MATCH ?) JOIN calls ON calls.rowid = found WHERE {where}",
                    [*driver.params, *params],
                ).fetchone()
            )
        where, params = _where([(t, t is driver) for t in terms])
    else:
        where, params = _where([(t, False) for t in terms])
    return tuple(db.execute(f"SELECT {_SUMS} FROM calls WHERE {where}", params).fetchone())


def _only_digits(query: HistoryQuery) -> bool:
    """Whether the query filters by digits of a number and nothing else."""
    return (
        query.since is None and query.until is None and not query.accounts
        and not query.agent and not query.bridge and not query.statuses
    )  # fmt: skip


def _rolled_up_totals(
    db: sqlite3.Connection, query: HistoryQuery, found: _Filter
) -> tuple[Any, ...]:
    """Totals from the per-day rollup for the whole days of the range, plus the calls of the
    partial days at its edges read from the table.

    A rollup day is whole UTC days ``CAST(created_at / 86400 AS INTEGER)``; the edges are
    chosen a second inside the range and tested with the same expression, so a call is
    counted once whatever the rounding of the division.
    """
    lists = [(t, True) for t in found.lists]
    since, until = query.since, query.until
    first = last = None  # whole days: first <= day < last
    if since is not None and math.isfinite(since):
        first = max(math.ceil((since + 1) / _DAY), 1)  # day 0 also holds negative times
    if until is not None and math.isfinite(until):
        last = math.floor((until - 1) / _DAY)
    unbounded = (since is not None and first is None) or (until is not None and last is None)
    if unbounded or (first is not None and last is not None and first >= last):
        where, params = _where([(t, True) for t in found.terms()])
        return tuple(db.execute(f"SELECT {_SUMS} FROM calls WHERE {where}", params).fetchone())
    day_tests: list[str] = []
    day_params: list[Any] = []
    parts: list[tuple[str, list[Any]]] = []
    where, params = _where(lists)
    if first is not None:
        day_tests.append("day >= ?")
        day_params.append(first)
        parts.append((
            f"SELECT {_SUMS} FROM calls WHERE created_at >= ? AND created_at < ? "
            f"AND CAST(created_at / 86400 AS INTEGER) < ? AND {where}",
            [since, (first + 1) * _DAY, first, *params],
        ))  # fmt: skip
    if last is not None:
        day_tests.append("day < ?")
        day_params.append(last)
        parts.append((
            f"SELECT {_SUMS} FROM calls WHERE created_at < ? AND created_at >= ? "
            f"AND CAST(created_at / 86400 AS INTEGER) >= ? AND {where}",
            [until, (last - 1) * _DAY, last, *params],
        ))  # fmt: skip
    rolled = " AND ".join([*day_tests, where])
    parts.append((
        f"SELECT {digit_totals.SUM_SUMS} FROM call_days WHERE {rolled}",
        [*day_params, *params],
    ))  # fmt: skip
    sums = [0, 0, 0, 0, 0.0]
    for sql, values in parts:
        for n, value in enumerate(db.execute(sql, values).fetchone()):
            sums[n] += value
    return tuple(sums)


class SqliteHistory:
    """The :class:`~dialer.history.store.HistoryStore` on one SQLite file."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.listeners: list[HistoryListener] = []
        self._db = open_migrated(self.path, MIGRATIONS, "call history", prepare=_prepare)
        try:
            self._search = _prepare_number_search(self._db)
            # Changes to the digit totals waiting to be folded; whether they are still being
            # built (only an upkeep step ends that, and nothing starts it again: another
            # process ending it first leaves this merely stale).
            self._waiting = digit_totals.waiting(self._db)
            self._building = digit_totals.building(self._db)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ConfigError(f"{path} is not a call history that can be opened ({exc})") from None
        except BaseException:
            self._db.close()
            raise
        self._db_lock = threading.Lock()
        self._readers = threading.local()
        self._reader_list: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._writer: LoopThread | None = None
        self._pending: list[_Job] = []  # the writer loop's own
        self._flush_scheduled = False
        self._grouping = False  # the last batch held several jobs (see _GROUP_WINDOW)
        self._start_lock = threading.Lock()
        self._listener_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # Copying the log back into the file (a checkpoint: two fsyncs) is done by a thread of
        # its own, so no writer waits for it; the writer's own checkpoint is a backstop.
        self._db.execute(f"PRAGMA wal_autocheckpoint={_BACKSTOP_PAGES}")
        self._db.execute(f"PRAGMA journal_size_limit={_LOG_LIMIT_BYTES}")
        self._committed = threading.Event()
        self._stopping = threading.Event()
        self._checkpointer: threading.Thread | None = None
        # The writer loop's own: its upkeep timer, and when it last wrote.
        self._upkeep: asyncio.TimerHandle | None = None
        self._last_write = 0.0

    # -- change listeners (see HistoryStore) -------------------------------------------

    def add_listener(self, listener: HistoryListener, *, here_only: bool = False) -> None:
        # Every change it tells of is made here (another process's writes are not heard).
        self.listeners.append(listener)

    def remove_listener(self, listener: HistoryListener) -> None:
        with contextlib.suppress(ValueError):
            self.listeners.remove(listener)

    def call_listeners_on(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._listener_loop = loop

    @property
    def serving_thread(self) -> LoopThread:
        """The writer thread (see :attr:`writer_thread`)."""
        return self.writer_thread

    # -- writes -------------------------------------------------------------------------

    async def insert(self, record: CallRecord, *, source: str = "app") -> CallRecord:
        def apply(tx: _Tx) -> CallRecord:
            _insert_call(tx, record)
            _add_timeline(
                tx.db, record.id, record.created_at, record.status, source=source, detail=""
            )
            return record

        return await self._submit(apply)

    async def amend(
        self,
        record: CallRecord,
        *,
        source: str = "app",
        detail: str = "",
        only_if_open: bool = False,
        **changes: Any,
    ) -> CallRecord:
        def apply(tx: _Tx) -> CallRecord:
            stored = _get(tx.db, record.id)
            if stored is not None and rules.stands(stored, only_if_open=only_if_open):
                return stored  # an outcome was stored meanwhile: it stands
            return _change(tx, stored or record, changes, source, detail, stored=stored is not None)

        return await self._submit(apply)

    async def ingest(self, report: ProviderReport) -> CallRecord:
        return await self._submit(lambda tx: _ingest(tx, report))

    async def annotate(
        self, call_id: str, *, note: str | None = None, disposition: str | None = None
    ) -> CallRecord:
        def apply(tx: _Tx) -> CallRecord:
            current = _get(tx.db, call_id)
            if current is None:
                raise KeyError(call_id)
            changes: dict[str, Any] = {}
            if note is not None:
                changes["note"] = note
            if disposition is not None:
                changes["disposition"] = disposition
            return _change(tx, current, changes, "user", "")

        return await self._submit(apply)

    async def _submit(self, apply: Callable[[_Tx], CallRecord]) -> CallRecord:
        if self._closed:
            raise RuntimeError("the call history is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CallRecord] = loop.create_future()
        writer = self._writer or self._start_writer()
        job = _Job(apply, future, loop)
        if loop is writer.loop:
            self._enqueue(job)  # a server on the writer's loop: no thread hop at all
        else:
            try:
                writer.loop.call_soon_threadsafe(self._enqueue, job)
            except RuntimeError:  # its loop closed meanwhile
                raise RuntimeError("the call history is closed") from None
        return await future

    @property
    def writer_thread(self) -> LoopThread:
        """The thread (and event loop) every write runs on. A server whose every request
        writes (the webhook receiver) can serve from its loop: its writes then join the
        next batch without waking another thread, twice per request."""
        return self._writer or self._start_writer()

    def _start_writer(self) -> LoopThread:
        with self._start_lock:  # callers on two loops' threads may come first together
            if self._writer is not None:
                return self._writer
            if self._closed:
                raise RuntimeError("the call history is closed")
            self._checkpointer = threading.Thread(
                target=self._checkpoint, name="dialer-history-checkpoint", daemon=True
            )
            self._checkpointer.start()
            self._writer = LoopThread("dialer-history")
            # Changes left to fold, or an upgraded file's digit totals to build: start on it.
            self._writer.call_soon(lambda: self._schedule_upkeep(_UPKEEP_IDLE))
            return self._writer

    # The writer's loop: jobs queue in _pending; one _flush per loop turn writes what queued
    # meanwhile as one transaction (group commit: a burst is one commit, and a job that
    # comes while a batch is written joins the next).

    def _enqueue(self, job: _Job) -> None:
        self._pending.append(job)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop = asyncio.get_running_loop()
            if self._grouping and time.monotonic() - self._last_write < _GROUP_WINDOW:
                loop.call_later(_GROUP_WINDOW, self._flush)
            else:
                loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending[:_BATCH_AT_MOST], self._pending[_BATCH_AT_MOST:]
        if self._pending:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        if not batch:
            return
        self._grouping = len(batch) > 1
        outcomes = self._write(batch)
        self._committed.set()
        self._last_write = time.monotonic()
        if self._waiting > _CHANGES_AT_MOST:
            self._upkeep_step()  # writes come without a pause: fold as they come
        self._schedule_upkeep(_UPKEEP_IDLE)
        # One wake-up per loop and batch, not one per row: a burst is one callback.
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        told: dict[asyncio.AbstractEventLoop, list[CallRecord]] = {}
        home = self._listener_loop
        for job, outcome, error in outcomes:
            by_loop.setdefault(job.loop, []).append((job.future, outcome, error))
            if error is None and outcome is not None:
                told.setdefault(home or job.loop, []).append(outcome)
        for loop in told.keys() - by_loop.keys():
            by_loop[loop] = []  # the listeners' loop, where no caller waits
        here = asyncio.get_running_loop()
        for loop, settled in by_loop.items():
            if loop is here:  # the receiver's own requests: no need to wake the loop
                here.call_soon(self._settle, told.get(loop, []), settled)
                continue
            # A closed loop has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._settle, told.get(loop, []), settled)

    # Upkeep (folding the changes to the digit totals, building them in an upgraded file):
    # one step at a time on the writer's loop, once no write came for _UPKEEP_IDLE seconds;
    # a write that comes meanwhile goes first (its _flush queues ahead of the next step).

    def _schedule_upkeep(self, delay: float) -> None:
        if self._upkeep is None and not self._closed:
            loop = asyncio.get_running_loop()
            self._upkeep = loop.call_later(delay, self._keep_up)

    def _keep_up(self) -> None:
        self._upkeep = None
        idle = time.monotonic() - self._last_write
        if self._pending or idle < _UPKEEP_IDLE:
            self._schedule_upkeep(_UPKEEP_IDLE - idle)
        elif self._upkeep_step():
            self._schedule_upkeep(0)

    def _upkeep_step(self) -> bool:
        """One step of upkeep in a transaction of its own; whether more remains."""
        try:
            with self._db_lock, immediate_transaction(self._db) as db:
                more = digit_totals.step(db, digit_totals.STEP)
                self._waiting = digit_totals.waiting(db)
                self._building = digit_totals.building(db)
        except sqlite3.Error:
            # A busy file (another process writing) or a full disk: the changes wait, and
            # totals stay exact meanwhile; the next write schedules another try.
            logger.warning("Folding the digit totals failed; will try again", exc_info=True)
            return False
        return more

    def _drain(self, drained: threading.Event) -> None:
        """On the writer's loop at close: write everything still queued."""
        if self._upkeep is not None:
            self._upkeep.cancel()
            self._upkeep = None
        try:
            while self._pending:
                self._flush()
        finally:
            drained.set()

    def _write(
        self, batch: list[_Job]
    ) -> list[tuple[_Job, CallRecord | None, BaseException | None]]:
        """Run ``batch`` in one transaction; each job's outcome.

        The jobs run back to back first. Only when one of them fails is the batch rolled
        back and run again with each job in a savepoint, so that one failure spoils nothing
        else. (A savepoint per job on every batch would cost more than the jobs: the digits
        search index writes out what it holds at every savepoint.)
        """
        try:
            with self._db_lock, immediate_transaction(self._db) as db:
                tx = _Tx(db, self._search, self._building)
                results = [job.apply(tx) for job in batch]
                self._waiting += tx.finish()
        except Exception as exc:
            if len(batch) == 1:
                return [(batch[0], None, exc)]
        except BaseException as exc:
            return [(job, None, exc) for job in batch]
        else:
            return [(job, result, None) for job, result in zip(batch, results, strict=True)]
        outcomes: list[_Written] = []
        try:
            with self._db_lock, immediate_transaction(self._db) as db:
                tx = _Tx(db, self._search, self._building)
                for job in batch:
                    db.execute("SAVEPOINT job")
                    job_tx = _Tx(db, self._search, tx.building)
                    try:
                        result = job.apply(job_tx)
                    except Exception as exc:  # this job's error; the others commit
                        db.execute("ROLLBACK TO job")
                        db.execute("RELEASE job")
                        outcomes.append((job, None, exc))
                    else:
                        db.execute("RELEASE job")
                        tx.absorb(job_tx)
                        outcomes.append((job, result, None))
                self._waiting += tx.finish()
        except BaseException as exc:  # the commit failed: nothing of the batch is stored
            outcomes = [(job, None, exc) for job in batch]
        return outcomes

    def _checkpoint(self) -> None:
        """Checkpoint the log at most every ``_CHECKPOINT_EVERY`` seconds while the writer
        commits (PASSIVE: it never blocks the writer or a reader)."""
        db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=5000")
            while True:
                self._committed.wait()
                if self._stopping.is_set():
                    return
                self._committed.clear()
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    logger.exception("Checkpointing the call history failed")
                if self._stopping.wait(_CHECKPOINT_EVERY):
                    return
        finally:
            db.close()

    def _settle(self, changed: list[CallRecord], settled: list[_Outcome]) -> None:
        # Listeners first: when a caller on the listeners' loop resumes, the window already
        # shows its change.
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

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """This thread's reader inside one read transaction: a query planned from one
        statement's answer (a count, the agents) and run by the next sees the same data."""
        db = self._reader()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def page(
        self, query: HistoryQuery, *, after: PageKey | None = None, limit: int = 200
    ) -> list[CallRecord]:
        order = _Order(_SORT_SQL[query.sort], query.descending, after, limit)
        with self._snapshot() as db:
            rowids, params = _page_rowids(db, query, order, self._search)
            # The rows themselves are read by rowid once the page is known: a sort of many
            # matches moves their rowids, not whole rows.
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM calls WHERE rowid IN ({rowids}) "
                f"ORDER BY +{order.sql} {order.direction}, id {order.direction}",
                params,
            ).fetchall()
        return [_record(row) for row in rows]

    def page_key(self, query: HistoryQuery, record: CallRecord) -> PageKey:
        return (sort_value(query.sort, record), record.id)

    def totals(self, query: HistoryQuery) -> HistoryTotals:
        with self._snapshot() as db:
            row = _totals(db, query, self._search)
        return HistoryTotals(
            calls=row[0],
            answered=row[1],
            talk_seconds=row[2],
            billed_seconds=row[3],
            charge=float(row[4]),
        )

    def iter_records(self, query: HistoryQuery) -> Iterator[CallRecord]:
        return records_in_pages(self, query)

    def open_calls(self, *, provider: str | None = None) -> list[CallRecord]:
        # Through the index of open calls, always: without statistics SQLite would rather
        # walk every call in created order than sort the few open ones (15-35 ms at
        # 100,000 calls, on the window's loop as the tracker starts).
        sql = f"SELECT {_COLUMNS} FROM calls INDEXED BY calls_open WHERE is_open = 1"
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
        """How many calls the history holds (from the per-day totals: no table scan)."""
        row = self._reader().execute("SELECT COALESCE(SUM(calls), 0) FROM call_days").fetchone()
        return int(row[0])

    def recent_calls(
        self, *, account: str, since: float, limit: int, agent: str | None = None
    ) -> list[tuple[str, float]]:
        # The (account, created_at) index: at most `limit` rows read, newest first.
        sql = (
            "SELECT id, created_at FROM calls WHERE account = ? AND created_at >= ? "
            "AND origin = 'app'"
        )
        params: list[Any] = [account, since]
        if agent is not None:
            sql += " AND agent = ?"
            params.append(agent)
        rows = (
            self._reader()
            .execute(sql + " ORDER BY created_at DESC LIMIT ?", (*params, limit))
            .fetchall()
        )
        return [(str(row[0]), float(row[1])) for row in rows]

    def account_names(self) -> list[str]:
        """From the per-day totals (a row per day, account and status: no table scan)."""
        rows = (
            self._reader()
            .execute("SELECT DISTINCT account FROM call_days WHERE calls > 0 ORDER BY account")
            .fetchall()
        )
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        with self._start_lock:
            self._closed = True
            writer, self._writer = self._writer, None
        if writer is not None:
            drained = threading.Event()
            with contextlib.suppress(RuntimeError):  # its loop is closed: nothing queued
                writer.loop.call_soon_threadsafe(self._drain, drained)
                drained.wait()
            writer.close()
        if self._checkpointer is not None:
            self._stopping.set()
            self._committed.set()
            self._checkpointer.join()
            self._checkpointer = None
        with self._reader_lock:
            for db in self._reader_list:
                db.close()
            self._reader_list.clear()
        with self._db_lock:
            self._db.close()


_Outcome = tuple["asyncio.Future[CallRecord]", CallRecord | None, BaseException | None]
_Written = tuple["_Job", CallRecord | None, BaseException | None]


@dataclass(frozen=True, slots=True)
class _Job:
    apply: Callable[[_Tx], CallRecord]
    future: asyncio.Future[CallRecord]
    loop: asyncio.AbstractEventLoop


@dataclass(slots=True)
class _Tx:
    """The writer's transaction as a job sees it: the connection, and what the transaction
    writes last: the changes to the digits search index (see ``_SEARCH_TABLE``), to the
    per-day totals and to the digit totals."""

    db: sqlite3.Connection
    search: bool  # whether the digits search index is kept
    building: bool = False  # whether the digit totals are being built (changes keep rowids)
    numbers: list[tuple[str, int, str]] = field(default_factory=list)  # (op, rowid, numbers)
    # (day, account, status) -> changes to [calls, answered, talk, billed, charge]
    days: dict[tuple[int, str, str], list[Any]] = field(default_factory=dict)
    # (call's rowid while building, numbers) -> the same changes, for the digit totals
    digits: dict[tuple[int | None, str], list[Any]] = field(default_factory=dict)

    def count(self, record: CallRecord, sign: int) -> None:
        """Add (1) or take away (-1) ``record`` from the per-day totals."""
        rules.add_share(
            self.days.setdefault(rules.day_key(record), rules.empty_share()), record, sign
        )

    def count_digits(
        self, record: CallRecord, sign: int, call: int | None, numbers: str | None = None
    ) -> None:
        """Add (1) or take away (-1) ``record`` from the digit totals (``call``: its rowid,
        needed only while they are being built; ``numbers``: its numbers column, if known)."""
        key = (call if self.building else None, numbers or rules.numbers_of(record))
        rules.add_share(self.digits.setdefault(key, rules.empty_share()), record, sign)

    def absorb(self, job: _Tx) -> None:
        """Take on what a job that committed (in its savepoint) left to do."""
        self.numbers += job.numbers
        _add_into(self.days, job.days)
        _add_into(self.digits, job.digits)

    def finish(self) -> int:
        """Write the per-day totals, the changes to the digit totals and the search index
        changes: last in the transaction, once per day and account and status (and per
        call), and never inside a savepoint. How many changes to the digit totals it wrote."""
        self.db.executemany(
            "INSERT INTO call_days VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
            + digit_totals.ADD_SUMS,
            [(*key, *sums) for key, sums in self.days.items() if any(sums)],
        )
        self.days.clear()
        written = digit_totals.record(
            self.db, [(call, numbers, *sums) for (call, numbers), sums in self.digits.items()]
        )
        self.digits.clear()
        for op, rowid, numbers in self.numbers:
            if op == "delete":
                self.db.execute(
                    "INSERT INTO calls_numbers (calls_numbers, rowid, numbers) "
                    "VALUES ('delete', ?, ?)",
                    (rowid, numbers),
                )
            else:
                self.db.execute(
                    "INSERT INTO calls_numbers (rowid, numbers) VALUES (?, ?)", (rowid, numbers)
                )
        self.numbers.clear()
        return written


def _add_into(sums: dict[Any, list[Any]], changes: dict[Any, list[Any]]) -> None:
    for key, change in changes.items():
        total = sums.setdefault(key, rules.empty_share())
        for n, value in enumerate(change):
            total[n] += value


def _insert_call(tx: _Tx, record: CallRecord) -> None:
    row = _row(record)
    rowid = tx.db.execute(_INSERT, row).lastrowid
    tx.count(record, 1)
    tx.count_digits(record, 1, rowid, row[_NUMBERS])
    if tx.search and rowid is not None:
        tx.numbers.append(("insert", rowid, row[_NUMBERS]))


def _prepare(db: sqlite3.Connection) -> None:
    db.create_function("history_digits", 1, digits_of, deterministic=True)


@functools.cache
def _trigram_supported() -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer (3.34 and later)."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
    except sqlite3.Error:
        return False
    finally:
        db.close()
    return True


def _prepare_number_search(db: sqlite3.Connection) -> bool:
    """Make the digits search index match what this SQLite can do; whether it is in use.

    Where this SQLite has no trigram tokenizer the index is marked out of date (this store
    will not keep it) and searches scan; a later open by a SQLite that has one rebuilds it
    from the table, once, in one transaction.
    """
    wanted = _trigram_supported()

    def current() -> bool:
        return bool(db.execute("SELECT current FROM number_search").fetchone() == (1,))

    if current() == wanted:
        return wanted
    with immediate_transaction(db):
        if wanted and not current():
            logger.info("Indexing the digits of every call for search")
            db.execute(_SEARCH_TABLE)
            db.execute("INSERT INTO calls_numbers (calls_numbers) VALUES ('rebuild')")
        db.execute("DELETE FROM number_search")
        db.execute("INSERT INTO number_search VALUES (?)", (int(wanted),))
    return wanted


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
    tx: _Tx,
    current: CallRecord,
    changes: Mapping[str, Any],
    source: str,
    detail: str,
    *,
    stored: bool = True,
) -> CallRecord:
    """Store ``current`` with ``changes`` as the rules apply them (``stored``: ``current``
    is the row as stored)."""
    applied = rules.applied_changes(current, changes, time.time())
    if applied is None:
        return current
    updated, changed = applied
    if stored:
        # Only the columns that changed: SQLite then leaves alone every index (and trigger)
        # that does not read them, and the row keeps its rowid (the search index's key).
        sql, columns = _update_of(changed)
        tx.db.execute(sql, (*_column_values(updated, columns), current.id))
        if not changed.isdisjoint(rules.DAY_TOTALS_FIELDS):
            tx.count(current, -1)
            tx.count(updated, 1)
        if not changed.isdisjoint(rules.DIGIT_TOTALS_FIELDS):
            call = None
            if tx.building:
                (found,) = tx.db.execute("SELECT rowid FROM calls WHERE id = ?", (current.id,))
                call = found[0]
            numbers = rules.numbers_of(current)
            tx.count_digits(current, -1, call, numbers)
            renumbered = "customer" in changed or "agent" in changed
            tx.count_digits(updated, 1, call, None if renumbered else numbers)
        if tx.search and _NUMBERS in columns:
            (rowid,) = tx.db.execute("SELECT rowid FROM calls WHERE id = ?", (current.id,))
            tx.numbers.append(("delete", rowid[0], _row(current)[_NUMBERS]))
            tx.numbers.append(("insert", rowid[0], _row(updated)[_NUMBERS]))
    else:
        _insert_call(tx, updated)
    if updated.status is not current.status:
        _add_timeline(
            tx.db, current.id, updated.updated_at, updated.status, source=source, detail=detail
        )
    return updated


@functools.lru_cache(maxsize=256)
def _update_of(changed: frozenset[str]) -> tuple[str, tuple[int, ...]]:
    """The UPDATE of the columns of ``changed`` fields (the derived ones with them, and
    ``updated_at``), and those columns' places in a row."""
    columns = tuple(
        n for n, column in enumerate(_ALL_COLUMNS)
        if column in changed or column == "updated_at"
        or not _DERIVED_FROM.get(column, frozenset()).isdisjoint(changed)
    )  # fmt: skip
    assignments = ", ".join(f"{_ALL_COLUMNS[n]} = ?" for n in columns)
    return f"UPDATE calls SET {assignments} WHERE id = ?", columns


def _ingest(tx: _Tx, report: ProviderReport) -> CallRecord:
    """Store a report as the rules say (see HistoryStore.ingest): the SQL of it only."""
    db = tx.db
    digest = rules.report_digest(report)
    seen = db.execute("SELECT call_id FROM reports WHERE digest = ?", (digest,)).fetchone()
    if seen is not None:
        stored = _get(db, seen[0])
        if stored is not None:
            return stored  # a repeated delivery: already applied once
    now = time.time()
    match = _match(db, report, now)
    if match is None:
        record = rules.call_from_report(report, now)
        _insert_call(tx, record)
        _add_timeline(db, record.id, now, record.status, source=report.source, detail=report.cause)
    else:
        changes = rules.report_changes(report, match)
        record = _change(tx, match, changes, report.source, report.cause)
    db.execute(
        "INSERT INTO reports (call_id, received_at, source, digest, body) VALUES (?, ?, ?, ?, ?)",
        (record.id, now, report.source, digest, report.body),
    )
    return record


def _match(db: sqlite3.Connection, report: ProviderReport, now: float) -> CallRecord | None:
    """The call a report belongs to: each step of the rules' matching order looked up."""
    allowed = report.allowed_accounts
    if report.call_id:
        found = _get(db, report.call_id)
        if found is not None and rules.named_call_matches(report, found):
            return found
        if rules.crosses_accounts(report, found):
            return None
    if report.provider_ref:
        among = ""
        params: tuple[str, ...] = ()
        if allowed is not None:
            among = f" AND account IN ({', '.join('?' * len(allowed))})"
            params = tuple(sorted(allowed))
        row = db.execute(
            f"SELECT {_COLUMNS} FROM calls WHERE provider = ? AND provider_ref = ?{among} "
            "ORDER BY created_at DESC LIMIT 1",
            (report.provider, report.provider_ref, *params),
        ).fetchone()
        if row is not None:
            return _record(row)
    rows = db.execute(
        "SELECT id, account, bridge, flow_id, customer, agent, created_at FROM calls "
        "WHERE is_open = 1 AND provider = ? ORDER BY created_at DESC LIMIT ?",
        (report.provider, rules.MATCH_WINDOW),
    ).fetchall()
    # Only the columns compared; the whole record of the one that matches.
    matched = rules.matching_call(report, map(rules.Candidate._make, rows), now)
    return _get(db, matched) if matched is not None else None
