"""The supervisor's history panel on a real SQLite history, offscreen, on the qasync loop:
filters and totals, sorting, paging, live updates that keep the user's place, notes and
dispositions, export, recordings and call details."""

from __future__ import annotations

import asyncio
import csv
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QLabel,
    QLineEdit,
)

from dialer.core.calls import CallStatus
from dialer.core.contacts import Contact, ContactNumber, ContactStore
from dialer.history import (
    CallOrigin,
    CallRecord,
    HistoryQuery,
    HistoryTotals,
    ProviderReport,
    SortKey,
)
from dialer.history.dispositions import DispositionList
from dialer.history.sqlite_store import SqliteHistory
from dialer.ui.history_model import (
    BILLED_COLUMN,
    CONTACT_COLUMN,
    CUSTOMER_COLUMN,
    DISPOSITION_COLUMN,
    FLUSH_MS,
    NOTE_COLUMN,
    STATUS_COLUMN,
    TALK_COLUMN,
    HistoryModel,
)
from dialer.ui.history_panel import CUSTOM_PERIOD, HistoryPanel, period_bounds, totals_text
from dialer.ui.tasks import TaskManager
from tests.ui.conftest import modal, until

pytestmark = pytest.mark.gui


ACCOUNTS = ("North", "South", "East")
OUTCOMES = (
    CallStatus.COMPLETED,
    CallStatus.NO_ANSWER,
    CallStatus.COMPLETED,
    CallStatus.BUSY,
    CallStatus.CANCELLED,
    CallStatus.NO_REPORT,
)


def _midnight(day: date) -> float:
    return datetime.combine(day, datetime.min.time()).timestamp()


TODAY = _midnight(date.today())


def call(n: int, *, created_at: float | None = None, **fields: Any) -> CallRecord:
    """Call ``n``: its account, status, agent and bridge cycle, its numbers are its own."""
    status = OUTCOMES[n % len(OUTCOMES)]
    answered = status is CallStatus.COMPLETED
    values: dict[str, Any] = {
        "account": ACCOUNTS[n % 3],
        "provider": "c2c-v2",
        "customer": f"+9198{n:08d}",
        "agent": f"+9170000{n % 4:05d}",
        "bridge": f"9180682{n % 5:05d}",
        "status": status,
        "created_at": TODAY + 3600 + n * 10 if created_at is None else created_at,
        "answered": answered if status is not CallStatus.NO_REPORT else None,
        "talk_seconds": 30 + n if answered else (None if status is CallStatus.NO_REPORT else 0),
        "billed_seconds": 60 if answered else (None if status is CallStatus.NO_REPORT else 0),
        "charge": 0.5 if answered else None,
        "recording_url": f"https://rec.example.net/{n}.mp3" if answered else None,
        "message": "Placed",
    }
    values.update(fields)
    return CallRecord(id=f"call-{n:05d}", **values)


async def store_calls(history: SqliteHistory, records: list[CallRecord]) -> None:
    await asyncio.gather(*(history.insert(record) for record in records))


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[SqliteHistory]:
    store = SqliteHistory(tmp_path / "calls.sqlite3")
    yield store
    store.close()


@asynccontextmanager
async def open_panel(
    history: SqliteHistory,
    config_dir: Path,
    *,
    page_size: int = 50,
    height: int = 500,
    contacts: ContactStore | None = None,
) -> AsyncIterator[HistoryPanel]:
    """The panel as the window builds it, listening to the store, shown and loaded."""
    tasks = TaskManager()
    panel = HistoryPanel(
        history,
        tasks,
        DispositionList.in_folder(config_dir),
        accounts=ACCOUNTS,
        page_size=page_size,
        contacts=contacts,
    )
    history.add_listener(panel.record_changed)
    panel.resize(1200, height)
    panel.show()
    try:
        await settle(panel)
        yield panel
    finally:
        history.remove_listener(panel.record_changed)
        panel.close_panel()
        await tasks.cancel_all()
        panel.close()
        panel.deleteLater()


async def settle(panel: HistoryPanel) -> None:
    """Typed filters applied, the page read, live changes flushed, totals computed."""
    await until(lambda: not panel._filter_timer.isActive())
    await panel.model.wait_loaded()
    await until(lambda: not panel.model._flush_timer.isActive())
    await panel.tasks.wait_idle()


def shown_ids(model: HistoryModel) -> list[str]:
    return [model.record(row).id for row in range(model.rowCount())]


def expected_ids(records: list[CallRecord], query: HistoryQuery) -> set[str]:
    return {r.id for r in records if query.matches(r)}


class Signals:
    """Counts a model's change signals."""

    def __init__(self, model: HistoryModel):
        self.inserted: list[tuple[int, int]] = []
        self.changed = 0
        self.resets = 0
        self.removed = 0
        model.rowsInserted.connect(lambda _p, first, last: self.inserted.append((first, last)))
        model.dataChanged.connect(lambda *_: self._changed())
        model.modelReset.connect(self._reset)
        model.rowsRemoved.connect(lambda *_: self._removed())

    def _changed(self) -> None:
        self.changed += 1

    def _reset(self) -> None:
        self.resets += 1

    def _removed(self) -> None:
        self.removed += 1


