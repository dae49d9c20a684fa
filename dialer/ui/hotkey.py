"""The global hotkey: a key combination pressed in any application dials a number.

Qt has no system-wide shortcuts, so the keyboard is watched through pynput, imported only
when the hotkey is turned on (it costs start-up time, and on Linux it refuses to import at
all without an X display). Wayland does not let an application watch the keyboard of
others, so there the hotkey is not offered (:func:`hotkey_support` says why and what to do).

What is dialled:

* X11: the PRIMARY selection, i.e. the text just selected in any application, when it holds
  something, else the clipboard.
* Windows and macOS: the clipboard. These systems have no selection another application can
  read; the only way to get at selected text is to send the application a copy keystroke
  (Ctrl+C / Cmd+C) and read the clipboard afterwards. That is not done here: the user is
  still holding the hotkey's own modifiers when it fires, so the application would see
  Ctrl+Alt+C (some other shortcut) rather than a copy; the copy lands some time later, if
  at all, so reading it means guessing a delay; it would replace the user's clipboard
  (restoring it afterwards loses rich content and races clipboard managers); and on macOS
  sending keys needs the Accessibility permission on top of Input Monitoring. So there the
  agent copies the number, then presses the hotkey: the settings dialog says so.

pynput calls back on its own listener thread. Nothing Qt is touched there: the callback
only emits a signal connected with a queued connection, so the clipboard is read, and
``triggered`` emitted, on the GUI thread.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QClipboard, QGuiApplication

from dialer.core.desktop_settings import hotkey_label, parse_hotkey
from dialer.core.errors import InvalidInput

logger = logging.getLogger(__name__)

# A selection can be a whole page; a number, a link or a line around one is far shorter.
MAX_TEXT = 1000
READY_TIMEOUT = 5.0  # seconds for pynput to connect to the display (milliseconds normally)

WAYLAND_SENTENCE = (
    "Wayland does not let applications watch the keyboard system-wide, so Dialer cannot "
    "offer a global hotkey here; instead, add a shortcut in your desktop's keyboard "
    """settings that runs: sh -c 'dialer "$(wl-paste --primary)"'"""
)
NO_DISPLAY_SENTENCE = (
    "There is no X display (DISPLAY is not set), so there is no keyboard to watch for a "
    "global hotkey"
)


def _usage_sentence() -> str:
    if sys.platform == "darwin":
        return (
            "Copy a number (Cmd+C) in any application, then press the hotkey; macOS asks once "
            "to allow Dialer under Privacy & Security › Input Monitoring"
        )
    if sys.platform == "win32":
        return "Copy a number (Ctrl+C) in any application, then press the hotkey"
    return (
        "Select a number in any application (or copy it), then press the hotkey; "
        "a call starts at once"
    )


def _load_pynput_keyboard() -> Any:
    """pynput's keyboard module (untyped: it ships no type information)."""
    return importlib.import_module("pynput.keyboard")


def _pynput_problem() -> str | None:
    """Why pynput's keyboard cannot load here, or None when it can."""
    try:
        _load_pynput_keyboard()
    except Exception as exc:  # ImportError without X; Xlib may raise its own errors too
        reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
        # Logged as text: a record holding the exception would keep Xlib's half-open
        # sockets alive through the traceback for as long as the record lives.
        logger.info("pynput cannot watch the keyboard: %s", str(exc))
        return (
            "The keyboard cannot be watched system-wide here (the keyboard library could not load"
            + (f": {reason})" if reason else ")")
        )
    return None


def hotkey_support() -> tuple[bool, str]:
    """Whether a global hotkey can work in this session, and a sentence: how to use it when
    it can, why not when it cannot. Imports pynput when nothing else rules it out."""
    if sys.platform not in ("win32", "darwin"):
        session = os.environ.get("XDG_SESSION_TYPE", "").strip().lower()
        has_x = bool(os.environ.get("DISPLAY", "").strip())
        if session == "wayland" or (os.environ.get("WAYLAND_DISPLAY") and not has_x):
            return False, WAYLAND_SENTENCE
        if not has_x:
            return False, NO_DISPLAY_SENTENCE
    problem = _pynput_problem()
    if problem is None and sys.platform not in ("win32", "darwin"):
        problem = _x_record_problem()
    if problem is not None:
        return False, problem
    return True, _usage_sentence()


