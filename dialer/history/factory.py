"""The one place a history store is built: everything outside ``dialer.history`` opens its
store here and sees only :class:`~dialer.history.store.HistoryStore`, so that a profile
can be moved to another backend by changing this module alone.

- A profile on its own: the SQLite file in its data folder.
- A profile that joined a team as an agent or supervisor: that file first, the team's
  PostgreSQL database as soon as it can be reached (:class:`TeamHistory`).
- A profile that joined as a receiver: the team database alone, so that a webhook is
  answered 200 only once its report is committed there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialer.core.paths import AppPaths
from dialer.core.team import TeamMembership, TeamRole, load_membership
from dialer.history.store import HistoryStore

if TYPE_CHECKING:
    from dialer.history.postgres_store import PostgresHistory

# How long a joined desktop waits for the team database before it carries on without it
# (seconds; libpq's connect_timeout). Calls are never held up by it: they are stored here.
TEAM_CONNECT_TIMEOUT = 3


def team_store(
    membership: TeamMembership, *, connect_timeout: int = TEAM_CONNECT_TIMEOUT
) -> PostgresHistory:
    """The team database as ``membership``'s person, their password from the keyring."""
    from dialer.core.secrets import KeyringSecretStore
    from dialer.history.postgres_store import PostgresHistory

    def password() -> str | None:
        return KeyringSecretStore().get(membership.secret_key)

    return PostgresHistory(
        membership.dsn,
        role=membership.role,
        user=membership.user,
        password=password,
        connect_timeout=connect_timeout,
    )


def open_history(paths: AppPaths, *, send_in_background: bool = True) -> HistoryStore:
    """The profile's call history (its data folder must exist: ``paths.ensure()``).
    ``send_in_background``: a joined desktop sends what waits from a thread of its own
    (``dialer team sync`` sends itself instead)."""
    from dialer.history.sqlite_store import SqliteHistory

    membership = load_membership(paths.config_dir)
    if membership is None:
        return SqliteHistory(paths.calls_db)
    team = team_store(membership)
    if membership.role is TeamRole.RECEIVER:
        return team
    from dialer.history.team_store import TeamHistory

    return TeamHistory(
        SqliteHistory(paths.calls_db),
        team,
        membership.user,
        send_in_background=send_in_background,
    )


def history_exists(paths: AppPaths) -> bool:
    """Whether the profile has a call history yet (a read that finds none need not create
    one to say so)."""
    return paths.calls_db.exists() or load_membership(paths.config_dir) is not None
