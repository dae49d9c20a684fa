"""Who sees what in the team history, tried as an attacker would: each person connects with
``psycopg`` directly (what ``psql`` and their own password give them) and tries to read,
change and delete other people's rows and their own placed calls, on every table. PostgreSQL
must refuse each, or find zero rows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql
import pytest

from dialer.core.calls import CallStatus
from dialer.core.errors import InvalidInput, TeamDatabaseError
from dialer.core.team import TeamRole
from dialer.history import CallOrigin, CallRecord
from dialer.history import postgres_admin as admin
from dialer.history.postgres_store import PostgresHistory
from dialer.history.sqlite_store import SqliteHistory
from dialer.history.team_store import TeamHistory
from tests.history.test_sqlite_store import call, report
from tests.postgres import SERVER_DSN, TeamDatabase

Denied = (psycopg.errors.InsufficientPrivilege,)


@dataclass
class Team:
    db: TeamDatabase
    alice: str
    bob: str
    sue: str  # supervisor
    rex: str  # receiver

    def sql(self, user: str) -> Any:
        return self.db.connect(user, autocommit=True)

    def store(self, user: str, role: TeamRole) -> PostgresHistory:
        return PostgresHistory(self.db.dsn(), user=user, role=role)


@pytest.fixture
def team(team_database: TeamDatabase) -> Team:
    admin.setup(team_database.admin_dsn)
    names = {}
    for name, role in (
        ("alice", TeamRole.AGENT),
        ("bob", TeamRole.AGENT),
        ("sue", TeamRole.SUPERVISOR),
        ("rex", TeamRole.RECEIVER),
    ):
        names[name] = team_database.person(name)
        admin.add_person(team_database.admin_dsn, names[name], role, f"pw-{name}")
    return Team(team_database, **names)


async def _place(team: Team) -> None:
    """Alice and Bob each place a call through the dialer's own store; Alice's finishes."""
    for user, call_id in ((team.alice, "a1"), (team.bob, "b1")):
        store = team.store(user, TeamRole.AGENT)
        try:
            record = await store.insert(call(call_id, status=CallStatus.ACCEPTED))
            if call_id == "a1":
                await store.amend(record, status=CallStatus.COMPLETED, talk_seconds=30)
                await store.annotate("a1", note="callback Friday")
        finally:
            store.close()


async def test_an_agent_reads_only_their_own_rows_on_every_table(team: Team) -> None:
    await _place(team)
    with team.sql(team.alice) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM dialer.calls")] == ["a1"]
        assert {r[0] for r in conn.execute("SELECT call_id FROM dialer.timeline")} == {"a1"}
        assert conn.execute("SELECT count(*) FROM dialer.reports").fetchone()[0] == 0
        assert [r[0] for r in conn.execute("SELECT name FROM dialer.people")] == [team.alice]
        # Looking a call up by its id tells nothing either.
        assert conn.execute("SELECT * FROM dialer.calls WHERE id = 'b1'").fetchall() == []
        with pytest.raises(Denied):
            conn.execute("SELECT * FROM dialer.receiver_secrets")


async def test_an_agent_changes_and_deletes_nothing_of_anyone_elses(team: Team) -> None:
    await _place(team)
    with team.sql(team.alice) as conn:
        for statement in (
            "UPDATE dialer.calls SET note = 'mine now' WHERE id = 'b1'",
            "UPDATE dialer.calls SET status = 'busy' WHERE id = 'b1'",
            "UPDATE dialer.calls SET note = 'x'",  # every row: only her own are reachable
        ):
            conn.execute(statement)
        assert conn.execute("SELECT note FROM dialer.calls").fetchall() == [("x",)]
        with team.sql(team.sue) as supervisor:
            row = supervisor.execute("SELECT note, status FROM dialer.calls WHERE id = 'b1'")
            assert row.fetchone() == ("", "accepted")
        for statement in (
            "DELETE FROM dialer.calls WHERE id = 'b1'",
            "DELETE FROM dialer.timeline",
            "DELETE FROM dialer.reports",
            "TRUNCATE dialer.calls",
        ):
            with pytest.raises(Denied):
                conn.execute(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE dialer.calls DISABLE ROW LEVEL SECURITY")


async def test_an_agent_cannot_write_in_someone_elses_name(team: Team) -> None:
    await _place(team)
    with team.sql(team.alice) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO dialer.calls (id, account, provider, customer, status, "
                "created_at, updated_at, placed_by) "
                "VALUES ('fake', 'a', 'c2c-v2', '+1', 'completed', 1, 1, %s)",
                (team.bob,),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO dialer.timeline (call_id, at, status, source) "
                "VALUES ('b1', 2, 'busy', 'app')"
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO dialer.reports (call_id, received_at, source, digest, body) "
                "VALUES ('b1', 2, 'poll', 'd', '{}')"
            )
        # Taking over Bob's call through an upsert on its id.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO dialer.calls (id, account, provider, customer, status, "
                "created_at, updated_at) VALUES ('b1', 'a', 'c2c-v2', '+1', 'busy', 1, 1) "
                "ON CONFLICT (id) DO UPDATE SET status = 'busy'"
            )
    with team.sql(team.sue) as supervisor:
        assert supervisor.execute("SELECT status FROM dialer.calls WHERE id = 'b1'").fetchone() == (
            "accepted",
        )
        assert supervisor.execute("SELECT count(*) FROM dialer.calls").fetchone() == (2,)


async def test_an_agent_cannot_rewrite_their_own_call_once_placed(team: Team) -> None:
    await _place(team)
    with team.sql(team.alice) as conn:
        for column, value in (
            ("customer", "+14155550100"),
            ("created_at", 0),
            ("account", "other"),
            ("placed_by", team.bob),
            ("origin", "outside"),
            ("id", "renamed"),
        ):
            with pytest.raises(Denied):
                conn.execute(
                    f"UPDATE dialer.calls SET {column} = %s WHERE id = 'a1'",  # noqa: S608
                    (value,),
                )
        # Her finished call's outcome is the audit's.
        for assignment in ("status = 'no-answer'", "talk_seconds = 600", "answered = false"):
            with pytest.raises(Denied, match="cannot be rewritten"):
                conn.execute(f"UPDATE dialer.calls SET {assignment} WHERE id = 'a1'")  # noqa: S608
        with pytest.raises(Denied):
            conn.execute("DELETE FROM dialer.calls WHERE id = 'a1'")
        # What she may still do: annotate her own call.
        conn.execute("UPDATE dialer.calls SET disposition = 'sale' WHERE id = 'a1'")
        row = conn.execute("SELECT status, talk_seconds, disposition FROM dialer.calls")
        assert row.fetchall() == [("completed", 30, "sale")]


async def test_a_supervisor_reads_everyones_calls_and_annotates_but_rewrites_nothing(
    team: Team,
) -> None:
    await _place(team)
    store = team.store(team.sue, TeamRole.SUPERVISOR)
    try:
        assert sorted((r.id, r.user) for r in store.iter_records(_all())) == [
            ("a1", team.alice),
            ("b1", team.bob),
        ]
        assert [e.status for e in store.timeline("a1")][-1] is CallStatus.COMPLETED
        annotated = await store.annotate("b1", disposition="no interest")
        assert annotated.disposition == "no interest"
        assert store.totals_by_person(_all())[team.alice].talk_seconds == 30
    finally:
        store.close()
    with team.sql(team.sue) as conn:
        for statement in (
            "UPDATE dialer.calls SET status = 'busy' WHERE id = 'b1'",
            "UPDATE dialer.calls SET customer = '+1' WHERE id = 'b1'",
            "DELETE FROM dialer.calls",
            "DELETE FROM dialer.timeline",
        ):
            with pytest.raises(Denied):
                conn.execute(statement)
        with pytest.raises(Denied, match="someone else"):
            conn.execute("UPDATE dialer.calls SET talk_seconds = 1 WHERE id = 'a1'")
        with pytest.raises(Denied, match="row-level security"):
            conn.execute(
                "INSERT INTO dialer.calls (id, account, provider, customer, status, "
                "created_at, updated_at, placed_by) "
                "VALUES ('s1', 'a', 'c2c-v2', '+1', 'completed', 1, 1, %s)",
                (team.alice,),
            )
        # A call she places herself is hers, as an agent's is.
        conn.execute(
            "INSERT INTO dialer.calls (id, account, provider, customer, status, created_at, "
            "updated_at) VALUES ('s2', 'a', 'c2c-v2', '+1', 'accepted', 1, 1)"
        )
        conn.execute("UPDATE dialer.calls SET status = 'completed' WHERE id = 's2'")
        with pytest.raises(Denied, match="is finished"):
            conn.execute("UPDATE dialer.calls SET status = 'busy' WHERE id = 's2'")
        with pytest.raises(Denied):
            conn.execute("SELECT * FROM dialer.receiver_secrets")


async def test_a_receiver_reads_only_what_matching_needs_and_adds_outcomes(team: Team) -> None:
    await _place(team)
    store = team.store(team.rex, TeamRole.RECEIVER)
    try:
        stored = await store.ingest(report(call_id="b1", talk_seconds=12))
        assert (stored.id, stored.status) == ("b1", CallStatus.COMPLETED)
        outside = await store.ingest(report(customer="14155550123", agent="14155550124"))
        assert outside.origin is CallOrigin.OUTSIDE
    finally:
        store.close()
    with team.sql(team.rex) as conn:
        assert conn.execute("SELECT count(*) FROM dialer.calls").fetchone() == (3,)
        for statement in (
            "SELECT note FROM dialer.calls",
            "SELECT disposition, request FROM dialer.calls",
            "SELECT * FROM dialer.calls",
            "SELECT body FROM dialer.reports",
            "SELECT * FROM dialer.timeline",
            "UPDATE dialer.calls SET note = 'x'",
            "UPDATE dialer.calls SET customer = '+1'",
            "DELETE FROM dialer.calls",
            "DELETE FROM dialer.reports",
        ):
            with pytest.raises(Denied):
                conn.execute(statement)
        # A call it adds is one placed outside the app, in nobody's name.
        with pytest.raises(Denied, match="row-level security"):
            conn.execute(
                "INSERT INTO dialer.calls (id, account, provider, customer, status, "
                "created_at, updated_at) VALUES ('r1', 'a', 'c2c-v2', '+1', 'completed', 1, 1)"
            )
        assert conn.execute("SELECT count(*) FROM dialer.receiver_secrets").fetchone() == (1,)
    with team.sql(team.sue) as supervisor:
        row = supervisor.execute(
            "SELECT status, talk_seconds, placed_by FROM dialer.calls WHERE id = 'b1'"
        ).fetchone()
        assert row == ("completed", 12, team.bob)


def test_a_receiver_without_the_teams_webhook_path_is_told_to_run_setup(team: Team) -> None:
    with team.sql(team.db.admin) as conn:
        conn.execute("DELETE FROM dialer.receiver_secrets")
    store = team.store(team.rex, TeamRole.RECEIVER)
    try:
        with pytest.raises(TeamDatabaseError) as info:
            store.team_secret("webhook_path")
    finally:
        store.close()
    assert str(info.value) == (
        f"The team history ({store.where}) has no secret path for the webhook URL: run "
        "'dialer team setup'"
    )


def _all() -> Any:
    from dialer.history import HistoryQuery

    return HistoryQuery()


def test_people_are_login_roles_with_a_scram_password_only(team: Team) -> None:
    with psycopg.connect(SERVER_DSN, autocommit=True) as server:
        rows = server.execute(
            "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY(%s)",
            ([team.alice, team.sue],),
        ).fetchall()
    assert len(rows) == 2
    for _name, verifier in rows:
        assert verifier.startswith("SCRAM-SHA-256$")
        assert "pw-" not in verifier
    people = {p.name: p for p in admin.list_people(team.db.admin_dsn)}
    assert people[team.sue].role is TeamRole.SUPERVISOR
    assert all(p.active and p.can_log_in for p in people.values())


def test_a_person_removed_can_no_longer_log_in_and_their_calls_stay(team: Team) -> None:
    admin.remove_person(team.db.admin_dsn, team.bob)
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        team.sql(team.bob)
    people = {p.name: p for p in admin.list_people(team.db.admin_dsn)}
    assert not people[team.bob].active
    assert not people[team.bob].can_log_in
    with pytest.raises(InvalidInput, match="not in the team"):
        admin.remove_person(team.db.admin_dsn, team.db.person("nobody"))


def test_a_name_that_is_taken_or_unusable_is_refused_with_a_sentence(team: Team) -> None:
    with pytest.raises(InvalidInput, match="in the team already"):
        admin.add_person(team.db.admin_dsn, team.alice, TeamRole.AGENT, "pw")
    with pytest.raises(InvalidInput, match="exists already and is not this team's"):
        admin.add_person(team.db.admin_dsn, team.db.admin, TeamRole.AGENT, "pw")
    for name in ("Alice", "1abc", "al ice", "pg_admin", "a" * 64, 'x";drop'):
        with pytest.raises(InvalidInput):
            admin.add_person(team.db.admin_dsn, name, TeamRole.AGENT, "pw")
    with pytest.raises(InvalidInput, match="control character"):
        admin.add_person(team.db.admin_dsn, team.db.person("carl"), TeamRole.AGENT, "pw\nx")


async def test_reports_arriving_together_are_stored_as_one_at_a_time_would(team: Team) -> None:
    """The ingest thread stores the reports waiting together in one transaction: each is
    still applied as the rules say, a redelivery within the batch is stored once, and a
    report the database refuses spoils none of the others."""
    alice = team.store(team.alice, TeamRole.AGENT)
    try:
        for n in range(30):
            await alice.insert(
                call(f"c{n}", status=CallStatus.ACCEPTED, customer=f"+9188671350{n:02d}")
            )
    finally:
        alice.close()
    rex = team.store(team.rex, TeamRole.RECEIVER)
    try:
        reports = [report(call_id=f"c{n}", talk_seconds=n) for n in range(30)]
        reports += [report(call_id=f"c{n}", talk_seconds=n) for n in range(10)]  # again
        reports += [report(customer=f"1415555{n:04d}", agent="14155550000") for n in range(5)]
        spoiled = report(call_id="c29", body="nul \x00 byte")
        stored = await asyncio.gather(
            *(rex.ingest(r) for r in reports), rex.ingest(spoiled), return_exceptions=True
        )
    finally:
        rex.close()
    assert isinstance(stored[-1], TeamDatabaseError)
    assert all(isinstance(r, CallRecord) for r in stored[:-1])
    assert [r.id for r in stored[:30]] == [f"c{n}" for n in range(30)]  # type: ignore[union-attr]
    assert [r.id for r in stored[30:40]] == [f"c{n}" for n in range(10)]  # type: ignore[union-attr]
    with team.sql(team.sue) as conn:
        calls = conn.execute(
            "SELECT id, status, talk_seconds FROM dialer.calls WHERE origin = 'app' ORDER BY id"
        ).fetchall()
        assert sorted(calls) == sorted((f"c{n}", "completed", n) for n in range(30))
        assert conn.execute("SELECT count(*) FROM dialer.reports").fetchone() == (35,)
        outside = conn.execute("SELECT count(*) FROM dialer.calls WHERE origin = 'outside'")
        assert outside.fetchone() == (5,)
        steps = conn.execute(
            "SELECT count(*) FROM dialer.timeline WHERE status = 'completed'"
        ).fetchone()
        assert steps == (35,)


@pytest.mark.allow_warnings_log(r"Call dup was not sent to the team history: .*row-level security")
async def test_a_call_the_database_refuses_holds_back_no_other(team: Team, tmp_path: Path) -> None:
    """A desktop whose file holds a call the team database refuses (here: one whose id is
    Bob's) sends every other call, and keeps the refused one to itself."""
    bob = team.store(team.bob, TeamRole.AGENT)
    try:
        await bob.insert(call("dup", status=CallStatus.ACCEPTED))
    finally:
        bob.close()
    desktop = TeamHistory(
        SqliteHistory(tmp_path / "calls.sqlite3"),
        team.store(team.alice, TeamRole.AGENT),
        team.alice,
        send_in_background=False,
    )
    try:
        await desktop.insert(call("dup", status=CallStatus.BUSY))
        await desktop.insert(call("mine", status=CallStatus.ACCEPTED))
        assert desktop.send_waiting() == 1
        assert desktop.state().waiting == 0
        assert desktop.local.get("dup") is not None  # kept here
    finally:
        desktop.close()
    with team.sql(team.sue) as conn:
        rows = conn.execute("SELECT id, status, placed_by FROM dialer.calls ORDER BY id")
        assert rows.fetchall() == [("dup", "accepted", team.bob), ("mine", "accepted", team.alice)]


def _heard_until(conn: Any, last: str) -> set[str]:
    """The call ids a listening connection heard, up to and including ``last``'s (a
    connection is told in commit order, so whatever it would hear before that is heard)."""
    heard: set[str] = set()
    for note in conn.notifies(timeout=10):
        heard.add(note.payload)
        if note.payload == last:
            return heard
    raise AssertionError(f"{last} was never heard (heard {sorted(heard)})")


def _listening(team: Team, user: str) -> Any:
    conn = team.sql(user)
    [(channel,)] = conn.execute(
        "SELECT channel FROM dialer.people WHERE name = current_user"
    ).fetchall()
    conn.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(channel)))
    conn.execute("LISTEN dialer_calls")  # schema 1's channel for everyone: silent now
    return conn


