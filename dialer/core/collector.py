"""Python's cyclic garbage collector, kept from stalling the window.

A full collection walks every tracked object while it holds the GIL: 45-50 ms for the
objects a shown window keeps (modules, classes, Qt wrappers), 100-250 ms while an import
holds 100,000 contacts. Whichever thread's allocation triggers it, the window's thread
waits that long (``python -m benchmarks.stall``). Three remedies, each where it belongs:

- the process that owns the window freezes what start-up made (:func:`freeze_start_up`):
  those objects live as long as the process, and later collections skip them;
- that process then runs its full collections on a schedule of its own
  (:func:`collect_fully_now_and_then`), not whenever an allocation on any thread tips
  Python's count: during a flood of 20,000 reports a full collection still came every
  couple of seconds, on the history's thread, holding the window for 4-6 ms of a frame;
- bulk work on a worker thread runs with the collector paused (:func:`paused`): what it
  builds holds no reference cycles, so reference counting frees it all, and frees its big
  lists a slice at a time (:func:`drop_in_chunks`), not in one call that holds the GIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Iterator
from typing import Any


class _Pauses:
    """How many :func:`paused` blocks run, and whether the collector ran before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.enabled_before = True


_pauses = _Pauses()


def freeze_start_up() -> None:
    """Move every object alive now out of the collector's reach for good (``gc.freeze``).
    For the process that owns the window, once start-up is done; not for a library user
    or a test, whose process is not theirs to freeze."""
    gc.freeze()


FULL_EVERY_SECONDS = 30.0
# Python starts a full collection after this many young (generation 1) ones; 10 by default.
# This many is never, in practice: the schedule below does it instead.
_YOUNG_PER_FULL = 1_000_000


async def collect_fully_now_and_then(every: float = FULL_EVERY_SECONDS) -> None:
    """Until cancelled: a full collection every ``every`` seconds and none in between
    (young collections go on as Python has them). Cyclic garbage that outlives two young
    collections waits at most that long. For the process that owns the window, as
    :func:`freeze_start_up`; Python's own rule is back once this ends."""
    young, older, full = gc.get_threshold()
    gc.set_threshold(young, older, _YOUNG_PER_FULL)
    try:
        while True:
            await asyncio.sleep(every)
            gc.collect()
    finally:
        gc.set_threshold(young, older, full)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection while this runs (nested and concurrent uses count; the
    collector's state from before the first is restored after the last)."""
    with _pauses.lock:
        if _pauses.count == 0:
            _pauses.enabled_before = gc.isenabled()
            gc.disable()
        _pauses.count += 1
    try:
        yield
    finally:
        with _pauses.lock:
            _pauses.count -= 1
            if _pauses.count == 0 and _pauses.enabled_before:
                gc.enable()


DROP_CHUNK = 2_000


def drop_in_chunks(items: list[Any]) -> None:
    """Empty ``items`` a slice at a time. Freeing a list of 100,000 rows in one go is one C
    call that holds the GIL while it frees a million objects (40-50 ms, during which the
    window's thread cannot run); between slices the interpreter may hand the GIL over."""
    while items:
        del items[-DROP_CHUNK:]
