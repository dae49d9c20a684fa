"""Where the app's own files (icon, desktop entry) are: a source checkout or a frozen bundle.

From a checkout or an editable install they are the repository's ``resources/`` folder. In
a PyInstaller build (``packaging/dialer.spec``) they are collected as ``resources/`` beside
the bundled modules, which is ``sys._MEIPASS`` (``_internal/`` next to the executable on
Linux and Windows, ``Contents/Frameworks`` in the macOS bundle, where PyInstaller links the
data folders to ``Contents/Resources``).
"""

from __future__ import annotations

import sys
from pathlib import Path

FOLDER = "resources"


def _frozen_candidates() -> list[Path]:
    executable_dir = Path(sys.executable).resolve().parent
    candidates = []
    bundle_dir = getattr(sys, "_MEIPASS", None)
    if bundle_dir:
        candidates.append(Path(bundle_dir) / FOLDER)
    candidates += [
        executable_dir / FOLDER,  # a one-folder build with the contents directory disabled
        executable_dir.parent / "Resources" / FOLDER,  # macOS: Contents/MacOS -> Resources
    ]
    return candidates


def resources_dir() -> Path:
    """The folder holding ``dialer.svg`` and ``dialer.desktop``.

    Never raises: when no candidate exists (a wheel installed without the repository), the
    most likely place is returned and callers check for the file they need.
    """
    if getattr(sys, "frozen", False):
        candidates = _frozen_candidates()
        return next((path for path in candidates if path.is_dir()), candidates[0])
    return Path(__file__).resolve().parents[2] / FOLDER
