"""``dialer team`` and a joined profile's ``dialer call`` and ``dialer history``, in-process
(for the in-memory keyring), against a real PostgreSQL server and the provider simulator.
Each person's desktop is a DIALER_HOME of its own."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dialer.core.accounts import ProviderKind
from dialer.core.paths import AppPaths
from dialer.history import postgres_schema as schema
from dialer.simulator import ProviderSimulator
from tests.cli.test_cli import run, sim  # noqa: F401 (the simulator fixture)
from tests.memory_keyring import MemoryKeyring
from tests.postgres import TeamDatabase
from tests.team.tcp_proxy import TcpProxy


class Desktops:
    """Switches DIALER_HOME between the people's desktops."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.monkeypatch = monkeypatch

    def use(self, person: str) -> Path:
        home = self.root / person
        self.monkeypatch.setenv("DIALER_HOME", str(home))
        return home


@pytest.fixture
def desktops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Desktops:
    return Desktops(tmp_path / "desktops", monkeypatch)


@pytest.fixture
def team(
    team_database: TeamDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> TeamDatabase:
    """A team database set up by the CLI, with Alice and Bob (agents) and Sue (supervisor)."""
    assert run(monkeypatch, "team", "setup", team_database.admin_dsn) == 0
    assert "Created the team history" in capsys.readouterr().out
    for name, role in (("alice", "agent"), ("bob", "agent"), ("sue", "supervisor")):
        person = team_database.person(name)
        code = run(
            monkeypatch, "team", "user", "add", person, "--role", role,
            "--dsn", team_database.admin_dsn, stdin=f"pw-{name}\n",
        )  # fmt: skip
        assert code == 0
    capsys.readouterr()
    return team_database


def _join(monkeypatch: pytest.MonkeyPatch, dsn: str, user: str) -> int:
    return run(monkeypatch, "team", "join", dsn, "--user", user, stdin=f"pw-{user}\n")


def _add_c2c(monkeypatch: pytest.MonkeyPatch, sim: ProviderSimulator) -> None:  # noqa: F811
    args = [
        "account", "add", "shop", "--provider", "c2c-v2", "--url",
        sim.account_url(ProviderKind.C2C_V2), "--bridge", "918068280000",
        "--webhook-id", "sim-webhook", "--region", "IN", "--agent", "+919876543210",
    ]  # fmt: skip
    assert run(monkeypatch, *args, stdin="sim-c2c-token\n") == 0


def _history(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *extra: str
) -> list[dict[str, object]]:
    capsys.readouterr()
    assert run(monkeypatch, "history", "--json", *extra) == 0
    out = capsys.readouterr()
    return list(json.loads(out.out))


def test_setup_is_idempotent_and_refuses_a_newer_schema_or_a_password_in_the_dsn(
    team: TeamDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "team", "setup", team.admin_dsn) == 0
    assert f"is up to date (schema {schema.LATEST})" in capsys.readouterr().out
    assert run(monkeypatch, "team", "setup", team.admin_dsn + "&password=hunter2") == 2
    err = capsys.readouterr().err
    assert "carries a password" in err
    assert "hunter2" not in err
    with team.connect(team.admin, autocommit=True) as conn:
        conn.execute("UPDATE dialer.meta SET value = '99' WHERE key = 'version'")
    assert run(monkeypatch, "team", "setup", team.admin_dsn) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"was set up by a newer dialer (schema 99; this one knows up to "
                        f"{schema.LATEST}): update this dialer")  # fmt: skip
    assert len(err.splitlines()) == 1


def test_people_are_listed_and_removed(
    team: TeamDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "team", "user", "list", "--dsn", team.admin_dsn, "--json") == 0
    people = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert people[team.person("sue")]["role"] == "supervisor"
    assert (
        run(monkeypatch, "team", "user", "remove", team.person("bob"), "--dsn", team.admin_dsn) == 0
    )
    assert "can no longer log in" in capsys.readouterr().out
    assert run(monkeypatch, "team", "user", "list", "--dsn", team.admin_dsn) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines if team.person("bob") in line] == [
        [team.person("bob"), "agent", "(disabled)"]
    ]
    # An empty password is refused before anything reaches the server.
    code = run(
        monkeypatch, "team", "user", "add", team.person("carl"), "--role", "agent",
        "--dsn", team.admin_dsn, stdin="\n",
    )  # fmt: skip
    assert code == 2
    assert "No Password for" in capsys.readouterr().err


