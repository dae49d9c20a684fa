"""CSV and JSON export of records read back from a real history file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from dialer.core.calls import CallStatus
from dialer.history import CallOrigin, CallRecord, HistoryQuery
from dialer.history.export import COLUMNS, safe_cell, write_csv, write_json
from dialer.history.sqlite_store import SqliteHistory

TRICKY = [
    "=1+2",
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
]


@pytest.fixture
async def records(tmp_path: Path) -> list[CallRecord]:
    store = SqliteHistory(tmp_path / "calls.sqlite3")
    try:
        await store.insert(
            CallRecord(
                id="plain",
                account="shop",
                provider="c2c-v2",
                customer="+91 88671 35000",
                agent="+919876543210",
                bridge="918068280000",
                status=CallStatus.COMPLETED,
                created_at=1_714_550_400.25,
                answered=True,
                started_at=1_714_550_410.0,
                ended_at=1_714_550_470.0,
                agent_seconds=70,
                talk_seconds=60,
                billed_seconds=60,
                charge=0.5,
                recording_url="https://rec.example/1.wav",
                hangup_by="caller",
                cause="COMPLETED/RECEIVED/ANSWER",
                request={"to": "918867135000", "access_token": "***"},
            )
        )
        for n, text in enumerate(TRICKY):
            await store.insert(
                CallRecord(
                    id=f"tricky-{n}",
                    account="outside",
                    provider="c2c-v2",
                    customer=text,
                    agent=None,
                    origin=CallOrigin.OUTSIDE,
                    status=CallStatus.FAILED,
                    created_at=1_714_550_500.0 + n,
                    message=text,
                )
            )
        await store.annotate("plain", note="=rang twice, «café»", disposition="-sale")
        return list(store.iter_records(HistoryQuery(descending=False)))
    finally:
        store.close()


def test_csv_has_every_column_but_the_request(records: list[CallRecord]) -> None:
    out = io.StringIO(newline="")
    assert write_csv(records, out) == len(records) == 1 + len(TRICKY)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert "request" not in COLUMNS and {"note", "disposition", "cause"} <= set(COLUMNS)
    plain = dict(zip(COLUMNS, rows[1], strict=True))
    assert plain["customer"] == "+91 88671 35000"  # a phone number is left readable
    assert plain["agent"] == "+919876543210"
    assert plain["note"] == "'=rang twice, «café»"
    assert plain["disposition"] == "'-sale"
    assert plain["answered"] == "yes"
    assert (plain["talk_seconds"], plain["charge"]) == ("60", "0.5")
    assert plain["flow_id"] == "" and plain["error"] == ""  # None and "" are empty cells
    created = datetime.fromisoformat(plain["created_at"])
    assert created.tzinfo is not None  # with its offset: unambiguous
    assert created.timestamp() == 1_714_550_400  # to the second
    assert datetime.fromisoformat(plain["ended_at"]).timestamp() == 1_714_550_470.0
    assert out.getvalue().count("\r\n") == len(records) + 1


def test_csv_cells_never_start_a_formula(records: list[CallRecord]) -> None:
    out = io.StringIO(newline="")
    write_csv(records, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    for row, text in zip(rows[1:], TRICKY, strict=True):
        assert row["customer"] == "'" + text
        assert row["message"] == "'" + text
    for row in rows:
        for value in row.values():
            phone = value.replace(" ", "").lstrip("+").isdigit()
            assert phone or not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert safe_cell(-3) == -3 and safe_cell(None) == "" and safe_cell(False) == "no"
    assert safe_cell("+44 (0) 1632-960.000") == "+44 (0) 1632-960.000"
    assert safe_cell("+44 1632 960000 ext") == "'+44 1632 960000 ext"


def test_json_is_an_array_of_the_same_rows(records: list[CallRecord]) -> None:
    out = io.StringIO()
    assert write_json(records, out) == len(records)
    rows = json.loads(out.getvalue())
    assert [r["id"] for r in rows] == [r.id for r in records]
    plain = rows[0]
    assert list(plain) == list(COLUMNS)
    assert plain["note"] == "=rang twice, «café»"  # JSON is data, not a spreadsheet
    assert plain["answered"] is True and rows[1]["answered"] is None
    assert plain["talk_seconds"] == 60 and plain["charge"] == 0.5
    assert datetime.fromisoformat(plain["started_at"]).timestamp() == 1_714_550_410.0
    empty = io.StringIO()
    assert write_json([], empty) == 0
    assert json.loads(empty.getvalue()) == []


@pytest.mark.parametrize("writer", [write_csv, write_json])
def test_export_streams(records: list[CallRecord], writer: object) -> None:
    """Each record is written before the next one is read: a million never sit in memory."""
    out = io.StringIO()

    def one_at_a_time() -> Iterator[CallRecord]:
        for n, record in enumerate(records):
            if n:
                assert records[n - 1].id in out.getvalue()
            yield record

    assert writer(one_at_a_time(), out) == len(records)  # type: ignore[operator]
