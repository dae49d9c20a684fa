"""The flow and variable editor: a real dialog, offscreen, on the qasync loop, demo profile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QWidget,
)

from dialer.core.accounts import ProviderKind, StaticAccounts
from dialer.core.contacts import Contact
from dialer.core.errors import ConfigError
from dialer.core.flows import FlowStore, MissingVariables, VariableBinding, resolve_variables
from dialer.ui.flow_editor import FlowEditorDialog, VariablesModel, edit_flows
from tests.ui.conftest import modal, until

pytestmark = pytest.mark.gui

C2C = "Demo C2C v2"


@pytest.fixture
async def parent(qapp: Any) -> AsyncIterator[QWidget]:
    widget = QWidget()
    widget.show()
    yield widget
    widget.close()
    widget.deleteLater()


def flows_file(profile: Any) -> Path:
    path: Path = profile.paths.config_dir / "flows.toml"
    return path


def stored(profile: Any) -> FlowStore:
    """A fresh store on the same file: what any other reader would see."""
    return FlowStore(flows_file(profile))


async def open_editor(
    parent: QWidget, profile: Any, **kwargs: Any
) -> tuple[asyncio.Future[bool], FlowEditorDialog]:
    task = asyncio.ensure_future(edit_flows(parent, profile, **kwargs))
    dialog = await modal(FlowEditorDialog)
    assert dialog.isVisible()
    return task, dialog


async def answer(dialog: FlowEditorDialog, button_text: str) -> None:
    """Click ``button_text`` in the confirmation box that is (about to be) open, and let
    the dialog's action that asked run to its end."""
    box = await modal(QMessageBox)
    [button] = [b for b in box.buttons() if b.text() == button_text]
    button.click()
    await until(lambda: not box.isVisible())
    await dialog.tasks.wait_idle()


async def close(dialog: FlowEditorDialog, task: asyncio.Future[bool]) -> bool:
    dialog.close_button.click()
    return await asyncio.wait_for(task, 5)


def rows(dialog: FlowEditorDialog) -> list[str]:
    model = dialog.variables_model
    return [model.name(row) for row in range(model.rowCount())]


def row_of(dialog: FlowEditorDialog, name: str) -> int:
    return rows(dialog).index(name)


def pick_contact(profile: Any, *, company: bool) -> Contact:
    """A demo contact with (or without) a company."""
    contacts: list[Contact] = profile.contacts.get_many(profile.contacts.search_ids("")[:50])
    return next(c for c in contacts if bool(c.company) is company)


async def type_value(dialog: FlowEditorDialog, name: str, text: str) -> None:
    """Type ``text`` into the value cell of ``name`` as a user would: F2, keys, Enter."""
    view = dialog.variables_view
    index = dialog.variables_model.index(row_of(dialog, name), VariablesModel.VALUE)
    view.setFocus()
    view.setCurrentIndex(index)
    QTest.keyClick(view, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    assert editor.accessibleName() == f"Typed value of {{{name}}}"
    editor.selectAll()
    QTest.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Return)
    await until(lambda: index.data() == text)


def choose_source(dialog: FlowEditorDialog, name: str, source: str) -> None:
    combo = dialog.variables_view.source_editor(row_of(dialog, name))
    combo.setCurrentIndex(combo.findData(source))


async def test_only_accounts_with_flows_are_offered(parent: QWidget, demo_profile: Any) -> None:
    kazoo = next(a for a in demo_profile.accounts.list() if a.provider is ProviderKind.KAZOO)
    task, dialog = await open_editor(parent, demo_profile, account=kazoo.name)
    box = dialog.account_box
    assert [box.itemData(i) for i in range(box.count())] == [C2C]
    assert dialog.account == C2C
    labels = [dialog.flow_list.item(i).text() for i in range(dialog.flow_list.count())]
    assert labels == ["220 (Login OTP)", "221 (Order shipped)"]
    assert dialog.flow_id == "220"
    assert dialog.id_edit.text() == "220"
    assert dialog.prompt_edit.toPlainText() == "Hello {Name}, your otp for login is {otp}"
    assert rows(dialog) == ["Name", "otp"]
    assert not dialog.none_label.isVisible()
    assert await close(dialog, task) is False


