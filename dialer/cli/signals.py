"""Running until SIGINT or SIGTERM, for the commands that run until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Iterator
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_signals() -> Iterator[asyncio.Event]:
    """An event SIGINT and SIGTERM set while the block runs (on the running loop). Enter it
    before saying the command runs: a signal sent on seeing that line is then never lost."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in _SIGNALS:
        # Windows has no signal handlers on the loop: Ctrl+C raises KeyboardInterrupt there.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in _SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


async def until_stopped(stop: asyncio.Event, work: Awaitable[None] | None = None) -> bool:
    """Wait for ``stop``, or for ``work`` to end first. True when stopped (``work``, still
    running then, is cancelled); False when ``work`` ended."""
    stopped = asyncio.ensure_future(stop.wait())
    waiting: set[asyncio.Future[Any]] = {stopped}
    if work is not None:
        waiting.add(asyncio.ensure_future(work))
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in waiting:
            future.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
    if stop.is_set():
        return True
    for future in waiting - {stopped}:
        future.result()  # the work's own failure, if it failed
    return False
