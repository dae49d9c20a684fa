"""Adding, editing and deleting contacts; importing (CSV, vCard) and exporting (CSV) them.

Every entry point is a coroutine the window starts as a task. Dialogs are awaited, never
executed. A dialog that does work (saving a contact, importing a file) stays open while the
work runs off the GUI thread, and shows a failure inline as one sentence, so the user can put
it right and try again without retyping anything.

File dialogs are Qt's own (non-native) ones, so that they work offscreen and in tests; they
are told not to ask about overwriting or missing files themselves, as Qt asks through a
nested event loop: this module asks instead, awaited.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dialer.app.profile import Profile
from dialer.core.contacts import (
    DEFAULT_LABEL,
    Contact,
    ContactNumber,
    ContactStore,
    CsvMapping,
    CsvPreview,
    ImportReport,
    export_csv,
    import_csv,
    import_vcard,
    preview_csv,
)
from dialer.core.errors import DialerError, InvalidNumber
from dialer.core.numbers import PhoneNumber, parse_number, region_name
from dialer.ui.contacts_model import display_number
from dialer.ui.dialogs import before_showing, confirm, prepare_widget_types, run_dialog
from dialer.ui.fitting import resize_within_screen, scrolling
from dialer.ui.theme import show_level

logger = logging.getLogger(__name__)

T = TypeVar("T")

LABELS = (DEFAULT_LABEL, "work", "home", "main", "landline", "other", "fax", "whatsapp")
VCARD_SUFFIXES = {".vcf", ".vcard"}
CSV_FILTER = "CSV files (*.csv *.txt)"
VCARD_FILTER = "vCard files (*.vcf *.vcard)"
IMPORT_FILTERS = (
    "Contact files (*.csv *.txt *.vcf *.vcard)",
    CSV_FILTER,
    VCARD_FILTER,
    "All files (*)",
)
MAX_REPORTED = 2000  # skipped rows listed in the report; the rest are counted
_NOT_IMPORTED = "(not imported)"

_last_folder: Path | None = None  # where the last file dialog ended, for the next one


# -- plain helpers (no widgets) ---------------------------------------------------------------


def default_region(profile: Profile) -> str | None:
    """The region national numbers are read with: the profile's first account's."""
    try:
        accounts = profile.accounts.list()
    except DialerError:  # an unreadable accounts file is reported elsewhere
        return None
    return next((account.region for account in accounts if account.region), None)


def stored_form(number: PhoneNumber) -> str:
    """How a validated number is kept: E.164, with `` ext. N`` (as imports write it)."""
    return f"{number.e164} ext. {number.extension}" if number.extension else number.e164


def region_hint(region: str | None) -> str:
    if region:
        return f"Numbers without a country code are read as numbers of {region_name(region)}."
    return "No default country is set: write numbers with their country code (+…)."


def file_kind(path: Path) -> str:
    """``"vcard"`` or ``"csv"``: by the suffix, else by whether the file starts a card."""
    if path.suffix.lower() in VCARD_SUFFIXES:
        return "vcard"
    try:
        with path.open("rb") as file:
            head = file.read(512)
    except OSError:
        return "csv"  # the import says what is wrong with it
    text = (
        head.decode("utf-16", "ignore")
        if head.startswith((b"\xff\xfe", b"\xfe\xff"))
        else head.decode("utf-8", "ignore")
    )
    return "vcard" if text.lstrip("\ufeff \t\r\n").upper().startswith("BEGIN:VCARD") else "csv"


def report_lines(report: ImportReport, kind: str) -> list[str]:
    """One line per skipped row: CSV by its line; a vCard reason already names its card."""
    shown = report.skipped[:MAX_REPORTED]
    lines = [reason if kind == "vcard" else f"Line {where}: {reason}" for where, reason in shown]
    if len(report.skipped) > len(shown):
        lines.append(f"… and {len(report.skipped) - len(shown)} more")
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _unexpected(error: BaseException, doing: str) -> str:
    logger.error("Unexpected error while %s", doing, exc_info=error)
    return (
        f"Something unexpected went wrong while {doing} ({type(error).__name__}); "
        "the details are in the log"
    )


# -- dialogs that work before they close ------------------------------------------------------


class WorkDialog(QDialog):
    """A dialog whose OK button starts work instead of closing it.

    :meth:`accept` emits :attr:`submitted` when :meth:`problem` has nothing to say; the
    coroutine running the dialog (:func:`run_until_done`) does the work, then closes it or
    shows the failure in :attr:`error_label`.
    """

    submitted = Signal()

    def __init__(self, parent: QWidget | None, title: str, ok_text: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.busy = False
        self.error_label = QLabel()
        self.error_label.setAccessibleName("Problem")
        self.error_label.setWordWrap(True)
        show_level(self.error_label, "error")
        self.error_label.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setAccessibleName(ok_text)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def showEvent(self, event: QShowEvent) -> None:
        # Made default only now that it is in the dialog: before, the dialog does not learn
        # of it and makes the first auto-default button after the focus (Cancel) the default.
        self.ok_button.setDefault(False)
        self.ok_button.setDefault(True)
        super().showEvent(event)

    def problem(self) -> str | None:
        """What stops the OK button, as one sentence; ``None`` when nothing does."""
        return None

    def refresh(self) -> None:
        """Enable OK only when there is no problem, and say what the problem is."""
        problem = self.problem()
        self.ok_button.setEnabled(problem is None and not self.busy)
        self.show_error(problem or "")

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.cancel_button.setEnabled(not busy)
        if busy:
            self.ok_button.setEnabled(False)
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()
            self.ok_button.setEnabled(self.problem() is None)

    def accept(self) -> None:
        if self.busy:
            return
        problem = self.problem()
        if problem is not None:
            self.show_error(problem)
            return
        self.submitted.emit()

    def reject(self) -> None:
        if not self.busy:  # the work cannot be stopped half way: Esc waits for it
            super().reject()


async def run_until_done(
    dialog: WorkDialog, work: Callable[[], Awaitable[T]], doing: str
) -> T | None:
    """Show ``dialog`` until ``work`` succeeds (its result) or the user cancels (``None``).

    A :class:`DialerError` from ``work`` is shown in the dialog, which stays open; so is an
    unexpected error, as one sentence (the traceback goes to the log). The dialog is closed
    and scheduled for deletion whatever happens, also when this coroutine is cancelled.
    """
    events: asyncio.Queue[bool] = asyncio.Queue()

    def submitted() -> None:
        events.put_nowait(True)

    def finished(_result: int) -> None:
        events.put_nowait(False)

    dialog.submitted.connect(submitted)
    dialog.finished.connect(finished)
    try:
        await before_showing()
        dialog.open()
        while await events.get():
            dialog.set_busy(True)
            try:
                result = await work()
            except DialerError as exc:
                dialog.show_error(str(exc))
                continue
            except Exception as exc:
                dialog.show_error(_unexpected(exc, doing))
                continue
            finally:
                dialog.set_busy(False)
            dialog.done(QDialog.DialogCode.Accepted)
            return result
        return None
    finally:
        if shiboken6.isValid(dialog):  # else its parent went first, taking it along
            dialog.submitted.disconnect(submitted)
            dialog.finished.disconnect(finished)
            if dialog.isVisible():
                dialog.busy = False
                dialog.done(QDialog.DialogCode.Rejected)
            dialog.deleteLater()


async def _show(dialog: QDialog) -> int:
    """:func:`run_dialog`, and the dialog closed and deleted afterwards, even on cancel."""
    try:
        return await run_dialog(dialog)
    finally:
        if shiboken6.isValid(dialog):
            if dialog.isVisible():
                dialog.done(QDialog.DialogCode.Rejected)
            dialog.deleteLater()


# -- the contact form -------------------------------------------------------------------------


class NumberRow(QWidget):
    """One number of the form: its label, the number (validated as typed), a remove button
    and a line saying what the number will be stored as, or why it cannot be dialled."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, region: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.region = region
        self.caption = QLabel()
        self.label_box = QComboBox()
        self.label_box.setEditable(True)
        self.label_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.label_box.addItems(LABELS)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("+91 88671 35000, or a national number")
        self.caption.setBuddy(self.edit)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAutoDefault(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.caption, 0, 0)
        grid.addWidget(self.label_box, 0, 1)
        grid.addWidget(self.edit, 0, 2)
        grid.addWidget(self.remove_button, 0, 3)
        grid.addWidget(self.status, 1, 1, 1, 3)
        grid.setColumnStretch(2, 1)
        self.edit.textChanged.connect(self._validate)
        self.label_box.currentTextChanged.connect(lambda _text: self.changed.emit())
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        self._error: str | None = None
        self._parsed: PhoneNumber | None = None
        self.set_position(1)

    def set_position(self, position: int) -> None:
        self.caption.setText(f"Number {position}:")
        self.edit.setAccessibleName(f"Number {position}")
        self.label_box.setAccessibleName(f"Label of number {position}")
        self.remove_button.setAccessibleName(f"Remove number {position}")
        self.status.setAccessibleName(f"Number {position} status")

    def set_value(self, number: ContactNumber) -> None:
        self.label_box.setCurrentText(number.label)
        self.edit.setText(display_number(number.number))

    @property
    def error(self) -> str | None:
        """The parser's sentence when the number cannot be dialled."""
        return self._error

    def value(self) -> ContactNumber | None:
        """The number as it will be stored (E.164), or ``None`` when blank or invalid."""
        if self._parsed is None:
            return None
        return ContactNumber(stored_form(self._parsed), self.label_box.currentText().strip())

    def _validate(self) -> None:
        self._error, self._parsed = None, None
        text = self.edit.text().strip()
        if not text:
            self.status.setText("")
        else:
            try:
                self._parsed = parse_number(text, self.region)
            except InvalidNumber as exc:
                self._error = str(exc)
                self.status.setText(f"✗ {exc}")
            else:
                where = region_name(self._parsed.region) if self._parsed.region else ""
                shown = stored_form(self._parsed)
                self.status.setText(f"✓ {shown}" + (f" — {where}" if where else ""))
        self.changed.emit()


