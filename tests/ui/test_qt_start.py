"""PySide6's per-module source read is answered by name: nothing the app imports afterwards
is read into linecache (checked in a process of its own: the test run's PySide6 is already
loaded with its own hook)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, linecache
from dialer.ui.qt_start import skip_source_reads
replaced = skip_source_reads()
import dialer.ui.main_window  # a large part of the app, imported after the hook
loaded = [name for name, entry in linecache.cache.items() if len(entry) > 2]
from PySide6.support import feature
print(json.dumps({
    "replaced": replaced,
    "loaded": loaded,
    "ours": feature.pyside_feature_dict.get("dialer.ui.history_panel"),
}))
"""


def test_modules_imported_after_qt_are_not_read_for_their_source() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=60,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["replaced"] is True
    # Without the hook, every module's source is read (hundreds of files).
    assert [name for name in result["loaded"] if "dialer" in name] == []
    assert result["ours"] == 0  # the dialer's modules count as using PySide6, as before
