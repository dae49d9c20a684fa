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
