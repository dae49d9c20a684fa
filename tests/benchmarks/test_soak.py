"""The soak benchmark's counting helpers count what they say, and the benchmark runs end to
end in a tiny configuration. No figure it measures is asserted here: the benchmark prints
them beside their targets (``python -m benchmarks``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import soak

pytestmark = pytest.mark.gui


class Counted:
    """A type no other code makes."""


def test_python_objects_are_counted_by_type() -> None:
    before = soak.python_objects()
    made = [Counted() for _ in range(1_000)]
    during = soak.python_objects()
    name = f"{Counted.__module__}.{Counted.__qualname__}"
    assert during[name] - before[name] == 1_000
    assert (name, 1_000) in soak.top_growers(before, during, 5)
    del made
    assert soak.python_objects()[name] == before[name]


def test_growth_helpers() -> None:
    assert soak.per_thousand(100, 150, 5_000) == 10.0
    assert soak.top_growers(Counter(a=1, b=5), Counter(a=4, b=2, c=1), 5) == [("a", 3), ("c", 1)]


def test_resident_memory_and_children_are_read_from_proc() -> None:
    if not Path("/proc/self/smaps_rollup").exists():
        pytest.skip("no /proc/self/smaps_rollup on this system")
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        assert child.pid in soak.children_of(os.getpid())
        assert soak.resident_mb(child.pid) > 1
        assert soak.resident_mb() > soak.resident_mb(child.pid)
    finally:
        child.communicate(b"")
    assert child.pid not in soak.children_of(os.getpid())
    assert soak.resident_mb(child.pid) != soak.resident_mb(child.pid)  # NaN: it is gone


def test_qt_objects_and_timers_under_a_window_are_counted(qapp: object) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QLabel, QMainWindow

    window = QMainWindow()
    try:
        before = soak.qt_objects(window)
        timers = [QTimer(window) for _ in range(3)]
        label = QLabel(window)
        after = soak.qt_objects(window)
        assert after["QTimers under the window"] - before["QTimers under the window"] == 3
        assert after["QObjects under the window"] - before["QObjects under the window"] == 4
        assert after["widgets"] - before["widgets"] == 1
        assert soak.qt_types(window)["QTimer"] == after["QTimers under the window"]
        del timers, label
    finally:
        window.deleteLater()


async def test_a_tiny_day_runs_through_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The benchmark's process is its own to freeze (as ``dialer`` does); the test's is not.
    monkeypatch.setattr("dialer.core.collector.freeze_start_up", lambda: None)
    day = await soak.measure_day(tmp_path, 40, 0.0, warm_up=16, batch=8, quiet=0.0)
    assert day.accepted == 40
    assert [s.calls for s in (day.baseline, day.warm, day.middle, day.end, day.idle)] == [
        0, 16, 28, 40, 40,
    ]  # fmt: skip
    rows = soak.rows_of(day)
    assert rows[0].name == "soak: 40 calls through the window, panel live"
    assert {row.name for row in rows} >= {
        "soak: resident memory after the first 16 calls -> half-way -> end -> idle",
        "soak: QTimers under the window, growth per 1,000 calls",
        "soak: asyncio tasks, growth per 1,000 calls",
    }
