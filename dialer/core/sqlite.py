"""How the app opens its SQLite files: versioned schemas, WAL, never damaging a newer file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dialer.core.errors import ConfigError


def open_database(path: Path | str, schema: str, version: int, what: str) -> sqlite3.Connection:
    """Open (or create) ``path`` with ``schema`` at ``version``.

    The version is read before anything writes, so a file from a newer dialer is refused
    byte-identical; a file that is not SQLite is refused with a sentence naming ``what``.
    """
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout=5000")
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found > version:
            raise ConfigError(
                f"{path} was written by a newer version of the dialer (schema {found}); "
                "update the dialer to open it"
            )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
        db.execute(f"PRAGMA user_version={version}")
    except sqlite3.DatabaseError as exc:
        db.close()
        raise ConfigError(f"{path} is not a {what} that can be opened ({exc})") from None
    except BaseException:
        db.close()
        raise
    return db


@contextmanager
def immediate_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken up front so concurrent writers queue instead of failing.
    The caller serialises use of ``db``."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