# -- filters, totals, sorting, paging ------------------------------------------------------------


async def test_each_filter_narrows_the_rows_and_the_totals(
    history: SqliteHistory, tmp_path: Path
) -> None:
    records = [call(n) for n in range(36)]
    records += [call(100 + n, created_at=TODAY - 10 * 86_400 + n) for n in range(6)]
    records += [call(200 + n, created_at=TODAY - 40 * 86_400 + n) for n in range(6)]
    await store_calls(history, records)
    async with open_panel(history, tmp_path, page_size=100) as panel:
        model = panel.model
        assert set(shown_ids(model)) == {r.id for r in records}
        assert panel.totals is not None
        assert panel.totals.calls == len(records)

        async def check(description: str) -> None:
            await settle(panel)
            query = model.query()
            wanted = expected_ids(records, query)
            assert set(shown_ids(model)) == wanted, description
            assert len(shown_ids(model)) == len(wanted), description
            totals = panel.totals
            assert totals is not None
            matching = [r for r in records if r.id in wanted]
            assert totals.calls == len(wanted), description
            assert totals.answered == sum(1 for r in matching if r.answered), description
            assert totals.talk_seconds == sum(r.talk_seconds or 0 for r in matching)
            assert totals.billed_seconds == sum(r.billed_seconds or 0 for r in matching)
            assert panel.totals_label.text() == totals_text(totals)

        panel.account_box.setCurrentIndex(panel.account_box.findData("South"))
        await check("account")
        assert model.query().accounts == ("South",)
        assert 0 < model.rowCount() < len(records)
        panel.account_box.setCurrentIndex(0)

        panel.status_actions[CallStatus.COMPLETED].setChecked(True)
        panel.status_actions[CallStatus.BUSY].setChecked(True)
        await check("two statuses")
        assert {model.record(r).status for r in range(model.rowCount())} == {
            CallStatus.COMPLETED,
            CallStatus.BUSY,
        }
        assert panel.status_button.text() == "2 statuses"
        panel.account_box.setCurrentIndex(panel.account_box.findData("South"))
        await check("an account with none of those statuses")
        assert model.rowCount() == 0
        assert panel.totals_label.text() == "0 calls"
        panel.any_status_action.trigger()
        panel.account_box.setCurrentIndex(0)
        await check("everything again")
        assert model.rowCount() == len(records)

        # Typed filters wait for a pause in typing: one new query for the whole word.
        signals = Signals(model)
        QTest.keyClicks(panel.digits_edit, "98 0000 0007")
        assert model.query().digits == ""  # not yet: the throttle is still waiting
        await check("any digits")
        assert model.query().digits == "9800000007"
        assert shown_ids(model) == ["call-00007"]
        assert signals.resets == 1
        panel.digits_edit.clear()

        panel.agent_edit.setText("70000 00002")
        await check("agent digits")
        assert model.query().agent == "7000000002"
        panel.agent_edit.clear()
        panel.bridge_edit.setText("918068200003")
        await check("bridge")
        assert model.rowCount() > 0
        panel.bridge_edit.clear()

        for period, count in (("Today", 36), ("Last 30 days", 42), ("All time", 48)):
            panel.period_box.setCurrentText(period)
            await check(period)
            assert model.rowCount() == count, period
        panel.period_box.setCurrentText(CUSTOM_PERIOD)
        assert panel.since_edit.isVisible()
        panel.since_edit.setDate(QDate.currentDate().addDays(-41))
        panel.until_edit.setDate(QDate.currentDate().addDays(-39))
        await check("custom range")
        assert sorted(shown_ids(model)) == [f"call-{200 + n:05d}" for n in range(6)]


def test_periods_are_whole_local_days() -> None:
    today = date(2024, 5, 10)
    since, until = period_bounds("Today", today, today, today)
    assert since == _midnight(today)
    assert until is None
    since, _ = period_bounds("Last 7 days", today, today, today)
    assert since == _midnight(date(2024, 5, 4))
    assert period_bounds("All time", today, today, today) == (None, None)
    # A custom range includes both of its days, whichever order they were picked in.
    since, until = period_bounds(CUSTOM_PERIOD, date(2024, 5, 3), date(2024, 5, 1), today)
    assert (since, until) == (_midnight(date(2024, 5, 1)), _midnight(date(2024, 5, 4)))