async def test_no_account_with_flows_is_said_inline(parent: QWidget, demo_profile: Any) -> None:
    others = [a for a in demo_profile.accounts.list() if a.provider is not ProviderKind.C2C_V2]
    demo_profile.accounts = StaticAccounts(others)
    task, dialog = await open_editor(parent, demo_profile)
    assert dialog.none_label.isVisible()
    assert "None of your accounts" in dialog.none_label.text()
    assert "C2C v2" in dialog.none_label.text()
    assert dialog.account_box.count() == 0
    assert not dialog.splitter.isEnabled()
    assert not dialog.save_button.isEnabled()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert await asyncio.wait_for(task, 5) is False


async def test_typing_a_prompt_adds_and_removes_variable_rows(
    parent: QWidget, demo_profile: Any
) -> None:
    task, dialog = await open_editor(parent, demo_profile)
    dialog.add_button.click()
    await until(lambda: dialog.flow_id is None and dialog.prompt_edit.toPlainText() == "")
    assert rows(dialog) == []
    assert dialog.flow_list.currentRow() == -1
    assert "No variables" in dialog.variables_hint.text()
    prompt = dialog.prompt_edit
    prompt.setFocus()
    QTest.keyClicks(prompt, "Hi {Name")
    assert rows(dialog) == []  # not a variable until the brace closes
    QTest.keyClicks(prompt, "}, code {otp}")
    assert rows(dialog) == ["Name", "otp"]
    for row, name in enumerate(rows(dialog)):
        combo = dialog.variables_view.source_editor(row)
        assert isinstance(combo, QComboBox)
        assert combo.accessibleName() == f"Value of {{{name}}} from"
        assert combo.currentText() == "Typed value"
    choose_source(dialog, "Name", "first_name")
    assert dialog.variables_model.flow.binding("Name") == VariableBinding.from_contact("first_name")
    QTest.keyClick(prompt, Qt.Key.Key_Backspace)  # "{otp" is plain text again
    assert rows(dialog) == ["Name"]
    QTest.keyClicks(prompt, "} and {otp} again, {{literal}} {2fa}")
    assert rows(dialog) == ["Name", "otp"]  # repeats, escapes and non-names make no rows
    # a variable still in the prompt keeps its binding while the prompt changes around it
    assert dialog.variables_view.source_editor(0).currentData() == "first_name"
    prompt.selectAll()
    QTest.keyClick(prompt, Qt.Key.Key_Delete)
    assert rows(dialog) == []
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert await asyncio.wait_for(task, 5) is False  # nothing typed: nothing to discard


async def test_bindings_preview_and_the_missing_value_sentence(
    parent: QWidget, demo_profile: Any
) -> None:
    contact = pick_contact(demo_profile, company=False)
    task, dialog = await open_editor(parent, demo_profile, contact=contact)
    assert dialog.contact is contact
    assert await dialog.select_flow("221")
    first = contact.name.split()[0]
    assert dialog.preview_label.text() == f"Hi {first}, your order {{order}} ships today"
    sentence = dialog.missing_label.text()
    assert sentence == "Flow 221 (Order shipped) needs a value for order before it can call"
    with pytest.raises(MissingVariables) as caught:  # the very sentence that blocks the call
        resolve_variables(demo_profile.flows.get(C2C, "221"), contact.fields())
    assert str(caught.value) == sentence

    await type_value(dialog, "order", "A-1001")
    assert dialog.variables_model.flow.binding("order") == VariableBinding.typed("A-1001")
    assert dialog.preview_label.text() == f"Hi {first}, your order A-1001 ships today"
    assert dialog.missing_label.text() == (
        f"Every variable has a value for {contact.name}: this flow can call."
    )
    assert dialog.save_button.isEnabled()  # Enter is the dialog's Save, but not in a cell:
    await type_value(dialog, "order", "A-1002")  # it finishes the cell and nothing else
    await asyncio.sleep(0.05)
    assert dialog.isVisible()
    assert stored(demo_profile).get(C2C, "221").binding("order").is_unset
    await type_value(dialog, "order", "A-1001")

    # bound to a field the contact has empty: the sentence says which and for whom
    choose_source(dialog, "Name", "company")
    assert dialog.missing_label.text() == (
        "Flow 221 (Order shipped) needs a value for Name before it can call: "
        f"Company is empty for {contact.name}"
    )
    model = dialog.variables_model
    value_cell = model.index(row_of(dialog, "Name"), VariablesModel.VALUE)
    assert value_cell.data() == f"(empty for {contact.name})"
    assert not value_cell.flags() & Qt.ItemFlag.ItemIsEditable

    # no contact: bound variables wait for one
    dialog.contact_box.setCurrentIndex(dialog.contact_box.findText("No contact"))
    assert dialog.contact is None
    assert dialog.preview_label.text() == "Hi {Name}, your order A-1001 ships today"
    assert dialog.missing_label.text() == (
        "Flow 221 (Order shipped) needs a value for Name before it can call: "
        "select a contact to fill Name"
    )
    # back to a typed value: the binding is cleared, the cell is editable again
    choose_source(dialog, "Name", "")
    assert model.flow.binding("Name").is_unset
    assert value_cell.flags() & Qt.ItemFlag.ItemIsEditable
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            assert model.index(row, column).data(Qt.ItemDataRole.AccessibleTextRole)

    dialog.close_button.click()
    await answer(dialog, "Discard changes")
    assert await asyncio.wait_for(task, 5) is False
    assert stored(demo_profile).get(C2C, "221").binding("order").is_unset


