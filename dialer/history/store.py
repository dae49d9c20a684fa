"""The history store's interface: the seam every backend sits behind.

:class:`~dialer.history.sqlite_store.SqliteHistory` implements it on a SQLite file in the
data folder. A shared server store (a team of agents and their supervisor on one history)
would implement the same methods; nothing above this interface knows which one it has:
everything outside ``dialer.history`` gets its store from
:func:`dialer.history.factory.open_history` and uses only what is declared here. The
rules every backend follows (which call a report belongs to, what it changes, how totals
are kept) are in :mod:`dialer.history.rules`, so a backend is storage only.

Writes are coroutines that return once the change is durable (a webhook answers 200 only
then); reads are plain methods that return at once from a local file, and are run off the
GUI thread by the window where they could be slow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from dialer.core.threads import LoopThread
from dialer.history.records import (
    CallRecord,
    HistoryQuery,
    HistoryTotals,
    ProviderReport,
    StoredReport,
    TimelineEntry,
)

# Called after every committed change, with the record as stored (a deduplicated report
# too: its call as it stands), on the loop named by `call_listeners_on` (by default the
# writing caller's). The window's history panel and the trackers listen; listeners must be
# quick.
HistoryListener = Callable[[CallRecord], None]

# Where a page ends: the sort column's value and the id of the last row shown.
PageKey = tuple[Any, str]


class HistoryStore(Protocol):
    # -- change listeners ----------------------------------------------------------------

    def add_listener(self, listener: HistoryListener, *, here_only: bool = False) -> None:
        """Tell ``listener`` of every change committed from now on (see HistoryListener).
        ``here_only``: only the changes this process made, not those a shared store hears
        of from other desktops (a tracker follows the calls placed here, nobody else's)."""
        ...

    def remove_listener(self, listener: HistoryListener) -> None:
        """Stop telling ``listener``; one never added (or already removed) is ignored."""
        ...

    def call_listeners_on(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Tell the listeners on ``loop``, whoever wrote (a server on another loop, too);
        None: on the writing caller's loop, the default. A writer on that loop resumes only
        once the listeners were told of its change; one on another loop may resume first."""
        ...

    @property
    def serving_thread(self) -> LoopThread | None:
        """A thread whose event loop a server that writes on every request (the webhook
        receiver) may serve from, so that its writes reach the store without a thread hop;
        None when the backend has no such loop (the server then serves from its own)."""
        ...

    # -- writes: durable when they return ------------------------------------------------

    async def insert(self, record: CallRecord, *, source: str = "app") -> CallRecord:
        """Store a new call (its first timeline entry is its status)."""
        ...

    async def amend(
        self,
        record: CallRecord,
        *,
        source: str = "app",
        detail: str = "",
        only_if_open: bool = False,
        **changes: Any,
    ) -> CallRecord:
        """Store ``record`` with ``changes``; a status change adds a timeline entry.
        ``only_if_open``: change nothing if the stored call already has its outcome (checked
        in the writer, so a report committed just before wins)."""
        ...

    async def ingest(self, report: ProviderReport) -> CallRecord:
        """Match a provider report to its call, apply it and keep it verbatim, in one
        transaction. A report that matches no call becomes a call placed outside the app; a
        report already stored (same body, same call) changes nothing."""
        ...

    async def annotate(
        self, call_id: str, *, note: str | None = None, disposition: str | None = None
    ) -> CallRecord:
        """Set the supervisor's note and/or disposition."""
        ...

    # -- reads ---------------------------------------------------------------------------

    def get(self, call_id: str) -> CallRecord | None: ...

    def page(
        self, query: HistoryQuery, *, after: PageKey | None = None, limit: int = 200
    ) -> list[CallRecord]:
        """The next ``limit`` records in the query's order, after the row ``after`` names."""
        ...

    def page_key(self, query: HistoryQuery, record: CallRecord) -> PageKey:
        """The key that continues paging after ``record``."""
        ...

    def totals(self, query: HistoryQuery) -> HistoryTotals: ...

    def iter_records(self, query: HistoryQuery) -> Iterator[CallRecord]:
        """Every record the query matches, in order, read in pages (export)."""
        ...

    def open_calls(self, *, provider: str | None = None) -> list[CallRecord]:
        """Calls whose outcome is not known yet, oldest first (trackers resume from these)."""
        ...

    def count(self) -> int:
        """How many calls the history holds."""
        ...

    def recent_calls(
        self, *, account: str, since: float, limit: int, agent: str | None = None
    ) -> list[tuple[str, float]]:
        """(id, created_at) of the calls placed from the app through ``account`` (by
        ``agent``, the stored agent exactly, when given) created at ``since`` or later,
        newest first, at most ``limit``: what the call limits count (calls learned from
        reports were not placed here and do not count). On a shared store, only this
        person's calls."""
        ...

    def account_names(self) -> list[str]:
        """The accounts the history holds calls of, sorted: the panel's account filter offers
        them, configured here or not (a supervisor's desktop may have none of them)."""
        ...

    def timeline(self, call_id: str) -> list[TimelineEntry]: ...

    def reports(self, call_id: str) -> list[StoredReport]: ...

    def close(self) -> None: ...


@runtime_checkable
class TeamReads(Protocol):
    """What a team history reads beyond the protocol: who placed calls, and totals per
    person (the supervisor's view). The panel offers its person filter where there is one."""

    def people(self) -> list[str]:
        """The people whose calls this person may read (themselves, or the whole team)."""
        ...

    def totals_by_person(self, query: HistoryQuery) -> dict[str, HistoryTotals]: ...


@dataclass(frozen=True, slots=True)
class TeamState:
    """Whether a joined desktop reaches its team database, and what waits to be sent."""

    online: bool | None  # None: not tried yet
    waiting: int  # calls recorded on this desktop and not yet in the team database
    problem: str = ""  # why it is offline, in one sentence


@runtime_checkable
class TeamSending(Protocol):
    """A desktop's history that sends its calls to a team database (the window shows it)."""

    def state(self) -> TeamState: ...

    def on_state_change(self, callback: Callable[[], None]) -> None:
        """``callback()``, from another thread, whenever the state may have changed."""
        ...


# How many records an export reads at a time.
EXPORT_PAGE = 1000


def records_in_pages(history: HistoryStore, query: HistoryQuery) -> Iterator[CallRecord]:
    """Every record ``query`` matches, in order, read a page at a time by keyset paging
    (what every backend's ``iter_records`` is)."""
    after: PageKey | None = None
    while True:
        page = history.page(query, after=after, limit=EXPORT_PAGE)
        yield from page
        if len(page) < EXPORT_PAGE:
            return
        after = history.page_key(query, page[-1])


async def final_record(history: HistoryStore, call_id: str, timeout: float) -> CallRecord:
    """The call once it is final (its outcome stored); TimeoutError if it is not within
    ``timeout`` seconds, KeyError if there is no such call. Listens rather than polls."""
    done = asyncio.Event()

    def listener(record: CallRecord) -> None:
        if record.id == call_id and record.is_final:
            done.set()

    history.add_listener(listener)
    try:
        current = history.get(call_id)
        if current is None:
            raise KeyError(call_id)
        if not current.is_final:
            async with asyncio.timeout(timeout):
                await done.wait()
    finally:
        history.remove_listener(listener)
    record = history.get(call_id)
    assert record is not None  # calls are never deleted
    return record
