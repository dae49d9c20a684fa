"""How the app opens its SQLite files: versioned schemas, WAL, never damaging a newer file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from dialer.core.errors import ConfigError

Migration = str | Callable[[sqlite3.Connection], None]


def open_migrated(
    path: Path | str,
    migrations: Sequence[Migration],
    what: str,
    *,
    prepare: Callable[[sqlite3.Connection], None] | None = None,
) -> sqlite3.Connection:
    """Open (or create) ``path`` and bring it to schema ``len(migrations)``.

    ``migrations[n]`` takes a file from version n to n + 1: a script, or a function for
    steps that need Python (back-filling derived columns). A new file runs them all, so
    every upgrade path is the one new files take too. Pending steps run in one transaction
    with the new version number: an interrupted upgrade leaves the old file as it was, and
    a file from a newer dialer is refused before anything writes. ``prepare`` registers
    the SQL functions the migrations use.
    """
    version = len(migrations)
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    try:
        if prepare is not None:
            prepare(db)
        db.execute("PRAGMA busy_timeout=5000")
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found > version:
            raise ConfigError(
                f"{path} was written by a newer version of the dialer (schema {found}); "
                "update the dialer to open it"
            )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if found < version:
            with immediate_transaction(db):
                for step in migrations[found:]:
                    if isinstance(step, str):
                        for statement in _statements(step):
                            db.execute(statement)
                    else:
                        step(db)
                db.execute(f"PRAGMA user_version={version}")
    except sqlite3.DatabaseError as exc:
        db.close()
        raise ConfigError(f"{path} is not a {what} that can be opened ({exc})") from None
    except BaseException:
        db.close()
        raise
    return db


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT the migration transaction; split and run one by one.
    return [s.strip() for s in script.split(";") if s.strip()]


def open_reader(path: Path | str) -> sqlite3.Connection:
    """A second connection to an open database, for reads that must not queue behind the
    writer (WAL lets them run while it commits)."""
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA busy_timeout=5000")
    db.execute("PRAGMA query_only=ON")
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