async def test_preview_contact_is_found_by_name(parent: QWidget, demo_profile: Any) -> None:
    task, dialog = await open_editor(parent, demo_profile)
    assert dialog.contact is None  # the window had no contact selected
    assert dialog.preview_label.text() == "Hello {Name}, your otp for login is 12344"
    assert "select a contact to fill Name" in dialog.missing_label.text()
    wanted = pick_contact(demo_profile, company=True)
    QTest.keyClicks(dialog.contact_search, wanted.name)
    await until(lambda: dialog.contact is not None and dialog.contact.id == wanted.id)
    assert dialog.preview_label.text() == f"Hello {wanted.name}, your otp for login is 12344"
    assert dialog.missing_label.text() == (
        f"Every variable has a value for {wanted.name}: this flow can call."
    )
    assert dialog.contact_box.itemText(dialog.contact_box.count() - 1) == "No contact"
    before = flows_file(demo_profile).read_bytes()
    dialog.name_edit.setText("Login code")  # unsaved, so Enter could save...
    dialog.contact_search.clear()
    QTest.keyClicks(dialog.contact_search, "zzqqxx")
    QTest.keyClick(dialog.contact_search, Qt.Key.Key_Return)  # ...but here it searches
    await until(lambda: "No contact matches" in dialog.contact_status.text())
    assert dialog.contact is not None
    assert dialog.contact.id == wanted.id  # the choice is kept
    assert dialog.isVisible()
    assert dialog.dirty
    assert flows_file(demo_profile).read_bytes() == before
    dialog.close_button.click()
    await answer(dialog, "Discard changes")
    assert await asyncio.wait_for(task, 5) is False


async def test_invalid_flow_id_is_shown_inline_and_nothing_is_saved(
    parent: QWidget, demo_profile: Any
) -> None:
    before = flows_file(demo_profile).read_bytes()
    task, dialog = await open_editor(parent, demo_profile)
    assert await dialog.select_flow(None)
    QTest.keyClicks(dialog.id_edit, "flow:230")
    QTest.keyClicks(dialog.name_edit, "Renewal")
    QTest.keyClicks(dialog.prompt_edit, "Your plan renews on {date}")
    # the preview does not name a flow whose id is not valid yet
    assert dialog.missing_label.text().startswith("This flow needs a value for date")
    assert dialog.save_button.isEnabled()
    dialog.save_button.click()
    await until(dialog.error_label.isVisible)
    assert "'flow:230' is not a flow id" in dialog.error_label.text()
    assert dialog.id_edit.hasFocus()

    dialog.id_edit.setText("2 30")
    QTest.keyClick(dialog.id_edit, Qt.Key.Key_Return)  # Enter saves: refused the same way
    await until(lambda: "'2 30' is not a flow id" in dialog.error_label.text())

    dialog.id_edit.setText("220")  # taken by another flow of the account
    dialog.save_button.click()
    await until(lambda: "already has a flow 220" in dialog.error_label.text())

    dialog.id_edit.clear()
    dialog.save_button.click()
    await until(lambda: "needs its id" in dialog.error_label.text())
    assert flows_file(demo_profile).read_bytes() == before
    assert [f.flow_id for f in stored(demo_profile).list(C2C)] == ["220", "221"]

    QTest.keyClick(dialog, Qt.Key.Key_Escape)  # unsaved: asks before closing
    await answer(dialog, "Cancel")
    assert dialog.isVisible()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    await answer(dialog, "Discard changes")
    assert await asyncio.wait_for(task, 5) is False
    assert flows_file(demo_profile).read_bytes() == before


