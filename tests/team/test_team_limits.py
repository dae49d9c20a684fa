"""What the call limits count in a team: each person's own calls, never the team's."""

from __future__ import annotations

from pathlib import Path

from dialer.core.team import TeamRole
from dialer.history import HistoryQuery
from dialer.history.sqlite_store import SqliteHistory
from dialer.history.team_store import TeamHistory
from tests.history.test_sqlite_store import call
from tests.team.test_team_access import Team, team  # noqa: F401 (the fixture)


async def test_a_supervisor_counts_only_their_own_calls(team: Team) -> None:  # noqa: F811
    alice, sue = team.store(team.alice, TeamRole.AGENT), team.store(team.sue, TeamRole.SUPERVISOR)
    try:
        await alice.insert(call("alices", created_at=1_700_000_000.0))
        await sue.insert(call("sues", created_at=1_700_000_001.0))
        assert len(sue.page(HistoryQuery())) == 2  # a supervisor reads both
        assert sue.recent_calls(account="a", since=0, limit=10) == [("sues", 1_700_000_001.0)]
        assert alice.recent_calls(account="a", since=0, limit=10) == [("alices", 1_700_000_000.0)]
    finally:
        alice.close()
        sue.close()


async def test_a_desktop_counts_from_its_own_file(team: Team, tmp_path: Path) -> None:  # noqa: F811
    """So that a call is never held up by the team database, nor refused when it is down:
    a call the same person placed from another desktop is not counted here."""
    elsewhere = team.store(team.alice, TeamRole.AGENT)
    desktop = TeamHistory(
        SqliteHistory(tmp_path / "calls.sqlite3"),
        team.store(team.alice, TeamRole.AGENT),
        team.alice,
        send_in_background=False,
    )
    try:
        await elsewhere.insert(call("on-her-laptop", created_at=1_700_000_001.0))
        await desktop.insert(call("mine", created_at=1_700_000_000.0))
        assert desktop.recent_calls(account="a", since=0, limit=10) == [("mine", 1_700_000_000.0)]
    finally:
        desktop.close()
        elsewhere.close()
