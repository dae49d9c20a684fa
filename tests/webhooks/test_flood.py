"""``dialer webhooks serve`` as a real process under the open-file limit of a common desktop
(1,024 files) against a flood of 1,100 connections that send nothing: a report sent in the
middle of it is answered 200 at once (it used to time out for about a minute), and the
receiver keeps files for everything else (its history, its log)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dialer.core.accounts import AccountStore
from dialer.core.paths import AppPaths
from dialer.webhooks.settings import WebhookSettings, save_settings
from tests.webhooks.conftest import c2c_account, callback
from tests.webhooks.file_keyring import FileKeyring
from tests.webhooks.test_kill import REPO, environment, free_port, start_receiver

resource = pytest.importorskip("resource")  # POSIX: the file limit is set for the process

FILES = 1024
FLOOD = 1100


def _desktop_file_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(FILES, hard), hard))


def post(url: str, body: bytes, timeout: float) -> tuple[int, float]:
    """A report over a connection of its own: (status, seconds to the answer)."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
            "Content-Type: application/json\r\n\r\n".encode()
            + body
        )
        answer = sock.recv(65536)
    return int(answer.split(b" ", 2)[1]), time.monotonic() - started


def test_a_flood_of_silent_connections_under_a_desktop_file_limit_starves_no_report(
    tmp_path: Path, dialer_home: Path
) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < FLOOD + 64:
        pytest.skip(f"this machine allows {hard} open files; the flood needs {FLOOD + 64}")
    paths = AppPaths.under(dialer_home)
    AccountStore(paths.accounts_file).add(c2c_account("shop", "hook-shop"))
    keyring_file = tmp_path / "keyring.json"
    FileKeyring(keyring_file).set_password("dialer", "unused", "x")
    port = free_port()
    save_settings(paths, WebhookSettings(port=port))
    env = environment(dialer_home, keyring_file)
    url = subprocess.run(
        [sys.executable, "-m", "dialer", "webhooks", "url"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()  # fmt: skip
    proc = start_receiver(env, _desktop_file_limit)
    flood: list[socket.socket] = []
    try:
        for _ in range(FLOOD):
            flood.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        status, took = post(url, json.dumps(callback(callId="in-the-flood")).encode(), 20)
        assert status == 200
        assert took < 10, took  # answered as soon as it was read, not after the flood
        # and again, with the flood still open
        assert post(url, json.dumps(callback(callId="still-flooded")).encode(), 20)[0] == 200
    finally:
        for sock in flood:
            sock.close()
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Too many open files" not in err
    assert "holds its most connections (768)" in (dialer_home / "logs" / "dialer.log").read_text()
