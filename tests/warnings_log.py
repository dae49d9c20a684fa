"""Fail a test during which a WARNING-or-worse log record is emitted, unless it says it
expects that record (``@pytest.mark.allow_warnings_log("regex", ...)``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

# Qt's messages reach the log once the app's crash path routes them there. The offscreen
# platform says these of every window, dialog and popup menu, and nothing is wrong (pyproject's
# qt_log_ignore lists the same for pytest-qt's own check).
_HARMLESS_QT = re.compile(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)"
)


class _WarningRecords(logging.Handler):
    """Keeps every WARNING-or-worse record that reaches the root logger."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_unexpected_warnings_logged(request: pytest.FixtureRequest) -> Iterator[None]:
    """A warning the app logs is a problem a user would be told of (or should be): a test
    during which one is logged fails unless it declares it with
    ``@pytest.mark.allow_warnings_log("pattern", ...)`` (regexes searched in the message).

    Autouse and in the outermost conftest, so it is set up first and torn down last: what
    other fixtures log while they tear down is seen too."""
    handler = _WarningRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    allowed = [
        re.compile(pattern)
        for marker in request.node.iter_markers("allow_warnings_log")
        for pattern in marker.args
    ]
    unexpected = [
        record
        for record in handler.records
        if not any(pattern.search(record.getMessage()) for pattern in allowed)
        and not (record.name == "qt" and _HARMLESS_QT.search(record.getMessage()))
    ]
    if unexpected:
        lines = "\n".join(
            f"  {r.levelname} {r.name}: {r.getMessage()}"
            + (f" ({r.exc_info[0].__name__})" if r.exc_info and r.exc_info[0] else "")
            for r in unexpected
        )
        pytest.fail(
            f"{len(unexpected)} unexpected WARNING+ log record(s); declare expected ones with "
            f"@pytest.mark.allow_warnings_log:\n{lines}",
            pytrace=False,
        )
