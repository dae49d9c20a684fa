"""What the window tells, as an agent meets it with the keyboard: a problem stays in the
banner, coloured and iconned by level, until its cause goes (the number edited, the next
call accepted, the close button); news goes to the status bar for a while and never to the
banner; the contact named under the number is that of the number shown."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from dialer.core.accounts import ProviderKind
from tests.ui.conftest import until
from tests.ui.test_main_window import provider_requests, select_account

pytestmark = pytest.mark.gui


def type_number(window: Any, text: str) -> None:
    edit = window.number.edit
    edit.setFocus()
    edit.selectAll()
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    QTest.keyClicks(edit, text)


async def test_a_problem_goes_when_its_number_is_edited_and_news_never_sits_in_the_banner(
    window: Any,
) -> None:
    await select_account(window, ProviderKind.DIGIDONAR)
    type_number(window, "hello")
    QTest.keyClick(window.number.edit, Qt.Key.Key_Return)
    await window.tasks.wait_idle()
    assert window.banner_row.isVisible()
    assert window.banner.text() == "✗ 'hello' contains letters; a phone number has only digits"
    assert window.banner.property("level") == "error"
    type_number(window, "+91 88671 35000")  # editing the number: that problem is gone
    assert not window.banner_row.isVisible()
    QTest.keyClick(window.number.edit, Qt.Key.Key_Return)
    await until(lambda: len(provider_requests(window)) == 1)
    await window.tasks.wait_idle()
    # The call's news is in the status bar, once, and not in the banner.
    assert window.statusBar().currentMessage().startswith("Call to +918867135000 accepted")
    assert not window.banner_row.isVisible()


async def test_the_next_call_accepted_ends_the_last_calls_problem_and_close_dismisses(
    window: Any,
) -> None:
    await select_account(window, ProviderKind.DIGIDONAR)
    window.messages.error("The provider refused the call", "call")
    assert window.banner_row.isVisible()
    await window.call_number("+91 88671 35000")
    assert not window.banner_row.isVisible()
    window.messages.warning("The global hotkey is off: another program has it")
    assert window.banner.text().startswith("⚠ ") and window.banner.property("level") == "warning"
    QTest.mouseClick(window.banner_close, Qt.MouseButton.LeftButton)
    assert not window.banner_row.isVisible()


async def test_the_contact_named_under_the_number_is_the_number_shown(window: Any) -> None:
    window.dial_from_outside("callto:+918867199999")
    assert window.match_label.isVisible() and window.match_label.text() == "Not in your contacts"
    window.contacts_view.setFocus()
    window.contacts_view.selectRow(2)  # fills the number with that contact's
    QTest.keyClick(window.contacts_view, Qt.Key.Key_Down)
    assert window.number.text() != "+918867199999"
    assert not window.match_label.isVisible()


async def test_an_invalid_number_line_is_coloured_as_an_error(window: Any) -> None:
    type_number(window, "1234 5")
    assert window.number.status.text().startswith("✗ ")
    assert window.number.status.property("level") == "error"
    type_number(window, "+91 88671 35000")
    assert window.number.status.property("level") == "ok"
