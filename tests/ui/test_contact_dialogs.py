"""Contact form, delete, CSV/vCard import and CSV export: real dialogs, offscreen, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTableWidget,
    QWidget,
)

from dialer.core.contacts import Contact, ContactNumber
from dialer.core.errors import InvalidNumber
from dialer.core.numbers import parse_number
from dialer.ui.contact_dialogs import (
    ContactDialog,
    CsvMappingDialog,
    ImportReportDialog,
    add_contact,
    delete_contact,
    edit_contact,
    export_contacts,
    exported_sentence,
    import_contacts,
)
from tests.ui.conftest import modal, until

pytestmark = pytest.mark.gui

T = TypeVar("T")


@pytest.fixture
async def parent(qapp: Any) -> AsyncIterator[QWidget]:
    widget = QWidget()
    widget.resize(900, 700)
    widget.show()
    yield widget
    # Deleted now, on this thread: left to the garbage collector, it (and the dialogs still
    # parented to it) may be destroyed on a worker thread, which Qt warns about.
    widget.close()
    widget.deleteLater()
    await until(lambda: not shiboken6.isValid(widget))


def header_text(table: QTableWidget, column: int) -> str:
    item = table.horizontalHeaderItem(column)
    assert item is not None
    return item.text()


def choose(chooser: QFileDialog, path: Path) -> None:
    """Pick ``path`` in Qt's own file dialog and accept it, as a user typing it would.

    ``selectFile`` leaves the file name box alone while it has the focus (as it does in a
    visible dialog), so the name is typed into the box too.
    """
    chooser.selectFile(str(path))
    name_box = chooser.findChild(QLineEdit, "fileNameEdit")
    assert name_box is not None
    name_box.setText(str(path))
    chooser.accept()


async def close_report() -> str:
    """Read the import report (summary and skipped lines) and close it."""
    report = await modal(ImportReportDialog)
    text = report.summary.text() + "\n" + report.skipped.toPlainText()
    report.close_button.click()
    return text


async def finish(task: asyncio.Future[T]) -> T:
    """The entry coroutine's result; a test that would hang fails instead."""
    return await asyncio.wait_for(task, 10)


def unnamed_inputs(dialog: QWidget) -> list[str]:
    """Input controls of ``dialog`` that a screen reader could not name."""
    kinds = (QLineEdit, QComboBox, QCheckBox, QPlainTextEdit, QTableWidget)
    return [
        f"{type(w).__name__} {w.objectName()}"
        for w in dialog.findChildren(QWidget)
        if isinstance(w, kinds)
        and not isinstance(w.parent(), QComboBox)  # an editable combo's own line edit
        and not w.accessibleName()
    ]


def new_ids(store: Any, before: set[int]) -> list[int]:
    return [i for i in store.search_ids("") if i not in before]


# -- the contact form -----------------------------------------------------------------------


async def test_add_with_two_numbers_and_labels(parent: QWidget, demo_profile: Any) -> None:
    store = demo_profile.contacts
    assert not store.find_by_number("+918867135000")
    assert not store.find_by_number("+918023456789")
    task = asyncio.ensure_future(add_contact(parent, demo_profile))
    form = await modal(ContactDialog)
    form.name_edit.setText("Zoë Tester")  # QTest types ASCII only
    QTest.keyClicks(form.company_edit, "Acme")
    first = form.rows[0]
    QTest.keyClicks(first.edit, "+91 88671 35000")
    first.label_box.setCurrentText("work")
    QTest.mouseClick(form.add_button, Qt.MouseButton.LeftButton)
    assert len(form.rows) == 2
    second = form.rows[1]
    assert second.edit.hasFocus() or not form.isActiveWindow()
    QTest.keyClicks(second.edit, "080 2345 6789")  # national: read with the demo's region, IN
    second.label_box.setCurrentText("home")
    assert second.status.text().startswith("✓ +918023456789")
    assert second.edit.accessibleName() == "Number 2"
    assert unnamed_inputs(form) == []
    assert form.ok_button.isEnabled()
    QTest.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    contact = await finish(task)
    assert contact is not None
    assert contact.id is not None
    stored = store.get(contact.id)
    assert stored == contact
    assert stored.name == "Zoë Tester"
    assert stored.company == "Acme"
    assert stored.numbers == (
        ContactNumber("+918867135000", "work"),
        ContactNumber("+918023456789", "home"),
    )


