"""The Desktop settings dialog: a real dialog, offscreen, on the qasync loop, saving to the
real ``desktop.toml`` and registering into a temporary XDG_DATA_HOME."""

from __future__ import annotations

import asyncio
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox, QWidget

from dialer.core.desktop_settings import (
    DesktopSettings,
    desktop_settings_file,
    load_desktop_settings,
    save_desktop_settings,
)
from dialer.core.link_handlers import DESKTOP_FILE_NAME
from dialer.core.paths import AppPaths
from dialer.ui.desktop_settings_dialog import (
    REGISTER_TEXT,
    DesktopSettingsDialog,
    edit_desktop_settings,
)
from dialer.ui.hotkey import NO_DISPLAY_SENTENCE
from tests.ui.conftest import modal, until

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(
        sys.platform in ("win32", "darwin"), reason="registers a Linux desktop entry"
    ),
]


@pytest.fixture
def paths(dialer_home: Path) -> AppPaths:
    return AppPaths.default()


@pytest.fixture(autouse=True)
def desktop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A session without a display (no hotkey possible, deterministically) and XDG folders
    of its own, so that registering never touches the real user's desktop."""
    root = tmp_path / "xdg"
    for name in ("home", "data", "config", "system"):
        (root / name).mkdir(parents=True)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "XDG_CURRENT_DESKTOP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.setenv("XDG_DATA_DIRS", str(root / "system"))
    return root


@pytest.fixture
async def parent(qapp: Any) -> AsyncIterator[QWidget]:
    widget = QWidget()
    widget.resize(800, 600)
    widget.show()
    yield widget
    widget.close()
    widget.deleteLater()


class Session:
    def __init__(self, task: asyncio.Future[DesktopSettings | None], dialog: DesktopSettingsDialog):
        self.task = task
        self.dialog = dialog

    async def save(self) -> DesktopSettings | None:
        self.dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        return await asyncio.wait_for(self.task, 5)

    async def cancel(self) -> DesktopSettings | None:
        self.dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
        return await asyncio.wait_for(self.task, 5)


async def open_dialog(parent: QWidget, paths: AppPaths) -> Session:
    task = asyncio.ensure_future(edit_desktop_settings(paths, parent))

    dialog = await modal(DesktopSettingsDialog)
    # The background checks (hotkey support, which app opens links) have answered.
    await until(lambda: dialog.hotkey_supported is not None and dialog.link_status.isVisible())
    return Session(task, dialog)


async def test_toggles_are_saved_to_the_file(parent: QWidget, paths: AppPaths) -> None:
    session = await open_dialog(parent, paths)
    dialog = session.dialog
    assert not dialog.links_at_once_box.isChecked()
    assert not dialog.minimised_box.isChecked()
    assert dialog.notify_box.isChecked()
    assert dialog.hotkey_edit.text() == "Ctrl+Alt+D"
    dialog.links_at_once_box.click()
    dialog.minimised_box.click()
    dialog.notify_box.click()
    saved = await session.save()
    expected = DesktopSettings(call_links_at_once=True, start_minimised=True, notify_call_end=False)
    assert saved == expected
    on_disk = tomllib.loads(desktop_settings_file(paths).read_text(encoding="utf-8"))
    assert on_disk == {
        "call_links_at_once": True,
        "hotkey_enabled": False,
        "hotkey": "<ctrl>+<alt>+d",
        "start_minimised": True,
        "notify_call_end": False,
        "theme": "system",
    }
    assert load_desktop_settings(paths) == expected

    # Opened again, it shows what was saved.
    session = await open_dialog(parent, paths)
    assert session.dialog.links_at_once_box.isChecked()
    assert session.dialog.minimised_box.isChecked()
    assert not session.dialog.notify_box.isChecked()
    assert await session.cancel() is None


async def test_cancel_saves_nothing(parent: QWidget, paths: AppPaths) -> None:
    session = await open_dialog(parent, paths)
    session.dialog.links_at_once_box.click()
    assert await session.cancel() is None
    assert not desktop_settings_file(paths).exists()


