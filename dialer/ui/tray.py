"""The tray icon: the app's state at a glance, the window one click away, and a desktop
notification when a call placed here ends.

Notifications go through ``QSystemTrayIcon.showMessage``: the platform's own notification
service where there is one (Windows toasts, macOS Notification Center, the freedesktop
notification daemon), with no extra library. Where the desktop has no tray
(``isSystemTrayAvailable()`` is False: some Wayland and tiling desktops) there is no icon and
no notification, and starting minimised only minimises the window.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from dialer.core.calls import CallStatus
from dialer.history import CallOrigin, CallRecord

# What a finished call's notification says, by status.
_ENDED = {
    CallStatus.COMPLETED: "Call completed",
    CallStatus.BUSY: "Line busy",
    CallStatus.NO_ANSWER: "No answer",
    CallStatus.FAILED: "Call failed",
    CallStatus.CANCELLED: "Call cancelled",
}
# NO_REPORT is final but not an end: the provider (DigiDonar) cannot say how the call went.


def tray_available() -> bool:
    return bool(QSystemTrayIcon.isSystemTrayAvailable())


class CallTray(QObject):
    """Owns the tray icon (when the desktop has a tray) and the call-end notifications.

    ``record_changed`` is connected to the window's history changes. A notification is shown
    for calls placed from this app that this tray saw open and then saw end, so neither
    restored history nor calls placed elsewhere pop up.
    """

    def __init__(
        self,
        window: QWidget,
        icon: QIcon,
        *,
        title: str,
        quit_app: Callable[[], object],
        notify: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.title = title
        self.notify = notify
        self.shown: list[tuple[str, str]] = []  # (title, text) of each notification, newest last
        self._open: set[str] = set()
        self.icon: QSystemTrayIcon | None = None
        if not tray_available():
            return
        self.icon = QSystemTrayIcon(icon, self)
        menu = QMenu(window)
        self._toggle = QAction("Show Dialer", menu)
        self._toggle.triggered.connect(self.toggle_window)
        menu.addAction(self._toggle)
        menu.addSeparator()
        quit_action = QAction("Quit", menu)
        quit_action.triggered.connect(quit_app)
        menu.addAction(quit_action)
        menu.aboutToShow.connect(self._update_menu)
        self.icon.setContextMenu(menu)
        self.icon.activated.connect(self._activated)
        self._update_tooltip()
        self.icon.show()

    # -- the window ------------------------------------------------------------------------

    def toggle_window(self) -> None:
        if self.window.isVisible() and not self.window.isMinimized():
            self.window.hide()
        else:
            bring_to_front(self.window)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.toggle_window()

    def _update_menu(self) -> None:
        visible = self.window.isVisible() and not self.window.isMinimized()
        self._toggle.setText("Hide Dialer" if visible else "Show Dialer")

    # -- calls -----------------------------------------------------------------------------

    @property
    def calls_in_progress(self) -> int:
        return len(self._open)

    def record_changed(self, record: CallRecord) -> None:
        if record.origin is not CallOrigin.APP:
            return
        if not record.is_final:
            self._open.add(record.id)
        elif record.id in self._open:
            self._open.discard(record.id)
            if record.status in _ENDED:
                self._call_ended(record)
        self._update_tooltip()

    def _call_ended(self, record: CallRecord) -> None:
        if not self.notify:
            return
        title = _ENDED[record.status]
        text = f"{record.customer} on {record.account}"
        if record.status is CallStatus.COMPLETED and record.talk_seconds:
            minutes, seconds = divmod(int(record.talk_seconds), 60)
            text += f": talked {minutes} min {seconds} s" if minutes else f": talked {seconds} s"
        elif record.cause or record.error:
            text += f": {record.error or record.cause}"
        self.shown.append((title, text))
        if self.icon is not None and self.icon.supportsMessages():
            kind = (
                QSystemTrayIcon.MessageIcon.Warning
                if record.status is CallStatus.FAILED
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.icon.showMessage(title, text, kind, 8000)

    def _update_tooltip(self) -> None:
        if self.icon is None:
            return
        count = len(self._open)
        state = (
            "no call in progress"
            if count == 0
            else "1 call in progress"
            if count == 1
            else f"{count} calls in progress"
        )
        self.icon.setToolTip(f"{self.title} — {state}")

    def close(self) -> None:
        if self.icon is not None:
            self.icon.hide()
            self.icon.deleteLater()
            self.icon = None


def bring_to_front(window: QWidget) -> None:
    """Show the window on top and give it the keyboard (as far as the desktop allows: some
    refuse focus stealing and flash the task-bar entry instead)."""
    if window.isMinimized():
        window.showNormal()
    else:
        window.show()
    window.raise_()
    window.activateWindow()
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.alert(window)


__all__ = ["CallTray", "bring_to_front", "tray_available"]
