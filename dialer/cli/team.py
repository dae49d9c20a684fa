"""``dialer team``: one shared call history for a team, on PostgreSQL.

An administrator creates the schema (``setup``) and the people (``user add|list|remove``)
with a DSN that names a role allowed to create roles and tables; its password comes from
``PGPASSWORD`` or ``~/.pgpass`` as for ``psql``, never from the command line. Each desktop
then ``join``s as its person: the DSN it keeps carries no password, theirs goes to the OS
keyring. ``status``, ``sync`` and ``leave`` act on this profile's membership.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from dialer.core.errors import InvalidInput, TeamDatabaseError, TeamUnreachable
from dialer.core.paths import AppPaths
from dialer.core.team import (
    TeamMembership,
    TeamRole,
    check_member_dsn,
    check_person_name,
    describe_dsn,
    dsn_parts,
    forget_membership,
    load_membership,
    save_membership,
)

ROLES = [role.value for role in TeamRole]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    team = commands.add_parser(
        "team",
        help="a team's shared call history on PostgreSQL (set up, people, join, sync)",
        description="A shared call history for a team: every agent's calls in one "
        "PostgreSQL database, each person seeing what their role allows. DSN is a libpq "
        "connection string (postgresql://host:port/database?sslmode=require); an "
        "administrator's password comes from PGPASSWORD or ~/.pgpass, a person's from "
        "standard input or a prompt, never from the command line.",
    )
    actions = team.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    setup = actions.add_parser(
        "setup", help="create or upgrade the team schema (idempotent; an administrator's DSN)"
    )
    setup.add_argument("dsn", metavar="DSN")
    user = actions.add_parser("user", help="add, list and disable people (administrator)")
    people = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = people.add_parser(
        "add", help="a login for a person; their password on standard input (or prompted)"
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--dsn", required=True, metavar="DSN")
    listing = people.add_parser("list", help="the team's people and their roles")
    listing.add_argument("--dsn", required=True, metavar="DSN")
    listing.add_argument("--json", action="store_true")
    remove = people.add_parser(
        "remove", help="disable a person's login; their calls stay in the history"
    )
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--dsn", required=True, metavar="DSN")
    join = actions.add_parser(
        "join",
        help="this profile joins the team as NAME (DSN without password; the password on "
        "standard input or prompted, kept in the OS keyring)",
    )
    join.add_argument("dsn", metavar="DSN")
    join.add_argument("--user", required=True, metavar="NAME")
    status = actions.add_parser(
        "status", help="joined or not, as whom, reachable, calls waiting to be sent"
    )
    status.add_argument("--json", action="store_true")
    actions.add_parser("sync", help="send the calls that wait now; exit 0 when none is left")
    actions.add_parser("leave", help="this profile leaves the team (its own history stays)")


def run(args: argparse.Namespace, paths: AppPaths) -> int:
    command = args.team_command
    if command == "setup":
        return _setup(args.dsn)
    if command == "user":
        return _user(args)
    if command == "join":
        return _join(args, paths)
    if command == "status":
        return _status(args, paths)
    if command == "sync":
        return _sync(paths)
    if command == "leave":
        return _leave(paths)
    raise AssertionError(command)  # pragma: no cover


def _admin_dsn(dsn: str) -> str:
    if "password" in dsn_parts(dsn):
        raise InvalidInput(
            "The connection string carries a password, which would be seen in the process "
            "list and the shell's history: put it in PGPASSWORD or ~/.pgpass instead"
        )
    return dsn


def _setup(dsn: str) -> int:
    from dialer.history import postgres_admin

    result = postgres_admin.setup(_admin_dsn(dsn))
    where = describe_dsn(dsn)
    if result.before == result.after:
        print(f"The team history in {where} is up to date (schema {result.after}).")
    elif result.before == 0:
        print(f"Created the team history in {where} (schema {result.after}).")
    else:
        print(
            f"Upgraded the team history in {where} from schema {result.before} to {result.after}."
        )
    roles = ", ".join(f"{role.value}: {name}" for role, name in result.roles.items())
    print(f"Team roles: {roles}.")
    if not result.number_search:
        print(
            "Number search scans the calls: pg_trgm could not be enabled in this database "
            "(an administrator may run CREATE EXTENSION pg_trgm, then setup again).",
            file=sys.stderr,
        )
    return 0


def _password(what: str, *, confirm: bool) -> str:
    if sys.stdin is None:
        raise InvalidInput(f"No {what} given: pipe it on standard input")
    if sys.stdin.isatty():
        secret = getpass.getpass(f"{what}: ")
        if confirm and getpass.getpass(f"{what} again: ") != secret:
            raise InvalidInput("The two passwords differ; nothing was changed")
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise InvalidInput(f"No {what} given (standard input was empty)")
    return secret


def _user(args: argparse.Namespace) -> int:
    from dialer.history import postgres_admin

    dsn = _admin_dsn(args.dsn)
    if args.user_command == "add":
        name = check_person_name(args.name)
        password = _password(f"Password for {name}", confirm=True)
        person = postgres_admin.add_person(dsn, name, TeamRole(args.role), password)
        print(f"Added {person.name} to the team as {person.role.value}.")
        return 0
    if args.user_command == "list":
        people = postgres_admin.list_people(dsn)
        if args.json:
            print(json.dumps([p.as_dict() for p in people]))
            return 0
        if not people:
            print("Nobody is in the team yet: add people with 'dialer team user add'.")
            return 0
        width = max(len(p.name) for p in people)
        for p in people:
            state = "" if p.active else "  (disabled)"
            print(f"{p.name.ljust(width)}  {p.role.value}{state}")
        return 0
    if args.user_command == "remove":
        person = postgres_admin.remove_person(dsn, args.name)
        print(f"{person.name} can no longer log in; their calls stay in the history.")
        return 0
    raise AssertionError(args.user_command)  # pragma: no cover


def _join(args: argparse.Namespace, paths: AppPaths) -> int:
    import psycopg

    from dialer.core.secrets import KeyringSecretStore
    from dialer.history import postgres_admin

    dsn = check_member_dsn(args.dsn)
    user = check_person_name(args.user)
    password = _password(f"Team password for {user}", confirm=False)
    with postgres_admin.connected(dsn, user=user, password=password) as conn:
        postgres_admin.check_version(conn, dsn)
        try:
            row = conn.execute(
                "SELECT role FROM dialer.people WHERE name = current_user AND active"
            ).fetchone()
        except psycopg.errors.InsufficientPrivilege:
            row = None
    if row is None:
        raise TeamDatabaseError(f"{user} is not in the team of {describe_dsn(dsn)}")
    membership = TeamMembership(dsn=dsn, user=user, role=TeamRole(row[0]))
    previous = load_membership(paths.config_dir)
    secrets = KeyringSecretStore()
    secrets.set(membership.secret_key, password)
    if previous is not None and previous.secret_key != membership.secret_key:
        secrets.delete(previous.secret_key)
    paths.ensure()
    save_membership(paths.config_dir, membership)
    if membership.role is not TeamRole.RECEIVER:
        from dialer.history.factory import open_history

        # Opening a joined desktop's history creates its outbox: from now on every call
        # recorded here is noted for sending.
        open_history(paths, send_in_background=False).close()
    print(f"Joined the team history in {describe_dsn(dsn)} as {user} ({membership.role.value}).")
    return 0


def _state(paths: AppPaths) -> dict[str, Any]:
    from dialer.history import team_outbox

    membership = load_membership(paths.config_dir)
    if membership is None:
        return {"joined": False}
    state: dict[str, Any] = {
        "joined": True,
        "user": membership.user,
        "role": membership.role.value,
        "database": describe_dsn(membership.dsn),
        "waiting": team_outbox.Outbox(paths.calls_db).count() if paths.calls_db.exists() else 0,
    }
    from dialer.history.factory import team_store

    store = team_store(membership)
    try:
        store.check()
        state.update(reachable=True, problem="")
    except TeamDatabaseError as exc:
        state.update(reachable=False, problem=str(exc))
    finally:
        store.close()
    return state


def _status(args: argparse.Namespace, paths: AppPaths) -> int:
    state = _state(paths)
    if args.json:
        print(json.dumps(state))
        return 0
    if not state["joined"]:
        print("This profile is not in a team: its history is its own ('dialer team join').")
        return 0
    reach = "reachable" if state["reachable"] else f"not reachable ({state['problem']})"
    print(f"In the team history of {state['database']} as {state['user']} ({state['role']}).")
    print(f"The team database is {reach}.")
    waiting = state["waiting"]
    print(
        "Every call has been sent."
        if not waiting
        else f"{waiting} call{'s' if waiting != 1 else ''} wait{'' if waiting != 1 else 's'} "
        "to be sent."
    )
    return 0


def _sync(paths: AppPaths) -> int:
    from dialer.history.factory import open_history
    from dialer.history.team_store import TeamHistory

    membership = load_membership(paths.config_dir)
    if membership is None:
        raise InvalidInput("This profile is not in a team: nothing to send ('dialer team join')")
    history = open_history(paths.ensure(), send_in_background=False)
    if not isinstance(history, TeamHistory):
        history.close()
        print("A receiver's reports go to the team database directly: nothing waits.")
        return 0
    try:
        sent = history.send_waiting()
    except TeamUnreachable as exc:
        waiting = history.outbox.count()
        raise TeamUnreachable(f"{exc}; {waiting} call(s) still wait to be sent") from None
    finally:
        history.close(send_within=0)
    print(f"Sent {sent} call{'s' if sent != 1 else ''}; nothing waits.")
    return 0


def _leave(paths: AppPaths) -> int:
    from dialer.core.secrets import KeyringSecretStore
    from dialer.history import team_outbox

    membership = load_membership(paths.config_dir)
    if membership is None:
        print("This profile is not in a team.")
        return 0
    waiting = team_outbox.uninstall(paths.calls_db)
    KeyringSecretStore().delete(membership.secret_key)
    forget_membership(paths.config_dir)
    print(f"Left the team history of {describe_dsn(membership.dsn)}.")
    if waiting:
        print(
            f"{waiting} call{'s' if waiting != 1 else ''} had not been sent to it; "
            "they stay in this profile's own history.",
            file=sys.stderr,
        )
    return 0
