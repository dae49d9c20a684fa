"""The SQLite history on real files: migrations, the one writer, matching reports to calls,
queries, totals and annotations."""

from __future__ import annotations

import asyncio
import json
import sqlite3
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
)
from dialer.history.sqlite_store import MIGRATIONS, SCHEMA_VERSION, SqliteHistory


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
    db.executescript(MIGRATIONS[0])
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


async def test_listeners_hear_every_change_before_the_writer_returns(
    store: SqliteHistory,
) -> None:
    heard: list[tuple[str, CallStatus]] = []
    store.listeners.append(lambda r: heard.append((r.id, r.status)))
    record = await store.insert(call("c1"))
    assert heard == [("c1", CallStatus.PLACING)]
    await store.amend(record, status=CallStatus.ACCEPTED)
    await store.ingest(report(call_id="c1"))
    assert heard[1:] == [("c1", CallStatus.ACCEPTED), ("c1", CallStatus.COMPLETED)]


# -- matching reports to calls ------------------------------------------------------------


async def test_a_report_naming_our_reference_updates_that_call(store: SqliteHistory) -> None:
    await store.insert(call("mine", status=CallStatus.ACCEPTED))
    await store.insert(call("newer", status=CallStatus.ACCEPTED, created_at=1_700_000_100.0))
    stored = await store.ingest(
        report(call_id="mine", talk_seconds=23, agent_seconds=30, answered=True, cause="ANSWER")
    )
    assert stored.id == "mine"
    assert stored.status is CallStatus.COMPLETED
    assert (stored.talk_seconds, stored.agent_seconds, stored.answered) == (23, 30, True)
    assert store.get("newer").status is CallStatus.ACCEPTED  # type: ignore[union-attr]
    assert [r.source for r in store.reports("mine")] == ["webhook"]
    assert store.timeline("mine")[-1].detail == "ANSWER"


async def test_bridge_and_legs_match_the_newest_open_call(store: SqliteHistory) -> None:
    await store.insert(call("older", status=CallStatus.ACCEPTED, created_at=1.0))
    await store.insert(call("newest", status=CallStatus.ACCEPTED, created_at=3.0))
    await store.insert(call("done", status=CallStatus.COMPLETED, created_at=4.0))
    await store.insert(call("other-leg", customer="+14155550100", created_at=5.0))
    first = await store.ingest(report(reported_at=1.0))
    second = await store.ingest(report(reported_at=2.0))
    assert (first.id, second.id) == ("newest", "older")


async def test_a_flow_report_matches_the_flow_call(store: SqliteHistory) -> None:
    await store.insert(call("agent-call", status=CallStatus.ACCEPTED))
    await store.insert(call("flow-call", agent=None, flow_id="220", status=CallStatus.ACCEPTED))
    stored = await store.ingest(
        report(agent="918867135000", customer="flow:220", status=CallStatus.COMPLETED)
    )
    assert stored.id == "flow-call"


async def test_a_report_matching_nothing_is_a_call_placed_outside(store: SqliteHistory) -> None:
    stored = await store.ingest(
        report(customer="14155550100", account="a", started_at=1234.0, talk_seconds=9)
    )
    assert stored.origin is CallOrigin.OUTSIDE
    assert stored.customer == "14155550100" and stored.created_at == 1234.0
    assert stored.talk_seconds == 9
    assert store.page(HistoryQuery(digits="4155550100"))[0].id == stored.id


async def test_a_repeated_delivery_changes_nothing(store: SqliteHistory) -> None:
    first = await store.ingest(report(customer="14155550100", reported_at=5.0))
    again = await store.ingest(report(customer="14155550100", reported_at=5.0))
    assert again.id == first.id
    assert store.count() == 1
    assert len(store.reports(first.id)) == 1


