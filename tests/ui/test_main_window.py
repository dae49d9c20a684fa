"""The real window against the real simulator: search, call, live list, options, errors."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallStatus
from dialer.simulator import Fault
from dialer.ui.history_model import CUSTOMER_COLUMN, DETAILS_COLUMN, STATUS_COLUMN
from tests.ui.conftest import until

pytestmark = pytest.mark.gui


def fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def sim_of(window: Any) -> Any:
    return window.profile.simulator


async def select_account(window: Any, kind: ProviderKind) -> None:
    """Pick the demo account of ``kind`` and let its bridge list load."""
    box = window.options.account_box
    for row in range(box.count()):
        account = next(a for a in window.profile.accounts.list() if a.name == box.itemData(row))
        if account.provider is kind:
            box.setCurrentIndex(row)
            await window.tasks.wait_idle()
            return
    raise AssertionError(kind)


def first_status(window: Any) -> CallStatus | None:
    """The status shown on the history's first row (live changes land within ~50 ms)."""
    model = window.history_panel.model
    return model.record(0).status if model.rowCount() else None


CALL_PATHS = ("voice/c2c", "click2call.php", "/connect", "click_to_call_v3")


def provider_requests(window: Any) -> list[Any]:
    """Requests that place calls (the tracker's report reads are not counted)."""
    return [
        r for r in sim_of(window).requests if r.provider is not None and r.path.endswith(CALL_PATHS)
    ]


async def test_demo_profile_fills_the_window(window: Any) -> None:
    assert window.contacts_model.rowCount() == 300
    assert window.options.account_box.count() == 4
    assert window.profile.demo
    assert "no real calls" in window.profile.label
    assert "demo" in window.windowTitle()


async def test_typing_two_letters_searches(window: Any) -> None:
    QTest.keyClicks(window.search_edit, "as")
    await until(lambda: 0 < window.contacts_model.rowCount() < 300)
    for row in range(window.contacts_model.rowCount()):
        contact = window.contacts_model.contact(row)
        assert "as" in fold(f"{contact.name} {contact.company}")
    assert window.contacts_view.currentIndex().row() == 0  # the first hit is selected


async def test_enter_on_a_contact_calls_its_primary_number(window: Any) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    contact = window.contacts_model.contact(0)
    window.contacts_view.setFocus()
    window.contacts_view.selectRow(0)
    QTest.keyClick(window.contacts_view, Qt.Key.Key_Return)
    await until(lambda: window.history_panel.model.rowCount() >= 1)
    # Accepted, or already past it: a busy machine may skip the accepted step on screen, but
    # every call the provider accepted keeps the provider's reference.
    await until(lambda: window.history_panel.model.record(0).provider_ref is not None)
    record = window.history_panel.model.record(0)
    assert record.customer == contact.primary.number
    [request] = provider_requests(window)
    assert request.json["to"] == contact.primary.number.lstrip("+")


async def test_the_live_list_shows_placing_then_accepted(window: Any) -> None:
    await select_account(window, ProviderKind.DIGIDONAR)
    # Long enough that "placing" is on screen however busy the machine is (the list shows
    # a new row within one 50 ms coalescing interval).
    sim_of(window).inject(Fault.latency(2.0))
    told: list[CallStatus] = []  # what the live list is told, in order (not what a busy
    window.events.changed.connect(lambda r: told.append(r.status))  # machine got to paint)
    window.number.set_text("+91 88671 35000")
    task = asyncio.ensure_future(window.call_number(window.number.text()))
    await until(lambda: window.history_panel.model.rowCount() == 1)
    assert told[0] is CallStatus.PLACING  # the row is there before the provider answers
    record = await task
    assert record is not None
    assert record.status is CallStatus.ACCEPTED
    # DigiDonar has no report API: the call says so instead of staying "in progress".
    await until(lambda: first_status(window) is CallStatus.NO_REPORT)
    assert "No report" in window.history_panel.model.index(0, STATUS_COLUMN).data()
    steps = [entry.status for entry in window.profile.history.timeline(record.id)]
    assert steps == [CallStatus.PLACING, CallStatus.ACCEPTED, CallStatus.NO_REPORT]
    # In order; a status may be told twice (another field of the call changed with it).
    assert [s for n, s in enumerate(told) if n == 0 or told[n - 1] is not s] == steps


async def test_flow_variables_bound_to_the_contact(window: Any) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    window.options.mode_box.setCurrentIndex(1)
    window.options.flow_box.setCurrentIndex(window.options.flow_box.findData("220"))
    window.contacts_view.selectRow(3)
    contact = window.selected_contact()
    record = await window.call_number(contact.primary.number)
    assert record is not None
    body = provider_requests(window)[0].json
    assert body["to"] == "flow:220"
    assert body["variables[Name]"] == contact.name
    assert body["variables[otp]"] == "12344"


