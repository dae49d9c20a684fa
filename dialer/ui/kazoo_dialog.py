"""A Kazoo account's clicktocalls (seed 003): list with search, create, edit every
documented property, delete with confirmation, and each one's history page by page.

Reached from the Accounts dialog and from the bridge picker. The properties, their checks
and the merge of an edit are :mod:`dialer.providers.kazoo_clicktocall`'s, as for
``dialer kazoo``: a value Kazoo would refuse is refused here, on its field, before anything
is sent. Every server request is a task of the dialog; nothing nests a Qt event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dialer.app.profile import Profile
from dialer.core.accounts import Account
from dialer.core.errors import DialerError, InvalidInput, error_sentence
from dialer.providers.kazoo import KazooProvider, kazoo_item_time
from dialer.providers.kazoo_clicktocall import (
    BY_KEY,
    PROPERTIES,
    PropertyKind,
    changes_between,
    checked,
    describe,
    property_problem,
)
from dialer.ui.dialogs import confirm, message_label, run_to_the_end, say
from dialer.ui.fitting import resize_within_screen, scrolling
from dialer.ui.tasks import TaskManager

logger = logging.getLogger(__name__)

_ID = Qt.ItemDataRole.UserRole

# What each text field takes, by example (the property's description is its tooltip).
_EXAMPLES = {
    "name": "Sales line",
    "extension": "1001, +918067000000 or sip:1001@pbx",
    "realm": "Default: the account's",
    "caller_id_number": "918067000001",
    "outbound_callee_id_name": "Kaveri Textiles",
    "outbound_callee_id_number": "918067000000",
}


class ClicktocallForm(QDialog):
    """One clicktocall's properties. ``submit`` sends them (create, or edit with what
    changed); the form closes once it succeeds and shows the refusal on its field if not."""

    def __init__(
        self,
        document: Mapping[str, Any] | None,
        submit: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.original = dict(document) if document is not None else None
        self._submit = submit
        self.saved: dict[str, Any] | None = None
        self.tasks = TaskManager(on_error=self._failed)
        creating = document is None
        self.setWindowTitle(
            f"Clicktocall {describe(document)}" if document is not None else "New clicktocall"
        )
        self.edits: dict[str, QWidget] = {}
        form = QFormLayout()
        for prop in PROPERTIES:
            widget = self._editor(prop.key, prop.kind, prop.help)
            self.edits[prop.key] = widget
            form.addRow(f"{prop.label}{' *' if prop.required else ''}", widget)
        self.error_label = message_label("Problem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Create" if creating else "Save")
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.start_save)
        self.buttons.rejected.connect(self.reject)
        fields = QWidget()
        fields.setLayout(form)
        layout = QVBoxLayout(self)
        layout.addWidget(scrolling(fields), 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self._fill(document or {"auth_required": True})
        resize_within_screen(self, 560, 520)

    def _editor(self, key: str, kind: PropertyKind, help_text: str) -> QWidget:
        widget: QWidget
        if kind is PropertyKind.FLAG:
            widget = QCheckBox("Only a logged-in user can start calls through it")
        elif kind is PropertyKind.COUNT:
            spin = QSpinBox()
            spin.setRange(0, 100_000)
            spin.setSpecialValueText("No limit")
            widget = spin
        elif kind is PropertyKind.PATTERNS:
            lines = QPlainTextEdit()
            lines.setPlaceholderText("Any number (one regular expression per line)")
            lines.setTabChangesFocus(True)
            lines.setFixedHeight(lines.fontMetrics().lineSpacing() * 3 + 12)
            widget = lines
        else:
            line = QLineEdit()
            line.setPlaceholderText(_EXAMPLES.get(key, ""))
            widget = line
        widget.setAccessibleName(BY_KEY[key].label)
        widget.setToolTip(help_text[:1].upper() + help_text[1:])
        return widget

    def _fill(self, document: Mapping[str, Any]) -> None:
        for key, widget in self.edits.items():
            value = document.get(key)
            if isinstance(widget, QCheckBox):
                widget.setChecked(value is not False)
            elif isinstance(widget, QSpinBox):
                widget.setValue(value if isinstance(value, int) and value >= 0 else 0)
            elif isinstance(widget, QPlainTextEdit):
                widget.setPlainText("\n".join(map(str, value)) if isinstance(value, list) else "")
            elif isinstance(widget, QLineEdit):
                widget.setText("" if value is None else str(value))

    def values(self) -> dict[str, Any]:
        """What the form holds; an optional text left empty is absent (or removed)."""
        values: dict[str, Any] = {}
        for key, widget in self.edits.items():
            if isinstance(widget, QCheckBox):
                values[key] = widget.isChecked()
            elif isinstance(widget, QSpinBox):
                before = (self.original or {}).get(key)
                if widget.value() or before is not None:
                    values[key] = widget.value()
            elif isinstance(widget, QPlainTextEdit):
                lines = [line.strip() for line in widget.toPlainText().splitlines()]
                patterns = [line for line in lines if line]
                if patterns or (self.original or {}).get(key) is not None:
                    values[key] = patterns
            elif isinstance(widget, QLineEdit):
                text = widget.text().strip()
                if text or BY_KEY[key].required:
                    values[key] = text
        return values

    def start_save(self) -> None:
        if not self.tasks.running("save"):
            self.tasks.start("save", self.save(), replace=False)

    async def save(self) -> bool:
        say(self.error_label, "")
        values = self.values()
        for key, value in values.items():
            problem = property_problem(key, value)
            if problem:
                return self._refused(key, problem)
        if self.original is None:
            try:
                checked(values, creating=True)
            except InvalidInput as exc:
                return self._refused("name" if not values.get("name") else "extension", str(exc))
            wanted = values
        else:
            before = {k: v for k, v in self.original.items() if k in BY_KEY}
            wanted = changes_between(before, values)
            if not wanted:
                self.accept()  # nothing changed: nothing to send
                return True
        self.save_button.setEnabled(False)
        try:
            self.saved = await self._submit(wanted)
        except DialerError as exc:
            say(self.error_label, error_sentence(exc, "saving the clicktocall"))
            return False
        finally:
            self.save_button.setEnabled(True)
        self.accept()
        return True

    def _refused(self, key: str, problem: str) -> bool:
        say(self.error_label, problem)
        self.edits[key].setFocus()
        return False

    def _failed(self, name: str, error: BaseException) -> None:
        say(self.error_label, error_sentence(error, "saving the clicktocall"))

    def reject(self) -> None:
        if self.tasks.running("save"):
            return  # being written: let it finish
        super().reject()


class ClicktocallHistory(QDialog):
    """One clicktocall's past calls, newest first, a page at a time."""

    COLUMNS = ("When", "Contact", "Call id", "CDR id", "Result")

    def __init__(
        self,
        provider: KazooProvider,
        item: Mapping[str, Any],
        parent: QWidget,
        *,
        page_size: int = 50,
    ):
        super().__init__(parent)
        self.provider = provider
        self.page_size = page_size
        self.c2c_id = str(item.get("id"))
        self.next_key: str | None = None
        self.tasks = TaskManager(on_error=self._failed)
        self.setWindowTitle(f"History of clicktocall {describe(item)}")
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setAccessibleName("Clicktocall history")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.more_button = QPushButton("Load &more")
        self.more_button.setEnabled(False)
        self.more_button.clicked.connect(lambda: self.tasks.start("page", self.load_page()))
        self.status = message_label("History status")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.more_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(buttons)
        resize_within_screen(self, 760, 420)
        self.first = True

    async def load_page(self) -> None:
        self.more_button.setEnabled(False)
        say(self.status, "Loading…", "info")
        items, self.next_key = await self.provider.history_page(
            self.c2c_id, start_key=None if self.first else self.next_key, page_size=self.page_size
        )
        self.first = False
        for item in items:
            at = kazoo_item_time(item)
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else "?"
            result = " ".join(str(item[k]) for k in ("result", "cause") if item.get(k))
            cells = (when, item.get("contact"), item.get("call_id"), item.get("cdr_id"), result)
            row = self.table.rowCount()
            self.table.insertRow(row)
            for column, value in enumerate(cells):
                self.table.setItem(
                    row, column, QTableWidgetItem("" if value is None else str(value))
                )
        self.table.resizeColumnsToContents()
        shown = self.table.rowCount()
        if not shown:
            say(self.status, "No call through this clicktocall in the last 31 days", "info")
        else:
            more = "; more to load" if self.next_key else ""
            say(self.status, f"{shown} call{'s' if shown != 1 else ''} shown{more}", "info")
        self.more_button.setEnabled(self.next_key is not None)

    def _failed(self, name: str, error: BaseException) -> None:
        say(self.status, error_sentence(error, "reading the history"))
        self.more_button.setEnabled(self.next_key is not None or self.first)


