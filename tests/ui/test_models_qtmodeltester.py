"""Qt's own model checker (pytest-qt's ``qtmodeltester``) on the window's two table models,
filled from real SQLite stores: every index, role, header and parent answer is consistent,
and stays so while rows arrive page by page (the tester stays attached and checks each
insertion and reset as it happens)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from dialer.core.contacts import ContactStore, demo_contacts
from dialer.history.sqlite_store import SqliteHistory
from dialer.ui.contacts_model import ContactRole, ContactsTableModel
from dialer.ui.history_model import HistoryModel
from tests.ui.test_history_panel import call, store_calls

pytestmark = pytest.mark.gui


@pytest.fixture
def contacts(tmp_path: Path) -> Iterator[ContactStore]:
    store = ContactStore(tmp_path / "contacts.sqlite3")
    yield store
    store.close()


def test_the_contacts_model_passes_the_model_tester(
    qtmodeltester: Any, contacts: ContactStore
) -> None:
    # More than two of the model's 100-row read pages, so rows past the first are read too.
    contacts.add_many(demo_contacts(250))
    ids = contacts.search_ids("")
    assert len(ids) == 250
    model = ContactsTableModel(contacts)
    qtmodeltester.check(model)
    model.set_ids(ids)
    qtmodeltester.check(model)
    assert model.rowCount() == 250
    last = model.data(model.index(249, 0), ContactRole)
    assert last is not None and last.id == ids[249]
    # A narrower search replaces the rows (a reset the attached tester checks as well).
    model.set_ids(ids[:7])
    qtmodeltester.check(model)
    assert model.rowCount() == 7
    assert model.contact(7) is None
    assert not model.canFetchMore(QModelIndex())  # every id is known at once: no paging


async def read_every_page(model: HistoryModel, qtmodeltester: Any) -> None:
    """Fetch pages until the query is exhausted, checking the model after each one. The
    tester itself calls ``fetchMore`` while it checks, so how many pages this loop reads is
    not fixed; that every row ends up read exactly once is."""
    for _ in range(10):  # 25 rows in pages of 10: three reads at most
        if not model.canFetchMore(QModelIndex()):
            break
        model.fetchMore(QModelIndex())
        await model.wait_loaded()
        qtmodeltester.check(model)
    assert model.exhausted
    assert not model.canFetchMore(QModelIndex())
    assert model.rowCount() == 25


async def test_the_history_model_passes_the_model_tester_page_by_page(
    qtmodeltester: Any, tmp_path: Path
) -> None:
    history = SqliteHistory(tmp_path / "calls.sqlite3")
    try:
        records = [call(n) for n in range(25)]
        await store_calls(history, records)
        model = HistoryModel(history, page_size=10)
        try:
            await model.wait_loaded()
            assert model.rowCount() == 10
            qtmodeltester.check(model)
            await read_every_page(model, qtmodeltester)
            assert [model.record(row).id for row in range(25)] == [r.id for r in reversed(records)]
            # A new order resets the rows and reads them again under the tester's eye.
            model.sort(0, Qt.SortOrder.AscendingOrder)
            await model.wait_loaded()
            qtmodeltester.check(model)
            await read_every_page(model, qtmodeltester)
            assert [model.record(row).id for row in range(25)] == [r.id for r in records]
        finally:
            model.close()
    finally:
        history.close()


async def test_the_history_model_reads_rows_no_calendar_or_number_holds(
    qtmodeltester: Any, tmp_path: Path
) -> None:
    # Values written behind the app's back (another version, sqlite3 by hand): the model
    # reads and shows every row, a time no calendar holds as unknown ("—").
    import sqlite3

    odd = {
        "created_at": 253_402_343_999.0,  # the year 10000 in UTC
        "started_at": float("inf"),
        "ended_at": -1e300,
        "talk_seconds": "forever",
        "billed_seconds": 2**63 - 1,
        "charge": float("-inf"),
        "agent_seconds": 1e300,
    }
    history = SqliteHistory(tmp_path / "calls.sqlite3")
    try:
        await store_calls(history, [call(n) for n in range(len(odd) + 1)])
    finally:
        history.close()
    db = sqlite3.connect(tmp_path / "calls.sqlite3")
    with db:
        for n, (name, value) in enumerate(odd.items()):
            db.execute(f"UPDATE calls SET {name} = ? WHERE id = ?", (value, f"call-{n:05d}"))  # noqa: S608
    db.close()
    history = SqliteHistory(tmp_path / "calls.sqlite3")
    try:
        model = HistoryModel(history, page_size=3)
        try:
            await model.wait_loaded()
            qtmodeltester.check(model)
            for _ in range(5):  # 8 rows in pages of 3
                if not model.canFetchMore(QModelIndex()):
                    break
                model.fetchMore(QModelIndex())
                await model.wait_loaded()
                qtmodeltester.check(model)
            assert model.rowCount() == len(odd) + 1
            cells = {
                (model.record(row).id, column): model.data(model.index(row, column))
                for row in range(model.rowCount())
                for column in range(model.columnCount())
            }
            for role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole):
                for row in range(model.rowCount()):
                    for column in range(model.columnCount()):
                        model.data(model.index(row, column), role)
            assert cells[("call-00000", 0)] == "—"
            assert all(isinstance(text, str) for text in cells.values())
        finally:
            model.close()
    finally:
        history.close()


@pytest.mark.allow_warnings_log(r"outside the documented vocabulary")
async def test_the_history_model_reads_whatever_the_receiver_accepted(
    qtmodeltester: Any, tmp_path: Path
) -> None:
    # The abuse test's reports (arbitrary JSON in every documented field), sent to a real
    # receiver; the panel's model then reads every row it stored, under the model tester.
    import json

    import httpx
    from hypothesis import HealthCheck, given, settings

    from dialer.core.accounts import StaticAccounts
    from dialer.core.secrets import MemorySecretStore
    from dialer.webhooks.receiver import WebhookReceiver
    from tests.webhooks.conftest import TOKEN, c2c_account
    from tests.webhooks.test_abuse import reports

    corpus: list[bytes] = []

    @settings(
        max_examples=150,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(reports())
    def collect(body: dict[str, Any]) -> None:
        corpus.append(json.dumps(body).encode())

    collect()
    history = SqliteHistory(tmp_path / "calls.sqlite3")
    accounts = StaticAccounts([c2c_account("branch", "hook-branch")])
    try:
        async with (
            WebhookReceiver(history, accounts, MemorySecretStore(), path_token=TOKEN) as receiver,
            httpx.AsyncClient(trust_env=False, timeout=30) as client,
        ):
            answers = [
                (await client.post(receiver.url, content=body)).status_code for body in corpus
            ]
        assert set(answers) <= {200, 400} and answers.count(200) >= 30, answers
        model = HistoryModel(history, page_size=25)
        try:
            await model.wait_loaded()
            for _ in range(20):
                if not model.canFetchMore(QModelIndex()):
                    break
                model.fetchMore(QModelIndex())
                await model.wait_loaded()
            qtmodeltester.check(model)
            assert model.rowCount() == history.count()
            for row in range(model.rowCount()):
                for column in range(model.columnCount()):
                    for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                        model.data(model.index(row, column), role)
        finally:
            model.close()
    finally:
        history.close()
