"""``dialer webhooks serve`` as a real process, killed with SIGKILL under load: every report
it answered 200 is in the SQLite file, the file is sound, and a restarted receiver works.

The subprocess needs the keyring the test writes to (the path token, the webhook secret);
the tests' in-memory keyring lives in this process only, so the subprocess gets a test-only
file backend (tests/webhooks/file_keyring.py) through PYTHON_KEYRING_BACKEND.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from dialer.core.accounts import AccountStore
from dialer.core.paths import AppPaths
from dialer.webhooks.settings import WebhookSettings, save_settings
from tests.history.test_sqlite_store import per_day_totals_match_the_calls
from tests.webhooks.conftest import c2c_account, callback
from tests.webhooks.file_keyring import ENV, FileKeyring

REPO = Path(__file__).resolve().parents[2]
SECRET = "shop-webhook-secret-for-the-kill-test"
CLIENTS = 24
KILL_AFTER = 300  # reports answered 200 before the kill


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(home: Path, keyring_file: Path) -> dict[str, str]:
    python_path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {
        **os.environ,
        "DIALER_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "tests.webhooks.file_keyring.FileKeyring",
        ENV: str(keyring_file),
        "PYTHONPATH": python_path,
    }


def start_receiver(
    env: dict[str, str], preexec_fn: Callable[[], None] | None = None
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dialer", "webhooks", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        preexec_fn=preexec_fn,  # noqa: PLW1509 - the flood test's setrlimit, nothing else
    )
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    assert "listening on" in banner, banner + (proc.stderr.read() if proc.stderr else "")
    return proc


async def deliver_until_killed(url: str, proc: subprocess.Popen[str]) -> dict[str, int | None]:
    """Post distinct reports from many clients at once; SIGKILL the receiver once enough
    were answered, while the others are in flight. Returns callId -> status (None: no answer)."""
    outcomes: dict[str, int | None] = {}
    answered = 0
    killed = asyncio.Event()
    headers = {"Authorization": f"Bearer {SECRET}"}

    async def client(n: int) -> None:
        nonlocal answered
        async with aiohttp.ClientSession(headers=headers) as session:
            for k in range(10_000):
                call_id = f"kill-{n}-{k}"
                body = callback(callId=call_id, to=f"91886{n:02d}{k:05d}")
                outcomes[call_id] = None
                try:
                    async with session.post(url, json=body) as answer:
                        await answer.read()
                        outcomes[call_id] = answer.status
                except (aiohttp.ClientError, OSError):
                    if killed.is_set():
                        return
                    raise
                if answer.status == 200:
                    answered += 1
                if answered >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    os.kill(proc.pid, signal.SIGKILL)
        raise AssertionError("the receiver was never killed")

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return outcomes


def test_a_killed_receiver_loses_no_report_it_answered(tmp_path: Path, dialer_home: Path) -> None:
    paths = AppPaths.under(dialer_home)
    AccountStore(paths.accounts_file).add(c2c_account("shop", "hook-shop"))
    keyring_file = tmp_path / "keyring.json"
    FileKeyring(keyring_file).set_password("dialer", "account:shop:webhook", SECRET)
    port = free_port()
    save_settings(paths, WebhookSettings(port=port))
    env = environment(dialer_home, keyring_file)

    printed = subprocess.run(
        [sys.executable, "-m", "dialer", "webhooks", "url"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    url = printed.stdout.strip()
    token = url.rsplit("/", 1)[1]
    assert url == f"http://127.0.0.1:{port}/c2c/{token}" and len(token) == 32

    proc = start_receiver(env)
    try:
        outcomes = asyncio.run(deliver_until_killed(url, proc))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    acknowledged = {call_id for call_id, status in outcomes.items() if status == 200}
    assert len(acknowledged) >= KILL_AFTER
    assert {status for status in outcomes.values()} <= {200, None}
    unanswered = len(outcomes) - len(acknowledged)
    assert unanswered >= 1  # some were in flight when it died

    db = sqlite3.connect(paths.calls_db)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        refs = [row[0] for row in db.execute("SELECT provider_ref FROM calls")]
        bodies = [json.loads(row[0]) for row in db.execute("SELECT body FROM reports")]
    finally:
        db.close()
    assert acknowledged <= set(refs)  # nothing answered 200 was lost
    assert set(refs) <= set(outcomes)  # nothing stored that was not sent
    assert len(refs) == len(set(refs)) == len(bodies)  # each stored once, with its report
    assert {b["callId"] for b in bodies} == set(refs)
    # What the writer keeps beside the calls (per-day and digit totals, the digits index,
    # the changes it was folding when killed) still adds up to the calls stored.
    per_day_totals_match_the_calls(paths.calls_db)

    # A restarted receiver opens the same file and goes on; SIGTERM stops it cleanly.
    proc = start_receiver(env)
    try:
        again = asyncio.run(_post_one(url, callback(callId="after-restart")))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert again == 200
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    db = sqlite3.connect(paths.calls_db)
    try:
        assert db.execute(
            "SELECT COUNT(*) FROM calls WHERE provider_ref = 'after-restart'"
        ).fetchone() == (1,)
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()

    # The path token and the secret never reached a file of the profile, the log included.
    for path in dialer_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert token.encode() not in data, path
            assert SECRET.encode() not in data, path
    assert any(dialer_home.joinpath("logs").glob("dialer.log*"))


async def _post_one(url: str, body: dict[str, object]) -> int:
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {SECRET}"}) as session,
        session.post(url, json=body) as answer,
    ):
        return answer.status
