"""One window per profile, for real: later launches are separate processes that hand their
link or number to the instance this test runs, over Qt's local socket."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtNetwork import QLocalSocket

from dialer.core.paths import AppPaths
from dialer.ui.single_instance import SingleInstance, forward_if_running, server_name
from tests.ui.conftest import until

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, DIALER_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.pop("DIALER_NO_WINDOW", None)
    return env


async def launch(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m dialer ARGS`` as a process of its own; the test's loop keeps running
    (and answering on the socket) while it does."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        None,
        lambda: subprocess.run(
            [sys.executable, "-m", "dialer", *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env=_env(home),
        ),
    )


@pytest.fixture
def running(qapp: Any, dialer_home: Path) -> Any:
    """This test process as the profile's running window."""
    instance = SingleInstance(AppPaths.default().data_dir)
    assert instance.claim()
    instance.listen()
    received: list[dict[str, Any]] = []
    instance.received.connect(received.append)
    yield instance, received
    instance.close()


@pytest.mark.parametrize(
    "link",
    ["tel:+91-88671-35000;ext=12", "callto:+918867135000", "sip:1001@pbx.example.com"],
)
async def test_a_second_launch_with_a_link_hands_it_over_and_exits(
    running: Any, dialer_home: Path, link: str
) -> None:
    _instance, received = running
    done = await launch(dialer_home, link)
    assert done.returncode == 0, done.stderr
    assert "sent to the Dialer window already running" in done.stderr
    await until(lambda: received == [{"dial": link}])


async def test_a_bare_number_and_dialer_call_are_handed_over_too(
    running: Any, dialer_home: Path
) -> None:
    _instance, received = running
    first = await launch(dialer_home, "+91 88671 35000")
    second = await launch(dialer_home, "call", "+918867135001")
    assert (first.returncode, second.returncode) == (0, 0), (first.stderr, second.stderr)
    assert "confirm the call there" in second.stdout
    await until(lambda: len(received) == 2)
    assert received == [{"dial": "+91 88671 35000"}, {"dial": "+918867135001"}]


async def test_dialer_call_with_options_stays_headless(running: Any, dialer_home: Path) -> None:
    """Scripts that pass options rely on the exit codes: nothing is handed over."""
    _instance, received = running
    done = await launch(dialer_home, "call", "+918867135000", "--account", "nope")
    assert done.returncode != 0  # no such account: refused here, as before
    assert "nope" in done.stderr
    await asyncio.sleep(0.1)
    assert received == []


async def test_a_plain_second_launch_brings_the_window_up(running: Any, dialer_home: Path) -> None:
    _instance, received = running
    done = await launch(dialer_home)
    assert done.returncode == 0, done.stderr
    await until(lambda: received == [{"show": True}])


async def test_what_is_not_a_request_is_refused_and_changes_nothing(running: Any) -> None:
    instance, received = running
    for garbage in (b"not json\n", b'{"dial": 42}\n', b'{"run": "rm -rf"}\n', b"x" * 9000):
        socket = QLocalSocket()
        socket.connectToServer(instance.name)
        assert socket.waitForConnected(2000)
        socket.write(garbage)
        socket.flush()
        answer = bytearray()

        def answered(s: QLocalSocket = socket, a: bytearray = answer) -> bool:
            a.extend(bytes(s.readAll().data()))
            return b"\n" in a

        await until(answered)
        assert json.loads(bytes(answer))["ok"] is False
        socket.abort()
    assert received == []


def crash_an_instance(data_dir: Path, home: Path) -> None:
    """Start an instance of the profile in a process of its own, then kill -9 it."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from PySide6.QtCore import QCoreApplication\n"
            "app = QCoreApplication([])\n"
            "from dialer.ui.single_instance import SingleInstance\n"
            "instance = SingleInstance(Path(sys.argv[1]))\n"
            "assert instance.claim()\n"
            "instance.listen()\n"
            "print('listening', flush=True)\n"
            "time.sleep(60)\n",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(home),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "listening"
        assert not SingleInstance(data_dir).claim()  # alive: the lock is its
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


async def test_a_crashed_instance_is_replaced_by_the_next_launch(
    qapp: Any, dialer_home: Path
) -> None:
    """kill -9 leaves a lock and a socket file behind; the next first launch takes over."""
    data_dir = AppPaths.default().data_dir
    crash_an_instance(data_dir, dialer_home)
    assert (data_dir / "instance.lock").exists()  # left behind
    instance = SingleInstance(data_dir)
    assert instance.claim()  # stale: its process is gone
    instance.listen()  # over the dead one's socket
    received: list[dict[str, Any]] = []
    instance.received.connect(received.append)
    try:
        done = await launch(dialer_home, "tel:+918867135000")
        assert done.returncode == 0, done.stderr
        await until(lambda: received == [{"dial": "tel:+918867135000"}])
    finally:
        instance.close()


def test_with_nothing_running_nothing_is_forwarded(qapp: Any, dialer_home: Path) -> None:
    data_dir = AppPaths.default().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    assert forward_if_running(data_dir, {"dial": "+918867135000"}) is False
    assert SingleInstance(data_dir).claim()  # and the probe left the lock free


def test_each_profile_folder_has_its_own_socket(tmp_path: Path) -> None:
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a")


async def test_a_link_goes_to_the_demo_window_when_only_it_runs(
    qapp: Any, dialer_home: Path
) -> None:
    # Only the demo profile's window runs (this process): a link opened by the desktop
    # ("dialer tel:...", the default profile) goes there, not to a second, empty window.
    instance = SingleInstance(AppPaths.default().demo_profile().data_dir)
    assert instance.claim()
    instance.listen()
    received: list[dict[str, Any]] = []
    instance.received.connect(received.append)
    try:
        done = await launch(dialer_home, "tel:+918867135000")
        assert done.returncode == 0, done.stderr
        assert "sent to the demo window already running" in done.stderr
        await until(lambda: received == [{"dial": "tel:+918867135000"}])
        # The default profile's lock was let go again: its own window can start later.
        default = SingleInstance(AppPaths.default().data_dir)
        assert default.claim()
        default.close()
    finally:
        instance.close()