def test_join_keeps_the_password_in_the_keyring_only_and_refuses_one_in_the_dsn(
    team: TeamDatabase,
    desktops: Desktops,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
) -> None:
    home = desktops.use("alice")
    alice = team.person("alice")
    assert run(monkeypatch, "team", "join", team.dsn() + "?password=pw-alice", "--user", alice) == 2
    assert "carries a password" in capsys.readouterr().err
    assert _join(monkeypatch, team.dsn(), team.person("nobody")) == 2
    assert capsys.readouterr().err == (
        f"dialer: The team history (database {team.database} on {team.host}:{team.port}) "
        f'refused: role "{team.person("nobody")}" does not exist\n'
    )
    assert _join(monkeypatch, team.dsn(), alice) == 0
    assert f"as {alice} (agent)" in capsys.readouterr().out
    password = f"pw-{alice}"
    assert password in memory_keyring.entries.values()
    for path in home.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    assert run(monkeypatch, "team", "status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status == {
        "joined": True,
        "user": alice,
        "role": "agent",
        "database": f"database {team.database} on {team.host}:{team.port}",
        "waiting": 0,
        "reachable": True,
        "problem": "",
    }
    assert run(monkeypatch, "team", "leave") == 0
    assert "Left the team history" in capsys.readouterr().out
    assert password not in memory_keyring.entries.values()
    assert run(monkeypatch, "team", "status", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"joined": False}


def test_calls_placed_on_desktops_reach_the_supervisor_and_each_agent_sees_their_own(
    team: TeamDatabase,
    desktops: Desktops,
    sim: ProviderSimulator,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    placed: dict[str, str] = {}
    for name, number in (("alice", "+918867135000"), ("bob", "+918867135001")):
        desktops.use(name)
        _add_c2c(monkeypatch, sim)
        assert _join(monkeypatch, team.dsn(), team.person(name)) == 0
        capsys.readouterr()
        assert run(monkeypatch, "call", number, "--json") == 0
        placed[team.person(name)] = json.loads(capsys.readouterr().out)["id"]
    # Each agent reads their own calls only, named as theirs.
    desktops.use("alice")
    mine = _history(monkeypatch, capsys)
    assert [(c["id"], c["user"]) for c in mine] == [
        (placed[team.person("alice")], team.person("alice"))
    ]
    # The supervisor, on a desktop that placed nothing, reads everyone's.
    desktops.use("sue")
    assert _join(monkeypatch, team.dsn(), team.person("sue")) == 0
    everyone = _history(monkeypatch, capsys)
    assert {c["id"]: c["user"] for c in everyone} == {v: k for k, v in placed.items()}
    only_bob = _history(monkeypatch, capsys, "--user", team.person("bob"))
    assert [c["id"] for c in only_bob] == [placed[team.person("bob")]]
    capsys.readouterr()
    assert run(monkeypatch, "history", "--csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0])[:2] == ["id", "user"]
    assert sorted(r["user"] for r in rows) == sorted(placed)
    assert run(monkeypatch, "history") == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].startswith("When                 User")
    assert "2 calls, 0 answered" in table
    per_person = [line.split()[:3] for line in table.splitlines() if line.startswith("  ")]
    assert per_person == [[name, "1", "calls,"] for name in sorted(placed)]


def test_a_profile_not_in_a_team_refuses_the_user_filter_and_keeps_its_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "history", "--user", "alice") == 2
    assert "not in a team" in capsys.readouterr().err
    assert run(monkeypatch, "history", "--csv") == 0
    assert "user" not in capsys.readouterr().out.splitlines()[0].split(",")


@pytest.fixture
def proxy(team: TeamDatabase) -> Iterator[TcpProxy]:
    relay = TcpProxy(team.host, int(team.port)).start()
    yield relay
    relay.close()


