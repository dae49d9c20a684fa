"""Blocking work off the event loop, on threads that never hold the process open."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
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
