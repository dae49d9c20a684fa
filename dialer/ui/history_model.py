"""The call history as a table: one query's rows, read a page at a time, updated live.

How it stays fast on a million calls:

- Rows are read by keyset pages (``HistoryStore.page(query, after=key)``), a page when the
  view asks for more (``canFetchMore``/``fetchMore``), on a reader thread: opening the
  history costs one indexed page whatever its size, and memory holds the pages read.
- Each row keeps the sort key it was placed by (``_keys``, sorted in the query's order), so
  a live record finds its position by binary search and a known call finds its row the same
  way, with no index to renumber when rows are inserted above it.

The Contact column names the customer from the profile's contact book: each page's numbers
are looked up with the page, on the same reader thread, in one indexed query; a live row's
new number is looked up the same way after it is shown (its cell fills in a moment later);
an edited book (:meth:`HistoryModel.contacts_changed`) looks every shown number up again.

Live changes (the store's listeners, bridged to :meth:`HistoryModel.apply`) are queued and
applied together at most every ``flush_ms`` (50 ms): one ``dataChanged`` for the rows that
changed and one ``beginInsertRows`` per contiguous block of new rows, never a reset, so the
view keeps its selection and scroll position through a burst of thousands of reports.

- A call already shown is updated in place, even when its new values would sort it
  elsewhere or no longer match the filter: a row never jumps or vanishes under the user's
  eyes (the next filter, sort or refresh puts it where it now belongs).
- A call not shown that matches the query is inserted at its sorted position when that
  position lies within the rows read so far, or at the end once every row is read; beyond
  the rows read it is left for the page that will bring it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from dialer.core.calls import CallStatus
from dialer.core.errors import DialerError
from dialer.core.times import format_duration, local_text
from dialer.history import CallRecord, HistoryQuery, HistoryStore, PageKey, SortKey
from dialer.history.export import ContactBook, NumberOwner, contact_text
from dialer.ui.contacts_model import display_number

logger = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex
RecordRole = Qt.ItemDataRole.UserRole + 1

PAGE_SIZE = 200
FLUSH_MS = 50  # live changes are applied at most this often (and at once after a pause)

STATUS_TEXT = {
    CallStatus.PLACING: "Placing…",
    CallStatus.ACCEPTED: "Accepted by provider",
    CallStatus.RINGING_AGENT: "Ringing agent",
    CallStatus.RINGING_CUSTOMER: "Ringing customer",
    CallStatus.CONNECTED: "Connected",
    CallStatus.COMPLETED: "Completed",
    CallStatus.NO_ANSWER: "No answer",
    CallStatus.BUSY: "Busy",
    CallStatus.CANCELLED: "Cancelled",
    CallStatus.FAILED: "Failed",
    CallStatus.NO_REPORT: "No report from provider",
}

NO_REPORT_EXPLAINED = (
    "The provider accepted this call but has no way to report what became of it, so "
    "whether it was answered, and for how long, is not known."
)


def status_text(status: CallStatus) -> str:
    return STATUS_TEXT.get(status, str(status))


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    sort: SortKey | None  # None: the store has no index to sort by it
    numeric: bool = False


COLUMNS = (
    Column("Time", SortKey.CREATED),
    Column("Customer", SortKey.CUSTOMER),
    Column("Contact", None),  # who the customer's number belongs to, from the contact book
    Column("Agent", SortKey.AGENT),
    Column("Account", SortKey.ACCOUNT),
    Column("Bridge", SortKey.BRIDGE),
    Column("Status", SortKey.STATUS),
    # Units in the header, one quantity per column (the charge sat unlabelled in Billed).
    Column("Talk (m:ss)", SortKey.TALK, numeric=True),
    Column("Billed (m:ss)", SortKey.BILLED, numeric=True),
    Column("Charge (credit)", None, numeric=True),
    Column("Disposition", SortKey.DISPOSITION),
    Column("Note", None),
    Column("Details", None),
    Column("Placed by", None),  # a team history's person (hidden in a profile's own)
)
(
    TIME_COLUMN,
    CUSTOMER_COLUMN,
    CONTACT_COLUMN,
    AGENT_COLUMN,
    ACCOUNT_COLUMN,
    BRIDGE_COLUMN,
    STATUS_COLUMN,
    TALK_COLUMN,
    BILLED_COLUMN,
    CHARGE_COLUMN,
    DISPOSITION_COLUMN,
    NOTE_COLUMN,
    DETAILS_COLUMN,
    PERSON_COLUMN,
) = range(len(COLUMNS))


def column_of(key: SortKey) -> int:
    return next(n for n, column in enumerate(COLUMNS) if column.sort is key)


def format_when(epoch: float) -> str:
    return local_text(epoch, "—")


def details_text(record: CallRecord) -> str:
    """The one line the Details column shows: the error, else the outcome, else the
    provider's answer."""
    if record.error:
        return record.error
    if record.status is CallStatus.NO_REPORT:
        return "The provider does not report outcomes"
    parts = [record.cause] if record.cause else []
    if record.hangup_by:
        parts.append(f"hung up by {record.hangup_by}")
    return ", ".join(parts) or record.message


