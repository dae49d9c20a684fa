"""Start the window: one asyncio loop driven by Qt through qasync.

The main coroutine owns shutdown: it waits for the window to close, awaits the cleanup
(tasks cancelled, provider connections and stores closed, the demo simulator stopped), and
returns. ``aboutToQuit`` is too late for that: the loop no longer runs there.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dialer.core.paths import AppPaths

if TYPE_CHECKING:
    from dialer.ui.single_instance import SingleInstance

# Imported once the window's frame is painted (see run): asyncio, qasync and the rest of the
# app are what the first paint must not wait for.

logger = logging.getLogger(__name__)


def run(*, demo: bool = False, number: str | None = None) -> int:
    """The ``dialer`` / ``dialer --demo`` entry point. Returns the exit code.

    ``number`` is a number or a ``tel:``/``callto:``/``sip:`` link from the command line. When
    this profile's window already runs, it goes there (or the window is just brought up)
    and this launch exits at once.
    """
    os.environ.setdefault("QT_API", "pyside6")  # before qasync is imported
    from dialer.ui.qt_start import skip_source_reads

    skip_source_reads()  # before the rest of the app is imported
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

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    try:
        instance.listen()
    except InstanceError as exc:
        logger.warning("%s", exc)  # links then start a window of their own; nothing else lost
    try:
        settings = _desktop_settings(paths)  # read once: the frame and the window need them
        window_file = (paths.demo_profile() if demo else paths).config_dir / "window.ini"
        _set_up(app, settings[0].theme, window_file)
        trace = _startup_trace()
        frame = None if settings[0].start_minimised else _frame(window_file, demo=demo)
        if frame is not None:
            if trace is not None:
                trace.watch(frame)
            frame.show()
            # Painted now, before the loop and the app are even imported. (No coroutine
            # runs yet: this is the one place processEvents() cannot step an asyncio task.)
            app.processEvents()
        import asyncio

        from dialer.core.threads import DaemonThreadExecutor
        from dialer.ui.event_loop import QEventLoop  # qasync's, letting go of cancelled timers

        with asyncio.Runner(loop_factory=lambda: QEventLoop(app)) as runner:
            runner.get_loop().set_default_executor(DaemonThreadExecutor())
            return runner.run(
                main(
                    demo=demo,
                    number=number,
                    paths=paths,
                    instance=instance,
                    owns_process=True,
                    frame=frame,
                    trace=trace,
                    settings=settings,
                )
            )
    finally:
        instance.close()


def _set_up(app: Any, theme: str, window_file: Path) -> None:
    """The application's names, icon and theme (``theme``: the person's choice; the
    system's scheme is remembered in the window's settings file)."""
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

    follow_system_theme(app, theme, memo=window_file)


def _frame(window_file: Path, *, demo: bool) -> Any:
    """The window's frame, to show now (not when the user starts the app in the tray)."""
    from dialer.ui.frame import WindowFrame

    return WindowFrame(window_file, "Dialer" + (" — demo" if demo else ""))


def _startup_trace() -> Any:
    """The start-up benchmark's marks (``DIALER_STARTUP_TRACE``), or None."""
    path = os.environ.get("DIALER_STARTUP_TRACE")
    if not path:
        return None
    from dialer.ui.startup_trace import StartupTrace

    return StartupTrace(Path(path))


async def _open_profile(paths: AppPaths, *, demo: bool) -> Any:
    from dialer.core.logs import setup_logging

    setup_logging(paths.log_dir)
    if demo:
        from dialer.app.demo import open_demo_profile

        return await open_demo_profile(paths)
    from dialer.app.profile import open_user_profile

    return open_user_profile(paths)


def _desktop_settings(paths: AppPaths) -> tuple[Any, str]:
    """The desktop settings, and why they could not be read ("" when they could)."""
    from dialer.core.desktop_settings import DesktopSettings, load_desktop_settings
    from dialer.core.errors import DialerError

    try:
        return load_desktop_settings(paths), ""
    except DialerError as exc:
        return DesktopSettings(), str(exc)


def _tell_problems(window: Any, profile: Any, settings_problem: str) -> None:
    """What start-up could not do, said in the window (the receiver is tried again)."""
    if profile.reporting_problem and _has_c2c_account(profile):
        # Only C2C v2 pushes reports: without such an account it is nobody's problem.
        from dialer.ui.main_window import REPORTING_PROBLEM

        window.messages.warning(profile.reporting_problem, REPORTING_PROBLEM)
    if profile.reporting_problem and not profile.demo:
        window.tasks.start("reporting", window.keep_trying_reporting())
    if settings_problem:
        window.messages.warning(settings_problem)


async def tune_collector(warm_up: Any) -> None:
    """Once start-up is done: its objects frozen, then full collections on a schedule."""
    import asyncio

    from dialer.core import collector

    await asyncio.wait([warm_up])  # done, whatever came of it (the window says if it failed)
    collector.freeze_start_up()
    await collector.collect_fully_now_and_then()


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
    frame: Any = None,
    trace: Any = None,
    settings: tuple[Any, str] | None = None,
) -> int:
    """The window's life. ``owns_process``: this is ``dialer`` itself (:func:`run`), not a
    caller's coroutine in a process of its own (a test), and may tune the process for the
    window, which runs until the process ends. ``frame``: the window's frame, already
    shown (:mod:`dialer.ui.frame`), to hold the main window; ``trace``: the start-up
    benchmark's marks; ``settings``: the desktop settings and their problem, when the
    caller has read them already."""
    import asyncio

    if frame is not None:
        await frame.wait_painted(0.5)  # the imports and the profile below hold the loop
    from dialer.ui.theme import follow_theme

    follow_theme()  # the system's scheme, asked now the first paint is done
    from dialer.ui.desktop import DesktopIntegration
    from dialer.ui.main_window import MainWindow

    paths = paths or AppPaths.default()
    profile = await _open_profile(paths, demo=demo)
    window = MainWindow(profile)
    if frame is not None:
        frame.hold(window)
    elif trace is not None:
        trace.watch(window)
    from dialer.ui.crash import CrashPath

    crash_path = CrashPath(window.messages)
    crash_path.install(asyncio.get_running_loop())
    desktop_settings, settings_problem = settings or _desktop_settings(paths)
    desktop = DesktopIntegration(window, paths, desktop_settings, instance=instance)
    collections: asyncio.Future[None] | None = None
    try:
        desktop.show_window()
        if frame is not None and frame.closed_early:
            window.close()  # closed while it opened: the app ends as if closed now
        await window.start()
        if not demo:  # the demo's started with its simulator, which it reports from
            # Once the window shows its contents: the tracker and the receiver (its port,
            # the keyring's secret) are not what the agent waits to see.
            await profile.start_reporting()
        if trace is not None:  # outside the window's tasks: it waits for them all
            trace.task = asyncio.ensure_future(trace.until_idle(window))
        if owns_process:
            # What start-up made lives as long as the process does, and a full garbage
            # collection walking it all would hold the window for 45-50 ms; later ones run
            # on the window's schedule (see dialer.core.collector).
            collections = asyncio.ensure_future(tune_collector(window.warm_up))
        _tell_problems(window, profile, settings_problem)
        if number:
            desktop.dial(number)
        await window.closed
    finally:
        if collections is not None:
            collections.cancel()
        desktop.close()
        await window.shutdown()
        await profile.aclose()
        crash_path.uninstall()
        if frame is not None:
            frame.hide()
            frame.deleteLater()
    return 0
