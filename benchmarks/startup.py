"""The window is there at once and stays small: start-up time and memory of ``dialer``
against a bare PySide6 ``QMainWindow`` started the same way, in the same run.

    python -m benchmarks.startup [--quick]

Each program is started as a process of its own, alternately (bare, demo, working profile,
bare, ...), and measured from just before it is started:

- **first paint**: the first paint event of its main window (``DIALER_STARTUP_TRACE``, see
  ``dialer/ui/startup_trace.py``; the bare window marks its own the same way);
- **idle**: everything start-up scheduled is done (the warm-up, the first pages, the
  totals); the bare window is idle once painted;
- **memory**: resident memory 3 s after the start, the process and its children;
- **a second launch handing over a link**: ``dialer tel:…`` while the working profile's
  window runs, until that launch has exited.

The figures are medians over the runs, reported as ratios against the bare window's median
of the same run. The platform is Qt's ``offscreen`` one (no X server is assumed here): it
paints into memory, so the first paint comes without a window manager's round trips, for
the bare window and the dialer alike. The working profile holds four accounts, 20,000
contacts and 100,000 calls (built once and cached in the temporary folder); its keyring is a
file (the tests' ``tests/webhooks/file_keyring.py``), which answers at once as a desktop's
keyring does.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.table import Row

FIRST_PAINT_TARGET = 1.3
IDLE_TARGET = 2.0
MEMORY_TARGET = 1.6
HANDOVER_TARGET_S = 0.35
MEMORY_AT = 3.0  # seconds after the start
WORKING_CONTACTS = 20_000
WORKING_CALLS = 100_000
TIMEOUT = 60.0

BARE_WINDOW = """
import json, sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("Bare")
window.resize(1024, 600)

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            with open(sys.argv[1], "a") as out:
                for name in ("painted", "idle"):
                    out.write(json.dumps({"event": name, "at": time.time()}) + "\\n")
        return False