async def test_sorting_by_a_column_reads_in_that_order(
    history: SqliteHistory, tmp_path: Path
) -> None:
    records = [call(n, customer=f"+44 20 7946 {(n * 37) % 100:04d}") for n in range(40)]
    await store_calls(history, records)
    async with open_panel(history, tmp_path, page_size=100) as panel:
        model, header = panel.model, panel.view.horizontalHeader()
        assert model.query().sort is SortKey.CREATED
        times = [model.record(r).created_at for r in range(model.rowCount())]
        assert times == sorted(times, reverse=True)

        def click(column: int) -> None:
            x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
            QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=_point(x, 5))

        click(CUSTOMER_COLUMN)
        await settle(panel)
        assert model.query().sort is SortKey.CUSTOMER
        customers = [model.record(r).customer for r in range(model.rowCount())]
        expected = sorted(customers, reverse=model.query().descending)
        assert customers == expected
        assert len(set(customers)) > 10
        click(CUSTOMER_COLUMN)  # the other way
        await settle(panel)
        flipped = [model.record(r).customer for r in range(model.rowCount())]
        assert flipped == sorted(customers, reverse=model.query().descending)
        assert flipped != customers

        click(TALK_COLUMN)
        await settle(panel)
        talk = [model.record(r).talk_seconds or -1 for r in range(model.rowCount())]
        assert talk == sorted(talk, reverse=model.query().descending)

        before = model.query()
        click(NOTE_COLUMN)  # no index to sort notes by: nothing changes
        await settle(panel)
        assert model.query() == before
        assert header.sortIndicatorSection() == TALK_COLUMN


def _point(x: int, y: int) -> Any:
    from PySide6.QtCore import QPoint

    return QPoint(x, y)


async def test_pages_are_read_as_the_view_scrolls(history: SqliteHistory, tmp_path: Path) -> None:
    records = [call(n) for n in range(230)]
    await store_calls(history, records)
    async with open_panel(history, tmp_path, page_size=50) as panel:
        model, view = panel.model, panel.view
        assert model.rowCount() == 50  # one page, not the whole history
        assert model.canFetchMore()
        for expected in (100, 150, 200, 230):
            view.scrollToBottom()
            await until(lambda n=expected: model.rowCount() == n)  # type: ignore[misc]
            await model.wait_loaded()
        assert not model.canFetchMore()
        ids = shown_ids(model)
        assert len(set(ids)) == 230
        assert ids == [r.id for r in sorted(records, key=lambda r: r.created_at, reverse=True)]


