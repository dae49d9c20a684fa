"""A profile's membership of a team: which PostgreSQL database holds the team's history,
and who this profile is there. Kept in ``team.toml`` in the config folder; the person's
database password lives only in the OS keyring (:mod:`dialer.core.secrets`), never here,
in a DSN that is printed or logged, or on a command line.

The DSN is a libpq connection string (``postgresql://host:port/db?sslmode=require`` or
``host=... dbname=...``); libpq's own rules apply to it (``sslmode``, ``PGSSLROOTCERT``
and the other ``PG*`` variables, ``~/.pgpass`` for an administrator's commands).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.files import read_toml, write_toml_atomically


class TeamRole(StrEnum):
    AGENT = "agent"  # places calls; reads and annotates only their own
    SUPERVISOR = "supervisor"  # reads and annotates everyone's
    RECEIVER = "receiver"  # the headless webhook receiver's service identity


# PostgreSQL folds unquoted names to lower case and allows 63 bytes; a person's name is a
# login role, so it is kept to what needs no quoting anywhere (psql, pg_hba.conf, logs).
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
NAME_AT_MOST = 63


def check_person_name(name: str) -> str:
    """A person's name in the team (their database login), or InvalidInput saying why not."""
    if not name:
        raise InvalidInput("A person's name is empty")
    if len(name) > NAME_AT_MOST:
        raise InvalidInput(f"'{name[:20]}…' is longer than {NAME_AT_MOST} characters")
    if not set(name) <= _NAME_CHARS or not name[0].isalpha():
        raise InvalidInput(
            f"'{name}' is not a usable name: use lower-case letters, digits and _, "
            "starting with a letter"
        )
    if name.startswith("pg_"):
        raise InvalidInput(f"'{name}' starts with pg_, which PostgreSQL keeps for itself")
    return name


def dsn_parts(dsn: str) -> dict[str, str]:
    """A DSN's parameters, as libpq reads them; InvalidInput when it is not one."""
    from psycopg import conninfo

    try:
        return {key: str(value) for key, value in conninfo.conninfo_to_dict(dsn).items()}
    except Exception as exc:  # psycopg.ProgrammingError: the message names the fault
        raise InvalidInput(f"That is not a PostgreSQL connection string ({exc})") from None


def check_member_dsn(dsn: str) -> str:
    """A DSN a profile may keep: it must name a database and carry no password (the
    password goes to the keyring, so that the DSN can be shown and logged)."""
    parts = dsn_parts(dsn)
    if "password" in parts:
        raise InvalidInput(
            "The connection string carries a password: give it without one; "
            "the password is asked for (or read from standard input) and kept in the keyring"
        )
    if not parts.get("dbname"):
        raise InvalidInput("The connection string names no database (…/DATABASE or dbname=…)")
    return dsn


def describe_dsn(dsn: str) -> str:
    """Where a DSN points, for messages: ``db on host:port`` (never a password)."""
    try:
        parts = dsn_parts(dsn)
    except InvalidInput:
        return "the team database"
    host = parts.get("host") or parts.get("hostaddr") or "the local server"
    port = parts.get("port")
    where = f"{host}:{port}" if port else host
    return f"database {parts.get('dbname', '?')} on {where}"


@dataclass(frozen=True, slots=True)
class TeamMembership:
    dsn: str  # without a password (check_member_dsn)
    user: str  # the person's login role
    role: TeamRole

    @property
    def secret_key(self) -> str:
        """The keyring user name of this person's database password."""
        return f"team:{self.user}@{describe_dsn(self.dsn)}"

    def connection_kwargs(self, password: str | None) -> dict[str, Any]:
        """What psycopg connects with: the DSN, the user, and the password from the keyring
        (given separately, so that no string holding it is ever built or shown)."""
        kwargs: dict[str, Any] = {"conninfo": self.dsn, "user": self.user}
        if password is not None:
            kwargs["password"] = password
        return kwargs


def team_file(config_dir: Path) -> Path:
    return config_dir / "team.toml"


def load_membership(config_dir: Path) -> TeamMembership | None:
    """The profile's team, or None when it has not joined one."""
    path = team_file(config_dir)
    if not path.exists():
        return None
    data = read_toml(path, "team settings") or {}
    try:
        return TeamMembership(
            dsn=check_member_dsn(str(data["dsn"])),
            user=check_person_name(str(data["user"])),
            role=TeamRole(str(data["role"])),
        )
    except (KeyError, ValueError, InvalidInput) as exc:
        raise ConfigError(f"{path} is not a team membership that can be read ({exc})") from None


def save_membership(config_dir: Path, membership: TeamMembership) -> None:
    write_toml_atomically(
        team_file(config_dir),
        {"dsn": membership.dsn, "user": membership.user, "role": str(membership.role)},
    )


def forget_membership(config_dir: Path) -> None:
    team_file(config_dir).unlink(missing_ok=True)
