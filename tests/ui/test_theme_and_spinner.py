"""The window follows the system's light or dark scheme, and slow lists show a spinner."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from dialer.core.accounts import ProviderKind
from dialer.simulator import Fault
from dialer.ui.theme import ThemeFollower, is_dark, show_level
from tests.ui.conftest import modal, until
from tests.ui.test_main_window import select_account, sim_of

pytestmark = pytest.mark.gui


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours."""

    def luminance(colour: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(colour.redF())
            + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF())
        )

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def follower(qapp: QApplication) -> Iterator[ThemeFollower]:
    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    follower = ThemeFollower(qapp)
    yield follower
    follower.stop()
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)
    follower.deleteLater()


def message_colour(level: str) -> tuple[QColor, QColor]:
    label = QLabel("Something went wrong")
    show_level(label, level)
    label.ensurePolished()
    colours = (
        label.palette().color(QPalette.ColorRole.WindowText),
        label.palette().color(QPalette.ColorRole.Window),
    )
    label.deleteLater()
    return colours


def test_dark_scheme_gets_a_dark_palette_and_readable_messages(
    qapp: QApplication, follower: ThemeFollower
) -> None:
    follower.apply(Qt.ColorScheme.Light)
    assert not is_dark(qapp.palette())
    light_error, light_window = message_colour("error")
    follower.apply(Qt.ColorScheme.Dark)
    assert is_dark(qapp.palette())
    dark_error, _ = message_colour("error")
    assert dark_error != light_error  # the shade follows the background
    for level in ("error", "warning", "ok"):
        foreground, background = message_colour(level)
        assert contrast(foreground, background) >= 4.5, level
    follower.apply(Qt.ColorScheme.Light)
    assert not is_dark(qapp.palette())
    foreground, background = message_colour("error")
    assert contrast(foreground, background) >= 4.5
    assert (light_error, light_window) == (foreground, background)


def test_a_chosen_theme_holds_whatever_the_system_says(
    qapp: QApplication, follower: ThemeFollower
) -> None:
    follower.choose("dark")
    follower.apply(Qt.ColorScheme.Light)  # the system says light: dark was chosen
    assert is_dark(qapp.palette())
    follower.choose("light")
    follower.apply(Qt.ColorScheme.Dark)
    assert not is_dark(qapp.palette())
    foreground, background = message_colour("error")
    assert contrast(foreground, background) >= 4.5
    follower.choose("system")
    follower.apply(Qt.ColorScheme.Dark)
    assert is_dark(qapp.palette())


def test_the_first_paint_goes_by_the_scheme_of_the_last_start_then_the_systems(
    qapp: QApplication, tmp_path: Path
) -> None:
    """Before the first paint nothing asks the system (that costs the window ~15 ms): the
    scheme the system had at the last start is used; once asked, the system's stands and
    is remembered for the next start. A person's own choice needs no memory."""
    from dialer.ui.theme import follow_system_theme, remembered_dark

    memo = tmp_path / "window.ini"
    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    followers = []
    try:
        assert remembered_dark(memo) is None
        first = follow_system_theme(qapp, "system", memo=memo)  # nothing known: asks now
        assert first is not None
        followers.append(first)
        assert remembered_dark(memo) is False  # offscreen: no dark scheme
        first.stop()
        memo.write_text("[theme]\nsystem=dark\n")  # the system was dark at the last start
        second = follow_system_theme(qapp, "system", memo=memo)
        assert second is not None
        followers.append(second)
        assert is_dark(qapp.palette())  # painted dark, without asking
        second.follow()  # the system, asked, says otherwise
        assert not is_dark(qapp.palette())
        assert remembered_dark(memo) is False
        second.stop()
        chosen = follow_system_theme(qapp, "dark", memo=memo)
        assert chosen is not None
        followers.append(chosen)
        assert is_dark(qapp.palette())
        chosen.follow()
        assert is_dark(qapp.palette())  # the choice holds over the system's light
    finally:
        for follower in followers:
            follower.stop()
            follower.deleteLater()
        qapp.setProperty("dialer_theme", None)
        qapp.setStyle(style)
        qapp.setPalette(palette)
        qapp.setStyleSheet(sheet)


async def test_the_theme_chosen_in_the_settings_is_applied(
    qapp: QApplication, follower: ThemeFollower, window: Any, dialer_home: Any
) -> None:
    from PySide6.QtTest import QTest

    from dialer.core.desktop_settings import DesktopSettings, load_desktop_settings
    from dialer.core.paths import AppPaths
    from dialer.ui.desktop import DesktopIntegration
    from dialer.ui.desktop_settings_dialog import DesktopSettingsDialog

    qapp.setProperty("dialer_theme", follower)
    paths = AppPaths.default()
    desktop = DesktopIntegration(window, paths, DesktopSettings())
    try:
        task = asyncio.ensure_future(desktop.edit_settings())
        dialog = await modal(DesktopSettingsDialog)
        dialog.theme_box.setFocus()
        QTest.keyClick(dialog.theme_box, Qt.Key.Key_Down)
        QTest.keyClick(dialog.theme_box, Qt.Key.Key_Down)  # As the system, Light, Dark
        assert dialog.theme_box.currentData() == "dark"
        dialog.save_button.click()
        await asyncio.wait_for(task, 10)
        assert load_desktop_settings(paths).theme == "dark"
        assert is_dark(qapp.palette())
    finally:
        qapp.setProperty("dialer_theme", None)
        desktop.close()


async def test_kazoo_bridges_show_a_spinner_while_loading(window: Any) -> None:
    await select_account(window, ProviderKind.KAZOO)
    await window.call_number("+918867135000")  # creates the agent's clicktocall
    spinner = window.options.bridge_spinner
    assert not spinner.spinning
    sim_of(window).inject(Fault.latency(0.5), provider=ProviderKind.KAZOO, count=5)
    task = asyncio.ensure_future(window.load_bridges(force=True))
    await until(lambda: spinner.spinning and spinner.isVisible())
    assert window.options.bridge_state.text() == "Loading from the provider…"
    await task
    assert not spinner.spinning
    assert not spinner.isVisible()
    assert window.options.bridge_box.count() == 2  # the account's default and the one made


async def test_a_failed_bridge_list_stops_the_spinner_and_says_why(window: Any) -> None:
    await select_account(window, ProviderKind.KAZOO)
    await window.profile.service.forget(window.options.account().name)  # new login too
    sim_of(window).inject(Fault.server_error(503), provider=ProviderKind.KAZOO, count=5)
    with pytest.raises(Exception):  # noqa: B017 - the window shows it; the task re-raises
        await window.load_bridges(force=True)
    spinner = window.options.bridge_spinner
    assert not spinner.spinning
    assert window.options.bridge_state.text().startswith("✗")
    assert window.options.bridge_state.property("level") == "error"
