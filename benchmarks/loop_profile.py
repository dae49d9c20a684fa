"""Which callbacks of the window's loop ran during its long gaps: the stall benchmark's
``--why``.

Every callback the main thread's asyncio loop runs (``asyncio.Handle._run``: task steps,
``call_soon`` callbacks, timers) is timed. For each gap between the benchmark's timer ticks
longer than a frame, the callbacks that overlapped it are summed by name (a task by its
coroutine and the line it waits on). What a gap holds beyond its callbacks ran outside the
asyncio loop: Qt's own work (painting, layout, a model's ``data()`` called by a view), or
the main thread waiting for the GIL or a core while other threads or processes ran.
"""

from __future__ import annotations

import asyncio.events
import collections
import threading
import time
from typing import Any

Span = tuple[float, float, str]  # start, seconds, name


class LoopProfile:
    """Installed while it is active; ``spans`` holds the main thread's callbacks."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._original: Any = None

    def __enter__(self) -> LoopProfile:
        original = asyncio.events.Handle._run
        main = threading.main_thread()
        spans = self.spans

        def timed(handle: asyncio.events.Handle) -> None:
            # The window loop's pass over its ready queue is timed callback by callback.
            if threading.current_thread() is not main or _is_ready_pass(handle):
                return original(handle)
            started = time.perf_counter()
            try:
                return original(handle)
            finally:
                spans.append((started, time.perf_counter() - started, _name(handle)))

        self._original = original
        asyncio.events.Handle._run = timed  # type: ignore[assignment]
        return self

    def __exit__(self, *_exc: object) -> None:
        asyncio.events.Handle._run = self._original  # type: ignore[method-assign]

    def explain(self, gaps: list[tuple[float, float]], top: int = 6) -> list[str]:
        """Lines saying what ran during ``gaps`` (start, end) and clearing what was kept."""
        by_name: dict[str, float] = collections.defaultdict(float)
        counts: collections.Counter[str] = collections.Counter()
        inside, span = 0.0, 0.0
        for start, end in gaps:
            span += end - start
            for begun, seconds, name in self.spans:
                overlap = min(end, begun + seconds) - max(start, begun)
                if overlap > 0:
                    by_name[name] += overlap
                    counts[name] += 1
                    inside += overlap
        self.spans.clear()
        if not gaps:
            return []
        lines = [
            f"{len(gaps)} gaps over the target, {span * 1000:.0f} ms in all: "
            f"{inside * 1000:.0f} ms in loop callbacks, {(span - inside) * 1000:.0f} ms outside"
        ]
        lines += [
            f"  {seconds * 1000:7.1f} ms {counts[name]:5d}x  {name}"
            for name, seconds in sorted(by_name.items(), key=lambda item: -item[1])[:top]
        ]
        return lines


def _is_ready_pass(handle: asyncio.events.Handle) -> bool:
    return getattr(getattr(handle, "_callback", None), "__name__", "") == "_run_ready"


def _name(handle: asyncio.events.Handle) -> str:
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro: Any = task.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = (
            f" at {frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}" if frame else ""
        )
        return f"task {getattr(coro, '__qualname__', coro)}{where}"
    return str(getattr(callback, "__qualname__", None) or repr(callback)[:80])
