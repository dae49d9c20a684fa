"""A real PostgreSQL server for the team history's tests.

The machine runs PostgreSQL on 127.0.0.1:5432 with trust authentication (``DIALER_TEST_PG``
names another server, as a libpq DSN of a role that may create databases and roles). Each
test gets a database and an administrator role of its own, named after a random token, and
every role it creates starts with that token; all of them are dropped after the test, and
nothing else on the server is touched.

Without a server these tests skip, except under ``CI=true``, where a missing server fails
the run (a green CI must mean the team history was tested).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

SERVER_DSN = os.environ.get(
    "DIALER_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)


def _server() -> Any:
    import psycopg

    return psycopg.connect(SERVER_DSN, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server's DSN; skips (fails under CI=true) when there is none."""
    import psycopg

    try:
        with _server() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        message = f"no PostgreSQL server at {SERVER_DSN!r} ({str(exc).strip()})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: CI needs one for the team history's tests")
        pytest.skip(message)
    return SERVER_DSN


@dataclass
class TeamDatabase:
    """One test's own database: ``admin_dsn`` may create roles and tables in it."""

    token: str
    database: str
    admin: str
    host: str = "127.0.0.1"
    port: str = "5432"
    people: list[str] = field(default_factory=list)

    def dsn(self, user: str | None = None) -> str:
        base = f"postgresql://{self.host}:{self.port}/{self.database}"
        return f"{base}?user={user}" if user else base

    @property
    def admin_dsn(self) -> str:
        return self.dsn(self.admin)

    def person(self, name: str) -> str:
        """A person's login name, unique to this test (dropped after it)."""
        return f"{self.token}_{name}"

    def connect(self, user: str, password: str | None = None, **kwargs: Any) -> Any:
        import psycopg

        extra: dict[str, Any] = {"password": password} if password else {}
        return psycopg.connect(self.dsn(), user=user, connect_timeout=5, **extra, **kwargs)


def _host_port(dsn: str) -> tuple[str, str]:
    from psycopg import conninfo

    parts = conninfo.conninfo_to_dict(dsn)
    return str(parts.get("host") or "127.0.0.1"), str(parts.get("port") or "5432")


@pytest.fixture
def team_database(postgres_server: str) -> Iterator[TeamDatabase]:
    token = "t" + secrets.token_hex(5)
    host, port = _host_port(postgres_server)
    team = TeamDatabase(
        token=token, database=f"{token}_db", admin=f"{token}_admin", host=host, port=port
    )
    with _server() as conn:
        conn.execute(f'CREATE ROLE "{team.admin}" LOGIN CREATEROLE')
        conn.execute(f'CREATE DATABASE "{team.database}" OWNER "{team.admin}"')
    try:
        yield team
    finally:
        with _server() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (team.database,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{team.database}" WITH (FORCE)')
            roles = [
                row[0]
                for row in conn.execute(
                    "SELECT rolname FROM pg_roles WHERE rolname LIKE %s ORDER BY rolname DESC",
                    (token + "\\_%",),
                )
            ]
            for role in roles:
                if role != team.admin:
                    conn.execute(f'DROP ROLE IF EXISTS "{role}"')
            conn.execute(f'DROP ROLE IF EXISTS "{team.admin}"')