async def test_a_late_progress_step_never_reopens_a_finished_call(store: SqliteHistory) -> None:
    record = await store.insert(call("c"))
    await store.ingest(report(call_id="c", status=CallStatus.BUSY))
    late = await store.amend(record, status=CallStatus.ACCEPTED, provider_ref="p9")
    assert late.status is CallStatus.BUSY
    assert late.provider_ref == "p9"
    assert store.open_calls() == []


# -- queries --------------------------------------------------------------------------------


async def filled(store: SqliteHistory) -> None:
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


async def test_filters(store: SqliteHistory) -> None:
    await filled(store)

    def ids(**query: object) -> list[str]:
        return [r.id for r in store.page(HistoryQuery(**query))]  # type: ignore[arg-type]

    assert ids() == ["c4", "c3", "c2", "c1"]
    assert ids(since=20.0, until=40.0) == ["c3", "c2"]
    assert ids(accounts=("west",)) == ["c2"]
    assert ids(statuses=(CallStatus.COMPLETED, CallStatus.BUSY)) == ["c3", "c2", "c1"]
    assert ids(digits="555-0100") == ["c2"]
    assert ids(digits="9000000001") == ["c3"]  # the agent's number counts too
    assert ids(agent="9000000001") == ["c3"]
    assert ids(agent="8867135000") == []  # a customer's digits are not an agent's
    assert ids(bridge="Sales line") == ["c4"]
    assert ids(bridge="80682") == ["c3", "c2", "c1"]
    for query in (HistoryQuery(accounts=("east",)), HistoryQuery(digits="4155")):
        stored = store.page(query)
        assert all(query.matches(r) for r in stored)
        assert not any(query.matches(r) for r in store.page(HistoryQuery()) if r not in stored)


async def test_every_sort_pages_without_gaps_or_repeats(store: SqliteHistory) -> None:
    await filled(store)
    for key in SortKey:
        for descending in (True, False):
            query = HistoryQuery(sort=key, descending=descending)
            whole = [r.id for r in store.page(query)]
            paged: list[str] = []
            after = None
            while True:
                page = store.page(query, after=after, limit=1)
                if not page:
                    break
                paged.extend(r.id for r in page)
                after = store.page_key(query, page[-1])
            assert paged == whole, (key, descending)
            assert sorted(whole) == ["c1", "c2", "c3", "c4"]
    talk = [r.id for r in store.page(HistoryQuery(sort=SortKey.TALK))]
    assert talk[:2] == ["c3", "c1"]


async def test_totals(store: SqliteHistory) -> None:
    await filled(store)
    totals = store.totals(HistoryQuery(accounts=("east",)))
    assert (totals.calls, totals.answered, totals.talk_seconds) == (3, 2, 120)
    assert (totals.billed_seconds, totals.charge) == (180, 3.5)
    assert totals.answered_rate == pytest.approx(2 / 3)
    assert totals.average_talk_seconds == 60
    empty = store.totals(HistoryQuery(accounts=("nobody",)))
    assert (empty.calls, empty.answered_rate, empty.average_talk_seconds) == (0, 0.0, 0.0)


async def test_export_reads_everything_in_order(store: SqliteHistory) -> None:
    await asyncio.gather(
        *(store.insert(call(f"y{n:05}", created_at=float(n))) for n in range(2500))
    )
    ids = [r.id for r in store.iter_records(HistoryQuery(descending=False))]
    assert ids == [f"y{n:05}" for n in range(2500)]


async def test_notes_and_dispositions(store: SqliteHistory) -> None:
    await filled(store)
    annotated = await store.annotate("c2", note="Call back Monday", disposition="Callback")
    assert (annotated.note, annotated.disposition) == ("Call back Monday", "Callback")
    assert annotated.status is CallStatus.BUSY
    again = await store.annotate("c2", disposition="Sale")
    assert (again.note, again.disposition) == ("Call back Monday", "Sale")
    assert store.page(HistoryQuery(sort=SortKey.DISPOSITION), limit=1)[0].id == "c2"
    with pytest.raises(KeyError):
        await store.annotate("nope", note="x")
