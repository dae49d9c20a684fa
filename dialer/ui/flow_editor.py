"""The flow and variable editor: each account's IVR flows, their prompts and variables.

Left, the account (only those whose provider has IVR flows) and its flows; right, the flow
being edited: its id and name, the prompt as written in the provider's studio, one row per
``{variable}`` of that prompt (a typed value or a contact field), and a live preview of the
prompt for one contact with the sentence that would block a call.

Unsaved edits are never dropped silently: switching flow or account, adding a flow or
closing the dialog asks first (``confirm``). Save writes the one flow being edited and
stays open; Enter saves from the id and name fields, Esc closes.

The variables table is a small :class:`QAbstractTableModel` over the flow itself rather than
a ``QTableWidget``: its rows are a pure function of the prompt and the bindings, so the model
reads them from the :class:`~dialer.core.flows.FlowDefinition` and writes edits back through
``with_binding``; there is no second copy of the cells to keep in step.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, cast

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dialer.app.profile import Profile
from dialer.core.accounts import Account, ProviderKind
from dialer.core.contacts import Contact
from dialer.core.errors import DialerError, InvalidInput
from dialer.core.flows import (
    CONTACT_FIELDS,
    UNSET,
    FlowDefinition,
    MissingVariables,
    VariableBinding,
    render_prompt,
    resolve_variables,
)
from dialer.providers import provider_class
from dialer.ui.dialogs import confirm, run_dialog
from dialer.ui.fitting import resize_within_screen
from dialer.ui.tasks import TaskManager

logger = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

TYPED = ""  # the "value from" choice of a typed value; the others are CONTACT_FIELDS keys
NEW_FLOW_ID = "new"  # the id a new flow carries internally until the user types one
CONTACT_CHOICES = 20  # contacts offered for the preview per search
CONTACT_SEARCH_DELAY_MS = 150


# -- plain helpers (no widgets) ------------------------------------------------------------


def flow_accounts(accounts: Sequence[Account]) -> list[Account]:
    """The accounts whose provider can ring a customer into an IVR flow."""
    return [a for a in accounts if provider_class(a.provider).capabilities.flows]


def flow_provider_labels() -> list[str]:
    """``["C2C v2"]``: the providers that have IVR flows, as the user knows them."""
    return [provider_class(k).label for k in ProviderKind if provider_class(k).capabilities.flows]


def source_label(source: str) -> str:
    """``"Typed value"`` or ``"Contact field: First name"``."""
    return "Typed value" if source == TYPED else f"Contact field: {CONTACT_FIELDS[source]}"


def contact_label(contact: Contact) -> str:
    """How a contact is offered for the preview: name, company and first number."""
    parts = [contact.name, contact.company, contact.primary.number if contact.primary else ""]
    return " · ".join(p for p in parts if p)


def readiness(flow: FlowDefinition, contact: Contact | None, *, flow_named: bool = True) -> str:
    """The one sentence saying whether ``flow`` can call ``contact``: the very sentence
    (:class:`MissingVariables`) that blocks the call in the main window, or that it is ready.
    ``flow_named=False`` says "This flow" instead of the flow's label (an id not valid yet)."""
    try:
        resolve_variables(
            flow,
            contact.fields() if contact else None,
            contact_name=contact.name if contact else "",
        )
    except MissingVariables as exc:
        text = str(exc)
        return text if flow_named else text.replace(f"Flow {flow.label}", "This flow", 1)
    if not flow.placeholders:
        return "The prompt has no variables: this flow can call as it is."
    who = f" for {contact.name}" if contact else ""
    return f"Every variable has a value{who}: this flow can call."


# -- the variables table -------------------------------------------------------------------


