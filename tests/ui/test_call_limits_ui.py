"""Call limits and the per-call provider options in the window: the account form's limits,
the sentence a call over a limit gets, the hold file (v1) and campaign id (DigiDonar) rows
shown only for their provider's accounts and sent on the wire."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from dialer.app.profile import Profile
from dialer.core.accounts import Account, ProviderKind
from dialer.core.limits import CallLimits
from tests.memory_keyring import MemoryKeyring
from tests.ui.test_accounts_dialog import (  # noqa: F401 (fixtures)
    gone,
    open_accounts,
    problem,
    seed,
    submit,
    user_profile,
)
from tests.ui.test_main_window import provider_requests, select_account, sim_of

pytestmark = pytest.mark.gui

SALES = Account(
    name="Sales",
    provider=ProviderKind.C2C_V2,
    url="https://c2c.example.com/",
    region="IN",
    bridges=("918068280000",),
    options={"webhook_id": "w1"},
)


async def test_the_account_form_edits_the_limits_and_allowed_numbers(
    parent: QWidget,
    user_profile: Profile,  # noqa: F811
    memory_keyring: MemoryKeyring,
) -> None:
    seed(user_profile, memory_keyring, SALES, "tok")
    session = await open_accounts(parent, user_profile)
    form = await session.form(edit="Sales")
    # An account that never set a limit shows the defaults.
    spins = (
        form.per_minute_spin,
        form.per_day_spin,
        form.agent_per_minute_spin,
        form.agent_per_day_spin,
    )
    assert [spin.value() for spin in spins] == [6, 500, 6, 500]
    assert form.per_minute_spin.isVisible() and form.allowed_edit.isVisible()
    form.per_minute_spin.setValue(3)
    form.agent_per_day_spin.setValue(0)
    assert form.agent_per_day_spin.text() == "No limit"
    QTest.keyClicks(form.allowed_edit, "+91 80*; 9122*")
    await submit(form)
    assert problem(form) == (
        "Allowed numbers: '9122*' is not a number pattern: write a number in international "
        "form, with a * at the end to allow every number that starts with it (for example "
        "+9180*)"
    )
    assert form.allowed_edit.hasFocus()
    assert user_profile.accounts.get("Sales").limits == CallLimits()  # nothing saved
    form.allowed_edit.setText("+91 80*, +9122*")
    await submit(form)
    assert gone(form)
    assert user_profile.accounts.get("Sales").limits == CallLimits(
        per_minute=3, agent_per_day=0, allowed_numbers=("+9180*", "+9122*")
    )
    form = await session.form(edit="Sales")
    assert form.allowed_edit.text() == "+9180*, +9122*"
    assert form.per_minute_spin.value() == 3
    form.reject()
    assert await session.close() is True


async def test_a_call_over_the_limit_shows_the_sentence_and_sends_nothing(window: Any) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    account = window.options.account()
    window.profile.accounts.update(replace(account, limits=CallLimits(per_minute=1)))
    assert await window.call_number("+918867135000") is not None
    assert await window.call_number("+918867135001") is None
    said = window.messages.history[-1][1]
    assert said.startswith(
        f"Account '{account.name}' may place at most 1 call a minute; the next call can be "
        "placed in "
    ), said
    assert said in window.banner.text()
    assert len(provider_requests(window)) == 1
    assert window.history_panel.model.rowCount() == 1


async def test_the_hold_file_row_is_shown_for_v1_and_sent_with_the_call(window: Any) -> None:
    options = window.options
    await select_account(window, ProviderKind.C2C_V2)
    assert not options.holdfile_edit.isVisible() and not options.campid_edit.isVisible()
    await select_account(window, ProviderKind.CLICK2CALL_V1)
    assert options.holdfile_edit.isVisible() and not options.campid_edit.isVisible()
    assert options.holdfile_edit.placeholderText() == "The account's: 1"
    assert await window.call_number("+918867135000") is not None
    QTest.keyClicks(options.holdfile_edit, "2")
    assert await window.call_number("+918867135001") is not None
    sent = [r.form.get("holdfile") for r in provider_requests(window)]
    assert sent == ["1", "2"]  # empty: the account's; else the one typed


async def test_the_campaign_row_is_shown_for_digidonar_and_sent_with_the_call(
    window: Any,
) -> None:
    options = window.options
    await select_account(window, ProviderKind.DIGIDONAR)
    assert options.campid_edit.isVisible() and not options.holdfile_edit.isVisible()
    assert options.campid_edit.placeholderText() == "No campaign"
    QTest.keyClicks(options.campid_edit, "4242")
    record = await window.call_number("+918867135000")
    assert record is not None
    assert record.message.endswith("(desk phone 1204000000)")
    options.campid_edit.setText("42x")
    assert await window.call_number("+918867135001") is None
    assert window.messages.history[-1][1] == (
        "The campaign id must be a whole number, for example 9995 (not '42x')"
    )
    assert [r.query.get("campid") for r in provider_requests(window)] == ["4242"]
    assert sim_of(window).calls[str(record.provider_ref)].extra["campaign"] == "4242"
