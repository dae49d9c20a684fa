"""The Accounts dialog: real dialogs, offscreen, on the qasync loop, against real stores.

A user profile (TOML accounts + the in-memory keyring behind ``KeyringSecretStore``) checks
what is saved where; the demo profile's in-process simulator answers connection tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QWidget,
)
from shiboken6 import isValid

from dialer.app.profile import Profile, open_user_profile
from dialer.core.accounts import Account, AccountStore, ProviderKind, StaticAccounts
from dialer.core.flows import demo_flows
from dialer.core.numbers import NumberFormat
from dialer.core.paths import AppPaths
from dialer.core.secrets import NO_KEYRING_HELP, KeyringSecretStore, MemorySecretStore
from dialer.simulator import Fault
from dialer.ui.accounts_dialog import (
    DEMO_NOTE,
    NO_CHECK_SENTENCE,
    AccountFields,
    AccountForm,
    AccountsDialog,
    FieldError,
    account_from_fields,
    edit_accounts,
)
from tests.memory_keyring import MemoryKeyring
from tests.ui.conftest import modal, until

pytestmark = pytest.mark.gui

SERVICE = "dialer"


@pytest.fixture
async def user_profile(tmp_path: Path) -> AsyncIterator[Profile]:
    profile = open_user_profile(AppPaths.under(tmp_path / "user"))
    assert isinstance(profile.accounts, AccountStore)
    assert isinstance(profile.secrets, KeyringSecretStore)
    yield profile
    await profile.aclose()


@pytest.fixture(params=["fail", "null"])
def no_keyring(request: pytest.FixtureRequest, memory_keyring: MemoryKeyring) -> str:
    """No keyring that keeps secrets: one that refuses (fail), or one that accepts and drops
    them (null). After memory_keyring, which puts the previous backend back at the end."""
    if request.param == "fail":
        keyring.set_keyring(keyring.backends.fail.Keyring())
    else:
        keyring.set_keyring(keyring.backends.null.Keyring())
    return str(request.param)


class Session:
    """An open Accounts dialog and the task of ``edit_accounts`` behind it."""

    def __init__(self, task: asyncio.Future[bool], dialog: AccountsDialog):
        self.task = task
        self.dialog = dialog

    async def form(self, *, edit: str | None = None) -> AccountForm:
        if edit is None:
            self.dialog.add_button.click()
        else:
            self.dialog.select(edit)
            self.dialog.edit_button.click()
        return await modal(AccountForm)

    async def close(self) -> bool:
        self.dialog.buttons.button(QDialogButtonBox.StandardButton.Close).click()
        return await asyncio.wait_for(self.task, 5)


async def open_accounts(parent: QWidget, profile: Profile) -> Session:
    task = asyncio.ensure_future(edit_accounts(parent, profile))
    return Session(task, await modal(AccountsDialog))


def choose(form: AccountForm, kind: ProviderKind) -> None:
    form.provider_box.setCurrentIndex(form.provider_box.findData(str(kind)))


async def submit(form: AccountForm) -> None:
    """Click Add/Save and wait until the form has saved (and closed) or said why not."""
    dialog = form.parent()
    form.save_button.click()
    await form.tasks.wait_idle()
    if gone(form) and isinstance(dialog, AccountsDialog):
        await dialog.tasks.wait_idle()  # the list is refreshed once the form has closed


def problem(form: AccountForm) -> str:
    if not isValid(form) or not form.error_label.isVisible():
        return ""
    return str(form.error_label.text())


def gone(form: AccountForm) -> bool:
    """The form closed (and may already be deleted)."""
    return not isValid(form) or not form.isVisible()


def entries(backend: MemoryKeyring) -> dict[str, str]:
    return {user: value for (service, user), value in backend.entries.items() if service == SERVICE}


def fill(form: AccountForm, values: dict[str, str]) -> None:
    widgets = {**form.field_widgets}
    for key, value in values.items():
        widget = widgets[key]
        if isinstance(widget, QPlainTextEdit):
            widget.setPlainText(value)
        else:
            assert isinstance(widget, QLineEdit)
            widget.clear()
            if value.isascii() and value.isprintable():
                QTest.keyClicks(widget, value)
            else:  # pasted: QTest has no key for a control or non-ASCII character (aborts)
                widget.setText(value)


def visible_rows(form: AccountForm) -> set[str]:
    return {key for key, widget in form.field_widgets.items() if widget.isVisible()}


def seed(profile: Profile, backend: MemoryKeyring, account: Account, secret: str) -> None:
    profile.accounts.add(account)
    backend.entries[SERVICE, account.secret_key] = secret


COMMON = {"name", "provider", "url", "secret", "region", "agent", "allowed_numbers"}
ADD_CASES = [
    pytest.param(
        ProviderKind.C2C_V2,
        {
            "name": "Sales C2C",
            "url": "https://c2c.example.com/api/v2",
            "secret": "tok-c2c-123",
            "region": "in",
            "agent": "+91 98765 43210",
            "bridges": "918068280000\n\n 918068280001 \n",
            "webhook_id": "hook-7",
            "webhook_secret": "hook-secret-77",
        },
        "API token",
        COMMON | {"bridges", "webhook_id", "webhook_secret", "reports_by", "time_zone"},
        id="c2c-v2",
    ),
    pytest.param(
        ProviderKind.CLICK2CALL_V1,
        {
            "name": "Legacy",
            "url": "https://legacy.example.com/",
            "secret": "pin-9876",
            "region": "IN",
            "agent": "09876543210",
            "uid": "u-42",
            "holdfile": "3",
        },
        "API PIN",
        COMMON | {"uid", "holdfile"},
        id="click2call-v1",
    ),
    pytest.param(
        ProviderKind.KAZOO,
        {
            "name": "Kazoo office",
            "url": "https://kazoo.example.com:8443",
            "secret": "kazoo-password-1",
            "agent": "sip:agent@pbx.example.com",
            "kazoo_account": "0123456789abcdef0123456789abcdef",
            "kazoo_user": "agent",
            "kazoo_account_name": "acme",
        },
        "Password",
        COMMON
        | {
            "kazoo_account",
            "kazoo_api",
            "kazoo_user",
            "kazoo_account_name",
            "kazoo_clicktocall",
            "kazoo_auth_required",
        },
        id="kazoo",
    ),
    pytest.param(
        ProviderKind.DIGIDONAR,
        {
            "name": "Digi",
            "url": "https://digi.example.com/",
            "secret": "authcode-55",
            "region": "IN",
            "agent": "+919876543210",
            "bridges": "01204000000",
            "campid": "9995",
        },
        "Authcode",
        COMMON | {"bridges", "campid"},
        id="digidonar",
    ),
]


@pytest.mark.parametrize(("kind", "values", "secret_name", "rows"), ADD_CASES)
async def test_add_an_account_of_each_provider(
    parent: QWidget,
    user_profile: Profile,
    memory_keyring: MemoryKeyring,
    kind: ProviderKind,
    values: dict[str, str],
    secret_name: str,
    rows: set[str],
) -> None:
    session = await open_accounts(parent, user_profile)
    form = await session.form()
    choose(form, kind)
    assert visible_rows(form) >= rows
    hidden = set(form.field_widgets) - rows - {"connect_timeout", "read_timeout"}
    assert not visible_rows(form) & hidden  # the other providers' rows are hidden
    fill(form, values)
    assert form.secret_label.text() == secret_name
    assert form.secret_edit.echoMode() is form.secret_edit.EchoMode.Password
    form.format_box.setCurrentIndex(form.format_box.findData("e164"))
    form.read_spin.setValue(20)
    await submit(form)
    assert problem(form) == ""
    assert gone(form)
    assert session.dialog.selected_name() == values["name"]
    assert await session.close() is True

    account = user_profile.accounts.get(values["name"])
    assert account.provider is kind
    assert account.url.endswith("/")
    assert account.number_format is NumberFormat.E164
    assert account.read_timeout == 20
    assert not account.demo
    stored = {account.secret_key: values["secret"]}
    if "webhook_secret" in values:
        stored[account.webhook_secret_key] = values["webhook_secret"]
    assert entries(memory_keyring) == stored
    text = user_profile.paths.accounts_file.read_text(encoding="utf-8")
    assert values["secret"] not in text
    assert values.get("webhook_secret", values["secret"]) not in text
    if kind is ProviderKind.C2C_V2:
        assert account.region == "IN"
        assert account.bridges == ("918068280000", "918068280001")
        assert account.options == {"webhook_id": "hook-7", "reports_by": "webhook_id"}
    elif kind is ProviderKind.CLICK2CALL_V1:
        assert account.bridges == ()
        assert account.options == {"uid": "u-42", "holdfile": "3"}
        assert account.agent == "09876543210"
    elif kind is ProviderKind.KAZOO:
        assert account.options == {
            "kazoo_account": "0123456789abcdef0123456789abcdef",
            "kazoo_api": "v2",
            "kazoo_user": "agent",
            "kazoo_account_name": "acme",
            "kazoo_auth_required": "yes",  # a choice's default is saved as chosen
        }
        assert account.bridges == ()  # the clicktocall is a setting, not a list
        assert account.url == "https://kazoo.example.com:8443/"
    else:
        assert account.options == {"campid": "9995"}
        assert account.bridges == ("01204000000",)


async def test_kazoo_secret_is_an_api_key_without_a_user_login(
    parent: QWidget, user_profile: Profile, memory_keyring: MemoryKeyring
) -> None:
    session = await open_accounts(parent, user_profile)
    form = await session.form()
    choose(form, ProviderKind.KAZOO)
    assert form.secret_label.text() == "API key"
    QTest.keyClicks(form.option_edits["kazoo_user"], "agent")
    assert form.secret_label.text() == "Password"
    form.option_edits["kazoo_user"].clear()
    assert form.secret_label.text() == "API key"
    fill(form, {"name": "K", "url": "https://k.example.com", "secret": "key-1"})
    fill(form, {"kazoo_account": "acc1"})
    form.option_boxes["kazoo_api"].setCurrentIndex(form.option_boxes["kazoo_api"].findData("v1"))
    QTest.keyClick(form.url_edit, Qt.Key.Key_Return)  # Enter saves
    await form.tasks.wait_idle()
    assert gone(form)
    assert await session.close()
    account = user_profile.accounts.get("K")
    assert account.options == {
        "kazoo_account": "acc1",
        "kazoo_api": "v1",
        "kazoo_auth_required": "yes",
    }
    assert entries(memory_keyring) == {"account:K": "key-1"}


async def test_a_c2c_v2_account_takes_reports_by_subscription_in_its_time_zone(
    parent: QWidget, user_profile: Profile, memory_keyring: MemoryKeyring
) -> None:
    session = await open_accounts(parent, user_profile)
    form = await session.form()
    choose(form, ProviderKind.C2C_V2)
    assert {"reports_by", "time_zone"} <= visible_rows(form)
    reports = form.option_boxes["reports_by"]
    assert reports.currentData() == "webhook_id"  # as before: sent with each call
    assert [reports.itemText(i) for i in range(reports.count())] == [
        "webhook_id sent with each call",
        "by subscription (no webhook_id sent)",
    ]
    fill(form, {**VALID_C2C, "bridges": "918068280000", "time_zone": "Asia/Kolkata"})
    reports.setCurrentIndex(reports.findData("subscription"))
    await submit(form)
    assert problem(form) == ""
    assert await session.close() is True
    account = user_profile.accounts.get("Shop")
    assert account.options == {"reports_by": "subscription", "time_zone": "Asia/Kolkata"}
    # Opened again, the form shows what was saved.
    session = await open_accounts(parent, user_profile)
    form = await session.form(edit="Shop")
    assert form.option_boxes["reports_by"].currentData() == "subscription"
    assert form.option_edits["time_zone"].text() == "Asia/Kolkata"
    form.reject()
    await session.close()


VALID_V1 = {
    "name": "Legacy",
    "url": "https://legacy.example.com/",
    "secret": "pin-1",
    "region": "IN",
    "agent": "+91 98765 43210",
    "uid": "u-1",
}
VALID_C2C = {
    "name": "Shop",
    "url": "https://c2c.example.com/api/v2/",
    "secret": "token-1234567",
    "region": "IN",
    "agent": "+91 98765 43210",
}


@pytest.mark.parametrize(
    ("kind", "changes", "field", "says"),
    [
        (ProviderKind.CLICK2CALL_V1, {"name": "   "}, "name", "Give the account a name"),
        (ProviderKind.CLICK2CALL_V1, {"uid": ""}, "uid", "needs its uid"),
        (ProviderKind.KAZOO, {}, "kazoo_account", "needs its Kazoo account id"),
        (ProviderKind.CLICK2CALL_V1, {"secret": ""}, "secret", "Type the account's API PIN"),
        (ProviderKind.CLICK2CALL_V1, {"url": ""}, "url", "Enter the provider's base URL"),
        (ProviderKind.CLICK2CALL_V1, {"url": "ftp://x.example"}, "url", "not an http(s) URL"),
        (
            ProviderKind.CLICK2CALL_V1,
            {"url": "https://user:pw@x.example/"},
            "url",
            "must not carry user names",
        ),
        (ProviderKind.CLICK2CALL_V1, {"region": "XX"}, "region", "Region: 'XX' is not a country"),
        (ProviderKind.CLICK2CALL_V1, {"agent": "12"}, "agent", "Agent number: '12' is too short"),
        (
            ProviderKind.CLICK2CALL_V1,
            {"agent": "sip:me@pbx.example"},
            "agent",
            "phone numbers only",
        ),
        (
            ProviderKind.CLICK2CALL_V1,
            {"url": "http://legacy.example.com/"},
            "url",
            "Refusing plain http:// to legacy.example.com",
        ),
        # Secrets the wire cannot carry: refused before the keyring is touched.
        (ProviderKind.CLICK2CALL_V1, {"secret": " pin-1"}, "secret", "API PIN has spaces"),
        (ProviderKind.CLICK2CALL_V1, {"secret": "pin\x07-1"}, "secret", "control character"),
        (ProviderKind.C2C_V2, {"secret": "tök-1234567"}, "secret", "outside ASCII"),
        (ProviderKind.C2C_V2, {"secret": "tok 1234567"}, "secret", "API token has a space"),
        (
            ProviderKind.C2C_V2,
            {"webhook_secret": "s3cr3t w0rd"},
            "webhook_secret",
            "webhook secret has a space",
        ),
        (
            ProviderKind.C2C_V2,
            {"time_zone": "Asia/Calcutta Standard"},
            "time_zone",
            "Time zone: 'Asia/Calcutta Standard' is not a time zone name this machine knows",
        ),
    ],
)
async def test_invalid_input_is_one_sentence_inline_and_nothing_is_saved(
    parent: QWidget,
    user_profile: Profile,
    memory_keyring: MemoryKeyring,
    kind: ProviderKind,
    changes: dict[str, str],
    field: str,
    says: str,
) -> None:
    session = await open_accounts(parent, user_profile)
    form = await session.form()
    choose(form, kind)
    valid = VALID_V1 if kind is ProviderKind.CLICK2CALL_V1 else VALID_C2C
    values = {k: v for k, v in {**valid, **changes}.items() if k in visible_rows(form)}
    fill(form, values)
    await submit(form)
    assert says in problem(form)
    for secret in (changes.get("secret"), changes.get("webhook_secret")):
        assert not secret or secret not in problem(form)  # never quoted back
    assert "\n" not in problem(form)
    assert "Traceback" not in problem(form)
    assert form.isVisible()  # still open, to fix it
    assert form.field_widgets[field].hasFocus()
    assert not user_profile.paths.accounts_file.exists()
    assert entries(memory_keyring) == {}
    form.reject()
    assert await session.close() is False


async def test_plain_http_to_a_remote_host_needs_the_box_ticked(
    parent: QWidget, user_profile: Profile, memory_keyring: MemoryKeyring
) -> None:
    session = await open_accounts(parent, user_profile)
    form = await session.form()
    choose(form, ProviderKind.CLICK2CALL_V1)
    fill(form, {**VALID_V1, "url": "http://10.1.2.3/c2c"})
    assert "unencrypted" in form.insecure_note.text()  # the risk is explained beside the box
    assert form.insecure_note.isVisible()
    await submit(form)
    assert "Refusing plain http:// to 10.1.2.3" in problem(form)
    assert "tick 'Allow plain http:// to a remote server (insecure)' if" in problem(form)
    assert entries(memory_keyring) == {}
    form.insecure_box.setChecked(True)
    await submit(form)
    assert gone(form)
    assert await session.close()
    account = user_profile.accounts.get("Legacy")
    assert account.allow_insecure_http
    assert account.url == "http://10.1.2.3/c2c/"


async def test_plain_http_to_loopback_needs_no_consent(
    parent: QWidget, user_profile: Profile
) -> None:
    session = await open_accounts(parent, user_profile)
    form = await session.form()
    choose(form, ProviderKind.CLICK2CALL_V1)
    fill(form, {**VALID_V1, "url": "http://127.0.0.1:8080/v1"})
    await submit(form)
    assert gone(form)
    assert await session.close()
    assert not user_profile.accounts.get("Legacy").allow_insecure_http


async def test_an_existing_name_is_refused(
    parent: QWidget, user_profile: Profile, memory_keyring: MemoryKeyring
) -> None:
    old = Account(name="Legacy", provider=ProviderKind.DIGIDONAR, url="https://d.example/")
    seed(user_profile, memory_keyring, old, "old-code")
    session = await open_accounts(parent, user_profile)
    form = await session.form()
    choose(form, ProviderKind.CLICK2CALL_V1)
    fill(form, VALID_V1)
    await submit(form)
    assert problem(form) == "An account named 'Legacy' already exists"
    assert entries(memory_keyring) == {"account:Legacy": "old-code"}  # not overwritten
    form.reject()
    assert await session.close() is False
    assert user_profile.accounts.get("Legacy") == old


async def test_edit_without_a_new_secret_keeps_the_stored_one(
    parent: QWidget, user_profile: Profile, memory_keyring: MemoryKeyring
) -> None:
    old = Account(
        name="Sales",
        provider=ProviderKind.C2C_V2,
        url="https://c2c.example.com/",
        region="IN",
        bridges=("918068280000",),
        options={"webhook_id": "w1", "future_setting": "x"},
    )
    seed(user_profile, memory_keyring, old, "tok-old")
    session = await open_accounts(parent, user_profile)
    form = await session.form(edit="Sales")
    assert form.secret_edit.text() == ""  # a stored secret is never shown
    assert "keep the stored API token" in form.secret_edit.placeholderText()
    assert form.name_edit.isReadOnly()
    assert form.bridges_edit.toPlainText() == "918068280000"
    assert form.option_edits["webhook_id"].text() == "w1"
    fill(form, {"agent": "+91 98765 43210"})
    await submit(form)
    assert gone(form)
    account = user_profile.accounts.get("Sales")
    assert account.agent == "+91 98765 43210"
    # The form's choices are saved as shown (reports_by's default, here).
    assert account.options == {
        "webhook_id": "w1",
        "reports_by": "webhook_id",
        "future_setting": "x",
    }
    assert entries(memory_keyring) == {"account:Sales": "tok-old"}

    form = await session.form(edit="Sales")
    fill(form, {"secret": "tok-new"})
    await submit(form)
    assert gone(form)
    assert await session.close() is True
    assert entries(memory_keyring) == {"account:Sales": "tok-new"}
    assert "tok-new" not in user_profile.paths.accounts_file.read_text(encoding="utf-8")


async def test_changing_the_provider_needs_a_new_secret(
    parent: QWidget, user_profile: Profile, memory_keyring: MemoryKeyring
) -> None:
    old = Account(name="Desk", provider=ProviderKind.C2C_V2, url="https://c2c.example.com/")
    seed(user_profile, memory_keyring, old, "tok-old")
    session = await open_accounts(parent, user_profile)
    form = await session.form(edit="Desk")
    choose(form, ProviderKind.DIGIDONAR)
    assert form.secret_edit.placeholderText() == "required"
    await submit(form)
    assert "Type the DigiDonar authcode" in problem(form)
    assert user_profile.accounts.get("Desk") == old
    fill(form, {"secret": "code-1"})
    await submit(form)
    assert gone(form)
    assert await session.close()
    assert user_profile.accounts.get("Desk").provider is ProviderKind.DIGIDONAR
    assert entries(memory_keyring) == {"account:Desk": "code-1"}


async def test_remove_asks_then_deletes_keyring_entry_account_and_flows(
    parent: QWidget, user_profile: Profile, memory_keyring: MemoryKeyring
) -> None:
    keep = Account(name="Keep", provider=ProviderKind.DIGIDONAR, url="https://d.example/")
    gone = Account(name="Gone", provider=ProviderKind.C2C_V2, url="https://c.example/")
    seed(user_profile, memory_keyring, keep, "code-keep")
    seed(user_profile, memory_keyring, gone, "tok-gone")
    for flow in demo_flows("Gone"):
        user_profile.flows.save(flow)
    assert user_profile.flows.list("Gone")
    session = await open_accounts(parent, user_profile)
    # DigiDonar has no IVR flows: the question does not say they go too.
    session.dialog.select("Keep")
    session.dialog.remove_button.click()
    box = await modal(QMessageBox)
    assert box.text() == "Remove the account 'Keep'? Its stored authcode is deleted too."
    box.button(QMessageBox.StandardButton.Cancel).click()
    await session.dialog.tasks.wait_idle()
    session.dialog.select("Gone")

    session.dialog.remove_button.click()
    box = await modal(QMessageBox)
    assert box.text() == (
        "Remove the account 'Gone'? Its stored API token and its IVR flows are deleted too."
    )
    box.button(QMessageBox.StandardButton.Cancel).click()
    await session.dialog.tasks.wait_idle()
    assert [a.name for a in user_profile.accounts.list()] == ["Keep", "Gone"]
    assert len(entries(memory_keyring)) == 2

    session.dialog.remove_button.click()
    box = await modal(QMessageBox)
    [remove] = [b for b in box.buttons() if b.text() == "Remove"]
    remove.click()
    await session.dialog.tasks.wait_idle()
    assert [a.name for a in user_profile.accounts.list()] == ["Keep"]
    assert entries(memory_keyring) == {"account:Keep": "code-keep"}
    assert user_profile.flows.list("Gone") == []
    assert session.dialog.account_list.count() == 1
    assert "Removed account 'Gone'" in session.dialog.status.text()
    assert await session.close() is True


async def test_no_keyring_is_explained_inline_and_nothing_is_saved(
    parent: QWidget, user_profile: Profile, no_keyring: str
) -> None:
    session = await open_accounts(parent, user_profile)
    form = await session.form()
    choose(form, ProviderKind.CLICK2CALL_V1)
    fill(form, VALID_V1)
    await submit(form)
    if no_keyring == "fail":
        assert problem(form) == NO_KEYRING_HELP
    else:  # it said yes and kept nothing: read back, and refused at once
        assert "accepted the secret but did not keep it" in problem(form)
    assert "PYTHON_KEYRING_BACKEND" in problem(form)  # the text names the fix
    assert form.isVisible()
    assert form.save_button.isEnabled()
    assert not user_profile.paths.accounts_file.exists()
    QTest.keyClick(form, Qt.Key.Key_Escape)  # Esc cancels
    await until(lambda: gone(form))
    assert await session.close() is False
    assert user_profile.accounts.list() == []


# -- the demo profile and Test connection ---------------------------------------------------


async def test_demo_accounts_are_edited_in_memory(
    parent: QWidget, demo_profile: Profile, memory_keyring: MemoryKeyring
) -> None:
    assert isinstance(demo_profile.accounts, StaticAccounts)
    assert isinstance(demo_profile.secrets, MemorySecretStore)
    session = await open_accounts(parent, demo_profile)
    notes = [label.text() for label in session.dialog.findChildren(QLabel)]
    assert DEMO_NOTE in notes
    assert session.dialog.account_list.count() == 4
    form = await session.form()
    choose(form, ProviderKind.DIGIDONAR)
    fill(form, {"name": "Mine", "url": "https://digi.example/", "secret": "code-mine"})
    await submit(form)
    assert gone(form)
    assert await session.close() is True
    account = demo_profile.accounts.get("Mine")
    assert account.demo
    assert demo_profile.secrets.get(account.secret_key) == "code-mine"
    assert entries(memory_keyring) == {}
    assert not demo_profile.paths.accounts_file.exists()


async def run_test(tester: Any) -> str:
    tester.test_button.click()
    await until(lambda: not tester.running and tester.ok is not None, timeout=10)
    return str(tester.result.text())


@pytest.mark.parametrize(
    ("name", "ok", "says"),
    [
        ("Demo C2C v2", True, "C2C v2 accepted the API token (signed in as Simulator)"),
        ("Demo Click2Call v1", True, "Click2Call v1 accepted the uid and PIN"),
        ("Demo Kazoo", True, "Kazoo accepted the credentials"),
        ("Demo DigiDonar", False, NO_CHECK_SENTENCE),
    ],
)
async def test_test_connection_of_a_saved_account(
    parent: QWidget, demo_profile: Profile, name: str, ok: bool, says: str
) -> None:
    session = await open_accounts(parent, demo_profile)
    session.dialog.select(name)
    tester = session.dialog.tester
    assert says in await run_test(tester)
    assert tester.ok is ok
    assert tester.test_button.isEnabled()
    assert not tester.cancel_button.isVisible()
    assert demo_profile.simulator.calls == {}  # nothing was dialled
    assert await session.close() is False


async def test_test_connection_uses_the_form_as_edited(
    parent: QWidget, demo_profile: Profile
) -> None:
    session = await open_accounts(parent, demo_profile)
    form = await session.form(edit="Demo Kazoo")
    fill(form, {"secret": "wrong-key"})
    said = await run_test(form.tester)
    assert said.startswith("Kazoo refused the account's credentials")
    assert "wrong-key" not in said
    assert form.tester.ok is False
    form.secret_edit.clear()  # back to the stored key
    assert "Kazoo accepted the credentials" in await run_test(form.tester)
    fill(form, {"url": "https://"})
    assert "not an http(s) URL" in await run_test(form.tester)  # the form's own check
    form.reject()
    assert await session.close() is False
    assert demo_profile.secrets.get("account:Demo Kazoo") == "sim-kazoo-api-key"  # unchanged


async def test_a_slow_test_can_be_cancelled_and_the_dialog_stays_usable(
    parent: QWidget, demo_profile: Profile
) -> None:
    sim = demo_profile.simulator
    session = await open_accounts(parent, demo_profile)
    session.dialog.select("Demo C2C v2")
    tester = session.dialog.tester
    # Held far longer than any wait below: only the cancel can end the test in time.
    sim.inject(Fault.latency(600))
    tester.test_button.click()
    await until(tester.cancel_button.isVisible)
    await until(lambda: any(r.path.endswith("auth/me") for r in sim.requests))
    assert not tester.test_button.isEnabled()
    tester.start()  # a second click while it runs does nothing
    await asyncio.sleep(0.1)
    assert sum(r.path.endswith("auth/me") for r in sim.requests) == 1
    tester.cancel_button.click()
    await until(lambda: not tester.running, timeout=60)
    assert tester.result.text() == "Connection test cancelled"
    assert tester.test_button.isEnabled()
    assert not tester.cancel_button.isVisible()
    assert "accepted the API token" in await run_test(tester)  # usable again at once
    form = await session.form(edit="Demo C2C v2")  # and so is the rest of the dialog
    form.reject()
    await until(lambda: gone(form))
    assert await session.close() is False


async def test_closing_during_a_test_cancels_it(parent: QWidget, demo_profile: Profile) -> None:
    demo_profile.simulator.inject(Fault.latency(600))  # only the cancel can end it in time
    session = await open_accounts(parent, demo_profile)
    session.dialog.select("Demo Kazoo")
    session.dialog.tester.test_button.click()
    await until(lambda: session.dialog.tester.running)
    QTest.keyClick(session.dialog, Qt.Key.Key_Escape)
    assert await asyncio.wait_for(session.task, 60) is False


async def test_the_window_menu_refreshes_its_accounts(window: Any) -> None:
    task = asyncio.ensure_future(window.edit_accounts())
    session = Session(task, await modal(AccountsDialog))
    form = await session.form()
    choose(form, ProviderKind.DIGIDONAR)
    fill(form, {"name": "Extra", "url": "https://digi.example/", "secret": "code-x"})
    await submit(form)
    await session.close()
    assert window.options.account_box.count() == 5


# -- the shared validation, without widgets ---------------------------------------------------


def test_account_from_fields_refuses_another_providers_setting() -> None:
    fields = AccountFields(
        name="A", provider=ProviderKind.DIGIDONAR, url="https://d.example", options={"uid": "1"}
    )
    with pytest.raises(FieldError, match="uid is a Click2Call v1 setting") as caught:
        account_from_fields(fields)
    assert caught.value.field == "uid"


def test_account_from_fields_checks_timeouts_and_kazoo_login() -> None:
    base = AccountFields(
        name="K",
        provider=ProviderKind.KAZOO,
        url="https://k.example",
        options={"kazoo_account": "a1", "kazoo_user": "agent"},
    )
    with pytest.raises(
        FieldError, match="'Kazoo user' needs 'Kazoo account name' as well: fill in both"
    ):
        account_from_fields(base)
    ok = AccountFields(**{**base.__dict__, "options": {"kazoo_account": "a1"}})
    assert account_from_fields(ok).url == "https://k.example/"
    slow = AccountFields(**{**ok.__dict__, "read_timeout": 301.0})
    with pytest.raises(FieldError, match="more than 0 and at most 300 seconds"):
        account_from_fields(slow)


async def test_switching_provider_carries_no_secret_bridge_or_test_result_over(
    parent: QWidget, demo_profile: Profile
) -> None:
    session = await open_accounts(parent, demo_profile)
    form = await session.form(edit="Demo C2C v2")
    assert form.bridges_edit.toPlainText()  # the C2C v2 account's DIDs
    said = await run_test(form.tester)  # with the stored token
    assert said.startswith("C2C v2 accepted the API token")
    fill(form, {"secret": "c2c-token-typed"})
    choose(form, ProviderKind.KAZOO)
    assert form.secret_edit.text() == ""  # a C2C v2 token is no Kazoo key
    assert form.bridges_edit.toPlainText() == ""  # a DID is no clicktocall
    assert not form.tester.result.isVisible() and form.tester.ok is None
    choose(form, ProviderKind.C2C_V2)  # back to the account's own provider: its DIDs again
    assert form.bridges_edit.toPlainText() == "\n".join(
        next(a for a in demo_profile.accounts.list() if a.name == "Demo C2C v2").bridges
    )
    form.reject()
    assert await session.close() is False


async def test_a_provider_with_no_credentials_check_says_so_as_news(
    parent: QWidget, demo_profile: Profile
) -> None:
    session = await open_accounts(parent, demo_profile)
    session.dialog.select("Demo DigiDonar")
    tester = session.dialog.tester
    assert (await run_test(tester)).startswith(NO_CHECK_SENTENCE)
    assert tester.result.property("level") == "info"  # not red: nothing failed
    assert await session.close() is False
