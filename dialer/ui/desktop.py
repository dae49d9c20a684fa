"""The window's place in the desktop: links and other launches, the tray, the hotkey.

One object joins the pieces to the window so each stays testable alone: the single-instance
socket (``single_instance``), ``QDesktopServices`` URL handlers, the tray icon and call
notifications (``tray``), the global hotkey (``hotkey``) and the user's desktop settings
(``dialer.core.desktop_settings``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import QApplication

from dialer.core.desktop_settings import DesktopSettings
from dialer.core.links import SCHEMES
from dialer.core.paths import AppPaths
from dialer.ui.theme import choose_theme
from dialer.ui.tray import CallTray, bring_to_front

if TYPE_CHECKING:
    from dialer.ui.hotkey import GlobalHotkey
    from dialer.ui.main_window import MainWindow
    from dialer.ui.single_instance import SingleInstance

logger = logging.getLogger(__name__)


class UrlHandler(QObject):
    """The receiver ``QDesktopServices.setUrlHandler`` calls by method name: on macOS a
    clicked ``tel:`` link reaches a running app only this way (an Apple event, not argv)."""

    def __init__(self, desktop: DesktopIntegration) -> None:
        super().__init__(desktop)
        self._desktop = desktop

    @Slot(QUrl)
    def open_url(self, url: QUrl) -> None:
        self._desktop.dial(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))


class DesktopIntegration(QObject):
    def __init__(
        self,
        window: MainWindow,
        paths: AppPaths,
        settings: DesktopSettings,
        *,
        instance: SingleInstance | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        # What is shown, hidden and brought up: the frame holding the main window, if any.
        self.top = window.window()
        self.paths = paths
        self.settings = settings
        choose_theme(settings.theme)
        self.hotkey: GlobalHotkey | None = None
        self.hotkey_problem = ""
        app = QApplication.instance()
        icon = app.windowIcon() if isinstance(app, QApplication) else QIcon()
        self.tray = CallTray(
            self.top,
            icon,
            title=window.windowTitle(),
            quit_app=self.top.close,
            notify=settings.notify_call_end,
            parent=self,
        )
        window.events.changed.connect(self.tray.record_changed)
        if instance is not None:
            instance.received.connect(self._received)
        # Registered on every platform (it is how macOS delivers links); elsewhere it also
        # keeps a tel: link opened from inside the app in this window.
        self._url_handler = UrlHandler(self)
        for scheme in SCHEMES:
            # The method name as str: PySide6's stubs say bytes, but 6.11 refuses bytes at
            # run time ("called with wrong argument values") and takes the str name.
            QDesktopServices.setUrlHandler(
                scheme,
                self._url_handler,
                "open_url",  # type: ignore[arg-type]
            )
        action = window.settings_menu.addAction("&Desktop, links and hotkey…")
        action.triggered.connect(
            lambda: window.tasks.start("dialog", self.edit_settings(), replace=False)
        )
        self._start_hotkey()

    # -- showing the window ------------------------------------------------------------------

    def show_window(self) -> None:
        """Show the window, or start in the tray when the user asked to (minimised where
        the desktop has no tray: a hidden window could not be found again)."""
        if not self.settings.start_minimised:
            self.top.show()
        elif self.tray.icon is None:
            self.top.showMinimized()

    # -- numbers from outside -------------------------------------------------------------

    def dial(self, raw: str, *, at_once: bool | None = None) -> None:
        """A link or number from the command line, another launch or the URL handler."""
        if at_once is None:
            at_once = self.settings.call_links_at_once
        self.window.dial_from_outside(raw, at_once=at_once)

    def _received(self, request: dict[str, Any]) -> None:
        if "dial" in request:
            self.dial(str(request["dial"]))
        else:
            bring_to_front(self.top)

    def _hotkey_pressed(self, text: str) -> None:
        """The hotkey is a deliberate "dial this": the call starts at once (an invalid
        selection is refused with its reason before anything is sent)."""
        if not text.strip():
            bring_to_front(self.top)
            self.window.messages.warning(
                "The hotkey found no number: select one, or copy it, and press it again"
            )
            return
        self.dial(text, at_once=True)

    # -- settings ---------------------------------------------------------------------------

    async def edit_settings(self) -> None:
        from dialer.ui.desktop_settings_dialog import edit_desktop_settings

        saved = await edit_desktop_settings(self.paths, self.window)
        if saved is not None:
            self.apply(saved)

    def apply(self, settings: DesktopSettings) -> None:
        hotkey_changed = (settings.hotkey_enabled, settings.hotkey) != (
            self.settings.hotkey_enabled,
            self.settings.hotkey,
        )
        self.settings = settings
        self.tray.notify = settings.notify_call_end
        choose_theme(settings.theme)
        if hotkey_changed:
            self._stop_hotkey()
            self._start_hotkey()

    def _start_hotkey(self) -> None:
        self.hotkey_problem = ""
        if not self.settings.hotkey_enabled:
            return
        from dialer.ui.hotkey import GlobalHotkey

        hotkey = GlobalHotkey(self)
        problem = hotkey.start(self.settings.hotkey)
        if problem is not None:
            self.hotkey_problem = problem
            # Two sentences: the problem is one of its own (the settings show it alone).
            self.window.messages.warning(f"The global hotkey is off. {problem}")
            return
        hotkey.triggered.connect(self._hotkey_pressed)
        self.hotkey = hotkey

    def _stop_hotkey(self) -> None:
        if self.hotkey is not None:
            self.hotkey.stop()
            self.hotkey = None

    def close(self) -> None:
        for scheme in SCHEMES:
            QDesktopServices.unsetUrlHandler(scheme)
        self._stop_hotkey()
        self.tray.close()


__all__ = ["DesktopIntegration", "UrlHandler"]
