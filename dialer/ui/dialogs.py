"""Awaiting dialogs without a nested event loop.

``QDialog.exec()`` and the static ``QMessageBox`` helpers spin a second Qt loop inside the
running coroutine; other asyncio tasks that wake meanwhile fail with "Cannot enter into
task" and whoever awaits them hangs. Instead a dialog is opened with ``open()`` and its
``finished`` signal resolves a future.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel, QMessageBox, QWidget
from shiboken6 import isValid

from dialer.ui.tasks import TaskManager
from dialer.ui.theme import show_level

logger = logging.getLogger(__name__)

_widget_types_ready: list[bool] = []  # [True] once prepared


async def prepare_widget_types() -> None:
    """Before the first dialog is built: the first widget Qt hands back to Python (a scroll
    area's viewport) makes PySide build the Python types and enums of most widget classes,
    and the first style the style's own: 10-20 ms, once per process. Each is done here in a
    turn of the loop of its own, so that neither it nor the dialog's build holds the
    window for more than a frame (benchmarks/stall.py)."""
    if _widget_types_ready:
        return
    from PySide6.QtWidgets import QScrollArea

    QScrollArea().viewport()
    await asyncio.sleep(0)
    QLabel().style()
    await asyncio.sleep(0)
    _widget_types_ready.append(True)


async def before_showing() -> None:
    """A turn of the loop between building a dialog and showing it (its first layout and
    paint come right after ``open()``): the window's own events go in between, so that the
    two together do not hold it for more than a frame."""
    await asyncio.sleep(0)


async def run_dialog(dialog: QDialog) -> int:
    """Show ``dialog`` window-modally and return its result code once it closes."""
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not future.done():
            future.set_result(result)

    dialog.finished.connect(finished)
    try:
        await before_showing()
        dialog.open()
        return await future
    finally:
        if isValid(dialog):  # its parent may have deleted it (the window closing)
            dialog.finished.disconnect(finished)


async def run_to_the_end(dialog: QDialog, tasks: TaskManager) -> int:
    """:func:`run_dialog` for a dialog with background work of its own (``tasks``): however
    the wait ends (answered, or the caller cancelled), the dialog is closed, its tasks are
    cancelled and it is deleted."""
    try:
        return await run_dialog(dialog)
    finally:
        if isValid(dialog) and dialog.isVisible():  # cancelled from outside: close it
            dialog.done(QDialog.DialogCode.Rejected)
        await tasks.cancel_all()
        if isValid(dialog):
            dialog.deleteLater()


async def confirm(parent: QWidget, title: str, text: str, *, action: str = "OK") -> bool:
    """A yes/no question, awaited: True when the user chose ``action``."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent
    )
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    await run_dialog(box)
    return box.clickedButton() is yes


# -- the inline message line every dialog shows its outcome and errors on -----------------


def message_label(name: str) -> QLabel:
    """A hidden, selectable, word-wrapped line (``name`` for screen readers)."""
    label = QLabel()
    label.setAccessibleName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(False)
    return label


def say(label: QLabel, text: str, level: str = "error") -> None:
    """Show ``text`` on a :func:`message_label` in the shade of ``level`` ("" hides it)."""
    label.setText(text)
    show_level(label, level)
    label.setVisible(bool(text))
    window = label.window()
    if text and isinstance(window, QDialog) and window.isVisible():
        # Said after the window was sized: it grows for the wrapped lines, once Qt has
        # laid the new text out (else the sentence is cut after its first line).
        from dialer.ui.fitting import grow_to_fit

        QTimer.singleShot(0, window, lambda: grow_to_fit(window))
