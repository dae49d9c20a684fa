"""The team history on PostgreSQL (see :mod:`dialer.history.postgres_schema`): the
:class:`~dialer.history.store.HistoryStore` a joined profile's supervisor panel, exports and
receivers read and write. Storage only, as the SQLite store: what a report or a change does
is :mod:`dialer.history.rules`' to decide.

Every statement runs as the person's own login role, so what they may read and change is
PostgreSQL's row-level security to decide; this module never filters by person itself
(the one exception: the calls a desktop's trackers resume are those it placed).

- Writes run on a small thread pool, one transaction each, and return once committed.
- Reports go to one ingest thread, which stores every report waiting in one transaction
  (group commit); each takes an advisory lock on its digest first, so two receivers given
  the same report store it once, and the calls they match are locked while changed.
- Reads are plain methods on a pooled connection, as the protocol has them.
- Changes made elsewhere (another desktop, a receiver) arrive by LISTEN/NOTIFY: a thread
  listens, reads the changed calls again as this person, and tells the listeners; this
  store's own changes it tells itself, before the writer returns.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dialer.core.calls import CallStatus
from dialer.core.team import TeamRole, describe_dsn
from dialer.core.threads import LoopThread
from dialer.history import rules
from dialer.history.postgres_admin import CONNECT_TIMEOUT, check_version, database_error
from dialer.history.postgres_schema import (
    CALL_COLUMNS,
    OUTCOME_COLUMNS,
    RECEIVER_READS,
)
from dialer.history.records import (
    CallOrigin,
    CallRecord,
    HistoryQuery,
    HistoryTotals,
    ProviderReport,
    StoredReport,
    TimelineEntry,
    digits_of,
)
from dialer.history.store import HistoryListener, PageKey, records_in_pages

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

logger = logging.getLogger(__name__)
# While the team database is away, psycopg's pool logs each retry of a connection; the
# team history says so once, in its own words (TeamHistory), and drops the pool instead.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

_STATUS_OF = {str(status): status for status in CallStatus}
_ORIGIN_OF = {str(origin): origin for origin in CallOrigin}
# The team's shared receiver secrets, as a sentence names them.
_TEAM_SECRET_NAMES = {"webhook_path": "secret path for the webhook URL"}

# How long a reader or writer waits for a pooled connection before saying the team
# history cannot be reached (libpq's own connect timeout bounds each attempt).
POOL_TIMEOUT = 5.0
# Changes heard by notification are read again in batches: the first waits this long for
# more to join it (a burst of reports becomes a few reads, not thousands).
NOTIFY_BATCH = 0.05
# A digits search of at least this many digits is looked up in the trigram index (a run of
# five matches about one call in ten thousand); a shorter one walks the order's index.
RARE_DIGITS = 5
# The most reports one ingest transaction stores, and how long the next batch waits for more
# to join it while reports come from many callers at once (the last batch held several).
INGEST_BATCH = 500
INGEST_GROUP_WINDOW = 0.001


@dataclass(frozen=True, slots=True)
class DesktopCall:
    """A call as a desktop's own history holds it, with its timeline and reports."""

    record: CallRecord
    timeline: list[TimelineEntry]
    reports: list[StoredReport]


# The SQL type of each column a batch writes as an array.
_SQL_TYPE = {
    "id": "text", "status": "text", "provider_ref": "text", "message": "text", "error": "text",
    "updated_at": "float8", "answered": "bool", "started_at": "float8", "ended_at": "float8",
    "agent_seconds": "int4", "talk_seconds": "int4", "billed_seconds": "int4",
    "charge": "float8", "recording_url": "text", "hangup_by": "text", "cause": "text",
}  # fmt: skip


# Half of the 65,535 parameters PostgreSQL takes in one statement.
_MOST_PARAMETERS = 32_767


