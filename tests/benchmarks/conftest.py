"""The benchmarks' own tests run the real window on Qt's loop, as the GUI tests do."""

from __future__ import annotations

from tests.ui.conftest import (
    collect_dead_loops,
    no_event_processing_between_phases,
    pytest_asyncio_loop_factories,
)

__all__ = [
    "collect_dead_loops",
    "no_event_processing_between_phases",
    "pytest_asyncio_loop_factories",
]
