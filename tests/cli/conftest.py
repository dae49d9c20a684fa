"""A simulator for in-process CLI tests of the tracker (tests/cli/test_track_*.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dialer.cli import track
from dialer.history.tracking import TrackingTimings
from dialer.simulator import ProviderSimulator, SimulatorConfig

# What the tests shorten: the tracker's waits (the second v1 read comes this soon).
FAST = TrackingTimings(first_poll=0.01, max_interval=0.05, confirm_delay=0.01, rescan_interval=0.05)


@dataclass
class Sim:
    """The simulator on its own loop thread, so that main() can run asyncio.run() here."""

    simulator: ProviderSimulator
    loop: asyncio.AbstractEventLoop

    def finished(self, ref: str) -> None:
        """Wait until the simulator ended the call (its report or history item is written)."""
        coro = self.simulator.wait_call_finished(ref, timeout=10)
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def lookups(self, path_end: str) -> int:
        return sum(1 for r in self.simulator.requests if r.path.endswith(path_end))


@pytest.fixture
def threaded_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """Short calls, and the CLI's tracker on :data:`FAST` timings."""
    monkeypatch.setattr(track, "TIMINGS", FAST)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    simulator = ProviderSimulator(SimulatorConfig(ring_seconds=0.05, talk_seconds=0.1))
    asyncio.run_coroutine_threadsafe(simulator.start(), loop).result(10)
    yield Sim(simulator, loop)
    asyncio.run_coroutine_threadsafe(simulator.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()