class VariablesModel(QAbstractTableModel):
    """One row per ``{variable}`` of the flow's prompt: its name, where its value comes from,
    and the value (typed, or the preview contact's field, read-only)."""

    VARIABLE, SOURCE, VALUE = range(3)
    HEADERS = ("Variable", "Value from", "Value")

    edited = Signal()  # the user changed a binding

    def __init__(self, flow: FlowDefinition, parent: Any = None):
        super().__init__(parent)
        self._flow = flow
        self._names = flow.placeholders
        self._contact: Contact | None = None

    @property
    def flow(self) -> FlowDefinition:
        return self._flow

    def set_flow(self, flow: FlowDefinition) -> None:
        """Show ``flow``: rows are rebuilt only when its variables differ from the last."""
        names = flow.placeholders
        if names != self._names:
            self.beginResetModel()
            self._flow, self._names = flow, names
            self.endResetModel()
            return
        changed = flow.bindings != self._flow.bindings
        self._flow = flow
        if changed and names:
            self.dataChanged.emit(self.index(0, 0), self.index(len(names) - 1, self.VALUE))

    def set_contact(self, contact: Contact | None) -> None:
        """The contact whose fields the value column shows for bound variables."""
        self._contact = contact
        if self._names:
            last = len(self._names) - 1
            self.dataChanged.emit(self.index(0, self.VALUE), self.index(last, self.VALUE))

    def name(self, row: int) -> str:
        return self._names[row]

    def source(self, row: int) -> str:
        return self._flow.binding(self._names[row]).contact_field or TYPED

    # -- Qt's interface

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._names)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def _contact_value(self, field: str) -> tuple[str, str]:
        """What a bound variable shows: (cell text, sentence for tooltips and screen readers)."""
        label = CONTACT_FIELDS[field]
        if self._contact is None:
            return f"the contact's {label}", f"filled from the called contact's {label}"
        value = self._contact.fields().get(field, "").strip()
        if not value:
            return f"(empty for {self._contact.name})", f"{label} is empty for {self._contact.name}"
        return value, f"{value}, from {self._contact.name}'s {label}"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._names):
            return None
        name = self._names[index.row()]
        binding = self._flow.binding(name)
        column = index.column()
        bound = binding.contact_field is not None
        typed = binding.value or ""
        if column == self.VARIABLE:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{{{name}}}"
            if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
                return f"Variable {name}"
            return None
        if column == self.SOURCE:
            source = binding.contact_field or TYPED
            if role == Qt.ItemDataRole.EditRole:
                return source
            if role == Qt.ItemDataRole.DisplayRole:
                return source_label(source)
            if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
                return f"{name} takes its value from: {source_label(source)}"
            return None
        # the value column
        if bound:
            assert binding.contact_field is not None
            text, sentence = self._contact_value(binding.contact_field)
            if role == Qt.ItemDataRole.DisplayRole:
                return text
            if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
                return f"{name}: {sentence}"
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setItalic(True)
                return font
            if role == Qt.ItemDataRole.ForegroundRole:
                return QPalette().color(QPalette.ColorRole.PlaceholderText)
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return typed
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{name}: typed value {typed}" if typed.strip() else f"{name}: no value yet"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"The value sent as {name} on every call (F2 or double-click to edit)"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == self.SOURCE or (
            index.column() == self.VALUE and self.source(index.row()) == TYPED
        ):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        name = self._names[index.row()]
        binding = self._flow.binding(name)
        if index.column() == self.SOURCE:
            source = str(value or TYPED)
            if source == TYPED:
                new = UNSET if binding.contact_field is not None else binding
            elif source in CONTACT_FIELDS:
                new = VariableBinding.from_contact(source)
            else:
                return False
        elif index.column() == self.VALUE and binding.contact_field is None:
            text = str(value or "")
            new = VariableBinding.typed(text) if text.strip() else UNSET
        else:
            return False
        if new != binding:
            self._flow = self._flow.with_binding(name, new)
            row = index.row()
            self.dataChanged.emit(self.index(row, self.SOURCE), self.index(row, self.VALUE))
            self.edited.emit()
        return True


class SourceDelegate(QStyledItemDelegate):
    """The "value from" cell: a combo of "Typed value" and every contact field, committed as
    soon as the choice changes."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        combo = QComboBox(parent)
        combo.addItem(source_label(TYPED), TYPED)
        for key in CONTACT_FIELDS:
            combo.addItem(source_label(key), key)
        variable = index.model().index(index.row(), VariablesModel.VARIABLE).data()
        combo.setAccessibleName(f"Value of {variable} from")
        combo.setToolTip(f"Where the value of {variable} comes from")
        combo.currentIndexChanged.connect(lambda _=0, editor=combo: self.commitData.emit(editor))
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        combo = cast(QComboBox, editor)
        position = combo.findData(index.data(Qt.ItemDataRole.EditRole))
        combo.blockSignals(True)
        combo.setCurrentIndex(max(position, 0))
        combo.blockSignals(False)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        model.setData(index, cast(QComboBox, editor).currentData(), Qt.ItemDataRole.EditRole)

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> None:
        editor.setGeometry(option.rect)


class ValueDelegate(QStyledItemDelegate):
    """The typed value cell: a line editor named after its variable."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = super().createEditor(parent, option, index)
        variable = index.model().index(index.row(), VariablesModel.VARIABLE).data()
        editor.setAccessibleName(f"Typed value of {variable}")
        return editor