async def test_add_prefills_the_number_and_enter_saves(parent: QWidget, demo_profile: Any) -> None:
    task = asyncio.ensure_future(add_contact(parent, demo_profile, number="+44 20 7946 0958"))
    form = await modal(ContactDialog)
    assert form.rows[0].status.text().startswith("✓ +442079460958")
    QTest.keyClick(form.rows[0].edit, Qt.Key.Key_Return)
    contact = await finish(task)
    assert contact is not None
    assert contact.numbers == (ContactNumber("+442079460958", "mobile"),)
    assert contact.name == ""


async def test_national_numbers_use_the_region_given(parent: QWidget, demo_profile: Any) -> None:
    task = asyncio.ensure_future(
        add_contact(parent, demo_profile, number="020 7946 0958", region="GB")
    )
    form = await modal(ContactDialog)
    assert "United Kingdom" in form.region_label.text()
    form.ok_button.click()
    contact = await finish(task)
    assert contact is not None
    assert contact.numbers[0].number == "+442079460958"


async def test_invalid_number_blocks_saving_with_the_parsers_sentence(
    parent: QWidget, demo_profile: Any
) -> None:
    store = demo_profile.contacts
    count = store.count()
    task = asyncio.ensure_future(add_contact(parent, demo_profile))
    form = await modal(ContactDialog)
    QTest.keyClicks(form.name_edit, "Broken Number")
    QTest.keyClicks(form.rows[0].edit, "+91 12345")
    with pytest.raises(InvalidNumber) as expected:
        parse_number("+91 12345", "IN")
    assert str(expected.value) in form.rows[0].status.text()
    assert form.rows[0].status.isVisible()
    assert not form.ok_button.isEnabled()
    assert "Correct number 1" in form.error_label.text()
    QTest.keyClick(form.rows[0].edit, Qt.Key.Key_Return)  # Enter does not get past it
    await asyncio.sleep(0.05)
    assert form.isVisible()
    assert store.count() == count
    # A second, valid number does not make the invalid one acceptable.
    form.add_button.click()
    QTest.keyClicks(form.rows[1].edit, "+91 98450 12345")
    assert not form.ok_button.isEnabled()
    # Removing the invalid row unblocks saving.
    form.rows[0].remove_button.click()
    assert len(form.rows) == 1
    assert form.rows[0].edit.accessibleName() == "Number 1"
    assert form.ok_button.isEnabled()
    QTest.keyClick(form, Qt.Key.Key_Escape)
    assert await finish(task) is None
    assert store.count() == count


async def test_a_form_without_numbers_cannot_be_saved(parent: QWidget, demo_profile: Any) -> None:
    task = asyncio.ensure_future(add_contact(parent, demo_profile))
    form = await modal(ContactDialog)
    QTest.keyClicks(form.name_edit, "No Number")
    assert not form.ok_button.isEnabled()
    assert "at least one phone number" in form.error_label.text()
    form.cancel_button.click()
    assert await finish(task) is None


async def test_edit_keeps_the_id(parent: QWidget, demo_profile: Any) -> None:
    store = demo_profile.contacts
    count = store.count()
    original = store.get_many(store.search_ids("")[:1])[0]
    task = asyncio.ensure_future(edit_contact(parent, demo_profile, original))
    form = await modal(ContactDialog)
    assert form.windowTitle() == "Edit contact"
    assert form.name_edit.text() == original.name
    assert len(form.rows) == len(original.numbers)
    form.name_edit.clear()
    QTest.keyClicks(form.name_edit, "Renamed Person")
    form.favourite_box.setChecked(True)
    QTest.keyClicks(form.notes_edit, "called back")
    form.ok_button.click()
    saved = await finish(task)
    assert saved is not None
    assert saved.id == original.id
    assert store.count() == count
    stored = store.get(original.id)
    assert stored.name == "Renamed Person"
    assert stored.favourite
    assert stored.numbers == original.numbers  # shown formatted, stored E.164 as before
    assert stored.company == original.company


async def test_a_number_that_is_someone_elses_asks_first(
    parent: QWidget, demo_profile: Any
) -> None:
    store = demo_profile.contacts
    other = store.get_many(store.search_ids("")[:1])[0]
    task = asyncio.ensure_future(add_contact(parent, demo_profile))
    form = await modal(ContactDialog)
    QTest.keyClicks(form.name_edit, "Second Owner")
    QTest.keyClicks(form.rows[0].edit, other.primary.number)
    form.ok_button.click()
    await until(lambda: "already the number of" in form.error_label.text())
    assert other.name in form.error_label.text()
    assert form.isVisible()
    assert "anyway" in form.ok_button.text()
    form.ok_button.click()
    saved = await finish(task)
    assert saved is not None
    assert {c.id for c in store.find_by_number(other.primary.number)} >= {other.id, saved.id}


