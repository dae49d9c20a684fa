"""The administrator's side of the team history: create or upgrade the schema, add, list
and disable people. Each runs as the role the administrator's DSN names (one that may
create roles and tables); libpq finds its password (``PGPASSWORD``, ``~/.pgpass``), the
dialer never asks for it.

A person's password is sent only as a SCRAM verifier computed here (libpq's
``PQencryptPasswordConn``), so the clear text never reaches the server, its logs or
``pg_stat_activity``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dialer.core.errors import InvalidInput, TeamDatabaseError, TeamUnreachable
from dialer.core.team import TeamRole, check_person_name, describe_dsn, dsn_parts
from dialer.history import postgres_schema as schema

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT = 10  # seconds; libpq's connect_timeout


# What libpq says when the server answered and said no (retrying will not help), as opposed
# to a server that could not be reached; libpq gives these no SQLSTATE.
_REFUSALS = (
    "authentication failed",
    "not permitted to log in",
    "does not exist",
    "no pg_hba.conf entry",
    "password is required",
    "SSL",
)


def database_error(exc: BaseException, dsn: str) -> TeamDatabaseError:
    """A psycopg failure as the sentence a person is shown (no password is ever in one:
    the server's words name roles, databases and tables only)."""
    import psycopg

    where = describe_dsn(dsn)
    words = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # libpq prefixes the server's words with where it connected ("connection to server at
    # ..., port ... failed: FATAL:  ..."); the sentence names the database already.
    for marker in ("FATAL:", "ERROR:", "failed: "):
        if marker in words:
            words = words.rsplit(marker, 1)[1].strip()
            break
    if isinstance(exc, psycopg.OperationalError) and not isinstance(
        exc, psycopg.errors.InsufficientPrivilege | psycopg.errors.InvalidPassword
    ):
        sqlstate = getattr(exc, "sqlstate", None)
        refused = any(words_ in words for words_ in _REFUSALS)
        if not refused and (sqlstate is None or sqlstate.startswith("08")):
            return TeamUnreachable(f"The team history ({where}) cannot be reached: {words}")
    return TeamDatabaseError(f"The team history ({where}) refused: {words}")


@contextmanager
def connected(dsn: str, **kwargs: Any) -> Iterator[psycopg.Connection[Any]]:
    """A connection to ``dsn`` whose failures are TeamDatabaseError sentences."""
    import psycopg

    try:
        conn = psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, **kwargs)
    except psycopg.Error as exc:
        raise database_error(exc, dsn) from None
    try:
        with conn:
            yield conn
    except psycopg.Error as exc:
        raise database_error(exc, dsn) from None


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The team schema's version in this database (0: none yet)."""
    row = conn.execute("SELECT to_regclass('dialer.meta') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    found = conn.execute("SELECT value FROM dialer.meta WHERE key = 'version'").fetchone()
    return int(found[0]) if found else 0


def group_roles(conn: psycopg.Connection[Any]) -> dict[TeamRole, str]:
    """The team's group role names, as setup recorded them."""
    rows = conn.execute("SELECT key, value FROM dialer.meta WHERE key LIKE 'role:%'").fetchall()
    names = {TeamRole(key.removeprefix("role:")): value for key, value in rows}
    if set(names) != set(TeamRole):
        raise TeamDatabaseError("The team database's roles are not set up: run 'dialer team setup'")
    return names


def check_version(conn: psycopg.Connection[Any], dsn: str) -> None:
    """Refuse a schema this dialer does not know, with one sentence."""
    version = schema_version(conn)
    if version > schema.LATEST:
        raise TeamDatabaseError(
            f"The team history ({describe_dsn(dsn)}) was set up by a newer dialer (schema "
            f"{version}; this one knows up to {schema.LATEST}): update this dialer"
        )
    if version < schema.LATEST:
        raise TeamDatabaseError(
            f"The team history ({describe_dsn(dsn)}) has schema {version}, this dialer needs "
            f"{schema.LATEST}: an administrator runs 'dialer team setup' to upgrade it"
        )


@dataclass(frozen=True, slots=True)
class SetupResult:
    before: int
    after: int
    roles: dict[TeamRole, str]
    number_search: bool  # whether pg_trgm indexes the numbers' digits


def setup(dsn: str) -> SetupResult:
    """Create or upgrade the team schema in the DSN's database; idempotent. Runs in one
    transaction under an advisory lock, so two administrators cannot interleave."""
    from psycopg import sql

    parts = dsn_parts(dsn)
    with connected(dsn) as conn:
        database = conn.info.dbname or parts.get("dbname", "")
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('dialer team setup'))")
        before = schema_version(conn)
        if before > schema.LATEST:
            check_version(conn, dsn)
        conn.execute("CREATE SCHEMA IF NOT EXISTS dialer")
        conn.execute("CREATE TABLE IF NOT EXISTS dialer.meta (key text PRIMARY KEY, value text)")
        names = group_roles(conn) if before else schema.group_role_names(database)
        for role, name in names.items():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
            conn.execute(
                "INSERT INTO dialer.meta (key, value) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (f"role:{role.value}", name),
            )
        roles = schema.quoted_roles(names)
        for version in range(before + 1, schema.LATEST + 1):
            for statement in schema.MIGRATIONS[version - 1](roles):
                conn.execute(statement.encode())
        conn.execute(
            "INSERT INTO dialer.meta (key, value) VALUES ('version', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (str(schema.LATEST),),
        )
        conn.execute(
            "INSERT INTO dialer.receiver_secrets (key, value) VALUES ('webhook_path', %s) "
            "ON CONFLICT DO NOTHING",
            (secrets.token_urlsafe(24),),
        )
        number_search = _number_search(conn)
    return SetupResult(before, schema.LATEST, names, number_search)


