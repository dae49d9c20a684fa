"""The live call list: every call placed from this app, newest first, updated in place.

Rows are plain :class:`CallRecord` values; older calls are paged in from the call log as
the view scrolls (``canFetchMore``/``fetchMore``), so the model starts instantly however
long the history is.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from dialer.core.calls import CallStatus
from dialer.history import CallRecord, HistoryQuery, HistoryStore

Index = QModelIndex | QPersistentModelIndex

STATUS_TEXT = {
    CallStatus.PLACING: "Placing…",
    CallStatus.ACCEPTED: "Accepted by provider",
    CallStatus.RINGING_AGENT: "Ringing agent",
    CallStatus.RINGING_CUSTOMER: "Ringing customer",
    CallStatus.CONNECTED: "Connected",
    CallStatus.COMPLETED: "Completed",
    CallStatus.NO_ANSWER: "No answer",
    CallStatus.BUSY: "Busy",
    CallStatus.FAILED: "Failed",
    CallStatus.NO_REPORT: "No report from provider",
}

COLUMNS = ("Time", "Customer", "Account", "Status", "Details")
RecordRole = Qt.ItemDataRole.UserRole + 1


class CallListModel(QAbstractTableModel):
    PAGE = 200

    def __init__(self, history: HistoryStore | None = None, parent: Any = None):
        super().__init__(parent)
        self._history = history
        # Calls placed in this session are appended to _new and shown newest first above the
        # pages read from the log (_old): neither list ever shifts, so an update finds its
        # row in O(1) however many rows there are.
        self._new: list[CallRecord] = []
        self._old: list[CallRecord] = []
        self._where: dict[str, tuple[bool, int]] = {}  # id -> (is_new, index in its list)
        self._exhausted = history is None
        self._fetching = False

    # -- Qt model API -------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._new) + len(self._old)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        record = self.record(index.row())
        if role == RecordRole:
            return record
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(record, index.column())
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 4:
            return record.error or record.message or None
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or self._fetching or self._history is None:
            return
        self._fetching = True
        try:
            query = HistoryQuery()
            after = self._history.page_key(query, self._old[-1]) if self._old else None
            page = self._history.page(query, after=after, limit=self.PAGE)
            if len(page) < self.PAGE:
                self._exhausted = True
            older = [r for r in page if r.id not in self._where]
            if older:
                first = self.rowCount()
                self.beginInsertRows(QModelIndex(), first, first + len(older) - 1)
                for record in older:
                    self._where[record.id] = (False, len(self._old))
                    self._old.append(record)
                self.endInsertRows()
        finally:
            self._fetching = False

    # -- updates ------------------------------------------------------------------------

    def upsert(self, record: CallRecord) -> None:
        """Show a new call at the top, or update the row of a known one in place."""
        where = self._where.get(record.id)
        if where is not None:
            is_new, position = where
            (self._new if is_new else self._old)[position] = record
            row = self._row(is_new, position)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
            return
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._where[record.id] = (True, len(self._new))
        self._new.append(record)
        self.endInsertRows()

    def record(self, row: int) -> CallRecord:
        if row < len(self._new):
            return self._new[len(self._new) - 1 - row]
        return self._old[row - len(self._new)]

    def row_of(self, call_id: str) -> int | None:
        where = self._where.get(call_id)
        return None if where is None else self._row(*where)

    def _row(self, is_new: bool, position: int) -> int:
        return len(self._new) - 1 - position if is_new else len(self._new) + position

    @staticmethod
    def _cell(record: CallRecord, column: int) -> str:
        if column == 0:
            return time.strftime("%H:%M:%S", time.localtime(record.created_at))
        if column == 1:
            return record.customer
        if column == 2:
            return record.account
        if column == 3:
            return STATUS_TEXT.get(record.status, str(record.status))
        return record.error or record.message
