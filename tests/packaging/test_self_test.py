"""``dialer --self-test`` run as a user runs it: a process of its own, its output read back.

(``packaging/smoke_test.py`` runs the same command against the frozen build.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dialer.core import resources
from dialer.core.resources import resources_dir

ROOT = Path(__file__).resolve().parents[2]


def self_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m dialer --self-test`` with a DIALER_HOME that must stay untouched and no
    keyring configuration from this machine's user (``env`` adds to that)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS", "QT_QPA_PLATFORM")
    }
    clean.update(
        DIALER_HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # no keyringrc.cfg of the user's
        PYTHONPATH=str(ROOT),  # tests.memory_keyring, for PYTHON_KEYRING_BACKEND
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "dialer", "--self-test"],
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    checks = {}
    for line in result.stdout.splitlines():
        name, sep, rest = line.partition(": ")
        if sep and name in ("qt", "icon", "keyring", "tls", "call"):
            checks[name] = rest
    return checks


def test_self_test_passes_with_a_keyring(tmp_path: Path) -> None:
    result = self_test(tmp_path, PYTHON_KEYRING_BACKEND="tests.memory_keyring.MemoryKeyring")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = lines(result)
    assert checks["qt"].startswith("ok (Qt 6.") and "'offscreen' platform" in checks["qt"]
    assert checks["icon"] == f"ok ({ROOT / 'resources' / 'dialer.svg'} drawn)"
    assert checks["keyring"] == "ok (backend tests.memory_keyring.MemoryKeyring, priority 1)"
    assert checks["tls"].startswith("ok (the OS trust store (truststore")
    assert checks["call"].startswith("ok (c2c-v2 call to +918867135000 accepted by the built-in")
    assert "completed there, stored in the history" in checks["call"]
    assert checks["call"].endswith("its report received by the webhook receiver)")
    assert result.stdout.splitlines()[-1].startswith("self-test passed: 5 checks in ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "home").exists()  # everything went to a throw-away folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a headless Linux session")
def test_self_test_passes_where_no_keyring_is_usable(tmp_path: Path) -> None:
    # No D-Bus session: the Secret Service cannot be reached, as on CI or in a container.
    result = self_test(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    keyring_line = lines(result)["keyring"]
    assert keyring_line.startswith("ok (backend discovery works (registered: ")
    assert "SecretService" in keyring_line  # the backends were found through entry points
    assert "no keyring is usable on this machine (SecretService: " in keyring_line
    assert "accounts cannot be added here until one is" in keyring_line


def test_self_test_fails_on_a_broken_keyring_setting(tmp_path: Path) -> None:
    result = self_test(tmp_path, PYTHON_KEYRING_BACKEND="no_such_module.Keyring")
    assert result.returncode == 1
    checks = lines(result)
    assert checks["keyring"] == (
        "FAILED: the keyring backend named by PYTHON_KEYRING_BACKEND=no_such_module.Keyring "
        "could not be loaded (ModuleNotFoundError: No module named 'no_such_module')"
    )
    assert all(checks[name].startswith("ok") for name in ("qt", "icon", "tls", "call"))
    assert result.stdout.splitlines()[-1].startswith("self-test FAILED: keyring (")
    assert "Traceback" not in result.stdout + result.stderr


# -- where the resources are found --------------------------------------------------------------


def test_resources_from_the_source_checkout() -> None:
    assert resources_dir() == ROOT / "resources"
    assert (resources_dir() / "dialer.svg").is_file()


def test_resources_in_a_frozen_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    # Linux/Windows one-folder build: _internal/ beside the executable is sys._MEIPASS
    internal = tmp_path / "dialer" / "_internal"
    (internal / "resources").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "dialer" / "dialer"))
    assert resources_dir() == internal / "resources"
    # macOS .app: the data folders are under Contents/Resources
    contents = tmp_path / "Dialer.app" / "Contents"
    (contents / "Resources" / "resources").mkdir(parents=True)
    (contents / "MacOS").mkdir()
    monkeypatch.setattr(sys, "_MEIPASS", str(contents / "Frameworks"))
    monkeypatch.setattr(sys, "executable", str(contents / "MacOS" / "dialer"))
    assert resources_dir() == contents / "Resources" / "resources"
    # nothing found: the bundle's own place, for the caller's is_file() check to refuse
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "elsewhere"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "dialer"))
    assert resources_dir() == tmp_path / "elsewhere" / resources.FOLDER