async def test_delete_asks_and_cancel_keeps(parent: QWidget, demo_profile: Any) -> None:
    store = demo_profile.contacts
    contact = store.get_many(store.search_ids("")[:1])[0]

    task = asyncio.ensure_future(delete_contact(parent, demo_profile, contact))
    box = await modal(QMessageBox)
    assert contact.name in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert await finish(task) is False
    assert store.get(contact.id) is not None

    task = asyncio.ensure_future(delete_contact(parent, demo_profile, contact))
    box = await modal(QMessageBox)
    [delete] = [b for b in box.buttons() if b.text() == "Delete"]
    delete.click()
    assert await finish(task) is True
    assert store.get(contact.id) is None


# -- import ---------------------------------------------------------------------------------


async def test_csv_import_through_the_mapping_dialog(
    parent: QWidget, demo_profile: Any, tmp_path: Path
) -> None:
    store = demo_profile.contacts
    before = set(store.search_ids(""))
    path = tmp_path / "leads.csv"
    path.write_text(
        "Name;Mobile;Festnetz;Firma\n"
        "Anika Weber;+49 1512 3456789;030 1234567;Weber GmbH\n"
        "Kein Telefon;;;Leer AG\n"
        "Ravi Kumar;98450 12345;;\n",
        encoding="utf-8",
    )
    task = asyncio.ensure_future(import_contacts(parent, demo_profile, path))
    dialog = await modal(CsvMappingDialog)
    # The preview shows the file; the guess took Name and Mobile but not the German headers.
    assert [header_text(dialog.table, c) for c in range(4)] == [
        "Name",
        "Mobile",
        "Festnetz",
        "Firma",
    ]
    first = dialog.table.item(0, 0)
    assert first is not None and first.text() == "Anika Weber"
    assert dialog.table.rowCount() == 3
    assert [row.column for row in dialog.number_rows] == ["Mobile"]
    assert unnamed_inputs(dialog) == []
    assert dialog.field_boxes["company"].currentData() == ""
    # Map them by hand.
    dialog.field_boxes["company"].setCurrentText("Firma")
    dialog.add_button.click()
    landline = dialog.number_rows[1]
    landline.column_box.setCurrentText("Festnetz")
    landline.label_box.setCurrentText("landline")
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    text = await close_report()
    report = await finish(task)
    assert report is not None
    assert report.added == 2
    assert [line for line, _reason in report.skipped] == [3]
    assert "Added 2 contacts" in text
    assert "Line 3:" in text
    assert "Kein Telefon" in text
    added = {c.name: c for c in store.get_many(new_ids(store, before))}
    assert set(added) == {"Anika Weber", "Ravi Kumar"}
    assert added["Anika Weber"].company == "Weber GmbH"
    assert added["Anika Weber"].numbers == (
        ContactNumber("+4915123456789", "mobile"),
        ContactNumber("030 1234567", "landline"),  # national, German: kept as given (region IN)
    )
    assert added["Ravi Kumar"].numbers == (ContactNumber("+919845012345", "mobile"),)


