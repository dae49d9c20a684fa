"""Start the window: one asyncio loop driven by Qt through qasync.

The main coroutine owns shutdown: it waits for the window to close, awaits the cleanup
(tasks cancelled, provider connections and stores closed, the demo simulator stopped), and
returns. ``aboutToQuit`` is too late for that: the loop no longer runs there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dialer.core import collector
from dialer.core.paths import AppPaths
from dialer.core.threads import DaemonThreadExecutor

if TYPE_CHECKING:
    from dialer.ui.single_instance import SingleInstance

logger = logging.getLogger(__name__)


def run(*, demo: bool = False, number: str | None = None) -> int:
    """The ``dialer`` / ``dialer --demo`` entry point. Returns the exit code.

    ``number`` is a number or a ``tel:``/``callto:``/``sip:`` link from the command line. When
    this profile's window already runs, it goes there (or the window is just brought up)
    and this launch exits at once.
    """
    os.environ.setdefault("QT_API", "pyside6")  # before qasync is imported
    from dialer.ui.single_instance import InstanceError, SingleInstance, hand_over

    paths = AppPaths.default()
    folder = instance_folder(paths, demo=demo)
    # Who is first is settled before the QApplication: a launch that only hands its number
    # over never loads the platform plugin or connects to the window system.
    instance = SingleInstance(folder)
    if not instance.claim():
        try:
            hand_over(folder, {"dial": number} if number else {"show": True})
        except InstanceError as exc:
            print(f"dialer: {exc}", file=sys.stderr)
            return 1
        print("dialer: sent to the Dialer window already running", file=sys.stderr)
        return 0
    if number and not demo and _dialled_in_demo(paths, number):
        # A link goes to the window that runs: only the demo's does, so it goes there, not
        # to a second, empty window of the default profile.
        instance.close()
        print("dialer: sent to the demo window already running", file=sys.stderr)
        return 0
    from PySide6.QtWidgets import QApplication

    from dialer.ui.event_loop import QEventLoop  # qasync's, letting go of cancelled timers

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    try:
        instance.listen()
    except InstanceError as exc:
        logger.warning("%s", exc)  # links then start a window of their own; nothing else lost
    try:
        app.setApplicationName("Dialer")
        app.setOrganizationName("Dialer")
        app.setQuitOnLastWindowClosed(False)  # the main coroutine decides when we are done
        app.setDesktopFileName("dialer")  # matches resources/dialer.desktop
        from dialer.core.resources import resources_dir

        icon = resources_dir() / "dialer.svg"
        if icon.is_file():
            from PySide6.QtGui import QIcon

            app.setWindowIcon(QIcon(str(icon)))
        from dialer.ui.theme import follow_system_theme

        follow_system_theme(app)
        with asyncio.Runner(loop_factory=lambda: QEventLoop(app)) as runner:
            runner.get_loop().set_default_executor(DaemonThreadExecutor())
            return runner.run(
                main(demo=demo, number=number, paths=paths, instance=instance, owns_process=True)
            )
    finally:
        instance.close()


def _has_c2c_account(profile: Any) -> bool:
    from dialer.core.accounts import ProviderKind

    return any(account.provider is ProviderKind.C2C_V2 for account in profile.accounts.list())


def _dialled_in_demo(paths: AppPaths, number: str) -> bool:
    """Hand ``number`` to the demo profile's window if one runs (True)."""
    from dialer.ui.single_instance import InstanceError, forward_if_running

    try:
        return forward_if_running(instance_folder(paths, demo=True), {"dial": number})
    except InstanceError as exc:
        logger.warning("The demo window runs but did not take the link: %s", exc)
        return False


def instance_folder(paths: AppPaths, *, demo: bool) -> Path:
    """The folder whose lock makes a window the profile's only one: its data folder (the
    demo profile has its own)."""
    return (paths.demo_profile() if demo else paths).data_dir


async def main(
    *,
    demo: bool,
    number: str | None = None,
    paths: AppPaths | None = None,
    instance: SingleInstance | None = None,
    owns_process: bool = False,
) -> int:
    """The window's life. ``owns_process``: this is ``dialer`` itself (:func:`run`), not a
    caller's coroutine in a process of its own (a test), and may tune the process for the
    window, which runs until the process ends."""
    from dialer.app.profile import open_user_profile
    from dialer.core.desktop_settings import load_desktop_settings
    from dialer.core.errors import DialerError
    from dialer.core.logs import setup_logging
    from dialer.ui.desktop import DesktopIntegration
    from dialer.ui.main_window import MainWindow

    paths = paths or AppPaths.default()
    setup_logging(paths.log_dir)
    if demo:
        from dialer.app.demo import open_demo_profile

        profile = await open_demo_profile(paths)
    else:
        profile = open_user_profile(paths)
        await profile.start_reporting()
    window = MainWindow(profile)
    from dialer.ui.crash import CrashPath

    crash_path = CrashPath(window.messages)
    crash_path.install(asyncio.get_running_loop())
    settings_problem = ""
    try:
        settings = load_desktop_settings(paths)
    except DialerError as exc:
        from dialer.core.desktop_settings import DesktopSettings

        settings, settings_problem = DesktopSettings(), str(exc)
    desktop = DesktopIntegration(window, paths, settings, instance=instance)
    try:
        desktop.show_window()
        await window.start()
        if owns_process:
            # What start-up made lives as long as the process does, and a full garbage
            # collection walking it all would hold the window for 45-50 ms.
            window.warm_up.add_done_callback(lambda _: collector.freeze_start_up())
        if profile.reporting_problem and _has_c2c_account(profile):
            # Only C2C v2 pushes reports: without such an account it is nobody's problem.
            from dialer.ui.main_window import REPORTING_PROBLEM

            window.messages.warning(profile.reporting_problem, REPORTING_PROBLEM)
        if profile.reporting_problem and not profile.demo:
            window.tasks.start("reporting", window.keep_trying_reporting())
        if settings_problem:
            window.messages.warning(settings_problem)
        if number:
            desktop.dial(number)
        await window.closed
    finally:
        desktop.close()
        await window.shutdown()
        await profile.aclose()
        crash_path.uninstall()
    return 0
