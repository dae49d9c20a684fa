"""The architecture rules that a reader relies on, checked."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT_FREE = ["app", "core", "history", "providers", "simulator", "webhooks", "cli"]

# What each subpackage may import, as the README's architecture section says. Lazy imports
# inside functions count as much as those at the top: a cycle there is still a cycle.
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "providers": {"core"},
    "simulator": {"core"},
    "history": {"core", "providers"},
    "webhooks": {"core", "history", "providers"},
    "app": {"core", "history", "providers", "webhooks", "simulator"},
    "cli": {"app", "core", "history", "providers", "webhooks", "simulator", "ui"},
    "ui": {"app", "core", "history", "providers", "webhooks", "simulator"},
}


def _subpackage_imports() -> dict[str, dict[str, list[str]]]:
    """{subpackage: {imported subpackage: [files]}} over every import statement."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in (ROOT / "dialer").rglob("*.py"):
        parts = path.relative_to(ROOT / "dialer").parts
        if len(parts) < 2:
            continue  # dialer/__init__.py and __main__.py: the entry point
        source = parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                names = module.split(".")
                if names[0] == "dialer" and len(names) > 1 and names[1] != source:
                    graph[source][names[1]].append(str(path.relative_to(ROOT)))
    return graph


def test_every_subpackage_imports_only_what_it_may() -> None:
    graph = _subpackage_imports()
    assert set(graph) <= set(MAY_IMPORT), set(graph) - set(MAY_IMPORT)
    offenders = {
        (source, target): files[:3]
        for source, targets in graph.items()
        for target, files in targets.items()
        if target not in MAY_IMPORT[source]
    }
    assert offenders == {}


def test_no_import_cycle_between_subpackages() -> None:
    graph = _subpackage_imports()
    cycles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        for target in graph.get(node, {}):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                walk(target, [*path, target])
        done.add(node)

    done: set[str] = set()
    for start in list(graph):
        if start not in done:
            walk(start, [start])
    assert cycles == []


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
        "import sys, dialer.cli.main, dialer.app.service, dialer.app.profile\n"
        "import dialer.providers, dialer.simulator\n"
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
