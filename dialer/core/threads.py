"""Blocking work off the event loop, on threads that never hold the process open."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class DaemonThreadExecutor(concurrent.futures.Executor):
    """One daemon thread per job. ``shutdown`` does not wait.

    The window's loop uses it as its default executor: qasync's own waits for its threads
    on exit, so one DNS lookup or keyring prompt stuck in a thread held the app open for its
    whole duration.
    """

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=run, name="dialer-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: the threads are daemons and finish or die with the process."""


class LoopThread:
    """An asyncio loop of its own, run by a daemon thread: for a server whose every request
    would otherwise queue behind the window's work (and pay qasync's cost per callback,
    which is several times the stock loop's).

    ``await thread.run(coro)`` runs ``coro`` there and returns its result to the caller's
    loop (cancelling the caller cancels it there too); ``close()`` stops the loop and joins.
    """

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.loop.is_closed():
            coro.close()
            raise RuntimeError(f"the {self._thread.name} loop is closed")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def call_soon(self, callback: Callable[[], object]) -> None:
        """``callback()`` on the thread's loop (from any thread)."""
        self.loop.call_soon_threadsafe(callback)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the loop (tasks still running there are dropped) and wait for the thread."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()
