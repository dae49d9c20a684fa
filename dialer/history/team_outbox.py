"""What a joined desktop still has to send to the team history: its outbox, kept in the
profile's own SQLite history file.

Two triggers on the local ``calls`` table note every insert and update in ``team_outbox``
within the very transaction that made the change, so nothing can be changed and not
noted, whatever is killed when. Each note carries a sequence number; a sender deletes a
note only if its number is still the one it sent (a call changed again meanwhile is sent
again). Sending is idempotent (upserts keyed by the call's id), so a note sent twice after
a crash costs a round trip and changes nothing.

The triggers exist only while the profile is joined: a profile on its own pays nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from dialer.core.sqlite import open_reader

_NOTE = (
    "INSERT INTO team_outbox (call_id, seq) "
    "VALUES (NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM team_outbox)) "
    "ON CONFLICT (call_id) DO UPDATE SET seq = excluded.seq"
)

INSTALL = (
    "CREATE TABLE IF NOT EXISTS team_outbox (call_id TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS team_outbox_by_seq ON team_outbox (seq)",
    f"CREATE TRIGGER IF NOT EXISTS team_outbox_insert AFTER INSERT ON calls BEGIN {_NOTE}; END",
    f"CREATE TRIGGER IF NOT EXISTS team_outbox_update AFTER UPDATE ON calls BEGIN {_NOTE}; END",
)
UNINSTALL = (
    "DROP TRIGGER IF EXISTS team_outbox_insert",
    "DROP TRIGGER IF EXISTS team_outbox_update",
    "DROP TABLE IF EXISTS team_outbox",
)


def _execute(path: Path, statements: tuple[str, ...]) -> None:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        for statement in statements:
            db.execute(statement)
        db.execute("COMMIT")
    finally:
        db.close()


def install(path: Path) -> None:
    """Start noting changes (the history file must exist: open the store first)."""
    _execute(path, INSTALL)


def uninstall(path: Path) -> int:
    """Stop noting changes and forget what waited; returns how many calls had waited."""
    waiting = Outbox(path).count() if path.exists() else 0
    if path.exists():
        _execute(path, UNINSTALL)
    return waiting


class Outbox:
    """Reads and clears the notes (its own connections; the history's writer is not
    involved, so sending never waits behind a burst of writes)."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = open_reader(self.path)
            self._local.db = db
        return db

    def count(self) -> int:
        try:
            row = self._db().execute("SELECT count(*) FROM team_outbox").fetchone()
        except sqlite3.OperationalError:  # not joined (no outbox table)
            return 0
        return int(row[0])

    def batch(self, limit: int) -> list[tuple[str, int]]:
        """The oldest notes: (call id, sequence number)."""
        rows = (
            self._db()
            .execute("SELECT call_id, seq FROM team_outbox ORDER BY seq LIMIT ?", (limit,))
            .fetchall()
        )
        return [(str(call_id), int(seq)) for call_id, seq in rows]

    def done(self, notes: list[tuple[str, int]]) -> None:
        """Forget notes that were sent (unless the call changed again since)."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("DELETE FROM team_outbox WHERE call_id = ? AND seq = ?", notes)
            db.execute("COMMIT")
        finally:
            db.close()

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