class VariablesView(QTableView):
    """The variables table, its "value from" combos always shown. (Enter in a cell being
    edited finishes that cell only: the view keeps it from the dialog's Save button.)"""

    def __init__(self, model: VariablesModel, parent: Any = None):
        super().__init__(parent)
        self.setModel(model)
        self.setItemDelegateForColumn(VariablesModel.SOURCE, SourceDelegate(self))
        self.setItemDelegateForColumn(VariablesModel.VALUE, ValueDelegate(self))
        self.setAccessibleName("Variables")
        self.setAccessibleDescription(
            "One row per variable of the prompt: where its value comes from, and the value"
        )
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
        self.verticalHeader().setVisible(False)
        sample = QComboBox()  # as wide and tall as the widest "value from" choice
        sample.addItems([source_label(key) for key in (TYPED, *CONTACT_FIELDS)])
        self.verticalHeader().setDefaultSectionSize(sample.sizeHint().height() + 2)
        header = self.horizontalHeader()
        header.setSectionResizeMode(
            VariablesModel.VARIABLE, QHeaderView.ResizeMode.ResizeToContents
        )
        header.setSectionResizeMode(VariablesModel.SOURCE, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(VariablesModel.SOURCE, sample.sizeHint().width() + 8)
        header.setSectionResizeMode(VariablesModel.VALUE, QHeaderView.ResizeMode.Stretch)
        model.modelReset.connect(self.open_source_editors)
        self.open_source_editors()

    def open_source_editors(self) -> None:
        model = self.model()
        for row in range(model.rowCount()):
            self.openPersistentEditor(model.index(row, VariablesModel.SOURCE))

    def source_editor(self, row: int) -> QComboBox:
        """The "value from" combo of a row."""
        return cast(QComboBox, self.indexWidget(self.model().index(row, VariablesModel.SOURCE)))


class _SearchEdit(QLineEdit):
    """A search box whose Enter searches at once instead of pressing the dialog's default
    button."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


# -- the dialog ----------------------------------------------------------------------------


class FlowEditorDialog(QDialog):
    """Flows per account. Actions are coroutines (``select_account``, ``select_flow``,
    ``save``, ``delete``, ``find_contacts``) that widgets start as tasks and tests await."""

    def __init__(
        self,
        profile: Profile,
        *,
        account: str | None = None,
        contact: Contact | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.profile = profile
        self.changed = False  # something was saved or deleted
        self.tasks = TaskManager(on_error=self._task_failed)
        self._accounts = flow_accounts(profile.accounts.list())
        self._account: str | None = None
        self._original_id: str | None = None  # the stored flow being edited; None: a new one
        self._original_label = ""
        self._baseline: tuple[Any, ...] = ()
        self._contact = contact
        self._busy = False
        self._closing = False
        self._search_task: asyncio.Task[Any] | None = None
        self.setWindowTitle("Flows and variables")
        self._build()
        self._wire()
        if not self._accounts:
            self.none_label.setText(
                "None of your accounts can ring customers into IVR flows: only "
                f"{' and '.join(flow_provider_labels())} accounts can. "
                "Add one under Settings → Accounts, then define its flows here."
            )
            self.none_label.setVisible(True)
            self.splitter.setEnabled(False)
            self._update_buttons()
            return
        names = [a.name for a in self._accounts]
        self._open_account(account if account in names else names[0])

    # -- building

    def _build(self) -> None:
        self.none_label = QLabel(self)
        self.none_label.setAccessibleName("No account with IVR flows")
        self.none_label.setWordWrap(True)
        self.none_label.setVisible(False)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self._build_flow(), 1)
        right_layout.addWidget(self._build_preview())
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._build_flows_list())
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.error_label = QLabel()
        self.error_label.setAccessibleName("Error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.none_label)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.error_label)
        layout.addLayout(self._build_buttons())
        resize_within_screen(self, 900, 620)

    def _build_flows_list(self) -> QWidget:
        """Left: the account and its flows."""
        self.account_box = QComboBox()
        self.account_box.setAccessibleName("Account")
        for account in self._accounts:
            label = provider_class(account.provider).label
            self.account_box.addItem(f"{account.name} ({label})", account.name)
        self.flow_list = QListWidget()
        self.flow_list.setAccessibleName("Flows of the account")
        self.add_button = QPushButton("&Add flow")
        self.add_button.setAccessibleName("Add a flow")
        self.delete_button = QPushButton("&Delete flow")
        self.delete_button.setAccessibleName("Delete the flow")
        account_form = QFormLayout()
        account_form.addRow("A&ccount", self.account_box)
        flows_label = QLabel("&Flows")
        flows_label.setBuddy(self.flow_list)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.add_button)
        buttons_row.addWidget(self.delete_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(account_form)
        left_layout.addWidget(flows_label)
        left_layout.addWidget(self.flow_list, 1)
        left_layout.addLayout(buttons_row)
        return left

    def _build_flow(self) -> QWidget:
        """Right: the flow's id, name and prompt, and its variables."""
        self.id_edit = QLineEdit()
        self.id_edit.setAccessibleName("Flow id")
        self.id_edit.setPlaceholderText("as the provider's studio shows it, e.g. 220")
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Flow name")
        self.name_edit.setPlaceholderText("what agents pick it by, e.g. Login OTP")
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setAccessibleName("Prompt")
        self.prompt_edit.setAccessibleDescription(
            "The text the flow speaks, as configured in the studio; {Name} marks a variable"
        )
        self.prompt_edit.setPlaceholderText("Hello {Name}, your otp for login is {otp}")
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setFixedHeight(self.prompt_edit.fontMetrics().lineSpacing() * 4 + 12)
        prompt_hint = QLabel(
            "Copy it from the studio: {Name} marks a variable, {{ and }} are literal braces."
        )
        prompt_hint.setWordWrap(True)
        flow_form = QFormLayout()
        flow_form.addRow("Flow &id", self.id_edit)
        flow_form.addRow("&Name", self.name_edit)
        flow_form.addRow("&Prompt", self.prompt_edit)
        flow_form.addRow("", prompt_hint)

        blank = FlowDefinition(account="-", flow_id=NEW_FLOW_ID, name="")
        self.variables_model = VariablesModel(blank, self)
        self.variables_view = VariablesView(self.variables_model)
        variables_label = QLabel("&Variables")
        variables_label.setBuddy(self.variables_view)
        self.variables_hint = QLabel()
        self.variables_hint.setAccessibleName("About the variables")
        self.variables_hint.setWordWrap(True)
        widget = QWidget()
        layout = QVBoxLayout(widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(flow_form)
        layout.addWidget(variables_label)
        layout.addWidget(self.variables_view, 1)
        layout.addWidget(self.variables_hint)
        return widget

    def _build_preview(self) -> QWidget:
        """The prompt as one contact would hear it, and whether the flow can call them."""
        self.contact_search = _SearchEdit()
        self.contact_search.setAccessibleName("Find a contact for the preview")
        self.contact_search.setPlaceholderText("Type a name to preview another contact")
        self.contact_search.setClearButtonEnabled(True)
        self.contact_box = QComboBox()
        self.contact_box.setAccessibleName("Preview contact")
        self.contact_status = QLabel()
        self.contact_status.setAccessibleName("Contact search status")
        self.preview_label = QLabel()
        self.preview_label.setAccessibleName("Preview of the prompt")
        self.preview_label.setWordWrap(True)
        self.preview_label.setTextFormat(Qt.TextFormat.PlainText)
        self.preview_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.missing_label = QLabel()
        self.missing_label.setAccessibleName("Can this flow call")
        self.missing_label.setWordWrap(True)
        self.missing_label.setTextFormat(Qt.TextFormat.PlainText)
        preview_box = QGroupBox("Preview")
        preview_form = QFormLayout(preview_box)
        preview_form.addRow("Find contac&t", self.contact_search)
        preview_form.addRow("C&ontact", self.contact_box)
        preview_form.addRow("", self.contact_status)
        preview_form.addRow("Heard", self.preview_label)
        preview_form.addRow("", self.missing_label)
        self._fill_contacts([self._contact] if self._contact else [])
        return preview_box

    def _build_buttons(self) -> QHBoxLayout:
        self.status_label = QLabel()
        self.status_label.setAccessibleName("Status")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.save_button = QPushButton("&Save")
        self.save_button.setAccessibleName("Save the flow")
        self.save_button.setDefault(True)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        return bottom

    def _wire(self) -> None:
        self.account_box.currentIndexChanged.connect(self._account_picked)
        self.flow_list.currentRowChanged.connect(self._flow_picked)
        self.add_button.clicked.connect(
            lambda: self._start("switch", lambda: self.select_flow(None))
        )
        self.delete_button.clicked.connect(lambda: self._start("delete", self.delete))
        self.save_button.clicked.connect(lambda: self._start("save", self.save))
        self.close_button.clicked.connect(self.reject)
        self.id_edit.textChanged.connect(self._edited)
        self.name_edit.textChanged.connect(self._edited)
        self.prompt_edit.textChanged.connect(self._prompt_changed)
        self.variables_model.edited.connect(self._edited)
        self.variables_model.modelReset.connect(self._refresh)
        self.contact_box.currentIndexChanged.connect(self._contact_picked)
        self._search_timer = QTimer(self, singleShot=True, interval=CONTACT_SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._start_contact_search)
        self.contact_search.textChanged.connect(lambda _: self._search_timer.start())
        self.contact_search.returnPressed.connect(self._start_contact_search)

    def _start(self, name: str, action: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run one action at a time per name: a second click while it runs is ignored."""
        if not self.tasks.running(name):
            self.tasks.start(name, action(), replace=False)

    def _task_failed(self, name: str, error: BaseException) -> None:
        self._busy = False
        if isinstance(error, DialerError):
            self.show_error(str(error))
        else:
            self.show_error(
                f"Something unexpected went wrong ({type(error).__name__}); "
                "the details are in the log"
            )
        self._update_buttons()

    # -- state

    @property
    def account(self) -> str | None:
        return self._account

    @property
    def flow_id(self) -> str | None:
        """The stored id of the flow being edited; None for a new flow."""
        return self._original_id

    @property
    def contact(self) -> Contact | None:
        """The contact the preview is for."""
        return self._contact

    def _state(self) -> tuple[Any, ...]:
        return (
            self.id_edit.text().strip(),
            self.name_edit.text().strip(),
            self.prompt_edit.toPlainText(),
            dict(self.variables_model.flow.bindings),
        )

    @property
    def dirty(self) -> bool:
        """Whether the flow on screen differs from what is stored (or, new, from blank)."""
        return self._account is not None and self._state() != self._baseline

    def _typed_flow(self) -> tuple[FlowDefinition, bool]:
        """The flow as typed so far, and whether its typed id is valid (else the flow keeps
        its stored id, or ``new``)."""
        flow = self.variables_model.flow
        name = self.name_edit.text().strip()
        try:
            return replace(flow, flow_id=self.id_edit.text().strip(), name=name), True
        except InvalidInput:
            return replace(flow, name=name), False

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
        if text:
            self.status_label.clear()

    def _update_buttons(self) -> None:
        ready = self._account is not None and not self._busy
        self.save_button.setEnabled(ready and self.dirty)
        self.delete_button.setEnabled(ready and self._original_id is not None)
        self.add_button.setEnabled(ready)

    def _refresh(self) -> None:
        """Preview, the readiness sentence, hints and buttons, from what is on screen."""
        if self._account is None:
            return
        flow, id_ok = self._typed_flow()
        fields = self._contact.fields() if self._contact else None
        text, _missing = render_prompt(flow, fields)
        self.preview_label.setText(text or "(the prompt is empty)")
        self.missing_label.setText(readiness(flow, self._contact, flow_named=id_ok))
        if flow.placeholders:
            self.variables_hint.setText(
                "Each variable is sent with the call: a value typed here, or a field of the "
                "contact being called."
            )
        else:
            self.variables_hint.setText(
                "No variables: write {Name} in the prompt where the studio's prompt has one."
            )
        self._update_buttons()

    def _edited(self) -> None:
        self.show_error("")
        self.status_label.clear()
        self._refresh()

    def _prompt_changed(self) -> None:
        model = self.variables_model
        model.set_flow(model.flow.with_prompt(self.prompt_edit.toPlainText()))
        self._edited()

    # -- accounts and flows

    def _open_account(self, name: str, prefer: str | None = None) -> None:
        """Show account ``name`` and load ``prefer``, else its first flow, else a new one."""
        self._account = name
        self.account_box.blockSignals(True)
        self.account_box.setCurrentIndex(max(self.account_box.findData(name), 0))
        self.account_box.blockSignals(False)
        problem = ""
        try:
            flows = self.profile.flows.list(name)
        except DialerError as exc:
            flows, problem = [], str(exc)
        self.flow_list.blockSignals(True)
        self.flow_list.clear()
        for flow in flows:
            item = QListWidgetItem(flow.label)
            item.setData(Qt.ItemDataRole.UserRole, flow.flow_id)
            item.setToolTip(flow.prompt)
            self.flow_list.addItem(item)
        self.flow_list.blockSignals(False)
        chosen = next((f for f in flows if f.flow_id == prefer), flows[0] if flows else None)
        self._load(chosen)
        self.show_error(problem)

    def _load(self, flow: FlowDefinition | None) -> None:
        """Put ``flow`` (None: a new, blank one) on screen as the clean state."""
        assert self._account is not None
        self._original_id = flow.flow_id if flow else None
        self._original_label = flow.label if flow else ""
        self.variables_model.set_flow(
            flow or FlowDefinition(account=self._account, flow_id=NEW_FLOW_ID, name="")
        )
        for edit in (self.id_edit, self.name_edit, self.prompt_edit):
            edit.blockSignals(True)
        self.id_edit.setText(flow.flow_id if flow else "")
        self.name_edit.setText(flow.name if flow else "")
        self.prompt_edit.setPlainText(flow.prompt if flow else "")
        for edit in (self.id_edit, self.name_edit, self.prompt_edit):
            edit.blockSignals(False)
        self._baseline = self._state()
        self._show_current_in_list()
        self.show_error("")
        self._refresh()

    def _show_current_in_list(self) -> None:
        row = -1
        for i in range(self.flow_list.count()):
            if self.flow_list.item(i).data(Qt.ItemDataRole.UserRole) == self._original_id:
                row = i
        self.flow_list.blockSignals(True)
        self.flow_list.setCurrentRow(row)
        self.flow_list.blockSignals(False)

    async def _may_leave(self) -> bool:
        """True when the flow on screen may be replaced: nothing unsaved, or the user agreed
        to discard it."""
        if not self.dirty:
            return True
        what = f"flow {self._original_label}" if self._original_id else "the new flow"
        return await confirm(
            self,
            "Unsaved changes",
            f"Discard your unsaved changes to {what}?",
            action="Discard changes",
        )

    def _account_picked(self) -> None:
        name = self.account_box.currentData()
        if name:
            self._start("switch", lambda: self.select_account(str(name)))

    def _flow_picked(self, row: int) -> None:
        item = self.flow_list.item(row)
        if item is not None:
            flow_id = str(item.data(Qt.ItemDataRole.UserRole))
            self._start("switch", lambda: self.select_flow(flow_id))

    async def select_account(self, name: str) -> bool:
        """Edit the flows of account ``name``; False when the user kept unsaved edits."""
        if name == self._account:
            return True
        if not await self._may_leave():
            self._open_account_box_back()
            return False
        self._open_account(name)
        return True

    def _open_account_box_back(self) -> None:
        self.account_box.blockSignals(True)
        self.account_box.setCurrentIndex(max(self.account_box.findData(self._account), 0))
        self.account_box.blockSignals(False)

    async def select_flow(self, flow_id: str | None) -> bool:
        """Edit stored flow ``flow_id``, or a new blank flow (None); False when the user kept
        unsaved edits."""
        if self._account is None or (flow_id is not None and flow_id == self._original_id):
            return self._account is not None
        if not await self._may_leave():
            self._show_current_in_list()
            return False
        if flow_id is None:
            self._load(None)
            self.id_edit.setFocus()
            return True
        try:
            flow = self.profile.flows.get(self._account, flow_id)
        except DialerError as exc:
            self.show_error(str(exc))
            self._show_current_in_list()
            return False
        self._load(flow)
        return True

    # -- saving and deleting

    async def save(self) -> bool:
        """Write the flow on screen; a refused flow leaves one sentence inline and the file
        untouched."""
        account = self._account
        if account is None or self._busy:
            return False
        try:
            flow = FlowDefinition(
                account=account,
                flow_id=self.id_edit.text().strip(),
                name=self.name_edit.text().strip(),
                prompt=self.prompt_edit.toPlainText(),
                bindings=self.variables_model.flow.bindings,
            )
            if flow.flow_id != self._original_id and any(
                f.flow_id == flow.flow_id for f in self.profile.flows.list(account)
            ):
                raise InvalidInput(
                    f"{account} already has a flow {flow.flow_id}: give this one another id, "
                    "or edit that one"
                )
        except DialerError as exc:
            self.show_error(str(exc))
            self.id_edit.setFocus()
            return False
        original = self._original_id
        store = self.profile.flows

        def write() -> None:
            store.save(flow)
            if original is not None and original != flow.flow_id:
                store.delete(account, original)  # the id was changed: the old one goes

        if not await self._write(write):
            return False
        self._open_account(account, prefer=flow.flow_id)
        self.status_label.setText(f"Saved flow {flow.label}")
        return True

    async def delete(self) -> bool:
        """Delete the stored flow on screen, once the user confirms."""
        account, flow_id = self._account, self._original_id
        if account is None or flow_id is None or self._busy:
            return False
        label = self._original_label
        if not await confirm(
            self,
            "Delete flow",
            f"Delete flow {label} from {account}? Calls from this app can no longer use it; "
            "the flow in the provider's studio is not touched.",
            action="Delete",
        ):
            return False
        if not await self._write(lambda: self.profile.flows.delete(account, flow_id)):
            return False
        self._open_account(account)
        self.status_label.setText(f"Deleted flow {label}")
        return True

    async def _write(self, write: Callable[[], None]) -> bool:
        """Run a store write on a worker thread (it fsyncs); errors are shown inline."""
        self._busy = True
        self._update_buttons()
        try:
            await asyncio.get_running_loop().run_in_executor(None, write)
        except DialerError as exc:
            self.show_error(str(exc))
            return False
        finally:
            self._busy = False
            self._update_buttons()
        self.changed = True
        return True

    # -- the preview contact

    def _fill_contacts(self, contacts: Sequence[Contact]) -> None:
        self.contact_box.blockSignals(True)
        self.contact_box.clear()
        for contact in contacts:
            self.contact_box.addItem(contact_label(contact), contact)
        self.contact_box.addItem("No contact", None)
        self.contact_box.setCurrentIndex(0)
        self.contact_box.blockSignals(False)
        self._contact_picked()

    def _contact_picked(self) -> None:
        data = self.contact_box.currentData()
        self._contact = data if isinstance(data, Contact) else None
        self.variables_model.set_contact(self._contact)
        self._refresh()

    def _start_contact_search(self) -> None:
        self._search_timer.stop()
        text = self.contact_search.text()
        self._search_task = self.tasks.start("contact-search", self.find_contacts(text))

    async def find_contacts(self, text: str) -> list[Contact]:
        """Offer the contacts matching ``text`` for the preview (searched off the GUI
        thread) and preview the first; an empty text keeps the current choice."""
        text = text.strip()
        if not text:
            self.contact_status.clear()
            return []
        store = self.profile.contacts

        def lookup() -> list[Contact]:
            return store.get_many(store.search_ids(text)[:CONTACT_CHOICES])

        contacts = await asyncio.get_running_loop().run_in_executor(None, lookup)
        if not contacts:
            self.contact_status.setText(f"No contact matches “{text}”")
            return []
        self.contact_status.clear()
        self._fill_contacts(contacts)
        return contacts

    # -- closing

    def reject(self) -> None:
        """Esc, Close and the window's close button: ask first when edits are unsaved."""
        if self._closing or not self.dirty:
            super().reject()
            return
        self._start("close", self._close_if_allowed)

    async def _close_if_allowed(self) -> None:
        if await self._may_leave():
            self._closing = True
            self.reject()

    async def finish(self) -> None:
        """Stop a contact search still running and wait for writes still under way."""
        if self._search_task is not None:
            self._search_task.cancel()
        await self.tasks.wait_idle()


async def edit_flows(
    parent: QWidget,
    profile: Profile,
    *,
    account: str | None = None,
    contact: Contact | None = None,
) -> bool:
    """Define IVR flows per account in a window-modal dialog, starting on ``account`` (when it
    has flows) with ``contact`` in the preview. True when anything was saved or deleted: the
    caller then re-reads ``profile.flows``."""
    dialog = FlowEditorDialog(profile, account=account, contact=contact, parent=parent)
    try:
        await run_dialog(dialog)
    finally:
        await dialog.finish()
        dialog.deleteLater()
    return dialog.changed


__all__ = [
    "FlowEditorDialog",
    "VariablesModel",
    "edit_flows",
    "flow_accounts",
    "readiness",
]
