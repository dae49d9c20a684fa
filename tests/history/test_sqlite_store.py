"""The SQLite history on real files: migrations, the one writer, matching reports to calls,
queries, totals and annotations."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from dialer.core.calls import CallStatus
from dialer.core.errors import ConfigError
from dialer.history import (
    CallOrigin,
    CallRecord,
    HistoryQuery,
    ProviderReport,
    SortKey,
    digit_totals,
    digits_of,
    sqlite_store,
)
from dialer.history.records import FINAL_STATUSES
from dialer.history.sqlite_store import MIGRATIONS, SCHEMA_VERSION, SqliteHistory, sort_value
from dialer.history.store import HistoryStore, final_record


def call(id: str, **fields: object) -> CallRecord:
    values: dict[str, object] = {
        "account": "a",
        "provider": "c2c-v2",
        "customer": "+918867135000",
        "agent": "+919876543210",
        "bridge": "918068280000",
        "created_at": 1_700_000_000.0,
    }
    values.update(fields)
    return CallRecord(id=id, **values)  # type: ignore[arg-type]


def report(**fields: object) -> ProviderReport:
    values: dict[str, object] = {
        "provider": "c2c-v2",
        "source": "webhook",
        "body": json.dumps(fields, sort_keys=True, default=str),
        "status": CallStatus.COMPLETED,
        "bridge": "918068280000",
        "agent": "919876543210",
        "customer": "918867135000",
    }
    values.update(fields)
    return ProviderReport(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> object:
    history = SqliteHistory(tmp_path / "calls.sqlite3")
    yield history
    history.close()


async def test_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    log = SqliteHistory(path)
    record = await log.insert(call("r1"))
    await log.amend(record, status=CallStatus.ACCEPTED, provider_ref="p1")
    log.close()
    again = SqliteHistory(path)
    stored = again.get("r1")
    assert stored is not None
    assert stored.status is CallStatus.ACCEPTED
    assert stored.provider_ref == "p1"
    assert [e.status for e in again.timeline("r1")] == [CallStatus.PLACING, CallStatus.ACCEPTED]
    again.close()


def test_a_first_release_call_log_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])  # type: ignore[arg-type]  # the first is SQL text
    db.execute(
        "INSERT INTO calls VALUES ('old1', 100.0, 101.0, 'acct', 'kazoo', '+1 415 555 0100', "
        "'+44 20 7946 0000', NULL, NULL, 'completed', 'ref', 'done', '', '{\"a\": 1}')"
    )
    db.execute(
        "INSERT INTO calls VALUES ('old2', 200.0, 201.0, 'acct', 'c2c-v2', NULL, "
        "'+91 88671 35000', '080 6828', NULL, 'accepted', NULL, '', '', '{}')"
    )
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    history = SqliteHistory(path)
    try:
        old1, old2 = history.get("old1"), history.get("old2")
        assert old1 is not None and old2 is not None
        assert old1.status is CallStatus.COMPLETED and old1.request == {"a": 1}
        assert old1.origin is CallOrigin.APP and old1.note == ""
        # Derived search columns were back-filled: digits, bridge, open calls.
        assert [r.id for r in history.page(HistoryQuery(digits="7946"))] == ["old1"]
        assert [r.id for r in history.page(HistoryQuery(agent="4155"))] == ["old1"]
        assert [r.id for r in history.page(HistoryQuery(bridge="0806828"))] == ["old2"]
        assert [r.id for r in history.open_calls()] == ["old2"]
        assert [e.status for e in history.timeline("old1")] == [CallStatus.COMPLETED]
    finally:
        history.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    check.close()


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="newer version"):
        SqliteHistory(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    path.write_bytes(b"not a database at all, just some text" * 100)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="not a call history"):
        SqliteHistory(path)
    assert path.read_bytes() == before


async def test_concurrent_writes_are_all_durable(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    log = SqliteHistory(path)
    records = [call(f"r{n:03}") for n in range(300)]
    await asyncio.gather(*(log.insert(r) for r in records))
    amended = await asyncio.gather(*(log.amend(r, status=CallStatus.ACCEPTED) for r in records))
    assert all(r.status is CallStatus.ACCEPTED for r in amended)
    log.close()
    again = SqliteHistory(path)
    stored = again.page(HistoryQuery(), limit=1000)
    assert len(stored) == 300
    assert {r.status for r in stored} == {CallStatus.ACCEPTED}
    again.close()


async def test_a_cancelled_writer_still_stores_its_row(tmp_path: Path) -> None:
    log = SqliteHistory(tmp_path / "calls.sqlite3")
    task = asyncio.create_task(log.insert(call("x")))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    log.close()  # drains the writer
    again = SqliteHistory(tmp_path / "calls.sqlite3")
    assert again.get("x") is not None
    again.close()


def batch_sizes(store: SqliteHistory, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the writer writes from now on."""
    sizes: list[int] = []
    write = store._write

    def counted(batch: list[sqlite_store._Job]) -> object:
        sizes.append(len(batch))
        return write(batch)

    monkeypatch.setattr(store, "_write", counted)
    return sizes


