"""The supervisor's view of the call history: filters, the live table, totals, export.

The panel owns a :class:`HistoryModel` and the view showing it. Filters build one
:class:`HistoryQuery`; a change of filter replaces the model's rows (read off the GUI
thread) and recomputes the totals off the GUI thread as the window's task
``history-totals``, a newer computation superseding an older one. Live changes reach the
model through :meth:`HistoryPanel.record_changed` and refresh the totals at most once a
second.

Per-call actions (details, note and disposition, open recording) work on the current row;
export writes every call of the current filter, in the table's order, to CSV or JSON.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import os
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import shiboken6
from PySide6.QtCore import (
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    QRegularExpression,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QMouseEvent,
    QRegularExpressionValidator,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dialer.core.calls import CallStatus
from dialer.core.errors import DialerError
from dialer.core.times import format_duration
from dialer.history import CallRecord, HistoryQuery, HistoryStore, HistoryTotals, digits_of
from dialer.history.dispositions import DispositionList
from dialer.history.store import TeamReads
from dialer.ui.dialogs import confirm, run_dialog
from dialer.ui.fitting import FlowLayout
from dialer.ui.history_model import (
    ACCOUNT_COLUMN,
    AGENT_COLUMN,
    BRIDGE_COLUMN,
    COLUMNS,
    CONTACT_COLUMN,
    CUSTOMER_COLUMN,
    DISPOSITION_COLUMN,
    NOTE_COLUMN,
    PERSON_COLUMN,
    STATUS_COLUMN,
    TIME_COLUMN,
    HistoryModel,
    status_text,
)
from dialer.ui.messages import MessageBridge
from dialer.ui.tasks import TaskManager

if TYPE_CHECKING:
    from dialer.history.export import ContactBook
    from dialer.ui.call_details import CallDetailsDialog

logger = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

# Starting widths; every column is at least as wide as its title, the last (details)
# stretches, and the user's own widths are kept from then on.
COLUMN_WIDTHS = {
    TIME_COLUMN: 150,
    CUSTOMER_COLUMN: 140,
    CONTACT_COLUMN: 170,
    AGENT_COLUMN: 140,
    ACCOUNT_COLUMN: 120,
    BRIDGE_COLUMN: 120,
    STATUS_COLUMN: 160,  # "Ringing customer" whole
    DISPOSITION_COLUMN: 110,
    NOTE_COLUMN: 160,
}
FILTER_DELAY_MS = 120  # typed filters apply once typing pauses, as the contacts search does
TOTALS_EVERY_MS = 250  # live changes refresh the totals at most this often
TOTALS_TASK = "history-totals"
PEOPLE_TASK = "history-people"
EXPORT_FORMATS = {"csv": "CSV files (*.csv)", "json": "JSON files (*.json)"}
RECORDING_SCHEMES = frozenset({"http", "https"})

# (label, days back including today; None: no lower bound). The last entry is the custom range.
PERIODS: tuple[tuple[str, int | None], ...] = (
    ("All time", None),
    ("Today", 1),
    ("Last 7 days", 7),
    ("Last 30 days", 30),
)
CUSTOM_PERIOD = "Custom range"


def _midnight(day: date) -> float:
    return datetime.combine(day, datetime.min.time()).timestamp()


def period_bounds(
    period: str, since_day: date, until_day: date, today: date
) -> tuple[float | None, float | None]:
    """``(since, until)`` epoch bounds of a period, in local time; a custom range includes
    both of its days."""
    if period == CUSTOM_PERIOD:
        first, last = min(since_day, until_day), max(since_day, until_day)
        return _midnight(first), _midnight(last + timedelta(days=1))
    days = dict(PERIODS).get(period)
    if days is None:
        return None, None
    return _midnight(today - timedelta(days=days - 1)), None


def totals_text(totals: HistoryTotals) -> str:
    """The footer: calls, answered rate, talk time (total and average), billing."""
    parts = [f"{totals.calls:,} call{'' if totals.calls == 1 else 's'}"]
    if totals.calls:
        parts.append(f"{totals.answered_rate:.0%} answered")
        parts.append(
            f"talk {format_duration(totals.talk_seconds)} "
            f"(average {format_duration(totals.average_talk_seconds)})"
        )
        parts.append(f"billed {format_duration(totals.billed_seconds)}")
        if totals.charge:
            parts.append(f"charge {totals.charge:,.2f}")
    return " · ".join(parts)


def write_export(
    history: HistoryStore,
    query: HistoryQuery,
    fmt: str,
    path: Path,
    contacts: ContactBook | None = None,
) -> int:
    """Write every call of ``query`` to ``path`` (on a worker thread). The file appears
    complete or not at all: it is written next to its place and renamed over it."""
    from dialer.history.export import write_csv, write_json

    writer = write_csv if fmt == "csv" else write_json
    # CSV gets a byte-order mark: spreadsheets then read it as UTF-8 (as the contacts export).
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as out:
            count = writer(history.iter_records(query), out, contacts=contacts)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


# The cause of an export's problems (see MessageBridge): the next export that works ends it.
EXPORT = "export"
ACCOUNTS_TASK = "history-accounts"
RECORDING = "recording"


class StatusMenu(QMenu):
    """Checkable statuses that stay open while several are ticked with the mouse."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        action = cast("QAction | None", self.activeAction())  # None: not over an action
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)


