"""Render every window and dialog offscreen on a 1024×600 screen and print, as JSON, each
text that does not fit (see ``fit.py``) and each window larger than the screen.

    python -m tests.ui.fit_windows [SCALE]     # SCALE: 1 (the default) or 1.5, ...

Run by ``test_layout_fits.py`` once per scale factor, each in its own process (Qt takes the
scale when the application starts). Everything is the real thing: the demo profile with
its simulator, calls placed and reported, a new user's empty profile, every provider's
account form.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCREEN = (1024, 600)


async def _settle(seconds: float = 0.05) -> None:
    # The loop delivers the layout requests and paints meanwhile (never processEvents()
    # inside a coroutine: it would run other tasks inside this one).
    for _ in range(3):
        await asyncio.sleep(seconds)


async def _check(name: str, widget: Any, problems: dict[str, list[str]]) -> None:
    from tests.ui.fit import clipped

    await _settle()
    found = clipped(widget)
    size = widget.size()
    if widget.isWindow() and (size.width() > SCREEN[0] or size.height() > SCREEN[1]):
        found.append(f"the window is {size.width()}×{size.height()}, the screen {SCREEN}")
    if found:
        problems[name] = found
    shots = os.environ.get("FIT_SHOTS")  # a folder: a picture of each window, to look at
    if shots:
        widget.grab().save(str(Path(shots) / f"{name.replace(' ', '-').replace(':', '')}.png"))


async def _dialog(name: str, make: Callable[[], Any], problems: dict[str, list[str]]) -> None:
    dialog = make()
    dialog.show()
    try:
        await _check(name, dialog, problems)
    finally:
        dialog.close()
        dialog.deleteLater()


async def _supervisor_panel(home: Path, problems: dict[str, list[str]]) -> None:
    """The history panel as a supervisor has it (a Person filter, By person…), as wide as
    the screen. Its layout is the point here, so the team history is SQLite answering the
    two team questions (the team window's own tests run it on PostgreSQL)."""
    from dialer.history.dispositions import DispositionList
    from dialer.history.records import HistoryQuery, HistoryTotals
    from dialer.history.sqlite_store import SqliteHistory
    from dialer.ui.history_panel import HistoryPanel
    from dialer.ui.tasks import TaskManager

    class TeamShaped(SqliteHistory):
        def people(self) -> list[str]:
            return ["alice", "bob"]

        def totals_by_person(self, query: HistoryQuery) -> dict[str, HistoryTotals]:
            return {"alice": HistoryTotals(), "bob": HistoryTotals()}

    history = TeamShaped(home / "team.sqlite3")
    tasks = TaskManager()
    panel = HistoryPanel(
        history, tasks, DispositionList.in_folder(home), accounts=["North", "South"]
    )
    panel.resize(SCREEN[0], 300)
    panel.show()
    try:
        await _check("the supervisor's history", panel, problems)
    finally:
        panel.close_panel()
        await tasks.cancel_all()
        panel.close()
        panel.deleteLater()
        history.close()


async def _clicktocalls(profile: Any, window: Any, problems: dict[str, list[str]]) -> None:
    """The Kazoo account's clicktocalls, one of them edited, and its history."""
    from dialer.core.accounts import ProviderKind
    from dialer.core.calls import CallOptions
    from dialer.ui import kazoo_dialog

    account = next(a for a in profile.accounts.list() if a.provider is ProviderKind.KAZOO)
    provider = await profile.service.provider_for(account)
    made = await provider.add_clicktocall(
        {"name": "Sales line", "extension": "sip:1001@pbx.example.com", "whitelist": ["^91"]}
    )
    await profile.service.place_call(
        "+91 88671 35000", CallOptions(bridge=made["id"]), account=account.name
    )
    await asyncio.sleep(1.5)  # rung, talked, in the history
    listing = kazoo_dialog.ClicktocallsDialog(profile, account, window)
    listing.show()
    await listing.load(select=made["id"])
    await _check("clicktocalls", listing, problems)

    async def nothing(changes: dict[str, Any]) -> dict[str, Any]:
        return changes

    await _dialog(
        "new clicktocall", lambda: kazoo_dialog.ClicktocallForm(None, nothing, listing), problems
    )
    document = await provider.get_clicktocall(made["id"])
    await _dialog(
        "edit clicktocall",
        lambda: kazoo_dialog.ClicktocallForm(document, nothing, listing),
        problems,
    )
    history = kazoo_dialog.ClicktocallHistory(provider, made, listing)
    history.show()
    await history.load_page()
    await _check("clicktocall history", history, problems)
    history.close()
    history.deleteLater()
    listing.close()
    listing.deleteLater()


async def run() -> dict[str, list[str]]:
    from dialer.app.demo import open_demo_profile
    from dialer.app.profile import open_user_profile
    from dialer.core.contacts import ImportReport, preview_csv
    from dialer.core.paths import AppPaths
    from dialer.ui import accounts_dialog, call_details, contact_dialogs, help
    from dialer.ui.desktop_settings_dialog import DesktopSettingsDialog
    from dialer.ui.flow_editor import FlowEditorDialog
    from dialer.ui.main_window import MainWindow
    from dialer.ui.receiver_settings_dialog import ReceiverSettingsDialog

    problems: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as home:
        # A new user: the welcome panel and the empty states.
        new_user = open_user_profile(AppPaths.under(Path(home) / "new"))
        window = MainWindow(new_user)
        window.resize(*SCREEN)
        window.show()
        await window.start()
        await _check("a new user's window", window, problems)
        window.close()
        await window.shutdown()
        await new_user.aclose()
        window.deleteLater()

        profile = await open_demo_profile(
            AppPaths.under(Path(home) / "demo"), ring_seconds=0.2, talk_seconds=0.5
        )
        window = MainWindow(profile)
        window.resize(*SCREEN)
        window.show()
        try:
            await window.start()
            await _check("the demo window", window, problems)
            for number in ("+91 88671 35000", "+44 20 7946 0000"):
                await window.call_number(number)
            await asyncio.sleep(1.5)  # rung, talked, reported
            profile.simulator.config.talk_seconds = 60.0
            await window.call_number("+91 97845 60622")
            await asyncio.sleep(0.8)  # one call in progress: the call card shows
            await _check("the demo window with calls", window, problems)

            panel = window.history_panel
            record = panel.model.record(panel.model.rowCount() - 1)
            await _dialog(
                "call details",
                lambda: call_details.CallDetailsDialog(record, window, history=profile.history),
                problems,
            )
            await _dialog(
                "note and disposition",
                lambda: call_details.AnnotateDialog(window, record, ["Sale", "Call back"]),
                problems,
            )
            await _dialog(
                "dispositions",
                lambda: call_details.DispositionsDialog(window, ["Sale", "Call back"]),
                problems,
            )
            await _dialog(
                "accounts", lambda: accounts_dialog.AccountsDialog(profile, window), problems
            )
            await _clicktocalls(profile, window, problems)
            form = accounts_dialog.AccountForm(profile, None, window)
            form.show()
            for n in range(form.provider_box.count()):
                form.provider_box.setCurrentIndex(n)
                await _check(f"add account: {form.provider_box.currentText()}", form, problems)
            form.close()
            form.deleteLater()
            for account in profile.accounts.list():
                await _dialog(
                    f"edit account: {account.name}",
                    functools.partial(accounts_dialog.AccountForm, profile, account, window),
                    problems,
                )
            contact = window.selected_contact()
            await _dialog(
                "edit contact",
                lambda: contact_dialogs.ContactDialog(window, region="IN", contact=contact),
                problems,
            )
            await _dialog(
                "add contact",
                lambda: contact_dialogs.ContactDialog(window, region="IN", number="+9188671"),
                problems,
            )
            sample = Path(home) / "people.csv"
            sample.write_text(
                "Full name,Organisation,Mobile phone,Work phone,E-mail address\n"
                "Asha Rao,Kaveri Textiles,+91 88671 35000,080 2222 3333,asha@example.in\n",
                encoding="utf-8",
            )
            preview = preview_csv(sample)
            await _dialog(
                "import CSV",
                lambda: contact_dialogs.CsvMappingDialog(window, sample, preview, "IN"),
                problems,
            )
            report = ImportReport(added=1, skipped=[(3, "no name and no number")])
            await _dialog(
                "import report",
                lambda: contact_dialogs.ImportReportDialog(window, sample, report=report),
                problems,
            )
            await _dialog(
                "desktop settings",
                lambda: DesktopSettingsDialog(profile.paths, window),
                problems,
            )
            await _dialog(
                "flows and variables", lambda: FlowEditorDialog(profile, parent=window), problems
            )
            await _dialog(
                "receiver settings", lambda: ReceiverSettingsDialog(profile, window), problems
            )
            await _supervisor_panel(Path(home), problems)
            await _dialog("shortcuts", lambda: help.ShortcutsDialog(window, window), problems)
            await _dialog("about", lambda: help.AboutDialog(profile, window), problems)
        finally:
            window.close()
            await window.shutdown()
            await profile.aclose()
            window.deleteLater()
    return problems


def main(argv: list[str]) -> int:
    scale = float(argv[0]) if argv else 1.0
    # One offscreen screen of 1024×600 logical pixels at that scale (1536×900 pixels at
    # 150 %), as the laptop's: Qt caps windows at it as a desktop would.
    folder = tempfile.mkdtemp(prefix="dialer-fit-")
    config = Path(folder) / "screen.json"
    width, height = round(SCREEN[0] * scale), round(SCREEN[1] * scale)
    screen = {"name": "laptop", "x": 0, "y": 0, "width": width, "height": height,
              "logicalDpi": 96, "logicalBaseDpi": 96}  # fmt: skip
    config.write_text(json.dumps({"screens": [screen]}), encoding="utf-8")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    os.environ["QT_SCALE_FACTOR"] = str(scale)
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    from PySide6.QtGui import QGuiApplication

    geometry = QGuiApplication.primaryScreen().availableGeometry()
    assert (geometry.width(), geometry.height()) == SCREEN, geometry
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        problems = runner.run(run())
    print(json.dumps(problems, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
