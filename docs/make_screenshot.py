"""Render the demo window to ``docs/screenshot.png`` (the picture at the top of the README).

    .venv/bin/python docs/make_screenshot.py [PATH]

Runs offscreen unless a display is set (Xvfb works too), in a throw-away data folder: the
demo profile, a search, and a few calls placed on the built-in simulator, caught while they
progress, so the picture shows the window as an agent sees it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshot.png"


async def render(out: Path) -> None:
    from PySide6.QtTest import QTest

    from dialer.app.demo import open_demo_profile
    from dialer.core.paths import AppPaths
    from dialer.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as home:
        profile = await open_demo_profile(
            AppPaths.under(Path(home)), ring_seconds=0.5, talk_seconds=1.5
        )
        window = MainWindow(profile)
        try:
            window.resize(1280, 800)
            window.show()
            await window.start()
            for number in ("+91 88671 35000", "+91 80682 80000", "+44 20 7946 0000"):
                await window.call_number(number)
            await asyncio.sleep(3.5)  # let the calls ring, connect and report their outcome
            profile.simulator.config.talk_seconds = 60.0
            await window.call_number("+91 97845 60622")
            await asyncio.sleep(1.2)  # and one call still in progress
            QTest.keyClicks(window.search_edit, "an")
            await asyncio.sleep(0.4)  # the search is throttled, then runs off the GUI thread
            await window.tasks.wait_idle()
            window.number.set_text("+91 98450 12345")
            out.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(out)):
                raise SystemExit(f"could not write {out}")
        finally:
            window.close()
            await window.shutdown()
            await profile.aclose()
            window.deleteLater()


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else OUT
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    from dialer.ui.theme import follow_system_theme

    follow_system_theme(app)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(render(out))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
