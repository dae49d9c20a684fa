"""The one crash path: whatever escapes (an exception no code caught, a failed task the
loop was left with, a critical message from Qt) is logged in full with every secret masked
(the log's RedactingFilter scrubs the message and the traceback) and shown as a notice in
the window that does not block it. The agent keeps working; the details are in the log."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from dialer.core.errors import error_sentence
from dialer.core.redact import scrub
from dialer.ui.messages import MessageBridge

logger = logging.getLogger(__name__)
qt_logger = logging.getLogger("qt")

DOING = "running the window"


class CrashPath:
    """Installed once for the window's life; :meth:`uninstall` puts back what was there."""

    def __init__(self, messages: MessageBridge):
        self.messages = messages
        self._undo: list[Callable[[], None]] = []

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        previous_hook = sys.excepthook
        sys.excepthook = self.excepthook
        self._undo.append(lambda: setattr(sys, "excepthook", previous_hook))
        previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self.loop_exception)
        self._undo.append(lambda: loop.set_exception_handler(previous_handler))
        self._install_qt_handler()

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    # -- the three ways in ------------------------------------------------------------------

    def excepthook(
        self,
        kind: type[BaseException],
        error: BaseException,
        traceback: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, traceback)
            return
        self._notice(error)

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, BaseException):
            self._notice(error)
            return
        # No exception, only the loop's own words (e.g. a task destroyed while pending).
        logger.error("Event loop: %s", context.get("message", "unknown problem"))

    def qt_message(self, level: int, message: str) -> None:
        qt_logger.log(level, "%s", message)
        if level >= logging.CRITICAL:
            self.messages.error(f"Qt reported a problem: {scrub(message)}")

    # -- what they do ----------------------------------------------------------------------

    def _notice(self, error: BaseException) -> None:
        # error_sentence logs an unexpected error in full (scrubbed by the log's filter)
        # and words it for a person; an expected one is its own sentence.
        self.messages.error(error_sentence(error, DOING))

    def _install_qt_handler(self) -> None:
        from PySide6.QtCore import QtMsgType, qInstallMessageHandler

        levels = {
            QtMsgType.QtDebugMsg: logging.DEBUG,
            QtMsgType.QtInfoMsg: logging.INFO,
            QtMsgType.QtWarningMsg: logging.WARNING,
            QtMsgType.QtCriticalMsg: logging.ERROR,
            QtMsgType.QtFatalMsg: logging.CRITICAL,
        }

        def handler(kind: QtMsgType, _context: object, message: str) -> None:
            self.qt_message(levels.get(kind, logging.WARNING), message)

        previous = qInstallMessageHandler(handler)

        def restore() -> None:
            qInstallMessageHandler(previous)

        self._undo.append(restore)
