"""The architecture rules that a reader relies on, checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT_FREE = ["core", "history", "providers", "simulator", "webhooks", "cli"]


def test_core_never_imports_qt() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in QT_FREE
        for path in (ROOT / "dialer" / package).rglob("*.py")
        if re.search(r"^\s*(from|import)\s+(PySide6|qasync)", path.read_text(), re.M)
    ]
    assert offenders == []


def test_core_imports_without_qt_loaded() -> None:
    code = (
        "import sys, dialer.cli.main, dialer.core.service, dialer.providers, dialer.simulator\n"
        "from dialer.providers import provider_class\n"
        "for kind in ('c2c-v2', 'click2call-v1', 'kazoo', 'digidonar'): provider_class(kind)\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'qasync'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```(?:sh|bash|shell)\n(.*?)```", readme, re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(commands) == 2, commands  # exactly two set-up commands
    assert commands[1] in ci
