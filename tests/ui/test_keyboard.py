"""The window from the keyboard alone, with real key events: Tab walks the areas in the
order they are laid out (one stop per table), Down goes from the search into the results,
Enter calls, Escape clears only its own field, every control has its own accessible name,
and Help lists the shortcuts the window really has."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from dialer.core.accounts import ProviderKind
from tests.ui.conftest import until
from tests.ui.test_main_window import provider_requests, select_account

pytestmark = pytest.mark.gui


def focused() -> QWidget | None:
    return QApplication.focusWidget()


async def tab(times: int = 1, *, back: bool = False) -> QWidget | None:
    for _ in range(times):
        widget = focused()
        assert widget is not None
        QTest.keyClick(widget, Qt.Key.Key_Backtab if back else Qt.Key.Key_Tab)
    return focused()


async def test_tab_walks_the_areas_in_layout_order_one_stop_per_table(window: Any) -> None:
    window.activateWindow()
    window.search_edit.setFocus()
    await until(window.search_edit.hasFocus)
    assert await tab() is window.contacts_view
    assert await tab() is window.number.country  # left of the number, so before it
    assert await tab() is window.number.edit
    assert await tab() is window.call_button
    assert await tab() is window.options.account_box
    assert await tab(back=True) is window.call_button
    # Backwards from the number, one Tab stop in the contacts table, then the search.
    number_edit: Any = window.number.edit  # (an "is" above narrowed it to QWidget | None)
    number_edit.setFocus()
    assert await tab(2, back=True) is window.contacts_view
    assert await tab(back=True) is window.search_edit
    # And the history table is one stop too: Tab leaves it at once.
    window.history_panel.view.setFocus()
    assert await tab() is not window.history_panel.view


async def test_down_from_the_search_enters_the_results_and_enter_calls(window: Any) -> None:
    await select_account(window, ProviderKind.DIGIDONAR)
    window.search_edit.setFocus()
    QTest.keyClicks(window.search_edit, "a")
    await until(lambda: 0 < window.contacts_model.rowCount() < 300)
    await window.tasks.wait_idle()
    QTest.keyClick(window.search_edit, Qt.Key.Key_Down)
    assert window.contacts_view.hasFocus() and window.contacts_view.currentIndex().row() == 0
    QTest.keyClick(window.contacts_view, Qt.Key.Key_Down)
    assert window.contacts_view.currentIndex().row() == 1
    while len(window.selected_contact().numbers) != 1:  # one with a single number: no picker
        QTest.keyClick(window.contacts_view, Qt.Key.Key_Down)
    second = window.selected_contact()
    QTest.keyClick(window.contacts_view, Qt.Key.Key_Return)
    await until(lambda: len(provider_requests(window)) == 1)
    await window.tasks.wait_idle()  # placed: the same contact may be called again
    assert second.primary.number.endswith(provider_requests(window)[0].query["calling_party_a"])
    # Enter in the search calls the contact it found (the one selected).
    window.search_edit.setFocus()
    QTest.keyClick(window.search_edit, Qt.Key.Key_Return)
    await until(lambda: len(provider_requests(window)) == 2)
    assert second.primary.number.endswith(provider_requests(window)[1].query["calling_party_a"])


async def test_escape_clears_only_the_field_it_is_pressed_in(window: Any) -> None:
    window.number.edit.setFocus()
    QTest.keyClicks(window.number.edit, "+91 88671 35000")
    window.search_edit.setFocus()
    QTest.keyClicks(window.search_edit, "sharma")
    await until(lambda: window.contacts_model.rowCount() < 300)
    await window.tasks.wait_idle()
    typed = "+91 88671 35000"
    window.number.set_text(typed)
    # Escape in a history filter leaves the search and the number alone.
    window.history_panel.digits_edit.setFocus()
    QTest.keyClicks(window.history_panel.digits_edit, "135")
    QTest.keyClick(window.history_panel.digits_edit, Qt.Key.Key_Escape)
    assert window.search_edit.text() == "sharma" and window.number.text() == typed
    # Escape in the search clears the search: the number typed stays.
    window.search_edit.setFocus()
    QTest.keyClick(window.search_edit, Qt.Key.Key_Escape)
    assert window.search_edit.text() == ""
    await until(lambda: window.contacts_model.rowCount() == 300)
    await window.tasks.wait_idle()
    assert window.number.text() == typed
    # Escape in the number clears the number only.
    window.number.edit.setFocus()
    QTest.keyClick(window.number.edit, Qt.Key.Key_Escape)
    assert window.number.text() == "" and window.contacts_model.rowCount() == 300


async def test_every_control_has_an_accessible_name_of_its_own(window: Any) -> None:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSpinBox,
        QComboBox,
        QHeaderView,
        QLineEdit,
    )

    kinds = (QAbstractButton, QAbstractItemView, QComboBox, QLineEdit)
    controls = [
        widget
        for widget in window.findChildren(QWidget)
        if isinstance(widget, kinds) and widget.isVisibleTo(window) and widget.parent() is not None
        # the insides of a combo, a spin box or a line edit (its clear button)
        and not isinstance(widget.parent(), QComboBox | QAbstractSpinBox | QLineEdit)
        and not isinstance(widget, QHeaderView)  # part of its table
    ]  # fmt: skip
    names = Counter(widget.accessibleName() for widget in controls)
    unnamed = [
        f"{type(w).__name__} {w.objectName()!r} {getattr(w, 'text', lambda: '')()!r} in "
        f"{type(w.parent()).__name__}"
        for w in controls
        if not w.accessibleName()
    ]
    assert unnamed == []
    assert [name for name, count in names.items() if count > 1] == []


async def test_help_lists_the_shortcuts_the_window_has(window: Any) -> None:
    dialog = window.show_shortcuts()
    try:
        rows = {
            (dialog.table.item(row, 0).text(), dialog.table.item(row, 1).text())
            for row in range(dialog.table.rowCount())
        }
        assert ("Ctrl+L", "Type a number") in rows
        assert ("F2", "Edit contact") in rows
        assert ("Esc", "Clear the search (in the search)") in rows
    finally:
        dialog.close()
    about = window.show_about()
    try:
        assert str(window.profile.paths.log_dir) in about.text.text()
    finally:
        about.close()


def row_with_numbers(window: Any, at_least: int = 2) -> int:
    model = window.contacts_model
    return next(r for r in range(model.rowCount()) if len(model.contact(r).numbers) >= at_least)


async def test_enter_on_a_contact_with_several_numbers_offers_each(window: Any) -> None:
    await select_account(window, ProviderKind.DIGIDONAR)
    row = row_with_numbers(window)
    contact = window.contacts_model.contact(row)
    window.contacts_view.setFocus()
    window.contacts_view.selectRow(row)
    QTest.keyClick(window.contacts_view, Qt.Key.Key_Return)
    menu = window.number_picker
    assert menu is not None and menu.isVisible()
    assert len(menu.actions()) == len(contact.numbers)
    assert provider_requests(window) == []  # nothing placed before a number is chosen
    QTest.keyClick(menu, Qt.Key.Key_Down)
    QTest.keyClick(menu, Qt.Key.Key_Return)
    await until(lambda: len(provider_requests(window)) == 1)
    second = contact.numbers[1].number
    assert second.endswith(provider_requests(window)[0].query["calling_party_a"])


async def test_right_click_on_a_contact_lists_its_numbers_to_call(window: Any) -> None:
    await select_account(window, ProviderKind.DIGIDONAR)
    row = row_with_numbers(window)
    contact = window.contacts_model.contact(row)
    view = window.contacts_view
    view.scrollTo(window.contacts_model.index(row, 0))
    position = view.visualRect(window.contacts_model.index(row, 0)).center()
    view.customContextMenuRequested.emit(position)
    menu = window.number_picker
    assert menu is not None and menu.isVisible()
    texts = [action.text() for action in menu.actions()]
    assert texts[0].startswith(f"Call {contact.numbers[0].label}: ")
    menu.actions()[-1].trigger()
    await until(lambda: len(provider_requests(window)) == 1)
    assert contact.numbers[-1].number.endswith(
        provider_requests(window)[0].query["calling_party_a"]
    )
