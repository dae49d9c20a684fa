"""Writing settings files so that a crash or a full disk never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


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
