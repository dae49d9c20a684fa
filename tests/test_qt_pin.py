"""Regression guard for the PySide6 6.12.0 reference leak that aborts Python 3.11.

6.12.0 drops one reference to ``None`` on every ``processEvents()``; on 3.11 the interpreter
dies with ``Fatal Python error: none_dealloc`` after a few hundred calls. This test counts the
references around many calls, so a release that still leaks fails here (not as a crash at
the end of the suite), and a fixed release passes: then the ``<6.12`` pin can be lifted.
"""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.gui


def test_process_events_keeps_none_references(qapp: object) -> None:
    from PySide6.QtCore import QCoreApplication

    for _ in range(10):  # warm-up: first calls may create cached objects
        QCoreApplication.processEvents()
    before = sys.getrefcount(None)
    for _ in range(200):
        QCoreApplication.processEvents()
    after = sys.getrefcount(None)
    # A leaking build loses exactly one per call (200); allow noise from other objects.
    assert before - after < 50, f"processEvents() lost {before - after} references to None"


def test_installed_pyside_is_inside_the_pin() -> None:
    from importlib.metadata import version

    from packaging.version import Version

    installed = Version(version("PySide6-Essentials"))
    assert Version("6.9") <= installed < Version("6.12"), installed