async def test_writes_from_many_callers_wait_for_each_other(
    store: SqliteHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the writer guarantees, whatever the scheduling: each write is durable (another
    connection reads it) when its await returns, every write is stored once, and writes
    queued while the writer is busy are committed together."""
    monkeypatch.setattr(sqlite_store, "_GROUP_WINDOW", 1.0)  # longer than the test needs
    sizes = batch_sizes(store, monkeypatch)

    async def durable_insert(id: str) -> None:
        await store.insert(call(id))
        check = sqlite3.connect(store.path)
        try:
            assert check.execute("SELECT COUNT(*) FROM calls WHERE id = ?", (id,)).fetchone() == (
                1,
            )
        finally:
            check.close()

    # Hold the writer's loop so that every caller has queued its write before it writes:
    # what queued meanwhile is one batch (a deterministic stand-in for a busy writer).
    busy, release = threading.Event(), threading.Event()

    def hold() -> None:
        busy.set()
        release.wait(30)

    store.writer_thread.call_soon(hold)
    await asyncio.to_thread(busy.wait, 30)
    queued = [asyncio.ensure_future(durable_insert(f"g{n}")) for n in range(1, 7)]
    await asyncio.sleep(0)  # each caller has run up to its await: its write is queued
    release.set()
    await asyncio.gather(*queued)
    assert sizes == [6]
    # Callers arriving one after another within the group window: how they are batched is
    # the scheduler's business; that each is stored, once and durably, is not.
    later = []
    for n in range(7, 11):
        later.append(asyncio.ensure_future(durable_insert(f"g{n}")))
        await asyncio.sleep(0.01)
    await asyncio.gather(*later)
    assert sum(sizes) == 10
    assert store.count() == 10
    assert sorted(r.id for r in store.page(HistoryQuery(), limit=100)) == sorted(
        f"g{n}" for n in range(1, 11)
    )


async def test_a_write_that_comes_alone_does_not_wait(
    store: SqliteHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "_GROUP_WINDOW", 600.0)  # waiting would hang the test
    sizes = batch_sizes(store, monkeypatch)
    for n in range(3):  # one caller, one write after another (calls placed by hand)
        await asyncio.wait_for(store.insert(call(f"a{n}")), 10)
    assert sizes == [1, 1, 1]


async def test_one_failing_write_spoils_nothing_else_in_its_batch(store: SqliteHistory) -> None:
    await store.insert(call("dup"))
    results = await asyncio.gather(
        store.insert(call("a1")),
        store.insert(call("dup")),  # primary key taken
        store.insert(call("a2")),
        return_exceptions=True,
    )
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert store.get("a1") is not None and store.get("a2") is not None


async def test_write_errors_reach_the_caller(store: SqliteHistory) -> None:
    store._db.execute(
        "CREATE TRIGGER no_inserts BEFORE INSERT ON calls "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    with pytest.raises(sqlite3.DatabaseError, match="disk says no"):
        await store.insert(call("x"))


async def test_a_server_on_the_writer_loop_writes_and_listeners_hear_on_their_own_loop(
    store: SqliteHistory,
) -> None:
    """The window's arrangement: the webhook receiver serves from the writer's loop while
    the window writes from its own; listeners are told on the window's loop either way."""
    here = threading.get_ident()
    heard: list[tuple[str, int]] = []
    all_told = asyncio.Event()

    def told(record: CallRecord) -> None:
        heard.append((record.id, threading.get_ident()))
        if len(heard) == 40:
            all_told.set()

    store.add_listener(told)
    store.call_listeners_on(asyncio.get_running_loop())

    async def on_writer_loop(n: int) -> threading.Thread:
        await store.insert(call(f"w{n:02}"))
        return threading.current_thread()

    written = await asyncio.gather(
        *(store.writer_thread.run(on_writer_loop(n)) for n in range(20)),
        *(store.insert(call(f"m{n:02}")) for n in range(20)),
    )
    assert {thread.name for thread in written[:20]} == {"dialer-history"}  # type: ignore[attr-defined]
    async with asyncio.timeout(10):  # the writer loop's callers may resume before ours is told
        await all_told.wait()
    assert sorted(id for id, _ in heard) == sorted(
        [f"w{n:02}" for n in range(20)] + [f"m{n:02}" for n in range(20)]
    )
    assert {thread for _, thread in heard} == {here}
    assert len(store.page(HistoryQuery(), limit=100)) == 40


async def test_close_writes_every_write_already_submitted(tmp_path: Path) -> None:
    log = SqliteHistory(tmp_path / "calls.sqlite3")
    tasks = [asyncio.create_task(log.insert(call(f"c{n:03}"))) for n in range(200)]
    await asyncio.sleep(0)  # each has submitted its write; none has been answered
    for task in tasks:
        task.cancel()
    log.close()
    with pytest.raises(RuntimeError, match="closed"):
        await log.insert(call("late"))
    again = SqliteHistory(tmp_path / "calls.sqlite3")
    assert len(again.page(HistoryQuery(), limit=1000)) == 200
    again.close()


# Matching reports, deduplication, what a report changes, queries and totals: the rules
# every backend follows, tested on each in test_history_contract.py.


async def filled(store: HistoryStore) -> None:
    rows = [
        call("c1", created_at=10.0, account="east", status=CallStatus.COMPLETED, talk_seconds=30,
             answered=True, billed_seconds=60, charge=1.5),
        call("c2", created_at=20.0, account="west", status=CallStatus.BUSY, answered=False,
             customer="+14155550100"),
        call("c3", created_at=30.0, account="east", status=CallStatus.COMPLETED, talk_seconds=90,
             answered=True, billed_seconds=120, charge=2.0, agent="+919000000001"),
        call("c4", created_at=40.0, account="east", status=CallStatus.NO_ANSWER, answered=False,
             bridge="Sales line"),
    ]  # fmt: skip
    for row in rows:
        await store.insert(row)


# -- a history that stays fast: plans, the digits index, the per-day totals --------------------

DAY = 86_400.0
START = 1_700_000_000.0 - 1_700_000_000.0 % DAY  # a UTC midnight


def varied_calls(count: int, seed: int) -> list[CallRecord]:
    """Calls over ten days with every filter's column varied (few values, so they repeat)."""
    rng = random.Random(seed)
    statuses = [CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.NO_ANSWER, CallStatus.ACCEPTED]
    bridges = ["918068280000", "918068281111", "Sales line", None]
    records = []
    for n in range(count):
        status = rng.choice(statuses)
        answered = status is CallStatus.COMPLETED
        talk = rng.randrange(1, 300) if answered else None
        records.append(
            call(
                f"v{n:04d}",
                created_at=START + rng.random() * 10 * DAY,
                account=rng.choice(["east", "west", "north"]),
                status=status,
                customer=rng.choice(["+91 88671 35", "+44 20 7946 0", "+1 415 555 01"])
                + f"{rng.randrange(100):02d}",
                agent=rng.choice(["+919876543210", "+919000000001", "+14155550100", None]),
                bridge=rng.choice(bridges),
                answered=answered if status is not CallStatus.ACCEPTED else None,
                talk_seconds=talk,
                billed_seconds=60 * (talk // 60 + 1) if talk else None,
                charge=rng.choice([None, 0.25, 1.5]),
                disposition=rng.choice(["", "", "Sale", "Callback"]),
            )
        )
    return records


async def varied_store(path: Path, count: int = 240, seed: int = 5) -> SqliteHistory:
    """A store filled by every kind of write: inserts, amends, reports, annotations."""
    store = SqliteHistory(path)
    records = varied_calls(count, seed)
    await asyncio.gather(*(store.insert(r) for r in records))
    rng = random.Random(seed)
    for record in rng.sample(records, count // 4):
        if record.status is CallStatus.ACCEPTED:
            await store.ingest(report(call_id=record.id, talk_seconds=42, answered=True,
                                      billed_seconds=60, charge=0.5, cause="ANSWER"))  # fmt: skip
        else:
            await store.amend(record, status=CallStatus.FAILED, talk_seconds=None, charge=2.0)
    for record in rng.sample(records, count // 10):
        await store.annotate(record.id, disposition="Follow-up")
    await store.ingest(report(customer="14155550199", account="west", started_at=START + DAY))
    return store


def queries(rng: random.Random) -> list[HistoryQuery]:
    """Single filters and combinations of them, under every order."""
    filters: list[dict[str, object]] = [
        {},
        {"since": START + 2.5 * DAY},
        {"until": START + 7 * DAY},
        {"since": START + 3 * DAY, "until": START + 5 * DAY},  # whole days
        {"since": START + 1.3 * DAY, "until": START + 8.7 * DAY},  # partial days at both ends
        {"since": START + 4.2 * DAY, "until": START + 4.9 * DAY},  # within a day
        {"accounts": ("east",)},
        {"accounts": ("east", "north")},
        {"statuses": (CallStatus.BUSY,)},
        {"statuses": (CallStatus.COMPLETED, CallStatus.FAILED, CallStatus.ACCEPTED)},
        {"agent": "919876543210"},
        {"agent": "0000"},  # digits several agents share
        {"agent": "5555"},  # digits no agent has
        {"bridge": "918068280000"},
        {"bridge": "80682"},
        {"bridge": "Sales line"},
        {"digits": "7946"},
        {"digits": "41"},  # too short for the trigram index
        {"digits": "0000000"},
        {"accounts": ("west",), "statuses": (CallStatus.BUSY, CallStatus.NO_ANSWER)},
        {"agent": "919000000001", "digits": "8867", "since": START + 2 * DAY},
        {"bridge": "80682", "accounts": ("east",), "until": START + 6.5 * DAY},
    ]
    return [
        HistoryQuery(**fields, sort=rng.choice(list(SortKey)), descending=rng.random() < 0.5)  # type: ignore[arg-type]
        for fields in filters
        for _ in range(2)
    ]


def expected_ids(everything: list[CallRecord], query: HistoryQuery) -> list[str]:
    matching = [r for r in everything if query.matches(r)]
    matching.sort(key=lambda r: (sort_value(query.sort, r), r.id), reverse=query.descending)
    return [r.id for r in matching]


def paged_ids(store: SqliteHistory, query: HistoryQuery, size: int) -> list[str]:
    ids: list[str] = []
    after = None
    while page := store.page(query, after=after, limit=size):
        ids.extend(r.id for r in page)
        after = store.page_key(query, page[-1])
        assert len(ids) <= store.count(), "paging does not move on"
    return ids


@pytest.fixture(params=["as shipped", "tiny thresholds", "no trigram index"])
def plans(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every plan the store can choose, at a size a test can afford: with tiny thresholds a
    few matches are already "many" (walks of the order's index, merges, substring scans)."""
    if request.param == "tiny thresholds":
        monkeypatch.setattr(sqlite_store, "_SORT_AT_MOST", 3)
        monkeypatch.setattr(sqlite_store, "_COUNT_AT_MOST", 3)
        monkeypatch.setattr(sqlite_store, "_MERGE_AT_MOST", 2)
        monkeypatch.setattr(sqlite_store, "_DISTINCT_AT_MOST", 2)
    if request.param == "no trigram index":
        monkeypatch.setattr(sqlite_store, "_trigram_supported", lambda: False)
    return str(request.param)


async def test_every_plan_pages_and_totals_what_the_query_matches(
    tmp_path: Path, plans: str
) -> None:
    store = await varied_store(tmp_path / "calls.sqlite3")
    try:
        everything = list(store.iter_records(HistoryQuery()))
        assert len(everything) == store.count() == 241
        for query in queries(random.Random(plans)):
            expected = expected_ids(everything, query)
            assert paged_ids(store, query, 7) == expected, query
            assert [r.id for r in store.page(query, limit=5)] == expected[:5], query
            assert_totals_of(store, everything, query)
    finally:
        store.close()


def assert_totals_of(
    store: SqliteHistory, everything: list[CallRecord], query: HistoryQuery
) -> None:
    """The store's totals for ``query`` are those of the calls it matches."""
    matching = [r for r in everything if query.matches(r)]
    totals = store.totals(query)
    assert totals.calls == len(matching), query
    assert totals.answered == sum(1 for r in matching if r.answered), query
    assert totals.talk_seconds == sum(r.talk_seconds or 0 for r in matching), query
    assert totals.billed_seconds == sum(r.billed_seconds or 0 for r in matching), query
    assert totals.charge == pytest.approx(sum(r.charge or 0 for r in matching)), query


def per_day_totals_match_the_calls(path: Path) -> None:
    """What the writer keeps (per-day totals, digit totals, the digits index) is what the
    calls hold."""
    db = sqlite3.connect(path)
    try:
        kept = db.execute(
            "SELECT day, account, status, calls, answered, talk_seconds, billed_seconds, "
            "round(charge, 6) FROM call_days WHERE calls != 0 ORDER BY 1, 2, 3"
        ).fetchall()
        counted = db.execute(
            "SELECT CAST(created_at / 86400 AS INTEGER), account, status, COUNT(*), "
            "COALESCE(SUM(answered), 0), COALESCE(SUM(talk_seconds), 0), "
            "COALESCE(SUM(billed_seconds), 0), round(COALESCE(SUM(charge), 0), 6) "
            "FROM calls GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
        assert kept == counted
        if not digit_totals.building(db):
            # Kept digit totals plus the changes not yet folded: the calls, counted again.
            calls = db.execute(
                "SELECT numbers, 1, COALESCE(answered, 0), COALESCE(talk_seconds, 0), "
                "COALESCE(billed_seconds, 0), COALESCE(charge, 0) FROM calls"
            ).fetchall()
            recounted = digit_totals.sums_by_run(calls)
            kept_runs = {row[0] for row in db.execute("SELECT digits FROM digit_totals")}
            for run in recounted.keys() | kept_runs:
                got = digit_totals.totals(db, run)
                assert got is not None
                want = recounted.get(run, [0, 0, 0, 0, 0.0])
                assert got[:4] == tuple(want[:4]), run
                assert got[4] == pytest.approx(want[4]), run
        if db.execute("SELECT current FROM number_search").fetchone() == (1,):
            # FTS5 compares its index with the table: raises if they differ.
            db.execute(
                "INSERT INTO calls_numbers (calls_numbers, rank) VALUES ('integrity-check', 1)"
            )
    finally:
        db.close()


async def test_the_writer_keeps_its_derived_data_through_failures(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    store = await varied_store(path)
    first = store.get("v0001")
    assert first is not None
    # Hold the writer in a job of its own so that the next four share one transaction.
    gate = threading.Event()

    def held(tx: sqlite_store._Tx) -> CallRecord:
        gate.wait(10)
        return first

    holding = asyncio.ensure_future(store._submit(held))
    await asyncio.sleep(0.05)
    batch = asyncio.gather(
        store.insert(call("fresh-1", customer="+91 99999 11111", created_at=START)),
        store.insert(replace(first, customer="+91 99999 22222")),  # its id is taken
        store.amend(first, customer="+91 99999 33333", agent="+447700900123"),
        store.insert(call("fresh-2", customer="+91 99999 44444", status=CallStatus.BUSY)),
        return_exceptions=True,
    )
    await asyncio.sleep(0.05)
    gate.set()
    await holding
    results = await batch
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert not any(isinstance(r, BaseException) for r in (results[0], results[2], results[3]))
    assert store.page(HistoryQuery(digits="9999922222")) == []  # the failed insert left nothing
    assert [r.id for r in store.page(HistoryQuery(digits="9999933333"))] == ["v0001"]
    before = HistoryQuery(digits=digits_of(first.customer))
    assert "v0001" not in {r.id for r in store.page(before)}  # its old number no longer finds it
    assert [r.id for r in store.page(HistoryQuery(agent="447700900123"))] == ["v0001"]
    assert store.count() == 243
    store.close()
    per_day_totals_match_the_calls(path)


async def test_the_digits_index_is_rebuilt_after_writes_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "calls.sqlite3"
    store = await varied_store(path)
    store.close()
    # An older SQLite (no trigram tokenizer) opens the file: searches scan, writes go on.
    monkeypatch.setattr(sqlite_store, "_trigram_supported", lambda: False)
    old = SqliteHistory(path)
    await old.insert(call("written-without", customer="+91 77777 12345", created_at=START))
    assert [r.id for r in old.page(HistoryQuery(digits="7777712345"))] == ["written-without"]
    old.close()
    monkeypatch.undo()
    again = SqliteHistory(path)  # the index is rebuilt: the call written meanwhile is in it
    try:
        assert [r.id for r in again.page(HistoryQuery(digits="7777712345"))] == ["written-without"]
    finally:
        again.close()
    per_day_totals_match_the_calls(path)


async def test_a_first_release_file_gets_its_totals_and_digits_index(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])  # type: ignore[arg-type]  # the first is SQL text
    for n in range(30):
        db.execute(
            "INSERT INTO calls VALUES (?, ?, ?, 'acct', 'c2c-v2', '+91 98765 43210', ?, "
            "'918068280000', NULL, ?, NULL, '', '', '{}')",
            (f"old{n}", START + n * 20_000.0, START, f"+44 20 7946 {n:04d}",
             "completed" if n % 3 else "busy"),
        )  # fmt: skip
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    history = SqliteHistory(path)
    try:
        assert history.count() == 30
        assert history.totals(HistoryQuery(statuses=(CallStatus.BUSY,))).calls == 10
        # Calls every 20,000 s: old5 (100,000 s) to old12 (240,000 s) are in days 1 and 2.
        assert history.totals(HistoryQuery(since=START + DAY, until=START + 3 * DAY)).calls == 8
        assert [r.id for r in history.page(HistoryQuery(digits="79460017"))] == ["old17"]
        assert len(history.page(HistoryQuery(agent="9876543210"))) == 30
    finally:
        history.close()
    per_day_totals_match_the_calls(path)


def plan_of(store: SqliteHistory, query: HistoryQuery) -> str:
    db = store._reader()
    order = sqlite_store._Order(sqlite_store._SORT_SQL[query.sort], query.descending, None, 200)
    sql, params = sqlite_store._page_rowids(db, query, order, store._search)
    return "\n".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))


async def test_single_filters_read_an_index_in_created_order(tmp_path: Path) -> None:
    store = await varied_store(tmp_path / "calls.sqlite3")
    try:
        walks = {
            "calls_by_created": HistoryQuery(since=START + DAY),
            "calls_by_account_created": HistoryQuery(accounts=("east",)),
            "calls_by_status_created": HistoryQuery(statuses=(CallStatus.BUSY,)),
            "calls_by_agent_created": HistoryQuery(agent="919876543210"),
            "calls_by_bridge_created": HistoryQuery(bridge="918068280000"),
        }
        for index, query in walks.items():
            plan = plan_of(store, query)
            assert index in plan and "TEMP B-TREE" not in plan, (query, plan)
        # Several values: one ordered walk per value, merged; still no sort.
        plan = plan_of(store, HistoryQuery(statuses=(CallStatus.BUSY, CallStatus.COMPLETED)))
        assert "MERGE" in plan and "TEMP B-TREE" not in plan, plan
        # Digits few calls have: through the trigram index, never a scan of the table.
        plan = plan_of(store, HistoryQuery(digits="79460"))
        assert "calls_numbers" in plan and "SCAN calls\n" not in plan + "\n", plan
    finally:
        store.close()


async def test_the_log_is_checkpointed_while_the_store_is_open(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    store = SqliteHistory(path)
    try:
        await asyncio.gather(*(store.insert(call(f"w{n:03d}")) for n in range(300)))
        await store.insert(call("last"))
        # The database file alone (its log ignored) holds the calls once a checkpoint ran:
        # the checkpointer's, as the writer's own comes only after thousands of pages.
        seen = None
        for _ in range(100):
            await asyncio.sleep(0.05)
            file_only = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
            try:
                seen = file_only.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
            except sqlite3.DatabaseError:
                seen = None  # caught mid-copy: look again
            finally:
                file_only.close()
            if seen == 301:
                break
        assert seen == 301
    finally:
        store.close()


async def test_final_record_waits_for_the_outcome(store: SqliteHistory) -> None:
    with pytest.raises(KeyError):
        await final_record(store, "nobody", 1)
    placed = await store.insert(call("w1", status=CallStatus.ACCEPTED))
    with pytest.raises(TimeoutError):
        await final_record(store, "w1", 0.05)  # still open
    waiting = asyncio.ensure_future(final_record(store, "w1", 10))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await store.amend(placed, status=CallStatus.BUSY)
    assert (await waiting).status is CallStatus.BUSY
    assert (await final_record(store, "w1", 0)).status is CallStatus.BUSY  # final already
    assert store.listeners == []  # each wait took its listener away


async def test_the_write_ahead_log_stays_small_under_a_stream_of_single_reports(
    tmp_path: Path,
) -> None:
    # One report at a time, as a receiver stores them: the log starts over as it goes (it
    # grew to 80 MB beside a 2 MB file in 1,000 reports, and never shrank).
    path = tmp_path / "calls.sqlite3"
    history = SqliteHistory(path)
    try:
        biggest = 0
        for n in range(300):
            await history.ingest(report(provider_ref=f"r{n}", customer=f"9188671{n:05d}"))
            biggest = max(biggest, os.stat(f"{path}-wal").st_size)
    finally:
        history.close()
    assert biggest <= 2 * 1024 * 1024, biggest


async def test_the_open_calls_are_read_through_their_own_index(tmp_path: Path) -> None:
    """The tracker reads the open calls as it starts: the few in their index, never a walk
    of every call in the history."""
    store = await varied_store(tmp_path / "calls.sqlite3")
    try:
        db = store._reader()
        for provider in (None, "c2c-v2"):
            statements: list[str] = []
            db.set_trace_callback(statements.append)
            try:
                found = store.open_calls(provider=provider)
            finally:
                db.set_trace_callback(None)
            [statement] = statements
            plan = "\n".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {statement}"))
            assert "calls_open" in plan and "calls_by_created" not in plan, plan
            assert [r.created_at for r in found] == sorted(r.created_at for r in found)
            assert found and all(r.status not in FINAL_STATUSES for r in found)
    finally:
        store.close()