class HistoryView(QTableView):
    """The table. Rows inserted above the first visible row push the scroll position down
    by their height, so the rows the user is reading stay where they are; at the very top
    the view follows the newest calls instead.

    A flush of live changes can insert many blocks; the shift is added up as they come and
    applied once when the model says the flush is over (``liveApplied``)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Call history")
        self.setTabKeyNavigation(False)  # one Tab stop: arrows move in the table
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        rows = self.verticalHeader()
        rows.setVisible(False)
        rows.setDefaultSectionSize(24)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # one height: see rowsInserted
        self._shift = 0  # rows inserted above the top row, not yet scrolled past
        self._top: int | None = None  # the top row as the model numbers it now, while shifting

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        if isinstance(model, HistoryModel):
            model.liveApplied.connect(self.keep_place)

    def _step(self) -> int:
        per_item = self.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem
        return 1 if per_item else self.verticalHeader().defaultSectionSize()

    def rowsInserted(self, parent: Index, start: int, end: int) -> None:
        super().rowsInserted(parent, start, end)
        if parent.isValid():
            return
        top = self._top
        if top is None:
            value = self.verticalScrollBar().value()
            if value == 0:
                return
            top = value // self._step()
        if start <= top:
            self._shift += end - start + 1
            self._top = top + end - start + 1

    def keep_place(self) -> None:
        """Scroll past the rows inserted above the top row since the last call."""
        shift, self._shift, self._top = self._shift, 0, None
        if shift:
            self.updateGeometries()  # the scroll range grows now, not at the next layout
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + shift * self._step())

    def first_visible_row(self) -> int:
        return self.rowAt(0)

    def last_visible_row(self) -> int:
        row = self.rowAt(self.viewport().height() - 1)
        return self.model().rowCount() - 1 if row < 0 else row


def _labelled(text: str, field: QWidget, name: str) -> QWidget:
    """A filter's label and field as one piece (a wrapping row never parts them)."""
    label = QLabel(text)
    label.setBuddy(field)
    field.setAccessibleName(name)
    pair = QWidget()
    layout = QHBoxLayout(pair)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    layout.addWidget(label)
    layout.addWidget(field)
    return pair


