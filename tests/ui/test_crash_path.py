"""The one crash path: what escapes is logged with secrets masked and shown as a notice
that does not block the window."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from pathlib import Path

import pytest

from dialer.core.logs import setup_logging
from dialer.core.redact import register_secret
from dialer.ui.crash import CrashPath
from dialer.ui.messages import Level, MessageBridge
from tests.ui.conftest import until

SECRET = "tok-5ecret-in-an-exception-9f2c"


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    return setup_logging(tmp_path / "logs")


def _logged(log_file: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return log_file.read_text()


@pytest.mark.allow_warnings_log(r"Unexpected error while running the window")
async def test_a_failed_task_nobody_awaited_is_logged_masked_and_shown(
    qapp: object, log_file: Path
) -> None:
    register_secret(SECRET)
    messages = MessageBridge()
    crash = CrashPath(messages)
    loop = asyncio.get_running_loop()
    crash.install(loop)
    try:

        async def fails() -> None:
            raise RuntimeError(f"provider said Bearer {SECRET}")

        task = loop.create_task(fails())
        await asyncio.wait([task])
        del task  # never awaited: the loop reports it once the task is collected
        gc.collect()
        await until(lambda: any(level is Level.ERROR for level, _ in messages.history))
    finally:
        crash.uninstall()
    [(_, notice)] = [m for m in messages.history if m[0] is Level.ERROR]
    assert "Something unexpected went wrong while running the window (RuntimeError)" in notice
    text = _logged(log_file)
    assert "RuntimeError: provider said Bearer" in text  # the traceback is in the log ...
    assert SECRET not in text  # ... with the secret masked
    assert loop.get_exception_handler() is None  # put back


@pytest.mark.allow_warnings_log(r"Unexpected error while running the window")
def test_an_uncaught_exception_reaches_the_same_path(qapp: object, log_file: Path) -> None:
    register_secret(SECRET)
    messages = MessageBridge()
    crash = CrashPath(messages)
    loop = asyncio.new_event_loop()
    crash.install(loop)
    try:
        assert sys.excepthook == crash.excepthook
        try:
            raise ValueError(f"pin={SECRET}")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        crash.uninstall()
        loop.close()
    assert sys.excepthook != crash.excepthook
    assert messages.history[-1][0] is Level.ERROR
    assert "(ValueError)" in messages.history[-1][1]
    assert SECRET not in _logged(log_file)


@pytest.mark.allow_warnings_log(r"^cannot open display")
def test_a_critical_qt_message_is_a_notice(qapp: object, log_file: Path) -> None:
    register_secret(SECRET)
    messages = MessageBridge()
    crash = CrashPath(messages)
    crash.qt_message(logging.CRITICAL, f"cannot open display; token {SECRET}")
    crash.qt_message(logging.INFO, "nothing to see")
    [(level, notice)] = messages.history  # the INFO message is only logged
    assert level is Level.ERROR
    assert notice.startswith("Qt reported a problem: cannot open display; token ")
    assert SECRET not in notice
    assert SECRET not in _logged(log_file)
