"""Running until SIGINT or SIGTERM, for the commands that run until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable
from typing import Any


async def until_signalled(work: Awaitable[None] | None = None) -> bool:
    """Wait for SIGINT or SIGTERM, or for ``work`` to end first. True when a signal came
    (``work``, still running then, is cancelled); False when ``work`` ended."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no signal handlers on the loop: Ctrl+C raises KeyboardInterrupt there.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    stopped = asyncio.ensure_future(stop.wait())
    waiting: set[asyncio.Future[Any]] = {stopped}
    if work is not None:
        waiting.add(asyncio.ensure_future(work))
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        for future in waiting:
            future.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
    if stop.is_set():
        return True
    for future in waiting - {stopped}:
        future.result()  # the work's own failure, if it failed
    return False