async def test_mapping_needs_a_number_column(
    parent: QWidget, demo_profile: Any, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Name,Phone\nA,+918867135000\n", encoding="utf-8")
    task = asyncio.ensure_future(import_contacts(parent, demo_profile, path))
    dialog = await modal(CsvMappingDialog)
    dialog.add_button.click()
    dialog.number_rows[1].column_box.setCurrentText("Phone")
    assert not dialog.ok_button.isEnabled()
    assert "chosen twice" in dialog.error_label.text()
    dialog.number_rows[1].remove_button.click()
    dialog.number_rows[0].remove_button.click()
    assert not dialog.ok_button.isEnabled()
    assert "at least one column" in dialog.error_label.text()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert await finish(task) is None


async def test_an_unreadable_file_is_reported(
    parent: QWidget, demo_profile: Any, tmp_path: Path
) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    task = asyncio.ensure_future(import_contacts(parent, demo_profile, path))
    text = await close_report()
    assert await finish(task) is None
    assert "Nothing was imported" in text
    assert "is empty" in text


VCARDS = """BEGIN:VCARD
VERSION:3.0
FN:Meera Iyer
ORG:Iyer Textiles
TEL;TYPE=CELL:+91 98450 12345
TEL;TYPE=WORK:044 2345 6789
EMAIL:meera@example.com
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Nobody Without Phone
END:VCARD
"""


async def test_vcard_import(parent: QWidget, demo_profile: Any, tmp_path: Path) -> None:
    store = demo_profile.contacts
    before = set(store.search_ids(""))
    path = tmp_path / "phone.vcf"
    path.write_text(VCARDS, encoding="utf-8")
    task = asyncio.ensure_future(import_contacts(parent, demo_profile, path))
    text = await close_report()
    report = await finish(task)
    assert report is not None
    assert report.added == 1
    assert [where for where, _reason in report.skipped] == [2]
    assert "Added 1 contact from phone.vcf" in text
    assert "Nobody Without Phone" in text
    [meera] = store.get_many(new_ids(store, before))
    assert meera.name == "Meera Iyer"
    assert meera.company == "Iyer Textiles"
    assert meera.numbers == (
        ContactNumber("+919845012345", "mobile"),
        ContactNumber("+914423456789", "work"),
    )


async def test_export_then_import_round_trip(
    parent: QWidget, demo_profile: Any, tmp_path: Path
) -> None:
    store = demo_profile.contacts
    ids = store.search_ids("")[:5]
    originals = store.get_many(ids)
    path = tmp_path / "out.csv"
    assert await export_contacts(parent, demo_profile, ids, path) == 5
    before = set(store.search_ids(""))
    task = asyncio.ensure_future(import_contacts(parent, demo_profile, path))
    dialog = await modal(CsvMappingDialog)
    dialog.ok_button.click()  # the guessed mapping reads our own export back
    text = await close_report()
    report = await finish(task)
    assert report is not None
    assert report.added == 5
    assert report.skipped == []
    assert "Skipped" not in text

    def key(contact: Contact) -> tuple[Any, ...]:
        return (*(getattr(contact, f) for f in ("name", "company", "email", "notes")),
                contact.favourite, contact.numbers)  # fmt: skip

    copies = store.get_many(new_ids(store, before))
    assert sorted(map(key, copies)) == sorted(map(key, originals))


# -- the file dialogs -------------------------------------------------------------------------


async def test_import_through_the_file_dialog(
    parent: QWidget, demo_profile: Any, tmp_path: Path
) -> None:
    path = tmp_path / "card.vcf"
    path.write_text(VCARDS, encoding="utf-8")
    task = asyncio.ensure_future(import_contacts(parent, demo_profile))
    chooser = await modal(QFileDialog)
    assert chooser.testOption(QFileDialog.Option.DontUseNativeDialog)
    assert any("vcf" in f for f in chooser.nameFilters())
    assert any("csv" in f for f in chooser.nameFilters())
    choose(chooser, path)
    await close_report()
    report = await finish(task)
    assert report is not None
    assert report.added == 1


async def test_export_through_the_save_dialog_asks_before_replacing(
    parent: QWidget, demo_profile: Any, tmp_path: Path
) -> None:
    store = demo_profile.contacts
    ids = store.search_ids("")[:3]
    target = tmp_path / "picked"  # no suffix: .csv is added

    task = asyncio.ensure_future(export_contacts(parent, demo_profile, ids))
    chooser = await modal(QFileDialog)
    choose(chooser, target)
    assert await finish(task) == 3
    written = tmp_path / "picked.csv"
    assert written.read_text(encoding="utf-8-sig").startswith("name,company")

    written.write_text("keep me", encoding="utf-8")
    task = asyncio.ensure_future(export_contacts(parent, demo_profile, ids))
    chooser = await modal(QFileDialog)
    choose(chooser, written)
    box = await modal(QMessageBox)
    assert "already exists" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    chooser = await modal(QFileDialog)  # asked again; cancelling there exports nothing
    chooser.reject()
    assert await finish(task) == 0
    assert written.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize(
    ("count", "sentence"),
    [(1, "Exported 1 contact"), (3, "Exported 3 contacts"), (1200, "Exported 1,200 contacts")],
)
def test_the_export_is_counted_in_words(count: int, sentence: str) -> None:
    assert exported_sentence(count) == sentence
