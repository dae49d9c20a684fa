"""Shared fixtures: an isolated DIALER_HOME, an in-memory keyring, Qt offscreen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.memory_keyring import MemoryKeyring
from tests.warnings_log import no_unexpected_warnings_logged

__all__ = ["no_unexpected_warnings_logged"]  # an autouse fixture for every test
pytest_plugins = [
    "pytester",
    "tests.postgres",
]  # tests/test_warnings_log.py runs small suites of its own

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyside6"


@pytest.fixture(autouse=True)
def dialer_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes under its own DIALER_HOME, never the user's real folders."""
    home = tmp_path / "dialer-home"
    monkeypatch.setenv("DIALER_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


# Expected warnings of tests in files other developers own at the moment; move each into its
# file as an ``allow_warnings_log`` marker when that file is next edited.
# Keys: a test's node id (without parameters) or a whole file.
_ALLOWED_ELSEWHERE = {
    "tests/history/test_tracking.py::test_provider_failures_while_polling_are_retried": (
        r"had a server error \(HTTP 503\).*\(retrying with backoff\)",
    ),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        test = item.nodeid.split("[")[0]
        for key in (test, test.split("::")[0]):
            patterns = _ALLOWED_ELSEWHERE.get(key)
            if patterns:
                item.add_marker(pytest.mark.allow_warnings_log(*patterns))
