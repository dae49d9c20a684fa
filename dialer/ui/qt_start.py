"""PySide6 reads the source of every module imported after it: its ``__feature__`` support
(``from __feature__ import snake_case``) decides per module whether the module uses PySide6
by searching the module's source for the word, with ``inspect.getsource``. That reads and
keeps in ``linecache`` every file the app imports (about 600 files, 5 MB of text, 8 MB of
memory, and the time to read them at start-up).

The dialer uses no ``__feature__``, and neither does any library it imports, so the answer
that check gives is known without reading a file: this module gives it by the module's name
(the dialer's own modules and Qt's count as using PySide6, as the check would find).
"""

from __future__ import annotations

import sys
from types import ModuleType

_OURS = ("dialer", "PySide6", "shiboken6")


def _uses_pyside(module: ModuleType) -> bool:
    return getattr(module, "__name__", "").startswith(_OURS)


def skip_source_reads() -> bool:
    """Answer PySide6's per-module check by name (True when it was replaced; False on a
    PySide6 whose feature support is shaped otherwise, which is then left as it is)."""
    import PySide6.QtCore  # noqa: F401 - loads PySide6's feature support

    feature = sys.modules.get("PySide6.support.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    setattr(feature, "_mod_uses_pyside", _uses_pyside)  # noqa: B010 - a private hook
    return True
