"""A day of work, compressed: calls placed through the real window, one batch after another,
against the simulator, with the history panel open and live; then idle. What must not grow
with the calls is counted before and after.

    python -m benchmarks.soak [--quick] [--calls N]

The window is the real ``MainWindow`` (offscreen, on the qasync loop, as ``dialer`` runs
it) on a user profile of its own: the four simulator accounts with their secrets in memory,
the tracker at the demo's compressed timings and the window's own webhook receiver. The
simulator runs in a process of its own (``dialer simulate``, ringing 0.2 s and talking
0.5 s), as a provider is on another machine: the demo profile would run it inside the
window's process, and the simulator keeps every call it simulated (as a provider keeps its
call history), which would be counted as the window's growth. Its memory is reported on a
line of its own.

Calls are placed as the Call button places them (``window.call_number``), ``BATCH`` at a
time, the account changed in the window's account box after each batch (the four in turn),
each call to another customer; their outcomes arrive as they do in the app: C2C v2 reports
pushed to the window's receiver, Click2Call v1 reports and Kazoo histories polled by the
tracker. The first ``WARM_UP`` calls fill what fills once (connection pools, the number
rules, the history panel's bounded rows); the figures are measured after them, half-way
and at the end, each time once every outcome is stored and shown, the window has been
quiet for 16 s (longer than the HTTP requests' 15 s timeouts, whose timers qasync alone
kept until their time: see dialer/ui/event_loop.py) and the garbage is collected; and once
more after an idle period:

- resident memory of this process (``/proc/self/smaps_rollup``), and of its children;
- Python objects the collector tracks (``gc.get_objects()``), in all and by type;
- Qt objects: the window's ``QObject`` descendants, every widget, the top-level widgets,
  and the window's ``QTimer``s;
- asyncio tasks (``asyncio.all_tasks()``).

Each count is shown as its growth per 1,000 calls after the warm-up, beside its target.
Figures are printed, never asserted in tests.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.table import Row

CALLS, QUICK_CALLS = 20_000, 2_000
WARM_UP = 1_000
BATCH = 50
RING_SECONDS, TALK_SECONDS = 0.2, 0.5
IDLE_SECONDS, QUICK_IDLE_SECONDS = 30.0, 20.0
# Longer than the HTTP requests' timeouts (15 s): whatever a request left to expire has, and
# each snapshot is of the same quiet window.
QUIET_SECONDS = 16.0
RSS_TARGET_MB = 10.0
# Noise band of the Python object count, per 1,000 calls: objects that one call keeps
# would show as 1,000 or more; what varies without scaling with the calls (an HTTP
# connection reopened, an interned key, a page of rows re-read) is a few dozen at most.
OBJECTS_BAND = 50
TOP_GROWERS = 5


# -- counting ------------------------------------------------------------------------------


def resident_mb(pid: int | str = "self") -> float:
    """The resident memory of a process in MB (its ``Rss``: shared pages included), or NaN
    where /proc cannot tell (another OS, a process gone)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return float("nan")
    for line in text.splitlines():
        if line.startswith("Rss:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children_of(pid: int) -> list[int]:
    """Every descendant of ``pid`` alive now (from /proc; empty where there is none)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    wanted = {pid}
    while wanted:
        wanted = {child for child, parent in parents.items() if parent in wanted}
        found += sorted(wanted)
    return found


def python_objects() -> Counter[str]:
    """The objects the cyclic collector tracks (containers, instances: not ints or
    strings), by type, after a full collection."""
    gc.collect()
    return Counter(_type_name(o) for o in gc.get_objects())


def _type_name(obj: object) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def qt_objects(window: Any) -> dict[str, int]:
    """The Qt objects that would grow with a leak: under the window, and in the app."""
    from PySide6.QtCore import QObject, QTimer
    from PySide6.QtWidgets import QApplication

    return {
        "QObjects under the window": len(window.findChildren(QObject)),
        "widgets": len(QApplication.allWidgets()),
        "top-level widgets": len(QApplication.topLevelWidgets()),
        "QTimers under the window": len(window.findChildren(QTimer)),
    }


def qt_types(window: Any) -> Counter[str]:
    """The window's descendants and every widget, by class (to name what grew)."""
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    found = {id(o): o for o in [*window.findChildren(QObject), *QApplication.allWidgets()]}
    return Counter(type(o).__name__ for o in found.values())


def asyncio_tasks() -> int:
    return len(asyncio.all_tasks())


@dataclass
class Snapshot:
    calls: int
    rss_mb: float
    children_mb: float
    objects: Counter[str] = field(default_factory=Counter)
    qt: dict[str, int] = field(default_factory=dict)
    qt_types: Counter[str] = field(default_factory=Counter)
    tasks: int = 0

    @property
    def object_count(self) -> int:
        return sum(self.objects.values())


def take_snapshot(window: Any, calls: int) -> Snapshot:
    objects = python_objects()  # first: the collection frees what the others would count
    children = [resident_mb(pid) for pid in children_of(os.getpid())]
    return Snapshot(
        calls=calls,
        rss_mb=resident_mb(),
        children_mb=sum(mb for mb in children if not math.isnan(mb)),  # NaN: gone meanwhile
        objects=objects,
        qt=qt_objects(window),
        qt_types=qt_types(window),
        tasks=asyncio_tasks(),
    )


def per_thousand(before: float, after: float, calls: int) -> float:
    """Growth from ``before`` to ``after`` per 1,000 of ``calls``."""
    return (after - before) * 1000 / calls if calls else float("nan")


def top_growers(before: Counter[str], after: Counter[str], count: int) -> list[tuple[str, int]]:
    """The types whose count grew most, with their growth (none that did not grow)."""
    growth = Counter(after)
    growth.subtract(before)
    return [(name, grown) for name, grown in growth.most_common(count) if grown > 0]


# -- the day ---------------------------------------------------------------------------------


def customer(n: int) -> str:
    """The ``n``-th call's customer: another Indian mobile number for each call."""
    return f"+9188671{n % 100_000:05d}"


async def _until(done: Any, what: str, patience: float = 300.0) -> None:
    from benchmarks.stall import _until as until

    await until(done, what, patience)


async def settle(window: Any) -> None:
    """Until every call placed so far has its outcome stored and shown, and nothing the
    window started is still running: the counts are then those of a quiet window."""
    tracker = window.profile.tracker
    await window.tasks.wait_idle()
    if tracker is not None:
        await asyncio.wait_for(tracker.until_concluded(), 300)
    model = window.history_panel.model
    await asyncio.sleep(0.2)  # the last reports' listeners, the model's flush timer
    model.flush()
    await model.wait_loaded()
    await model.wait_named()
    await window.tasks.wait_idle()


async def place_batch(window: Any, first: int, count: int) -> int:
    """``count`` calls from the window at once, as the Call button places them; how many
    the provider accepted."""
    records = await asyncio.gather(
        *(window.call_number(customer(n)) for n in range(first, first + count))
    )
    return sum(1 for record in records if record is not None)


async def choose_account(window: Any, index: int) -> None:
    box = window.options.account_box
    box.setCurrentIndex(index % box.count())
    await window.tasks.wait_idle()  # the account's bridges in the picker


@dataclass
class Day:
    baseline: Snapshot  # the window open, no call placed yet
    warm: Snapshot
    middle: Snapshot  # half-way between the warm-up and the end
    end: Snapshot
    idle: Snapshot
    accepted: int
    seconds: float


async def day_of_work(
    window: Any,
    calls: int,
    *,
    warm_up: int = WARM_UP,
    batch: int = BATCH,
    idle: float = 0.0,
    quiet: float = QUIET_SECONDS,
) -> Day:
    """Place ``calls`` calls through ``window`` (``warm_up`` of them first), snapshot after
    the warm-up, half-way and at the end, each once the window has been quiet for ``quiet``
    seconds, and again after ``idle`` seconds more of nothing."""

    paused = 0.0  # spent on the snapshots, not counted in the day's time

    async def snapshot(placed: int) -> Snapshot:
        nonlocal paused
        await settle(window)
        waited = time.perf_counter()
        await asyncio.sleep(quiet)
        await settle(window)
        taken = take_snapshot(window, placed)
        paused += time.perf_counter() - waited
        return taken

    baseline = await snapshot(0)
    started, paused = time.perf_counter(), 0.0
    accepted = placed = 0
    warm_up = min(warm_up, calls)
    half_way = warm_up + (calls - warm_up) // 2
    snapshots: dict[int, Snapshot] = {}
    batches = 0
    while placed < calls:
        if placed in (warm_up, half_way) and placed not in snapshots:
            snapshots[placed] = await snapshot(placed)
        await choose_account(window, batches)
        # Batches end at the warm-up and half-way: the snapshots are taken there.
        size = min(batch, *(mark - placed for mark in (warm_up, half_way, calls) if mark > placed))
        accepted += await place_batch(window, placed, size)
        placed += size
        batches += 1
    await settle(window)  # the last calls' outcomes
    seconds = time.perf_counter() - started - paused
    end = await snapshot(placed)
    warm = snapshots.get(warm_up, baseline)
    middle = snapshots.get(half_way, warm)
    await asyncio.sleep(idle)
    await settle(window)
    return Day(baseline, warm, middle, end, take_snapshot(window, placed), accepted, seconds)


# -- the table -------------------------------------------------------------------------------


def rows_of(day: Day) -> list[Row]:
    base, warm, end, idle = day.baseline, day.warm, day.end, day.idle
    after = end.calls - warm.calls
    rows = [
        Row(
            f"soak: {end.calls:,} calls through the window, panel live",
            f"{day.accepted:,} accepted, {day.seconds:.0f} s "
            f"({end.calls / day.seconds:.0f} calls/s), outcomes stored and shown "
            "(snapshots not counted)",
        )
    ]
    grown = idle.rss_mb - warm.rss_mb
    rows.append(
        Row(
            f"soak: resident memory after the first {warm.calls:,} calls -> half-way -> end "
            "-> idle",
            f"{warm.rss_mb:.0f} -> {day.middle.rss_mb:.0f} -> {end.rss_mb:.0f} -> "
            f"{idle.rss_mb:.0f} MB (+{grown:.1f} MB; window open, no call: {base.rss_mb:.0f} MB)",
            f"growth <= {RSS_TARGET_MB:g} MB",
            grown <= RSS_TARGET_MB,
        )
    )
    rows.append(
        Row(
            "soak: the simulator's process (its own calls kept), warm -> idle",
            f"{warm.children_mb:.0f} -> {idle.children_mb:.0f} MB",
        )
    )
    growth = per_thousand(warm.object_count, idle.object_count, after)
    rows.append(
        Row(
            "soak: Python objects, growth per 1,000 calls after the warm-up",
            f"{growth:+.1f} ({warm.object_count:,} -> {idle.object_count:,}; "
            f"window open: {base.object_count:,})",
            f"<= {OBJECTS_BAND} (noise)",
            growth <= OBJECTS_BAND,
        )
    )
    rows.append(Row("soak: Python objects, top growers", _growers(warm.objects, idle.objects)))
    # The second half: the caches bounded at a few thousand numbers are full by then.
    late = end.calls - day.middle.calls
    steady = per_thousand(day.middle.object_count, idle.object_count, late)
    rows.append(
        Row(
            f"soak: Python objects, growth per 1,000 calls over the last {late:,}",
            f"{steady:+.1f} ({day.middle.object_count:,} -> {idle.object_count:,}); "
            f"top growers: {_growers(day.middle.objects, idle.objects)}",
            f"<= {OBJECTS_BAND} (noise)",
            steady <= OBJECTS_BAND,
        )
    )
    for name, count in idle.qt.items():
        grew = per_thousand(warm.qt[name], count, after)
        rows.append(
            Row(
                f"soak: {name}, growth per 1,000 calls",
                f"{grew:+.1f} ({warm.qt[name]:,} -> {count:,}; window open: {base.qt[name]:,})",
                "0",
                count <= warm.qt[name],
            )
        )
    qt_growers = top_growers(warm.qt_types, idle.qt_types, TOP_GROWERS)
    rows.append(
        Row(
            "soak: Qt objects, top growers",
            ", ".join(f"{name} +{grown:,}" for name, grown in qt_growers) or "none grew",
        )
    )
    grew = per_thousand(warm.tasks, idle.tasks, after)
    rows.append(
        Row(
            "soak: asyncio tasks, growth per 1,000 calls",
            f"{grew:+.1f} ({warm.tasks} -> {idle.tasks}; window open: {base.tasks})",
            "0",
            idle.tasks <= warm.tasks,
        )
    )
    return rows


def _growers(before: Counter[str], after: Counter[str]) -> str:
    grown = top_growers(before, after, TOP_GROWERS)
    return ", ".join(f"{name} +{count:,}" for name, count in grown) or "none grew"


# -- the run ---------------------------------------------------------------------------------


async def measure_day(
    home: Path,
    calls: int,
    idle: float,
    *,
    warm_up: int = WARM_UP,
    batch: int = BATCH,
    quiet: float = QUIET_SECONDS,
) -> Day:
    """The day of work on a window of its own, against a simulator process of its own."""
    from benchmarks.calls import _free_port, _simulator_process
    from benchmarks.stall import _window
    from dialer.app.demo import DEMO_TIMINGS, demo_accounts, demo_secrets
    from dialer.core.limits import NO_LIMITS
    from dialer.simulator import SimulatorAddress

    port = _free_port()
    remote = SimulatorAddress(f"http://127.0.0.1:{port}/")
    accounts = demo_accounts(remote, limits=NO_LIMITS).list()
    async with _window(
        home, accounts, demo_secrets(remote), reporting=True, timings=DEMO_TIMINGS
    ) as window:
        with _simulator_process(
            0.0,
            ring_seconds=RING_SECONDS,
            talk_seconds=TALK_SECONDS,
            port=port,
            webhook_url=window.profile.webhook_url,
        ):
            return await day_of_work(
                window, calls, warm_up=warm_up, batch=batch, idle=idle, quiet=quiet
            )


def run(*, quick: bool = False, calls: int | None = None) -> list[Row]:
    """Runs its own qasync loop (the window lives on Qt's loop, as in the app)."""
    from benchmarks.qt_loop import run_in_a_home

    count = calls or (QUICK_CALLS if quick else CALLS)
    idle = QUICK_IDLE_SECONDS if quick else IDLE_SECONDS
    return rows_of(run_in_a_home(lambda home: measure_day(home, count, idle)))


if __name__ == "__main__":
    from benchmarks.table import print_table

    arguments = sys.argv[1:]
    chosen = int(arguments[arguments.index("--calls") + 1]) if "--calls" in arguments else None
    print_table(run(quick="--quick" in arguments, calls=chosen))