class HistoryPanel(QWidget):
    """Filters, the call table, actions and totals over one history store.

    ``tasks`` is the window's task manager (totals, dialogs); ``messages`` tells the user
    what happened; ``accounts`` fills the account filter (:meth:`set_accounts` updates it).
    """

    def __init__(
        self,
        history: HistoryStore,
        tasks: TaskManager,
        dispositions: DispositionList,
        *,
        accounts: Sequence[str] = (),
        messages: MessageBridge | None = None,
        parent: QWidget | None = None,
        page_size: int | None = None,
        contacts: ContactBook | None = None,
    ):
        super().__init__(parent)
        self.history = history
        self.contacts = contacts  # names the customers (the Contact column, the exports)
        # A team history names who placed each call: a person filter, a Placed by column
        # and totals per person.
        self.team: TeamReads | None = history if isinstance(history, TeamReads) else None
        self.tasks = tasks
        self.dispositions = dispositions
        self.messages = messages or MessageBridge()
        self.totals: HistoryTotals | None = None
        self._closed = False
        # One reader thread each: a long totals or export never delays a page, and each
        # thread's reader connection keeps its cache warm.
        self._pages = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="dialer-history-pages"
        )
        self._reads = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="dialer-history-reads"
        )
        self._export_folder: Path | None = None
        self._configured_accounts: list[str] = []
        self._held_accounts: set[str] = set()  # accounts the history holds calls of
        self._details: list[CallDetailsDialog] = []  # open details dialogs, followed live
        self._totals_stale = False  # live changes came while the totals were computed
        self._build(page_size)
        self.set_accounts(accounts)
        self._wire()
        self.start_totals()
        self.start_people()

    # -- building ---------------------------------------------------------------------------

    def _build(self, page_size: int | None) -> None:
        filters = self._build_filters()
        self.model = HistoryModel(
            self.history, HistoryQuery(), self, executor=self._pages, contacts=self.contacts,
            **({"page_size": page_size} if page_size else {}),
        )  # fmt: skip
        self.view = HistoryView()
        self.view.setModel(self.model)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        self._titles_fitted = False
        self.view.setColumnHidden(PERSON_COLUMN, self.team is None)
        if self.team is not None:  # who placed a call is what a supervisor reads next
            header.moveSection(header.visualIndex(PERSON_COLUMN), 1)
        self.view.setSortingEnabled(True)
        header.setSortIndicator(*self.model.sort_column())
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addLayout(self._build_footer())

        self._filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._totals_timer = QTimer(self, singleShot=True, interval=TOTALS_EVERY_MS)
        self.annotate_action = QAction("Note and disposition…", self)
        self.annotate_action.setShortcut(QKeySequence("Ctrl+E"))
        self.refresh_action = QAction("Refresh", self)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        for action in (self.annotate_action, self.refresh_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        self._update_status_button()
        self._update_actions()

    def _build_filters(self) -> FlowLayout:
        self.period_box = QComboBox()
        for text, _ in PERIODS:
            self.period_box.addItem(text)
        self.period_box.addItem(CUSTOM_PERIOD)
        today = QDate.currentDate()
        self.since_edit = QDateEdit(today.addDays(-6))
        self.until_edit = QDateEdit(today)
        for date_edit in (self.since_edit, self.until_edit):
            date_edit.setCalendarPopup(True)
            date_edit.setDisplayFormat("yyyy-MM-dd")
            date_edit.setVisible(False)
        self.account_box = QComboBox()
        self.person_box = QComboBox()
        for box in (self.account_box, self.person_box):
            # Filled later (from the history): the box grows with its longest name.
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.person_box.addItem("Everyone", "")
        self.agent_edit = QLineEdit()
        self.agent_edit.setPlaceholderText("digits")
        self.bridge_edit = QLineEdit()
        self.bridge_edit.setPlaceholderText("DID or name")
        self.digits_edit = QLineEdit()
        self.digits_edit.setPlaceholderText("any digits")  # short: the filter row is full
        self.digits_edit.setToolTip("Calls whose customer or agent number has these digits")
        self.digits_edit.setClearButtonEnabled(True)
        numbers = QRegularExpressionValidator(QRegularExpression(r"[0-9+()\-. ]*"), self)
        for edit in (self.agent_edit, self.digits_edit):
            edit.setValidator(numbers)
        for edit in (self.agent_edit, self.bridge_edit, self.digits_edit):
            edit.setMaximumWidth(120)  # the filters fit one row at 1024 px
        self.status_button = QToolButton()
        self.status_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.status_menu = StatusMenu(self.status_button)
        self.status_actions: dict[CallStatus, QAction] = {}
        self.any_status_action = self.status_menu.addAction("Any status")
        self.status_menu.addSeparator()
        for status in CallStatus:
            action = self.status_menu.addAction(status_text(status))
            action.setCheckable(True)
            self.status_actions[status] = action
        self.status_button.setMenu(self.status_menu)

        # Each label with its field, the pairs wrapping onto a second row when the window
        # is narrow (a laptop's 1024 px, a supervisor's extra Person filter).
        filters = FlowLayout()
        self._range_widgets: list[QWidget] = []
        fields: tuple[tuple[str, QWidget, str], ...] = (
            ("&Period", self.period_box, "History period"),
            ("From", self.since_edit, "History from date"),
            ("to", self.until_edit, "History to date"),
            ("Acc&ount", self.account_box, "History account filter"),
            *(
                (("P&erson", self.person_box, "History person filter"),)
                if self.team is not None
                else ()
            ),
            ("A&gent", self.agent_edit, "History agent digits"),
            ("&Bridge", self.bridge_edit, "History bridge filter"),
            ("&Status", self.status_button, "History status filter"),
            ("N&umber", self.digits_edit, "Search history numbers"),
        )
        for text, field, name in fields:
            pair = _labelled(text, field, name)
            if field in (self.since_edit, self.until_edit):
                pair.setVisible(False)
                field.setVisible(True)  # shown with its pair
                self._range_widgets.append(pair)
            filters.addWidget(pair)
        return filters

    def _build_footer(self) -> QHBoxLayout:
        self.totals_label = QLabel("Totals…")
        self.totals_label.setAccessibleName("Totals")
        self.totals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QPushButton("&Details…")
        self.annotate_button = QPushButton("&Note and disposition…")
        self.annotate_button.setToolTip("Ctrl+E")
        self.recording_button = QPushButton("Open &recording")
        self.export_button = QPushButton("E&xport…")
        export_menu = QMenu(self.export_button)
        self.export_csv_action = export_menu.addAction("As CSV…")
        self.export_json_action = export_menu.addAction("As JSON…")
        self.export_button.setMenu(export_menu)
        self.people_button = QPushButton("By &person…")
        self.people_button.setToolTip("The totals of each person who placed calls")
        self.people_button.setVisible(self.team is not None)
        footer = QHBoxLayout()
        footer.setContentsMargins(0, 0, 0, 0)
        footer.addWidget(self.totals_label, 1)
        for button in (
            self.people_button,
            self.details_button,
            self.annotate_button,
            self.recording_button,
            self.export_button,
        ):
            button.setAccessibleName(button.text().replace("&", "").rstrip("…"))
            footer.addWidget(button)
        return footer

    def _wire(self) -> None:
        self.period_box.currentIndexChanged.connect(self._period_changed)
        self.since_edit.dateChanged.connect(lambda _: self.apply_filters())
        self.until_edit.dateChanged.connect(lambda _: self.apply_filters())
        self.account_box.currentIndexChanged.connect(lambda _: self.apply_filters())
        self.person_box.currentIndexChanged.connect(lambda _: self.apply_filters())
        self.people_button.clicked.connect(
            lambda _=False: self._start_dialog(self.show_people_totals())
        )
        for edit in (self.agent_edit, self.bridge_edit, self.digits_edit):
            edit.textChanged.connect(lambda _: self._filter_timer.start())
        self._filter_timer.timeout.connect(self.apply_filters)
        self.any_status_action.triggered.connect(self._any_status)
        for action in self.status_actions.values():
            action.toggled.connect(lambda _: self._statuses_changed())
        self._totals_timer.timeout.connect(self._live_totals)
        self.view.horizontalHeader().sortIndicatorChanged.connect(self._sort_indicator_changed)
        self.view.activated.connect(self._activated)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._update_actions())
        self.model.modelReset.connect(self._update_actions)
        self.model.liveApplied.connect(self._live_applied)
        self.model.loadFailed.connect(self.messages.error)
        self.details_button.clicked.connect(lambda _=False: self.show_details())
        self.annotate_button.clicked.connect(self._start_annotate)
        self.annotate_action.triggered.connect(self._start_annotate)
        self.refresh_action.triggered.connect(self.refresh)
        self.recording_button.clicked.connect(lambda _=False: self.open_recording())
        self.export_csv_action.triggered.connect(lambda: self._start_dialog(self.export("csv")))
        self.export_json_action.triggered.connect(lambda: self._start_dialog(self.export("json")))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._titles_fitted:
            # Never narrower than its title (the units in "Talk (m:ss)" were cut off); once
            # shown, when the style's final font and sort indicator count in the hint.
            self._titles_fitted = True
            header = self.view.horizontalHeader()
            for column in range(len(COLUMNS)):
                hint = header.sectionSizeHint(column)
                if header.sectionSize(column) < hint:
                    header.resizeSection(column, hint)

    def set_accounts(self, names: Sequence[str]) -> None:
        """The account filter's choices: the configured accounts and every account the
        history holds calls of (read on a reader thread: task ``history-accounts``); the
        current choice is kept when still there."""
        self._configured_accounts = list(names)
        self._show_accounts()
        self.start_accounts()

    def start_accounts(self) -> None:
        self._start_read(ACCOUNTS_TASK, self.start_accounts, self.load_accounts)

    def _start_read(
        self,
        name: str,
        again: Callable[[], None],
        read: Callable[[], Coroutine[Any, Any, object]],
    ) -> None:
        """Start the reader task ``name`` (a newer one supersedes it); a panel built before
        the loop runs starts it from inside the loop (``again``)."""
        if self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            QTimer.singleShot(0, self, again)
            return
        self.tasks.start(name, read())

    async def load_accounts(self) -> list[str]:
        loop = asyncio.get_running_loop()
        held = await loop.run_in_executor(self._reads, self.history.account_names)
        self._held_accounts.update(held)
        self._show_accounts()
        return held

    def _show_accounts(self) -> None:
        names = sorted({*self._configured_accounts, *self._held_accounts} - {""})
        current = self.account_box.currentData()
        if names == [self.account_box.itemData(n) for n in range(1, self.account_box.count())]:
            return
        self.account_box.blockSignals(True)
        self.account_box.clear()
        self.account_box.addItem("All accounts", "")
        for name in names:
            self.account_box.addItem(name, name)
        found = self.account_box.findData(current) if current else 0
        self.account_box.setCurrentIndex(max(found, 0))
        self.account_box.blockSignals(False)
        if current and found < 0:
            self.apply_filters()

    # -- filters and totals -----------------------------------------------------------------

    def query(self) -> HistoryQuery:
        """The query the filters describe, in the table's current order."""
        period = self.period_box.currentText()
        since, until = period_bounds(
            period,
            self.since_edit.date().toPython(),  # type: ignore[arg-type]
            self.until_edit.date().toPython(),  # type: ignore[arg-type]
            date.today(),
        )
        account = self.account_box.currentData()
        person = self.person_box.currentData()
        current = self.model.query()
        return HistoryQuery(
            users=(person,) if person else (),
            since=since,
            until=until,
            accounts=(account,) if account else (),
            agent=digits_of(self.agent_edit.text()),
            bridge=self.bridge_edit.text().strip(),
            statuses=tuple(s for s, a in self.status_actions.items() if a.isChecked()),
            digits=digits_of(self.digits_edit.text()),
            sort=current.sort,
            descending=current.descending,
        )

    def apply_filters(self) -> None:
        """Show the calls the filters describe, and their totals."""
        self._filter_timer.stop()
        query = self.query()
        if query == self.model.query():
            return
        self.model.set_query(query)
        self.totals_label.setText("Totals…")  # the old figures belong to the old filter
        self.start_totals()

    def refresh(self) -> None:
        """Read everything again ("Today" moves on at midnight)."""
        self._filter_timer.stop()
        self.model.set_query(self.query())
        self.totals_label.setText("Totals…")
        self.start_totals()

    def start_totals(self) -> None:
        """Recompute the totals (task ``history-totals``: a newer one supersedes it)."""
        self._totals_timer.stop()
        self._start_read(TOTALS_TASK, self.start_totals, self.refresh_totals)

    def _live_totals(self) -> None:
        """Totals after live changes: one computation at a time, never cancelled by the
        next change (a burst of changes every second used to cancel each one before it
        ended, and the totals fell seconds behind the rows); changes made meanwhile get one
        more right after it."""
        if self.tasks.running(TOTALS_TASK):
            self._totals_stale = True
            return
        self.start_totals()

    async def refresh_totals(self) -> HistoryTotals:
        """Totals of the current filter, computed on a reader thread."""
        self._totals_stale = False
        try:
            return await self._refresh_totals()
        finally:
            if self._totals_stale and not self._closed:
                self._totals_stale = False
                QTimer.singleShot(0, self, self.start_totals)

    async def _refresh_totals(self) -> HistoryTotals:
        query = self.model.query()
        loop = asyncio.get_running_loop()
        try:
            totals = await loop.run_in_executor(self._reads, self.history.totals, query)
        except Exception:
            if query == self.model.query():
                self.totals = None
                self.totals_label.setText("Totals could not be computed")
            raise  # reported by the task manager, the details logged
        if query == self.model.query():
            self.totals = totals
            self.totals_label.setText(totals_text(totals))
        return totals

    def start_people(self) -> None:
        """Fill the person filter (task ``history-people``), in a team history."""
        if self.team is not None:
            self._start_read(PEOPLE_TASK, self.start_people, self.load_people)

    async def load_people(self) -> list[str]:
        """The people this person may see the calls of, read on a reader thread."""
        assert self.team is not None
        loop = asyncio.get_running_loop()
        names = await loop.run_in_executor(self._reads, self.team.people)
        current = self.person_box.currentData()
        self.person_box.blockSignals(True)
        self.person_box.clear()
        self.person_box.addItem("Everyone", "")
        for name in names:
            self.person_box.addItem(name, name)
        self.person_box.setCurrentIndex(max(self.person_box.findData(current), 0))
        self.person_box.blockSignals(False)
        return names

    async def show_people_totals(self) -> dict[str, HistoryTotals]:
        """A table of the current filter's totals for each person."""
        from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTableWidget, QTableWidgetItem

        assert self.team is not None
        query = self.model.query()
        loop = asyncio.get_running_loop()
        totals = await loop.run_in_executor(self._reads, self.team.totals_by_person, query)
        dialog = QDialog(self.window())
        dialog.setWindowTitle("Totals by person")
        table = QTableWidget(len(totals), 5, dialog)
        table.setAccessibleName("Totals by person")
        table.setHorizontalHeaderLabels(["Person", "Calls", "Answered", "Talk", "Billed"])
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (person, figures) in enumerate(sorted(totals.items())):
            cells = (
                person or "(placed outside the app)",
                str(figures.calls),
                f"{figures.answered} ({figures.answered_rate:.0%})",
                format_duration(figures.talk_seconds),
                format_duration(figures.billed_seconds),
            )
            for column, text in enumerate(cells):
                table.setItem(row, column, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.people_dialog = dialog
        try:
            await run_dialog(dialog)
        finally:
            dialog.deleteLater()
        return totals

    def record_changed(self, record: CallRecord) -> None:
        """A stored change (the window's bridge of the history listeners)."""
        if self._closed:
            return
        self.model.apply(record)
        if not self._totals_timer.isActive():
            self._totals_timer.start()
        for dialog in self._details:
            if dialog.record.id == record.id and shiboken6.isValid(dialog):
                dialog.refresh(record)
        if record.account and record.account not in self._held_accounts:
            self._held_accounts.add(record.account)  # a call of an account new to the list
            self._show_accounts()

    def _live_applied(self, _updated: int, inserted: int) -> None:
        self._update_actions()
        if inserted:
            self._bound_rows()

    def _bound_rows(self) -> None:
        """While calls keep arriving above, forget rows far below what the user sees or
        selected, so memory stays at the pages read (they are read again on scrolling)."""
        model, view = self.model, self.view
        keep = max(view.last_visible_row(), view.currentIndex().row()) + 2 * model.page_size
        if model.rowCount() > keep + model.page_size:
            model.drop_rows_after(keep)

    def _period_changed(self) -> None:
        custom = self.period_box.currentText() == CUSTOM_PERIOD
        for widget in self._range_widgets:
            widget.setVisible(custom)
        self.apply_filters()

    def _statuses_changed(self) -> None:
        self._update_status_button()
        self.apply_filters()

    def _any_status(self) -> None:
        for action in self.status_actions.values():
            action.blockSignals(True)
            action.setChecked(False)
            action.blockSignals(False)
        self._statuses_changed()

    def _update_status_button(self) -> None:
        chosen = [s for s, a in self.status_actions.items() if a.isChecked()]
        if not chosen:
            text = "Any status"
        elif len(chosen) == 1:
            text = status_text(chosen[0])
        else:
            text = f"{len(chosen)} statuses"
        self.status_button.setText(text)
        self.status_button.setToolTip(", ".join(status_text(s) for s in chosen) or text)

    def _sort_indicator_changed(self, column: int, _order: Qt.SortOrder) -> None:
        if COLUMNS[column].sort is None:  # the model ignored it: show the real order again
            self.view.horizontalHeader().setSortIndicator(*self.model.sort_column())

    # -- per-call actions -------------------------------------------------------------------

    def selected_record(self) -> CallRecord | None:
        index = self.view.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    def _update_actions(self) -> None:
        record = self.selected_record()
        self.details_button.setEnabled(record is not None)
        self.annotate_button.setEnabled(record is not None)
        self.annotate_action.setEnabled(record is not None)
        self.recording_button.setEnabled(record is not None and bool(record.recording_url))
        self.recording_button.setToolTip(
            (record.recording_url or "") if record else "Select a call with a recording"
        )

    def _activated(self, index: QModelIndex) -> None:
        if index.column() in (NOTE_COLUMN, DISPOSITION_COLUMN):
            self._start_annotate()
        else:
            self.show_details(index.row())

    def _context_menu(self, position: Any) -> None:
        index = self.view.indexAt(position)
        if not index.isValid():
            return
        record = self.model.record(index.row())
        menu = QMenu(self)
        menu.addAction("Details…", lambda: self.show_details(index.row()))
        menu.addAction("Note and disposition…", self._start_annotate)
        recording = menu.addAction("Open recording", lambda: self.open_recording(record))
        recording.setEnabled(bool(record.recording_url))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.view.viewport().mapToGlobal(position))

    def _start_dialog(self, coro: Any) -> None:
        self.tasks.start("dialog", coro, replace=False)

    def _start_annotate(self) -> None:
        self._start_dialog(self.annotate())

    def show_details(self, row: int | None = None) -> CallDetailsDialog | None:
        """The call's details (its request, references, timeline, raw reports), beside the
        window; the current row when ``row`` is not given."""
        from dialer.ui.call_details import CallDetailsDialog

        if row is None:
            row = self.view.currentIndex().row()
        if not 0 <= row < self.model.rowCount():
            self.messages.info("Select a call first")
            return None
        dialog = CallDetailsDialog(self.model.record(row), self.window(), history=self.history)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._details.append(dialog)  # followed live (record_changed) until it closes
        dialog.destroyed.connect(lambda _=None, d=dialog: self._forget_details(d))
        dialog.show()
        return dialog

    def _forget_details(self, dialog: CallDetailsDialog) -> None:
        with contextlib.suppress(ValueError):
            self._details.remove(dialog)

    def open_recording(self, record: CallRecord | None = None) -> bool:
        """Open the call's recording in the user's browser or player."""
        record = record or self.selected_record()
        if record is None or not record.recording_url:
            self.messages.info("This call has no recording")
            return False
        url = QUrl(record.recording_url, QUrl.ParsingMode.StrictMode)
        if not url.isValid() or url.scheme().lower() not in RECORDING_SCHEMES:
            # The address comes from the provider: only web addresses are handed to the OS.
            self.messages.error(
                f"The recording address is not a web address: {record.recording_url}"
            )
            return False
        if not QDesktopServices.openUrl(url):
            # No browser or player is registered: the address is what the person needs.
            QGuiApplication.clipboard().setText(record.recording_url)
            self.messages.warning(
                "No application could open the recording; its address is copied to the "
                "clipboard, to paste into a browser or player",
                RECORDING,
            )
            return False
        return True

    async def annotate(self, record: CallRecord | None = None) -> CallRecord | None:
        """Edit the call's note and disposition; the stored record, or None if cancelled."""
        from dialer.ui.call_details import annotate_call

        record = record or self.selected_record()
        if record is None:
            self.messages.info("Select a call first")
            return None
        try:
            choices = self.dispositions.load()
        except DialerError as exc:
            self.messages.warning(str(exc))
            choices = []
        current = self.history.get(record.id) or record
        return await annotate_call(self.window(), self.history, current, choices)

    def contacts_changed(self) -> None:
        """The contact book changed: the Contact column is looked up again."""
        self.model.contacts_changed()

    async def edit_dispositions(self) -> list[str] | None:
        """Edit the list of dispositions; the saved list, or None if cancelled."""
        from dialer.ui.call_details import edit_dispositions

        return await edit_dispositions(self.window(), self.dispositions)

    async def export(self, fmt: str, path: Path | None = None) -> int:
        """Export every call of the current filter as ``fmt`` ("csv" or "json") to ``path``,
        or to a file the user picks. Returns how many calls were written (0: cancelled or
        failed, which the user is told)."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError(fmt)
        query = self.model.query()
        if path is None:
            path = await self._choose_export_file(fmt)
            if path is None:
                return 0
        loop = asyncio.get_running_loop()
        run = functools.partial(write_export, self.history, query, fmt, path, self.contacts)
        try:
            count = await loop.run_in_executor(self._reads, run)
        except OSError as exc:
            self.messages.error(f"Could not write {path}: {exc.strerror or exc}", EXPORT)
            return 0
        except Exception as exc:
            self.messages.failure(exc, "exporting the call history", EXPORT)
            return 0
        what = f"{count:,} call{'' if count == 1 else 's'}"
        self.messages.info(f"Exported {what} to {path}", EXPORT)  # an earlier failure is over
        return count

    async def _choose_export_file(self, fmt: str) -> Path | None:
        while True:
            dialog = QFileDialog(self.window(), f"Export call history as {fmt.upper()}")
            dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
            # Qt would ask about replacing through a nested event loop; we ask, awaited.
            dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setFileMode(QFileDialog.FileMode.AnyFile)
            dialog.setNameFilters([EXPORT_FORMATS[fmt], "All files (*)"])
            dialog.setDefaultSuffix(fmt)
            dialog.setDirectory(str(self._export_folder or Path.home()))
            dialog.selectFile(f"call-history-{date.today().isoformat()}.{fmt}")
            try:
                accepted = await run_dialog(dialog) == QFileDialog.DialogCode.Accepted
                files = dialog.selectedFiles() if accepted else []
            finally:
                if shiboken6.isValid(dialog):
                    dialog.deleteLater()
            if not files:
                return None
            path = Path(files[0])
            if not path.suffix:
                path = path.with_suffix(f".{fmt}")
            self._export_folder = path.parent
            if path.is_dir():
                self.messages.error(f"{path} is a folder; choose a file name", EXPORT)
                continue
            if not path.exists() or await confirm(
                self.window(), "Export call history", f"{path.name} already exists. Replace it?",
                action="Replace",
            ):  # fmt: skip
                return path

    # -- the end ----------------------------------------------------------------------------

    def close_panel(self) -> None:
        """Stop live updates and reads (the window is closing; its task manager cancels the
        totals and dialogs)."""
        self._closed = True
        self._filter_timer.stop()
        self._totals_timer.stop()
        self.model.close()
        for executor in (self._pages, self._reads):
            executor.shutdown(wait=False, cancel_futures=True)
