"""Start-up and shutdown of the real app coroutine, and the user profile without a keyring."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import close_window, until

pytestmark = pytest.mark.gui


def _main_window() -> Any:
    from dialer.ui.main_window import MainWindow

    # The shown one: an earlier test's window may be closed and not deleted yet.
    found = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
    ]
    return found[-1] if found else None


async def test_main_owns_shutdown(dialer_home: Path, qapp: Any) -> None:
    from dialer.core.paths import AppPaths
    from dialer.ui.app import main

    app_task = asyncio.ensure_future(main(demo=True, paths=AppPaths.default()))
    await until(lambda: _main_window() is not None and _main_window().isVisible())
    window = _main_window()
    await until(lambda: window.contacts_model.rowCount() == 300)
    sim = window.profile.simulator
    base = sim.base_url
    window.close()
    assert await asyncio.wait_for(app_task, 10) == 0
    import httpx

    with pytest.raises(httpx.ConnectError):  # the demo's simulator was stopped with the app
        async with httpx.AsyncClient() as client:
            await client.get(base)
    window.deleteLater()


async def test_no_keyring_explains_and_the_app_still_runs(dialer_home: Path, qapp: Any) -> None:
    from dialer.app.profile import open_user_profile
    from dialer.core.accounts import Account, AccountStore, ProviderKind
    from dialer.core.paths import AppPaths
    from dialer.ui.main_window import MainWindow

    paths = AppPaths.default().ensure()
    AccountStore(paths.accounts_file).add(
        Account(
            name="work",
            provider=ProviderKind.C2C_V2,
            url="https://portal.example.com/api/v2/",
            region="IN",
            agent="+919876543210",
            bridges=("918068280000",),
        )
    )
    keyring.set_keyring(fail.Keyring())
    profile = open_user_profile(paths)
    window = MainWindow(profile)
    window.show()
    try:
        await window.start()
        assert await window.call_number("+918867135000") is None
        level, text = window.messages.history[-1]
        assert level == "error"
        assert "keyring" in text.lower()
        assert "PYTHON_KEYRING_BACKEND" in text
        assert window.isVisible()
    finally:
        await close_window(window, profile)


@pytest.mark.allow_warnings_log("^C2C v2 call reports are not received here: No usable OS keyring")
async def test_the_receiver_starts_once_the_keyring_answers_and_its_banner_goes(
    dialer_home: Path, qapp: Any, memory_keyring: Any
) -> None:
    # The keyring is locked at start (the receiver's secret path cannot be read), then
    # unlocked: the receiver is tried again, runs, and the banner about it goes.
    from dialer.app.profile import open_user_profile
    from dialer.core.accounts import Account, AccountStore, ProviderKind
    from dialer.core.paths import AppPaths
    from dialer.ui.main_window import REPORTING_PROBLEM, MainWindow

    paths = AppPaths.default().ensure()
    AccountStore(paths.accounts_file).add(
        Account("work", ProviderKind.C2C_V2, "https://portal.example.com/api/v2/", region="IN")
    )
    keyring.set_keyring(fail.Keyring())
    profile = open_user_profile(paths)
    await profile.start_reporting(receiver_port=0)
    assert profile.receiver is None and "keyring" in profile.reporting_problem.lower()
    window = MainWindow(profile)
    window.show()
    try:
        await window.start()
        window.messages.warning(profile.reporting_problem, REPORTING_PROBLEM)
        assert window.banner_row.isVisible()
        retrying = window.tasks.start("reporting", window.keep_trying_reporting(every=0.05))
        await asyncio.sleep(0.2)
        assert profile.receiver is None  # still locked: still trying
        keyring.set_keyring(memory_keyring)  # unlocked
        await asyncio.wait_for(retrying, 5)
        assert profile.receiver is not None and profile.reporting_problem == ""
        assert not window.banner_row.isVisible()
        assert window.messages.history[-1] == (
            "info",
            "C2C v2 call reports are received here again",
        )
    finally:
        await close_window(window, profile)


@pytest.mark.allow_warnings_log("^C2C v2 call reports are not received here")
@pytest.mark.parametrize("provider", ["digidonar", "c2c-v2"])
async def test_the_reports_banner_shows_only_where_c2c_v2_reports_are_expected(
    dialer_home: Path, qapp: Any, provider: str
) -> None:
    # No keyring: the receiver cannot start. That concerns a C2C v2 account only (the one
    # service that pushes reports); with none, the window says nothing of it.
    from dialer.core.accounts import Account, AccountStore, ProviderKind
    from dialer.core.paths import AppPaths
    from dialer.ui.app import main
    from dialer.webhooks.settings import WebhookSettings, save_settings
    from tests.webhooks.test_kill import free_port

    paths = AppPaths.default().ensure()
    save_settings(paths, WebhookSettings(port=free_port()))
    AccountStore(paths.accounts_file).add(
        Account("work", ProviderKind(provider), "https://portal.example.com/", region="IN")
    )
    keyring.set_keyring(fail.Keyring())
    app_task = asyncio.ensure_future(main(demo=False, paths=paths))
    await until(lambda: app_task.done() or _main_window() is not None)
    assert not app_task.done(), app_task.result()
    window = _main_window()
    # The receiver is retried in both cases: once that starts, start-up has said all it says.
    await until(lambda: window.tasks.running("reporting"))
    said = [text for _, text in window.messages.history]
    about_reports = [text for text in said if text.startswith("C2C v2 call reports")]
    assert bool(about_reports) is (provider == "c2c-v2")
    assert window.banner_row.isVisible() is (provider == "c2c-v2")
    window.close()
    assert await asyncio.wait_for(app_task, 10) == 0


async def test_the_frame_shows_first_then_holds_the_window_and_the_trace_marks_both(
    dialer_home: Path, qapp: Any, tmp_path: Path
) -> None:
    import json

    from dialer.core.paths import AppPaths
    from dialer.ui.app import main
    from dialer.ui.frame import WindowFrame
    from dialer.ui.main_window import MainWindow
    from dialer.ui.startup_trace import StartupTrace

    paths = AppPaths.default()
    settings_file = paths.demo_profile().config_dir / "window.ini"
    trace_file = tmp_path / "trace.jsonl"
    trace = StartupTrace(trace_file)
    frame = WindowFrame(settings_file, "Dialer — demo")
    trace.watch(frame)
    frame.show()

    def events() -> list[str]:
        lines = trace_file.read_text().splitlines() if trace_file.exists() else []
        return [json.loads(line)["event"] for line in lines]

    app_task = asyncio.ensure_future(main(demo=True, paths=paths, frame=frame, trace=trace))
    await until(lambda: "idle" in events(), timeout=30)
    assert events() == ["painted", "idle"]  # the frame's paint, once, then the idle loop
    window = frame.centralWidget()
    assert isinstance(window, MainWindow)  # the frame holds the main window
    assert frame.windowTitle() == window.windowTitle() == "Dialer — demo"
    assert window.window() is frame
    frame.resize(700, 500)
    frame.close()  # the frame's close button ends the app, as the window's did
    assert await asyncio.wait_for(app_task, 10) == 0
    # The frame's geometry was saved where the next launch's frame reads it.
    reopened = WindowFrame(settings_file, "Dialer — demo")
    assert (reopened.width(), reopened.height()) == (700, 500)
    reopened.deleteLater()