async def test_each_person_hears_only_of_the_calls_they_may_read(team: Team) -> None:
    """An agent's window is told of their own calls, a supervisor's of everyone's; no
    agent hears another's call ids, nor can read another's channel name."""
    conns: list[Any] = []
    try:
        for who in (team.alice, team.bob, team.sue):
            conns.append(_listening(team, who))
        alice, bob, sue = conns
        with team.sql(team.alice) as conn:  # only her own row, so only her own channel
            assert len(conn.execute("SELECT channel FROM dialer.people").fetchall()) == 1
        for user, call_id in (
            (team.alice, "a1"),
            (team.bob, "b1"),
            (team.alice, "a2"),
            (team.bob, "b2"),
        ):
            store = team.store(user, TeamRole.AGENT)
            try:
                await store.insert(call(call_id, status=CallStatus.ACCEPTED))
            finally:
                store.close()
        assert _heard_until(alice, "a2") == {"a1", "a2"}  # b1 was committed before a2
        assert _heard_until(bob, "b2") == {"b1", "b2"}
        assert _heard_until(sue, "b2") == {"a1", "b1", "a2", "b2"}
    finally:
        for conn in conns:
            conn.close()


def test_an_upgrade_from_schema_1_gives_each_person_a_channel_of_their_own(
    team_database: TeamDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dialer.history import postgres_schema as schema

    with monkeypatch.context() as old:
        old.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        old.setattr(schema, "LATEST", 1)
        admin.setup(team_database.admin_dsn)
        for name in ("ann", "ben"):
            admin.add_person(
                team_database.admin_dsn, team_database.person(name), TeamRole.AGENT, "pw"
            )
    result = admin.setup(team_database.admin_dsn)  # this dialer's setup upgrades it
    assert (result.before, result.after) == (1, schema.LATEST)
    with team_database.connect(team_database.admin, autocommit=True) as conn:
        channels = [row[0] for row in conn.execute("SELECT channel FROM dialer.people")]
    assert len(channels) == len(set(channels)) == 2
    assert all(c.startswith(schema.CHANNEL_PREFIX) and len(c) == 45 for c in channels)


async def test_a_desktops_late_call_takes_over_the_outside_call_its_report_made(
    team: Team,
) -> None:
    """Alice's desktop could not reach the team database while a receiver could: the
    provider's report came first and made a call placed outside the app. When her call
    arrives (same provider reference, same account), it is that call: one row, hers, with
    the report and its outcome."""
    from dialer.core.reports import ProviderReport
    from dialer.history.postgres_store import DesktopCall

    receiver = team.store(team.rex, TeamRole.RECEIVER)
    try:
        report = ProviderReport(
            provider="c2c-v2",
            source="webhook",
            body='{"callId": "ref-9", "status": "ANSWER"}',
            status=CallStatus.COMPLETED,
            account="a",
            provider_ref="ref-9",
            customer="918867135000",
            agent="919876543210",
            answered=True,
            talk_seconds=42,
            cause="NORMAL_CLEARING",
        )
        outside = await receiver.ingest(report)
        assert outside.origin is CallOrigin.OUTSIDE
        desktop = team.store(team.alice, TeamRole.AGENT)
        try:
            mine = call("a-late", status=CallStatus.ACCEPTED, provider_ref="ref-9")
            desktop.merge([DesktopCall(mine, [], [])])
            other = call("a-other", status=CallStatus.ACCEPTED, provider_ref="ref-10")
            desktop.merge([DesktopCall(other, [], [])])  # no outside call of its own: as sent
            # Sent before the provider answered (no reference yet), then again with it.
            # (Another customer: an open call to the same numbers would match the report.)
            later = replace(report, provider_ref="ref-11", body='{"r": 11}', customer="91999")
            assert (await receiver.ingest(later)).origin is CallOrigin.OUTSIDE
            early = call("a-early", status=CallStatus.PLACING, customer="+91999")
            desktop.merge([DesktopCall(early, [], [])])
            desktop.merge([DesktopCall(replace(early, provider_ref="ref-11"), [], [])])
            assert [r.body for r in desktop.reports("a-early")] == ['{"r": 11}']
            seen = desktop.get("a-late")
            assert seen is not None
            assert (seen.status, seen.answered, seen.talk_seconds) == (
                CallStatus.COMPLETED,
                True,
                42,
            )
            assert [r.body for r in desktop.reports("a-late")] == [report.body]  # hers now
        finally:
            desktop.close()
    finally:
        receiver.close()
    with team.sql(team.sue) as conn:
        rows = conn.execute("SELECT id, origin, placed_by FROM dialer.calls ORDER BY id").fetchall()
    assert rows == [
        ("a-early", "app", team.alice),
        ("a-late", "app", team.alice),
        ("a-other", "app", team.alice),
    ]


async def test_a_desktops_batch_arrives_whole_however_large_and_once_per_call(
    team: Team,
) -> None:
    """More calls in one batch than PostgreSQL takes parameters for in one statement, one of them
    twice (the later copy stands), each with its timeline and a report: all arrive, once."""
    from dialer.history.postgres_store import DesktopCall
    from dialer.history.records import StoredReport, TimelineEntry

    def sent(n: int, status: CallStatus) -> DesktopCall:
        record = call(f"big-{n:04}", status=status, talk_seconds=n)
        steps = [TimelineEntry(1_700_000_000.0 + n, status, "app", f"step {n}")]
        return DesktopCall(record, steps, [StoredReport(1_700_000_001.0, "poll", f"r{n}")])

    batch = [sent(n, CallStatus.ACCEPTED) for n in range(2500)]
    batch.append(sent(7, CallStatus.BUSY))
    desktop = team.store(team.alice, TeamRole.AGENT)
    try:
        desktop.merge(batch)
        desktop.merge(batch)  # sent again after a crash: nothing changes
    finally:
        desktop.close()
    with team.sql(team.sue) as conn:
        calls = conn.execute(
            "SELECT count(*), count(DISTINCT id), sum(talk_seconds) FROM dialer.calls"
        ).fetchone()
        busy = conn.execute("SELECT id FROM dialer.calls WHERE status = 'busy'").fetchall()
        steps = conn.execute("SELECT count(*) FROM dialer.timeline").fetchone()
        reports = conn.execute("SELECT count(*) FROM dialer.reports").fetchone()
    assert calls == (2500, 2500, sum(range(2500)))
    assert busy == [("big-0007",)]
    assert steps == (2501,)  # call 7's two steps
    assert reports == (2500,)  # the same body twice is one report
