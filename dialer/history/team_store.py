"""A joined desktop's history: its own SQLite file first, the team's PostgreSQL database as
soon as it can be reached.

A call is never refused or delayed because the team database is down or slow: every write
lands in the local file (and its outbox, :mod:`dialer.history.team_outbox`, in the same
transaction) and returns; a sending thread moves what waits to the team database at once
when it is up, and again whenever it comes back. Reads (the panel, ``dialer history``,
exports) come from the team database, where the person's role decides what they see; while
it cannot be reached they come from the local file, which holds this person's own calls.

The webhook receiver of a joined receiver profile does not come here: it writes to the team
database directly, so that its 200 means committed there (see the factory).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from dialer.core.errors import DialerError, TeamDatabaseError, TeamUnreachable
from dialer.core.threads import LoopThread
from dialer.history import team_outbox
from dialer.history.postgres_store import DesktopCall, PostgresHistory
from dialer.history.records import (
    CallOrigin,
    CallRecord,
    HistoryQuery,
    HistoryTotals,
    ProviderReport,
    StoredReport,
    TimelineEntry,
)
from dialer.history.sqlite_store import SqliteHistory
from dialer.history.store import HistoryListener, PageKey, TeamState, records_in_pages

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Calls sent in one transaction.
SEND_BATCH = 200
# After a failure the sender tries again after this long, doubling up to the most.
RETRY_FIRST, RETRY_AT_MOST = 1.0, 30.0
# While all is well it looks at the outbox this often anyway (a change it was not told of:
# a `dialer` command of the same profile running beside the window).
IDLE_LOOK = 5.0


class TeamHistory:
    """The :class:`~dialer.history.store.HistoryStore` of a profile that joined a team."""

    # How long a reader that wants the team's view (``dialer history``) waits for the first
    # try to reach it: a little more than the connect timeout the factory gives.
    team_timeout = 4.0

    def __init__(
        self,
        local: SqliteHistory,
        team: PostgresHistory,
        user: str,
        *,
        send_in_background: bool = True,
    ):
        self.local = local
        self.team = team
        self.user = user
        team_outbox.install(local.path)
        self.outbox = team_outbox.Outbox(local.path)
        self._online: bool | None = None
        self._tried = threading.Event()  # the sender has tried once, whatever came of it
        self._problem = ""
        self._state_lock = threading.Lock()
        self._state_listeners: list[Callable[[], None]] = []
        self._nudge = threading.Event()
        self._stop = threading.Event()
        self._send_lock = threading.Lock()
        self._listeners: dict[HistoryListener, HistoryListener] = {}
        local.add_listener(self._local_changed)
        # `dialer team sync` sends itself, and says how many it sent.
        self._sender = threading.Thread(target=self._send_forever, name="team-send", daemon=True)
        if send_in_background:
            self._sender.start()

    # -- sending -------------------------------------------------------------------------

    def _local_changed(self, record: CallRecord) -> None:
        self._nudge.set()

    def send_waiting(self) -> int:
        """Send everything that waits now; returns how many calls were sent. Raises
        TeamDatabaseError (TeamUnreachable when it is down) and leaves the rest waiting."""
        sent = 0
        with self._send_lock:
            while notes := self.outbox.batch(SEND_BATCH):
                calls = []
                for call_id, _ in notes:
                    record = self.local.get(call_id)
                    # A call learned here from a report names nobody: the team's receivers
                    # learn those themselves.
                    if record is None or record.origin is CallOrigin.OUTSIDE:
                        continue
                    timeline = self.local.timeline(call_id)
                    calls.append(DesktopCall(record, timeline, self.local.reports(call_id)))
                try:
                    self.team.merge(calls)
                except TeamUnreachable:
                    raise
                except TeamDatabaseError:
                    if len(calls) < 2:
                        raise
                    calls = self._merge_one_by_one(calls)
                self.outbox.done(notes)
                sent += len(calls)
        return sent

    def _merge_one_by_one(self, calls: list[DesktopCall]) -> list[DesktopCall]:
        """Send each call alone, after the database refused a batch: one it refuses (a rule
        PostgreSQL enforces says no) stays in this desktop's history only, and is logged, so
        that it never holds back every call placed after it."""
        sent = []
        for call in calls:
            try:
                self.team.merge([call])
            except TeamUnreachable:
                raise
            except TeamDatabaseError as exc:
                logger.error("Call %s was not sent to the team history: %s", call.record.id, exc)
                continue
            sent.append(call)
        return sent

    def _send_forever(self) -> None:
        delay = RETRY_FIRST
        while not self._stop.is_set():
            try:
                sent = self.send_waiting()
            except TeamDatabaseError as exc:
                self._set_state(False, str(exc))
                self._nudge.clear()
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_AT_MOST)
                continue
            except Exception:
                if self._stop.is_set():
                    return  # closing under us
                logger.exception("Sending calls to the team history failed")
                self._stop.wait(delay)
                continue
            delay = RETRY_FIRST
            self._set_state(True, "")
            if sent:
                self._tell_state()  # fewer wait
            self._nudge.wait(IDLE_LOOK)
            self._nudge.clear()

    def _set_state(self, online: bool, problem: str) -> None:
        with self._state_lock:
            was = self._online
            changed = (online, problem) != (was, self._problem)
            self._online, self._problem = online, problem
        self._tried.set()
        if changed:
            if online:
                if was is False:
                    logger.info("Team history reachable again (%s)", self.team.where)
            else:
                logger.warning("%s; calls are kept on this desktop until it is back", problem)
            self._tell_state()

    def on_state_change(self, callback: Callable[[], None]) -> None:
        """``callback()`` (on the sending thread) whenever online/offline changes or calls
        were sent."""
        self._state_listeners.append(callback)

    def _tell_state(self) -> None:
        for callback in list(self._state_listeners):
            with contextlib.suppress(Exception):
                callback()

    def state(self) -> TeamState:
        return TeamState(self._online, self.outbox.count(), self._problem)

    def wait_for_first_try(self, timeout: float) -> bool | None:
        """Wait (at most ``timeout`` s) until the sender has tried once; online or not."""
        self._tried.wait(timeout)
        return self._online

    # -- change listeners ---------------------------------------------------------------

    def add_listener(self, listener: HistoryListener, *, here_only: bool = False) -> None:
        def mine(record: CallRecord) -> None:
            listener(self._as_mine(record))

        self._listeners[listener] = mine
        self.local.add_listener(mine)
        if not here_only:  # the other desktops' changes, heard from the team database
            self.team.add_listener(listener)

    def remove_listener(self, listener: HistoryListener) -> None:
        mine = self._listeners.pop(listener, None)
        if mine is not None:
            self.local.remove_listener(mine)
        self.team.remove_listener(listener)

    def call_listeners_on(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.local.call_listeners_on(loop)
        self.team.call_listeners_on(loop)

    @property
    def serving_thread(self) -> LoopThread | None:
        return self.local.serving_thread

    # -- writes: here first ---------------------------------------------------------------

    async def insert(self, record: CallRecord, *, source: str = "app") -> CallRecord:
        return self._as_mine(await self.local.insert(record, source=source))

    async def amend(
        self,
        record: CallRecord,
        *,
        source: str = "app",
        detail: str = "",
        only_if_open: bool = False,
        **changes: Any,
    ) -> CallRecord:
        stored = await self.local.amend(
            record, source=source, detail=detail, only_if_open=only_if_open, **changes
        )
        return self._as_mine(stored)

    async def ingest(self, report: ProviderReport) -> CallRecord:
        return self._as_mine(await self.local.ingest(report))

    async def annotate(
        self, call_id: str, *, note: str | None = None, disposition: str | None = None
    ) -> CallRecord:
        # This desktop's own calls are annotated here and sent; anyone else's (a
        # supervisor's review) only the team database holds.
        if self.local.get(call_id) is not None:
            stored = await self.local.annotate(call_id, note=note, disposition=disposition)
            return self._as_mine(stored)
        return await self.team.annotate(call_id, note=note, disposition=disposition)

    # -- reads: the team's, or this desktop's while it is away ----------------------------

    def _as_mine(self, record: CallRecord) -> CallRecord:
        if record.origin is CallOrigin.APP and not record.user:
            return dataclasses.replace(record, user=self.user)
        return record

    def _read(self, team_read: Callable[[], T], local_read: Callable[[], T]) -> T:
        if self._online:
            try:
                return team_read()
            except TeamDatabaseError as exc:
                self._set_state(False, str(exc))
                self._nudge.set()  # the sender finds out when it is back
        return local_read()

    def _local_query(self, query: HistoryQuery) -> HistoryQuery | None:
        """The query as the local file can answer it: it holds this person's calls only."""
        if query.users:
            if self.user not in query.users:
                return None
            return dataclasses.replace(query, users=())
        return query

    def get(self, call_id: str) -> CallRecord | None:
        def local() -> CallRecord | None:
            found = self.local.get(call_id)
            return self._as_mine(found) if found else None

        return self._read(lambda: self.team.get(call_id) or local(), local)

    def page(
        self, query: HistoryQuery, *, after: PageKey | None = None, limit: int = 200
    ) -> list[CallRecord]:
        def local() -> list[CallRecord]:
            mine = self._local_query(query)
            if mine is None:
                return []
            return [self._as_mine(r) for r in self.local.page(mine, after=after, limit=limit)]

        return self._read(lambda: self.team.page(query, after=after, limit=limit), local)

    def page_key(self, query: HistoryQuery, record: CallRecord) -> PageKey:
        return self.team.page_key(query, record)

    def totals(self, query: HistoryQuery) -> HistoryTotals:
        def local() -> HistoryTotals:
            mine = self._local_query(query)
            return self.local.totals(mine) if mine is not None else HistoryTotals()

        return self._read(lambda: self.team.totals(query), local)

    def totals_by_person(self, query: HistoryQuery) -> dict[str, HistoryTotals]:
        def local() -> dict[str, HistoryTotals]:
            mine = self._local_query(query)
            return {self.user: self.local.totals(mine)} if mine is not None else {}

        return self._read(lambda: self.team.totals_by_person(query), local)

    def people(self) -> list[str]:
        return self._read(self.team.people, lambda: [self.user])

    def iter_records(self, query: HistoryQuery) -> Iterator[CallRecord]:
        return records_in_pages(self, query)

    def open_calls(self, *, provider: str | None = None) -> list[CallRecord]:
        # The trackers resume the calls this desktop placed: its own file has them all.
        return [self._as_mine(r) for r in self.local.open_calls(provider=provider)]

    def count(self) -> int:
        return self._read(self.team.count, self.local.count)

    def recent_calls(
        self, *, account: str, since: float, limit: int, agent: str | None = None
    ) -> list[tuple[str, float]]:
        # From this desktop's own file, which has every call placed here: a call is never
        # held up by the team database (nor refused because it is down).
        return self.local.recent_calls(account=account, since=since, limit=limit, agent=agent)

    def account_names(self) -> list[str]:
        return self._read(self.team.account_names, self.local.account_names)

    def timeline(self, call_id: str) -> list[TimelineEntry]:
        return self._read(
            lambda: self.team.timeline(call_id) or self.local.timeline(call_id),
            lambda: self.local.timeline(call_id),
        )

    def reports(self, call_id: str) -> list[StoredReport]:
        return self._read(
            lambda: self.team.reports(call_id) or self.local.reports(call_id),
            lambda: self.local.reports(call_id),
        )

    def close(self, *, send_within: float = 2.0) -> None:
        """Stop sending (what is sent by then, or within ``send_within`` seconds when the
        team database is up, is sent; the rest waits for the next run) and close both."""
        self._stop.set()
        self._nudge.set()
        if self._sender.ident is not None:
            self._sender.join(timeout=send_within)
        if self._online and not self._sender.is_alive():
            with contextlib.suppress(DialerError):
                self.send_waiting()
        self.local.remove_listener(self._local_changed)
        self.outbox.close()
        self.team.close()
        self.local.close()