async def test_the_hotkey_is_disabled_where_it_cannot_work(
    parent: QWidget, paths: AppPaths
) -> None:
    save_desktop_settings(paths, DesktopSettings(hotkey_enabled=True, hotkey="Ctrl+Shift+F9"))
    session = await open_dialog(parent, paths)
    dialog = session.dialog
    assert dialog.hotkey_supported is False
    assert dialog.hotkey_support_label.text() == NO_DISPLAY_SENTENCE
    assert dialog.hotkey_support_label.isVisible()
    assert not dialog.hotkey_box.isEnabled()
    assert not dialog.hotkey_edit.isEnabled()
    # The choice made elsewhere (say, in an X11 session) is kept as it was.
    assert dialog.hotkey_box.isChecked()
    assert dialog.hotkey_edit.text() == "Ctrl+Shift+F9"
    saved = await session.save()
    assert saved == DesktopSettings(hotkey_enabled=True, hotkey="<ctrl>+<shift>+<f9>")


async def test_an_invalid_hotkey_is_refused_with_its_sentence(
    parent: QWidget, paths: AppPaths
) -> None:
    session = await open_dialog(parent, paths)
    dialog = session.dialog
    # Where the hotkey can work (an X11 session), the field is enabled: as it is there.
    dialog.apply_hotkey_support(True, "Select a number in any application…")
    dialog.hotkey_box.click()
    assert dialog.hotkey_edit.isEnabled()
    dialog.hotkey_edit.clear()
    QTest.keyClicks(dialog.hotkey_edit, "Ctrl+Hyper+D")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.isVisible()  # still open, saying why
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == (
        "'Hyper' in the hotkey 'Ctrl+Hyper+D' is not a key name: use single characters and "
        "names such as <ctrl>, <alt>, <shift>, <cmd>, <f5>, <space> (for example "
        "<ctrl>+<alt>+d)"
    )
    assert dialog.hotkey_edit.hasFocus()
    assert not desktop_settings_file(paths).exists()

    dialog.hotkey_edit.clear()
    QTest.keyClicks(dialog.hotkey_edit, "Ctrl+Alt+K")
    saved = await session.save()
    assert saved == DesktopSettings(hotkey_enabled=True, hotkey="<ctrl>+<alt>+k")
    assert load_desktop_settings(paths) == saved


async def test_register_writes_the_desktop_entry(
    parent: QWidget, paths: AppPaths, desktop: Path
) -> None:
    session = await open_dialog(parent, paths)
    dialog = session.dialog
    assert dialog.register_button.text() == REGISTER_TEXT
    entry = desktop / "data" / "applications" / DESKTOP_FILE_NAME
    assert not entry.exists()
    dialog.register_button.click()
    await until(lambda: not dialog.tasks.running("register"))
    await dialog.tasks.wait_idle()
    assert entry.is_file()
    assert "x-scheme-handler/tel;" in entry.read_text(encoding="utf-8")
    said = dialog.register_result.text()
    assert dialog.register_result.isVisible()
    assert str(entry) in said  # with or without xdg-mime, the sentence names the entry
    assert dialog.register_button.isEnabled()
    assert dialog.link_status.text()  # refreshed after registering
    assert await session.cancel() is None  # registering is not a setting: nothing saved
    assert not desktop_settings_file(paths).exists()


async def test_a_registration_failure_is_shown_inline(
    parent: QWidget, paths: AppPaths, desktop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = desktop / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    session = await open_dialog(parent, paths)
    dialog = session.dialog
    dialog.register_button.click()
    await until(lambda: not dialog.tasks.running("register"))
    assert dialog.register_result.text().startswith(
        f"Cannot write the desktop entry {blocker}/applications/{DESKTOP_FILE_NAME}: "
    )
    assert dialog.register_result.property("level") == "error"
    assert dialog.register_button.isEnabled()
    await session.cancel()


async def test_a_broken_file_is_named_and_replaced_on_save(
    parent: QWidget, paths: AppPaths
) -> None:
    path = desktop_settings_file(paths)
    path.parent.mkdir(parents=True)
    path.write_text("hotkey_enabled = maybe\n")
    session = await open_dialog(parent, paths)
    dialog = session.dialog
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text().startswith(f"Cannot read the desktop settings file {path}: ")
    assert dialog.error_label.text().endswith("; Save replaces it with what is shown here")
    saved = await session.save()
    assert saved == DesktopSettings()
    assert load_desktop_settings(paths) == DesktopSettings()