async def test_save_persists_edits_new_flows_and_renames(
    parent: QWidget, demo_profile: Any
) -> None:
    task, dialog = await open_editor(parent, demo_profile)
    assert await dialog.select_flow("221")
    await type_value(dialog, "order", "A-1001")
    dialog.name_edit.setText("Order shipped today")
    dialog.save_button.click()
    await until(lambda: dialog.status_label.text().startswith("Saved flow 221"))
    flow = stored(demo_profile).get(C2C, "221")
    assert flow.name == "Order shipped today"
    assert flow.binding("order") == VariableBinding.typed("A-1001")
    assert flow.binding("Name") == VariableBinding.from_contact("first_name")
    assert not dialog.dirty
    assert not dialog.save_button.isEnabled()

    # a new flow, typed and saved with the keyboard (Enter in the name field)
    dialog.add_button.click()
    await until(lambda: dialog.flow_id is None and dialog.id_edit.hasFocus())
    QTest.keyClicks(dialog.id_edit, "  230 ")
    QTest.keyClicks(dialog.prompt_edit, "Dear {Name}, your plan renews on {date}")
    choose_source(dialog, "Name", "name")
    await type_value(dialog, "date", "1 June")
    dialog.name_edit.setFocus()
    QTest.keyClicks(dialog.name_edit, "Renewal")
    QTest.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    await until(lambda: dialog.flow_id == "230")
    new = stored(demo_profile).get(C2C, "230")
    assert new.name == "Renewal"
    assert new.prompt == "Dear {Name}, your plan renews on {date}"
    assert dict(new.bindings) == {
        "Name": VariableBinding.from_contact("name"),
        "date": VariableBinding.typed("1 June"),
    }
    assert dialog.flow_list.currentItem().text() == "230 (Renewal)"

    # changing the id of a stored flow moves it
    dialog.id_edit.setText("231")
    dialog.save_button.click()
    await until(lambda: dialog.flow_id == "231")
    ids = [f.flow_id for f in stored(demo_profile).list(C2C)]
    assert sorted(ids) == ["220", "221", "231"]
    assert dialog.flow_list.count() == 3
    assert await close(dialog, task) is True


async def test_delete_asks_first(parent: QWidget, demo_profile: Any) -> None:
    task, dialog = await open_editor(parent, demo_profile)
    assert await dialog.select_flow("221")
    dialog.delete_button.click()
    await answer(dialog, "Cancel")
    assert [f.flow_id for f in stored(demo_profile).list(C2C)] == ["220", "221"]
    dialog.delete_button.click()
    await answer(dialog, "Delete")
    await until(lambda: dialog.flow_list.count() == 1)
    with pytest.raises(ConfigError):
        stored(demo_profile).get(C2C, "221")
    assert dialog.flow_id == "220"  # the next flow is shown
    assert dialog.status_label.text() == "Deleted flow 221 (Order shipped)"
    assert await close(dialog, task) is True


async def test_switching_flows_with_unsaved_edits_asks(parent: QWidget, demo_profile: Any) -> None:
    task, dialog = await open_editor(parent, demo_profile)
    assert dialog.flow_id == "220"
    dialog.prompt_edit.moveCursor(dialog.prompt_edit.textCursor().MoveOperation.End)
    QTest.keyClicks(dialog.prompt_edit, " today")
    assert dialog.dirty
    dialog.flow_list.setCurrentRow(1)  # as a click on 221 does
    await answer(dialog, "Cancel")
    await until(lambda: dialog.flow_list.currentRow() == 0)
    assert dialog.flow_id == "220"
    assert dialog.prompt_edit.toPlainText().endswith("today")  # the edits are still there
    dialog.flow_list.setCurrentRow(1)
    await answer(dialog, "Discard changes")
    await until(lambda: dialog.flow_id == "221")
    assert dialog.prompt_edit.toPlainText() == "Hi {Name}, your order {order} ships today"
    assert not dialog.dirty
    assert not stored(demo_profile).get(C2C, "220").prompt.endswith("today")
    assert await close(dialog, task) is False


