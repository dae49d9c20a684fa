from __future__ import annotations

import asyncio
import threading

import keyring
import pytest
from keyring.backends import fail

from dialer.core.errors import SecretStoreError
from dialer.core.secrets import KeyringSecretStore, MemorySecretStore, get_secret, set_secret
from tests.memory_keyring import MemoryKeyring


def test_keyring_round_trip(memory_keyring: MemoryKeyring) -> None:
    store = KeyringSecretStore()
    store.set("account:a", "s3cret")
    assert memory_keyring.entries[("dialer", "account:a")] == "s3cret"
    assert store.get("account:a") == "s3cret"
    store.delete("account:a")
    assert store.get("account:a") is None
    store.delete("account:a")  # deleting twice is not an error


def test_no_keyring_names_the_fix() -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(SecretStoreError, match="PYTHON_KEYRING_BACKEND") as info:
        KeyringSecretStore().set("account:a", "s3cret")
    assert "s3cret" not in str(info.value)


async def test_async_wrapper_times_out_on_a_blocked_keyring() -> None:
    release = threading.Event()

    class Blocked(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            release.wait(5)
            return None

    keyring.set_keyring(Blocked())
    try:
        with pytest.raises(SecretStoreError, match="did not answer"):
            await get_secret(KeyringSecretStore(), "account:a", timeout=0.2)
    finally:
        release.set()


async def test_async_wrapper_runs_off_the_loop_thread() -> None:
    seen: list[int] = []

    class Recording(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            seen.append(threading.get_ident())
            super().set_password(service, username, password)

    keyring.set_keyring(Recording())
    await set_secret(KeyringSecretStore(), "account:a", "x" * 8)
    assert seen
    assert seen[0] != threading.get_ident()
    await asyncio.sleep(0)


def test_memory_store() -> None:
    store = MemorySecretStore({"k": "v" * 4})
    assert store.get("k") == "vvvv"
    store.delete("k")
    assert store.get("k") is None
