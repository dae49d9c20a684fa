"""The live call card and the Call button, driven by real clicks against the simulator: who
is being called, which leg rings, a running talk timer, what comes next; the button says
"Placing…" while a slow provider has the request."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallStatus
from dialer.simulator import Fault
from dialer.ui.call_card import call_lines
from dialer.ui.contacts_model import display_number
from tests.ui.conftest import until
from tests.ui.test_main_window import provider_requests, select_account, sim_of

pytestmark = pytest.mark.gui


async def test_the_card_follows_the_call_placed_and_the_button_is_busy_meanwhile(
    window: Any,
) -> None:
    await select_account(window, ProviderKind.DIGIDONAR)
    sim_of(window).inject(Fault.latency(1.5))  # a slow provider
    contact = window.contacts_model.contact(0)
    window.number.set_text(contact.primary.number)
    QTest.mouseClick(window.call_button, Qt.MouseButton.LeftButton)
    await until(window.call_card.isVisible)
    card = window.call_card
    assert card.title.text().startswith("Calling ") and contact.name in card.title.text()
    assert card.leg.text() == "Sending the call to the provider…"
    assert "rings first" in card.next.text()  # DigiDonar rings the customer first
    assert window.call_button.text() == "Placing…" and not window.call_button.isEnabled()
    await window.tasks.wait_idle()
    assert len(provider_requests(window)) == 1
    assert window.call_button.text() == "Call" and window.call_button.isEnabled()
    # DigiDonar reports no outcome: the card says so once the tracker concludes.
    await until(lambda: card.record.status is CallStatus.NO_REPORT)
    assert card.leg.text() == "Placed: the provider reports no outcome"


async def test_the_card_walks_the_legs_and_times_the_talk(window: Any) -> None:
    from dialer.history import CallRecord

    # A call whose provider reports each leg (the steps stored as a tracker stores them).
    history = window.profile.history
    record = await history.insert(
        CallRecord(
            id="card-call",
            account="Demo C2C v2",
            provider="c2c-v2",
            customer="+918867135000",
            agent="+919876543210",
            status=CallStatus.ACCEPTED,
        )
    )
    card = window.call_card
    card.follow(record, who="Lakshmi Sharma")
    assert card.title.text() == "Calling +91 88671 35000 (Lakshmi Sharma)"
    agent = display_number(record.agent or "")
    record = await history.amend(record, status=CallStatus.RINGING_AGENT)
    await until(lambda: card.leg.text() == f"{agent} is ringing (your phone)")
    record = await history.amend(record, status=CallStatus.RINGING_CUSTOMER)
    await until(lambda: card.leg.text() == "+91 88671 35000 is ringing")
    record = await history.amend(record, status=CallStatus.CONNECTED)
    await until(lambda: card.leg.text().startswith("Connected: 0:0"))
    await until(lambda: card.leg.text() != "Connected: 0:00", timeout=5)  # the timer runs
    assert card.leg.property("level") == "ok"
    record = await history.amend(record, status=CallStatus.COMPLETED, talk_seconds=75)
    await until(lambda: card.leg.text() == "Completed, talk 1:15")
    assert not card._timer.isActive()
    # The next call placed here takes the card over.
    await select_account(window, ProviderKind.DIGIDONAR)
    other = await window.call_number("+91 88671 35001")
    assert other is not None and card.record.id == other.id


def test_the_card_says_the_order_and_the_outcome_in_words() -> None:
    from dialer.history import CallRecord

    call = CallRecord(
        id="c", account="a", provider="c2c-v2", customer="+918867135000", agent="+919876543210"
    )
    leg, coming, _ = call_lines(call, customer_first=False, connected_for=None)
    assert (leg, coming) == (
        "Sending the call to the provider…",
        "+91 98765 43210 rings first, then +91 88671 35000",
    )
    busy = call_lines(
        CallRecord(id="c", account="a", provider="c2c-v2", customer="+918867135000",
                   status=CallStatus.BUSY, cause="BUSY/ANSWER/BUSY"),
        customer_first=False, connected_for=None,
    )  # fmt: skip
    assert busy == ("Busy", "BUSY/ANSWER/BUSY", "warning")
