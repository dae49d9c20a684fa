"""Learning every open call's outcome from the providers that do not push one.

The :class:`CallTracker` runs on the app's asyncio loop (qasync's in the window): one
dispatcher task keeps a queue of work ordered by when it is due, and runs at most
``max_concurrent`` pieces of it at a time, each as its own short task. A call is tracked by
at most one piece of work at a time; between polls nothing runs for it.

Per provider:

* **Click2Call v1**: ``report-click2call.php`` is read by the provider's call id (by our
  ``uniqueid`` when the call never got one) with backoff. A row is taken as final once two
  reads in a row return it unchanged, and, for a row of zero durations ("not answered/busy/
  invalid/not reachable", seed 002), only once the call is too old to be still ringing or
  talking: a server may write the row with zeros when the call starts and fill in the
  durations when it ends, and a zero row read during the call must not be called "not
  answered". That age is the request's ``duration`` plus ``v1_ring_allowance``, or
  ``v1_zero_settle`` when the request set no maximum, whichever is shorter. Past
  ``v1_deadline`` the last row read is taken as it is, or the call is marked NO_REPORT.
* **Kazoo**: one piece of work per account reads the ``/history`` of the clicktocalls its open
  calls went through (every page, from a little before the oldest open call), matches items
  to calls by ``call_id`` (the ``outbound_call_id`` connect answered), else by contact and
  time, and ingests every item it reads: items that match no call here become calls placed
  outside the app. Every ``kazoo_sweep_interval`` it also reads all the account's
  clicktocalls, so calls placed elsewhere show up while nothing is open here.
* **DigiDonar**: no report API is documented; an accepted call is marked NO_REPORT.
* **C2C v2**: outcomes arrive at the webhook receiver. A call on an account without a
  ``webhook_id`` (and not taking reports by subscription) can never get one and is marked
  NO_REPORT at once; otherwise a call still open after ``webhook_deadline`` is.

Everything is written through :meth:`HistoryStore.ingest` (reports, kept verbatim) and
:meth:`HistoryStore.amend` (the tracker's own conclusions). Open calls are picked up from
the store's listeners, from ``open_calls()`` at start (calls still open after a restart) and
every ``rescan_interval`` from the calls created since the scan before (calls the CLI placed
into the same file). A call still "placing" after ``placing_grace`` was interrupted before the
provider's answer was stored; it is tracked all the same (v1 by its ``uniqueid``).

Headless (``dialer track``, ``dialer report``, ``dialer webhooks serve``) the same work runs
through three more entry points: :meth:`CallTracker.until_concluded` after ``start()``;
:meth:`CallTracker.run_once`, one pass over every open call without the background work; and
:meth:`CallTracker.conclude_now`, one call now. The last two run each call's (each Kazoo
account's) job once, and once more when a v1 read waits for the read that confirms it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dialer.core.accounts import Account, AccountSource
from dialer.core.calls import CallStatus
from dialer.core.errors import (
    CallRejected,
    ConfigError,
    DialerError,
    InvalidInput,
    UnexpectedAnswer,
)
from dialer.core.reports import ReportParseError
from dialer.history.records import (
    FINAL_STATUSES,
    CallOrigin,
    CallRecord,
    HistoryQuery,
    ProviderReport,
    SortKey,
    digits_of,
)
from dialer.providers import provider_spec
from dialer.providers.spec import (
    HistoryReports,
    NoReports,
    PolledRead,
    PolledReports,
    Reporting,
    WebhookReports,
)

if TYPE_CHECKING:
    from dialer.history.store import HistoryStore, PageKey
    from dialer.providers.base import Provider


class ProviderSource(Protocol):
    """Where the tracker gets accounts and their providers (the app's CallService)."""

    accounts: AccountSource

    async def provider_for(self, account: Account) -> Provider: ...


logger = logging.getLogger(__name__)

HOUR = 3600.0

# The tracker's own conclusions are the app's; reports it fetched are "poll".
_SOURCE = "app"

_OPEN = tuple(status for status in CallStatus if status not in FINAL_STATUSES)
_SCAN_PAGE = 500


@dataclass(frozen=True, slots=True)
class TrackingTimings:
    """How often and how long the tracker asks. Seconds throughout; tests shorten them."""

    first_poll: float = 5.0  # after a call is accepted, before the first read
    backoff: float = 1.5  # each following wait is this much longer ...
    max_interval: float = 60.0  # ... up to this
    confirm_delay: float = 5.0  # v1: the second read that shows a row stopped changing
    v1_ring_allowance: float = 180.0  # v1: both legs ringing out, added to the request's cap
    v1_zero_settle: float = 15 * 60.0  # v1: a zero row is final this long after placing
    v1_deadline: float = 2 * HOUR
    kazoo_deadline: float = 2 * HOUR
    kazoo_match_window: float = 300.0  # a history item's time vs. the call's, when matching
    kazoo_sweep_interval: float | None = 600.0  # all clicktocalls; None: only open calls'
    kazoo_lookback: float = 24 * HOUR  # the first sweep after start reads this far back
    webhook_deadline: float = 2 * HOUR
    placing_grace: float = 120.0  # a call still "placing" this long was interrupted
    rescan_interval: float = 30.0


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")


@dataclass(eq=False)
class _Job:
    """One piece of tracking work: a call, or a Kazoo account."""

    key: str
    run: Callable[[_Job], Awaitable[float | None]]  # -> seconds until the next run, or done
    due: float = 0.0  # loop time
    interval: float = 0.0  # the current backoff; 0 before the first wait
    running: bool = False
    hurry: bool = False  # asked to run soon while it was running
    last_read: PolledRead | None = None  # polled: what the previous read returned
    failing: bool = False  # the last read failed (logged once, not on every retry)
    # Why the last read failed (and what it read), for a caller that runs the job once.
    error: Exception | None = None
    problem: str = ""
    confirming: bool = False  # polled: the next run is the read that confirms this one
    concluded: bool = False  # its call was concluded elsewhere while it ran: not run again

    def failed(self, what: str, error: Exception) -> None:
        level = logging.DEBUG if self.failing else logging.WARNING
        self.failing = True
        self.error, self.problem = error, what
        logger.log(level, "%s: %s (retrying with backoff)", what, error)

    def succeeded(self) -> None:
        if self.failing:
            logger.info("%s: reachable again", self.key)
        self.failing = False
        self.error, self.problem = None, ""

    def next_interval(self, timings: TrackingTimings) -> float:
        if self.interval <= 0:
            self.interval = timings.first_poll
        else:
            self.interval = min(self.interval * timings.backoff, timings.max_interval)
        return self.interval


@dataclass(eq=False)
class _HistoryWatch:
    """One account whose outcomes come from a per-bridge history (Kazoo's clicktocalls)."""

    account: str
    reports: HistoryReports
    job: _Job
    known: set[str] = field(default_factory=set)  # open calls of the account being matched
    # Each item ingested (its body's digest: a day of bodies, 1.2 KB each, were kept for the
    # lookback and then some, 28 hours) -> when it was first ingested.
    seen: dict[bytes, float] = field(default_factory=dict)
    swept_to: float | None = None  # the history up to here was read for every clicktocall
    next_sweep: float = 0.0  # wall time
    agents: dict[str, str] = field(default_factory=dict)  # source id -> the agent's number


class CallTracker:
    """Finds out what became of open calls; see the module docstring.

    ``start()`` needs a running loop; ``await aclose()`` before the call service closes.
    """

    def __init__(
        self,
        history: HistoryStore,
        service: ProviderSource,
        *,
        max_concurrent: int = 8,
        timings: TrackingTimings | None = None,
    ):
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.history = history
        self.service = service
        self.max_concurrent = max_concurrent
        self.timings = timings or TrackingTimings()
        self._slots = asyncio.Semaphore(max_concurrent)
        self._jobs: dict[str, _Job] = {}
        self._histories: dict[str, _HistoryWatch] = {}
        self._heap: list[tuple[float, int, _Job]] = []
        # Loop times the dispatcher's wake-ups are set for, and their handles: see _alarm.
        self._alarms: dict[float, asyncio.TimerHandle] = {}
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()  # a piece of work ended or a rescan ran
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._started = False  # start(): the dispatcher and the rescans run
        self._scanned_to = 0.0  # open calls created before this were all seen
        self._placing: set[str] = set()  # calls seen still being placed

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe to the history, resume every open call, and start the background work."""
        if self._started:
            return
        self._started = True
        self._bind()
        # The calls placed here: a team history also hears of other desktops' calls, which
        # their own trackers follow.
        self.history.add_listener(self._on_change, here_only=True)
        self._spawn(self._dispatch(), "call-tracker")
        self.rescan()
        self._spawn(self._rescan_forever(), "call-tracker-rescan")

    async def aclose(self) -> None:
        """Stop all tracking work and wait until it stopped. Nothing is left half-written:
        a write already queued completes in the store."""
        self._closed = True
        with contextlib.suppress(ValueError):
            self.history.remove_listener(self._on_change)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._jobs.clear()
        self._heap.clear()
        for alarm in self._alarms.values():
            alarm.cancel()
        self._alarms.clear()

    def _bind(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()

    def pending(self) -> set[str]:
        """The calls still open whose outcome the tracker is looking for (or will, once
        they are placed). Asks the store: a report the webhook receiver of another process
        stored concludes a call before its job next runs."""
        calls = {key.removeprefix("call:") for key in self._jobs if key.startswith("call:")}
        for watch in self._histories.values():
            calls |= watch.known
        calls |= self._placing
        return {
            call_id
            for call_id in calls
            if (record := self.history.get(call_id)) is not None and not record.is_final
        }

    async def until_concluded(self) -> None:
        """Return once no call is pending any more (after :meth:`start`). A call stored
        meanwhile by another process is waited for too once a rescan picked it up."""
        while self.pending() and not self._closed:
            self._progress.clear()
            await self._progress.wait()

    async def run_once(self) -> list[tuple[str, Exception]]:
        """One pass over every open call, without :meth:`start`: each call (each Kazoo
        account) is read once, with the read that confirms a v1 row right after it, through
        the same code as the background work. Returns the reads that failed: what was read,
        and why. A call not concluded by this pass stays open for the next one."""
        self._bind()
        self.rescan()
        jobs = list(self._jobs.values())
        try:
            await asyncio.gather(*(self._pass(job) for job in jobs))
        finally:
            # Nothing dispatches the schedule the scan made: forget it.
            self._jobs.clear()
            self._heap.clear()
        return [(job.problem, job.error) for job in jobs if job.error is not None]

    async def conclude_now(self, call_id: str) -> CallRecord:
        """Fetch this call's outcome now (a Click2Call v1 report, a Kazoo history) and store
        it; the call as stored afterwards, still open when the provider has no final answer
        yet. A call already concluded is returned as it is, nothing is asked. For a tracker
        that was not started (the CLI's): a started one may be reading the same call.

        Raises :class:`InvalidInput` for a call no report can be fetched for, and the
        provider's error when the read failed."""
        record = self.history.get(call_id)
        if record is None:
            raise InvalidInput(f"There is no call '{call_id}' in the history")
        if record.is_final:
            return record
        reports = _reporting(record.provider)
        label = _label(record.provider)
        if isinstance(reports, HistoryReports):
            self._bind()
            watch = self._history_watch(record.account, reports)
            # One call asked for: read the histories the account's open calls went
            # through, not every clicktocall the account has.
            watch.next_sweep = math.inf
            job = watch.job
        elif isinstance(reports, PolledReports):
            job = _Job(f"call:{call_id}", lambda job: self._track_call(job, call_id))
        elif isinstance(reports, WebhookReports):
            raise InvalidInput(
                f"{label} pushes its reports to the webhook receiver (the window, or 'dialer "
                "webhooks serve'): there is no report to fetch"
            )
        elif isinstance(reports, NoReports):
            # The declared sentence already says that no outcome is ever reported.
            raise InvalidInput(reports.sentence)
        else:
            raise InvalidInput(_unknown(record.provider))
        try:
            await self._pass(job)
        finally:
            if isinstance(reports, HistoryReports):
                self._jobs.pop(job.key, None)
                self._heap.clear()
        current = self.history.get(call_id) or record
        if not current.is_final and job.error is not None:
            if isinstance(job.error, DialerError):
                raise job.error
            raise UnexpectedAnswer(
                f"{label}'s report for call {call_id} could not be read: {job.error}",
                provider=record.provider,
            )
        return current

    async def _pass(self, job: _Job) -> None:
        """Run ``job`` once, and once more for the read that confirms it (``job.error``
        keeps why it failed)."""
        async with self._slots:
            for _ in range(2):
                job.confirming = False
                try:
                    next_run = await job.run(job)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    logger.exception("Tracking %s failed", job.key)  # a bug, as in _run
                    job.error, job.problem = exc, f"Tracking {job.key}"
                    break
                if next_run is None or not job.confirming:
                    break
                await asyncio.sleep(next_run)

    def is_tracking(self, call_id: str) -> bool:
        """Whether the tracker is currently looking for this call's outcome."""
        return f"call:{call_id}" in self._jobs or any(
            call_id in watch.known for watch in self._histories.values()
        )

    def rescan(self) -> None:
        """Pick up every open call not tracked yet (and every Kazoo account to sweep).

        Reads every open call, through the store's index of open calls: the cost grows with
        their number, so this runs once at start; the periodic rescans read only the calls
        created since the one before.
        """
        if self._closed:
            return
        started = time.time()
        try:
            open_calls = self.history.open_calls()
        except Exception:
            logger.exception("Reading the open calls failed")
            return
        self._scanned_to = started
        for record in open_calls:
            self._consider(record)
        self._watch_history_accounts()

    async def _rescan_recent(self) -> None:
        """Open calls created since the last scan, a page at a time: calls another process
        (the CLI) stored in the same file, whose writes this store's listeners never see."""
        started = time.time()
        overlap = max(60.0, 2 * self.timings.rescan_interval)  # commits land after created_at
        query = HistoryQuery(
            since=self._scanned_to - overlap, statuses=_OPEN, sort=SortKey.CREATED, descending=False
        )
        after: PageKey | None = None
        while not self._closed:
            page = self.history.page(query, after=after, limit=_SCAN_PAGE)
            for record in page:
                self._consider(record)
            if len(page) < _SCAN_PAGE:
                break
            after = self.history.page_key(query, page[-1])
            await asyncio.sleep(0)  # let the window breathe between pages
        for call_id in list(self._placing):
            placing = self.history.get(call_id)
            if placing is None or placing.is_final:
                self._placing.discard(call_id)
            else:
                self._consider(placing)
        self._scanned_to = started
        self._watch_history_accounts()

    def _watch_history_accounts(self) -> None:
        if self.timings.kazoo_sweep_interval is not None and not self._closed:
            try:
                accounts = self.service.accounts.list()
            except ConfigError as exc:
                logger.warning("Cannot read the accounts to sweep their history: %s", exc)
                return
            for account in accounts:
                reports = _reporting(account.provider)
                if isinstance(reports, HistoryReports):
                    self._history_watch(account.name, reports)

    # -- the queue ----------------------------------------------------------------------

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        assert self._loop is not None
        task = self._loop.create_task(coro, name=name)
        self._tasks.add(task)  # the loop keeps only weak references
        task.add_done_callback(self._tasks.discard)
        return task

    def _schedule(self, job: _Job, delay: float) -> None:
        assert self._loop is not None
        job.due = self._loop.time() + max(0.0, delay)
        heapq.heappush(self._heap, (job.due, next(self._order), job))
        self._compact()
        self._wake.set()

    def _compact(self) -> None:
        """Drop the heap's entries of finished and rescheduled jobs once they are most of
        it: left until their time came, a day of C2C v2 calls (each waiting up to its
        webhook deadline, two hours) kept thousands of finished jobs."""
        if len(self._heap) <= 2 * len(self._jobs) + 64:
            return
        self._heap = [entry for entry in self._heap if self._current(entry)]
        heapq.heapify(self._heap)

    def _current(self, entry: tuple[float, int, _Job]) -> bool:
        due, _, job = entry
        return due == job.due and not job.running and self._jobs.get(job.key) is job

    def _hurry(self, job: _Job, delay: float) -> None:
        """Run ``job`` within ``delay`` seconds (sooner than planned, never later)."""
        assert self._loop is not None
        if job.running:
            job.hurry = True
        elif job.due > self._loop.time() + delay:
            self._schedule(job, delay)

    def _add(self, job: _Job, delay: float) -> None:
        self._jobs[job.key] = job
        self._schedule(job, delay)

    def _pop_due(self, now: float) -> _Job | None:
        while self._heap:
            due, _, job = self._heap[0]
            if not self._current(self._heap[0]):
                heapq.heappop(self._heap)  # superseded by a later schedule, or finished
                continue
            if due > now:
                return None
            heapq.heappop(self._heap)
            return job
        return None

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            job = self._pop_due(loop.time())
            if job is None:
                if self._heap:
                    self._alarm(self._heap[0][0])
                await self._wake.wait()
                continue
            await self._slots.acquire()  # at most max_concurrent pieces of work at once
            job.running = True
            self._spawn(self._run(job), f"track-{job.key}")

    def _alarm(self, due: float) -> None:
        """Wake the dispatcher at loop time ``due``, unless a wake-up already set comes no
        later. A wake-up is never cancelled, it just finds nothing due when it comes early:
        a cancelled timer stays registered with qasync's loop until its time (qasync 0.28),
        and the dispatcher, woken by each new call, used to leave one behind each time, due
        at the soonest job: two hours away with a C2C v2 call waiting for its webhook."""
        if self._alarms and min(self._alarms) <= due:
            return
        assert self._loop is not None
        self._alarms[due] = self._loop.call_at(due, self._ring, due)

    def _ring(self, due: float) -> None:
        self._alarms.pop(due, None)
        self._wake.set()

    async def _run(self, job: _Job) -> None:
        try:
            next_run = await job.run(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug, not a provider's failure (those are handled where they happen): log it
            # and try again later; the tracker itself carries on.
            logger.exception("Tracking %s failed", job.key)
            next_run = job.next_interval(self.timings)
        finally:
            job.running = False
            self._slots.release()
            self._progress.set()
        if job.concluded:
            job.hurry, next_run = False, None
        if self._closed or self._jobs.get(job.key) is not job:
            self._compact()
            return
        if job.hurry:
            job.hurry = False
            job.interval = 0.0
            next_run = self.timings.first_poll if next_run is None else next_run
            next_run = min(next_run, self.timings.first_poll)
        if next_run is None:
            del self._jobs[job.key]
            self._compact()
        else:
            self._schedule(job, next_run)

    async def _rescan_forever(self) -> None:
        while True:
            await asyncio.sleep(self.timings.rescan_interval)
            try:
                await self._rescan_recent()
            except Exception:
                logger.exception("Looking for new open calls failed")
            self._progress.set()

    # -- which calls ---------------------------------------------------------------------

    def _on_change(self, record: CallRecord) -> None:
        """A history listener: quick, and on the tracker's loop whatever loop wrote."""
        loop = self._loop
        if loop is None or self._closed:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._consider(record)
        else:
            with contextlib.suppress(RuntimeError):  # the tracker's loop has closed
                loop.call_soon_threadsafe(self._consider, record)

    def _consider(self, record: CallRecord) -> None:
        if self._closed or record.origin is not CallOrigin.APP:
            return
        if record.is_final:
            self._placing.discard(record.id)
            self._finished(f"call:{record.id}")
            return
        if (
            record.status is CallStatus.PLACING
            and time.time() - record.created_at < self.timings.placing_grace
        ):
            self._placing.add(record.id)  # looked at again by the rescans
            return  # the service is still waiting for the provider's answer
        self._placing.discard(record.id)
        reports = _reporting(record.provider)
        if isinstance(reports, HistoryReports):
            watch = self._history_watch(record.account, reports, self.timings.first_poll)
            if record.id not in watch.known:
                watch.known.add(record.id)
                watch.job.interval = 0.0
                self._hurry(watch.job, self.timings.first_poll)
            return
        key = f"call:{record.id}"
        if key in self._jobs:
            return
        waits = isinstance(reports, PolledReports) and reports.first_read_waits
        first = self.timings.first_poll if waits else 0.0
        self._add(_Job(key, lambda job: self._track_call(job, record.id)), first)

    def _finished(self, key: str) -> None:
        """A call concluded (by the webhook receiver, or a read): its job is dropped now,
        not when it was next due (a C2C v2 call's: at its webhook deadline, two hours on);
        a job running now is dropped once its run ends."""
        job = self._jobs.get(key)
        if job is not None and job.running:
            job.concluded = True
        elif job is not None:
            del self._jobs[key]
            self._compact()

    def _history_watch(
        self, account: str, reports: HistoryReports, delay: float = 0.0
    ) -> _HistoryWatch:
        watch = self._histories.get(account)
        if watch is None:
            job = _Job(f"history:{account}", lambda job: self._poll_history(account))
            watch = _HistoryWatch(account, reports, job)
            self._histories[account] = watch
        if self._jobs.get(watch.job.key) is not watch.job:
            watch.job.interval = 0.0
            self._add(watch.job, delay)
        return watch

    def _account(self, name: str) -> Account | None:
        """The account, or None when it no longer exists (ConfigError: cannot tell now)."""
        if not name:
            return None
        try:
            return self.service.accounts.get(name)
        except ConfigError:
            if any(account.name == name for account in self.service.accounts.list()):
                raise
            return None

    async def _conclude(self, call_id: str, status: CallStatus, message: str) -> None:
        """Record the tracker's own conclusion, unless an outcome arrived meanwhile."""
        current = self.history.get(call_id)
        if current is None or current.is_final:
            return
        await self.history.amend(
            current,
            source=_SOURCE,
            detail=message,
            only_if_open=True,
            status=status,
            message=message,
        )

    # -- one call: Click2Call v1, DigiDonar, C2C v2 --------------------------------------

    async def _track_call(self, job: _Job, call_id: str) -> float | None:
        record = self.history.get(call_id)
        if record is None or record.is_final:
            return None
        try:
            account = self._account(record.account)
        except ConfigError as exc:
            logger.warning("Tracking call %s: %s", call_id, exc)
            return job.next_interval(self.timings)
        if account is None:
            await self._conclude(call_id, CallStatus.NO_REPORT, _gone(record.account))
            return None
        if str(account.provider) != record.provider:
            await self._conclude(call_id, CallStatus.NO_REPORT, _moved(account))
            return None
        reports = _reporting(account.provider)
        if isinstance(reports, PolledReports):
            return await self._poll(job, record, account, reports)
        if isinstance(reports, NoReports):
            await self._conclude(call_id, CallStatus.NO_REPORT, reports.sentence)
            return None
        if isinstance(reports, WebhookReports):
            missing = reports.missing_for(account.options)
            if missing:
                await self._conclude(call_id, CallStatus.NO_REPORT, missing)
                return None
            remaining = record.created_at + self.timings.webhook_deadline - time.time()
            if remaining > 0:
                return remaining  # the webhook receiver will most likely finish it first
            await self._conclude(
                call_id,
                CallStatus.NO_REPORT,
                f"No webhook report within {_minutes(self.timings.webhook_deadline)}: check "
                "that the webhook receiver is reachable from the provider",
            )
            return None
        if reports is None:
            await self._conclude(call_id, CallStatus.NO_REPORT, _unknown(record.provider))
        return None  # calls read from a history are watched per account

    async def _poll(
        self, job: _Job, record: CallRecord, account: Account, reports: PolledReports
    ) -> float | None:
        timings = self.timings
        failure = ""
        read: PolledRead | None = None
        stable = False
        try:
            provider = await self.service.provider_for(account)
            read = await reports.read(provider, record)
        except (DialerError, ReportParseError) as exc:
            failure = str(exc)
            job.failed(f"{_label(record.provider)} report for call {record.id}", exc)
        else:
            job.succeeded()
            previous, job.last_read = job.last_read, read
            stable = read is not None and previous is not None and previous.key == read.key
        age = time.time() - record.created_at
        settle = self._settle_age(record, reports)
        if read is not None and stable and (read.conclusive or age >= settle):
            await self.history.ingest(read.report)
            return None
        if age >= timings.v1_deadline:
            last = read or job.last_read
            if last is not None:  # the best the provider said, though it kept changing
                await self.history.ingest(last.report)
                return None
            message = f"No report from the provider within {_minutes(timings.v1_deadline)}"
            if failure:
                message += f" (last error: {failure})"
            await self._conclude(record.id, CallStatus.NO_REPORT, message)
            return None
        left = timings.v1_deadline - age
        if read is not None and not stable:
            job.confirming = True
            return min(timings.confirm_delay, left)
        wait = job.next_interval(timings)
        if read is not None:  # a stable inconclusive read, waiting until the call cannot run
            wait = min(wait, max(settle - age, 0.0))
        return min(wait, left)

    def _settle_age(self, record: CallRecord, reports: PolledReports) -> float:
        """How old a call must be before an inconclusive read is taken as its outcome."""
        settle = self.timings.v1_zero_settle
        longest = reports.longest_call(record)
        if longest is not None:
            settle = min(settle, longest + self.timings.v1_ring_allowance)
        return settle

    # -- accounts read from a history (Kazoo) ----------------------------------------------

    async def _poll_history(self, name: str) -> float | None:
        watch = self._histories[name]
        job = watch.job
        timings = self.timings
        now = time.time()
        open_calls = [
            record
            for record in self.history.open_calls()
            if record.account == name
            and record.origin is CallOrigin.APP
            and _reporting(record.provider) is watch.reports
        ]
        watch.known = {record.id for record in open_calls}
        try:
            account = self._account(name)
        except ConfigError as exc:
            logger.warning("Tracking account %s: %s", name, exc)
            return job.next_interval(timings)
        if account is None or _reporting(account.provider) is not watch.reports:
            for record in open_calls:
                note = _gone(name) if account is None else _moved(account)
                await self._conclude(record.id, CallStatus.NO_REPORT, note)
            del self._histories[name]
            return None
        sweep_every = timings.kazoo_sweep_interval
        sweeping = sweep_every is not None and now >= watch.next_sweep
        if not open_calls and not sweeping:
            return None if sweep_every is None else max(watch.next_sweep - now, 0.0)
        try:
            provider = await self.service.provider_for(account)
            items = await self._read_history(watch, provider, open_calls, sweeping, now)
        except DialerError as exc:
            job.failed(f"{_label(account.provider)} history for account {name}", exc)
            if sweeping and sweep_every is not None:
                watch.next_sweep = now + sweep_every  # a failed sweep waits for the next one
            still_open = await self._expire_history(account, open_calls, set(), now)
            watch.known = {record.id for record in still_open}
            if still_open or sweep_every is None:
                return job.next_interval(timings)
            return max(watch.next_sweep - now, 0.0)
        job.succeeded()
        matched = _match_history(watch.reports, open_calls, items, timings.kazoo_match_window)
        await self._ingest_history(watch, matched, now)
        if sweeping and sweep_every is not None:
            watch.swept_to = now
            watch.next_sweep = now + sweep_every
        done = {record.id for record, _, _ in matched if record is not None}
        still_open = await self._expire_history(account, open_calls, done, now)
        forget = now - (timings.kazoo_lookback + timings.kazoo_deadline + 2 * HOUR)
        watch.seen = {key: at for key, at in watch.seen.items() if at >= forget}
        watch.known = {record.id for record in still_open}
        if still_open:
            return job.next_interval(timings)
        job.interval = 0.0
        return None if sweep_every is None else max(watch.next_sweep - now, 0.0)

    async def _ingest_history(
        self,
        watch: _HistoryWatch,
        matched: list[tuple[CallRecord | None, str, Mapping[str, Any]]],
        now: float,
    ) -> None:
        """Ingest every item not ingested before: with its call, or as a call from outside."""
        reports: list[ProviderReport] = []
        for record, source, item in matched:
            try:
                report = watch.reports.parse(
                    item,
                    account=watch.account,
                    source=source,
                    agent=watch.agents.get(source),
                    call_id=record.id if record is not None else None,
                )
            except ReportParseError as exc:
                logger.warning("History %s of account %s: %s", source, watch.account, exc)
                continue
            if _item_key(report.body) not in watch.seen:
                reports.append(report)
        # Concurrent ingests share the store's group commits.
        for start in range(0, len(reports), 500):
            batch = reports[start : start + 500]
            await asyncio.gather(*(self.history.ingest(report) for report in batch))
            for report in batch:
                watch.seen[_item_key(report.body)] = now

    async def _read_history(
        self,
        watch: _HistoryWatch,
        provider: Provider,
        open_calls: list[CallRecord],
        sweeping: bool,
        now: float,
    ) -> list[tuple[str, Mapping[str, Any]]]:
        """The items of the histories to read, each with its source's id."""
        reports = watch.reports
        window = self.timings.kazoo_match_window
        sources = {source for source in map(reports.source_of, open_calls) if source}
        if sweeping or any(reports.source_of(record) is None for record in open_calls):
            for source, agent in await reports.sources(provider):
                sources.add(source)
                if agent:
                    watch.agents[source] = agent
        starts = [record.created_at - window for record in open_calls]
        if sweeping:
            swept_to = watch.swept_to or now - self.timings.kazoo_lookback
            starts.append(swept_to - window)
        since = min(starts)
        items: list[tuple[str, Mapping[str, Any]]] = []
        for source in sorted(sources):
            try:
                history = await reports.read(provider, source, since=since)
            except CallRejected as exc:
                # One source deleted or refused must not hide the others' history.
                logger.warning("History %s of account %s: %s", source, watch.account, exc)
                continue
            items.extend((source, item) for item in history)
        return items

    async def _expire_history(
        self, account: Account, open_calls: list[CallRecord], done: set[str], now: float
    ) -> list[CallRecord]:
        """Mark calls past the deadline NO_REPORT; the calls still open."""
        deadline = self.timings.kazoo_deadline
        still_open: list[CallRecord] = []
        for record in open_calls:
            if record.id in done:
                continue
            if now - record.created_at >= deadline:
                await self._conclude(
                    record.id,
                    CallStatus.NO_REPORT,
                    f"No history item from {_label(account.provider)} within {_minutes(deadline)}",
                )
            else:
                still_open.append(record)
        return still_open


# -- helpers ---------------------------------------------------------------------------------


def _item_key(body: str) -> bytes:
    """What a history item is remembered by once ingested: 16 bytes, not its whole body."""
    return hashlib.blake2b(body.encode(), digest_size=16).digest()


def _reporting(kind: str) -> Reporting | None:
    """How a provider's outcomes are learned; None for a kind nobody declares any more."""
    try:
        return provider_spec(kind).reports
    except ConfigError:
        return None


def _label(kind: str) -> str:
    try:
        return provider_spec(kind).label
    except ConfigError:
        return kind


def _unknown(kind: str) -> str:
    return f"This dialer no longer knows the provider '{kind}', so the outcome cannot be fetched"


def _gone(account: str) -> str:
    return f"The account '{account}' no longer exists, so this call's outcome cannot be fetched"


def _moved(account: Account) -> str:
    return (
        f"The account '{account.name}' is now a {_label(account.provider)} account, so this "
        "call's outcome cannot be fetched"
    )


def _same_contact(contact: str, customer: str) -> bool:
    if contact.lower().startswith("sip") or customer.lower().startswith("sip"):
        return contact.strip().lower() == customer.strip().lower()
    a, b = digits_of(contact), digits_of(customer)
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 6 and longer.endswith(shorter)


def _match_history(
    reports: HistoryReports,
    open_calls: list[CallRecord],
    items: list[tuple[str, Mapping[str, Any]]],
    window: float,
) -> list[tuple[CallRecord | None, str, Mapping[str, Any]]]:
    """Pair history items with open calls: by leg id first, then by contact and time
    (error items carry no leg id), each call at most once. Unpaired items come back with
    None: calls placed outside the app, or calls already finished here."""
    by_leg = {record.provider_ref: record for record in open_calls if record.provider_ref}
    taken: set[str] = set()
    paired: list[tuple[CallRecord | None, str, Mapping[str, Any]]] = []
    pending: list[tuple[str, Mapping[str, Any]]] = []
    for source, item in items:
        leg = reports.item_leg(item)
        record = by_leg.get(leg) if leg is not None else None
        if record is not None and record.id not in taken:
            taken.add(record.id)
            paired.append((record, source, item))
        else:
            pending.append((source, item))
    for source, item in pending:
        at = reports.item_time(item)
        contact = reports.item_contact(item)
        leg = reports.item_leg(item)
        best: CallRecord | None = None
        if at is not None and contact is not None:
            best_gap = window
            for record in open_calls:
                if record.id in taken:
                    continue
                if leg and record.provider_ref:
                    continue  # both have leg ids and they differ
                through = reports.source_of(record)
                if through is not None and through != source:
                    continue
                gap = abs(at - record.created_at)
                if gap <= best_gap and _same_contact(contact, record.customer):
                    best, best_gap = record, gap
        if best is not None:
            taken.add(best.id)
        paired.append((best, source, item))
    return paired
