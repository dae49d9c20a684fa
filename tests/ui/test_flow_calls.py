"""Flow calls from the window, driven by keys and clicks: the flow chosen survives the flow
editor (and the window says when it is gone), a variable typed for each call has its box in
the call options, and no customer's call carries another contact's values."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from dialer.core.accounts import ProviderKind
from dialer.ui.flow_editor import FlowEditorDialog
from tests.ui.conftest import modal, until
from tests.ui.test_main_window import provider_requests, select_account

pytestmark = pytest.mark.gui


async def choose_flow(window: Any, flow_id: str) -> None:
    """Flow mode and ``flow_id`` picked with the keyboard, as an agent would."""
    options = window.options
    options.mode_box.setFocus()
    QTest.keyClick(options.mode_box, Qt.Key.Key_Down)  # "Ring the customer into an IVR flow"
    assert options.flow_mode
    options.flow_box.setFocus()
    while options.flow_box.currentData() != flow_id:
        before = options.flow_box.currentIndex()
        QTest.keyClick(options.flow_box, Qt.Key.Key_Down)
        assert options.flow_box.currentIndex() != before, f"no flow {flow_id}"


async def open_flow_editor(window: Any) -> tuple[asyncio.Task[None], FlowEditorDialog]:
    task = asyncio.ensure_future(window.edit_flows())
    dialog = await modal(FlowEditorDialog)
    return task, dialog


async def call_with_the_button(window: Any, number: str) -> None:
    window.number.set_text(number)
    QTest.mouseClick(window.call_button, Qt.MouseButton.LeftButton)
    await window.tasks.wait_idle()


async def test_the_chosen_flow_survives_the_flow_editor_and_its_loss_is_said(
    window: Any,
) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    await choose_flow(window, "221")
    task, dialog = await open_flow_editor(window)
    assert await dialog.select_flow("220")
    dialog.name_edit.setText("Login code")  # an edit to another flow, saved
    dialog.save_button.click()
    await until(lambda: dialog.status_label.text().startswith("Saved flow 220"))
    dialog.close_button.click()
    await asyncio.wait_for(task, 5)
    assert window.options.flow_box.currentData() == "221"  # still the agent's choice
    assert "Login code" in window.options.flow_box.itemText(0)

    # Deleted in the editor: the window says which flow the next call uses instead.
    task, dialog = await open_flow_editor(window)
    assert await dialog.select_flow("221")
    dialog.delete_button.click()
    box = await modal(QMessageBox)
    next(b for b in box.buttons() if b.text() == "Delete").click()
    await until(lambda: dialog.flow_list.count() == 1)
    dialog.close_button.click()
    await asyncio.wait_for(task, 5)
    assert window.options.flow_box.currentData() == "220"
    level, text = window.messages.history[-1]
    assert level == "warning"
    assert text == (
        "Flow 221 (Order shipped) is no longer configured; the next flow call uses 220 (Login code)"
    )


async def test_a_variable_typed_for_each_call_has_its_box_and_is_checked_first(
    window: Any,
) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    await choose_flow(window, "221")  # "{Name}, your order {order} has shipped": order per call
    edit = window.options.value_edits["order"]
    assert edit.isVisible() and edit.accessibleName() == "order, typed for this call"
    contact = window.contacts_model.contact(0)
    window.contacts_view.selectRow(0)
    await call_with_the_button(window, contact.primary.number)
    level, text = window.messages.history[-1]
    assert (level, text) == (
        "error",
        "Type a value for order for this call (flow Order shipped, id 221)",
    )
    assert edit.hasFocus() and provider_requests(window) == []  # refused before sending
    QTest.keyClicks(edit, "A-1234")
    await call_with_the_button(window, contact.primary.number)
    [request] = provider_requests(window)
    assert request.json["to"] == "flow:221" and request.json["variables[order]"] == "A-1234"


async def test_a_value_typed_for_one_contact_never_reaches_another_customer(
    window: Any,
) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    await choose_flow(window, "221")
    edit = window.options.value_edits["order"]
    first, second = window.contacts_model.contact(0), window.contacts_model.contact(1)
    window.contacts_view.selectRow(0)
    QTest.keyClicks(edit, "A-1234")
    await call_with_the_button(window, first.primary.number)
    assert len(provider_requests(window)) == 1
    # Another contact selected: the box is empty again; back to the first: remembered.
    window.contacts_view.selectRow(1)
    assert edit.text() == ""
    window.contacts_view.selectRow(0)
    assert edit.text() == "A-1234"
    # The first contact's order number is in the box, but the number called is another
    # customer's: it is not sent, it is asked for.
    await call_with_the_button(window, second.primary.number)
    assert len(provider_requests(window)) == 1
    assert window.messages.history[-1][1].startswith("Type a value for order for this call")
    assert edit.text() == ""


async def test_a_link_to_a_number_that_is_no_contact_never_takes_the_selected_rows_name(
    window: Any,
) -> None:
    # Lakshmi Sharma (or whoever) highlighted, a tel: link to a stranger, flow 220 whose
    # {Name} comes from the contact called: the call is refused, and the selected row's
    # name is never sent.
    await select_account(window, ProviderKind.C2C_V2)
    await choose_flow(window, "220")
    window.contacts_view.selectRow(3)
    selected = window.selected_contact()
    window.dial_from_outside("tel:+918867199999")
    assert window.match_label.text() == "Not in your contacts"
    QTest.keyClick(window.number.edit, Qt.Key.Key_Return)
    await window.tasks.wait_idle()
    assert provider_requests(window) == []
    level, text = window.messages.history[-1]
    assert level == "error" and "needs a value for Name" in text
    assert "the number called is not one of your contacts" in text
    assert selected.name not in text