class ContactDialog(WorkDialog):
    """The contact form: name, company, numbers, email, notes, favourite."""

    def __init__(
        self,
        parent: QWidget | None,
        *,
        region: str | None,
        contact: Contact | None = None,
        number: str = "",
    ):
        super().__init__(parent, "Edit contact" if contact is not None else "New contact", "&Save")
        self.region = region
        self.original = contact
        self.rows: list[NumberRow] = []
        self._acknowledged: tuple[str, ...] | None = None  # numbers the user saved anyway

        self._build()
        if contact is not None:
            self.name_edit.setText(contact.name)
            self.company_edit.setText(contact.company)
            self.email_edit.setText(contact.email)
            self.notes_edit.setPlainText(contact.notes)
            self.favourite_box.setChecked(contact.favourite)
            for stored in contact.numbers:
                self.add_row().set_value(stored)
        if not self.rows or number.strip():
            self.add_row().edit.setText(number.strip())
        self.name_edit.setFocus()
        self.resize(520, 0)
        self.refresh()

    def _build(self) -> None:
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Name")
        self.company_edit = QLineEdit()
        self.company_edit.setAccessibleName("Company")
        self.email_edit = QLineEdit()
        self.email_edit.setAccessibleName("Email")
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setAccessibleName("Notes")
        self.notes_edit.setTabChangesFocus(True)
        self.notes_edit.setFixedHeight(70)
        self.favourite_box = QCheckBox("&Favourite (listed first)")
        self.favourite_box.setAccessibleName("Favourite")

        self.numbers_box = QGroupBox("Phone numbers (the first is the one Enter calls)")
        self.rows_layout = QVBoxLayout()
        self.add_button = QPushButton("&Add number")
        self.add_button.setAccessibleName("Add number")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self._add_clicked)
        self.region_label = QLabel(region_hint(self.region))
        self.region_label.setWordWrap(True)
        self.region_label.setAccessibleName("Country for national numbers")
        numbers_layout = QVBoxLayout(self.numbers_box)
        numbers_layout.addLayout(self.rows_layout)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        numbers_layout.addLayout(add_row)
        numbers_layout.addWidget(self.region_label)

        form = QFormLayout()
        form.addRow("&Name:", self.name_edit)
        form.addRow("&Company:", self.company_edit)
        form.addRow(self.numbers_box)
        form.addRow("E&mail:", self.email_edit)
        form.addRow("N&otes:", self.notes_edit)
        form.addRow("", self.favourite_box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    # -- rows -----------------------------------------------------------------------------

    def _add_clicked(self) -> None:
        self.add_row().edit.setFocus()

    def add_row(self) -> NumberRow:
        row = NumberRow(self.region)
        row.changed.connect(self._changed)
        row.removeRequested.connect(self.remove_row)
        self.rows.append(row)
        self.rows_layout.addWidget(row)
        self._renumber()
        self.refresh()
        return row

    def remove_row(self, row: NumberRow) -> None:
        position = self.rows.index(row)
        self.rows.remove(row)
        self.rows_layout.removeWidget(row)
        row.hide()
        row.deleteLater()
        self._renumber()
        if self.rows:
            self.rows[min(position, len(self.rows) - 1)].edit.setFocus()
        else:
            self.add_button.setFocus()
        self.refresh()

    def _renumber(self) -> None:
        for position, row in enumerate(self.rows, start=1):
            row.set_position(position)
        order: list[QWidget] = [self.name_edit, self.company_edit]
        for row in self.rows:
            order += [row.label_box, row.edit, row.remove_button]
        order += [self.add_button, self.email_edit, self.notes_edit, self.favourite_box]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    def _changed(self) -> None:
        if self._acknowledged is not None and self._acknowledged != self._numbers():
            self._acknowledged = None
            self.ok_button.setText("&Save")
        self.refresh()

    # -- values ---------------------------------------------------------------------------

    def _numbers(self) -> tuple[str, ...]:
        return tuple(value.number for row in self.rows if (value := row.value()) is not None)

    def problem(self) -> str | None:
        invalid = [
            position for position, row in enumerate(self.rows, start=1) if row.error is not None
        ]
        if invalid:
            which = ", ".join(str(position) for position in invalid)
            return (
                f"Correct number {which} (or remove it) to save: it cannot be dialled"
                if len(invalid) == 1
                else f"Correct numbers {which} (or remove them) to save: they cannot be dialled"
            )
        if not any(row.value() is not None for row in self.rows):
            return "Add at least one phone number to save"
        return None

    def contact(self) -> Contact:
        """The contact as filled in (its id kept when editing)."""
        numbers = tuple(value for row in self.rows if (value := row.value()) is not None)
        return Contact(
            name=" ".join(self.name_edit.text().split()),
            numbers=tuple(
                replace(number, label=number.label or DEFAULT_LABEL) for number in numbers
            ),
            company=self.company_edit.text().strip(),
            email=self.email_edit.text().strip(),
            notes=self.notes_edit.toPlainText().strip(),
            favourite=self.favourite_box.isChecked(),
            id=self.original.id if self.original is not None else None,
        )

    def new_numbers(self) -> list[str]:
        """Numbers that this contact did not have before (checked for other owners)."""
        before = {n.number for n in self.original.numbers} if self.original else set()
        return [number for number in self._numbers() if number not in before]

    def duplicates_acknowledged(self) -> bool:
        return self._acknowledged == self._numbers()

    def warn_duplicates(self, owners: dict[str, list[Contact]]) -> str:
        """Say whose numbers these already are; a second Save keeps them anyway."""
        self._acknowledged = self._numbers()
        self.ok_button.setText("&Save anyway")
        parts = [
            f"{display_number(number)} is already the number of "
            + ", ".join(contact.name or display_number(number) for contact in contacts[:3])
            for number, contacts in owners.items()
        ]
        which = "this number" if len(parts) == 1 else "these numbers"
        return "; ".join(parts) + f". Save again to keep {which} anyway."


def _owners(
    store: ContactStore, numbers: list[str], own_id: int | None
) -> dict[str, list[Contact]]:
    found: dict[str, list[Contact]] = {}
    for number in numbers:
        others = [c for c in store.find_by_number(number) if c.id != own_id]
        if others:
            found[number] = others
    return found


class _DuplicateNumbers(DialerError):
    """Not a failure: shown in the form so that a second Save confirms."""


async def _run_contact_form(dialog: ContactDialog, store: ContactStore) -> Contact | None:
    loop = asyncio.get_running_loop()

    async def save() -> Contact:
        contact = dialog.contact()
        if not dialog.duplicates_acknowledged():
            owners = await loop.run_in_executor(
                None, _owners, store, dialog.new_numbers(), contact.id
            )
            if owners:
                raise _DuplicateNumbers(dialog.warn_duplicates(owners))
        if contact.id is None:
            return await loop.run_in_executor(None, store.add, contact)
        return await loop.run_in_executor(None, store.update, contact)

    return await run_until_done(dialog, save, "saving the contact")


async def add_contact(
    parent: QWidget, profile: Profile, *, number: str = "", region: str | None = None
) -> Contact | None:
    """The contact form, empty (``number`` pre-filled); the stored contact, or ``None``.

    ``region`` reads national numbers (default: the profile's first account's region).
    """
    dialog = ContactDialog(
        parent, region=region or default_region(profile), contact=None, number=number
    )
    return await _run_contact_form(dialog, profile.contacts)


async def edit_contact(
    parent: QWidget, profile: Profile, contact: Contact, *, region: str | None = None
) -> Contact | None:
    """The contact form filled with ``contact``; the contact as stored (same id), or ``None``."""
    dialog = ContactDialog(parent, region=region or default_region(profile), contact=contact)
    return await _run_contact_form(dialog, profile.contacts)


async def delete_contact(parent: QWidget, profile: Profile, contact: Contact) -> bool:
    """Ask, then delete ``contact``; True when it was deleted."""
    if contact.id is None:
        return False
    who = contact.name or (display_number(contact.primary.number) if contact.primary else "")
    if not await confirm(
        parent,
        "Delete contact",
        f"Delete {who or 'this contact'}? This cannot be undone.",
        action="Delete",
    ):
        return False
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, profile.contacts.delete, contact.id)
    return True


