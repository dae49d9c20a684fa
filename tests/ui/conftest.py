"""GUI tests: a real window, offscreen, on a qasync loop, against the real simulator.

Async tests here run on Qt's own event loop (pytest-asyncio's loop-factory hook), so they
can await the window's coroutines while Qt paints and delivers signals. Never call
``qtbot.wait``/``waitSignal`` inside them: that nests a Qt loop under a running coroutine.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

os.environ["QT_API"] = "pyside6"

pytestmark = pytest.mark.gui


def _qasync_loop() -> asyncio.AbstractEventLoop:
    from PySide6.QtWidgets import QApplication

    from dialer.core.threads import DaemonThreadExecutor
    from dialer.ui.event_loop import QEventLoop

    class TestEventLoop(QEventLoop):  # the window's loop
        """qasync's ``run_until_complete`` processes Qt events once more *after* the loop
        has stopped running. The app makes one such call for its whole life, but pytest makes
        one per fixture and per test, and a background task that a fixture started (the
        demo's progress follower) is stepped there with no running loop and dies ("no
        running event loop"). Tests therefore leave pending events to the next run."""

        def run_until_complete(self, future: Any) -> Any:
            future = asyncio.ensure_future(future, loop=self)
            future.add_done_callback(lambda _: self.stop())
            self.run_forever()
            if not future.done():
                raise RuntimeError("Event loop stopped before Future completed.")
            return future.result()

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # a closing dialog must not stop the loop
    loop = TestEventLoop(app)
    loop.set_default_executor(DaemonThreadExecutor())
    return loop


@pytest.fixture(autouse=True)
def collect_dead_loops() -> Iterator[None]:
    """Collect the cyclic garbage of earlier tests' qasync loops here, on the GUI thread.

    Each test gets a new loop whose timer QObjects end up in reference cycles. Collected on
    a worker thread (the collector runs wherever allocation trips it, e.g. during an import
    in the executor), they make Qt warn "Timers cannot be stopped from another thread".
    """
    gc.collect()
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def no_event_processing_between_phases(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-qt calls ``processEvents()`` between fixture setup and the test body. With
    qasync that steps asyncio tasks while no loop is running (a background task started by a
    fixture then dies with "no running event loop"). Here the qasync loop itself processes
    every event while a test or fixture runs, so those extra calls are switched off."""
    import pytestqt.plugin

    monkeypatch.setattr(pytestqt.plugin, "_process_events", lambda: None)


def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Callable[[], Any]]:
    return {"qasync": _qasync_loop}


@pytest.fixture
async def demo_profile(qapp: Any, dialer_home: Path) -> AsyncIterator[Any]:
    from dialer.app.demo import open_demo_profile
    from dialer.core.paths import AppPaths

    profile = await open_demo_profile(AppPaths.default(), ring_seconds=0.05, talk_seconds=0.05)
    yield profile
    await profile.aclose()


@pytest.fixture
async def window(qapp: Any, demo_profile: Any) -> AsyncIterator[Any]:
    from dialer.ui.main_window import MainWindow

    win = MainWindow(demo_profile)
    win.show()
    await win.start()
    yield win
    await win.shutdown()
    win.close()
    win.deleteLater()


async def close_window(window: Any, profile: Any) -> None:
    """Close a window a test made over a profile of its own, then the profile: the window
    deleted by Qt on the loop, not by Python's garbage collector at a random time."""
    await window.shutdown()
    window.close()
    window.deleteLater()
    await asyncio.sleep(0)
    await profile.aclose()


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Yield to the loop until ``condition()`` holds (the async-safe ``waitUntil``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


Waiter = Callable[[Callable[[], bool]], Awaitable[None]]


W = TypeVar("W", bound="QWidget")


async def modal(kind: type[W]) -> W:
    """The visible modal dialog of ``kind``, once it is up and the active window (keys go
    to it: until then they go to the window under it)."""
    from PySide6.QtWidgets import QApplication

    def found() -> bool:
        widget = QApplication.activeModalWidget()
        return (
            isinstance(widget, kind)
            and widget.isVisible()
            and QApplication.activeWindow() is widget
        )

    await until(found)
    widget = QApplication.activeModalWidget()
    assert isinstance(widget, kind)
    return widget


@pytest.fixture
async def parent(qapp: Any) -> AsyncIterator[Any]:
    """A shown window for dialogs to open over."""
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    widget.resize(900, 700)
    widget.show()
    yield widget
    widget.close()
    widget.deleteLater()
