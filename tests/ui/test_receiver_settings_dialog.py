"""The Receiver settings dialog: a real dialog, offscreen, on the qasync loop, over a user
profile whose webhook receiver really listens, saving to the real ``webhooks.toml``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialogButtonBox, QWidget

from dialer.app.profile import Profile, open_user_profile
from dialer.core.paths import AppPaths
from dialer.ui.receiver_settings_dialog import (
    ANY_PORT_NO_URL,
    ReceiverSettingsDialog,
    edit_receiver_settings,
)
from dialer.webhooks.settings import WebhookSettings, load_settings, save_settings
from tests.memory_keyring import MemoryKeyring
from tests.ui.conftest import modal, until
from tests.webhooks.test_kill import free_port

pytestmark = pytest.mark.gui


@pytest.fixture
async def parent(qapp: Any) -> AsyncIterator[QWidget]:
    widget = QWidget()
    widget.resize(800, 600)
    widget.show()
    yield widget
    widget.close()
    widget.deleteLater()


@pytest.fixture
async def port(dialer_home: Any) -> int:
    chosen = free_port()
    save_settings(AppPaths.default(), WebhookSettings(port=chosen))
    return chosen


@pytest.fixture
async def profile(qapp: Any, port: int) -> AsyncIterator[Profile]:
    opened = open_user_profile(AppPaths.default())
    assert await opened.start_receiver()
    yield opened
    await opened.aclose()


class Session:
    def __init__(self, task: asyncio.Future[str], dialog: ReceiverSettingsDialog):
        self.task = task
        self.dialog = dialog

    async def save(self) -> str:
        self.dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        return await asyncio.wait_for(self.task, 5)

    async def cancel(self) -> str:
        self.dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
        return await asyncio.wait_for(self.task, 5)


async def open_dialog(parent: QWidget, profile: Profile) -> Session:
    task = asyncio.ensure_future(edit_receiver_settings(profile, parent))

    dialog = await modal(ReceiverSettingsDialog)
    await until(lambda: dialog.token is not None)  # read from the keyring
    return Session(task, dialog)


def token_of(keyring: MemoryKeyring) -> str:
    return keyring.entries[("dialer", "webhooks:path-token")]


async def test_it_shows_the_url_to_register_and_copies_it(
    parent: QWidget, profile: Profile, port: int, memory_keyring: MemoryKeyring
) -> None:
    session = await open_dialog(parent, profile)
    dialog = session.dialog
    url = f"http://127.0.0.1:{port}/c2c/{token_of(memory_keyring)}"
    assert dialog.url_edit.text() == url  # what 'dialer webhooks url' prints
    assert dialog.status_label.text() == (
        f"The receiver is listening on http://127.0.0.1:{port}/c2c/<secret>"
    )
    assert "reachable from this machine only" in dialog.url_notes_label.text()
    assert "set its address in 'Public URL' above" in dialog.url_notes_label.text()
    assert (dialog.host_edit.text(), dialog.port_box.value()) == ("127.0.0.1", port)
    QGuiApplication.clipboard().setText("")
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == url
    assert dialog.copy_result.isVisible()
    assert dialog.copy_result.text() == "Copied: paste it into the provider's panel"

    # The URL follows what is typed: a public URL is what gets registered.
    dialog.public_edit.setText("https://hooks.example.com/")
    assert dialog.url_edit.text() == f"https://hooks.example.com/c2c/{token_of(memory_keyring)}"
    assert not dialog.url_notes_label.isVisible()  # nothing to warn of any more
    assert not dialog.copy_result.isVisible()  # what was copied is not what is shown
    assert await session.cancel() == ""
    assert load_settings(profile.paths) == WebhookSettings(port=port)  # cancel saves nothing


async def test_a_new_port_is_saved_said_and_used_when_the_receiver_next_starts(
    parent: QWidget, profile: Profile, port: int
) -> None:
    session = await open_dialog(parent, profile)
    new_port = free_port()
    session.dialog.port_box.setValue(new_port)
    assert session.dialog.url_edit.text().startswith(f"http://127.0.0.1:{new_port}/c2c/")
    note = await session.save()
    assert note == (
        f"Receiver settings saved. The receiver keeps listening on 127.0.0.1:{port} until the "
        f"Dialer is restarted, then on 127.0.0.1:{new_port}: register the new URL in the "
        "C2C v2 panel then."
    )
    assert load_settings(profile.paths) == WebhookSettings(port=new_port)
    assert profile.receiver.port_bound == port  # still where the provider reaches it

    restarted = open_user_profile(AppPaths.default())
    try:
        assert await restarted.start_receiver()
        assert restarted.receiver.port_bound == new_port
    finally:
        await restarted.aclose()


async def test_a_public_url_alone_needs_no_restart(parent: QWidget, profile: Profile) -> None:
    session = await open_dialog(parent, profile)
    session.dialog.public_edit.setText("https://hooks.example.com")
    note = await session.save()
    assert note == "Receiver settings saved: register the new URL in the C2C v2 panel."
    assert load_settings(profile.paths).public_url == "https://hooks.example.com"
    session = await open_dialog(parent, profile)
    assert session.dialog.public_edit.text() == "https://hooks.example.com"
    assert await session.save() == ""  # nothing changed: nothing to say


async def test_bad_settings_are_refused_and_nothing_is_saved(
    parent: QWidget, profile: Profile, port: int
) -> None:
    session = await open_dialog(parent, profile)
    dialog = session.dialog
    dialog.public_edit.setText("ftp://hooks.example.com")
    assert dialog.url_edit.text() == ""
    assert not dialog.copy_button.isEnabled()
    assert dialog.url_notes_label.text() == (
        "The public URL 'ftp://hooks.example.com' is not an http(s) URL"
    )
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.isVisible()
    assert dialog.error_label.text() == (
        "The public URL 'ftp://hooks.example.com' is not an http(s) URL"
    )
    dialog.public_edit.setText("")
    dialog.host_edit.setText(" ")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.isVisible()
    assert dialog.error_label.text() == "The host must be a host name or an address (127.0.0.1)"
    dialog.host_edit.setText("127.0.0.1")
    dialog.port_box.setValue(0)
    assert dialog.port_box.text() == "Any free port"
    assert dialog.url_edit.text() == ""
    assert dialog.url_notes_label.text() == ANY_PORT_NO_URL
    assert await session.cancel() == ""
    assert load_settings(profile.paths) == WebhookSettings(port=port)


async def test_the_window_opens_it_from_the_settings_menu_and_says_what_was_saved(
    qapp: Any, profile: Profile, port: int
) -> None:
    from dialer.ui.main_window import MainWindow

    window = MainWindow(profile)
    window.show()
    try:
        await window.start()
        [entry] = [
            action
            for action in window.settings_menu.actions()
            if action.text() == "&Receiver (C2C v2 webhooks)…"
        ]
        entry.trigger()
        dialog = await modal(ReceiverSettingsDialog)
        dialog.public_edit.setText("https://hooks.example.com")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        said = ("info", "Receiver settings saved: register the new URL in the C2C v2 panel.")
        await until(lambda: said in window.messages.history)
    finally:
        await window.shutdown()
        window.close()
        window.deleteLater()
        await asyncio.sleep(0)