# -- files ------------------------------------------------------------------------------------


def _file_dialog(parent: QWidget, title: str, *, save: bool, filters: Sequence[str]) -> QFileDialog:
    dialog = QFileDialog(parent, title)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    # Qt would ask these through a nested event loop; we ask (or report) ourselves.
    dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    dialog.setAcceptMode(
        QFileDialog.AcceptMode.AcceptSave if save else QFileDialog.AcceptMode.AcceptOpen
    )
    dialog.setNameFilters(list(filters))
    dialog.setDirectory(str(_last_folder or Path.home()))
    return dialog


async def choose_file(
    parent: QWidget, title: str, *, save: bool, filters: Sequence[str], suggested: str = ""
) -> Path | None:
    """An awaited file dialog; the chosen path, or ``None``."""
    global _last_folder  # noqa: PLW0603 - one remembered folder per session
    dialog = _file_dialog(parent, title, save=save, filters=filters)
    if save:
        dialog.setDefaultSuffix("csv")
        if suggested:
            dialog.selectFile(suggested)
    if await _show(dialog) != QDialog.DialogCode.Accepted:
        return None
    files = dialog.selectedFiles()
    if not files:
        return None
    path = Path(files[0])
    _last_folder = path.parent
    return path


# -- import -----------------------------------------------------------------------------------