async def test_missing_flow_value_blocks_the_call(window: Any) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    window.options.mode_box.setCurrentIndex(1)
    window.options.flow_box.setCurrentIndex(window.options.flow_box.findData("221"))
    window.contacts_view.selectRow(0)
    assert await window.call_number("+918867135000") is None
    level, text = window.messages.history[-1]
    assert level == "error"
    assert "order" in text
    assert provider_requests(window) == []


async def test_unsupported_options_are_disabled_with_a_reason(window: Any) -> None:
    await select_account(window, ProviderKind.CLICK2CALL_V1)
    options = window.options
    assert not options.record_box.isEnabled()
    assert "recording" in options.record_box.toolTip()
    assert not options.attempts_box.isEnabled()
    assert options.limit_box.isEnabled()  # v1 has a duration
    flow_item = options.mode_box.model().item(1)
    assert not flow_item.isEnabled()
    assert "IVR flows" in flow_item.toolTip()
    await select_account(window, ProviderKind.C2C_V2)
    assert options.record_box.isEnabled()
    assert options.mode_box.model().item(1).isEnabled()


async def test_window_stays_fluid_while_a_provider_is_slow(window: Any) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    sim_of(window).inject(Fault.latency(5))
    call = asyncio.ensure_future(window.call_number("+918867135000"))
    await until(lambda: window.history_panel.model.rowCount() == 1)
    QTest.keyClicks(window.search_edit, "ra")
    await until(lambda: window.contacts_model.rowCount() < 300)
    assert not call.done()  # the search ran and the table repainted while the call waits
    call.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await call


async def test_provider_failure_is_shown_inline(window: Any) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    sim_of(window).inject(Fault.failure_in_200("Insufficient balance"))
    assert await window.call_number("+918867135000") is None
    assert "Insufficient balance" in window.banner.text()
    assert window.banner.isVisible()
    await until(lambda: first_status(window) is CallStatus.FAILED)
    assert "Insufficient balance" in window.history_panel.model.index(0, DETAILS_COLUMN).data()


async def test_invalid_number_is_refused_before_sending(window: Any) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    assert await window.call_number("12") is None
    assert "too short" in window.messages.history[-1][1]
    assert provider_requests(window) == []
    assert window.history_panel.model.rowCount() == 0


async def test_a_second_click_does_not_call_twice(window: Any) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    sim_of(window).inject(Fault.latency(0.5))
    first = asyncio.ensure_future(window.call_number("+918867135000"))
    await until(lambda: window.history_panel.model.rowCount() == 1)
    assert await window.call_number("+91 88671 35000") is None
    assert "already being placed" in window.messages.history[-1][1]
    assert await first is not None
    assert len(provider_requests(window)) == 1


async def test_kazoo_bridges_are_listed_from_the_server(window: Any) -> None:
    await select_account(window, ProviderKind.KAZOO)
    await window.call_number("+918867135000")  # creates the agent's clicktocall
    await window.load_bridges(force=True)
    assert window.options.bridge_box.count() == 2  # the account's default, then the server's
    assert window.options.bridge_box.itemText(0) == "Mine (for my extension)"
    assert "Dialer" in window.options.bridge_box.itemText(1)


async def test_number_entry_formats_and_validates(window: Any) -> None:
    await select_account(window, ProviderKind.C2C_V2)
    window.number.edit.clear()
    window.number.edit.setFocus()
    QTest.keyClicks(window.number.edit, "+918867135000")
    assert window.number.edit.text() != "+918867135000"  # formatted as typed
    assert window.number.status.text().startswith("✓ +918867135000")
    window.number.edit.clear()
    QTest.keyClicks(window.number.edit, "+91 12")
    assert window.number.status.text().startswith("✗")


async def test_keyboard_shortcuts(window: Any) -> None:
    QTest.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.number.edit.hasFocus()
    QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.search_edit.hasFocus()


async def test_double_click_shows_the_request_without_secrets(window: Any) -> None:
    from PySide6.QtWidgets import QLabel

    from dialer.ui.call_details import CallDetailsDialog

    await select_account(window, ProviderKind.DIGIDONAR)
    record = await window.call_number("+918867135000")
    assert record is not None
    await until(lambda: window.history_panel.model.rowCount() == 1)
    index = window.history_panel.model.index(0, CUSTOMER_COLUMN)
    window.history_panel.view.activated.emit(index)
    [dialog] = window.findChildren(CallDetailsDialog)
    assert dialog.isVisible()
    request = dialog.request_text.toPlainText()
    assert "calling_party_a" in request
    assert "sim-digidonar-authcode" not in request
    assert "***" in request
    assert record.provider_ref in {label.text() for label in dialog.findChildren(QLabel)}
    dialog.close()


