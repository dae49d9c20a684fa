"""A new user's first window (no account yet): a welcome that says what the dialer needs
and offers the two ways on, a call refused with the way to fix it at hand, and the welcome
gone once an account exists."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from dialer.app.profile import Profile, open_user_profile
from dialer.core.accounts import Account, ProviderKind
from dialer.core.paths import AppPaths
from dialer.ui import welcome
from dialer.ui.accounts_dialog import AccountsDialog
from tests.ui.conftest import close_window, modal

pytestmark = pytest.mark.gui


@pytest.fixture
async def new_user(qapp: Any, tmp_path: Path) -> AsyncIterator[Any]:
    from dialer.ui.main_window import MainWindow

    profile: Profile = open_user_profile(AppPaths.under(tmp_path / "new-user"))
    window = MainWindow(profile)
    window.show()
    await window.start()
    try:
        yield window
    finally:
        await close_window(window, profile)


async def test_a_new_user_is_welcomed_with_the_two_ways_on(new_user: Any) -> None:
    assert new_user.welcome.isVisible()
    assert "add the account your click-to-call provider gave you" in new_user.welcome.text.text()
    assert await new_user.call_number("+918867135000") is None
    level, text = new_user.messages.history[-1]
    assert level == "error" and text.startswith("Add an account first")
    QTest.mouseClick(new_user.welcome.add_button, Qt.MouseButton.LeftButton)
    dialog = await modal(AccountsDialog)
    dialog.reject()
    await new_user.tasks.wait_idle()
    assert new_user.welcome.isVisible()  # still no account


async def test_try_the_demo_starts_it_in_a_process_of_its_own(
    new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Starting a second desktop app is what cannot run here: the command is checked.
    started: list[tuple[str, list[str]]] = []

    def launch() -> bool:
        started.append(welcome.demo_command())
        return True

    monkeypatch.setattr(welcome, "launch_demo", launch)
    QTest.mouseClick(new_user.welcome.demo_button, Qt.MouseButton.LeftButton)
    assert started == [(sys.executable, ["-m", "dialer", "--demo"])]
    assert new_user.statusBar().currentMessage().startswith("The demo window is starting")


async def test_the_welcome_goes_once_an_account_exists(
    new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dialer.ui import accounts_dialog

    async def added(parent: Any, profile: Profile) -> bool:
        profile.accounts.add(
            Account("work", ProviderKind.DIGIDONAR, "https://d.example/", region="IN")
        )
        return True

    monkeypatch.setattr(accounts_dialog, "edit_accounts", added)
    await new_user.edit_accounts()
    assert not new_user.welcome.isVisible()