class _NumberColumnRow(QWidget):
    """One number column of the mapping: the column, its label, or a column of labels."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel()
        self.column_box = QComboBox()
        self.column_box.addItems(list(headers))
        self.caption.setBuddy(self.column_box)
        self.label_box = QComboBox()
        self.label_box.setEditable(True)
        self.label_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.label_box.addItems(LABELS)
        self.label_column_box = _column_box(headers, "(none)")
        self.label_column_box.setToolTip(
            "Where this column's row has a value, it is the number's label instead"
        )
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAutoDefault(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.caption)
        row.addWidget(self.column_box, 2)
        row.addWidget(QLabel("label"))
        row.addWidget(self.label_box, 1)
        row.addWidget(QLabel("or from"))
        row.addWidget(self.label_column_box, 2)
        row.addWidget(self.remove_button)
        self.column_box.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.label_box.currentTextChanged.connect(lambda _t: self.changed.emit())
        self.label_column_box.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        self.set_position(1)

    def set_position(self, position: int) -> None:
        self.caption.setText(f"Number {position}:")
        self.column_box.setAccessibleName(f"Number column {position}")
        self.label_box.setAccessibleName(f"Label of number column {position}")
        self.label_column_box.setAccessibleName(f"Column of labels for number column {position}")
        self.remove_button.setAccessibleName(f"Remove number column {position}")

    @property
    def column(self) -> str:
        return self.column_box.currentText()

    @property
    def label(self) -> str:
        return self.label_box.currentText().strip() or DEFAULT_LABEL

    @property
    def label_column(self) -> str | None:
        data = self.label_column_box.currentData()
        return str(data) if data else None


def _column_box(headers: Sequence[str], none_text: str = _NOT_IMPORTED) -> QComboBox:
    box = QComboBox()
    box.addItem(none_text, "")
    for header in headers:
        box.addItem(header, header)
    return box


def _select(box: QComboBox, column: str | None) -> None:
    index = box.findData(column) if column else 0
    box.setCurrentIndex(max(index, 0))


MAPPED_FIELDS = (
    ("name", "&Name"),
    ("first_name", "&First name"),
    ("last_name", "&Last name"),
    ("company", "&Company"),
    ("email", "E&mail"),
    ("notes", "N&otes"),
    ("favourite", "Fa&vourite"),
)


class CsvMappingDialog(WorkDialog):
    """Which column of the file is what: the file's first rows, and a choice per field."""

    def __init__(self, parent: QWidget | None, path: Path, preview: CsvPreview, region: str | None):
        super().__init__(parent, f"Import {path.name}", "&Import")
        self.path = path
        self.preview = preview
        self.number_rows: list[_NumberColumnRow] = []

        layout = QVBoxLayout(self)
        self._build_preview(layout)
        # Which column is what: scrolls on a short screen, under the preview.
        mapping = QWidget()
        mapping_layout = QVBoxLayout(mapping)
        mapping_layout.setContentsMargins(0, 0, 0, 0)
        mapping_layout.addWidget(self._build_fields())
        mapping_layout.addWidget(self._build_numbers(region))
        layout.addWidget(scrolling(mapping), 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        label_of = dict(preview.mapping.label_columns)
        for column, label in preview.mapping.numbers:
            row = self.add_number_row()
            row.column_box.setCurrentText(column)
            row.label_box.setCurrentText(label)
            _select(row.label_column_box, label_of.get(column))
        resize_within_screen(self, 760, 680)
        self.refresh()

    def _build_preview(self, layout: QVBoxLayout) -> None:
        preview = self.preview
        delimiter = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}.get(
            preview.delimiter, repr(preview.delimiter)
        )
        about = f"{len(preview.headers)} columns separated by {delimiter}"
        about += f", read as {preview.encoding}."
        if not preview.has_header:
            about += " The first row already holds data, so the columns are numbered."
        self.about_label = QLabel(about)
        self.about_label.setWordWrap(True)
        self.table = QTableWidget(len(preview.rows), len(preview.headers))
        self.table.setAccessibleName("First rows of the file")
        self.table.setHorizontalHeaderLabels(preview.headers)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, cells in enumerate(preview.rows):
            for c, cell in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(cell))
        self.table.resizeColumnsToContents()
        self.table.setMinimumHeight(150)
        table_label = QLabel("&Preview:")
        table_label.setBuddy(self.table)
        layout.addWidget(self.about_label)
        layout.addWidget(table_label)
        layout.addWidget(self.table, 1)

    def _build_fields(self) -> QGroupBox:
        self.field_boxes: dict[str, QComboBox] = {}
        fields_box = QGroupBox("Contact fields")
        form = QFormLayout(fields_box)
        for field, text in MAPPED_FIELDS:
            box = _column_box(self.preview.headers)
            box.setAccessibleName(text.replace("&", ""))
            _select(box, getattr(self.preview.mapping, field))
            box.currentIndexChanged.connect(lambda _i: self.refresh())
            self.field_boxes[field] = box
            form.addRow(f"{text}:", box)
        name_note = QLabel("Without a Name column, First name and Last name are joined.")
        name_note.setWordWrap(True)
        form.addRow(name_note)
        return fields_box

    def _build_numbers(self, region: str | None) -> QGroupBox:
        numbers_box = QGroupBox("Phone numbers (the first is the one Enter calls)")
        self.rows_layout = QVBoxLayout()
        self.add_button = QPushButton("&Add number column")
        self.add_button.setAccessibleName("Add number column")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self._add_clicked)
        region_label = QLabel(region_hint(region))
        region_label.setWordWrap(True)
        numbers_layout = QVBoxLayout(numbers_box)
        numbers_layout.addLayout(self.rows_layout)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        numbers_layout.addLayout(add_row)
        numbers_layout.addWidget(region_label)
        return numbers_box

    def _add_clicked(self) -> None:
        self.add_number_row().column_box.setFocus()

    def add_number_row(self) -> _NumberColumnRow:
        row = _NumberColumnRow(self.preview.headers)
        taken = {r.column for r in self.number_rows}
        free = next((h for h in self.preview.headers if h not in taken), None)
        if free is not None:
            row.column_box.setCurrentText(free)
        row.changed.connect(self.refresh)
        row.removeRequested.connect(self.remove_number_row)
        self.number_rows.append(row)
        self.rows_layout.addWidget(row)
        self._renumber()
        self.refresh()
        return row

    def remove_number_row(self, row: _NumberColumnRow) -> None:
        self.number_rows.remove(row)
        self.rows_layout.removeWidget(row)
        row.hide()
        row.deleteLater()
        self._renumber()
        self.add_button.setFocus()
        self.refresh()

    def _renumber(self) -> None:
        for position, row in enumerate(self.number_rows, start=1):
            row.set_position(position)

    def problem(self) -> str | None:
        if not self.number_rows:
            return "Choose at least one column that holds phone numbers"
        seen: set[str] = set()
        for row in self.number_rows:
            if row.column in seen:
                return f"The column {row.column!r} is chosen twice for numbers"
            seen.add(row.column)
        return None

    def mapping(self) -> CsvMapping:
        fields: dict[str, Any] = {
            field: (box.currentData() or None) for field, box in self.field_boxes.items()
        }
        return CsvMapping(
            numbers=tuple((row.column, row.label) for row in self.number_rows),
            label_columns=tuple(
                (row.column, label_column)
                for row in self.number_rows
                if (label_column := row.label_column) is not None
            ),
            **fields,
        )


