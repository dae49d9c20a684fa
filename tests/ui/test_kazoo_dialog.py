"""The clicktocalls dialog: real dialogs, offscreen, on the qasync loop, against the demo
profile's simulated Kazoo (seed 003): list and search, create with each check on its field,
edit that keeps the rest and refuses to undo someone else's change, delete after asking,
history page by page; reached from the Accounts dialog and from the bridge picker."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtWidgets import (
    QCheckBox,
    QDialogButtonBox,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QTableWidget,
    QWidget,
)
from shiboken6 import isValid

from dialer.app.profile import Profile
from dialer.core.accounts import Account, ProviderKind
from dialer.core.calls import CallOptions
from dialer.ui.accounts_dialog import AccountsDialog, edit_accounts
from dialer.ui.kazoo_dialog import (
    ClicktocallForm,
    ClicktocallHistory,
    ClicktocallsDialog,
    manage_clicktocalls,
)
from tests.ui.conftest import modal, until

pytestmark = pytest.mark.gui


def column(table: QTableWidget, index: int) -> list[str]:
    cells = [table.item(row, index) for row in range(table.rowCount())]
    return [cell.text() if cell is not None else "" for cell in cells]


def kazoo_account(profile: Profile) -> Account:
    return next(a for a in profile.accounts.list() if a.provider is ProviderKind.KAZOO)


class Session:
    def __init__(self, task: asyncio.Future[bool], dialog: ClicktocallsDialog):
        self.task = task
        self.dialog = dialog

    async def loaded(self) -> None:
        await until(lambda: not self.dialog.tasks.running("load"))

    def rows(self) -> list[str]:
        return column(self.dialog.table, 0)

    def select(self, name: str) -> None:
        self.dialog.table.selectRow(self.rows().index(name))

    async def close(self) -> bool:
        self.dialog.reject()
        return await asyncio.wait_for(self.task, 5)


async def open_clicktocalls(parent: QWidget, profile: Profile) -> Session:
    task = asyncio.ensure_future(manage_clicktocalls(parent, profile, kazoo_account(profile)))
    session = Session(task, await modal(ClicktocallsDialog))
    await session.loaded()
    return session


def line(form: ClicktocallForm, key: str) -> QLineEdit:
    widget = form.edits[key]
    assert isinstance(widget, QLineEdit)
    return widget


async def save(form: ClicktocallForm) -> None:
    form.save_button.click()
    await until(lambda: not form.tasks.running("save"))


def problem(form: ClicktocallForm) -> str:
    return form.error_label.text() if isValid(form) and form.error_label.isVisible() else ""


async def test_create_checks_each_field_before_sending_then_lists_the_new_one(
    parent: QWidget, demo_profile: Profile
) -> None:
    sim = demo_profile.simulator
    session = await open_clicktocalls(parent, demo_profile)
    assert session.rows() == []
    assert "No clicktocall yet" in session.dialog.status.text()
    session.dialog.new_button.click()
    form = await modal(ClicktocallForm)
    line(form, "name").setText("Sales line")
    line(form, "extension").setText("1001")
    line(form, "realm").setText("pbx.example.com")
    whitelist = form.edits["whitelist"]
    assert isinstance(whitelist, QPlainTextEdit)
    whitelist.setPlainText("^91\n(+44\n")
    throttle = form.edits["throttle"]
    assert isinstance(throttle, QSpinBox)
    throttle.setValue(2)
    sim.clear_requests()
    await save(form)
    assert problem(form).startswith("Whitelist entry 2: '(+44' is not a regular expression")
    assert whitelist.hasFocus()
    assert [r for r in sim.requests if r.method == "PUT"] == []  # nothing sent

    whitelist.setPlainText("^91\n^44")
    auth = form.edits["auth_required"]
    assert isinstance(auth, QCheckBox)
    assert auth.isChecked()  # Kazoo's safe default
    await save(form)
    assert not isValid(form) or not form.isVisible()
    [create] = [r for r in sim.requests if r.method == "PUT" and r.path.endswith("/clicktocall")]
    assert create.json == {
        "data": {
            "name": "Sales line",
            "extension": "1001",
            "realm": "pbx.example.com",
            "auth_required": True,
            "whitelist": ["^91", "^44"],
            "throttle": 2,
        }
    }
    await until(lambda: session.rows() == ["Sales line"])
    assert session.dialog.status.text().startswith("Created clicktocall Sales line (1001)")
    assert await session.close() is True


async def test_an_edit_keeps_the_rest_and_refuses_to_undo_a_change_made_meanwhile(
    parent: QWidget, demo_profile: Profile
) -> None:
    sim = demo_profile.simulator
    provider = await demo_profile.service.provider_for(kazoo_account(demo_profile))
    made = await provider.create_clicktocall(  # type: ignore[attr-defined]
        {"name": "Desk", "extension": "1001", "timeout": 45, "whitelist": ["^91"]}
    )
    session = await open_clicktocalls(parent, demo_profile)
    session.select("Desk")
    session.dialog.edit_button.click()
    form = await modal(ClicktocallForm)
    assert line(form, "extension").text() == "1001"
    line(form, "outbound_callee_id_name").setText("Kaveri Textiles")
    await save(form)
    assert sim.kazoo.clicktocalls[made["id"]]["outbound_callee_id_name"] == "Kaveri Textiles"
    assert sim.kazoo.clicktocalls[made["id"]]["timeout"] == 45  # not in the form: kept
    assert sim.kazoo.clicktocalls[made["id"]]["whitelist"] == ["^91"]
    await until(lambda: not session.dialog.tasks.running("form"))  # the list read again

    session.dialog.edit_button.click()
    form = await modal(ClicktocallForm)
    line(form, "name").setText("Mine")
    sim.kazoo.write_as_someone_else(made["id"], {"extension": "1002"})
    await save(form)
    assert "was changed on the server after you opened it" in problem(form)
    assert form.isVisible()  # nothing lost: the person sees why and decides
    assert sim.kazoo.clicktocalls[made["id"]]["extension"] == "1002"
    assert sim.kazoo.clicktocalls[made["id"]]["name"] == "Desk"
    form.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    await session.close()


async def test_search_delete_after_asking_and_history_in_pages(
    parent: QWidget, demo_profile: Profile
) -> None:
    sim = demo_profile.simulator
    account = kazoo_account(demo_profile)
    provider = await demo_profile.service.provider_for(account)
    desk = await provider.create_clicktocall({"name": "Desk", "extension": "919876543210"})  # type: ignore[attr-defined]
    await provider.create_clicktocall({"name": "Lobby", "extension": "1009"})  # type: ignore[attr-defined]
    for n in range(3):
        record = await demo_profile.service.place_call(
            f"+91886713500{n}", CallOptions(bridge=desk["id"]), account=account.name
        )
        assert record.provider_ref is not None
        await sim.wait_call_finished(record.provider_ref)
    session = await open_clicktocalls(parent, demo_profile)
    assert sorted(session.rows()) == ["Desk", "Lobby"]
    session.dialog.search.setText("lob")
    assert session.rows() == ["Lobby"]
    session.dialog.search.setText(desk["id"][:8])
    assert session.rows() == ["Desk"]

    session.select("Desk")
    session.dialog.history_page_size = 2
    session.dialog.history_button.click()
    history = await modal(ClicktocallHistory)
    await until(lambda: history.table.rowCount() == 2)
    assert column(history.table, 1) == ["918867135002", "918867135001"]
    assert history.more_button.isEnabled()
    history.more_button.click()
    await until(lambda: history.table.rowCount() == 3)
    assert not history.more_button.isEnabled()
    cdr_id, call_id = history.table.item(2, 3), history.table.item(2, 2)
    assert cdr_id is not None and call_id is not None
    assert cdr_id.text().endswith(call_id.text())  # the CDR of that leg
    history.reject()
    await until(lambda: not session.dialog.tasks.running("form"))

    session.dialog.search.clear()
    session.select("Lobby")
    session.dialog.delete_button.click()
    box = await modal(QMessageBox)
    box.button(QMessageBox.StandardButton.Cancel).click()
    await until(lambda: not session.dialog.tasks.running("form"))
    assert len(sim.kazoo.clicktocalls) == 2
    session.dialog.delete_button.click()
    box = await modal(QMessageBox)
    [delete] = [b for b in box.buttons() if b.text() == "Delete"]
    delete.click()
    await until(lambda: session.rows() == ["Desk"])
    assert set(sim.kazoo.clicktocalls) == {desk["id"]}
    assert await session.close() is True


async def test_the_accounts_dialog_offers_clicktocalls_for_kazoo_only(
    parent: QWidget, demo_profile: Profile
) -> None:
    task = asyncio.ensure_future(edit_accounts(parent, demo_profile))
    dialog = await modal(AccountsDialog)
    dialog.select("Demo C2C v2")
    assert not dialog.clicktocalls_button.isVisible()
    dialog.select(kazoo_account(demo_profile).name)
    assert dialog.clicktocalls_button.isVisible()
    dialog.clicktocalls_button.click()
    clicktocalls = await modal(ClicktocallsDialog)
    assert clicktocalls.windowTitle() == "Clicktocalls of Demo Kazoo"
    clicktocalls.reject()
    await until(lambda: not dialog.tasks.running("edit"))
    dialog.reject()
    await asyncio.wait_for(task, 5)


async def test_the_bridge_picker_defaults_to_the_agents_own_and_manages_the_rest(
    window: Any, demo_profile: Profile
) -> None:
    sim = demo_profile.simulator
    provider = await demo_profile.service.provider_for(kazoo_account(demo_profile))
    other = await provider.create_clicktocall({"name": "Priya", "extension": "1007"})  # type: ignore[attr-defined]
    box = window.options.account_box
    box.setCurrentIndex(box.findData(kazoo_account(demo_profile).name))
    await until(lambda: window.options.bridge_box.itemText(0) == "Mine (for my extension)")
    assert window.options.bridge_box.count() == 2
    assert window.options.options().bridge is None  # never another agent's by being first
    assert window.options.bridge_manage.isVisible()
    window.options.bridge_manage.click()
    dialog = await modal(ClicktocallsDialog)
    await until(lambda: not dialog.tasks.running("load"))
    dialog.new_button.click()
    form = await modal(ClicktocallForm)
    line(form, "name").setText("Desk 9")
    line(form, "extension").setText("1009")
    await save(form)
    await until(lambda: dialog.table.rowCount() == 2)
    dialog.reject()
    # The picker lists the new one once the dialog closes.
    await until(lambda: window.options.bridge_box.count() == 3)
    labels = [window.options.bridge_box.itemText(i) for i in range(3)]
    assert "Desk 9 (1009)" in labels and "Priya (1007)" in labels
    assert other["id"] in sim.kazoo.clicktocalls
