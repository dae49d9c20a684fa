"""The window's asyncio loop: qasync's, with its ready callbacks run in slices, cancelled
timers let go at once, and the GIL handed back to the window's thread within 1 ms.

qasync 0.28 runs each ``call_soon`` as a Qt timer of its own. Qt fires every timer that is
due in one pass, back to back: 200 calls placed together, or their 200 answers, meant some
thousand task steps in one pass, and the window neither painted nor took a key for 20-30 ms
(benchmarks/stall.py). Here ready callbacks wait in one queue, as in asyncio's own loop, and
one Qt timer runs them in order for at most a slice of a frame; what is left waits for the
next pass, after Qt's own events and timers.

qasync also runs each ``call_later``/``call_at`` as a Qt timer and keeps its handle until
the timer fires, cancelled or not. Every HTTP request arms several timers for its timeouts
(15 s, the read timeout) and cancels them when it is answered: at a hundred calls a second
the loop held some 12,000 dead handles with their contexts and Qt timers, and the window's
resident memory grew with them (benchmarks/soak.py). Here a cancelled handle kills its Qt
timer and is dropped there and then.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import qasync

from dialer.core.pacing import SLICE_SECONDS  # ready callbacks run this long at most a pass

# How long a thread holding the GIL keeps it once another asks (Python's default: 5 ms).
# Importing a contacts file or sending the team's calls runs on worker threads; each time
# Qt calls into Python (a timer, a socket, a paint) the window's thread asks for the GIL
# again, and at 5 ms a wait each the window missed a frame (benchmarks/stall.py).
GIL_SWITCH_SECONDS = 0.001


class _QtTimerHandle(asyncio.Handle):
    """A handle that tells its loop when it is cancelled."""

    __slots__ = ("_on_cancel", "_running", "timer_id")

    def __init__(
        self,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        loop: asyncio.AbstractEventLoop,
        context: contextvars.Context | None,
        on_cancel: Callable[[_QtTimerHandle], None],
    ) -> None:
        super().__init__(callback, args, loop, context=context)
        self._on_cancel = on_cancel
        self.timer_id = 0  # the Qt timer that runs it
        self._running = False

    def _run(self) -> None:
        self._running = True
        super()._run()

    def cancel(self) -> None:
        if not self._cancelled:
            super().cancel()
            # Cancelled from inside its own callback (anyio's deadlines do that): qasync
            # lets go of its timer itself once the callback returns.
            if not self._running:
                self._on_cancel(self)


class QEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop, with its ready callbacks run in slices from one queue and cancelled
    timers killed at once (see the module's text)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_SECONDS))
        self._qt_thread = threading.get_ident()  # Qt timers are killed on their own thread
        # qasync's own table of timer id -> handle; without it (another qasync), timers
        # are left to qasync as they were.
        self._qt_callbacks: dict[int, Any] | None = getattr(
            self._timer, "_SimpleTimer__callbacks", None
        )
        self._qt_ready: collections.deque[asyncio.Handle] = collections.deque()
        self._qt_ready_armed = False  # a Qt timer will run the queue

    def call_soon(
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        if (
            self._qt_callbacks is None
            or self._timer._stopped
            or threading.get_ident() != self._qt_thread
        ):
            return super().call_soon(callback, *args, context=context)  # type: ignore[no-any-return]
        self._check_closed()
        if asyncio.iscoroutinefunction(callback):
            raise TypeError("coroutines cannot be used with call_soon")
        if not callable(callback):
            raise TypeError(f"callback must be callable: {type(callback).__name__}")
        handle = asyncio.Handle(callback, args, self, context=context)
        self._qt_ready.append(handle)
        if not self._qt_ready_armed:
            self._arm_ready()
        return handle

    def _arm_ready(self) -> None:
        self._qt_ready_armed = True
        self._timer.add_callback(asyncio.Handle(self._run_ready, (), self, context=None))

    def _run_ready(self) -> None:
        """Run the callbacks that were ready when this pass began, in order, until the slice
        is used up; the rest (and what they make ready) run in the next pass."""
        self._qt_ready_armed = False
        ready = self._qt_ready
        deadline = time.perf_counter() + SLICE_SECONDS
        try:
            for _ in range(len(ready)):
                handle = ready.popleft()
                if not handle._cancelled:
                    handle._run()
                if time.perf_counter() >= deadline:
                    break
        finally:  # (a KeyboardInterrupt out of a callback leaves the rest for later)
            if ready and not self._qt_ready_armed:
                self._arm_ready()

    def call_later(
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        callbacks = self._qt_callbacks
        if callbacks is None or self._timer._stopped:
            return super().call_later(delay, callback, *args, context=context)  # type: ignore[no-any-return]
        if asyncio.iscoroutinefunction(callback):
            raise TypeError("coroutines cannot be used with call_later")
        if not callable(callback):
            raise TypeError(f"callback must be callable: {type(callback).__name__}")
        handle = _QtTimerHandle(callback, args, self, context, self._cancelled_timer)
        handle.timer_id = self._timer.startTimer(int(max(0, delay) * 1000))
        callbacks[handle.timer_id] = handle
        return handle

    def _cancelled_timer(self, handle: _QtTimerHandle) -> None:
        callbacks = self._qt_callbacks
        if threading.get_ident() != self._qt_thread:
            return  # left to fire, as qasync would
        if callbacks is None or callbacks.get(handle.timer_id) is not handle:
            return  # it fired already (a timer id may be another handle's by now)
        del callbacks[handle.timer_id]
        self._timer.killTimer(handle.timer_id)