@pytest.mark.allow_warnings_log(r"cannot be reached: Connection refused; calls are kept")
def test_calls_placed_while_the_team_database_is_away_wait_and_arrive_once(
    team: TeamDatabase,
    proxy: TcpProxy,
    desktops: Desktops,
    sim: ProviderSimulator,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alice = team.person("alice")
    through_proxy = f"postgresql://127.0.0.1:{proxy.port}/{team.database}"
    desktops.use("alice")
    _add_c2c(monkeypatch, sim)
    assert _join(monkeypatch, through_proxy, alice) == 0
    proxy.cut()
    ids = []
    for number in ("+918867135000", "+918867135002", "+918867135003"):
        capsys.readouterr()
        assert run(monkeypatch, "call", number, "--json") == 0  # never refused
        ids.append(json.loads(capsys.readouterr().out)["id"])
    assert run(monkeypatch, "team", "status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["reachable"], status["waiting"]) == (False, 3)
    assert "cannot be reached" in status["problem"]
    assert run(monkeypatch, "team", "sync") == 4
    assert "3 call(s) still wait to be sent" in capsys.readouterr().err
    # While it is away, her history is her desktop's own, and says so.
    assert run(monkeypatch, "history", "--json") == 0
    out = capsys.readouterr()
    assert sorted(c["id"] for c in json.loads(out.out)) == sorted(ids)
    assert "showing this desktop's own calls" in out.err
    proxy.restore()
    assert run(monkeypatch, "team", "sync") == 0
    assert "nothing waits" in capsys.readouterr().out
    assert run(monkeypatch, "team", "sync") == 0
    assert "Sent 0 calls" in capsys.readouterr().out
    with team.connect(team.admin) as conn:
        rows = conn.execute("SELECT id, placed_by FROM dialer.calls ORDER BY id").fetchall()
        timeline = conn.execute("SELECT count(*) FROM dialer.timeline").fetchone()
    assert rows == sorted((i, alice) for i in ids)
    assert timeline is not None and timeline[0] >= 3


def test_sending_a_call_again_changes_nothing(
    team: TeamDatabase,
    desktops: Desktops,
    sim: ProviderSimulator,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    desktops.use("alice")
    _add_c2c(monkeypatch, sim)
    assert _join(monkeypatch, team.dsn(), team.person("alice")) == 0
    assert run(monkeypatch, "call", "+918867135000") == 0
    home = desktops.use("alice")
    # As after a kill between the commit in PostgreSQL and the outbox's cleared note:
    # every call noted again, and sent again.
    import sqlite3

    db = sqlite3.connect(home / "data" / "calls.sqlite3")
    with db:
        db.execute("UPDATE calls SET note = note")
    db.close()
    with team.connect(team.admin) as conn:
        before = conn.execute("SELECT count(*) FROM dialer.timeline").fetchone()
    assert run(monkeypatch, "team", "sync") == 0
    assert "Sent 1 call;" in capsys.readouterr().out
    with team.connect(team.admin) as conn:
        assert conn.execute("SELECT count(*) FROM dialer.calls").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM dialer.timeline").fetchone() == before


def test_a_wrong_password_is_one_sentence(
    team: TeamDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Trust authentication here accepts any password; a server that checks one answers
    # as psycopg raises it, and the sentence names the database, never the password.
    from dialer.history.postgres_admin import database_error

    error = database_error(
        psycopg.OperationalError('password authentication failed for user "alice"'), team.dsn()
    )
    assert str(error).startswith(f"The team history (database {team.database} on")
    assert "refused: password authentication failed" in str(error)
    assert error.exit_code == 2  # not "unreachable": trying again will not help


def test_sslmode_in_the_dsn_is_honoured_as_libpq_does(
    team: TeamDatabase,
    desktops: Desktops,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    desktops.use("alice")
    dsn = team.dsn() + "?sslmode=require"
    code = _join(monkeypatch, dsn, team.person("alice"))
    out = capsys.readouterr()
    try:
        with psycopg.connect(dsn, user=team.admin, connect_timeout=5):
            server_has_tls = True
    except psycopg.OperationalError:
        server_has_tls = False
    if server_has_tls:
        assert code == 0, out.err
        with team.connect(team.admin) as conn:
            # Every connection of the desktop's store is encrypted.
            from dialer.history.factory import open_history

            history = open_history(AppPaths.default())
            try:
                assert history.count() == 0
                rows = conn.execute(
                    "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a "
                    "USING (pid) WHERE a.usename = %s",
                    (team.person("alice"),),
                ).fetchone()
            finally:
                history.close()
        assert rows == (True,)
    else:
        assert code == 2
        assert "SSL was required" in out.err
        assert "pw-" not in out.err


def test_a_desktop_refuses_a_team_schema_newer_than_it_knows(
    team: TeamDatabase,
    desktops: Desktops,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    desktops.use("alice")
    assert _join(monkeypatch, team.dsn(), team.person("alice")) == 0
    with team.connect(team.admin, autocommit=True) as conn:
        conn.execute(
            "UPDATE dialer.meta SET value = %s WHERE key = 'version'", (str(schema.LATEST + 1),)
        )
    capsys.readouterr()
    assert run(monkeypatch, "team", "status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status["reachable"] is False
    assert status["problem"].endswith(
        f"was set up by a newer dialer (schema {schema.LATEST + 1}; this one knows up to "
        f"{schema.LATEST}): update this dialer"
    )
