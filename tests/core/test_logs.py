"""The app's log file (dialer.core.logs): what providers say reaches it, whatever it holds."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.core.logs import setup_logging


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    level = root.level
    path = setup_logging(tmp_path / "logs")
    yield path
    for handler in list(root.handlers):
        if getattr(handler, "_dialer", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_a_lone_surrogate_is_written_escaped_not_lost(
    log_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A JSON "\ud800" from a report reaches a log line as a lone surrogate, which UTF-8
    # cannot hold: the line is written with it escaped (and no "--- Logging error ---").
    logging.getLogger("dialer.test").info("report says %s", "to=\ud800 next")
    logging.getLogger("dialer.test").info("the line after")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text("utf-8")
    assert "report says to=\\ud800 next" in text and "the line after" in text
    assert "Logging error" not in capsys.readouterr().err
