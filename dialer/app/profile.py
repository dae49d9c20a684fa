"""A profile: everything one user's app works with, opened together and closed together.

The window and the CLI get their stores and the call service from here, so that what they
read and write is always the same set of files: the user's real profile, or the demo's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from dialer.app.service import CallService
from dialer.core.accounts import AccountSource
from dialer.core.contacts import ContactStore
from dialer.core.errors import DialerError
from dialer.core.flows import FlowStore
from dialer.core.paths import AppPaths
from dialer.core.secrets import KeyringSecretStore, SecretStore
from dialer.history.factory import open_history
from dialer.history.store import HistoryStore

logger = logging.getLogger(__name__)


@dataclass
class Profile:
    paths: AppPaths
    accounts: AccountSource
    secrets: SecretStore
    history: HistoryStore
    contacts: ContactStore
    flows: FlowStore
    service: CallService
    demo: bool = False
    label: str = ""
    simulator: Any = None  # the demo's in-process provider simulator, when there is one
    tracker: Any = None  # the CallTracker, once reporting started
    receiver: Any = None  # the in-app WebhookReceiver, when it could start
    webhook_url: str | None = None  # what to register in the C2C v2 panel
    reporting_problem: str = ""  # why the receiver is not running, in one sentence
    _receiver_port: int | None = None  # the port asked for (tests), kept for a retry
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        self._closers.append(closer)

    async def aclose(self) -> None:
        # Background work first (trackers still poll through the service's providers, the
        # receiver still writes to the history), then connections, then the files.
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                logger.exception("Closing the profile failed")
        self._closers.clear()
        await self.service.aclose()
        self.history.close()
        self.contacts.close()

    async def start_reporting(
        self, *, receiver_port: int | None = None, timings: Any = None
    ) -> None:
        """Start learning call outcomes: the tracker (report polling, resumed for calls
        still open) and the C2C v2 webhook receiver. A receiver that cannot start (port in
        use, no keyring) leaves ``reporting_problem`` set and the rest running."""
        from dialer.history.tracking import CallTracker

        # The window listens on this loop; the receiver may serve from the history's own
        # thread (see WebhookReceiver's serve_on), so listeners must be told here.
        self.history.call_listeners_on(asyncio.get_running_loop())
        self.tracker = CallTracker(self.history, self.service, timings=timings)
        self.tracker.start()
        self.on_close(self.tracker.aclose)
        await self.start_receiver(receiver_port)

    async def start_receiver(self, receiver_port: int | None = None) -> bool:
        """Start the C2C v2 webhook receiver (again, after it could not: a keyring that was
        locked, a port that was taken). True once it runs; else ``reporting_problem`` says
        why in one sentence."""
        from dialer.webhooks.receiver import WebhookReceiver
        from dialer.webhooks.settings import load_settings, path_token, receiver_url

        if self.receiver is not None:
            return True
        if receiver_port is not None:
            self._receiver_port = receiver_port
        try:
            settings = load_settings(self.paths)
            token = await path_token(self.secrets)
            receiver = WebhookReceiver(
                self.history,
                self.accounts,
                self.secrets,
                path_token=token,
                host=settings.host,
                port=settings.port if self._receiver_port is None else self._receiver_port,
                serve_on=self.history.serving_thread,
            )
            url = await receiver.start()
        except DialerError as exc:
            problem = f"C2C v2 call reports are not received here: {exc}"
            # Said once; a retry that meets the same problem only notes it.
            level = logging.INFO if problem == self.reporting_problem else logging.WARNING
            self.reporting_problem = problem
            logger.log(level, "%s", problem)
            return False
        self.receiver = receiver
        self.reporting_problem = ""
        self.webhook_url = receiver_url(settings, token) if settings.public_url else url
        self.on_close(receiver.stop)
        return True


def assemble(
    paths: AppPaths, accounts: AccountSource, secrets: SecretStore, *, demo: bool, label: str
) -> Profile:
    paths.ensure()
    history = open_history(paths)
    return Profile(
        paths=paths,
        accounts=accounts,
        secrets=secrets,
        history=history,
        contacts=ContactStore(paths.contacts_db),
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
