"""Call history: the store every call's outcome lands in, and the types it holds."""

from dialer.history.records import (
    FINAL_STATUSES,
    CallOrigin,
    CallRecord,
    HistoryQuery,
    HistoryTotals,
    ProviderReport,
    SortKey,
    StoredReport,
    TimelineEntry,
    digits_of,
)
from dialer.history.store import HistoryListener, HistoryStore, PageKey

__all__ = [
    "FINAL_STATUSES",
    "CallOrigin",
    "CallRecord",
    "HistoryListener",
    "HistoryQuery",
    "HistoryStore",
    "HistoryTotals",
    "PageKey",
    "ProviderReport",
    "SortKey",
    "StoredReport",
    "TimelineEntry",
    "digits_of",
]