def cell_text(record: CallRecord, column: int, owner: NumberOwner | None = None) -> str:
    if column == TIME_COLUMN:
        return format_when(record.created_at)
    if column == CUSTOMER_COLUMN:
        return display_number(record.customer) if record.customer else ""
    if column == CONTACT_COLUMN:
        return contact_text(owner)
    if column == AGENT_COLUMN:
        return display_number(record.agent) if record.agent else ""
    if column == ACCOUNT_COLUMN:
        return record.account
    if column == BRIDGE_COLUMN:
        return record.bridge or ""
    if column == STATUS_COLUMN:
        return status_text(record.status)
    if column == TALK_COLUMN:
        return format_duration(record.talk_seconds)
    if column == BILLED_COLUMN:
        return format_duration(record.billed_seconds)
    if column == CHARGE_COLUMN:
        return f"{record.charge:g}" if record.charge is not None else ""
    if column == DISPOSITION_COLUMN:
        return record.disposition
    if column == NOTE_COLUMN:
        return " ".join(record.note.split())  # one line in the table
    if column == PERSON_COLUMN:
        return record.user
    return details_text(record)


_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_ROLES = frozenset({_DISPLAY, _TOOLTIP, Qt.ItemDataRole.TextAlignmentRole, RecordRole})
_Page = tuple[list[CallRecord], dict[str, NumberOwner | None]]  # rows, their contacts
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class HistoryModel(QAbstractTableModel):
    """The rows of one :class:`HistoryQuery`, paged in and updated live.

    Construct it on the running loop (it reads its first page at once). Page reads run on
    ``executor`` (one thread of the model's own when not given: that thread's reader
    connection keeps its page cache warm from one page to the next).
    """

    pageLoaded = Signal(int)  # rows added by a page read
    loadFailed = Signal(str)  # one sentence: a page could not be read
    liveApplied = Signal(int, int)  # rows updated, rows inserted by one flush of live changes

    def __init__(
        self,
        history: HistoryStore,
        query: HistoryQuery | None = None,
        parent: Any = None,
        *,
        page_size: int = PAGE_SIZE,
        executor: concurrent.futures.Executor | None = None,
        flush_ms: int = FLUSH_MS,
        contacts: ContactBook | None = None,
    ):
        super().__init__(parent)
        self._history = history
        self._contacts = contacts
        # Customer number -> its contact (None: nobody's), for the rows held: forgotten with
        # them (a day of calls to new customers kept every number: benchmarks/soak.py).
        self._owners: dict[str, NumberOwner | None] = {}
        self._naming: set[asyncio.Future[dict[str, NumberOwner | None]]] = set()  # lookups
        self._query = query or HistoryQuery()
        self.page_size = page_size
        self._own_executor = executor is None
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="dialer-history-pages"
        )
        self._rows: list[CallRecord] = []
        self._keys: list[PageKey] = []  # each row's sort key when it was placed: sorted
        self._key_of: dict[str, PageKey] = {}  # call id -> its entry in _keys
        self._after: PageKey | None = None  # where the next page starts
        self._exhausted = False
        self._generation = 0  # bumped when the rows are replaced: older reads are dropped
        self._reading: asyncio.Future[_Page] | None = None
        self._pending: dict[str, CallRecord] = {}  # live changes not applied yet
        self._deferred: dict[str, CallRecord] = {}  # past the rows read while a read ran
        self._flush_ms = flush_ms
        self._flush_timer = QTimer(self, singleShot=True)
        self._flush_timer.timeout.connect(self.flush)
        self._last_flush = 0.0  # time.monotonic() of the last flush
        self._closed = False
        self.flushes = 0  # how many times live changes were applied (tests, diagnostics)
        self._request_page()

    # -- what it shows ----------------------------------------------------------------------

    def query(self) -> HistoryQuery:
        return self._query

    @property
    def loading(self) -> bool:
        return self._reading is not None

    @property
    def exhausted(self) -> bool:
        """Every row of the query has been read."""
        return self._exhausted

    def record(self, row: int) -> CallRecord:
        return self._rows[row]

    def row_of(self, call_id: str) -> int | None:
        key = self._key_of.get(call_id)
        return None if key is None else self._position(key)

    def set_query(self, query: HistoryQuery) -> None:
        """Show ``query`` (new filters or order): the rows are replaced, then read again."""
        self.beginResetModel()
        self._query = query
        self._rows.clear()
        self._keys.clear()
        self._key_of.clear()
        self._owners.clear()  # each page brings its rows' contacts
        self._deferred.clear()
        self._restart_reading(after=None)
        self.endResetModel()
        self._request_page()

    def refresh(self) -> None:
        self.set_query(self._query)

    # -- Qt model API -----------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[section].sort is None:
            return "This column cannot be sorted"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # A view asks about ten roles per cell and paint; most are answered at once.
        if role not in _ROLES:
            return None
        row = index.row()  # -1 for an invalid index
        if not 0 <= row < len(self._rows):
            return None
        record = self._rows[row]
        column = index.column()
        if role == _DISPLAY:
            owner = self._owners.get(record.customer) if column == CONTACT_COLUMN else None
            return cell_text(record, column, owner)
        if role == RecordRole:
            return record
        if role == _TOOLTIP:
            return self._tooltip(record, column)
        return _RIGHT if COLUMNS[column].numeric else None

    @staticmethod
    def _tooltip(record: CallRecord, column: int) -> str | None:
        if column == STATUS_COLUMN and record.status is CallStatus.NO_REPORT:
            return NO_REPORT_EXPLAINED
        if column == NOTE_COLUMN:
            return record.note or None
        if column == DETAILS_COLUMN:
            return "\n".join(t for t in (record.error, record.cause, record.message) if t) or None
        if column == CHARGE_COLUMN and record.charge is not None:
            return f"Credit used: {record.charge:g}, in the provider's unit"
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._closed

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not parent.isValid():
            self._request_page()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order by a column that has a sort key (the others are left as they are)."""
        key = COLUMNS[column].sort if 0 <= column < len(COLUMNS) else None
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if key is self._query.sort and descending == self._query.descending:
            return
        self.set_query(replace(self._query, sort=key, descending=descending))

    def sort_column(self) -> tuple[int, Qt.SortOrder]:
        """The column and order the rows are sorted by (for the header's indicator)."""
        order = (
            Qt.SortOrder.DescendingOrder if self._query.descending else Qt.SortOrder.AscendingOrder
        )
        return column_of(self._query.sort), order

    # -- paging -----------------------------------------------------------------------------

    def _request_page(self) -> None:
        """Start reading the next page unless one is being read or none is left."""
        if self._reading is not None or self._exhausted or self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # asked by Qt outside the loop: ask again from inside it
            QTimer.singleShot(0, self, self._request_page)
            return
        read = functools.partial(
            self._read_page, self._query, after=self._after, limit=self.page_size
        )
        future = loop.run_in_executor(self._executor, read)
        self._reading = future
        generation = self._generation
        future.add_done_callback(lambda done: self._page_read(generation, done))

    def _read_page(self, query: HistoryQuery, *, after: PageKey | None, limit: int) -> _Page:
        """A page and its customers' contacts (on the reader thread)."""
        page = self._history.page(query, after=after, limit=limit)
        owners: dict[str, NumberOwner | None] = {}
        if self._contacts is not None and page:
            owners = self._owners_of({record.customer for record in page if record.customer})
        return page, owners

    def _owners_of(self, numbers: set[str]) -> dict[str, NumberOwner | None]:
        assert self._contacts is not None
        try:
            found = self._contacts.owners(numbers)
        except Exception:  # a locked or broken contact book: the column stays empty
            logger.warning("Looking customers up in the contact book failed", exc_info=True)
            found = {}
        return {number: found.get(number) for number in numbers}

    def _restart_reading(self, after: PageKey | None) -> None:
        self._generation += 1
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None
        self._after = after
        self._exhausted = False

    def _page_read(self, generation: int, done: asyncio.Future[_Page]) -> None:
        if generation != self._generation or self._closed or done.cancelled():
            return
        self._reading = None
        error = done.exception()
        if error is not None:
            logger.error("Reading a page of the call history failed", exc_info=error)
            self.loadFailed.emit(
                str(error)
                if isinstance(error, DialerError)
                else f"The call history could not be read ({type(error).__name__}); "
                "the details are in the log"
            )
            return
        page, owners = done.result()
        self._owners.update(owners)
        if len(page) < self.page_size:
            self._exhausted = True
        if page:
            self._after = self._history.page_key(self._query, page[-1])
        # A call can be in the page and already shown: placed live, or shown under a sort
        # key it has since left (a row stays where it was placed).
        fresh = [record for record in page if record.id not in self._key_of]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for record in fresh:
                key = self._history.page_key(self._query, record)
                self._rows.append(record)
                self._keys.append(key)
                self._key_of[record.id] = key
            self.endInsertRows()
        if self._deferred:  # live changes that waited for this page: place them now
            for call_id, record in self._deferred.items():
                self._pending.setdefault(call_id, record)
            self._deferred.clear()
            self._schedule_flush()
        self.pageLoaded.emit(len(fresh))

    async def wait_loaded(self) -> None:
        """Until no page is being read (tests, benchmarks: the first page is shown)."""
        while self._reading is not None:
            reading = self._reading
            await asyncio.wait([reading])
            await asyncio.sleep(0)  # let its done-callback insert the rows

    def drop_rows_after(self, keep: int) -> int:
        """Forget rows from ``keep`` on (they are read again if the view scrolls to them):
        memory stays bounded while live calls keep arriving above. Returns rows dropped."""
        if keep >= len(self._rows):
            return 0
        dropped = len(self._rows) - keep
        self.beginRemoveRows(QModelIndex(), keep, len(self._rows) - 1)
        for record in self._rows[keep:]:
            del self._key_of[record.id]
        del self._rows[keep:]
        del self._keys[keep:]
        held = self._customers()
        self._owners = {number: o for number, o in self._owners.items() if number in held}
        # Paging resumes right after the last row kept; a read running would leave a gap.
        self._restart_reading(after=self._keys[-1] if self._keys else None)
        self.endRemoveRows()
        return dropped

    # -- live changes -----------------------------------------------------------------------

    def apply(self, record: CallRecord) -> None:
        """A stored change to a call (a history listener, on the GUI thread): queued, and
        applied with the others at the next flush."""
        if self._closed:
            return
        self._pending[record.id] = record
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_timer.isActive():
            return
        since_last = (time.monotonic() - self._last_flush) * 1000
        self._flush_timer.start(max(0, min(self._flush_ms, round(self._flush_ms - since_last))))

    def flush(self) -> None:
        """Apply every queued live change now: updates in place, then insertions."""
        self._flush_timer.stop()
        if not self._pending or self._closed:
            return
        self._last_flush = time.monotonic()
        self.flushes += 1
        pending, self._pending = self._pending, {}
        changed: list[int] = []
        arriving: list[CallRecord] = []
        for call_id, record in pending.items():
            key = self._key_of.get(call_id)
            if key is not None:
                row = self._position(key)
                self._rows[row] = record
                changed.append(row)
            elif self._query.matches(record):
                arriving.append(record)
        if changed:
            self.dataChanged.emit(
                self.index(min(changed), 0), self.index(max(changed), len(COLUMNS) - 1)
            )
        inserted = self._insert(arriving) if arriving else 0
        if self._contacts is not None:
            unnamed = {
                r.customer
                for r in pending.values()
                if r.customer and r.customer not in self._owners and r.id in self._key_of
            }
            if unnamed:
                self._look_up(unnamed)
        self.liveApplied.emit(len(changed), inserted)

    # -- contacts ---------------------------------------------------------------------------

    def contacts_changed(self) -> None:
        """The contact book was edited or imported: every shown row's contact is looked up
        again."""
        if self._contacts is None:
            return
        self._owners.clear()
        numbers = {record.customer for record in self._rows if record.customer}
        if numbers:
            self._look_up(numbers)

    def _look_up(self, numbers: set[str]) -> None:
        """Find these numbers' contacts on the reader thread, then repaint the column."""
        if self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            QTimer.singleShot(0, self, lambda: self._look_up(numbers))
            return
        for number in numbers:  # nobody's until the answer says otherwise: asked once
            self._owners.setdefault(number, None)
        future = loop.run_in_executor(self._executor, self._owners_of, numbers)
        self._naming.add(future)
        future.add_done_callback(self._looked_up)

    def _looked_up(self, done: asyncio.Future[dict[str, NumberOwner | None]]) -> None:
        self._naming.discard(done)
        if self._closed or done.cancelled() or done.exception() is not None:
            return
        held = self._customers()  # rows dropped meanwhile take their contacts with them
        self._owners.update((n, o) for n, o in done.result().items() if n in held)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, CONTACT_COLUMN), self.index(len(self._rows) - 1, CONTACT_COLUMN)
            )

    def _customers(self) -> set[str]:
        return {record.customer for record in self._rows if record.customer}

    async def wait_named(self) -> None:
        """Until no contact lookup is running (tests)."""
        while self._naming:
            await asyncio.wait(list(self._naming))
            await asyncio.sleep(0)  # let their done-callbacks run

    def _insert(self, records: list[CallRecord]) -> int:
        placed: list[tuple[int, PageKey, CallRecord]] = []
        for record in records:
            key = self._history.page_key(self._query, record)
            position = self._position(key)
            if position == len(self._rows) and not self._exhausted:
                # Past the rows read: the page that covers it will bring it. If a read is
                # running it may have missed it, so it is looked at again after that read.
                if self._reading is not None:
                    self._deferred[record.id] = record
                continue
            placed.append((position, key, record))
        if not placed:
            return 0
        placed.sort(key=lambda item: item[1], reverse=self._query.descending)
        blocks: list[list[tuple[int, PageKey, CallRecord]]] = []
        for item in placed:
            if blocks and blocks[-1][0][0] == item[0]:
                blocks[-1].append(item)
            else:
                blocks.append([item])
        # Bottom block first: the positions of the blocks above stay valid.
        for block in reversed(blocks):
            position = block[0][0]
            self.beginInsertRows(QModelIndex(), position, position + len(block) - 1)
            self._rows[position:position] = [record for _, _, record in block]
            self._keys[position:position] = [key for _, key, _ in block]
            for _, key, record in block:
                self._key_of[record.id] = key
            self.endInsertRows()
        return len(placed)

    def _position(self, key: PageKey) -> int:
        """Where ``key`` is, or would go, in ``_keys`` (sorted in the query's order)."""
        keys, descending = self._keys, self._query.descending
        low, high = 0, len(keys)
        while low < high:
            middle = (low + high) // 2
            if (keys[middle] > key) if descending else (keys[middle] < key):
                low = middle + 1
            else:
                high = middle
        return low

    # -- the end ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop reading and applying changes (the window is closing)."""
        self._closed = True
        self._flush_timer.stop()
        self._pending.clear()
        self._deferred.clear()
        self._restart_reading(after=None)
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)
