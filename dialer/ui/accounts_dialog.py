"""The Accounts dialog: list, add, edit, remove and test the profile's provider accounts.

Validation follows ``dialer account add`` (:func:`account_from_fields` applies the same
checks, :func:`~dialer.core.accounts.check_base_url`, :func:`validate_region` and
:func:`parse_contact`, with the window's wording). A secret goes only to the profile's secret
store (the OS keyring; memory for the demo), written before the account so that a missing
keyring leaves nothing half-added, and it is never shown again once saved.

Every action is a coroutine run as a task of the dialog; nothing nests a Qt event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from dialer.app.profile import Profile
from dialer.core.accounts import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    Account,
    check_base_url,
    is_loopback_host,
    provider_kind,
)
from dialer.core.errors import (
    ConfigError,
    DialerError,
    InvalidInput,
    UnsupportedOption,
    error_sentence,
)
from dialer.core.limits import (
    DEFAULT_PER_DAY,
    DEFAULT_PER_MINUTE,
    MAX_LIMIT,
    CallLimits,
    parse_patterns,
)
from dialer.core.numbers import NumberFormat, parse_contact, validate_region
from dialer.core.redact import register_secret, scrub
from dialer.core.secrets import delete_secret, get_secret, set_secret
from dialer.providers import provider_label, provider_spec, provider_specs
from dialer.providers.base import BridgeKind
from dialer.providers.spec import OptionError, ProviderSpec, in_sentence
from dialer.ui.dialogs import (
    confirm,
    message_label,
    run_dialog,
    run_to_the_end,
    say,
)
from dialer.ui.fitting import scrolling
from dialer.ui.tasks import TaskManager

logger = logging.getLogger(__name__)


def _specs() -> dict[str, ProviderSpec]:
    """Every provider's declaration by kind, in the registry's order."""
    return {str(spec.kind): spec for spec in provider_specs()}


def _owner_of(key: str) -> ProviderSpec | None:
    """The provider that declares a setting; None for a key no provider knows."""
    return next((spec for spec in provider_specs() if spec.field(key) is not None), None)


INSECURE_HTTP_NOTE = (
    "Plain http:// sends the secret unencrypted (some of these services put it in the "
    "address or a header), so anyone on the network path can read and reuse it: tick this "
    "only for a server on a network you trust."
)
DEMO_NOTE = (
    "Demo profile: accounts added or changed here are kept in memory only and are not saved."
)
NO_CHECK_SENTENCE = "DigiDonar has no way to check credentials without placing a call"

TEST_TASK = "test"
SAVE_TASK = "save"


class FieldError(InvalidInput):
    """Invalid input in one field; ``field`` names it (``name``, ``url``, ``uid``...)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AccountFields:
    """What the form holds, as typed: the input of :func:`account_from_fields`."""

    name: str
    provider: str
    url: str
    region: str = ""
    agent: str = ""
    bridges: str = ""  # one per line
    number_format: NumberFormat | None = None  # None: the provider's default
    options: Mapping[str, str] = field(default_factory=dict)
    allow_insecure_http: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    # Call limits (0: none) and the allowed numbers as typed (commas or lines between).
    per_minute: int = DEFAULT_PER_MINUTE
    per_day: int = DEFAULT_PER_DAY
    agent_per_minute: int = DEFAULT_PER_MINUTE
    agent_per_day: int = DEFAULT_PER_DAY
    allowed_numbers: str = ""
    demo: bool = False


def secret_label(provider: str, options: Mapping[str, str] | None = None) -> str:
    """What the account's secret is called (a Kazoo user login takes a password)."""
    return provider_spec(provider).secret.label_for(options)