class ClicktocallsDialog(QDialog):
    """The clicktocalls of one Kazoo account, as the server has them."""

    COLUMNS = ("Name", "Extension", "Id")

    def __init__(self, profile: Profile, account: Account, parent: QWidget | None = None):
        super().__init__(parent)
        self.profile = profile
        self.account = account
        self.changed = False
        self.items: list[dict[str, Any]] = []
        self.history_page_size = 50
        self.tasks = TaskManager(on_error=self._failed)
        self.setWindowTitle(f"Clicktocalls of {account.name}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.search = QLineEdit()
        self.search.setAccessibleName("Search clicktocalls")
        self.search.setPlaceholderText("Search by name, extension or id")
        self.search.setClearButtonEnabled(True)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setAccessibleName("Clicktocalls")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.new_button = QPushButton("&New…")
        self.edit_button = QPushButton("&Edit…")
        self.delete_button = QPushButton("&Delete…")
        self.history_button = QPushButton("&History…")
        self.reload_button = QPushButton("&Reload")
        self.status = message_label("Status")
        self._lay_out()
        self._connect()
        self._selection_changed()

    def _lay_out(self) -> None:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        side = QVBoxLayout()
        for button in (
            self.new_button,
            self.edit_button,
            self.delete_button,
            self.history_button,
            self.reload_button,
        ):
            button.setAutoDefault(False)
            side.addWidget(button)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.table, 1)
        row.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addLayout(row, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        resize_within_screen(self, 720, 420)

    def _connect(self) -> None:
        self.search.textChanged.connect(lambda _: self._show())
        self.new_button.clicked.connect(lambda: self._start("form", self.create_one()))
        self.edit_button.clicked.connect(lambda: self._start("form", self.edit()))
        self.table.activated.connect(lambda _: self._start("form", self.edit()))
        self.delete_button.clicked.connect(lambda: self._start("form", self.delete()))
        self.history_button.clicked.connect(lambda: self._start("form", self.history()))
        self.reload_button.clicked.connect(lambda: self.tasks.start("load", self.load()))
        self.table.itemSelectionChanged.connect(self._selection_changed)

    async def provider(self) -> KazooProvider:
        provider = await self.profile.service.provider_for(self.account)
        assert isinstance(provider, KazooProvider)
        return provider

    def _start(self, name: str, action: Any) -> None:
        """One form or question at a time."""
        if self.tasks.running("form"):
            action.close()
            return
        self.tasks.start(name, action, replace=False)

    # -- the list -------------------------------------------------------------------------

    async def load(self, select: str | None = None) -> None:
        say(self.status, "Loading from Kazoo…", "info")
        provider = await self.provider()
        self.items = await provider.list_clicktocalls()
        self._show(select)
        count = len(self.items)
        if count:
            say(self.status, f"{count} clicktocall{'s' if count != 1 else ''}", "info")
        else:
            say(
                self.status,
                "No clicktocall yet: create one, or place a call and one is made for your "
                "extension",
                "info",
            )

    def _show(self, select: str | None = None) -> None:
        current = select or self.selected_id()
        words = self.search.text().casefold().split()
        chosen = (self.account.option("kazoo_clicktocall") or "").strip()
        self.table.setRowCount(0)
        for item in self.items:
            cells = [str(item.get(key, "")) for key in ("name", "extension", "id")]
            if words and not all(any(w in c.casefold() for c in cells) for w in words):
                continue
            if chosen and chosen in (item.get("id"), item.get("name")):
                cells[0] += "  (the account's clicktocall to use)"
            row = self.table.rowCount()
            self.table.insertRow(row)
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(_ID, str(item.get("id")))
                self.table.setItem(row, column, cell)
            if str(item.get("id")) == current:
                self.table.selectRow(row)
        self.table.resizeColumnsToContents()
        self._selection_changed()

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        cell = self.table.item(rows[0].row(), 0)
        return str(cell.data(_ID)) if cell is not None else None

    def selected(self) -> dict[str, Any] | None:
        wanted = self.selected_id()
        return next((item for item in self.items if str(item.get("id")) == wanted), None)

    def _selection_changed(self) -> None:
        chosen = self.selected_id() is not None
        for button in (self.edit_button, self.delete_button, self.history_button):
            button.setEnabled(chosen)

    # -- actions --------------------------------------------------------------------------

    async def create_one(self) -> dict[str, Any] | None:
        provider = await self.provider()
        form = ClicktocallForm(None, provider.add_clicktocall, self)
        made = await self._run_form(form)
        if made is not None:
            self.changed = True
            await self.load(select=str(made.get("id")))
            say(self.status, f"Created clicktocall {describe(made)}", "info")
        return made

    async def edit(self) -> dict[str, Any] | None:
        item = self.selected()
        if item is None:
            say(self.status, "Choose a clicktocall to edit")
            return None
        provider = await self.provider()
        c2c_id = str(item["id"])
        seen = await provider.get_clicktocall(c2c_id)  # what the form shows and is checked against

        async def submit(changes: dict[str, Any]) -> dict[str, Any]:
            return await provider.edit_clicktocall(c2c_id, changes, seen=seen)

        edited = await self._run_form(ClicktocallForm(seen, submit, self))
        if edited is not None:
            self.changed = True
            await self.load(select=c2c_id)
            say(self.status, f"Saved clicktocall {describe(edited)}", "info")
        return edited

    async def _run_form(self, form: ClicktocallForm) -> dict[str, Any] | None:
        await run_to_the_end(form, form.tasks)
        return form.saved

    async def delete(self) -> bool:
        item = self.selected()
        if item is None:
            say(self.status, "Choose a clicktocall to delete")
            return False
        question = (
            f"Delete clicktocall {describe(item)}? Calls can no longer go through it, and "
            "this cannot be undone."
        )
        if not await confirm(self, "Delete clicktocall", question, action="Delete"):
            return False
        provider = await self.provider()
        await provider.delete_clicktocall(str(item["id"]))
        self.changed = True
        await self.load()
        note = ""
        if (self.account.option("kazoo_clicktocall") or "").strip() in (
            item.get("id"),
            item.get("name"),
        ):
            note = ": it was the account's clicktocall to use, so choose another in the account"
        say(self.status, f"Deleted clicktocall {describe(item)}{note}", "info")
        return True

    async def history(self) -> None:
        item = self.selected()
        if item is None:
            say(self.status, "Choose a clicktocall to see its history")
            return
        dialog = ClicktocallHistory(
            await self.provider(), item, self, page_size=self.history_page_size
        )
        dialog.tasks.start("page", dialog.load_page())
        await run_to_the_end(dialog, dialog.tasks)

    def _failed(self, name: str, error: BaseException) -> None:
        doing = "loading the clicktocalls" if name == "load" else "changing the clicktocall"
        say(self.status, error_sentence(error, doing))


async def manage_clicktocalls(parent: QWidget, profile: Profile, account: Account) -> bool:
    """Open an account's clicktocalls over ``parent``; True when any was created, edited
    or deleted (the bridge picker then lists them again)."""
    dialog = ClicktocallsDialog(profile, account, parent)
    dialog.tasks.start("load", dialog.load())
    await run_to_the_end(dialog, dialog.tasks)
    return dialog.changed
