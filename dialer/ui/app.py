"""Start the window: one asyncio loop driven by Qt through qasync.

The main coroutine owns shutdown: it waits for the window to close, awaits the cleanup
(tasks cancelled, provider connections and stores closed, the demo simulator stopped), and
returns. ``aboutToQuit`` is too late for that: the loop no longer runs there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from dialer.core.paths import AppPaths
from dialer.core.threads import DaemonThreadExecutor

logger = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def _route_qt_messages() -> None:
    """Qt's own warnings go to the log like everything else."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_logger = logging.getLogger("qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        qt_logger.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def run(*, demo: bool = False, number: str | None = None) -> int:
    """The ``dialer`` / ``dialer --demo`` entry point. Returns the exit code."""
    os.environ.setdefault("QT_API", "pyside6")  # before qasync is imported
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Dialer")
    app.setOrganizationName("Dialer")
    app.setQuitOnLastWindowClosed(False)  # the main coroutine decides when we are done
    app.setDesktopFileName("dialer")  # matches resources/dialer.desktop
    icon = RESOURCES / "dialer.svg"
    if icon.is_file():
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    _route_qt_messages()
    from dialer.ui.theme import follow_system_theme

    follow_system_theme(app)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.get_loop().set_default_executor(DaemonThreadExecutor())
        return runner.run(main(demo=demo, number=number))


async def main(*, demo: bool, number: str | None = None, paths: AppPaths | None = None) -> int:
    from dialer.core.logs import setup_logging
    from dialer.core.profile import open_user_profile
    from dialer.ui.main_window import MainWindow

    paths = paths or AppPaths.default()
    setup_logging(paths.log_dir)
    if demo:
        from dialer.simulator.profile import open_demo_profile

        profile = await open_demo_profile(paths)
    else:
        profile = open_user_profile(paths)
        await profile.start_reporting()
    window = MainWindow(profile)
    try:
        window.show()
        await window.start()
        if profile.reporting_problem:
            window.messages.warning(profile.reporting_problem)
        if number:
            window.number.set_text(number)
        await window.closed
    finally:
        await window.shutdown()
        await profile.aclose()
    return 0
