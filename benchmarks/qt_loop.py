"""The window's kind of event loop for a benchmark: Qt (offscreen) driven by qasync, with
the app's daemon-thread executor, as ``dialer`` runs it."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_a_home(main: Callable[[Path], Coroutine[Any, Any, T]]) -> T:
    """``main(home)`` on a qasync loop of its own, ``home`` a temporary folder."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    from PySide6.QtWidgets import QApplication

    from dialer.core.threads import DaemonThreadExecutor
    from dialer.ui.event_loop import QEventLoop

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    with (
        tempfile.TemporaryDirectory() as home,
        asyncio.Runner(loop_factory=lambda: QEventLoop(app)) as runner,
    ):
        runner.get_loop().set_default_executor(DaemonThreadExecutor())
        return runner.run(main(Path(home)))
