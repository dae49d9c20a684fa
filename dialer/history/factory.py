"""The one place a history store is built: everything outside ``dialer.history`` opens its
store here and sees only :class:`~dialer.history.store.HistoryStore`, so that a profile
can be moved to another backend by changing this module alone."""

from __future__ import annotations

from dialer.core.paths import AppPaths
from dialer.history.sqlite_store import SqliteHistory
from dialer.history.store import HistoryStore


def open_history(paths: AppPaths) -> HistoryStore:
    """The profile's call history: today the SQLite file in its data folder (which must
    exist: ``paths.ensure()``)."""
    return SqliteHistory(paths.calls_db)


def history_exists(paths: AppPaths) -> bool:
    """Whether the profile has a call history yet (a read that finds none need not create
    one to say so)."""
    return paths.calls_db.exists()
