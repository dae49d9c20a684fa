"""The window of a profile joined to a team, offscreen, against a real PostgreSQL server: the
supervisor's panel hears other desktops' calls as they are committed (LISTEN/NOTIFY), filters
by person and totals per person; an agent's window keeps calling while the team database is
away, says so and how many calls wait, and sends them once it is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallStatus
from dialer.core.paths import AppPaths
from dialer.core.secrets import KeyringSecretStore
from dialer.core.team import TeamMembership, TeamRole, save_membership
from dialer.history import postgres_admin as admin
from dialer.history.postgres_store import PostgresHistory
from dialer.ui.history_model import PERSON_COLUMN
from tests.history.test_sqlite_store import call
from tests.postgres import TeamDatabase
from tests.team.tcp_proxy import TcpProxy
from tests.ui.conftest import until
from tests.ui.test_main_window import select_account

pytestmark = pytest.mark.gui


@pytest.fixture
def team(team_database: TeamDatabase) -> TeamDatabase:
    admin.setup(team_database.admin_dsn)
    for name, role in (("alice", TeamRole.AGENT), ("sue", TeamRole.SUPERVISOR)):
        admin.add_person(team_database.admin_dsn, team_database.person(name), role, "pw")
    return team_database


def _join(config_dir: Path, dsn: str, user: str, role: TeamRole) -> None:
    membership = TeamMembership(dsn=dsn, user=user, role=role)
    save_membership(config_dir, membership)
    KeyringSecretStore().set(membership.secret_key, "pw")


async def _window(profile: Any) -> Any:
    from dialer.ui.main_window import MainWindow

    window = MainWindow(profile)
    window.show()
    await window.start()
    return window


async def _close(window: Any) -> None:
    await window.shutdown()
    window.close()
    window.deleteLater()


@pytest.fixture
async def supervisor_window(qapp: Any, team: TeamDatabase, dialer_home: Path) -> AsyncIterator[Any]:
    from dialer.app.profile import open_user_profile

    paths = AppPaths.under(dialer_home).ensure()
    _join(paths.config_dir, team.dsn(), team.person("sue"), TeamRole.SUPERVISOR)
    profile = open_user_profile(paths)
    await profile.start_reporting(receiver_port=0)
    window = await _window(profile)
    yield window
    await _close(window)
    await profile.aclose()


async def test_the_supervisor_hears_an_agents_call_as_it_is_committed(
    supervisor_window: Any, team: TeamDatabase
) -> None:
    window = supervisor_window
    panel = window.history_panel
    await until(lambda: window.team_status.text() == "Team history: up to date")
    assert not panel.view.isColumnHidden(PERSON_COLUMN)
    await until(lambda: panel.person_box.count() == 3)  # everyone, then each person
    alice = PostgresHistory(team.dsn(), user=team.person("alice"), role=TeamRole.AGENT)
    try:
        placed = await alice.insert(call("live-1", account="shop", status=CallStatus.ACCEPTED))
        await until(lambda: panel.model.rowCount() == 1)
        assert panel.model.record(0).id == placed.id
        assert panel.model.index(0, PERSON_COLUMN).data() == team.person("alice")
        await alice.amend(placed, status=CallStatus.COMPLETED, talk_seconds=42)
        await until(lambda: panel.model.record(0).status is CallStatus.COMPLETED)
    finally:
        alice.close()
    # The person filter, and each person's totals.
    panel.person_box.setCurrentIndex(panel.person_box.findData(team.person("sue")))
    await until(lambda: panel.model.rowCount() == 0)
    panel.person_box.setCurrentIndex(0)
    await until(lambda: panel.model.rowCount() == 1)
    task = asyncio.ensure_future(panel.show_people_totals())
    await until(lambda: getattr(panel, "people_dialog", None) is not None)
    panel.people_dialog.reject()
    totals = await task
    assert totals[team.person("alice")].talk_seconds == 42


@pytest.fixture
async def proxy(team: TeamDatabase) -> AsyncIterator[TcpProxy]:
    relay = TcpProxy(team.host, int(team.port)).start()
    yield relay
    relay.close()


# The cut drops the pooled connection: psycopg notes the send it broke, then the desktop
# says it is offline.
@pytest.mark.allow_warnings_log(
    r"cannot be reached: .*; calls are kept on this desktop",
    r"error ignored terminating <psycopg.Pipeline .*the connection is lost",
)
async def test_an_agent_keeps_calling_while_the_team_database_is_away(
    qapp: Any, team: TeamDatabase, proxy: TcpProxy, dialer_home: Path
) -> None:
    from dialer.app.demo import open_demo_profile

    demo_paths = AppPaths.under(dialer_home).demo_profile()
    through_proxy = f"postgresql://127.0.0.1:{proxy.port}/{team.database}"
    _join(demo_paths.config_dir, through_proxy, team.person("alice"), TeamRole.AGENT)
    profile = await open_demo_profile(
        AppPaths.under(dialer_home), ring_seconds=0.05, talk_seconds=0.05
    )
    window = await _window(profile)
    try:
        # Upper bounds, not timings: a loaded machine connects to the team slower.
        await until(lambda: window.team_status.text() == "Team history: up to date", timeout=30)
        proxy.cut()
        await select_account(window, ProviderKind.DIGIDONAR)
        record = await window.call_number("+91 88671 35000")
        assert record is not None and record.status is CallStatus.ACCEPTED  # not held up
        await until(
            lambda: window.team_status.text() == "Team history offline: 1 call waits to be sent",
            timeout=15,
        )
        assert "cannot be reached" in window.team_status.toolTip()
        # The panel shows the desktop's own calls meanwhile.
        await until(lambda: window.history_panel.model.rowCount() == 1, timeout=15)
        proxy.restore()
        await until(lambda: window.team_status.text() == "Team history: up to date", timeout=40)
    finally:
        await _close(window)
        await profile.aclose()
    with team.connect(team.admin) as conn:
        rows = conn.execute("SELECT id, placed_by FROM dialer.calls").fetchall()
    assert rows == [(record.id, team.person("alice"))]
