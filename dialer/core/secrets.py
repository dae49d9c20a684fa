"""Account secrets, kept only in the OS keyring (service ``dialer``).

There is deliberately no file fallback: on a machine with no usable keyring the user gets a
sentence that names the fix. Tests and administrators choose the backend the standard way,
with ``PYTHON_KEYRING_BACKEND`` or ``keyring.set_keyring``.

A locked Linux keyring can block its caller until someone types a password, so the async
API runs each call on a daemon thread with a timeout; the window never waits on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

from dialer.core.errors import SecretStoreError
from dialer.core.redact import register_secret
from dialer.core.threads import DaemonThreadExecutor

logger = logging.getLogger(__name__)

SERVICE = "dialer"
DEFAULT_TIMEOUT = 10.0

NO_KEYRING_HELP = (
    "No usable OS keyring was found, and the dialer never stores secrets in a file. "
    "Install and unlock one (GNOME Keyring or KWallet on Linux; Keychain and Windows "
    "Credential Manager work out of the box), or point PYTHON_KEYRING_BACKEND at a backend "
    "your administrator approves"
)

T = TypeVar("T")


class SecretStore(Protocol):
    """Where account secrets live. Sync methods may block; use the async helpers from a loop."""

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, secret: str) -> None: ...
    def delete(self, key: str) -> None: ...


class KeyringSecretStore:
    """The OS keyring through the ``keyring`` package."""

    def __init__(self, service: str = SERVICE):
        self.service = service

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        import keyring.errors

        try:
            return fn()
        except keyring.errors.PasswordDeleteError:
            raise  # "nothing to delete": the caller decides whether that matters
        except keyring.errors.NoKeyringError:
            raise SecretStoreError(NO_KEYRING_HELP) from None
        except keyring.errors.KeyringLocked:
            raise SecretStoreError(
                f"The OS keyring is locked; unlock it and try again ({action})"
            ) from None
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"The OS keyring refused to {action}: {exc}") from None

    def get(self, key: str) -> str | None:
        import keyring

        secret = self._call("read the secret", lambda: keyring.get_password(self.service, key))
        register_secret(secret)
        return secret

    def set(self, key: str, secret: str) -> None:
        """Store ``secret`` and read it back: a backend that accepts and drops it (keyring's
        null backend, a misconfigured one) is an error now, not a missing secret later."""
        import keyring

        register_secret(secret)
        self._call("store the secret", lambda: keyring.set_password(self.service, key, secret))
        kept = self._call("read the secret back", lambda: keyring.get_password(self.service, key))
        if kept != secret:
            raise SecretStoreError(
                f"The keyring in use ({self.backend_name()}) accepted the secret but did not "
                "keep it, so nothing was saved: use one that stores secrets (GNOME Keyring or "
                "KWallet on Linux, Keychain, Windows Credential Manager), or point "
                "PYTHON_KEYRING_BACKEND at one your administrator approves"
            )

    def delete(self, key: str) -> None:
        import keyring
        import keyring.errors

        try:
            self._call("delete the secret", lambda: keyring.delete_password(self.service, key))
        except keyring.errors.PasswordDeleteError:
            logger.info("No keyring entry to delete for %s", key)

    def backend_name(self) -> str:
        import keyring

        backend = keyring.get_keyring()
        return f"{type(backend).__module__}.{type(backend).__name__}"


class MemorySecretStore:
    """Secrets held in this process only: the demo profile and the built-in simulator."""

    def __init__(self, initial: dict[str, str] | None = None):
        self._secrets: dict[str, str] = {}
        for key, value in (initial or {}).items():
            self.set(key, value)

    def get(self, key: str) -> str | None:
        return self._secrets.get(key)

    def set(self, key: str, secret: str) -> None:
        register_secret(secret)
        self._secrets[key] = secret

    def delete(self, key: str) -> None:
        self._secrets.pop(key, None)


_executor = DaemonThreadExecutor()


async def _off_thread(fn: Callable[[], T], what: str, timeout: float) -> T:
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(_executor, fn), timeout)
    except TimeoutError:
        raise SecretStoreError(
            f"The OS keyring did not answer within {timeout:g} s ({what}); "
            "it may be locked and waiting for its password"
        ) from None


async def get_secret(store: SecretStore, key: str, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    return await _off_thread(lambda: store.get(key), "reading a secret", timeout)


async def set_secret(
    store: SecretStore, key: str, secret: str, timeout: float = DEFAULT_TIMEOUT
) -> None:
    await _off_thread(lambda: store.set(key, secret), "storing a secret", timeout)


async def delete_secret(store: SecretStore, key: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    await _off_thread(lambda: store.delete(key), "deleting a secret", timeout)
