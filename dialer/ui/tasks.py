"""Named, referenced asyncio tasks for the window.

Starting a task under a name cancels the previous task of that name (a new search
supersedes the last); every task is referenced until done, and its failure is logged and
reported, never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class TaskManager:
    def __init__(self, on_error: Callable[[str, BaseException], None] | None = None):
        self._named: dict[str, asyncio.Task[Any]] = {}
        self._all: set[asyncio.Task[Any]] = set()
        self._on_error = on_error

    def start(
        self, name: str, coro: Coroutine[Any, Any, Any], *, replace: bool = True
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as task ``name``; ``replace`` cancels an older task of that name."""
        previous = self._named.get(name)
        if previous is not None and not previous.done() and replace:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._named[name] = task
        self._all.add(task)
        task.add_done_callback(self._finished)
        return task

    def running(self, name: str) -> bool:
        task = self._named.get(name)
        return task is not None and not task.done()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._all.discard(task)
        if self._named.get(task.get_name()) is task:
            del self._named[task.get_name()]
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.error("Task %s failed", task.get_name(), exc_info=error)
            if self._on_error is not None:
                self._on_error(task.get_name(), error)

    async def wait_idle(self, *, besides: frozenset[str] = frozenset()) -> None:
        """Wait until every task started so far (and any they start) has finished, but for
        the tasks named in ``besides`` (ones that run for the window's whole life)."""
        while waiting := [task for task in self._all if task.get_name() not in besides]:
            await asyncio.gather(*waiting, return_exceptions=True)

    async def cancel_all(self) -> None:
        tasks = list(self._all)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
