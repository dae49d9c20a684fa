"""A keyring backend for TESTS ONLY that keeps entries in a JSON file, so that a ``dialer``
subprocess and the test that started it share one keyring.

The app never stores secrets in a file; this exists because the tests' in-memory keyring
lives in one process, and the kill -9 test must run ``dialer webhooks serve`` as a real
process. Select it with ``PYTHON_KEYRING_BACKEND=tests.webhooks.file_keyring.FileKeyring``
and ``DIALER_TEST_KEYRING_FILE=<path in the test's tmp folder>`` (the repository root on
``PYTHONPATH``).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ENV = "DIALER_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    # Never chosen by keyring's own detection (only by name): not viable by priority.
    priority = -1

    def __init__(self, path: Path | str | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated
        self._path = Path(path) if path is not None else None

    @property
    def path(self) -> Path:
        where = self._path or os.environ.get(ENV)
        if not where:
            raise RuntimeError(f"FileKeyring needs {ENV} (tests only)")
        return Path(where)

    @contextmanager
    def _entries(self) -> Iterator[dict[str, str]]:
        """The entries under an exclusive lock; changes are written back atomically."""
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                entries: dict[str, str] = json.loads(path.read_text())
            except FileNotFoundError:
                entries = {}
            before = dict(entries)
            yield entries
            if entries != before:
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(entries))
                os.replace(tmp, path)

    @staticmethod
    def _key(service: str, username: str) -> str:
        return f"{service}\n{username}"

    def get_password(self, service: str, username: str) -> str | None:
        with self._entries() as entries:
            return entries.get(self._key(service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._entries() as entries:
            entries[self._key(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._entries() as entries:
            if entries.pop(self._key(service, username), None) is None:
                raise PasswordDeleteError(username)
