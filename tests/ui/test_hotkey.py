"""The global hotkey: when it is offered, what it reads, and the hand-over from pynput's
thread to the GUI thread.

In this process Qt runs offscreen and there is no X display, so pynput cannot load here;
the end-to-end test runs a second process on a private Xvfb server (when Xvfb is
installed), where real key presses (XTest) reach pynput and the real PRIMARY selection is
read through Qt's xcb platform.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QClipboard, QGuiApplication

from dialer.core.desktop_settings import DesktopSettings
from dialer.ui.hotkey import (
    MAX_TEXT,
    NO_DISPLAY_SENTENCE,
    WAYLAND_SENTENCE,
    GlobalHotkey,
    hotkey_support,
    read_dial_text,
)
from tests.ui.conftest import until

pytestmark = pytest.mark.gui

linux_only = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"), reason="X11 and Wayland are Linux sessions"
)
REPOSITORY = Path(__file__).resolve().parents[2]


def clipboard() -> QClipboard:
    board = QGuiApplication.clipboard()
    assert board is not None
    return board


def free_display() -> str:
    """A display name no X server answers on this machine."""
    number = 4242
    while Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
        number += 1
    return f":{number}"


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# -- where the hotkey is offered --------------------------------------------------------------


@linux_only
@pytest.mark.parametrize(
    "env",
    [
        {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"},
        {"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"},  # XWayland sees X apps only
        {"WAYLAND_DISPLAY": "wayland-0"},
    ],
)
def test_wayland_has_no_global_hotkey(session: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        session.setenv(name, value)
    assert hotkey_support() == (False, WAYLAND_SENTENCE)
    assert "keyboard settings" in WAYLAND_SENTENCE


@linux_only
def test_no_display_no_hotkey(session: pytest.MonkeyPatch) -> None:
    assert hotkey_support() == (False, NO_DISPLAY_SENTENCE)
    session.setenv("XDG_SESSION_TYPE", "tty")
    assert hotkey_support() == (False, NO_DISPLAY_SENTENCE)


@linux_only
def test_a_display_nobody_answers_is_refused_with_pynputs_reason(
    session: pytest.MonkeyPatch,
) -> None:
    session.setenv("DISPLAY", free_display())
    supported, sentence = hotkey_support()
    with warnings.catch_warnings():
        # Xlib leaves the sockets of its failed connection to the garbage collector.
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    assert not supported
    assert sentence.startswith(
        "The keyboard cannot be watched system-wide here (the keyboard library could not load: "
    )
    assert "\n" not in sentence


@linux_only
def test_start_says_why_not_and_starts_nothing(session: pytest.MonkeyPatch, qapp: Any) -> None:
    hotkey = GlobalHotkey()
    threads = set(threading.enumerate())
    assert hotkey.start("<ctrl>+<alt>+d") == NO_DISPLAY_SENTENCE
    assert not hotkey.running
    assert set(threading.enumerate()) == threads
    hotkey.stop()  # harmless when nothing runs


def test_start_refuses_an_invalid_hotkey_first(qapp: Any) -> None:
    hotkey = GlobalHotkey()
    said = hotkey.start("<ctrl>+<hyper>+d")
    assert said is not None and said.startswith("'<hyper>' in the hotkey")
    assert not hotkey.running


# -- what it reads, and on which thread ------------------------------------------------------


def test_reads_the_clipboard_where_there_is_no_selection(qapp: Any) -> None:
    board = clipboard()
    assert not board.supportsSelection()  # offscreen, like Windows and macOS
    board.setText("  +91 88671 35000\n")
    assert read_dial_text(board) == "+91 88671 35000"
    board.setText("9" * (MAX_TEXT + 50))
    assert read_dial_text(board) == "9" * MAX_TEXT
    board.clear()
    assert read_dial_text(board) == ""


async def test_a_press_on_pynputs_thread_is_handled_on_the_gui_thread(qapp: Any) -> None:
    clipboard().setText(" tel:+918867135000 ")
    hotkey = GlobalHotkey()
    got: list[tuple[str, int]] = []
    # Direct: the recorder runs on whichever thread emits, which must be the GUI thread.
    hotkey.triggered.connect(
        lambda text: got.append((text, threading.get_ident())), Qt.ConnectionType.DirectConnection
    )
    # pynput calls back on its own plain Python thread.
    presser = threading.Thread(target=hotkey.on_hotkey, name="pynput-listener")
    presser.start()
    presser.join()
    assert got == []  # nothing ran on that thread: the hand-over is queued
    await until(lambda: bool(got))
    assert got == [("tel:+918867135000", threading.get_ident())]  # read on the GUI thread

    clipboard().clear()
    presser = threading.Thread(target=hotkey.on_hotkey)
    presser.start()
    presser.join()
    await until(lambda: len(got) == 2)
    assert got[1] == ("", threading.get_ident())  # nothing to dial: said with ""
    hotkey.deleteLater()


async def test_a_press_racing_stop_is_dropped(qapp: Any) -> None:
    """pynput may be inside its callback while the GUI thread stops the hotkey: that press
    must not dial, while presses of the current listener still do."""
    clipboard().setText("+91 88671 35000")
    hotkey = GlobalHotkey()
    got: list[str] = []
    hotkey.triggered.connect(got.append)
    stale = hotkey._callback(hotkey._generation)
    hotkey.stop()
    current = hotkey._callback(hotkey._generation)
    for callback in (stale, current):
        presser = threading.Thread(target=callback)
        presser.start()
        presser.join()
    await until(lambda: bool(got))
    # One more press, posted after the others: once it arrives, every earlier one has.
    clipboard().setText("+44 20 7946 0000")
    presser = threading.Thread(target=current)
    presser.start()
    presser.join()
    await until(lambda: len(got) >= 2)
    assert got == ["+91 88671 35000", "+44 20 7946 0000"]
    hotkey.deleteLater()


# -- the app's wiring: nothing starts while the setting is off ------------------------------


@linux_only
async def test_nothing_starts_while_the_setting_is_off(
    window: Any, session: pytest.MonkeyPatch, dialer_home: Path
) -> None:
    from dialer.core.paths import AppPaths
    from dialer.ui.desktop import DesktopIntegration

    threads = set(threading.enumerate())
    desktop = DesktopIntegration(window, AppPaths.default(), DesktopSettings())
    try:
        assert desktop.hotkey is None
        assert desktop.hotkey_problem == ""
        assert set(threading.enumerate()) == threads
        # Turned on where it cannot work: still nothing runs, and the reason is kept.
        desktop.apply(DesktopSettings(hotkey_enabled=True))
        assert desktop.hotkey is None
        assert desktop.hotkey_problem == NO_DISPLAY_SENTENCE
        assert set(threading.enumerate()) == threads
    finally:
        desktop.close()


# -- end to end on a private X server -------------------------------------------------------

X_SCRIPT = r"""
import json, threading, time
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QClipboard
from PySide6.QtWidgets import QApplication
from Xlib import X, XK, display
from Xlib.ext import xtest
from dialer.ui.hotkey import GlobalHotkey, hotkey_support

