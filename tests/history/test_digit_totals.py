"""Totals of searches for one to three digits, kept per run of digits: exact before and after
the writer folds its changes in, folded when idle and under load, and built step by step in a
file upgraded from schema 3 while writes go on."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

import pytest

from dialer.core.calls import CallStatus
from dialer.history import CallRecord, HistoryQuery, digit_totals, digits_of, sqlite_store
from dialer.history.sqlite_store import SqliteHistory
from tests.history.test_sqlite_store import (
    START,
    assert_totals_of,
    call,
    per_day_totals_match_the_calls,
    report,
    varied_store,
)


def runs_in(records: list[CallRecord]) -> list[str]:
    """Every run of one to three digits the calls' numbers hold, and a few nobody has."""
    found: set[str] = set()
    for record in records:
        found |= digit_totals.runs_of(f"{digits_of(record.customer)} {digits_of(record.agent)}")
    absent = [f"{n:03d}" for n in range(1000) if f"{n:03d}" not in found][:3]
    return sorted(found) + absent


def assert_totals_exact(store: SqliteHistory, needles: list[str]) -> None:
    everything = list(store.iter_records(HistoryQuery()))
    for needle in needles:
        assert_totals_of(store, everything, HistoryQuery(digits=needle))


def waiting(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return digit_totals.waiting(db)
    finally:
        db.close()


def kept_runs(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM digit_totals").fetchone()[0])
    finally:
        db.close()


def fold_all(store: SqliteHistory) -> None:
    while store._upkeep_step():
        pass


@pytest.fixture
def no_idle_upkeep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer never folds on its own: the test decides when."""
    monkeypatch.setattr(sqlite_store, "_UPKEEP_IDLE", 3600.0)


@pytest.mark.usefixtures("no_idle_upkeep")
async def test_totals_are_exact_with_the_changes_unfolded_then_folded(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    store = await varied_store(path)
    try:
        needles = runs_in(list(store.iter_records(HistoryQuery())))
        assert waiting(path) > 200 and kept_runs(path) == 0  # every write is still a change
        assert_totals_exact(store, needles)
        fold_all(store)
        assert waiting(path) == 0 and kept_runs(path) > 100  # now all in the kept totals
        assert_totals_exact(store, needles)
        db = sqlite3.connect(path)
        try:  # and they are read from there: one row, nothing waiting
            (kept,) = db.execute("SELECT calls FROM digit_totals WHERE digits = '946'").fetchone()
        finally:
            db.close()
        assert store.totals(HistoryQuery(digits="946")).calls == kept > 0
        # Later writes of every kind, on top of folded totals: a number that changes moves
        # the call from its old runs to its new ones; a note changes nothing counted.
        first = store.get("v0001")
        assert first is not None
        await store.amend(first, customer="+1 212 555 0199", talk_seconds=77, answered=True)
        await store.annotate("v0002", note="called back")
        await store.ingest(report(customer="13125550123", account="west", started_at=START))
        assert waiting(path) == 3  # out of the old runs, into the new, and the report
        assert_totals_exact(store, [*needles, "212", "0199", "312"])
    finally:
        store.close()
    per_day_totals_match_the_calls(path)


async def test_an_idle_writer_folds_the_changes_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "_UPKEEP_IDLE", 0.05)
    monkeypatch.setattr(digit_totals, "STEP", 40)  # several steps
    path = tmp_path / "calls.sqlite3"
    store = await varied_store(path)
    try:
        for _ in range(200):
            if waiting(path) == 0:
                break
            await asyncio.sleep(0.05)
        assert waiting(path) == 0 and kept_runs(path) > 100
        assert_totals_exact(store, runs_in(list(store.iter_records(HistoryQuery()))))
    finally:
        store.close()


@pytest.mark.usefixtures("no_idle_upkeep")
async def test_a_writer_that_never_idles_folds_past_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "_CHANGES_AT_MOST", 10)
    monkeypatch.setattr(digit_totals, "STEP", 4)
    path = tmp_path / "calls.sqlite3"
    store = SqliteHistory(path)
    try:
        for n in range(60):
            await store.insert(call(f"c{n}", customer=f"+44 20 7946 {n:04d}", talk_seconds=n))
            assert waiting(path) <= 11  # a step folds after each batch beyond the bound
        assert kept_runs(path) > 0
        assert_totals_exact(store, runs_in(list(store.iter_records(HistoryQuery()))))
    finally:
        store.close()
    per_day_totals_match_the_calls(path)


def as_schema_3(path: Path) -> None:
    """What the same history looked like before digit totals existed."""
    db = sqlite3.connect(path)
    db.executescript(
        "DROP TABLE digit_totals; DROP TABLE digit_changes; DROP TABLE digit_build; "
        "PRAGMA user_version=3;"
    )
    db.close()


@pytest.mark.usefixtures("no_idle_upkeep")
async def test_an_upgraded_file_counts_its_calls_step_by_step_while_writes_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digit_totals, "STEP", 17)
    path = tmp_path / "calls.sqlite3"
    (await varied_store(path)).close()
    as_schema_3(path)
    store = SqliteHistory(path)
    rng = random.Random(3)
    try:
        db = store._reader()
        assert digit_totals.building(db) and digit_totals.totals(db, "946") is None
        needles = runs_in(list(store.iter_records(HistoryQuery())))
        assert_totals_exact(store, needles)  # read from the calls meanwhile
        steps = 0
        while True:
            # Writes to calls already counted, not yet counted, and new ones, between steps.
            ids = [r.id for r in store.iter_records(HistoryQuery())]
            for call_id in rng.sample(ids, 3):
                record = store.get(call_id)
                assert record is not None
                await store.amend(
                    record, status=CallStatus.COMPLETED, answered=True,
                    talk_seconds=rng.randrange(500), billed_seconds=60, charge=0.25,
                )  # fmt: skip
            await store.insert(call(f"new{steps}", customer=f"+65 8123 {steps:04d}", charge=1.0))
            steps += 1
            if not store._upkeep_step() or not digit_totals.building(db):
                break
            assert steps < 100
        assert steps > 10  # the build took many steps, writes between each
        assert not digit_totals.building(db) and waiting(path) > 0
        assert_totals_exact(store, needles)
        fold_all(store)
        assert waiting(path) == 0
        assert_totals_exact(store, needles)
    finally:
        store.close()
    per_day_totals_match_the_calls(path)


async def test_a_new_file_has_nothing_to_build(tmp_path: Path) -> None:
    store = SqliteHistory(tmp_path / "calls.sqlite3")
    try:
        assert not digit_totals.building(store._reader())
        assert store.totals(HistoryQuery(digits="9")).calls == 0
    finally:
        store.close()


def test_runs_never_span_two_numbers() -> None:
    assert digit_totals.runs_of("123 45") == {"1", "2", "3", "12", "23", "123", "4", "5", "45"}
    assert digit_totals.runs_of("12 ") == {"1", "2", "12"}  # a call with no agent


def test_the_runs_cache_stays_small_however_many_customers_are_called() -> None:
    """A day of calls to new customers must not keep every customer's runs (3.4 KB each):
    the cache is for the numbers that repeat (agents, bridges)."""
    digit_totals.runs.cache_clear()
    for n in range(5_000):
        digit_totals.runs_of(f"9188671{n:05d} 919876543210")
    cached = digit_totals.runs.cache_info().currsize
    assert cached <= 1_024
    assert digit_totals.runs("919876543210") == digit_totals.runs.__wrapped__("919876543210")
    assert digit_totals.runs.cache_info().hits > 4_000  # the agent's number: worked out once
