"""The main window's frame: on screen the moment the application exists, before the profile
is opened and the window's contents are built (about half a second on a working profile),
so that an agent who starts the dialer sees its window at once and then sees it fill.

``dialer`` shows the frame, then builds :class:`~dialer.ui.main_window.MainWindow` and puts
it inside (:meth:`WindowFrame.hold`): from then on the frame is the top-level window (its
title, geometry, close button, the tray's show and hide) and the main window its content.
This module imports nothing but Qt: it is what the first paint waits for.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QCloseEvent, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

DEFAULT_SIZE = (1100, 720)  # the main window's own, before any was saved


class WindowFrame(QMainWindow):
    def __init__(self, settings_file: Path, title: str):
        super().__init__()
        self.setWindowTitle(title)
        self.content: Any = None
        self.closed_early = False  # closed before the content came: the app then ends
        self.was_painted = False
        self._painted: Any = None  # an asyncio.Event while someone waits for the paint
        # Centred by stretches: Qt's alignment flags would load the whole Qt namespace
        # (about 15 ms) before the first paint.
        opening = QLabel("Opening…")
        opening.setAccessibleName("Opening the dialer")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(opening)
        row.addStretch(1)
        placeholder = QWidget()
        column = QVBoxLayout(placeholder)
        column.addStretch(1)
        column.addLayout(row)
        column.addStretch(1)
        self.setCentralWidget(placeholder)
        # The geometry the main window saved last time (its own settings file), so the
        # window opens where and as large as it was closed, and stays there when filled.
        geometry = QSettings(str(settings_file), QSettings.Format.IniFormat).value("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)

    async def wait_painted(self, longest: float) -> None:
        """Until the frame has been painted once (the window system showed it), at most
        ``longest`` seconds: what comes next holds the loop, and must not hold the paint."""
        if self.was_painted:
            return
        import asyncio  # not at the top: this module is imported before the first paint

        self._painted = asyncio.Event()
        # A window system slow to expose it: the contents come meanwhile.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._painted.wait(), longest)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        self.was_painted = True
        if self._painted is not None:
            self._painted.set()

    def hold(self, content: QWidget) -> None:
        """Make ``content`` (the main window) what this frame shows; its title is the frame's."""
        self.content = content
        self.setCentralWidget(content)
        self.setWindowTitle(content.windowTitle())
        content.windowTitleChanged.connect(self.setWindowTitle)

    def closeEvent(self, event: QCloseEvent) -> None:
        # The main window saves its state and ends the app's main coroutine on its close.
        if self.content is not None:
            self.content.closeEvent(event)
        else:
            self.closed_early = True
            event.accept()
