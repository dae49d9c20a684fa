"""Cutting a burst of work on one event loop into slices, so that the window's own events
(painting, input, timers) get a turn in between.

A burst of coroutines that all become ready at once (200 calls started together, or their
200 answers arriving together) would otherwise run back to back in one turn of the loop:
each step is cheap, but two hundred of them hold the window for a third of a second. Each
step of such work first awaits :meth:`Pacer.turn`: within the current slice it goes on at
once; once the slice is used up, it yields, and the loop handles what is waiting (timers
due meanwhile included) before the next slice starts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# A slice of a frame (16 ms): one step more still ends within the frame.
SLICE_SECONDS = 0.004


class Pacer:
    """Shared by the coroutines of one kind of work on one loop."""

    def __init__(
        self, slice_seconds: float = SLICE_SECONDS, clock: Callable[[], float] = time.perf_counter
    ):
        self._slice = slice_seconds
        self._clock = clock
        self._mark = 0.0  # when the current slice started
        self._last = 0.0  # when a step last went through
        self._generation = 0

    async def turn(self) -> None:
        """Return at once while the current slice lasts; otherwise after the loop's next
        turn (the first step back starts the next slice)."""
        while True:
            now = self._clock()
            if now - self._last > self._slice:
                # Nothing went through for a while: the loop was free; a new slice starts.
                self._mark = now
            if now - self._mark < self._slice:
                self._last = now
                return
            generation = self._generation
            await asyncio.sleep(0)
            if self._generation == generation:
                self._generation += 1
                self._mark = self._last = self._clock()
                return