app = QApplication([])
board = app.clipboard()
main = threading.get_ident()
out = {"platform": app.platformName(), "support": hotkey_support(), "received": []}
before = {t.name for t in threading.enumerate()}
hotkey = GlobalHotkey()
out["start"] = hotkey.start("Ctrl+Alt+D")
out["sequence"] = hotkey.sequence
x = display.Display()

def press(*names):
    codes = [x.keysym_to_keycode(XK.string_to_keysym(name)) for name in names]
    for code in codes:
        xtest.fake_input(x, X.KeyPress, code)
    for code in reversed(codes):
        xtest.fake_input(x, X.KeyRelease, code)
    x.sync()

def step():
    count = len(out["received"])
    if count == 0:
        board.setText(" +91 88671 35000 ", QClipboard.Mode.Selection)
        board.setText("clipboard text")
        press("Control_L", "Alt_L", "d")
    elif count == 1:
        board.clear(QClipboard.Mode.Selection)
        board.setText("+44 20 7946 0000")
        press("Control_L", "d")  # not the hotkey: must not fire
        press("Alt_L", "d")
        press("Control_R", "Alt_R", "D")
    else:
        hotkey.stop()
        out["running_after_stop"] = hotkey.running
        # On X11 pynput's listener thread notices the stop at the next input event: this
        # press, which must not dial anything.
        board.setText("pressed after stop", QClipboard.Mode.Selection)
        press("Control_L", "Alt_L", "d")
        for _ in range(1000):
            left = sorted({t.name for t in threading.enumerate()} - before)
            if not left:
                break
            time.sleep(0.01)
        out["threads_left"] = left
        app.processEvents()  # delivers a queued press, if one had slipped through
        from pynput.keyboard import HotKey
        from dialer.core.desktop_settings import parse_hotkey
        samples = ["Ctrl+Alt+D", "Ctrl+Shift+F9", "Win+Esc", "AltGr+1", "<ctrl>++",
                   "Ctrl+Alt+Page Up", "ctrl+alt+caps lock", "<ctrl>+<alt>+<65>", "ctrl+alt+ö"]
        refused = []
        for sample in samples:
            try:
                HotKey.parse(parse_hotkey(sample))
            except ValueError:
                refused.append(sample)
        out["pynput_refused"] = refused
        app.quit()

