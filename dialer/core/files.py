"""Settings files: read with one clear sentence when unreadable, written so that a crash or
a full disk never leaves half a file."""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from dialer.core.errors import ConfigError


def read_toml(path: Path, what: str) -> dict[str, Any] | None:
    """The TOML document at ``path``, or None when there is no such file yet. An unreadable
    file raises :class:`ConfigError`: "Cannot read the <what> file <path>: <why>"."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the {what} file {path}: {exc}") from None


def write_toml_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` via a temporary file in the same (private) folder,
    flushed to disk and then renamed over the old file in one step."""
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            tomli_w.dump(document, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
