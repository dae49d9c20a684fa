"""The Receiver settings dialog: where the C2C v2 webhook receiver listens, its public URL,
and the URL to register in the provider's panel, with a button that copies it.

What ``dialer webhooks url`` and ``dialer webhooks config`` do, on the same
``webhooks.toml``. The URL ends in the secret path segment kept in the OS keyring; it is
read on a worker thread as a task of the dialog, never in a nested Qt loop. The receiver
reads the host and port when it starts: a change applies from its next start, and the
window says so when the dialog saves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from dialer.core.errors import DialerError, InvalidInput, error_sentence
from dialer.ui.dialogs import message_label, run_to_the_end, say
from dialer.ui.tasks import TaskManager
from dialer.webhooks.settings import (
    PATH_PREFIX,
    WebhookSettings,
    check_public_url,
    format_host,
    load_settings,
    receiver_url,
    save_settings,
    url_notes,
)

if TYPE_CHECKING:
    from dialer.app.profile import Profile

logger = logging.getLogger(__name__)

COPY_TEXT = "&Copy"
READING_URL = "Reading the URL's secret path from the OS keyring…"
ANY_PORT_NO_URL = (
    "With 'Any free port' the URL is known only while the receiver runs: choose a fixed "
    "port, or set the public URL a reverse proxy or a tunnel gives it"
)
APPLIES_AT_START = (
    "The receiver reads the host and the port when it starts: a change applies from its "
    "next start (when the Dialer is restarted)."
)


@dataclass(frozen=True, slots=True)
class Listening:
    """Where the running receiver listens (None: it is not running)."""

    host: str
    port: int


class ReceiverSettingsDialog(QDialog):
    """``profile``'s ``webhooks.toml``; after Save, ``saved`` holds what was written and
    ``note`` what the window should say about it ("" when nothing changed)."""

    def __init__(self, profile: Profile, parent: QWidget | None = None):
        super().__init__(parent)
        self.profile = profile
        self.saved: WebhookSettings | None = None
        self.note = ""
        self.token: str | None = None  # the secret path segment, once read
        self.tasks = TaskManager(on_error=self._failed)
        self.setWindowTitle("Receiver settings")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(560)
        self._build()
        try:
            self.loaded = load_settings(profile.paths)
        except DialerError as exc:
            self.loaded = WebhookSettings()
            say(self.error_label, f"{exc}; Save replaces it with what is shown here")
        self._fill(self.loaded)

    # -- widgets --------------------------------------------------------------------------

    def _build_url_row(self) -> QHBoxLayout:
        self.url_edit = QLineEdit()
        self.url_edit.setAccessibleName("URL to register")
        self.url_edit.setReadOnly(True)
        self.copy_button = QPushButton(COPY_TEXT)
        self.copy_button.setAccessibleName("Copy the URL to register")
        self.copy_button.setAutoDefault(False)
        self.copy_button.setEnabled(False)
        self.url_notes_label = message_label("About the URL")
        self.copy_result = message_label("Copy result")
        row = QHBoxLayout()
        row.addWidget(self.url_edit, 1)
        row.addWidget(self.copy_button)
        return row

    def _build(self) -> None:
        self.status_label = message_label("Receiver status")
        self.host_edit = QLineEdit()
        self.host_edit.setAccessibleName("Host")
        self.host_edit.setToolTip("127.0.0.1: this machine only; 0.0.0.0: every interface")
        self.port_box = QSpinBox()
        self.port_box.setAccessibleName("Port")
        self.port_box.setRange(0, 65535)
        self.port_box.setSpecialValueText("Any free port")  # 0
        self.public_edit = QLineEdit()
        self.public_edit.setAccessibleName("Public URL")
        self.public_edit.setPlaceholderText("e.g. https://dialer.example.com/hooks (optional)")
        self.public_edit.setToolTip(
            "The address a reverse proxy or a tunnel gives the receiver; the secret path "
            "segment is appended to it"
        )
        applies = QLabel(APPLIES_AT_START)
        applies.setWordWrap(True)
        url_row = self._build_url_row()

        form = QFormLayout()
        for text, widget in (
            ("&Host", self.host_edit),
            ("&Port", self.port_box),
            ("P&ublic URL", self.public_edit),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        form.addRow("", applies)
        url_label = QLabel("URL to &register")
        url_label.setBuddy(self.url_edit)
        form.addRow(url_label, url_row)

        self.error_label = message_label("Problem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy_url)
        self.host_edit.textChanged.connect(self.show_url)
        self.port_box.valueChanged.connect(self.show_url)
        self.public_edit.textChanged.connect(self.show_url)

        intro = QLabel(
            "C2C v2 pushes call reports to this receiver. Register the URL below in the "
            "provider's panel (Webhooks)."
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.status_label)
        layout.addLayout(form)
        layout.addWidget(self.url_notes_label)
        layout.addWidget(self.copy_result)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _fill(self, settings: WebhookSettings) -> None:
        self.host_edit.setText(settings.host)
        self.port_box.setValue(settings.port)
        self.public_edit.setText(settings.public_url or "")
        listening = self.listening()
        if listening is not None:
            say(self.status_label, f"The receiver is listening on {self._receiver_url()}", "ok")
        elif self.profile.reporting_problem:
            say(self.status_label, self.profile.reporting_problem, "warning")
        else:
            say(self.status_label, "The receiver is not running", "warning")
        self.url_edit.setText("")
        self.url_edit.setPlaceholderText(READING_URL)

    def listening(self) -> Listening | None:
        receiver = self.profile.receiver
        if receiver is None:
            return None
        try:
            return Listening(receiver.host, receiver.port_bound)
        except RuntimeError:  # stopped meanwhile
            return None

    def _receiver_url(self) -> str:
        """The running receiver's address, its secret segment masked (a screen is seen)."""
        listening = self.listening()
        assert listening is not None
        return f"http://{format_host(listening.host)}:{listening.port}{PATH_PREFIX}<secret>"

    # -- the URL to register ------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.token is None and not self.tasks.running("token"):
            self.tasks.start("token", self.read_token(), replace=False)

    async def read_token(self) -> str | None:
        """The secret path segment (made on first use), then the URL for what is shown."""
        from dialer.webhooks.settings import path_token

        try:
            token = await path_token(self.profile.secrets)
        except DialerError as exc:
            if not isValid(self):  # closed and deleted meanwhile
                return None
            self.url_edit.setPlaceholderText("")
            say(self.url_notes_label, f"The URL ends in a secret kept in the OS keyring. {exc}")
            return None
        if not isValid(self):
            return None
        self.token = token
        self.show_url()
        return token

    def edited(self) -> WebhookSettings:
        """The settings as shown; :class:`InvalidInput` says what is wrong with them."""
        host = self.host_edit.text().strip()
        if not host:
            raise InvalidInput("The host must be a host name or an address (127.0.0.1)")
        public = self.public_edit.text().strip()
        return WebhookSettings(
            host=host,
            port=self.port_box.value(),
            public_url=check_public_url(public) if public else None,
        )

    def url(self) -> str | None:
        """The URL to register for the settings shown, or None (the sentence is shown)."""
        if self.token is None:
            return None
        try:
            settings = self.edited()
        except DialerError as exc:
            say(self.url_notes_label, str(exc))
            return None
        if settings.port == 0 and not settings.public_url:
            say(self.url_notes_label, ANY_PORT_NO_URL, "warning")
            return None
        return receiver_url(settings, self.token)

    def show_url(self) -> None:
        say(self.copy_result, "")
        if self.token is None:
            return
        say(self.url_notes_label, "")
        url = self.url()
        self.url_edit.setText(url or "")
        self.copy_button.setEnabled(url is not None)
        if url is None:
            return
        notes = url_notes(self.edited(), url, set_public_url="in 'Public URL' above")
        text = " ".join(sentence[0].upper() + sentence[1:] + "." for _, sentence in notes)
        level = "warning" if any(kind == "warning" for kind, _ in notes) else "info"
        say(self.url_notes_label, text, level)

    def copy_url(self) -> None:
        url = self.url()
        if url is None:
            return
        QGuiApplication.clipboard().setText(url)
        say(self.copy_result, "Copied: paste it into the provider's panel", "ok")

    # -- saving ---------------------------------------------------------------------------

    def save(self) -> None:
        """Save and close, or say why not (and keep the dialog open)."""
        try:
            settings = self.edited()
            if settings != self.loaded:
                save_settings(self.profile.paths, settings)
        except InvalidInput as exc:
            say(self.error_label, str(exc))
            (self.host_edit if "host" in str(exc) else self.public_edit).setFocus()
            return
        except DialerError as exc:
            say(self.error_label, str(exc))
            return
        self.saved = settings
        self.note = self.consequence(self.loaded, settings)
        self.accept()

    def consequence(self, before: WebhookSettings, after: WebhookSettings) -> str:
        """What saving ``after`` over ``before`` changes, in one or two sentences."""
        if after == before:
            return ""
        listening = self.listening()
        register = "register the new URL in the C2C v2 panel"
        if listening is None:
            return (
                "Receiver settings saved. The receiver is not running; it uses them when it "
                f"next starts: {register} then."
            )
        moved = after.host != listening.host or (after.port not in (0, listening.port))
        if not moved:
            return f"Receiver settings saved: {register}."
        host = format_host(after.host)
        where = f"any free port of {host}" if after.port == 0 else f"{host}:{after.port}"
        return (
            "Receiver settings saved. The receiver keeps listening on "
            f"{format_host(listening.host)}:{listening.port} until the Dialer is restarted, "
            f"then on {where}: {register} then."
        )

    def _failed(self, name: str, error: BaseException) -> None:
        say(self.url_notes_label, error_sentence(error, "reading the webhook URL's secret"))


async def edit_receiver_settings(profile: Profile, parent: QWidget | None = None) -> str:
    """Open the Receiver settings dialog over ``parent``; what the window should say about
    what was saved ("" when it was cancelled or nothing changed)."""
    dialog = ReceiverSettingsDialog(profile, parent)
    await run_to_the_end(dialog, dialog.tasks)
    return dialog.note
