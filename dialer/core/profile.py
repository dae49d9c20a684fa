"""A profile: everything one user's app works with, opened together and closed together.

The window and the CLI get their stores and the call service from here, so that what they
read and write is always the same set of files: the user's real profile, or the demo's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from dialer.core.contacts import ContactStore
from dialer.core.flows import FlowStore
from dialer.core.paths import AppPaths
from dialer.core.secrets import KeyringSecretStore, SecretStore
from dialer.core.service import AccountSource, CallService
from dialer.history.sqlite_store import SqliteHistory

logger = logging.getLogger(__name__)


@dataclass
class Profile:
    paths: AppPaths
    accounts: AccountSource
    secrets: SecretStore
    history: SqliteHistory
    contacts: ContactStore
    flows: FlowStore
    service: CallService
    demo: bool = False
    label: str = ""
    simulator: Any = None  # the demo's in-process provider simulator, when there is one
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        self._closers.append(closer)

    async def aclose(self) -> None:
        await self.service.aclose()
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                logger.exception("Closing the profile failed")
        self.history.close()
        self.contacts.close()


def assemble(
    paths: AppPaths, accounts: AccountSource, secrets: SecretStore, *, demo: bool, label: str
) -> Profile:
    paths.ensure()
    history = SqliteHistory(paths.calls_db)
    return Profile(
        paths=paths,
        accounts=accounts,
        secrets=secrets,
        history=history,
        contacts=ContactStore(paths.data_dir / "contacts.sqlite3"),
        flows=FlowStore(paths.config_dir / "flows.toml"),
        service=CallService(accounts, secrets, history),
        demo=demo,
        label=label,
    )


def open_user_profile(paths: AppPaths | None = None) -> Profile:
    """The user's own accounts (TOML + OS keyring), contacts and call records."""
    from dialer.core.accounts import AccountStore

    paths = paths or AppPaths.default()
    return assemble(
        paths,
        AccountStore(paths.accounts_file),
        KeyringSecretStore(),
        demo=False,
        label="",
    )