def _x_record_problem() -> str | None:
    """pynput watches X11 keyboards through the X server's RECORD extension, which some
    servers (VNC, a few remote desktops) lack; without it its listener thread just dies."""
    try:
        x_display = importlib.import_module("Xlib.display").Display()
    except Exception as exc:  # pynput loaded, so this is a display gone in between
        return f"The X display cannot be reached ({str(exc).strip() or type(exc).__name__})"
    try:
        has_record = bool(x_display.has_extension("RECORD"))
    finally:
        x_display.close()
    if not has_record:
        return (
            "This X server lacks the RECORD extension, which is how a global hotkey watches "
            "the keyboard on X11"
        )
    return None


def read_dial_text(clipboard: QClipboard) -> str:
    """The text the hotkey dials: the selection where the system has one and it holds
    something (X11), else the clipboard; stripped and cut to :data:`MAX_TEXT`."""
    text = ""
    if clipboard.supportsSelection():
        text = clipboard.text(QClipboard.Mode.Selection).strip()
    if not text:
        text = clipboard.text(QClipboard.Mode.Clipboard).strip()
    return text[:MAX_TEXT]


def _until_ready(listener: Any, timeout: float = READY_TIMEOUT) -> bool:
    """Wait until pynput's listener watches the keyboard. Its own ``wait()`` never returns
    when the listener thread fails first (an X server without the RECORD extension), so it
    is waited for on a helper thread, and the listener thread's death ends the wait."""
    ready = threading.Event()

    def wait() -> None:
        listener.wait()
        ready.set()

    threading.Thread(target=wait, name="hotkey-ready", daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.01):
        if not listener.is_alive() or time.monotonic() > deadline:
            logger.warning("pynput's keyboard listener did not become ready")
            return False
    return True


class GlobalHotkey(QObject):
    """One global hotkey. ``triggered`` carries the text to dial ("" when the selection and
    the clipboard hold no text), always emitted on the GUI thread."""

    triggered = Signal(str)
    # Emitted on pynput's thread; queued, so that its slot runs on this object's thread.
    _pressed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._listener: Any = None  # pynput.keyboard.GlobalHotKeys while running
        self._generation = 0  # which listener may still pass presses on (read on its thread)
        self.sequence = ""
        self._pressed.connect(self._read_and_emit, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self, sequence: str) -> str | None:
        """Watch for ``sequence`` (pynput syntax, e.g. ``<ctrl>+<alt>+d``). Returns None
        when the hotkey is on, else the sentence why not. Replaces a hotkey already on."""
        self.stop()
        try:
            parsed = parse_hotkey(sequence)
        except InvalidInput as exc:
            return str(exc)
        supported, sentence = hotkey_support()
        if not supported:
            return sentence
        keyboard = _load_pynput_keyboard()

        label = hotkey_label(parsed)
        try:
            listener = keyboard.GlobalHotKeys({parsed: self._callback(self._generation)})
            listener.daemon = True  # never keeps the app alive on the way out
            listener.start()
        except Exception as exc:  # ValueError from its parser, OS errors on start
            logger.warning("The global hotkey %s did not start", parsed, exc_info=True)
            return f"{label} could not be set up: {exc}"
        if not _until_ready(listener):
            # Not stopped: pynput's stop() waits for a readiness that may never come. Its
            # thread is a daemon, and should it become ready after all, it passes nothing on.
            self._generation += 1
            return f"{label} could not be set up: the keyboard watcher did not start"
        if sys.platform == "darwin" and not getattr(listener, "IS_TRUSTED", True):
            listener.stop()
            return (
                f"macOS has not allowed Dialer to watch the keyboard, so {label} would do "
                "nothing: allow Dialer under System Settings › Privacy & Security › "
                "Accessibility and Input Monitoring, then turn the hotkey on again"
            )
        self._listener = listener
        self.sequence = parsed
        logger.info("Global hotkey %s is on", parsed)
        return None

    def stop(self) -> None:
        """Stop watching the keyboard. Returns at once: on X11, pynput's listener thread
        (a daemon) only notices at the next key or mouse event, so it is not waited for
        (pynput issue #75 and pull request #583); it calls nothing after this."""
        listener, self._listener = self._listener, None
        self._generation += 1  # a press already under way on pynput's thread is dropped
        if listener is None:
            return
        listener.stop()
        logger.info("Global hotkey %s is off", self.sequence)

    def _callback(self, generation: int) -> Callable[[], None]:
        """The function pynput calls: passes presses on while ``generation`` is current."""

        def pressed() -> None:
            if generation == self._generation:
                self.on_hotkey()

        return pressed

    def on_hotkey(self) -> None:
        """pynput's callback, on pynput's thread: hand over to the GUI thread, nothing else."""
        self._pressed.emit()

    @Slot()
    def _read_and_emit(self) -> None:
        app = QGuiApplication.instance()
        text = read_dial_text(app.clipboard()) if isinstance(app, QGuiApplication) else ""
        self.triggered.emit(text)
