"""Every reader survives any value the history file holds: calls stored with arbitrary times,
durations and charges (any float, the infinities, the largest integers), and rows changed
behind the app's back (another version, a row typed into sqlite3). ``dialer history`` as a
table, CSV and JSON, the exports and every cell of the panel read them all; a time no
calendar holds reads as unknown."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.cli.main import main
from dialer.core.calls import CallStatus
from dialer.core.paths import AppPaths
from dialer.history import CallOrigin, CallRecord, HistoryQuery
from dialer.history.sqlite_store import SqliteHistory

# What the app's writers can be handed (the per-day totals need a day and sums that fit in
# 64 bits); the values beyond, infinities and text where a number belongs, are written
# behind the app's back below.
ANY_FLOAT = st.floats(min_value=-1e15, max_value=1e15) | st.sampled_from(
    [253_402_300_799.0, 253_402_343_999.0, -62_135_596_800.0, 1e14, -1e14, 0.0, -1.0]
)
INT64 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)


@st.composite
def records(draw: st.DrawFn, n: int) -> CallRecord:
    maybe_float = st.none() | ANY_FLOAT | st.floats()
    maybe_int = st.none() | INT64
    return CallRecord(
        id=f"call-{n}",
        account=draw(TEXT),
        provider=draw(st.sampled_from(["c2c-v2", "click2call-v1", "kazoo", "digidonar"])),
        customer=draw(TEXT),
        agent=draw(st.none() | TEXT),
        bridge=draw(st.none() | TEXT),
        flow_id=draw(st.none() | TEXT),
        status=draw(st.sampled_from(list(CallStatus))),
        origin=draw(st.sampled_from(list(CallOrigin))),
        message=draw(TEXT),
        error=draw(TEXT),
        created_at=draw(ANY_FLOAT),
        updated_at=draw(ANY_FLOAT),
        answered=draw(st.none() | st.booleans()),
        started_at=draw(maybe_float),
        ended_at=draw(maybe_float),
        agent_seconds=draw(maybe_int),
        talk_seconds=draw(maybe_int),
        billed_seconds=draw(maybe_int),
        charge=draw(st.none() | st.floats(allow_nan=False)),
        recording_url=draw(st.none() | TEXT),
        hangup_by=draw(st.none() | TEXT),
        cause=draw(TEXT),
    )


def not_json(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON (Python's json would read it; others not)")


def read_with_every_reader(capsys: pytest.CaptureFixture[str], count: int) -> None:
    from dialer.ui.history_model import COLUMNS, HistoryModel, cell_text

    for args in (["history"], ["history", "--csv"], ["history", "--json"]):
        assert main(args) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        if "--csv" in args:
            assert len(list(csv.reader(io.StringIO(out)))) == count + 1
        elif "--json" in args:
            assert len(json.loads(out, parse_constant=not_json)) == count
    history = SqliteHistory(AppPaths.default().calls_db)
    try:
        shown = list(history.iter_records(HistoryQuery()))
        assert len(shown) == count
        for record in shown:
            for column in range(len(COLUMNS)):
                assert isinstance(cell_text(record, column), str)
                HistoryModel._tooltip(record, column)
    finally:
        history.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_calls_with_arbitrary_values_are_read_by_every_reader(
    data: st.DataObject, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = [data.draw(records(n)) for n in range(data.draw(st.integers(1, 6)))]
    path = AppPaths.default().ensure().calls_db
    path.unlink(missing_ok=True)

    async def store() -> None:
        history = SqliteHistory(path)
        try:
            for call in calls:
                await history.insert(call)
        finally:
            history.close()

    asyncio.run(store())
    read_with_every_reader(capsys, len(calls))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("created_at", 253_402_343_999.0),  # the year 10000 in UTC
        ("created_at", -1e300),
        ("created_at", float("inf")),
        ("started_at", float("inf")),
        ("ended_at", "yesterday"),  # text where a number belongs: SQLite keeps it
        ("talk_seconds", 2**63 - 1),
        ("agent_seconds", 1e300),
        ("talk_seconds", "forever"),
        ("charge", float("-inf")),
        ("answered", 7),
    ],
)
def test_a_row_changed_behind_the_apps_back_is_read_by_every_reader(
    capsys: pytest.CaptureFixture[str], column: str, value: Any
) -> None:
    path = AppPaths.default().ensure().calls_db

    async def store() -> None:
        history = SqliteHistory(path)
        try:
            await history.insert(
                CallRecord(id="c", account="shop", provider="c2c-v2", customer="+918867135000")
            )
        finally:
            history.close()

    asyncio.run(store())
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute(f"UPDATE calls SET {column} = ?", (value,))  # noqa: S608 - the test's own
    finally:
        db.close()
    read_with_every_reader(capsys, 1)
    assert main(["history", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    if column in ("created_at", "started_at", "ended_at") and not (
        isinstance(value, float) and math.isfinite(value) and abs(value) < 1e11
    ):
        assert row[column] is None  # no calendar holds it: unknown
