"""LoopThread: a coroutine run on a loop of its own thread, answered on the caller's loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dialer.core.threads import LoopThread


@pytest.fixture
def thread() -> object:
    running = LoopThread("test-loop-thread")
    yield running
    running.close()


async def test_run_returns_the_result_computed_on_the_thread(thread: LoopThread) -> None:
    async def where() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    assert await thread.run(where()) == "test-loop-thread"


async def test_errors_reach_the_caller(thread: LoopThread) -> None:
    async def fail() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await thread.run(fail())


async def test_cancelling_the_caller_cancels_the_coroutine_there(thread: LoopThread) -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def wait_forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = asyncio.create_task(thread.run(wait_forever()))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.get_running_loop().run_in_executor(None, cancelled.wait, 5)


async def test_close_stops_the_thread_and_later_runs_are_refused() -> None:
    thread = LoopThread("closing")
    thread.close()
    assert not [t for t in threading.enumerate() if t.name == "closing"]

    async def nothing() -> None:
        return None

    with pytest.raises(RuntimeError, match="closed"):
        await thread.run(nothing())
    thread.close()  # twice is fine
