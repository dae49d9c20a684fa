"""One logging set-up for the app: a rotating file in the log folder, secrets scrubbed."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from dialer.core.redact import RedactingFilter

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_dir: Path, *, level: int = logging.INFO) -> Path:
    """Log to ``log_dir/dialer.log`` (rotated at 1 MB, 5 kept). Returns the file's path."""
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / "dialer.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dialer", False):
            root.removeHandler(handler)
            handler.close()
    # A provider's text may hold what UTF-8 cannot (a lone surrogate from a JSON "\ud800"):
    # written escaped, rather than a "--- Logging error ---" on stderr and the line lost.
    handler = logging.handlers.RotatingFileHandler(
        path,
        maxBytes=1_000_000,
        backupCount=5,
        encoding="utf-8",
        errors="backslashreplace",
        delay=True,
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())
    handler._dialer = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request line at INFO; the filter scrubs it, but it is noise as well.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return path
