"""``dialer track`` and ``dialer webhooks serve`` as real processes, stopped by a signal:
they conclude what they can, stop cleanly and say what they concluded.

The subprocess reads the v1 PIN from the tests' file keyring (tests/webhooks/file_keyring.py)
and the tracker's timings from a one-line prelude that shortens them, as the in-process tests
do (tests/cli/test_track_cli.py)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dialer.core.paths import AppPaths
from dialer.webhooks.settings import WebhookSettings, save_settings
from tests.cli.conftest import Sim
from tests.cli.test_cli import SECRETS, add_accounts
from tests.cli.test_track_cli import place
from tests.webhooks.file_keyring import FileKeyring
from tests.webhooks.test_kill import REPO, environment, free_port

ACCOUNTS = ("sim-c2c", "sim-v1", "sim-kazoo", "sim-digi")
PRELUDE = (
    "import sys; from dialer.cli import track; from dialer.cli.main import main; "
    "from tests.cli.conftest import FAST; track.TIMINGS = FAST; "
    "sys.exit(main(sys.argv[1:]))"
)


def start(env: dict[str, str], *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", PRELUDE, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def status_in_file(call_id: str) -> str:
    db = sqlite3.connect(AppPaths.default().calls_db)
    try:
        row = db.execute("SELECT status FROM calls WHERE id = ?", (call_id,)).fetchone()
    finally:
        db.close()
    return str(row[0])


def wait_concluded(call_id: str, proc: subprocess.Popen[str]) -> str:
    """The call's status once another process concluded it (the limit guards a hang)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = status_in_file(call_id)
        if status not in ("placing", "accepted", "ringing", "in-progress"):
            return status
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"call {call_id} still {status} after 60 s")


@pytest.fixture
def env(tmp_path: Path, dialer_home: Path) -> dict[str, str]:
    keyring_file = tmp_path / "keyring.json"
    keyring = FileKeyring(keyring_file)
    for account, secret in zip(ACCOUNTS, SECRETS, strict=True):  # as add_accounts stores them
        keyring.set_password("dialer", f"account:{account}", secret)
    return environment(dialer_home, keyring_file)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_track_stops_on_a_signal_and_says_what_it_concluded(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    threaded_sim: Sim,
    env: dict[str, str],
    stop: signal.Signals,
) -> None:
    add_accounts(monkeypatch, threaded_sim.simulator)
    v1 = place(monkeypatch, capsys, "sim-v1")
    c2c = place(monkeypatch, capsys, "sim-c2c")  # waits for a webhook report: keeps it running
    proc = start(env, "track")
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner == "Tracking 2 calls until each is concluded (Ctrl+C stops)\n"
        assert wait_concluded(v1["id"], proc) == "completed"
    finally:
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert out.splitlines() == [
        f"Call {v1['id']} to +918867135000: completed, talk 0:01",
        "Stopped. Concluded 1 call; 1 still open",
    ]
    assert err == ""
    assert status_in_file(c2c["id"]) == "accepted"


def test_webhooks_serve_tracks_polled_calls_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    threaded_sim: Sim,
    env: dict[str, str],
) -> None:
    save_settings(AppPaths.default(), WebhookSettings(port=free_port()))
    add_accounts(monkeypatch, threaded_sim.simulator)
    v1 = place(monkeypatch, capsys, "sim-v1")
    proc = start(env, "webhooks", "serve")
    try:
        assert wait_concluded(v1["id"], proc) == "completed"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Asking Click2Call v1 and Kazoo for the outcomes of open calls as well" in out
    assert out.endswith("C2C v2 webhook receiver stopped\n")

    proc = start(env, "webhooks", "serve", "--no-track")
    try:
        assert proc.stdout is not None
        assert "listening on" in proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Asking" not in out