def triggered(text):
    out["received"].append([text, threading.get_ident() == main])
    QTimer.singleShot(0, step)

hotkey.triggered.connect(triggered, Qt.ConnectionType.DirectConnection)
if out["start"] is None:
    QTimer.singleShot(0, step)
    QTimer.singleShot(30000, app.quit)  # a safety net, not a measurement
    app.exec()
print(json.dumps(out))
"""


@pytest.fixture
def x_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """A private Xvfb server; ``indirect`` parameters are extra arguments for it."""
    extra: list[str] = getattr(request, "param", [])
    xvfb = shutil.which("Xvfb")
    if xvfb is None or sys.platform in ("win32", "darwin"):
        pytest.skip("Xvfb is not installed")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-nolisten", "tcp", *extra],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as ready:
            number = ready.readline().strip()  # written once the server accepts clients
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_on_x(display: str, script: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env.update(DISPLAY=display, XDG_SESSION_TYPE="x11", QT_QPA_PLATFORM="xcb")
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPOSITORY,
        timeout=90,
        check=False,
    )


def test_end_to_end_on_x11(x_server: str) -> None:
    result = run_on_x(x_server, X_SCRIPT)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    assert out["platform"] == "xcb"
    assert out["support"][0] is True
    assert out["support"][1].startswith("Select a number in any application")
    assert out["start"] is None
    assert out["sequence"] == "<ctrl>+<alt>+d"
    assert out["received"] == [
        ["+91 88671 35000", True],  # the selection, over the clipboard
        ["+44 20 7946 0000", True],  # no selection: the clipboard (Ctrl+D, Alt+D did nothing)
    ]
    assert out["running_after_stop"] is False
    assert out["threads_left"] == []  # pynput's listener (and its helpers) ended
    assert out["pynput_refused"] == []  # every spelling parse_hotkey writes, pynput reads


NO_RECORD_SCRIPT = r"""
import json, threading
from PySide6.QtWidgets import QApplication
from dialer.ui.hotkey import GlobalHotkey, hotkey_support

app = QApplication([])
before = {t.name for t in threading.enumerate()}
hotkey = GlobalHotkey()
out = {"support": hotkey_support(), "start": hotkey.start("Ctrl+Alt+D"), "running": hotkey.running}
out["threads_left"] = sorted({t.name for t in threading.enumerate()} - before)
print(json.dumps(out))
"""


@pytest.mark.parametrize("x_server", [["-extension", "RECORD"]], indirect=True)
def test_an_x_server_without_record_is_refused_up_front(x_server: str) -> None:
    """Without RECORD pynput's listener thread dies at start (and its wait() would never
    return): the hotkey is refused before one is started, with the reason."""
    result = run_on_x(x_server, NO_RECORD_SCRIPT)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    sentence = (
        "This X server lacks the RECORD extension, which is how a global hotkey watches the "
        "keyboard on X11"
    )
    assert out == {
        "support": [False, sentence],
        "start": sentence,
        "running": False,
        "threads_left": [],
    }
