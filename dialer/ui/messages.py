"""One bridge for what the user is told: widgets and tasks post, the window shows.

Tests assert on these messages instead of digging through widgets.
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
    posted = Signal(str, str)  # level, text

    def __init__(self) -> None:
        super().__init__()
        self.history: list[tuple[Level, str]] = []

    def info(self, text: str) -> None:
        self._post(Level.INFO, text)

    def warning(self, text: str) -> None:
        self._post(Level.WARNING, text)

    def error(self, text: str) -> None:
        self._post(Level.ERROR, text)

    def failure(self, error: BaseException, doing: str) -> None:
        """The one sentence for a failure (:func:`dialer.core.errors.error_sentence`)."""
        self.error(error_sentence(error, doing))

    def _post(self, level: Level, text: str) -> None:
        text = scrub(text)
        self.history.append((level, text))
        del self.history[:-200]
        self.posted.emit(str(level), text)
