"""One window per user and profile: a second launch hands its number to the running one.

The first ``dialer`` of a profile holds a lock file in its data folder for its whole life
and listens on a local socket (``QLocalServer``: a Unix socket, a named pipe on Windows).
A later launch, a clicked ``tel:`` link, or ``dialer call NUMBER`` finds the lock taken,
sends one JSON line (``{"dial": "<text>"}`` or ``{"show": true}``) to that socket, waits
for the answer line (``{"ok": true}``) and exits.

After a crash the lock is stale (``QLockFile`` checks that its process is gone) and the
socket file may be left behind: the next first launch takes the lock over and removes the
old socket before listening. The lock, not the socket, decides who is first, so two
launches at the same moment cannot both listen.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

logger = logging.getLogger(__name__)

# A request is one short JSON line; anything longer is not ours.
MAX_REQUEST = 8 * 1024
# How long a second launch waits for the first to start listening (it may be starting
# itself: the lock is taken before the window is built) and to answer.
CONNECT_WAIT_S = 5.0
ANSWER_WAIT_MS = 3000


class InstanceError(Exception):
    """The running instance could not be reached; the message says why in one sentence."""


def server_name(data_dir: Path) -> str:
    """The local socket's name: one per user and data folder (the demo profile has its
    own), short enough for a Unix socket path."""
    import getpass

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        user = ""
    digest = hashlib.sha256(f"{user}\n{data_dir.resolve()}".encode()).hexdigest()[:16]
    return f"dialer-{digest}"


class SingleInstance(QObject):
    """``claim()`` once at start: True makes this the running instance (then ``listen()``
    and connect ``received``); False means another one runs: ``send(...)`` to it."""

    # Each request from a later launch: {"dial": text} or {"show": True}.
    received = Signal(dict)

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.name = server_name(data_dir)
        self._lock = _lock_file(data_dir)
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """Take the profile's lock (a crashed instance's stale lock is taken over)."""
        return bool(self._lock.tryLock(0))

    def listen(self) -> None:
        """Listen for later launches. Raises :class:`InstanceError` if the socket cannot be
        made (the window still runs; links then start a second window)."""
        QLocalServer.removeServer(self.name)  # a crashed instance's socket file
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            raise InstanceError(f"Cannot listen for other launches: {server.errorString()}")
        server.newConnection.connect(self._accept)
        self._server = server

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()

    def _accept(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            buffer = bytearray()
            socket.readyRead.connect(lambda s=socket, b=buffer: self._read(s, b))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket, buffer: bytearray) -> None:
        buffer.extend(bytes(socket.readAll().data()))
        if len(buffer) > MAX_REQUEST:
            self._answer(socket, {"ok": False, "error": "request too long"})
            return
        if b"\n" not in buffer:
            return
        line = bytes(buffer).split(b"\n", 1)[0]
        try:
            request = json.loads(line)
        except ValueError:
            request = None
        if not (isinstance(request, dict) and _valid(request)):
            self._answer(socket, {"ok": False, "error": "not a dialer request"})
            return
        self._answer(socket, {"ok": True})
        logger.info("request from another launch: %s", "dial" if "dial" in request else "show")
        self.received.emit(request)

    @staticmethod
    def _answer(socket: QLocalSocket, answer: dict[str, Any]) -> None:
        socket.write(json.dumps(answer).encode() + b"\n")
        socket.flush()
        socket.disconnectFromServer()


def _valid(request: dict[str, Any]) -> bool:
    if set(request) == {"dial"}:
        return isinstance(request["dial"], str) and bool(request["dial"].strip())
    return request == {"show": True}


def send_to_running(data_dir: Path, request: dict[str, Any]) -> None:
    """Hand ``request`` to the running instance of this profile and wait for its answer.
    Raises :class:`InstanceError` when it cannot be reached or refuses."""
    name = server_name(data_dir)
    socket = QLocalSocket()
    deadline = time.monotonic() + CONNECT_WAIT_S
    while True:
        socket.connectToServer(name)
        if socket.waitForConnected(500):
            break
        if time.monotonic() >= deadline:
            raise InstanceError(
                "Another Dialer is starting or stuck (its lock is held) but does not answer; "
                "try again, or close it"
            )
        time.sleep(0.1)
    socket.write(json.dumps(request).encode() + b"\n")
    socket.waitForBytesWritten(ANSWER_WAIT_MS)
    answer = bytearray()
    while b"\n" not in answer and socket.waitForReadyRead(ANSWER_WAIT_MS):
        answer.extend(bytes(socket.readAll().data()))
    socket.disconnectFromServer()
    try:
        reply = json.loads(bytes(answer).split(b"\n", 1)[0])
    except ValueError:
        raise InstanceError("The running Dialer did not answer") from None
    if not (isinstance(reply, dict) and reply.get("ok") is True):
        error = reply.get("error") if isinstance(reply, dict) else None
        raise InstanceError(f"The running Dialer refused the request ({error or 'no reason'})")


def _lock_file(data_dir: Path) -> QLockFile:
    lock = QLockFile(str(data_dir / "instance.lock"))
    lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
    return lock


def hand_over(data_dir: Path, request: dict[str, Any]) -> None:
    """:func:`send_to_running` from a launch that has no Qt application object yet: it
    makes the light one sockets need (no platform plugin, no window system connection)."""
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is None:
        QCoreApplication([])  # no event loop runs: the socket calls below block
    send_to_running(data_dir, request)


def forward_if_running(data_dir: Path, request: dict[str, Any]) -> bool:
    """For a launch that needs no window of its own (``dialer call NUMBER``): hand
    ``request`` to the running window of this profile if there is one (True), else False.
    Raises :class:`InstanceError` when one runs but cannot be reached."""
    if not data_dir.is_dir():
        return False  # no profile folder yet: no window has ever run on it
    probe = _lock_file(data_dir)
    if probe.tryLock(0):
        probe.unlock()  # nobody holds it: no window runs
        return False
    if probe.error() is not QLockFile.LockError.LockFailedError:
        return False  # the folder is not writable here: whatever runs, it is not ours to use
    # Qt's application object is made only now: a process that goes on to place the call
    # itself (or a test) never gets one.
    hand_over(data_dir, request)
    return True


__all__ = [
    "InstanceError",
    "SingleInstance",
    "forward_if_running",
    "hand_over",
    "send_to_running",
    "server_name",
]