def account_from_fields(fields: AccountFields) -> Account:
    """Validate the form into an :class:`Account` (no secret), as ``dialer account add`` does.

    Raises :class:`FieldError`, whose text is one sentence and whose ``field`` names the
    field to fix.
    """
    provider = fields.provider
    spec = provider_spec(provider)
    label = spec.label
    name = fields.name.strip()
    if not name or any(c in fields.name for c in "\r\n\t"):
        raise FieldError("name", "Give the account a name, on a single line")
    options: dict[str, str] = {}
    for key, raw in fields.options.items():
        value = raw.strip()
        if not value:
            continue
        owner = _owner_of(key)
        if owner is not None and spec.field(key) is None:
            setting = owner.field(key)
            assert setting is not None
            raise FieldError(
                key, f"{setting.label} is a {owner.label} setting; this account is {label}"
            )
        options[key] = value  # keys no provider knows (a newer version's) are kept as they are
    try:
        spec.check_options(options, flags=False)
    except OptionError as exc:
        raise FieldError(exc.key, str(exc)) from None
    url = _checked_url(fields.url.strip(), fields.allow_insecure_http, provider, options)
    region = None
    if fields.region.strip():
        try:
            region = validate_region(fields.region)
        except InvalidInput as exc:
            raise FieldError("region", f"Region: {exc}") from None
    agent = None
    if fields.agent.strip():
        # Stored as typed but checked now, so that a typo is caught when it is cheap to fix.
        try:
            parse_contact(fields.agent, region, allow_sip=spec.sip_agent)
        except InvalidInput as exc:
            raise FieldError("agent", f"Agent number: {exc}") from None
        agent = fields.agent.strip()
    for key, timeout in (
        ("connect_timeout", fields.connect_timeout),
        ("read_timeout", fields.read_timeout),
    ):
        if not 0 < timeout <= 300:
            raise FieldError(key, "Timeouts must be more than 0 and at most 300 seconds")
    bridges = tuple(line.strip() for line in fields.bridges.splitlines() if line.strip())
    try:
        allowed = parse_patterns(fields.allowed_numbers)
    except InvalidInput as exc:
        raise FieldError("allowed_numbers", f"Allowed numbers: {exc}") from None
    limits = CallLimits(
        per_minute=fields.per_minute,
        per_day=fields.per_day,
        agent_per_minute=fields.agent_per_minute,
        agent_per_day=fields.agent_per_day,
        allowed_numbers=allowed,
    )
    return Account(
        name=name,
        provider=provider,
        url=url,
        region=region,
        number_format=fields.number_format,
        agent=agent,
        bridges=bridges,
        options=options,
        allow_insecure_http=fields.allow_insecure_http,
        connect_timeout=fields.connect_timeout,
        read_timeout=fields.read_timeout,
        limits=limits,
        demo=fields.demo,
    )


def _checked_url(
    url: str, allow_insecure_http: bool, provider: str, options: Mapping[str, str]
) -> str:
    if not url:
        raise FieldError("url", "Enter the provider's base URL (https://...)")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        if (
            parts.scheme == "http"
            and host
            and not is_loopback_host(host)
            and not allow_insecure_http
        ):
            what = in_sentence(secret_label(provider, options))
            raise FieldError(
                "url",
                f"Refusing plain http:// to {host}: the {what} would cross the network "
                "unencrypted; use https://, or tick 'Allow plain http:// to a remote server "
                "(insecure)' if you accept the risk",
            )
        return check_base_url(url, allow_insecure_http=allow_insecure_http)
    except FieldError:
        raise
    except InvalidInput as exc:
        raise FieldError("url", str(exc)) from None
    except ValueError:  # urlsplit refuses e.g. an unclosed IPv6 bracket
        raise FieldError("url", f"'{url}' is not an http(s) URL") from None


class ConnectionTester(QWidget):
    """*Test connection* for an account: async, cancellable, one test at a time.

    ``target()`` gives the account to test and the secret typed for it ("" to use the
    stored one); it may raise :class:`DialerError` (the form's validation), which is shown.
    """

    def __init__(
        self,
        profile: Profile,
        tasks: TaskManager,
        target: Callable[[], tuple[Account, str]],
        parent: QWidget | None = None,
        *,
        can_test: Callable[[], bool] = lambda: True,
    ):
        super().__init__(parent)
        self.profile = profile
        self.tasks = tasks
        self._target = target
        self._can_test = can_test
        self._task: asyncio.Task[Any] | None = None
        self.test_button = QPushButton("&Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.setToolTip("Check the account's address and secret without a call")
        self.cancel_button = QPushButton("Cancel test")
        self.cancel_button.setAccessibleName("Cancel the connection test")
        self.cancel_button.setVisible(False)
        for button in (self.test_button, self.cancel_button):
            button.setAutoDefault(False)
        self.result = message_label("Connection test result")
        self.ok: bool | None = None  # the last test's outcome; None: none finished yet
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.test_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result)
        self.test_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start a test; does nothing while one runs."""
        if self.running:
            return
        try:
            account, secret = self._target()
        except DialerError as exc:
            self.ok = False
            say(self.result, error_sentence(exc, "checking the account"))
            return
        self._task = self.tasks.start(TEST_TASK, self.run(account, secret), replace=False)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def run(self, account: Account, typed_secret: str) -> bool:
        """Build the account's provider, ask it to check the credentials, say the answer."""
        from dialer.providers import provider_class

        self._busy(True)
        say(self.result, f"Testing the connection to {provider_label(account.provider)}…", "info")
        provider = None
        try:
            secret = typed_secret or await get_secret(self.profile.secrets, account.secret_key)
            if not secret:
                what = in_sentence(secret_label(account.provider, account.options))
                raise ConfigError(f"No {what} is stored for '{account.name}'; type it first")
            register_secret(secret)  # masked in any log line or error text from here on
            provider = provider_class(account.provider)(account, secret)
            said = await provider.test_connection()
        except asyncio.CancelledError:
            self.ok = None
            say(self.result, "Connection test cancelled", "info")
            raise
        except UnsupportedOption as exc:
            # Not a failure: the provider has no such check (DigiDonar). Said as news.
            self.ok = False
            say(self.result, f"{exc}: the first call shows whether the account works", "info")
            return False
        except Exception as exc:
            self.ok = False
            say(self.result, error_sentence(exc, "testing the connection"))
            return False
        finally:
            self._busy(False)
            if provider is not None:
                await provider.aclose()
        self.ok = True
        say(self.result, scrub(said), "info")
        return True

    def refresh(self) -> None:
        self.test_button.setEnabled(not self.running and self._can_test())

    def _busy(self, busy: bool) -> None:
        had_focus = self.cancel_button.hasFocus()
        self.test_button.setEnabled(not busy and self._can_test())
        self.cancel_button.setVisible(busy)
        if busy:
            self.cancel_button.setFocus()
        elif had_focus:
            self.test_button.setFocus()


