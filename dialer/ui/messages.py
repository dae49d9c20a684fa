"""One bridge for what the user is told: widgets and tasks post, the window shows.

News (info) is transient: the window shows it in the status bar for a while. A problem
(warning, error) stays in the banner until its cause goes: a message may name its
``cause`` ("call", "export"...), a later message of the same cause replaces it, and
``clear(cause)`` takes it away (the number it was about was edited, the next call went
through). Tests assert on ``history`` instead of digging through widgets.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from PySide6.QtCore import QObject, Signal

from dialer.core.errors import error_sentence
from dialer.core.redact import scrub

logger = logging.getLogger(__name__)


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class MessageBridge(QObject):
    posted = Signal(str, str, str)  # level, text, cause ("": none)
    cleared = Signal(str)  # cause

    def __init__(self) -> None:
        super().__init__()
        self.history: list[tuple[Level, str]] = []

    def info(self, text: str, cause: str = "") -> None:
        self._post(Level.INFO, text, cause)

    def warning(self, text: str, cause: str = "") -> None:
        self._post(Level.WARNING, text, cause)

    def error(self, text: str, cause: str = "") -> None:
        self._post(Level.ERROR, text, cause)

    def failure(self, error: BaseException, doing: str, cause: str = "") -> None:
        """The one sentence for a failure (:func:`dialer.core.errors.error_sentence`)."""
        self.error(error_sentence(error, doing), cause)

    def clear(self, cause: str) -> None:
        """The problem of ``cause`` is gone: its message goes too."""
        self.cleared.emit(cause)

    def _post(self, level: Level, text: str, cause: str) -> None:
        text = scrub(text)
        self.history.append((level, text))
        del self.history[:-200]
        self.posted.emit(str(level), text, cause)