# -- live updates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode",
    [QAbstractItemView.ScrollMode.ScrollPerItem, QAbstractItemView.ScrollMode.ScrollPerPixel],
)
async def test_a_live_report_appears_in_place_keeping_selection_and_scroll(
    history: SqliteHistory, tmp_path: Path, mode: QAbstractItemView.ScrollMode
) -> None:
    await store_calls(history, [call(n) for n in range(150)])
    async with open_panel(history, tmp_path, page_size=100, height=420) as panel:
        model, view = panel.model, panel.view
        view.setVerticalScrollMode(mode)
        signals = Signals(model)
        view.scrollTo(model.index(60, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        view.selectRow(65)
        top_id = model.record(view.first_visible_row()).id
        selected_id = panel.selected_record().id  # type: ignore[union-attr]
        assert view.first_visible_row() > 50

        # A report nobody placed here: a new call, the newest, so it goes on top.
        stored = await history.ingest(
            ProviderReport(
                provider="c2c-v2",
                source="webhook",
                body='{"to": "917700000001", "status": "ANSWER"}',
                status=CallStatus.COMPLETED,
                account="North",
                bridge="918068200001",
                agent="919000000001",
                customer="917700000001",
                answered=True,
                talk_seconds=12,
                reported_at=TODAY + 86_000,
            )
        )
        assert stored.origin is CallOrigin.OUTSIDE
        await until(lambda: model.row_of(stored.id) is not None)
        assert model.row_of(stored.id) == 0
        assert signals.resets == 0
        assert signals.inserted == [(0, 0)]
        assert panel.selected_record().id == selected_id  # type: ignore[union-attr]
        assert model.record(view.first_visible_row()).id == top_id

        # A call shown above the viewport changes: updated where it is.
        target = model.record(10)
        await history.amend(target, disposition="Sale", note="Wants a quote")
        await until(lambda: model.index(10, DISPOSITION_COLUMN).data() == "Sale")
        assert model.record(10).id == target.id
        assert model.index(10, NOTE_COLUMN).data() == "Wants a quote"
        assert signals.inserted == [(0, 0)]
        assert signals.changed >= 1

        # A call that sorts between shown rows above the viewport lands there.
        middle = model.record(30)
        placed = await history.insert(
            call(900, created_at=middle.created_at + 0.5, customer="+919812345678")
        )
        await until(lambda: model.row_of(placed.id) is not None)
        assert model.row_of(placed.id) == 30
        assert model.record(31).id == middle.id
        assert model.record(view.first_visible_row()).id == top_id
        assert panel.selected_record().id == selected_id  # type: ignore[union-attr]
        assert signals.resets == 0

        # At the very bottom too (the scroll range grows with the rows inserted).
        while model.canFetchMore():
            view.scrollToBottom()
            await until(lambda: not model.loading)
        view.scrollToBottom()
        await asyncio.sleep(0)
        bottom_id = model.record(view.first_visible_row()).id
        late = await history.insert(call(902, created_at=TODAY + 86_500))
        await until(lambda: model.row_of(late.id) == 0)
        assert model.record(view.first_visible_row()).id == bottom_id

        # Scrolled to the very top, the view follows the newest calls instead.
        view.scrollToTop()
        newest = await history.insert(call(901, created_at=TODAY + 90_000))
        await until(lambda: model.row_of(newest.id) == 0)
        assert view.first_visible_row() == 0


async def test_a_call_that_stops_matching_stays_until_the_next_refresh(
    history: SqliteHistory, tmp_path: Path
) -> None:
    await store_calls(history, [call(n, status=CallStatus.ACCEPTED) for n in range(5)])
    async with open_panel(history, tmp_path) as panel:
        panel.status_actions[CallStatus.ACCEPTED].setChecked(True)
        await settle(panel)
        model = panel.model
        assert model.rowCount() == 5
        record = history.get("call-00002")
        assert record is not None
        await history.amend(record, status=CallStatus.COMPLETED)
        await until(lambda: model.index(model.row_of("call-00002") or 0, STATUS_COLUMN).data()
                    == "Completed")  # fmt: skip
        assert model.rowCount() == 5  # not yanked from under the user
        # Totals follow live changes (throttled to about one a second).
        await until(lambda: panel.totals is not None and panel.totals.calls == 4, timeout=5)
        panel.refresh()
        await settle(panel)
        assert model.rowCount() == 4
        # A call that starts matching is a new row.
        other = history.get("call-00003")
        assert other is not None
        await history.amend(other, status=CallStatus.COMPLETED)
        await history.insert(call(50, status=CallStatus.ACCEPTED, created_at=TODAY + 80_000))
        await until(lambda: model.row_of("call-00050") == 0)


def most_flushes_since(started: float) -> int:
    """How many flushes of live changes can have happened since ``started`` (monotonic): one
    per ``FLUSH_MS`` (a coarse Qt timer may fire up to 5% early), plus the first at once."""
    return int((time.monotonic() - started) * 1000 / (0.95 * FLUSH_MS)) + 2


async def test_a_burst_of_a_thousand_changes_is_a_few_model_updates(
    history: SqliteHistory, tmp_path: Path
) -> None:
    await store_calls(history, [call(n) for n in range(120)])
    async with open_panel(history, tmp_path, page_size=50) as panel:
        model = panel.model
        signals = Signals(model)
        flushes = model.flushes
        burst = [
            call(1000 + n, created_at=TODAY + 50_000 + n, status=CallStatus.ACCEPTED)
            for n in range(1000)
        ]
        started = time.monotonic()
        await store_calls(history, burst)
        await until(lambda: model.row_of(burst[-1].id) == 0)
        await settle(panel)
        applied = model.flushes - flushes
        assert signals.resets == 0
        # However long the burst took to store (a loaded machine decides), changes were
        # applied at most once per flush interval: a burst is a handful of updates.
        assert 1 <= applied <= most_flushes_since(started)
        assert len(signals.inserted) <= applied  # each flush inserts one contiguous block
        assert shown_ids(model)[:50] == [r.id for r in reversed(burst[-50:])]
        # Memory stays at what the user sees plus a few pages: the rest is read again.
        assert model.rowCount() <= 4 * model.page_size
        assert signals.removed >= 1

        # A thousand changes to calls on screen: updates in place, coalesced the same way.
        signals = Signals(model)
        flushes = model.flushes
        shown = [model.record(row) for row in range(model.rowCount())]
        started = time.monotonic()
        await asyncio.gather(
            *(history.amend(r, status=CallStatus.COMPLETED, talk_seconds=7) for r in burst)
        )
        await settle(panel)
        assert model.flushes - flushes <= most_flushes_since(started)
        assert signals.changed <= model.flushes - flushes
        assert signals.inserted == []
        assert signals.resets == 0
        assert all(model.record(r).status is CallStatus.COMPLETED for r in range(len(shown)))

        # Scrolling down still reads every call once, in order.
        while model.canFetchMore():
            panel.view.scrollToBottom()
            await until(lambda: not model.loading)
            await asyncio.sleep(0)
        ids = shown_ids(model)
        assert len(ids) == len(set(ids)) == 1120


async def test_live_calls_land_in_order_under_any_sort_keeping_the_view_still(
    history: SqliteHistory, tmp_path: Path
) -> None:
    await store_calls(history, [call(n, customer=f"+4420794{n * 7:05d}") for n in range(80)])
    async with open_panel(history, tmp_path, page_size=200, height=300) as panel:
        model, view = panel.model, panel.view
        view.sortByColumn(CUSTOMER_COLUMN, Qt.SortOrder.AscendingOrder)
        await settle(panel)
        assert model.exhausted  # every row read: calls past the last row are appended too
        view.scrollTo(model.index(40, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        view.selectRow(45)
        top_id = model.record(view.first_visible_row()).id
        selected_id = panel.selected_record().id  # type: ignore[union-attr]
        signals = Signals(model)
        flushes = model.flushes
        # Customers scattered over the whole list, above and below the viewport.
        burst = [call(500 + n, customer=f"+4420794{(n * 7919) % 700:05d}") for n in range(300)]
        await store_calls(history, burst)
        await until(lambda: model.rowCount() == 380)
        await settle(panel)
        customers = [model.record(row).customer for row in range(model.rowCount())]
        ids = shown_ids(model)
        assert [(c, i) for c, i in zip(customers, ids, strict=True)] == sorted(
            zip(customers, ids, strict=True)
        )
        assert len(signals.inserted) > model.flushes - flushes  # many blocks a flush, no reset
        assert signals.resets == 0
        assert model.record(view.first_visible_row()).id == top_id
        assert panel.selected_record().id == selected_id  # type: ignore[union-attr]


# -- per-call actions ---------------------------------------------------------------------------


async def test_note_and_disposition_are_saved_shown_and_exported(
    history: SqliteHistory, tmp_path: Path
) -> None:
    from dialer.ui.call_details import AnnotateDialog, DispositionsDialog

    await store_calls(history, [call(n) for n in range(6)])
    async with open_panel(history, tmp_path / "config") as panel:
        model = panel.model
        # The list offered is the user's: edit it first.
        task = asyncio.ensure_future(panel.edit_dispositions())
        lists = await modal(DispositionsDialog)
        assert "Voicemail" in lists.names()
        lists.names_edit.setPlainText("Sale\nDemo booked\n\nsale\nCallback")
        lists.ok_button.click()
        assert await asyncio.wait_for(task, 10) == ["Sale", "Demo booked", "Callback"]
        assert panel.dispositions.load() == ["Sale", "Demo booked", "Callback"]

        panel.view.selectRow(2)
        chosen = panel.selected_record()
        assert chosen is not None
        annotating = asyncio.ensure_future(panel.annotate())
        dialog = await modal(AnnotateDialog)
        offered = [
            dialog.disposition_box.itemText(i) for i in range(dialog.disposition_box.count())
        ]
        assert offered == ["", "Sale", "Demo booked", "Callback"]
        dialog.disposition_box.setCurrentText("Demo booked")
        dialog.note_edit.setPlainText("Call back after 5 pm,\nasks for the manager")
        dialog.disposition_box.setFocus()
        QTest.keyClick(dialog.disposition_box, Qt.Key.Key_Return)  # Enter saves
        saved = await asyncio.wait_for(annotating, 10)
        assert saved is not None
        assert saved.disposition == "Demo booked"
        stored = history.get(chosen.id)
        assert stored is not None
        assert stored.note == "Call back after 5 pm,\nasks for the manager"
        row = model.row_of(chosen.id)
        assert row is not None
        await until(lambda: model.index(row, DISPOSITION_COLUMN).data() == "Demo booked")
        assert model.index(row, NOTE_COLUMN).data() == "Call back after 5 pm, asks for the manager"
        assert [e.source for e in history.timeline(chosen.id)] == ["app"]  # no status change

        target = tmp_path / "notes.csv"
        assert await panel.export("csv", target) == 6
        with target.open(encoding="utf-8-sig", newline="") as fh:
            rows = {row["id"]: row for row in csv.DictReader(fh)}
        assert rows[chosen.id]["disposition"] == "Demo booked"
        assert rows[chosen.id]["note"] == "Call back after 5 pm,\nasks for the manager"

        # A too long disposition is refused inline; Esc leaves the call as it was.
        annotating = asyncio.ensure_future(panel.annotate())
        dialog = await modal(AnnotateDialog)
        dialog.disposition_box.setCurrentText("x" * 60)
        assert not dialog.ok_button.isEnabled()
        assert "at most" in dialog.error_label.text()
        QTest.keyClick(dialog, Qt.Key.Key_Escape)
        assert await asyncio.wait_for(annotating, 10) is None
        assert history.get(chosen.id) == stored


async def test_export_writes_the_current_filter_only(
    history: SqliteHistory, tmp_path: Path
) -> None:
    records = [call(n) for n in range(30)]
    await store_calls(history, records)
    async with open_panel(history, tmp_path, page_size=10) as panel:
        panel.account_box.setCurrentIndex(panel.account_box.findData("East"))
        await settle(panel)
        wanted = [r for r in records if r.account == "East"]
        order = [r.id for r in sorted(wanted, key=lambda r: r.created_at, reverse=True)]
        assert panel.model.rowCount() == 10  # one page shown; the export reads them all

        target = tmp_path / "east.json"
        assert await panel.export("json", target) == len(wanted)
        exported = json.loads(target.read_text(encoding="utf-8"))
        assert [row["id"] for row in exported] == order
        assert {row["account"] for row in exported} == {"East"}
        assert f"Exported {len(wanted)} calls" in panel.messages.history[-1][1]

        # Through the file dialog: Qt's own, awaited; the suffix is added.
        task = asyncio.ensure_future(panel.export("csv"))
        chooser = await modal(QFileDialog)
        assert chooser.testOption(QFileDialog.Option.DontUseNativeDialog)
        picked = tmp_path / "east-picked"
        chooser.selectFile(str(picked))
        name_box = chooser.findChild(QLineEdit, "fileNameEdit")
        assert name_box is not None
        name_box.setText(str(picked))
        chooser.accept()
        assert await asyncio.wait_for(task, 10) == len(wanted)
        with (tmp_path / "east-picked.csv").open(encoding="utf-8-sig", newline="") as fh:
            assert [row["id"] for row in csv.DictReader(fh)] == order

        # A folder that cannot be written: one sentence, no file, no traceback.
        blocked = tmp_path / "missing-folder" / "out.csv"
        assert await panel.export("csv", blocked) == 0
        level, text = panel.messages.history[-1]
        assert level == "error"
        assert text.startswith(f"Could not write {blocked}")
        assert not blocked.exists()


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def opened_urls() -> Any:
    catcher = UrlCatcher()
    for scheme in ("http", "https", "file"):
        # PySide6's stub asks for bytes, but the call refuses bytes and takes the name as str.
        QDesktopServices.setUrlHandler(scheme, catcher, "open")  # type: ignore[arg-type]
    yield catcher.urls
    for scheme in ("http", "https", "file"):
        QDesktopServices.unsetUrlHandler(scheme)


async def test_open_recording_asks_the_desktop_for_its_url(
    history: SqliteHistory, tmp_path: Path, opened_urls: list[str]
) -> None:
    await store_calls(
        history,
        [
            call(0),
            call(1),
            call(2, recording_url="file:///etc/passwd", status=CallStatus.COMPLETED),
        ],
    )
    async with open_panel(history, tmp_path) as panel:
        model = panel.model
        with_recording = model.row_of("call-00000")
        assert with_recording is not None
        panel.view.selectRow(with_recording)
        assert panel.recording_button.isEnabled()
        panel.recording_button.click()
        assert opened_urls == ["https://rec.example.net/0.mp3"]

        panel.view.selectRow(model.row_of("call-00001") or 0)  # no answer, no recording
        assert not panel.recording_button.isEnabled()

        panel.view.selectRow(model.row_of("call-00002") or 0)
        assert not panel.open_recording()  # only web addresses are handed to the desktop
        assert opened_urls == ["https://rec.example.net/0.mp3"]
        assert "not a web address" in panel.messages.history[-1][1]


async def test_no_report_and_cancelled_calls_say_so(history: SqliteHistory, tmp_path: Path) -> None:
    from dialer.ui.call_details import CallDetailsDialog

    await store_calls(history, [call(4), call(5)])  # cancelled, no report
    async with open_panel(history, tmp_path) as panel:
        model = panel.model
        no_report = model.row_of("call-00005")
        cancelled = model.row_of("call-00004")
        assert no_report is not None and cancelled is not None
        assert model.index(no_report, STATUS_COLUMN).data() == "No report from provider"
        assert "no way to report" in model.index(no_report, STATUS_COLUMN).data(
            Qt.ItemDataRole.ToolTipRole
        )
        assert model.index(no_report, BILLED_COLUMN).data() == ""
        assert model.index(cancelled, STATUS_COLUMN).data() == "Cancelled"
        dialog = panel.show_details(no_report)
        assert isinstance(dialog, CallDetailsDialog)
        assert dialog.explanation is not None
        assert "no way to report" in dialog.explanation.text()
        dialog.close()


async def test_details_show_the_timeline_and_the_reports_as_received(
    history: SqliteHistory, tmp_path: Path
) -> None:
    from dialer.ui.call_details import CallDetailsDialog

    placed = await history.insert(
        call(
            7,
            status=CallStatus.ACCEPTED,
            provider_ref="ref-7",
            request={"to": "919800000007", "token": "***"},
            recording_url=None,
            talk_seconds=None,
            answered=None,
        )
    )
    body = json.dumps({"status": "ANSWER", "duration": "42", "extra": "kept"})
    await history.ingest(
        ProviderReport(
            provider="c2c-v2",
            source="webhook",
            body=body,
            status=CallStatus.COMPLETED,
            provider_ref="ref-7",
            answered=True,
            talk_seconds=42,
            cause="ANSWER",
        )
    )
    async with open_panel(history, tmp_path) as panel:
        row = panel.model.row_of(placed.id)
        assert row is not None
        panel.view.activated.emit(panel.model.index(row, CUSTOMER_COLUMN))
        [dialog] = [
            d
            for d in QApplication.topLevelWidgets()
            if isinstance(d, CallDetailsDialog) and d.isVisible()  # not an earlier test's
        ]
        assert dialog.isVisible()
        assert dialog.record.status is CallStatus.COMPLETED
        assert dialog.timeline_view.topLevelItemCount() == 2
        last = dialog.timeline_view.topLevelItem(1)
        assert last is not None
        assert (last.text(1), last.text(2)) == ("Completed", "webhook")
        assert '"extra": "kept"' in dialog.reports_text.toPlainText()
        assert '"token": "***"' in dialog.request_text.toPlainText()
        labels = {label.accessibleName(): label.text() for label in dialog.findChildren(QLabel)}
        assert labels["Provider reference"] == "ref-7"
        assert labels["Talk time"] == "0:42"
        dialog.close()


@pytest.mark.allow_warnings_log("^Reading a page of the call history failed$")
async def test_a_page_that_cannot_be_read_is_one_sentence(
    history: SqliteHistory, tmp_path: Path
) -> None:
    await store_calls(history, [call(n) for n in range(3)])
    async with open_panel(history, tmp_path) as panel:
        history.close()  # e.g. the profile closing under the panel
        panel.model.set_query(replace(panel.model.query(), digits="1"))
        await until(lambda: not panel.model.loading)
        level, text = panel.messages.history[-1]
        assert level == "error"
        assert text == (
            "The call history could not be read (ProgrammingError); the details are in the log"
        )
        assert panel.model.rowCount() == 0


async def test_billed_time_and_the_charge_are_separate_columns_with_their_units(
    history: SqliteHistory, tmp_path: Path
) -> None:
    from dialer.ui.history_model import CHARGE_COLUMN, COLUMNS

    await store_calls(history, [call(0, billed_seconds=60, charge=2.0)])  # answered
    async with open_panel(history, tmp_path) as panel:
        model = panel.model
        header = [model.headerData(n, Qt.Orientation.Horizontal) for n in range(len(COLUMNS))]
        assert "Billed (m:ss)" in header and "Charge (credit)" in header
        assert model.index(0, BILLED_COLUMN).data() == "1:00"  # no charge in it
        assert model.index(0, CHARGE_COLUMN).data() == "2"
        assert "Credit used: 2" in model.index(0, CHARGE_COLUMN).data(Qt.ItemDataRole.ToolTipRole)


async def test_the_account_filter_offers_every_account_the_history_holds(
    history: SqliteHistory, tmp_path: Path
) -> None:
    # A supervisor's desktop with none of the accounts configured: the filter still offers
    # each account the calls came from, and one new to the history as its call arrives.
    await store_calls(history, [call(n, account=f"team-{n % 20:02d}") for n in range(60)])
    async with open_panel(history, tmp_path) as panel:
        await until(lambda: panel.account_box.count() > len(ACCOUNTS) + 1)
        offered = [panel.account_box.itemData(n) for n in range(panel.account_box.count())]
        assert offered[0] == "" and {f"team-{n:02d}" for n in range(20)} <= set(offered)
        assert set(ACCOUNTS) <= set(offered)  # the configured ones too
        panel.account_box.setCurrentIndex(panel.account_box.findData("team-07"))
        await settle(panel)
        assert {panel.model.record(r).account for r in range(panel.model.rowCount())} == {"team-07"}
        await history.insert(call(99, account="brand-new"))
        await until(lambda: panel.account_box.findData("brand-new") >= 0)
        assert panel.account_box.currentData() == "team-07"  # the choice stays


async def test_open_details_follow_the_call_live(history: SqliteHistory, tmp_path: Path) -> None:
    record = call(0, status=CallStatus.ACCEPTED, answered=None, talk_seconds=None)
    await store_calls(history, [record])
    async with open_panel(history, tmp_path) as panel:
        dialog = panel.show_details(0)
        assert dialog is not None
        assert dialog.fields["Status"].text() == "Accepted by provider"
        assert dialog.tabs.tabText(1) == "Timeline (1)"
        stored = history.get(record.id)
        assert stored is not None
        await history.amend(stored, status=CallStatus.CONNECTED)
        await history.amend(stored, status=CallStatus.COMPLETED, talk_seconds=42)
        await until(lambda: dialog.fields["Status"].text() == "Completed")
        assert dialog.fields["Talk time"].text() == "0:42"
        assert dialog.tabs.tabText(1) == "Timeline (3)"
        dialog.close()
        await until(lambda: panel._details == [])  # closed: no longer followed


async def test_live_totals_are_never_cancelled_by_the_next_change_and_catch_up(
    history: SqliteHistory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database slower than the changes come (the team's, under load): each computation
    # used to be cancelled by the next change's, and the totals fell seconds behind the
    # rows. Here a computation waits until the test lets it go.
    import threading

    await store_calls(history, [call(n, status=CallStatus.ACCEPTED, answered=None) for n in (0, 1)])
    async with open_panel(history, tmp_path) as panel:
        gate = threading.Event()
        computed: list[int] = []
        real_totals = history.totals

        def slow_totals(query: HistoryQuery) -> HistoryTotals:
            gate.wait(10)
            totals = real_totals(query)
            computed.append(totals.answered)
            return totals

        monkeypatch.setattr(history, "totals", slow_totals)
        first, second = history.get("call-00000"), history.get("call-00001")
        assert first is not None and second is not None
        await history.amend(first, status=CallStatus.COMPLETED, answered=True)
        await until(lambda: panel.tasks.running("history-totals"))
        # More changes while it computes: it is not cancelled, they are counted after it.
        await history.amend(second, status=CallStatus.COMPLETED, answered=True)
        await until(lambda: panel._totals_stale)
        assert panel.tasks.running("history-totals")
        gate.set()
        await until(lambda: len(computed) >= 2 and not panel.tasks.running("history-totals"))
        assert computed[-1] == 2  # the rows' state: both answered
        assert "100% answered" in panel.totals_label.text()


@pytest.mark.qt_log_ignore("does not support QPlatformServices::openUrl")
async def test_a_recording_no_application_opens_has_its_address_copied(
    history: SqliteHistory, tmp_path: Path
) -> None:
    # Offscreen there is no browser or player at all: as on a desktop with none registered.
    from PySide6.QtGui import QGuiApplication

    await store_calls(history, [call(0)])
    async with open_panel(history, tmp_path) as panel:
        panel.view.selectRow(0)
        assert not panel.open_recording()
        assert QGuiApplication.clipboard().text() == "https://rec.example.net/0.mp3"
        level, text = panel.messages.history[-1]
        assert level == "warning" and "copied to the clipboard" in text


async def test_every_column_is_at_least_as_wide_as_its_title(
    history: SqliteHistory, tmp_path: Path
) -> None:
    async with open_panel(history, tmp_path) as panel:
        header = panel.view.horizontalHeader()
        last = header.logicalIndex(header.count() - 1)  # it stretches
        narrow = [
            panel.model.headerData(column, Qt.Orientation.Horizontal)
            for column in range(header.count())
            if column != last
            and not header.isSectionHidden(column)
            and header.sectionSize(column) < header.sectionSizeHint(column)
        ]
        sizes = [(header.sectionSize(c), header.sectionSizeHint(c)) for c in range(header.count())]
        assert narrow == [], str(sizes)


async def test_the_contact_column_names_customers_on_pages_live_and_after_an_edit(
    history: SqliteHistory, tmp_path: Path
) -> None:
    book = ContactStore(tmp_path / "contacts.sqlite3")
    asha = book.add(Contact("Asha Rao", (ContactNumber("+919800000001"),), company="Kaveri"))
    book.add(Contact("Ravi", (ContactNumber("098000 00070"),)))  # stored nationally
    records = [call(n) for n in range(80)]  # two pages of 50
    await store_calls(history, records)
    try:
        async with open_panel(history, tmp_path, contacts=book) as panel:
            model = panel.model
            assert model.headerData(CONTACT_COLUMN, Qt.Orientation.Horizontal) == "Contact"
            assert not panel.view.isColumnHidden(CONTACT_COLUMN)

            def named() -> dict[str, str]:
                texts = {model.record(r).id: model.index(r, CONTACT_COLUMN).data()
                         for r in range(model.rowCount())}  # fmt: skip
                return {call_id: text for call_id, text in texts.items() if text}

            assert named() == {"call-00070": "Ravi"}  # newest first: call 1 is on page 2
            while model.canFetchMore():
                model.fetchMore()
                await model.wait_loaded()
            assert named() == {"call-00001": "Asha Rao, Kaveri", "call-00070": "Ravi"}

            # A live call to a contact: named once its lookup is back.
            await history.insert(call(200, customer="+919800000001"))
            await until(lambda: model.row_of("call-00200") is not None)
            await model.wait_named()
            assert named()["call-00200"] == "Asha Rao, Kaveri"

            # The book edited: every shown row follows.
            assert asha.id is not None
            book.update(replace(asha, name="Asha R. Menon", company=""))
            panel.contacts_changed()
            await model.wait_named()
            assert named() == {
                "call-00001": "Asha R. Menon", "call-00200": "Asha R. Menon", "call-00070": "Ravi"
            }  # fmt: skip

            target = tmp_path / "named.csv"
            assert await panel.export("csv", target) == 81
            with target.open(encoding="utf-8-sig", newline="") as exported:
                rows = {row["id"]: row for row in csv.DictReader(exported)}
            assert rows["call-00070"]["contact_name"] == "Ravi"
            assert rows["call-00200"]["contact_name"] == "Asha R. Menon"
            assert rows["call-00002"]["contact_name"] == rows["call-00002"]["contact_company"] == ""
    finally:
        book.close()


async def test_a_day_of_live_calls_to_new_customers_keeps_only_the_held_rows_contacts(
    history: SqliteHistory, tmp_path: Path
) -> None:
    """The panel keeps a few pages of rows while calls arrive above; the contact each
    row's customer belongs to is kept for those rows only, never for every number called
    that day (nor for calls that do not match the filter)."""
    book = ContactStore(tmp_path / "contacts.sqlite3")
    book.add(Contact("Asha Rao", (ContactNumber("+919800000001"),)))
    try:
        async with open_panel(history, tmp_path, page_size=50, contacts=book) as panel:
            model = panel.model
            for start in range(0, 1_000, 100):
                burst = [
                    call(n, created_at=TODAY + 50_000 + n, customer=f"+9198{n:08d}")
                    for n in range(start, start + 100)
                ]
                await store_calls(history, burst)
                await settle(panel)
                await model.wait_named()
            assert model.rowCount() <= 4 * model.page_size
            held = {model.record(row).customer for row in range(model.rowCount())}
            assert set(model._owners) <= held

            # Calls the filter leaves out are not looked up at all.
            panel.digits_edit.setText("55555")
            await settle(panel)
            others = [call(n, customer=f"+9197{n:08d}") for n in range(2_000, 2_200)]
            await store_calls(history, others)
            await settle(panel)
            await model.wait_named()
            assert model.rowCount() == 0 and model._owners == {}
    finally:
        book.close()