first = FirstPaint()
window.installEventFilter(first)
window.show()
app.exec()
"""


@dataclass
class Launch:
    painted: float  # seconds after the start
    idle: float
    rss_mb: float


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc/PID/status)."""
    total_kb = 0
    for member in _descendants(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


ROOT = Path(__file__).resolve().parents[1]


def _environment(home: Path, trace: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DIALER_HOME=str(home),
        DIALER_STARTUP_TRACE=str(trace),
        QT_QPA_PLATFORM="offscreen",
        # A keyring that answers, as a desktop's does (the receiver's secret, the accounts').
        PYTHON_KEYRING_BACKEND="tests.webhooks.file_keyring.FileKeyring",
        DIALER_TEST_KEYRING_FILE=str(home / "bench-keyring.json"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


def _marks(trace: Path) -> dict[str, float]:
    marks: dict[str, float] = {}
    if trace.exists():
        for line in trace.read_text().splitlines():
            event = json.loads(line)
            marks.setdefault(event["event"], float(event["at"]))
    return marks


def launch(command: list[str], home: Path) -> Launch:
    """Start ``command``, wait for its marks and the memory figure, then stop it."""
    with tempfile.TemporaryDirectory(prefix="dialer-startup-") as scratch:
        trace = Path(scratch) / "trace.jsonl"
        started = time.time()
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
            [*command, str(trace)] if command[1] == "-c" else command,
            env=_environment(home, trace),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(max(0.0, started + MEMORY_AT - time.time()))
            rss = tree_rss_mb(process.pid)
            _wait_idle(process, trace, f"{command}")
            marks = _marks(trace)
        finally:
            _stop(process)
    return Launch(marks["painted"] - started, marks["idle"] - started, rss)


def _wait_idle(process: subprocess.Popen[bytes], trace: Path, what: str) -> None:
    deadline = time.time() + TIMEOUT
    while "idle" not in _marks(trace):
        if process.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{what} never became idle")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def working_profile(folder: Path) -> Path:
    """A profile as an agent's after months of work: four accounts (one per provider),
    20,000 contacts, 100,000 calls. Built once, then reused from the temporary folder."""
    from benchmarks.history import history_file

    home = folder / f"working-{WORKING_CONTACTS}-{WORKING_CALLS}"
    done = home / "built"
    if done.exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    from dialer.core.accounts import Account, AccountStore, ProviderKind
    from dialer.core.contacts import ContactStore
    from dialer.core.contacts.demo import demo_contacts
    from dialer.core.paths import AppPaths

    paths = AppPaths.under(home).ensure()
    store = AccountStore(paths.accounts_file)
    settings = {
        ProviderKind.C2C_V2: ({"webhook_id": "hook-1"}, ("918068280000",)),
        ProviderKind.CLICK2CALL_V1: ({"uid": "uid-1"}, ()),
        ProviderKind.KAZOO: ({"kazoo_account": "0" * 32}, ()),
        ProviderKind.DIGIDONAR: ({}, ("01204000000",)),
    }
    for kind, (options, bridges) in settings.items():
        store.add(
            Account(
                name=f"Work {kind}",
                provider=kind,
                url="https://provider.invalid/api/",
                region="IN",
                agent="+919876543210",
                bridges=bridges,
                options=options,
            )
        )
    from tests.webhooks.file_keyring import FileKeyring

    keyring = FileKeyring(home / "bench-keyring.json")
    for kind in settings:
        keyring.set_password("dialer", f"account:Work {kind}", "bench-secret")
    contacts = ContactStore(paths.contacts_db)
    contacts.add_many(demo_contacts(WORKING_CONTACTS))
    contacts.close()
    history, _ = history_file(WORKING_CALLS)
    shutil.copyfile(history, paths.calls_db)
    done.write_text("ok")
    return home


def _median(values: list[float]) -> float:
    return statistics.median(values)


def handover_seconds(home: Path, runs: int) -> list[float]:
    """``dialer tel:…`` while the profile's window runs: how long that launch takes."""
    with tempfile.TemporaryDirectory(prefix="dialer-startup-") as scratch:
        trace = Path(scratch) / "trace.jsonl"
        env = _environment(home, trace)
        window = subprocess.Popen(
            [sys.executable, "-m", "dialer"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_idle(window, trace, "the working profile's window")
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "dialer", "tel:+918867135000"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=True,
                    timeout=TIMEOUT,
                )
                timings.append(time.perf_counter() - started)
            return timings
        finally:
            _stop(window)


def compile_bytecode() -> None:
    """The project's modules compiled to bytecode beside their sources, as an installed
    dialer has them (pip compiles a package when it installs it; the frozen build carries
    bytecode). An editable checkout has none, and where ``PYTHONDONTWRITEBYTECODE`` is set
    (this machine sets it) every launch compiled all of ``dialer`` again: some 130 ms the
    bare window, whose PySide6 came compiled, never paid."""
    import compileall

    import dialer

    for folder in dialer.__path__:
        compileall.compile_dir(folder, quiet=1)


def run(*, quick: bool) -> list[Row]:
    runs = 2 if quick else 5
    compile_bytecode()
    cache = Path(tempfile.gettempdir()) / "dialer-benchmarks"
    cache.mkdir(exist_ok=True)
    working = working_profile(cache)
    programs = {
        "bare QMainWindow": [sys.executable, "-c", BARE_WINDOW],
        "dialer --demo": [sys.executable, "-m", "dialer", "--demo"],
        "dialer (working profile)": [sys.executable, "-m", "dialer"],
    }
    with tempfile.TemporaryDirectory(prefix="dialer-startup-homes-") as homes:
        demo_home = Path(homes) / "demo"
        homes_of = {"dialer (working profile)": working}
        # One unmeasured launch each: the OS caches the files, the demo builds its folder.
        for name, command in programs.items():
            launch(command, homes_of.get(name, demo_home))
        results: dict[str, list[Launch]] = {name: [] for name in programs}
        for _ in range(runs):
            for name, command in programs.items():
                results[name].append(launch(command, homes_of.get(name, demo_home)))
    handover = handover_seconds(working, runs)
    bare = results["bare QMainWindow"]
    bare_paint = _median([r.painted for r in bare])
    bare_rss = _median([r.rss_mb for r in bare])
    rows = [
        Row(
            "start-up: bare QMainWindow, first paint / resident memory (baseline)",
            f"{bare_paint * 1000:.0f} ms / {bare_rss:.0f} MB (median of {runs})",
        )
    ]
    for name in ("dialer --demo", "dialer (working profile)"):
        launches = results[name]
        paint = _median([r.painted for r in launches])
        idle = _median([r.idle for r in launches])
        rss = _median([r.rss_mb for r in launches])
        rows += [
            Row(
                f"start-up: {name}, first painted window",
                f"{paint * 1000:.0f} ms = {paint / bare_paint:.2f}x bare",
                f"≤ {FIRST_PAINT_TARGET}x",
                paint / bare_paint <= FIRST_PAINT_TARGET,
            ),
            Row(
                f"start-up: {name}, idle loop (start-up's work done)",
                f"{idle * 1000:.0f} ms = {idle / bare_paint:.2f}x bare",
                f"≤ {IDLE_TARGET}x",
                idle / bare_paint <= IDLE_TARGET,
            ),
            Row(
                f"start-up: {name}, resident memory {MEMORY_AT:.0f} s after start",
                f"{rss:.0f} MB = {rss / bare_rss:.2f}x bare",
                f"≤ {MEMORY_TARGET}x",
                rss / bare_rss <= MEMORY_TARGET,
            ),
        ]
    second = _median(handover)
    rows.append(
        Row(
            "start-up: a second launch handing a link to the window",
            f"{second:.2f} s (median of {runs})",
            f"≤ {HANDOVER_TARGET_S} s",
            second <= HANDOVER_TARGET_S,
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    from benchmarks.table import print_table

    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup")
    parser.add_argument("--quick", action="store_true", help="two runs of each, not five")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick)
    print_table(rows)
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