def _number_search(conn: psycopg.Connection[Any]) -> bool:
    """A trigram index on the numbers' digits, where pg_trgm can be had (a trusted
    extension since PostgreSQL 13); without it a digits search scans."""
    import psycopg

    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            conn.execute(
                "CREATE INDEX IF NOT EXISTS calls_by_numbers ON dialer.calls "
                "USING gin (numbers gin_trgm_ops)"
            )
    except psycopg.Error:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    role: TeamRole
    active: bool
    can_log_in: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": str(self.role),
            "active": self.active,
            "can_log_in": self.can_log_in,
        }


def _ready(conn: psycopg.Connection[Any], dsn: str) -> dict[TeamRole, str]:
    check_version(conn, dsn)
    return group_roles(conn)


def add_person(dsn: str, name: str, role: TeamRole, password: str) -> Person:
    """A login role for a person, in the team role ``role``."""
    from psycopg import sql

    check_person_name(name)
    if not password:
        raise InvalidInput("The password is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise InvalidInput("The password holds a control character (a line break?)")
    with connected(dsn) as conn:
        groups = _ready(conn, dsn)
        if conn.execute("SELECT 1 FROM dialer.people WHERE name = %s", (name,)).fetchone():
            raise InvalidInput(f"{name} is in the team already")
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            raise InvalidInput(
                f"A PostgreSQL role named {name} exists already and is not this team's: "
                "choose another name"
            )
        verifier = conn.pgconn.encrypt_password(
            password.encode(), name.encode(), b"scram-sha-256"
        ).decode()
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                sql.Identifier(name), sql.Literal(verifier), sql.Identifier(groups[role])
            )
        )
        conn.execute("INSERT INTO dialer.people (name, role) VALUES (%s, %s)", (name, role.value))
    return Person(name, role, True, True)


def list_people(dsn: str) -> list[Person]:
    with connected(dsn) as conn:
        _ready(conn, dsn)
        rows = conn.execute(
            "SELECT p.name, p.role, p.active, coalesce(r.rolcanlogin, false) "
            "FROM dialer.people p LEFT JOIN pg_roles r ON r.rolname = p.name ORDER BY p.name"
        ).fetchall()
    return [Person(name, TeamRole(role), active, login) for name, role, active, login in rows]


def remove_person(dsn: str, name: str) -> Person:
    """Disable a person's login; their calls stay in the history, under their name."""
    from psycopg import sql

    with connected(dsn) as conn:
        _ready(conn, dsn)
        row = conn.execute("SELECT role FROM dialer.people WHERE name = %s", (name,)).fetchone()
        if row is None:
            raise InvalidInput(f"{name} is not in the team")
        conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(name)))
        conn.execute("UPDATE dialer.people SET active = false WHERE name = %s", (name,))
    return Person(name, TeamRole(row[0]), False, False)
