from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dialer.core.calllog import SCHEMA_VERSION, CallLog, CallRecord
from dialer.core.calls import CallStatus
from dialer.core.errors import ConfigError


def test_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    log = CallLog(path)
    record = log.add(CallRecord(id="r1", account="a", provider="kazoo", customer="+1"))
    log.update(record, status=CallStatus.ACCEPTED, provider_ref="p1")
    log.close()
    again = CallLog(path)
    stored = again.get("r1")
    assert stored is not None
    assert stored.status is CallStatus.ACCEPTED
    assert stored.provider_ref == "p1"
    assert [r.id for r in again.recent()] == ["r1"]
    again.close()


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="newer version"):
        CallLog(path)
    assert path.read_bytes() == before


async def test_concurrent_writes_are_all_durable(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "calls.sqlite3"
    log = CallLog(path)
    records = [CallRecord(id=f"r{n}", account="a", provider="p", customer="+1") for n in range(300)]
    await asyncio.gather(*(log.insert(r) for r in records))
    amended = await asyncio.gather(*(log.amend(r, status=CallStatus.ACCEPTED) for r in records))
    assert all(r.status is CallStatus.ACCEPTED for r in amended)
    log.close()
    again = CallLog(path)
    stored = again.recent(1000)
    assert len(stored) == 300
    assert {r.status for r in stored} == {CallStatus.ACCEPTED}
    again.close()


async def test_a_cancelled_writer_still_stores_its_row(tmp_path: Path) -> None:
    import asyncio

    log = CallLog(tmp_path / "calls.sqlite3")
    task = asyncio.create_task(
        log.insert(CallRecord(id="x", account="a", provider="p", customer="+1"))
    )
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    log.close()  # drains the writer
    again = CallLog(tmp_path / "calls.sqlite3")
    assert again.get("x") is not None
    again.close()


async def test_write_errors_reach_the_caller(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.sqlite3")
    log._db.execute(
        "CREATE TRIGGER no_inserts BEFORE INSERT ON calls "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    with pytest.raises(sqlite3.DatabaseError, match="disk says no"):
        await log.insert(CallRecord(id="x", account="a", provider="p", customer="+1"))
    log.close()
