"""Render the demo window to ``docs/screenshot.png`` (the picture at the top of the README),
or with ``--supervisor`` a supervisor's window to ``docs/screenshot-supervisor.png``.

    .venv/bin/python docs/make_screenshot.py [PATH]
    .venv/bin/python docs/make_screenshot.py --supervisor [PATH]

Runs offscreen unless a display is set (Xvfb works too), in a throw-away data folder: the
demo profile, a search, and a few calls placed on the built-in simulator, caught while they
progress, so the picture shows the window as an agent sees it.

The supervisor's picture needs a PostgreSQL server (``DIALER_SCREENSHOT_PG``, a libpq DSN of
a role that may create databases and roles; by default the local server with trust
authentication). It makes a throw-away team database with two agents and a supervisor, has
the agents place a day's calls, opens the supervisor's window on it, then drops the
database and its roles. Passwords live in an in-memory keyring for the run.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "screenshot.png"
SUPERVISOR_OUT = Path(__file__).resolve().parent / "screenshot-supervisor.png"
SERVER_DSN = os.environ.get(
    "DIALER_SCREENSHOT_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)


def _save(window: Any, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        raise SystemExit(f"could not write {out}")


async def _close(window: Any, profile: Any) -> None:
    window.close()
    await window.shutdown()
    await profile.aclose()
    window.deleteLater()


async def render(out: Path) -> None:
    from PySide6.QtTest import QTest

    from dialer.app.demo import open_demo_profile
    from dialer.core.paths import AppPaths
    from dialer.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as home:
        profile = await open_demo_profile(
            AppPaths.under(Path(home)), ring_seconds=0.5, talk_seconds=1.5
        )
        window = MainWindow(profile)
        try:
            window.resize(1280, 800)
            window.show()
            await window.start()
            for number in ("+91 88671 35000", "+91 80682 80000", "+44 20 7946 0000"):
                await window.call_number(number)
            await asyncio.sleep(3.5)  # let the calls ring, connect and report their outcome
            profile.simulator.config.talk_seconds = 60.0
            await window.call_number("+91 97845 60622")
            await asyncio.sleep(1.2)  # and one call still in progress
            QTest.keyClicks(window.search_edit, "an")
            await asyncio.sleep(0.4)  # the search is throttled, then runs off the GUI thread
            await window.tasks.wait_idle()
            window.number.set_text("+91 98450 12345")
            _save(window, out)
        finally:
            await _close(window, profile)


def _memory_keyring() -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.values: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.values.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.values[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.values.pop((service, username), None)

    keyring.set_keyring(MemoryKeyring())


def _day_of_calls(people: list[str], numbers: list[str]) -> dict[str, list[object]]:
    """Each agent's calls of today, from 09:00: outcomes and talk times as a team has them."""
    import random
    from datetime import datetime

    from dialer.core.calls import CallStatus
    from dialer.history import CallRecord

    rng = random.Random(7)  # noqa: S311 - sample data, the same picture each run
    start = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0).timestamp()
    outcomes = [CallStatus.COMPLETED] * 5 + [CallStatus.NO_ANSWER, CallStatus.BUSY]
    calls: dict[str, list[object]] = {person: [] for person in people}
    for n in range(36):
        person = people[n % len(people)]
        status = rng.choice(outcomes)
        talk = rng.randint(40, 420) if status is CallStatus.COMPLETED else 0
        calls[person].append(
            CallRecord(
                id=f"shot-{n:03d}",
                account="Sales C2C",
                provider="c2c-v2",
                customer=rng.choice(numbers),
                agent=f"+9198765432{10 + people.index(person)}",
                bridge="918068280000",
                status=status,
                created_at=start + n * 540,
                answered=status is CallStatus.COMPLETED,
                talk_seconds=talk,
                billed_seconds=-(-talk // 60) * 60,
                disposition=rng.choice(["Sale", "Call back", "Not interested", ""]) if talk else "",
            )
        )
    return calls


def _supervisor_account(profile: object) -> None:
    """The team's account, as a supervisor who also calls would have it (never called)."""
    from dialer.core.accounts import Account

    account = Account(
        name="Sales C2C", provider="c2c-v2", url="https://c2c.example.net/api/v2/voice/c2c",
        region="IN", agent="+919876543299", bridges=("918068280000",),
    )  # fmt: skip
    profile.accounts.add(account, make_default=True)  # type: ignore[attr-defined]
    profile.secrets.set(account.secret_key, "token")  # type: ignore[attr-defined]


async def render_supervisor(out: Path) -> None:  # noqa: PLR0915 - one story, told in order
    import secrets

    import psycopg

    from dialer.app.profile import open_user_profile
    from dialer.core.contacts import demo_contacts
    from dialer.core.paths import AppPaths
    from dialer.core.secrets import KeyringSecretStore
    from dialer.core.team import TeamMembership, TeamRole, save_membership
    from dialer.history import postgres_admin as admin
    from dialer.history.postgres_store import PostgresHistory
    from dialer.ui.main_window import MainWindow

    _memory_keyring()
    token = "shot" + secrets.token_hex(4)
    database, owner = f"{token}_db", f"{token}_admin"
    server = psycopg.connect(SERVER_DSN, autocommit=True, connect_timeout=5)
    host = server.info.host or "127.0.0.1"
    port = server.info.port
    server.execute(f'CREATE ROLE "{owner}" LOGIN CREATEROLE')
    server.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
    dsn = f"postgresql://{host}:{port}/{database}"
    made: list[str] = []  # the roles this run made, and drops
    try:
        admin.setup(f"{dsn}?user={owner}")
        people, supervisor = ["asha_rao", "vikram_nair"], "sue_menon"
        for person in [*people, supervisor]:  # readable names: the picture shows them
            if server.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (person,)).fetchone():
                raise SystemExit(f"the server already has a role {person}; not touching it")
        for person in people:
            admin.add_person(f"{dsn}?user={owner}", person, TeamRole.AGENT, "pw")
            made.append(person)
        admin.add_person(f"{dsn}?user={owner}", supervisor, TeamRole.SUPERVISOR, "pw")
        made.append(supervisor)
        contacts = demo_contacts(40)
        numbers = [c.primary.number for c in contacts if c.primary is not None]
        for person, calls in _day_of_calls(people, numbers).items():
            agent = PostgresHistory(dsn, user=person, role=TeamRole.AGENT)
            try:
                for record in calls:
                    await agent.insert(record)  # type: ignore[arg-type]
            finally:
                agent.close()
        with tempfile.TemporaryDirectory() as home:
            paths = AppPaths.under(Path(home)).ensure()
            membership = TeamMembership(dsn=dsn, user=supervisor, role=TeamRole.SUPERVISOR)
            save_membership(paths.config_dir, membership)
            KeyringSecretStore().set(membership.secret_key, "pw")
            profile = open_user_profile(paths)
            profile.contacts.add_many(contacts)
            _supervisor_account(profile)
            window = MainWindow(profile)
            try:
                window.resize(1280, 800)
                window.show()
                await window.start()
                panel = window.history_panel
                for _ in range(100):  # until the team's calls are read
                    await asyncio.sleep(0.1)
                    if panel.model.rowCount() >= 36 and panel.totals is not None:
                        break
                window.main_splitter.setSizes([250, 550])  # the supervisor's view: the history
                await asyncio.sleep(0.5)
                _save(window, out)
            finally:
                await _close(window, profile)
    finally:
        server.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (database,),
        )
        server.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        team_roles = server.execute(  # the team's own group roles, named after its database
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (database + "\\_%",)
        ).fetchall()
        for role in [*made, *(row[0] for row in team_roles)]:
            server.execute(f'DROP ROLE IF EXISTS "{role}"')
        server.execute(f'DROP ROLE IF EXISTS "{owner}"')
        server.close()


def main(argv: list[str]) -> int:
    supervisor = "--supervisor" in argv
    argv = [arg for arg in argv if arg != "--supervisor"]
    out = Path(argv[0]) if argv else (SUPERVISOR_OUT if supervisor else OUT)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    from dialer.ui.theme import follow_system_theme

    follow_system_theme(app)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(render_supervisor(out) if supervisor else render(out))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
