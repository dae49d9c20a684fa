"""The start-up benchmark's own measuring helpers count what they say (the figures
themselves are the benchmark's to print, never asserted here)."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.startup import _descendants, tree_rss_mb


def test_a_process_tree_and_its_resident_memory_include_the_children() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; x = bytearray(60 * 2**20); time.sleep(30)"]
    )
    try:
        import time

        deadline = time.monotonic() + 20
        while tree_rss_mb(child.pid) < 60:  # the child has touched its 60 MB
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert child.pid in _descendants(os.getpid())
        assert tree_rss_mb(os.getpid()) >= tree_rss_mb(child.pid) + 1
    finally:
        child.kill()
        child.wait()