class ImportReportDialog(QDialog):
    """What an import did: how many were added, and each skipped row with its reason; or the
    one sentence saying why nothing was imported."""

    def __init__(
        self,
        parent: QWidget | None,
        path: Path,
        *,
        report: ImportReport | None = None,
        kind: str = "csv",
        error: str = "",
    ):
        super().__init__(parent)
        self.setWindowTitle("Import contacts")
        if report is None:
            summary = f"Nothing was imported from {path.name}: {error}"
        else:
            summary = f"Added {_plural(report.added, 'contact')} from {path.name}."
            if report.skipped:
                what = "card" if kind == "vcard" else "row"
                summary += f" Skipped {_plural(len(report.skipped), what)}:"
        self.summary = QLabel(summary)
        self.summary.setAccessibleName("Import result")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        self.skipped = QPlainTextEdit()
        self.skipped.setAccessibleName("Skipped rows")
        self.skipped.setReadOnly(True)
        lines = report_lines(report, kind) if report is not None else []
        self.skipped.setPlainText("\n".join(lines))
        self.skipped.setVisible(bool(lines))
        layout.addWidget(self.skipped, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setDefault(True)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 380 if lines else 0)


async def import_contacts(
    parent: QWidget, profile: Profile, path: Path | None = None, *, region: str | None = None
) -> ImportReport | None:
    """Import a CSV (through the column-mapping dialog) or vCard file; with no ``path`` the
    user picks one. Shows the result; returns the report, or ``None`` when nothing was
    imported (cancelled, or the file could not be read)."""
    if path is None:
        path = await choose_file(parent, "Import contacts", save=False, filters=IMPORT_FILTERS)
        if path is None:
            return None
    path = Path(path)
    region = region or default_region(profile)
    store = profile.contacts
    loop = asyncio.get_running_loop()
    kind = await loop.run_in_executor(None, file_kind, path)
    report: ImportReport | None = None
    try:
        if kind == "vcard":
            run = functools.partial(import_vcard, store, path, default_region=region)
            report = await loop.run_in_executor(None, run)
        else:
            preview = await loop.run_in_executor(None, preview_csv, path)
    except DialerError as exc:
        await _show(ImportReportDialog(parent, path, error=str(exc)))
        return None
    except Exception as exc:
        await _show(ImportReportDialog(parent, path, error=_unexpected(exc, "importing")))
        return None
    if report is None:
        await prepare_widget_types()
        dialog = CsvMappingDialog(parent, path, preview, region)

        async def run_import() -> ImportReport:
            run = functools.partial(
                import_csv, store, path, dialog.mapping(), default_region=region
            )
            return await loop.run_in_executor(None, run)

        report = await run_until_done(dialog, run_import, "importing contacts")
        if report is None:
            return None
    await _show(ImportReportDialog(parent, path, report=report, kind=kind))
    return report


