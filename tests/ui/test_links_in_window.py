"""A link, another launch's number or the hotkey's selection in the real window: the
number entry filled, the contact it belongs to shown, Enter (or the setting) places it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.conftest import until
from tests.ui.test_main_window import provider_requests


def a_contact_number(window: Any) -> tuple[str, str]:
    """(name, E.164 number) of one of the demo contacts."""
    contact = window.profile.contacts.get(window.contacts_model.contact(0).id)
    return contact.name, contact.primary.number


async def test_a_link_fills_the_entry_and_names_the_contact_without_calling(window: Any) -> None:
    name, number = a_contact_number(window)
    window.dial_from_outside("tel:" + number.replace("+91", "+91-"))
    assert window.number.parsed() is not None
    assert window.number.parsed().e164 == number
    assert name in window.match_label.text() and window.match_label.isVisible()
    assert window.number.edit.hasFocus() or not window.isActiveWindow()
    assert "Press Enter to call" in window.messages.history[-1][1]
    assert provider_requests(window) == []  # the agent confirms first
    QTest.keyClick(window.number.edit, Qt.Key.Key_Return)
    await until(lambda: len(provider_requests(window)) == 1)


async def test_a_number_that_is_not_a_contact_says_so(window: Any) -> None:
    window.dial_from_outside("callto:+918867199999")
    assert window.match_label.text() == "Not in your contacts"


async def test_call_at_once_places_the_call_without_enter(window: Any) -> None:
    _name, number = a_contact_number(window)
    window.dial_from_outside(f"tel:{number}", at_once=True)
    await until(lambda: len(provider_requests(window)) == 1)


async def test_a_link_no_account_could_dial_is_refused_and_nothing_is_sent(window: Any) -> None:
    before = window.number.text()
    window.dial_from_outside("tel:7042;phone-context=pbx.example.com", at_once=True)
    level, text = window.messages.history[-1]
    assert level == "error" and "private dial plan 'pbx.example.com'" in text
    assert window.number.text() == before
    assert provider_requests(window) == []


async def test_a_sip_link_is_refused_clearly_where_the_provider_dials_numbers_only(
    window: Any,
) -> None:
    choose_account(window, "Demo C2C v2 (c2c-v2)")
    window.dial_from_outside("sip:1001@pbx.example.com", at_once=True)
    await until(lambda: bool(window.messages.history))
    level, text = window.messages.history[-1]
    assert level == "error" and "is a SIP address; this provider dials phone numbers only" in text
    assert provider_requests(window) == []


async def test_a_sip_link_is_called_on_kazoo(window: Any) -> None:
    choose_account(window, "Demo Kazoo (kazoo)")
    window.dial_from_outside("sip:1001@pbx.example.com", at_once=True)
    await until(lambda: len(provider_requests(window)) == 1)


def choose_account(window: Any, label: str) -> None:
    index = window.options.account_box.findText(label)
    assert index >= 0, label
    window.options.account_box.setCurrentIndex(index)