def _insert_rows(
    cur: psycopg.Cursor[Any], head: str, rows: list[list[Any]], tail: str, also: str = ""
) -> None:
    """``head`` VALUES (row), (row), ... ``tail``: rows in as few statements as the limit on
    parameters allows (one for any batch here); ``also`` is SQL each row ends with."""
    if not rows:
        return
    width = len(rows[0])
    row = "(" + ", ".join(["%s"] * width) + also + ")"
    step = max(1, _MOST_PARAMETERS // width)
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        cur.execute(f"{head} {', '.join([row] * len(chunk))} {tail}", [v for r in chunk for v in r])


def _insert_steps(cur: psycopg.Cursor[Any], steps: list[tuple[Any, ...]]) -> None:
    """Timeline rows (call id, at, status, source, detail) in one statement; a step stored
    already is left as it is."""
    if steps:
        cur.execute(
            "INSERT INTO dialer.timeline (call_id, at, status, source, detail) "
            "SELECT * FROM unnest(%s::text[], %s::float8[], %s::text[], %s::text[], "
            "%s::text[]) ON CONFLICT DO NOTHING",
            list(map(list, zip(*steps, strict=True))),
        )


def _insert_reports(cur: psycopg.Cursor[Any], reports: list[tuple[Any, ...]], tail: str) -> None:
    """Report rows (call id, received at, source, digest, body) in one statement."""
    if reports:
        cur.execute(
            "INSERT INTO dialer.reports (call_id, received_at, source, digest, body) "
            "SELECT * FROM unnest(%s::text[], %s::float8[], %s::text[], %s::text[], "
            f"%s::text[]) {tail}",
            list(map(list, zip(*reports, strict=True))),
        )


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A report queued for the ingest thread, and its caller waiting for it."""

    report: ProviderReport
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[CallRecord]


def _settle(settled: list[tuple[_Waiting, Any]]) -> None:
    """On the callers' loop: each caller's record, or the exception its report raised."""
    for waiting, outcome in settled:
        if waiting.future.done():
            continue  # the caller gave up (cancelled)
        if isinstance(outcome, BaseException):
            waiting.future.set_exception(outcome)
        else:
            waiting.future.set_result(outcome)


def _lock_key(digest: str) -> int:
    """The advisory lock a report's digest takes (a signed 64-bit number, as PostgreSQL's)."""
    return int(digest[:16], 16) - (1 << 63)


class PostgresHistory:
    """The :class:`~dialer.history.store.HistoryStore` on a team's PostgreSQL database."""

    def __init__(
        self,
        dsn: str,
        *,
        role: TeamRole,
        user: str | None = None,
        password: Callable[[], str | None] | None = None,
        max_connections: int = 8,
        connect_timeout: int = CONNECT_TIMEOUT,
    ):
        self.dsn = dsn
        self.role = role
        self.where = describe_dsn(dsn)
        self._user = user
        self._password = password
        self._max = max_connections
        self._connect_timeout = connect_timeout
        self.listeners: list[HistoryListener] = []
        self._here: list[HistoryListener] = []  # told of this store's own changes only
        self._listener_loop: asyncio.AbstractEventLoop | None = None
        self._pool_lock = threading.Lock()
        self._pool: psycopg_pool.ConnectionPool[Any] | None = None
        self._writers: concurrent.futures.ThreadPoolExecutor | None = None
        self._own_pids: set[int] = set()
        self._listening: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = False
        self._ingest_lock = threading.Lock()
        self._ingest_ready = threading.Condition(self._ingest_lock)
        self._ingest_queue: list[_Waiting] = []
        self._ingester: threading.Thread | None = None
        # A receiver reads only what matching needs: the other columns read as empty.
        self._columns = CALL_COLUMNS if role is not TeamRole.RECEIVER else RECEIVER_READS
        self._select = ", ".join(self._columns)

    # -- connections ---------------------------------------------------------------------

    def _connection_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"connect_timeout": self._connect_timeout}
        if self._user:
            kwargs["user"] = self._user
        if self._password is not None:
            secret = self._password()
            if secret is not None:
                kwargs["password"] = secret
        return kwargs

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        self._own_pids.add(conn.info.backend_pid)

    def _connections(self) -> psycopg_pool.ConnectionPool[Any]:
        if self._closed:
            raise RuntimeError("the call history is closed")
        pool = self._pool
        if pool is not None:
            return pool
        with self._pool_lock:
            if self._pool is None:
                import psycopg
                import psycopg_pool

                kwargs = self._connection_kwargs()
                # Checked once, before any pool exists: a wrong password or a newer schema
                # is one clear sentence, not a pool retrying in the background.
                try:
                    with psycopg.connect(self.dsn, **kwargs) as conn:
                        check_version(conn, self.dsn)
                except psycopg.Error as exc:
                    raise database_error(exc, self.dsn) from None
                self._pool = psycopg_pool.ConnectionPool(
                    self.dsn,
                    kwargs=kwargs,
                    min_size=1,
                    max_size=self._max,
                    timeout=POOL_TIMEOUT,
                    configure=self._configure,
                    open=True,
                    name="team-history",
                )
            return self._pool

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in a transaction, committed when the block ends; failures
        become TeamDatabaseError sentences."""
        import psycopg
        import psycopg_pool

        from dialer.core.errors import TeamUnreachable

        pool = self._connections()
        try:
            try:
                conn = pool.getconn()
            except psycopg_pool.PoolClosed:  # dropped by another thread meanwhile
                pool = self._connections()
                conn = pool.getconn()
            try:
                with conn.transaction():
                    yield conn
            finally:
                pool.putconn(conn)
        except psycopg_pool.PoolTimeout:
            self._drop(pool)
            raise TeamUnreachable(
                f"The team history ({self.where}) cannot be reached: no connection within "
                f"{POOL_TIMEOUT:g} s"
            ) from None
        except psycopg.Error as exc:
            error = database_error(exc, self.dsn)
            if isinstance(error, TeamUnreachable):
                self._drop(pool)
            raise error from None

    def _drop(self, pool: psycopg_pool.ConnectionPool[Any]) -> None:
        """Forget a pool whose server went away, rather than let it retry (and log) in the
        background: the next use connects afresh, failing at once while it is away."""
        with self._pool_lock:
            if self._pool is pool:
                self._pool = None
        threading.Thread(target=pool.close, kwargs={"timeout": 1.0}, daemon=True).start()

    def check(self) -> None:
        """Connect now (and check the schema); TeamDatabaseError says why not."""
        with self._connection() as conn:
            conn.execute("SELECT 1")

    # -- change listeners ---------------------------------------------------------------

    def add_listener(self, listener: HistoryListener, *, here_only: bool = False) -> None:
        if here_only:
            self._here.append(listener)
            return
        self.listeners.append(listener)
        if self._listening is None and not self._closed:
            self._listening = threading.Thread(
                target=self._listen, name="team-history-listen", daemon=True
            )
            self._listening.start()

    def remove_listener(self, listener: HistoryListener) -> None:
        for listeners in (self.listeners, self._here):
            with contextlib.suppress(ValueError):
                listeners.remove(listener)

    def call_listeners_on(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._listener_loop = loop

    @property
    def serving_thread(self) -> LoopThread | None:
        return None  # writes hop to the pool's threads whichever loop serves

    def _tell(
        self,
        records: list[CallRecord],
        writer: asyncio.AbstractEventLoop | None,
        *,
        heard: bool = False,
    ) -> None:
        loop = self._listener_loop
        if loop is None or loop is writer:
            self._tell_now(records, heard)
        else:
            with contextlib.suppress(RuntimeError):  # its loop closed: nobody listens
                loop.call_soon_threadsafe(self._tell_now, records, heard)

    def _tell_now(self, records: list[CallRecord], heard: bool) -> None:
        listeners = list(self.listeners) if heard else [*self.listeners, *self._here]
        for record in records:
            for listener in listeners:
                try:
                    listener(record)
                except Exception:
                    logger.exception("A history listener failed")

    def _listen(self) -> None:
        """Hear the team's changes and tell the listeners (reconnecting after a failure)."""
        import psycopg

        delay = 0.5
        while not self._stop.is_set():
            try:
                kwargs = self._connection_kwargs()
                with psycopg.connect(self.dsn, autocommit=True, **kwargs) as conn:
                    if not self._listen_on_own_channel(conn):
                        return
                    delay = 0.5
                    while not self._stop.is_set():
                        changed: dict[str, None] = {}
                        for note in conn.notifies(timeout=0.5):
                            if note.pid not in self._own_pids:
                                changed[note.payload] = None
                            if changed:
                                break
                        if not changed:
                            continue
                        deadline = time.monotonic() + NOTIFY_BATCH
                        while (left := deadline - time.monotonic()) > 0:
                            for note in conn.notifies(timeout=left, stop_after=500):
                                if note.pid not in self._own_pids:
                                    changed[note.payload] = None
                        records = self._get_many(list(changed))
                        if records:
                            self._tell(records, None, heard=True)
            except Exception as exc:  # the server went away: listen again when it is back
                if self._stop.is_set():
                    return
                logger.info("Team history notifications paused: %s", str(exc).strip())
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)

    @staticmethod
    def _listen_on_own_channel(conn: Any) -> bool:
        """LISTEN on this person's channel (False, said once, when they have none)."""
        from psycopg import sql

        row = conn.execute("SELECT channel FROM dialer.people WHERE name = current_user").fetchone()
        if not row:  # the administrator's own login, say: nobody's calls to hear of
            logger.info(
                "Team history: %s is not one of the team's people, so no change made "
                "elsewhere reaches this window until it is read again",
                conn.info.user,
            )
            return False
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(row[0])))
        return True

    # -- rows ---------------------------------------------------------------------------

    def _record(self, row: tuple[Any, ...]) -> CallRecord:
        values = dict(zip(self._columns, row, strict=True))
        user = values.pop("placed_by", None) or ""
        values["status"] = _STATUS_OF.get(values["status"], CallStatus.FAILED)
        values["origin"] = _ORIGIN_OF.get(values["origin"], CallOrigin.OUTSIDE)
        values.setdefault("request", {})
        return CallRecord(**values, user=user)

    @staticmethod
    def _values(record: CallRecord, columns: tuple[str, ...]) -> list[Any]:
        from psycopg.types.json import Jsonb

        out: list[Any] = []
        for column in columns:
            if column == "placed_by":
                continue
            value = getattr(record, column)
            if column == "request":
                value = Jsonb(dict(value))
            elif column in ("status", "origin"):
                value = str(value)
            out.append(value)
        return out

    def _get(
        self, conn: psycopg.Connection[Any], call_id: str, *, lock: bool = False
    ) -> CallRecord | None:
        suffix = " FOR UPDATE" if lock else ""
        row = conn.execute(
            f"SELECT {self._select} FROM dialer.calls WHERE id = %s{suffix}", (call_id,)
        ).fetchone()
        return self._record(row) if row else None

    def _get_many(self, ids: list[str]) -> list[CallRecord]:
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {self._select} FROM dialer.calls WHERE id = ANY(%s)", (ids,)
            ).fetchall()
        return [self._record(row) for row in rows]

    def _insert(
        self, conn: psycopg.Connection[Any], record: CallRecord, source: str, detail: str
    ) -> CallRecord:
        columns = tuple(c for c in self._columns if c != "placed_by")
        values = self._values(record, columns)
        names = ", ".join(columns)
        marks = ", ".join(["%s"] * len(columns))
        # Who placed it is the connection's own login (row-level security checks it); a
        # call learned from a report names nobody.
        placed_by = "NULL" if record.origin is CallOrigin.OUTSIDE else "current_user"
        conn.execute(
            f"INSERT INTO dialer.calls ({names}, placed_by) VALUES ({marks}, {placed_by}) "
            "ON CONFLICT (id) DO NOTHING",
            values,
        )
        self._add_timeline(conn, record.id, record.created_at, record.status, source, detail)
        stored = self._get(conn, record.id)
        return stored if stored is not None else record

    @staticmethod
    def _add_timeline(
        conn: psycopg.Connection[Any],
        call_id: str,
        at: float,
        status: CallStatus,
        *how: str,  # source, detail
    ) -> None:
        conn.execute(
            "INSERT INTO dialer.timeline (call_id, at, status, source, detail) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (call_id, at, str(status), *how),
        )

    def _change(
        self,
        conn: psycopg.Connection[Any],
        current: CallRecord,
        changes: Mapping[str, Any],
        source: str,
        detail: str,
    ) -> CallRecord:
        applied = rules.applied_changes(current, changes, time.time())
        if applied is None:
            return current
        updated, changed = applied
        wanted = (*sorted(changed - {"updated_at"}), "updated_at")
        columns = tuple(c for c in wanted if c in self._columns)
        assignments = ", ".join(f"{c} = %s" for c in columns)
        conn.execute(
            f"UPDATE dialer.calls SET {assignments} WHERE id = %s",
            (*self._values(updated, columns), current.id),
        )
        if updated.status is not current.status:
            self._add_timeline(conn, current.id, updated.updated_at, updated.status, source, detail)
        return updated

    # -- writes -------------------------------------------------------------------------

    async def _write(self, apply: Callable[[psycopg.Connection[Any]], CallRecord]) -> CallRecord:
        if self._closed:
            raise RuntimeError("the call history is closed")
        if self._writers is None:
            self._writers = concurrent.futures.ThreadPoolExecutor(
                max_workers=self._max, thread_name_prefix="team-history-write"
            )
        loop = asyncio.get_running_loop()

        def run() -> CallRecord:
            with self._connection() as conn:
                return apply(conn)

        record = await loop.run_in_executor(self._writers, run)
        self._tell([record], loop)
        return record

    async def insert(self, record: CallRecord, *, source: str = "app") -> CallRecord:
        return await self._write(lambda conn: self._insert(conn, record, source, ""))

    async def amend(
        self,
        record: CallRecord,
        *,
        source: str = "app",
        detail: str = "",
        only_if_open: bool = False,
        **changes: Any,
    ) -> CallRecord:
        def apply(conn: psycopg.Connection[Any]) -> CallRecord:
            stored = self._get(conn, record.id, lock=True)
            if stored is None:
                applied = rules.applied_changes(record, changes, time.time())
                return self._insert(conn, applied[0] if applied else record, source, detail)
            if rules.stands(stored, only_if_open=only_if_open):
                return stored  # an outcome was stored meanwhile: it stands
            return self._change(conn, stored, changes, source, detail)

        return await self._write(apply)

    async def ingest(self, report: ProviderReport) -> CallRecord:
        """Queued for the ingest thread, which stores every report waiting by then in one
        transaction (group commit: a receiver under load pays a handful of round trips per
        batch, not per report); the caller resumes once its batch is committed."""
        if self._closed:
            raise RuntimeError("the call history is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CallRecord] = loop.create_future()
        with self._ingest_lock:
            self._ingest_queue.append(_Waiting(report, loop, future))
            if len(self._ingest_queue) == 1:
                self._ingest_ready.notify()
            if self._ingester is None:
                # One (two measured no faster: the server's CPU, not its latency, bounds it).
                self._ingester = threading.Thread(
                    target=self._ingest_forever, name="team-history-ingest", daemon=True
                )
                self._ingester.start()
        record = await future
        self._tell([record], loop)
        return record

    def _ingest_forever(self) -> None:
        grouping = False
        while True:
            with self._ingest_lock:
                while not self._ingest_queue and not self._closed:
                    self._ingest_ready.wait()
                if not self._ingest_queue:
                    return  # closed
            if grouping:
                time.sleep(INGEST_GROUP_WINDOW)  # callers arriving together join the batch
            with self._ingest_lock:
                batch = self._ingest_queue[:INGEST_BATCH]
                del self._ingest_queue[:INGEST_BATCH]
            grouping = len(batch) > 1
            self._ingest_batch(batch)

    def _ingest_batch(self, batch: list[_Waiting], *, retried: bool = False) -> None:
        outcomes: list[CallRecord | BaseException]
        try:
            with self._connection() as conn:
                outcomes = list(self._ingest_many(conn, [waiting.report for waiting in batch]))
        except Exception as exc:
            if len(batch) > 1 or not retried:
                # One report spoiled the batch (or two receivers' batches deadlocked):
                # each on its own (once more), so that the others are stored all the same.
                for item in batch:
                    self._ingest_batch([item], retried=len(batch) == 1)
                return
            outcomes = [exc]
        # Each caller's loop is woken once per batch, not once per report.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Waiting, Any]]] = {}
        for waiting, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(waiting.loop, []).append((waiting, outcome))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that caller's loop has closed
                loop.call_soon_threadsafe(_settle, settled)

    def _ingest_many(
        self, conn: psycopg.Connection[Any], reports: list[ProviderReport]
    ) -> list[CallRecord]:
        """Store reports as the rules say, in one transaction, with a few statements for the
        whole batch: locks, the digests seen, the calls named; then every change at once."""
        digests = [rules.report_digest(r) for r in reports]
        # Locks in one order, so that two receivers' batches never wait on each other in a
        # circle; a report delivered to both is stored by the first, found by the second.
        conn.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k",
            (sorted({_lock_key(d) for d in digests}),),
        )
        seen = dict(
            conn.execute(
                "SELECT digest, call_id FROM dialer.reports WHERE digest = ANY(%s)", (digests,)
            ).fetchall()
        )
        named = sorted({r.call_id for r in reports if r.call_id} | set(seen.values()))
        current = {
            record.id: record
            for record in map(
                self._record,
                conn.execute(
                    f"SELECT {self._select} FROM dialer.calls WHERE id = ANY(%s) "
                    "ORDER BY id FOR UPDATE",
                    (named,),
                ).fetchall(),
            )
        }
        now = time.time()
        results: list[CallRecord] = []
        inserted: dict[str, CallRecord] = {}
        changed: dict[str, CallRecord] = {}
        steps: list[tuple[Any, ...]] = []
        kept: list[tuple[Any, ...]] = []
        for report, digest in zip(reports, digests, strict=True):
            if digest in seen and seen[digest] in current:
                results.append(current[seen[digest]])  # a repeated delivery
                continue
            match = None
            crossing = False
            if report.call_id and report.call_id in current:
                candidate = current[report.call_id]
                if rules.named_call_matches(report, candidate):
                    match = candidate
                crossing = rules.crosses_accounts(report, candidate)
            if match is None and not crossing:
                # Calls this batch finished are not open any more, though not yet written.
                closed = {i for i, r in changed.items() if r.is_final}
                found = self._match(conn, report, now, closed)
                if found is not None:
                    match = current.setdefault(found.id, found)
            if match is None:
                record = rules.call_from_report(report, now)
                inserted[record.id] = record
                steps.append((record.id, now, str(record.status), report.source, report.cause))
            else:
                applied = rules.applied_changes(match, rules.report_changes(report, match), now)
                record = match
                if applied is not None:
                    record = applied[0]
                    if record.id not in inserted:
                        changed[record.id] = record
                    else:
                        inserted[record.id] = record
                    if record.status is not match.status:
                        steps.append(
                            (record.id, now, str(record.status), report.source, report.cause)
                        )
            current[record.id] = record
            seen[digest] = record.id
            kept.append((record.id, now, report.source, digest, report.body))
            results.append(record)
        self._write_many(conn, list(inserted.values()), list(changed.values()), steps, kept)
        return results

    def _write_many(
        self,
        conn: psycopg.Connection[Any],
        inserted: list[CallRecord],
        changed: list[CallRecord],
        steps: list[tuple[Any, ...]],
        kept: list[tuple[Any, ...]],
    ) -> None:
        columns = tuple(c for c in self._columns if c != "placed_by")
        outcome = tuple(c for c in OUTCOME_COLUMNS if c in self._columns)
        with conn.cursor() as cur:
            if inserted:
                _insert_rows(
                    cur,
                    f"INSERT INTO dialer.calls ({', '.join(columns)}, placed_by) VALUES",
                    [self._values(r, columns) for r in inserted],
                    "ON CONFLICT (id) DO NOTHING",
                    also=", NULL",
                )
            # One statement each for the whole batch (arrays, unnested in the server): the
            # server's cost per statement, not per row, is most of what a report costs.
            if changed:
                assignments = ", ".join(f"{c} = v.{c}" for c in outcome)
                arrays = ", ".join(f"%s::{_SQL_TYPE[c]}[]" for c in ("id", *outcome))
                values = [self._values(r, outcome) for r in changed]
                cur.execute(
                    f"UPDATE dialer.calls AS c SET {assignments} FROM unnest({arrays}) "
                    f"AS v(id, {', '.join(outcome)}) WHERE c.id = v.id",
                    [[r.id for r in changed], *map(list, zip(*values, strict=True))],
                )
            _insert_steps(cur, steps)
            # A batch of redeliveries alone keeps nothing new; digests were matched already.
            _insert_reports(cur, kept, "")

    def _match(
        self,
        conn: psycopg.Connection[Any],
        report: ProviderReport,
        now: float,
        closed: set[str] | frozenset[str] = frozenset(),
    ) -> CallRecord | None:
        """The call a report belongs to (each step of the rules' order), locked; ``closed``:
        calls to take as no longer open."""
        if report.call_id:
            found = self._get(conn, report.call_id, lock=True)
            if found is not None and rules.named_call_matches(report, found):
                return found
            if rules.crosses_accounts(report, found):
                return None
        if report.provider_ref:
            allowed = report.allowed_accounts
            row = conn.execute(
                "SELECT id FROM dialer.calls WHERE provider = %s AND provider_ref = %s "
                "AND (%s::text[] IS NULL OR account = ANY(%s::text[])) "
                "ORDER BY created_at DESC LIMIT 1",
                (
                    report.provider,
                    report.provider_ref,
                    *[None if allowed is None else sorted(allowed)] * 2,
                ),
            ).fetchone()
            if row is not None:
                return self._get(conn, row[0], lock=True)
        rows = conn.execute(
            "SELECT id, account, bridge, flow_id, customer, agent, created_at FROM dialer.calls "
            "WHERE is_open AND provider = %s ORDER BY created_at DESC LIMIT %s",
            (report.provider, rules.MATCH_WINDOW),
        ).fetchall()
        candidates = (rules.Candidate._make(row) for row in rows if row[0] not in closed)
        matched = rules.matching_call(report, candidates, now)
        return self._get(conn, matched, lock=True) if matched is not None else None

    async def annotate(
        self, call_id: str, *, note: str | None = None, disposition: str | None = None
    ) -> CallRecord:
        def apply(conn: psycopg.Connection[Any]) -> CallRecord:
            current = self._get(conn, call_id, lock=True)
            if current is None:
                raise KeyError(call_id)
            changes: dict[str, Any] = {}
            if note is not None:
                changes["note"] = note
            if disposition is not None:
                changes["disposition"] = disposition
            return self._change(conn, current, changes, "user", "")

        return await self._write(apply)

    # -- what a desktop sends (dialer.history.team_store) --------------------------------

    def merge(self, calls: list[DesktopCall]) -> None:
        """Store calls as a desktop recorded them, in one transaction; idempotent (sending
        one twice changes nothing). The desktop's progress fills a call that is still open
        here; an outcome stored here first (a receiver's report) stands, as the rules have
        it for a tracker; a note or disposition made on the desktop is kept, and an empty
        one never clears the team's."""
        if not calls:
            return
        columns = tuple(c for c in CALL_COLUMNS if c != "placed_by")
        progress = ", ".join(
            f"{c} = CASE WHEN dialer.calls.is_open THEN EXCLUDED.{c} ELSE dialer.calls.{c} END"
            for c in OUTCOME_COLUMNS
        )
        words = ", ".join(
            f"{c} = CASE WHEN EXCLUDED.{c} <> '' THEN EXCLUDED.{c} ELSE dialer.calls.{c} END"
            for c in ("note", "disposition")
        )
        # Each table takes the batch in one statement, never executemany: psycopg pipelines
        # that, and a batch the database refuses (a rule of row-level security, say) then
        # leaves the pipeline aborted, which psycopg logs as a second, misleading warning.
        # One call once (the later copy): an upsert may not touch a row twice in a statement.
        unique = list({c.record.id: c for c in calls}.values())
        with self._connection() as conn, conn.cursor() as cur:
            _insert_rows(
                cur,
                f"INSERT INTO dialer.calls ({', '.join(columns)}, placed_by) VALUES",
                [self._values(c.record, columns) for c in unique],
                f"ON CONFLICT (id) DO UPDATE SET {progress}, {words}",
                also=", current_user",
            )
            steps = [
                (c.record.id, e.at, str(e.status), e.source, e.detail)
                for c in calls
                for e in c.timeline
            ]
            _insert_steps(cur, steps)
            kept = [
                (
                    c.record.id,
                    r.received_at,
                    r.source,
                    rules.body_digest(c.record.provider, r.body),
                    r.body,
                )
                for c in calls
                for r in c.reports
            ]
            _insert_reports(cur, kept, "ON CONFLICT (digest) DO NOTHING")

    # -- reads --------------------------------------------------------------------------

    def get(self, call_id: str) -> CallRecord | None:
        with self._connection() as conn:
            return self._get(conn, call_id)

    def _where(self, query: HistoryQuery) -> tuple[str, list[Any], bool]:
        """The query's WHERE clause and parameters, and whether its digits are rare enough
        to be looked up in the trigram index rather than found walking the order's index."""
        tests: list[str] = []
        params: list[Any] = []

        def one_of(column: str, values: list[Any]) -> None:
            # One value as `=`, so that the (column, created_at, id) index yields rows in
            # order; several as ANY.
            if len(values) == 1:
                tests.append(f"{column} = %s")
                params.append(values[0])
            else:
                tests.append(f"{column} = ANY(%s)")
                params.append(values)

        if query.since is not None:
            tests.append("created_at >= %s")
            params.append(query.since)
        if query.until is not None:
            tests.append("created_at < %s")
            params.append(query.until)
        if query.accounts:
            one_of("account", list(query.accounts))
        if query.statuses:
            one_of("status", [str(s) for s in query.statuses])
        if query.users:
            people = [u for u in query.users if u]
            if people:
                one_of("placed_by", people)
            if "" in query.users:  # calls placed outside the app name nobody
                tests.append(
                    f"({tests.pop()} OR placed_by IS NULL)" if people else ("placed_by IS NULL")
                )
        if query.agent:
            tests.append("strpos(agent_digits, %s) > 0")
            params.append(digits_of(query.agent) or query.agent)
        if query.bridge:
            wanted = digits_of(query.bridge)
            if wanted:
                tests.append(
                    "(bridge = %s OR strpos(regexp_replace(coalesce(bridge, ''), "
                    "'[^0-9]', '', 'g'), %s) > 0)"
                )
                params.extend([query.bridge, wanted])
            else:
                tests.append("bridge = %s")
                params.append(query.bridge)
        wanted = digits_of(query.digits)
        if wanted:
            # LIKE, so that the trigram index on the numbers (where there is one) serves it.
            tests.append("numbers LIKE %s")
            params.append(f"%{wanted}%")
        return (" AND ".join(tests) or "true"), params, len(wanted) >= RARE_DIGITS

    def page(
        self, query: HistoryQuery, *, after: PageKey | None = None, limit: int = 200
    ) -> list[CallRecord]:
        where, params, rare = self._where(query)
        order = rules.SORT_SQL[query.sort]
        direction = "DESC" if query.descending else "ASC"
        if after is not None:
            where += f" AND ({order}, id) {'<' if query.descending else '>'} (%s, %s)"
            params.extend(after)
        sql = (
            f"SELECT {self._select} FROM dialer.calls WHERE {where} "
            f"ORDER BY {order} {direction}, id {direction} LIMIT %s"
        )
        with self._connection() as conn:
            if rare:
                # A run of this many digits matches few calls: the planner cannot tell from
                # the pattern, and walking the created order would read them all.
                conn.execute("SET LOCAL enable_indexscan = off")
                conn.execute("SET LOCAL enable_seqscan = off")
            rows = conn.execute(sql.encode(), (*params, limit)).fetchall()
        return [self._record(row) for row in rows]

    def page_key(self, query: HistoryQuery, record: CallRecord) -> PageKey:
        return (rules.sort_value(query.sort, record), record.id)

    def totals(self, query: HistoryQuery) -> HistoryTotals:
        where, params, _ = self._where(query)
        with self._connection() as conn:
            row = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE answered), "
                "coalesce(sum(talk_seconds), 0), coalesce(sum(billed_seconds), 0), "
                f"coalesce(sum(charge), 0) FROM dialer.calls WHERE {where}".encode(),
                params,
            ).fetchone()
        assert row is not None
        return HistoryTotals(int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]))

    def totals_by_person(self, query: HistoryQuery) -> dict[str, HistoryTotals]:
        """The query's totals for each person who placed calls (the supervisor's view)."""
        where, params, _ = self._where(query)
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT coalesce(placed_by, ''), count(*), count(*) FILTER (WHERE answered), "
                "coalesce(sum(talk_seconds), 0), coalesce(sum(billed_seconds), 0), "
                f"coalesce(sum(charge), 0) FROM dialer.calls WHERE {where} "
                "GROUP BY 1 ORDER BY 1".encode(),
                params,
            ).fetchall()
        return {
            person: HistoryTotals(int(c), int(a), int(t), int(b), float(ch))
            for person, c, a, t, b, ch in rows
        }

    def team_secret(self, key: str) -> str:
        """A secret the team's receivers share (the webhook path token), which only the
        receiver role may read; TeamDatabaseError when there is none or it may not."""
        from dialer.core.errors import TeamDatabaseError

        with self._connection() as conn:
            row = conn.execute(
                "SELECT value FROM dialer.receiver_secrets WHERE key = %s", (key,)
            ).fetchone()
        if row is None:
            what = _TEAM_SECRET_NAMES.get(key, key)
            raise TeamDatabaseError(
                f"The team history ({self.where}) has no {what}: run 'dialer team setup'"
            )
        return str(row[0])

    def people(self) -> list[str]:
        """The people whose calls this person may read (themselves, or the whole team)."""
        with self._connection() as conn:
            rows = conn.execute("SELECT name FROM dialer.people ORDER BY name").fetchall()
        return [row[0] for row in rows]

    def iter_records(self, query: HistoryQuery) -> Iterator[CallRecord]:
        return records_in_pages(self, query)

    def open_calls(self, *, provider: str | None = None) -> list[CallRecord]:
        # The calls this desktop's trackers resume: this person's own, whoever may read more.
        sql = f"SELECT {self._select} FROM dialer.calls WHERE is_open AND placed_by = current_user"
        params: list[Any] = []
        if provider is not None:
            sql += " AND provider = %s"
            params.append(provider)
        with self._connection() as conn:
            rows = conn.execute((sql + " ORDER BY created_at").encode(), params).fetchall()
        return [self._record(row) for row in rows]

    def count(self) -> int:
        with self._connection() as conn:
            row = conn.execute("SELECT count(*) FROM dialer.calls").fetchone()
        return int(row[0]) if row else 0

    def recent_calls(
        self, *, account: str, since: float, limit: int, agent: str | None = None
    ) -> list[tuple[str, float]]:
        # This person's own calls, as open_calls: a supervisor's limits are theirs alone.
        sql = (
            "SELECT id, created_at FROM dialer.calls WHERE account = %s AND created_at >= %s "
            "AND origin = 'app' AND placed_by = current_user"
        )
        params: list[Any] = [account, since]
        if agent is not None:
            sql += " AND agent = %s"
            params.append(agent)
        params.append(limit)
        with self._connection() as conn:
            rows = conn.execute(
                (sql + " ORDER BY created_at DESC LIMIT %s").encode(), params
            ).fetchall()
        return [(str(row[0]), float(row[1])) for row in rows]

    def account_names(self) -> list[str]:
        """A skip scan of the account index (one probe per account, not a pass over every
        call): what row-level security lets this person read, as every read."""
        with self._connection() as conn:
            rows = conn.execute(
                """WITH RECURSIVE names(account) AS (
                       (SELECT account FROM dialer.calls ORDER BY account LIMIT 1)
                       UNION ALL
                       SELECT (SELECT c.account FROM dialer.calls AS c
                               WHERE c.account > names.account ORDER BY c.account LIMIT 1)
                       FROM names WHERE names.account IS NOT NULL)
                   SELECT account FROM names WHERE account IS NOT NULL"""
            ).fetchall()
        return [str(row[0]) for row in rows]

    def timeline(self, call_id: str) -> list[TimelineEntry]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT at, status, source, detail FROM dialer.timeline WHERE call_id = %s "
                "ORDER BY at, id",
                (call_id,),
            ).fetchall()
        return [
            TimelineEntry(at, _STATUS_OF[status], source, detail)
            for at, status, source, detail in rows
        ]

    def reports(self, call_id: str) -> list[StoredReport]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT received_at, source, body FROM dialer.reports WHERE call_id = %s "
                "ORDER BY received_at, id",
                (call_id,),
            ).fetchall()
        return [StoredReport(at, source, body) for at, source, body in rows]

    def close(self) -> None:
        self._closed = True
        self._stop.set()
        with self._ingest_lock:
            self._ingest_ready.notify_all()
        if self._ingester is not None:
            self._ingester.join(timeout=5)
        if self._writers is not None:
            self._writers.shutdown(wait=True)
        if self._pool is not None:
            self._pool.close()
        if self._listening is not None:
            self._listening.join(timeout=2)
