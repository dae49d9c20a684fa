"""The Desktop settings dialog: links, the global hotkey, the tray and notifications.

Edits :class:`~dialer.core.desktop_settings.DesktopSettings` and saves them to the profile's
``desktop.toml``. It also registers the app as the handler of ``tel:``, ``callto:`` and
``sip:`` links and says which app opens them now. Registering, the status and the check of
whether a global hotkey can work here run desktop tools or load pynput, so they run on
worker threads as tasks of the dialog; nothing nests a Qt event loop.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dialer.core.desktop_settings import (
    THEMES,
    DesktopSettings,
    hotkey_label,
    load_desktop_settings,
    parse_hotkey,
    save_desktop_settings,
)
from dialer.core.errors import DialerError, InvalidInput, error_sentence
from dialer.core.link_handlers import link_handler_status, register_link_handlers
from dialer.core.paths import AppPaths
from dialer.ui.dialogs import message_label, run_to_the_end, say
from dialer.ui.tasks import TaskManager

logger = logging.getLogger(__name__)

REGISTER_TEXT = "Register as the handler of tel:, callto: and sip: links"
CHECKING_HOTKEY = "Checking whether a global hotkey can work here…"


class DesktopSettingsDialog(QDialog):
    """The settings of ``paths``' ``desktop.toml``; ``saved`` holds what Save wrote."""

    def __init__(self, paths: AppPaths, parent: QWidget | None = None):
        super().__init__(parent)
        self.paths = paths
        self.saved: DesktopSettings | None = None
        self.hotkey_supported: bool | None = None  # None until checked
        self.tasks = TaskManager(on_error=self._failed)
        self.setWindowTitle("Desktop, links and hotkey")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(520)
        self._build()
        try:
            settings = load_desktop_settings(paths)
        except DialerError as exc:
            settings = DesktopSettings()
            say(self.error_label, f"{exc}; Save replaces it with what is shown here")
        self._fill(settings)

    # -- widgets --------------------------------------------------------------------------

    def _check(self, text: str, name: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setAccessibleName(name)
        return box

    def _build_window_group(self) -> QGroupBox:
        window = QGroupBox("Window and notifications")
        self.minimised_box = self._check("Start in the system &tray", "Start in the tray")
        self.notify_box = self._check(
            "&Notify me when a call completes or fails", "Notify when a call ends"
        )
        self.theme_box = QComboBox()
        self.theme_box.setAccessibleName("Theme")
        for choice, text in zip(THEMES, ("As the system", "Light", "Dark"), strict=True):
            self.theme_box.addItem(text, choice)
        theme_form = QFormLayout()
        theme_label = QLabel("T&heme")
        theme_label.setBuddy(self.theme_box)
        theme_form.addRow(theme_label, self.theme_box)
        window_layout = QVBoxLayout(window)
        window_layout.addWidget(self.minimised_box)
        window_layout.addWidget(self.notify_box)
        window_layout.addLayout(theme_form)

        return window

    def _build(self) -> None:
        links = QGroupBox("Links")
        self.links_at_once_box = self._check(
            "&Call at once when a tel:, callto: or sip: link is clicked",
            "Call at once from links",
        )
        self.links_at_once_box.setToolTip(
            "Off: the link fills in the number and you press Enter to call"
        )
        self.register_button = QPushButton(REGISTER_TEXT)
        self.register_button.setAccessibleName(REGISTER_TEXT)
        self.register_button.setAutoDefault(False)
        self.register_result = message_label("Registration result")
        self.link_status = message_label("Which app opens links")
        links_layout = QVBoxLayout(links)
        links_layout.addWidget(self.links_at_once_box)
        links_layout.addWidget(self.register_button, 0, Qt.AlignmentFlag.AlignLeft)
        links_layout.addWidget(self.register_result)
        links_layout.addWidget(self.link_status)

        hotkey = QGroupBox("Global hotkey")
        self.hotkey_box = self._check(
            "Dial the selected or copied number with a &hotkey, from any application",
            "Global hotkey",
        )
        self.hotkey_edit = QLineEdit()
        self.hotkey_edit.setAccessibleName("Hotkey")
        self.hotkey_edit.setPlaceholderText("e.g. Ctrl+Alt+D")
        self.hotkey_support_label = message_label("Hotkey support")
        hotkey_form = QFormLayout()
        label = QLabel("&Keys")
        label.setBuddy(self.hotkey_edit)
        hotkey_form.addRow(label, self.hotkey_edit)
        hotkey_layout = QVBoxLayout(hotkey)
        hotkey_layout.addWidget(self.hotkey_box)
        hotkey_layout.addLayout(hotkey_form)
        hotkey_layout.addWidget(self.hotkey_support_label)

        window = self._build_window_group()
        self.error_label = message_label("Problem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.register_button.clicked.connect(self.start_register)
        self.hotkey_box.toggled.connect(self._hotkey_toggled)

        layout = QVBoxLayout(self)
        for group in (links, hotkey, window):
            layout.addWidget(group)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _fill(self, settings: DesktopSettings) -> None:
        self.links_at_once_box.setChecked(settings.call_links_at_once)
        self.hotkey_box.setChecked(settings.hotkey_enabled)
        self.hotkey_edit.setText(hotkey_label(settings.hotkey))
        self.minimised_box.setChecked(settings.start_minimised)
        self.notify_box.setChecked(settings.notify_call_end)
        self.theme_box.setCurrentIndex(max(self.theme_box.findData(settings.theme), 0))
        self.hotkey_box.setEnabled(False)  # until the support check says yes
        self.hotkey_edit.setEnabled(False)
        say(self.hotkey_support_label, CHECKING_HOTKEY, "info")

    def _hotkey_toggled(self, on: bool) -> None:
        self.hotkey_edit.setEnabled(on and bool(self.hotkey_supported))

    # -- background checks ----------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.hotkey_supported is None and not self.tasks.running("support"):
            self.tasks.start("support", self.check_hotkey_support(), replace=False)
            self.tasks.start("status", self.refresh_link_status())

    async def check_hotkey_support(self) -> tuple[bool, str]:
        """Find out (on a worker thread: it may load pynput) whether the hotkey can work."""
        from dialer.ui.hotkey import hotkey_support

        supported, sentence = await asyncio.to_thread(hotkey_support)
        self.apply_hotkey_support(supported, sentence)
        return supported, sentence

    def apply_hotkey_support(self, supported: bool, sentence: str) -> None:
        """Enable the hotkey settings where a hotkey can work; say how, or why not. The
        saved choice is kept as it is either way (it may work in another session)."""
        self.hotkey_supported = supported
        self.hotkey_box.setEnabled(supported)
        self.hotkey_edit.setEnabled(supported and self.hotkey_box.isChecked())
        say(self.hotkey_support_label, sentence, "info" if supported else "warning")

    async def refresh_link_status(self) -> str:
        status = await asyncio.to_thread(link_handler_status)
        say(self.link_status, status, "info")
        return status

    def start_register(self) -> None:
        if not self.tasks.running("register"):
            self.tasks.start("register", self.register(), replace=False)

    async def register(self) -> bool:
        """Register the link handlers; the outcome is shown under the button."""
        self.register_button.setEnabled(False)
        say(self.register_result, "Registering…", "info")
        try:
            said = await asyncio.to_thread(register_link_handlers)
        except DialerError as exc:
            say(self.register_result, str(exc))
            return False
        finally:
            self.register_button.setEnabled(True)
        say(self.register_result, said, "ok")
        await self.refresh_link_status()
        return True

    # -- saving ---------------------------------------------------------------------------

    def edited(self) -> DesktopSettings:
        return DesktopSettings(
            call_links_at_once=self.links_at_once_box.isChecked(),
            hotkey_enabled=self.hotkey_box.isChecked(),
            hotkey=self.hotkey_edit.text(),
            start_minimised=self.minimised_box.isChecked(),
            notify_call_end=self.notify_box.isChecked(),
            theme=str(self.theme_box.currentData()),
        )

    def save(self) -> None:
        """Save and close, or say why not (and keep the dialog open)."""
        edited = self.edited()
        try:
            # The hotkey as saved: pynput's spelling, exactly what the file holds.
            settings = replace(edited, hotkey=parse_hotkey(edited.hotkey))
            save_desktop_settings(self.paths, settings)
        except InvalidInput as exc:  # only the hotkey can be invalid
            say(self.error_label, str(exc))
            if self.hotkey_edit.isEnabled():
                self.hotkey_edit.setFocus()
            return
        except DialerError as exc:
            say(self.error_label, str(exc))
            return
        self.saved = settings
        self.accept()

    def _failed(self, name: str, error: BaseException) -> None:
        doing = {
            "register": "registering the link handlers",
            "status": "finding which app opens links",
            "support": "checking the global hotkey",
        }.get(name, "changing the desktop settings")
        label = {"register": self.register_result, "status": self.link_status}.get(
            name, self.error_label
        )
        say(label, error_sentence(error, doing))
        if name == "register":
            self.register_button.setEnabled(True)


async def edit_desktop_settings(
    paths: AppPaths, parent: QWidget | None = None
) -> DesktopSettings | None:
    """Open the Desktop settings dialog over ``parent``; the saved settings, or None when
    it was cancelled."""
    dialog = DesktopSettingsDialog(paths, parent)
    await run_to_the_end(dialog, dialog.tasks)
    return dialog.saved
