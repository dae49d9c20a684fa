"""When the window was first painted and when start-up's work was done, for the start-up
benchmark (``benchmarks/startup.py``): ``DIALER_STARTUP_TRACE=FILE dialer ...`` appends one
JSON line per moment, ``{"event": "painted" | "idle", "at": <time.time()>}``.

Imported only when that variable is set: a normal launch pays nothing for it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject


class StartupTrace(QObject):
    def __init__(self, path: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.path = path
        self.task: Any = None  # until_idle's, referenced while it runs

    def mark(self, event: str) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"event": event, "at": time.time()}) + "\n")

    def watch(self, window: Any) -> None:
        """Mark the first paint of ``window`` (the frame, or the main window without one)."""
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            self.mark("painted")
        return False

    async def until_idle(self, window: Any) -> None:
        """Mark when everything start-up scheduled is done: the warm-up, the history's first
        page and totals, the contacts' first page."""
        await window.warm_up
        await window.history_panel.model.wait_loaded()
        # The receiver's retry (while it could not start) runs until it does: not start-up.
        await window.tasks.wait_idle(besides=frozenset({"reporting"}))
        self.mark("idle")
