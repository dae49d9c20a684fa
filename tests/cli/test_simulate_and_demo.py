"""``dialer simulate`` as a real process, and ``dialer demo`` end to end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dialer.cli import demo
from dialer.cli.main import main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_simulate_serves_until_interrupted(dialer_home: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DIALER_HOME": str(dialer_home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dialer", "simulate", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline()]
        while "dialer call" not in banner[-1]:
            banner.append(proc.stdout.readline())
        assert f"http://127.0.0.1:{port}/" in banner[0]
        assert any("dialer account add" in line for line in banner)
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/api/v2/voice/c2c",
                    json={"bridge": "918068280000", "from": "919876543210", "to": "918867135000"},
                    headers={"Authorization": "Bearer sim-c2c-token"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert answer.status_code == 200
        assert answer.json()["status"] == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err + out


def test_demo_places_and_follows_a_call_per_provider(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], dialer_home: Path
) -> None:
    monkeypatch.setattr(demo, "RING_SECONDS", 0.05)
    monkeypatch.setattr(demo, "TALK_SECONDS", 0.05)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for name in ("Demo C2C v2", "Demo Click2Call v1", "Demo Kazoo", "Demo DigiDonar"):
        assert name in out
    assert out.count("accepted") >= 4
    assert out.count("completed") == 4
    assert (dialer_home / "data" / "demo-profile").is_dir()
    assert not (dialer_home / "config" / "accounts.toml").exists()  # never the real profile
