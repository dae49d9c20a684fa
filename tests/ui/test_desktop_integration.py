"""The window in the desktop, for real (offscreen): links through Qt's URL handlers and
other launches, the user's desktop settings, the tray's notifications and the app's start."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from dialer.core.desktop_settings import DesktopSettings, save_desktop_settings
from dialer.core.paths import AppPaths
from dialer.ui.desktop import DesktopIntegration
from tests.ui.conftest import until
from tests.ui.test_main_window import provider_requests


@pytest.fixture
def desktop(window: Any, dialer_home: Path) -> Any:
    integration = DesktopIntegration(window, AppPaths.default(), DesktopSettings())
    yield integration
    integration.close()


async def test_a_link_opened_through_qt_reaches_the_window(window: Any, desktop: Any) -> None:
    """macOS delivers clicked links this way (QDesktopServices' URL handler)."""
    assert QDesktopServices.openUrl(QUrl("tel:+91-88671-35000;ext=7"))
    await until(lambda: window.number.parsed() is not None)
    assert (window.number.parsed().e164, window.number.parsed().extension) == (
        "+918867135000",
        "7",
    )
    assert provider_requests(window) == []


async def test_another_launch_brings_its_number(window: Any, desktop: Any) -> None:
    desktop._received({"dial": "callto:+918867135000"})
    assert window.number.parsed().e164 == "+918867135000"
    window.hide()
    desktop._received({"show": True})
    assert window.isVisible()


async def test_call_immediately_from_links(window: Any, desktop: Any) -> None:
    desktop.apply(replace(desktop.settings, call_links_at_once=True))
    desktop.dial("tel:+918867135000")
    await until(lambda: len(provider_requests(window)) == 1)


async def test_the_hotkey_dials_at_once_and_an_empty_selection_says_why(
    window: Any, desktop: Any
) -> None:
    desktop._hotkey_pressed("")
    assert "found no number" in window.messages.history[-1][1]
    desktop._hotkey_pressed(" +91 88671 35000 ")
    await until(lambda: len(provider_requests(window)) == 1)


async def test_where_the_hotkey_cannot_work_the_window_says_so(
    window: Any, desktop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("DISPLAY", raising=False)
    desktop.apply(replace(desktop.settings, hotkey_enabled=True))
    assert desktop.hotkey is None
    assert "Wayland" in desktop.hotkey_problem
    assert window.messages.history[-1] == (
        "warning",
        f"The global hotkey is off. {desktop.hotkey_problem}",
    )


async def test_a_call_placed_from_the_window_is_notified_when_it_ends(
    window: Any, desktop: Any
) -> None:
    window.number.set_text("+918867135000")
    await window.call_number(window.number.text())
    await until(lambda: bool(desktop.tray.shown), timeout=10)
    title, text = desktop.tray.shown[0]
    assert title in ("Call completed", "No answer", "Line busy", "Call failed")
    assert "+918867135000" in text or "8867135000" in text


async def test_start_minimised_without_a_tray_minimises(window: Any, desktop: Any) -> None:
    window.hide()
    desktop.apply(replace(desktop.settings, start_minimised=True))
    desktop.show_window()
    assert desktop.tray.icon is None  # offscreen: no tray
    assert window.isMinimized()


def test_the_settings_menu_offers_the_desktop_dialog(window: Any, desktop: Any) -> None:
    titles = [action.text() for action in window.settings_menu.actions()]
    assert "&Desktop, links and hotkey…" in titles


async def test_the_app_starts_with_a_link_from_its_command_line(
    qapp: Any, dialer_home: Path
) -> None:
    """``dialer --demo tel:...`` as app.main runs it, with the user's saved settings."""
    from dialer.ui.app import main

    paths = AppPaths.default()
    save_desktop_settings(paths, DesktopSettings(notify_call_end=False))
    task = asyncio.ensure_future(main(demo=True, number="tel:+91-88671-35000", paths=paths))

    def the_window() -> Any:
        # The shown one: an earlier test's window may be closed and not deleted yet.
        found = [
            w
            for w in QApplication.topLevelWidgets()
            if type(w).__name__ == "MainWindow" and w.isVisible()
        ]
        return found[-1] if found else None

    await until(lambda: the_window() is not None and the_window().number.parsed() is not None)
    window = the_window()
    assert window.number.parsed().e164 == "+918867135000"
    window.close()
    assert await asyncio.wait_for(task, 10) == 0