async def test_keyboard_escape_closes_and_enter_in_the_prompt_does_not(
    parent: QWidget, demo_profile: Any
) -> None:
    before = flows_file(demo_profile).read_bytes()
    task, dialog = await open_editor(parent, demo_profile)
    dialog.prompt_edit.setFocus()
    dialog.prompt_edit.moveCursor(dialog.prompt_edit.textCursor().MoveOperation.End)
    QTest.keyClick(dialog.prompt_edit, Qt.Key.Key_Return)
    QTest.keyClick(dialog.prompt_edit, Qt.Key.Key_Enter)
    await asyncio.sleep(0.05)
    assert dialog.isVisible()
    assert dialog.prompt_edit.toPlainText().endswith("\n\n")  # a new line, not a save
    assert flows_file(demo_profile).read_bytes() == before
    QTest.keyClick(dialog.prompt_edit, Qt.Key.Key_Backspace)
    QTest.keyClick(dialog.prompt_edit, Qt.Key.Key_Backspace)
    assert not dialog.dirty  # back as stored
    QTest.keyClick(dialog.prompt_edit, Qt.Key.Key_Escape)
    assert await asyncio.wait_for(task, 5) is False


async def test_every_input_is_named_for_assistive_tools(parent: QWidget, demo_profile: Any) -> None:
    contact = pick_contact(demo_profile, company=True)
    task, dialog = await open_editor(parent, demo_profile, contact=contact)
    kinds = (QLineEdit, QPlainTextEdit, QComboBox, QListWidget, QTableView, QPushButton)
    inputs = [w for w in dialog.findChildren(QWidget) if isinstance(w, kinds)]
    inputs = [w for w in inputs if not isinstance(w.parent(), QComboBox)]
    assert len(inputs) >= 12
    unnamed = [type(w).__name__ for w in inputs if not w.accessibleName()]
    assert unnamed == []
    model = dialog.variables_model
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            assert model.index(row, column).data(Qt.ItemDataRole.AccessibleTextRole)
    assert await close(dialog, task) is False


async def test_a_broken_flows_file_is_reported_inline(parent: QWidget, demo_profile: Any) -> None:
    flows_file(demo_profile).write_text("flows = 3\n", encoding="utf-8")
    task, dialog = await open_editor(parent, demo_profile)
    assert dialog.error_label.isVisible()
    assert "The flows file" in dialog.error_label.text()
    assert "malformed" in dialog.error_label.text()
    assert dialog.flow_list.count() == 0
    assert dialog.flow_id is None  # a new flow can still be typed
    assert await close(dialog, task) is False


async def test_switching_accounts_shows_their_flows_and_asks_about_edits(
    parent: QWidget, demo_profile: Any
) -> None:
    from dataclasses import replace

    accounts = demo_profile.accounts.list()
    c2c = next(a for a in accounts if a.provider is ProviderKind.C2C_V2)
    demo_profile.accounts = StaticAccounts([*accounts, replace(c2c, name="Second C2C")])
    task, dialog = await open_editor(parent, demo_profile, account="Second C2C")
    assert dialog.account_box.count() == 2
    assert dialog.account == "Second C2C"
    assert dialog.flow_list.count() == 0
    assert dialog.flow_id is None  # no flows yet: a new one is ready to type
    QTest.keyClicks(dialog.id_edit, "300")
    dialog.account_box.setCurrentIndex(dialog.account_box.findData(C2C))
    await answer(dialog, "Cancel")
    assert dialog.account == "Second C2C"
    assert dialog.account_box.currentData() == "Second C2C"
    assert dialog.id_edit.text() == "300"
    dialog.account_box.setCurrentIndex(dialog.account_box.findData(C2C))
    await answer(dialog, "Discard changes")
    assert dialog.account == C2C
    assert dialog.flow_list.count() == 2
    assert dialog.flow_id == "220"
    assert stored(demo_profile).list("Second C2C") == []
    assert await close(dialog, task) is False