async def test_demo_calls_progress_live_to_their_outcome(window: Any) -> None:
    from dialer.simulator import Outcome

    await select_account(window, ProviderKind.KAZOO)
    record = await window.call_number("+918867135000")
    assert record is not None
    await until(lambda: first_status(window) is CallStatus.COMPLETED)
    sim_of(window).config.outcomes["918867135001"] = Outcome.BUSY
    await window.call_number("+918867135001")
    await until(lambda: first_status(window) is CallStatus.BUSY)
    assert window.history_panel.model.index(0, STATUS_COLUMN).data() == "Busy"


async def test_layout_account_and_bridge_are_remembered(demo_profile: Any, qapp: Any) -> None:
    from dialer.ui.main_window import MainWindow

    first = MainWindow(demo_profile)
    first.show()
    await first.start()
    await select_account(first, ProviderKind.C2C_V2)
    first.options.bridge_box.setCurrentIndex(1)
    first.main_splitter.setSizes([500, 120])
    sizes = first.main_splitter.sizes()
    first.close()
    await first.shutdown()
    first.deleteLater()

    second = MainWindow(demo_profile)
    second.show()
    await second.start()
    await second.tasks.wait_idle()
    try:
        account = second.options.account()
        assert account is not None and account.provider is ProviderKind.C2C_V2
        assert second.options.bridge_box.currentData() == "918068280001"
        assert second.main_splitter.sizes() == sizes
    finally:
        await second.shutdown()
        second.close()
        second.deleteLater()


async def test_a_search_finding_thousands_reads_no_contact_on_the_windows_thread(
    window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows shown first are read by the search's worker thread; fitting the columns
    looks at the rows on screen only (Qt's default reads the first 1,000 rows' cells)."""
    import threading

    from dialer.core.contacts import demo_contacts

    store = window.profile.contacts
    await asyncio.get_running_loop().run_in_executor(
        None, store.add_many, demo_contacts(3_000, seed=11)
    )
    read_here: list[int] = []
    get_many = store.get_many

    def counted(ids: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            read_here.append(len(ids))
        return get_many(ids)

    monkeypatch.setattr(store, "get_many", counted)
    await window.search("")
    window.contacts_view.viewport().repaint()  # paints and fits the columns now
    await asyncio.sleep(0.05)
    assert window.contacts_model.rowCount() == 3_300
    assert window.contacts_view.currentIndex().row() == 0
    assert window.contacts_model.index(0, 1).data()  # the first row is there to show
    assert read_here == []


@pytest.mark.parametrize(
    ("lang", "shown"),
    [("C.UTF-8", "No country (+code needed)"), ("en_IN.UTF-8", "IN +91")],
)
def test_the_country_defaults_to_the_systems_or_none(lang: str, shown: str) -> None:
    # Under LANG=C the first country of the list (Ascension, AC +247) used to be chosen.
    import os
    import subprocess
    import sys

    script = (
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from dialer.ui.number_entry import NumberEntry\n"
        "entry = NumberEntry()\n"
        "entry.set_region(None)  # an account without a region\n"
        "print(entry.country.currentText())\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LANG": lang, "LC_ALL": lang}
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == shown


@pytest.mark.allow_warnings_log(
    r"Task (bridges|call-7) failed",
    r"Unexpected error while (loading the bridges|placing the call)",
)
@pytest.mark.parametrize(
    ("task", "doing"), [("bridges", "loading the bridges"), ("call-7", "placing the call")]
)
async def test_an_unexpected_failure_of_a_task_says_what_the_window_was_doing(
    window: Any, task: str, doing: str
) -> None:
    async def fails() -> None:
        raise KeyError("no such thing")

    await window.tasks.wait_idle()
    window.tasks.start(task, fails())
    await window.tasks.wait_idle()
    assert window.messages.history[-1] == (
        "error",
        f"Something unexpected went wrong while {doing} (KeyError); the details are in the log",
    )


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        (
            ProviderKind.DIGIDONAR,
            "No desk phones set for this account: add them under Settings ▸ Accounts…",
        ),
        (
            ProviderKind.C2C_V2,
            "No bridge DIDs set for this account: add them under Settings ▸ Accounts…",
        ),
        (
            ProviderKind.KAZOO,
            "No clicktocalls yet: the first call makes one for the agent's number, or create "
            "one with Manage…",
        ),
    ],
)
async def test_an_account_without_bridges_is_told_by_the_providers_own_name_for_them(
    window: Any, kind: ProviderKind, sentence: str
) -> None:
    await select_account(window, kind)
    window.options.set_bridges([])
    assert window.options.bridge_state.text() == sentence
