"""A burst of work on one loop is cut into slices: the loop's other callbacks (the window's
timers and input) get a turn between them. The clock is a fake: each step "takes" 1 ms."""

from __future__ import annotations

import asyncio

from dialer.core.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_yields_to_the_loop_once_its_slice_is_used_up() -> None:
    clock = FakeClock()
    pacer = Pacer(0.004, clock=clock)
    order: list[object] = []

    async def step(n: int) -> None:
        await pacer.turn()
        order.append(n)
        clock.now += 0.001  # a step of 1 ms

    tasks = [asyncio.ensure_future(step(n)) for n in range(10)]
    asyncio.get_running_loop().call_soon(order.append, "the window's turn")
    await asyncio.gather(*tasks)
    # Four steps fill the 4 ms slice; the rest wait until the loop has had its turn.
    assert order[:5] == [0, 1, 2, 3, "the window's turn"]
    assert sorted(n for n in order if isinstance(n, int)) == list(range(10))


async def test_a_step_after_a_pause_goes_on_at_once() -> None:
    clock = FakeClock()
    pacer = Pacer(0.004, clock=clock)
    for _ in range(3):
        clock.now += 1.0  # the loop was free meanwhile
        turned = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(turned.set_result, None)
        await pacer.turn()
        assert not turned.done()  # returned without giving the loop a turn
        await turned