class AccountForm(QDialog):
    """Add or edit one account. Saving is a coroutine; the form closes only once saved."""

    def __init__(self, profile: Profile, account: Account | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.profile = profile
        self.original = account
        self.saved: Account | None = None
        self.tasks = TaskManager(on_error=self._failed)
        self.setWindowTitle(f"Edit account {account.name}" if account else "Add account")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(520)
        self._build()
        self._fill(account)
        self._provider_changed()

    # -- widgets --------------------------------------------------------------------------

    def _line(self, name: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    def _seconds(self, name: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setAccessibleName(name)
        spin.setRange(0.5, 300.0)
        spin.setDecimals(1)
        spin.setSingleStep(1.0)
        spin.setSuffix(" s")
        return spin

    def _calls(self, name: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setAccessibleName(name)
        spin.setRange(0, MAX_LIMIT)
        spin.setSpecialValueText("No limit")  # shown for 0
        return spin

    def _row(self, text: str, widget: QWidget, layout: QFormLayout) -> QLabel:
        label = QLabel(text)
        label.setBuddy(widget)
        layout.addRow(label, widget)
        return label

    def _build(self) -> None:
        self.name_edit = self._line("Account name", "e.g. Sales C2C")
        self.provider_box = QComboBox()
        self.provider_box.setAccessibleName("Provider")
        for kind, spec in _specs().items():
            self.provider_box.addItem(spec.label, kind)
        self.url_edit = self._line("Base URL", "https://…")
        self.secret_edit = self._line("Secret")
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.region_edit = self._line("Region", "ISO country code, e.g. IN")
        self.region_edit.setMaxLength(8)
        self.agent_edit = self._line("Agent number", "Your own phone, e.g. +91 98765 43210")
        self.bridges_edit = QPlainTextEdit()
        self.bridges_edit.setAccessibleName("Bridges or DIDs, one per line")
        self.bridges_edit.setTabChangesFocus(True)
        self.bridges_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.format_box = QComboBox()
        self.format_box.setAccessibleName("Number format")
        self.format_box.addItem("Provider default", None)
        self.format_box.addItem("Digits with country code (918867135000)", "digits")
        self.format_box.addItem("E.164 (+918867135000)", "e164")
        self.format_box.addItem("National (8867135000)", "national")
        self._build_provider_rows()
        self.connect_spin = self._seconds("Connect timeout")
        self.read_spin = self._seconds("Read timeout")
        self.insecure_box = QCheckBox("Allow plain http:// to a remote server (insecure)")
        self.insecure_box.setAccessibleName("Allow plain http to a remote server")
        self.insecure_note = QLabel(INSECURE_HTTP_NOTE)
        self.insecure_note.setWordWrap(True)
        self.insecure_note.setAccessibleName("Risk of plain http")
        self.insecure_note.setIndent(self.fontMetrics().horizontalAdvance("M") * 2)
        self.per_minute_spin = self._calls("Calls a minute through the account")
        self.agent_per_minute_spin = self._calls("Calls a minute by each agent")
        self.per_day_spin = self._calls("Calls a day through the account")
        self.agent_per_day_spin = self._calls("Calls a day by each agent")
        self.allowed_edit = self._line("Allowed numbers", "Any number; or e.g. +9180*, +9122*")
        self.allowed_edit.setToolTip(
            "Only numbers matching one of these are called: numbers in international form, "
            "a * at the end for every number that starts with it, commas between"
        )
        self.default_box = QCheckBox("Make this the default account")
        self.default_box.setAccessibleName("Make this the default account")
        self.error_label = message_label("Problem")
        self._build_layout()

    def _build_provider_rows(self) -> None:
        # Every provider's own settings, built from its declaration; only the chosen
        # provider's rows are shown. A setting with choices is a box, a secret is masked.
        self.option_edits: dict[str, QLineEdit] = {}
        self.option_boxes: dict[str, QComboBox] = {}
        self.secret_edits: dict[str, QLineEdit] = {}
        self.provider_rows: list[tuple[ProviderSpec, QWidget]] = []
        for spec in _specs().values():
            for setting in spec.fields:
                widget: QWidget
                if setting.choices:
                    box = QComboBox()
                    box.setAccessibleName(setting.label)
                    labels = setting.choice_labels or setting.choices
                    for value, text in zip(setting.choices, labels, strict=True):
                        box.addItem(text, value)
                    self.option_boxes[setting.key] = box
                    widget = box
                else:
                    hint = "required" if setting.required else setting.help or "optional"
                    edit = self._line(setting.label, hint)
                    if setting.secret:
                        edit.setEchoMode(QLineEdit.EchoMode.Password)
                        self.secret_edits[setting.key] = edit
                    else:
                        self.option_edits[setting.key] = edit
                    widget = edit
                self.provider_rows.append((spec, widget))

    def _limit_rows(self, form: QFormLayout) -> None:
        # The limits every provider's account has: two to a row, so the form still fits a
        # 1024x600 screen (tests/ui/test_layout_fits.py).
        for text, account_spin, agent_spin in (
            ("Calls a &minute", self.per_minute_spin, self.agent_per_minute_spin),
            ("Calls a da&y", self.per_day_spin, self.agent_per_day_spin),
        ):
            pair = QHBoxLayout()
            for part, spin in (("Account", account_spin), ("Each agent", agent_spin)):
                label = QLabel(part)
                label.setBuddy(spin)
                pair.addWidget(label)
                pair.addWidget(spin, 1)
            caption = QLabel(text)
            caption.setBuddy(account_spin)
            form.addRow(caption, pair)
        self._row("Allowed num&bers", self.allowed_edit, form)

    def _build_layout(self) -> None:
        form = QFormLayout()
        self.form = form
        self._row("&Name", self.name_edit, form)
        self._row("&Provider", self.provider_box, form)
        self._row("Base &URL", self.url_edit, form)
        self.secret_label = self._row("Secret", self.secret_edit, form)
        for _, widget in self.provider_rows:
            self._row(widget.accessibleName(), widget, form)
        self._row("&Region", self.region_edit, form)
        self._row("&Agent number", self.agent_edit, form)
        self.bridges_label = self._row("Bridges / DIDs", self.bridges_edit, form)
        self._row("Number &format", self.format_box, form)
        timeouts = QHBoxLayout()
        for text, spin in (("C&onnect", self.connect_spin), ("Rea&d", self.read_spin)):
            label = QLabel(text)
            label.setBuddy(spin)
            timeouts.addWidget(label)
            timeouts.addWidget(spin, 1)
        form.addRow("Timeouts", timeouts)
        self._limit_rows(form)

        self.tester = ConnectionTester(self.profile, self.tasks, self._edited, self)
        self._shown_kind: str | None = None  # the provider whose rows are shown
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Add" if self.original is None else "Save")
        self.save_button.setAccessibleName("Add account" if self.original is None else "Save")
        self.save_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.start_save)
        self.buttons.rejected.connect(self.reject)

        # The fields scroll when the screen is shorter than the form (Kazoo's has 13 rows);
        # what the form says and its buttons stay in view.
        fields = QWidget()
        fields_layout = QVBoxLayout(fields)
        fields_layout.setContentsMargins(0, 0, 0, 0)
        fields_layout.addLayout(form)
        fields_layout.addWidget(self.insecure_box)
        fields_layout.addWidget(self.insecure_note)
        fields_layout.addWidget(self.default_box)
        layout = QVBoxLayout(self)
        if self.profile.demo:
            note = QLabel(DEMO_NOTE)
            note.setWordWrap(True)
            note.setAccessibleName("Demo note")
            layout.addWidget(note)
        layout.addWidget(scrolling(fields), 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.tester)
        layout.addWidget(self.buttons)
        self.field_widgets: dict[str, QWidget] = {
            "name": self.name_edit,
            "provider": self.provider_box,
            "url": self.url_edit,
            "secret": self.secret_edit,
            "region": self.region_edit,
            "agent": self.agent_edit,
            "bridges": self.bridges_edit,
            "connect_timeout": self.connect_spin,
            "read_timeout": self.read_spin,
            "allowed_numbers": self.allowed_edit,
            **self.option_edits,
            **self.option_boxes,
            **self.secret_edits,
        }
        self.provider_box.currentIndexChanged.connect(self._provider_changed)
        for edit in self.option_edits.values():  # a login option may rename the secret
            edit.textChanged.connect(self._update_secret_label)

    def _fill(self, account: Account | None) -> None:
        self.connect_spin.setValue(DEFAULT_CONNECT_TIMEOUT)
        self.read_spin.setValue(DEFAULT_READ_TIMEOUT)
        limits = account.limits if account is not None else CallLimits()
        self.per_minute_spin.setValue(limits.per_minute)
        self.per_day_spin.setValue(limits.per_day)
        self.agent_per_minute_spin.setValue(limits.agent_per_minute)
        self.agent_per_day_spin.setValue(limits.agent_per_day)
        self.allowed_edit.setText(", ".join(limits.allowed_numbers))
        if account is None:
            self.default_box.setChecked(not self.profile.accounts.list())
            return
        self.default_box.setVisible(False)
        self.name_edit.setText(account.name)
        self.name_edit.setReadOnly(True)
        self.name_edit.setToolTip("To rename an account, remove it and add it again")
        self.provider_box.setCurrentIndex(self.provider_box.findData(str(account.provider)))
        self.url_edit.setText(account.url)
        self.region_edit.setText(account.region or "")
        self.agent_edit.setText(account.agent or "")
        self.bridges_edit.setPlainText("\n".join(account.bridges))
        fmt = str(account.number_format) if account.number_format else None
        self.format_box.setCurrentIndex(max(0, self.format_box.findData(fmt)))
        for key, edit in self.option_edits.items():
            edit.setText(account.options.get(key, ""))
        for key, box in self.option_boxes.items():
            box.setCurrentIndex(max(0, box.findData(account.options.get(key))))
        self.connect_spin.setValue(account.connect_timeout)
        self.read_spin.setValue(account.read_timeout)
        self.insecure_box.setChecked(account.allow_insecure_http)

    def provider(self) -> str:
        return provider_kind(str(self.provider_box.currentData()))

    def _provider_changed(self) -> None:
        """Show the rows the chosen provider takes, hide the others. What was typed for
        another provider does not carry over: its secret and bridges mean nothing here
        (a C2C v2 token is no Kazoo key, a DID no clicktocall), nor does a test's result."""
        kind = self.provider()
        spec = provider_spec(kind)
        shown, self._shown_kind = self._shown_kind, kind
        if shown is not None and shown != kind:
            self.secret_edit.clear()
            for edit in self.secret_edits.values():
                edit.clear()
            original = self.original
            same = original is not None and original.provider is kind
            self.bridges_edit.setPlainText("\n".join(original.bridges) if same and original else "")
            say(self.tester.result, "")
            self.tester.ok = None
        for owner, widget in self.provider_rows:
            self.form.setRowVisible(widget, owner is spec)
        bridges = spec.bridges
        self.form.setRowVisible(self.bridges_edit, bridges is not None)
        if bridges is not None:
            self.bridges_label.setText(bridges)  # one line: a form row is one line high
            self.bridges_edit.setAccessibleName(f"{bridges}, one per line")
            self.bridges_edit.setPlaceholderText("One per line")
        default = spec.capabilities.default_number_format
        self.format_box.setItemText(0, f"Provider default ({default})")
        self._update_secret_label()

    def _update_secret_label(self) -> None:
        kind = self.provider()
        label = secret_label(kind, self._options(kind))
        self.secret_label.setText(label)
        self.secret_edit.setAccessibleName(label)
        keep = self.original is not None and self.original.provider is kind
        self.secret_edit.setPlaceholderText(
            f"Leave empty to keep the stored {in_sentence(label)}" if keep else "required"
        )

    # -- values ---------------------------------------------------------------------------

    def _options(self, kind: str) -> dict[str, str]:
        spec = provider_spec(kind)
        options: dict[str, str] = {}
        for setting in spec.option_fields:
            if setting.key in self.option_boxes:
                options[setting.key] = str(self.option_boxes[setting.key].currentData())
            else:
                options[setting.key] = self.option_edits[setting.key].text()
        if self.original is not None:  # settings no provider knows (a newer version's) stay
            options.update({k: v for k, v in self.original.options.items() if _owner_of(k) is None})
        return options

    def fields(self) -> AccountFields:
        kind = self.provider()
        fmt = self.format_box.currentData()
        return AccountFields(
            name=self.name_edit.text(),
            provider=kind,
            url=self.url_edit.text(),
            region=self.region_edit.text(),
            agent=self.agent_edit.text(),
            bridges=self.bridges_edit.toPlainText() if provider_spec(kind).bridges else "",
            number_format=NumberFormat(fmt) if fmt else None,
            options=self._options(kind),
            allow_insecure_http=self.insecure_box.isChecked(),
            connect_timeout=self.connect_spin.value(),
            read_timeout=self.read_spin.value(),
            per_minute=self.per_minute_spin.value(),
            per_day=self.per_day_spin.value(),
            agent_per_minute=self.agent_per_minute_spin.value(),
            agent_per_day=self.agent_per_day_spin.value(),
            allowed_numbers=self.allowed_edit.text(),
            demo=self.profile.demo or bool(self.original and self.original.demo),
        )

    def typed_secret(self) -> str:
        """The secret as typed ("" when nothing is: an edit keeps the stored one). Kept as
        is, spaces and all, for :meth:`_check_secrets` to refuse with a sentence."""
        return self.secret_edit.text()

    def _check_secrets(self, account: Account, secret: str) -> None:
        """Refuse a secret the provider's wire cannot carry, before anything is stored."""
        spec = provider_spec(account.provider)
        if secret:
            problem = spec.secret.problem(secret, account.options)
            if problem:
                raise FieldError("secret", problem)
        for setting in spec.secret_fields:
            value = self.secret_edits[setting.key].text()
            problem = setting.check(value) if value and setting.check else None
            if problem:
                raise FieldError(setting.key, problem)

    def _edited(self) -> tuple[Account, str]:
        """The account as the form stands, and the secret typed (for Test connection)."""
        self._clear_error()
        try:
            account = account_from_fields(self.fields())
            secret = self.typed_secret()
            if not secret and self.original is None:
                what = in_sentence(secret_label(account.provider, account.options))
                raise FieldError("secret", f"Type the {what} to test the connection")
            self._check_secrets(account, secret)
        except FieldError as exc:
            self._focus(exc.field)  # the tester shows the sentence
            raise
        return account, secret

    # -- saving ---------------------------------------------------------------------------

    def start_save(self) -> None:
        if not self.tasks.running(SAVE_TASK):
            self.tasks.start(SAVE_TASK, self.save(), replace=False)

    async def save(self) -> bool:
        """Validate, store the secret, then the account; on success the form closes."""
        self._clear_error()
        self.save_button.setEnabled(False)
        try:
            account = account_from_fields(self.fields())
            await self._store(account, self.typed_secret())
        except FieldError as exc:
            self._field_error(exc)
            return False
        except DialerError as exc:
            say(self.error_label, error_sentence(exc, "saving the account"))
            return False
        finally:
            self.save_button.setEnabled(True)
        self.saved = account
        self.secret_edit.clear()
        for edit in self.secret_edits.values():
            edit.clear()
        self.accept()
        return True

    async def _store(self, account: Account, secret: str) -> None:
        profile = self.profile
        original = self.original
        what = in_sentence(secret_label(account.provider, account.options))
        if original is None:
            if any(a.name == account.name for a in profile.accounts.list()):
                raise FieldError("name", f"An account named '{account.name}' already exists")
            if not secret:
                raise FieldError("secret", f"Type the account's {what}")
        elif account.provider is not original.provider and not secret:
            raise FieldError(
                "secret",
                f"Type the {provider_label(account.provider)} {what}: the stored secret "
                f"belongs to {provider_label(original.provider)}",
            )
        self._check_secrets(account, secret)
        previous: str | None = None
        if secret:
            if original is not None:
                previous = await get_secret(profile.secrets, account.secret_key)
            # The secret first: with no usable keyring nothing is saved at all.
            await set_secret(profile.secrets, account.secret_key, secret)
        try:
            if original is None:
                profile.accounts.add(account, make_default=self.default_box.isChecked())
            else:
                profile.accounts.update(account)
        except Exception:
            if secret:
                await self._restore_secret(account.secret_key, previous)
            raise
        for setting in provider_spec(account.provider).secret_fields:
            # E.g. C2C v2's webhook secret: reports for this account must then carry
            # "Authorization: Bearer <secret>".
            value = self.secret_edits[setting.key].text()
            if value:
                key = f"{account.secret_key}:{setting.keyring_name or setting.key}"
                await set_secret(profile.secrets, key, value)
        # The service keeps a provider per account, built with the old settings and secret,
        # and the receiver caches webhook secrets.
        await profile.service.forget(account.name)
        if profile.receiver is not None:
            profile.receiver.forget_secrets()

    async def _restore_secret(self, key: str, previous: str | None) -> None:
        try:
            if previous is None:
                await delete_secret(self.profile.secrets, key)
            else:
                await set_secret(self.profile.secrets, key, previous)
        except DialerError:
            logger.warning("Could not put back the keyring entry %s", key, exc_info=True)

    # -- messages and closing -------------------------------------------------------------

    def _clear_error(self) -> None:
        say(self.error_label, "")

    def _field_error(self, error: FieldError) -> None:
        say(self.error_label, str(error))
        self._focus(error.field)

    def _focus(self, field_name: str) -> None:
        widget = self.field_widgets.get(field_name)
        if widget is not None and widget.isVisible():
            widget.setFocus()

    def _failed(self, name: str, error: BaseException) -> None:
        doing = "testing the connection" if name == TEST_TASK else "saving the account"
        say(self.error_label, error_sentence(error, doing))

    def reject(self) -> None:
        if self.tasks.running(SAVE_TASK):
            return  # the keyring and the file are being written: let that finish
        self.tester.cancel()
        super().reject()

    async def finish(self) -> None:
        """Stop a running connection test and wait for every task of the form."""
        self.tester.cancel()
        await self.tasks.wait_idle()


class AccountsDialog(QDialog):
    """The profile's accounts, with Add, Edit, Remove and Test connection."""

    def __init__(self, profile: Profile, parent: QWidget | None = None):
        super().__init__(parent)
        self.profile = profile
        self.changed = False
        self.tasks = TaskManager(on_error=self._failed)
        self.form: AccountForm | None = None  # the add/edit form while it is open
        self.setWindowTitle("Accounts")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.account_list = QListWidget()
        self.account_list.setAccessibleName("Accounts")
        self.add_button = QPushButton("&Add…")
        self.add_button.setAccessibleName("Add account")
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setAccessibleName("Edit account")
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setAccessibleName("Remove account")
        self.clicktocalls_button = QPushButton("&Clicktocalls…")
        self.clicktocalls_button.setAccessibleName("Manage the Kazoo account's clicktocalls")
        self.tester = ConnectionTester(
            profile,
            self.tasks,
            self._selected_for_test,
            self,
            can_test=lambda: self.selected_name() is not None,
        )
        self.status = message_label("Status")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        # Enter on the list opens the account; no button may swallow it to close the dialog.
        for button in (
            self.add_button,
            self.edit_button,
            self.remove_button,
            self.clicktocalls_button,
            self.buttons.button(QDialogButtonBox.StandardButton.Close),
        ):
            button.setAutoDefault(False)
            button.setDefault(False)

        side = QVBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button):
            side.addWidget(button)
        side.addWidget(self.clicktocalls_button)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.account_list, 1)
        row.addLayout(side)
        layout = QVBoxLayout(self)
        if profile.demo:
            note = QLabel(DEMO_NOTE)
            note.setWordWrap(True)
            note.setAccessibleName("Demo note")
            layout.addWidget(note)
        layout.addLayout(row, 1)
        layout.addWidget(self.tester)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(620, 380)

        self.add_button.clicked.connect(lambda: self._start("edit", self.add_account))
        self.edit_button.clicked.connect(lambda: self._start("edit", self.edit_account))
        self.remove_button.clicked.connect(lambda: self._start("remove", self.remove_account))
        self.clicktocalls_button.clicked.connect(
            lambda: self._start("edit", self.manage_clicktocalls)
        )
        self.account_list.activated.connect(lambda _: self._start("edit", self.edit_account))
        self.account_list.currentRowChanged.connect(lambda _: self._selection_changed())
        self.refresh()

    # -- the list -------------------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        current = select or self.selected_name()
        self.account_list.clear()
        for account in self.profile.accounts.list():
            label = provider_label(account.provider)
            item = QListWidgetItem(f"{account.name}  —  {label}  —  {account.url}")
            item.setData(Qt.ItemDataRole.UserRole, account.name)
            self.account_list.addItem(item)
            if account.name == current:
                self.account_list.setCurrentItem(item)
        if self.account_list.currentRow() < 0 and self.account_list.count():
            self.account_list.setCurrentRow(0)
        if not self.account_list.count():
            say(self.status, "No account yet: add one to start calling", "info")
        self._selection_changed()

    def selected_name(self) -> str | None:
        if self.account_list.currentRow() < 0:
            return None
        return str(self.account_list.currentItem().data(Qt.ItemDataRole.UserRole))

    def select(self, name: str) -> None:
        for row in range(self.account_list.count()):
            if self.account_list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.account_list.setCurrentRow(row)
                return
        raise KeyError(name)

    def selected(self) -> Account | None:
        name = self.selected_name()
        if name is None:
            return None
        try:
            return self.profile.accounts.get(name)
        except ConfigError:
            return None

    def _selection_changed(self) -> None:
        chosen = self.selected_name() is not None
        for button in (self.edit_button, self.remove_button):
            button.setEnabled(chosen)
        account = self.selected() if chosen else None
        # Only an account whose bridges are objects on its server has any to manage here.
        self.clicktocalls_button.setVisible(
            account is not None
            and provider_spec(account.provider).capabilities.bridge is BridgeKind.CLICKTOCALL
        )
        self.tester.refresh()

    def _selected_for_test(self) -> tuple[Account, str]:
        account = self.selected()
        if account is None:
            raise InvalidInput("Choose an account to test")
        return account, ""  # the stored secret

    # -- actions --------------------------------------------------------------------------

    def _start(self, name: str, action: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """One add/edit/remove at a time: a click while one is under way does nothing."""
        if self.tasks.running("edit") or self.tasks.running("remove"):
            return
        self.tasks.start(name, action(), replace=False)

    async def _run_form(self, account: Account | None) -> Account | None:
        self.tester.cancel()
        form = AccountForm(self.profile, account, self)
        self.form = form
        try:
            await run_dialog(form)
        finally:
            self.form = None
            if isValid(form):
                if form.isVisible():  # this task was cancelled (the window is closing)
                    form.done(QDialog.DialogCode.Rejected)
                await form.finish()
                form.deleteLater()
        return form.saved

    async def add_account(self) -> Account | None:
        say(self.status, "")
        account = await self._run_form(None)
        if account is not None:
            self.changed = True
            self.refresh(select=account.name)
            say(self.status, f"Added account '{account.name}'", "info")
        return account

    async def edit_account(self) -> Account | None:
        say(self.status, "")
        current = self.selected()
        if current is None:
            say(self.status, "Choose an account to edit")
            return None
        account = await self._run_form(current)
        if account is not None:
            self.changed = True
            self.refresh(select=account.name)
            say(self.status, f"Saved account '{account.name}'", "info")
        return account

    async def manage_clicktocalls(self) -> bool:
        from dialer.ui.kazoo_dialog import manage_clicktocalls

        account = self.selected()
        if account is None:
            say(self.status, "Choose a Kazoo account")
            return False
        self.tester.cancel()
        return await manage_clicktocalls(self, self.profile, account)

    async def remove_account(self) -> bool:
        """Ask, then delete the keyring entry, the account, its provider and its flows."""
        say(self.status, "")
        account = self.selected()
        if account is None:
            say(self.status, "Choose an account to remove")
            return False
        what = in_sentence(secret_label(account.provider, account.options))
        # Only a provider with IVR flows has any to lose.
        flows = (
            " and its IVR flows are"
            if provider_spec(account.provider).capabilities.flows
            else " is"
        )
        question = f"Remove the account '{account.name}'? Its stored {what}{flows} deleted too."
        if not await confirm(self, "Remove account", question, action="Remove"):
            return False
        self.tester.cancel()
        profile = self.profile
        try:
            await delete_secret(profile.secrets, account.secret_key)
            await delete_secret(profile.secrets, account.webhook_secret_key)
            profile.accounts.remove(account.name)
        except DialerError as exc:
            say(self.status, error_sentence(exc, "removing the account"))
            return False
        self.changed = True
        await profile.service.forget(account.name)
        if profile.receiver is not None:
            profile.receiver.forget_secrets()
        try:
            profile.flows.delete_account(account.name)
        except DialerError as exc:
            say(self.status, error_sentence(exc, "removing the account's flows"))
            self.refresh()
            return True
        self.refresh()
        say(self.status, f"Removed account '{account.name}' and its stored {what}", "info")
        return True

    # -- closing --------------------------------------------------------------------------

    def _failed(self, name: str, error: BaseException) -> None:
        doing = {
            TEST_TASK: "testing the connection",
            "remove": "removing the account",
        }.get(name, "changing the account")
        say(self.status, error_sentence(error, doing))

    def reject(self) -> None:
        self.tester.cancel()
        super().reject()


async def edit_accounts(parent: QWidget, profile: Profile) -> bool:
    """Open the Accounts dialog over ``parent``; True when any account was added, changed
    or removed."""
    dialog = AccountsDialog(profile, parent)
    await run_to_the_end(dialog, dialog.tasks)
    return dialog.changed
