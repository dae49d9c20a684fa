"""Awaiting dialogs without a nested event loop.

``QDialog.exec()`` and the static ``QMessageBox`` helpers spin a second Qt loop inside the
running coroutine; other asyncio tasks that wake meanwhile fail with "Cannot enter into
task" and whoever awaits them hangs. Instead a dialog is opened with ``open()`` and its
``finished`` signal resolves a future.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QDialog, QMessageBox, QWidget


async def run_dialog(dialog: QDialog) -> int:
    """Show ``dialog`` window-modally and return its result code once it closes."""
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not future.done():
            future.set_result(result)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        return await future
    finally:
        dialog.finished.disconnect(finished)


async def confirm(parent: QWidget, title: str, text: str, *, action: str = "OK") -> bool:
    """A yes/no question, awaited: True when the user chose ``action``."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent
    )
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    await run_dialog(box)
    return box.clickedButton() is yes
