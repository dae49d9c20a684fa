"""The Help menu's two windows: the keyboard shortcuts, read from the window itself (so the
list cannot drift from what the keys do), and About (version, where logs and data are)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dialer import __version__
from dialer.app.profile import Profile

# What a QShortcut of the window does, by its object name (set where it is made).
DESCRIBED = "description"

# Keys that no action or shortcut object carries: what a field or a table does with them.
FIELD_KEYS: tuple[tuple[str, str], ...] = (
    ("Enter (in the search)", "Call the contact found"),
    ("Enter (in the contacts)", "Call the contact's first number"),
    ("Enter (in the number)", "Call the number"),
    ("Tab / Shift+Tab", "Next / previous area"),
    ("Arrow keys (in a table)", "Move between rows"),
)


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what they do) for every shortcut the window has, menus included."""
    rows: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        what = action.text().replace("&", "").rstrip("…").strip()
        if keys and what and (keys, what) not in seen:
            seen.add((keys, what))
            rows.append((keys, what))
    for shortcut in window.findChildren(QShortcut):
        keys = shortcut.key().toString(QKeySequence.SequenceFormat.NativeText)
        what = str(shortcut.property(DESCRIBED) or "")
        if keys and what and (keys, what) not in seen:
            seen.add((keys, what))
            rows.append((keys, what))
    return [*rows, *FIELD_KEYS]


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget, parent: Any = None):
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Keys", "What they do"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        for row, (keys, what) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(what))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 420)


def about_text(profile: Profile) -> str:
    paths = profile.paths
    return (
        f"Dialer {__version__}\n\n"
        f"Profile: {profile.label or 'your own'}\n"
        f"Log files: {paths.log_dir}\n"
        f"Call history and contacts: {paths.data_dir}\n"
        f"Settings: {paths.config_dir}\n\n"
        "Secrets are kept in the OS keyring only."
    )


class AboutDialog(QDialog):
    def __init__(self, profile: Profile, parent: Any = None):
        super().__init__(parent)
        self.setWindowTitle("About Dialer")
        self.text = QLabel(about_text(profile), self)
        self.text.setAccessibleName("About Dialer")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(self.text.textInteractionFlags().TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)


__all__ = ["AboutDialog", "ShortcutsDialog", "about_text", "shortcut_rows"]