# -- export -----------------------------------------------------------------------------------


async def _message(parent: QWidget, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    await _show(box)


def exported_sentence(count: int) -> str:
    """What the window says once ``count`` contacts are written."""
    return f"Exported {count:,} contact{'' if count == 1 else 's'}"


async def export_contacts(
    parent: QWidget,
    profile: Profile,
    ids: Sequence[int] | None = None,
    path: Path | None = None,
) -> int:
    """Write contacts (``ids``, else all) to a CSV file; with no ``path`` the user picks one
    (and is asked before a file is replaced). Returns how many were written (0: none, or
    cancelled, or the file could not be written, which the user was told)."""
    while path is None:
        chosen = await choose_file(
            parent, "Export contacts", save=True, filters=(CSV_FILTER,), suggested="contacts.csv"
        )
        if chosen is None:
            return 0
        if not chosen.suffix:
            chosen = chosen.with_suffix(".csv")
        if chosen.is_dir():
            await _message(parent, "Export contacts", f"{chosen} is a folder; choose a file name")
        elif not chosen.exists() or await confirm(
            parent,
            "Export contacts",
            f"{chosen.name} already exists. Replace it?",
            action="Replace",
        ):
            path = chosen
    loop = asyncio.get_running_loop()
    chosen_ids = list(ids) if ids is not None else None
    try:
        return await loop.run_in_executor(
            None, export_csv, profile.contacts, Path(path), chosen_ids
        )
    except DialerError as exc:
        await _message(parent, "Export contacts", str(exc))
    except Exception as exc:
        await _message(parent, "Export contacts", _unexpected(exc, "exporting contacts"))
    return 0
