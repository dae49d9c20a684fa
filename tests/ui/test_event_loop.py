"""The window's loop (qasync's) lets go of a cancelled timer at once: every HTTP request
cancels the timers of its timeouts, and qasync alone kept each until its time came."""

from __future__ import annotations

import asyncio
import time

import pytest
from PySide6.QtCore import QAbstractEventDispatcher


def qt_timers(loop: asyncio.AbstractEventLoop) -> int:
    """The Qt timers registered for the loop's callbacks, as Qt counts them."""
    dispatcher = QAbstractEventDispatcher.instance()
    assert dispatcher is not None
    return len(dispatcher.registeredTimers(loop._timer))  # type: ignore[attr-defined]


async def test_cancelled_timers_leave_the_loop_at_once() -> None:
    loop = asyncio.get_running_loop()
    before = qt_timers(loop)
    for _ in range(500):  # as each request's timeout does
        async with asyncio.timeout(3600):
            await asyncio.sleep(0)
    handles = [loop.call_later(3600, lambda: None) for _ in range(500)]
    for handle in handles:
        handle.cancel()
    assert qt_timers(loop) <= before + 5


async def test_timers_still_fire_once_and_timeouts_still_expire() -> None:
    loop = asyncio.get_running_loop()
    fired: list[int] = []
    done = loop.create_future()
    cancelled = loop.call_later(0.02, fired.append, -1)
    for n in range(5):
        loop.call_later(0.01 * n, fired.append, n)
    loop.call_later(0.08, done.set_result, None)
    cancelled.cancel()
    cancelled.cancel()  # twice: nothing more happens
    await done
    assert sorted(fired) == [0, 1, 2, 3, 4]  # the cancelled one never ran, the others once
    with_timeout_done = False
    async with asyncio.timeout(5):
        await asyncio.sleep(0.01)
        with_timeout_done = True
    assert with_timeout_done
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)
    except TimeoutError:
        pass
    else:
        raise AssertionError("the timeout did not fire")


async def test_a_timer_that_cancels_itself_as_it_runs_is_let_go_once(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """anyio's timeouts (httpx's, when a provider does not answer in time) cancel their own
    handle from inside it: qasync still owns that timer until the callback returns."""
    loop = asyncio.get_running_loop()
    before = qt_timers(loop)
    done = loop.create_future()
    ran: list[int] = []
    handles: list[asyncio.Handle] = []

    def expire(n: int) -> None:
        ran.append(n)
        handles[n].cancel()  # as anyio's CancelScope.cancel() does from its deadline
        if len(ran) == 20:
            done.set_result(None)

    handles.extend(loop.call_later(0.001 * n, expire, n) for n in range(20))
    await done
    await asyncio.sleep(0.01)
    assert sorted(ran) == list(range(20))
    assert "Error calling Python override" not in capfd.readouterr().err
    assert qt_timers(loop) <= before + 1


async def test_a_burst_of_ready_callbacks_runs_in_order_and_in_slices() -> None:
    """2,000 ready callbacks of 0.1 ms each (200 calls' steps at once): they run in the
    order they were scheduled, and Qt's own timers get their turn well before the last."""
    from PySide6.QtCore import QTimer

    loop = asyncio.get_running_loop()
    ran: list[int] = []
    qt_saw: list[int] = []  # how many callbacks had run when Qt's timer fired
    done = loop.create_future()

    def busy(n: int) -> None:
        if n == 0:
            QTimer.singleShot(0, lambda: qt_saw.append(len(ran)))
        until = time.perf_counter() + 0.0001
        while time.perf_counter() < until:
            pass
        ran.append(n)
        if n == 999:  # one made ready meanwhile goes after those already waiting
            loop.call_soon(ran.append, -1)
        if n == 1999:
            loop.call_soon(done.set_result, None)

    for n in range(2000):
        loop.call_soon(busy, n)
    await done
    assert ran == [*range(2000), -1]
    assert qt_saw and qt_saw[0] < 1000  # 200 ms of work: Qt had a turn within its first 100


async def test_the_windows_thread_gets_the_gil_back_within_a_millisecond() -> None:
    """Worker threads (a contacts import, the team sync) hand the GIL back to the window's
    thread within 1 ms of its asking, not Python's default 5 ms."""
    import sys

    assert sys.getswitchinterval() <= 0.001
