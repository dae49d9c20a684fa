"""The window never freezes, measured: the longest gap between the ticks of a 5 ms timer on
the real window's event loop while it does the heaviest work an agent's window does.

    python -m benchmarks.stall [--quick] [--why]

The real ``MainWindow`` runs on the qasync loop (offscreen), as ``dialer`` runs it; a 5 ms
``QTimer`` (precise) records when it fires. Any callback that holds the loop longer than a
frame (16 ms) shows as a gap above the target. Each scenario opens a window on a profile of
its own, waits until what start-up schedules is done, then records while it runs:

1. 200 concurrent calls placed through ``CallService`` against the simulator in a process of
   its own answering after 3 s; 20 of them on an account whose read timeout (1 s) expires
   first, so they fail as timeouts while the others are in flight.
2. 20,000 C2C v2 reports POSTed to the window's own receiver (64 keep-alive connections,
   from a process of their own) while the history panel is open and live.
3. 100,000 contacts imported from a CSV file through the import dialogs (accepted as a
   user would), then a 6-letter search typed into the search box one key every 100 ms.
4. The history panel on a 1,000,000-call history: the window opened on it, 50 pages
   scrolled (each once the last is shown), a sort changed by a click on its column's
   header, a 3-digit number filter typed.
5. The OS keyring answering after 10 s (a locked Linux keyring asking for its password)
   for one account while the agent places a call on another.
6. A supervisor's desktop whose team database (PostgreSQL, through a relay that is cut)
   comes back with 1,000 calls waiting to be sent, while another agent's desktop commits
   50 changes a second, each reaching the window by notification (skipped without a
   server).

``--quick`` keeps every scenario and shrinks its size; ``--only NAME`` (repeatable) runs
those scenarios alone (calls, reports, contacts, history, keyring, team). ``--why`` prints,
as each scenario ends, the loop callbacks that ran during its gaps over the target and how
much of those gaps was spent outside them (:mod:`benchmarks.loop_profile`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.loop_profile import LoopProfile
from benchmarks.table import Row

TARGET_MS = 16.0
TICK_MS = 5
BURST = 200
TIMING_OUT = 20
ANSWER_DELAY = 3.0
KEYRING_DELAY = 10.0
SEARCH = "sharma"  # typed one key at a time
NUMBER_FILTER = "135"
CHANGES_PER_SECOND = 50
STALL_DATABASE = "dialer_bench_stall"
T = TypeVar("T")


class TickRecorder:
    """The gaps between a 5 ms timer's ticks, in milliseconds."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.late: list[tuple[float, float]] = []  # (start, end) of each gap over the target
        self._last: float | None = None
        self.profile: LoopProfile | None = None  # --why: what ran during the late gaps
        self.explanations: list[list[str]] = []  # one per run of ``during``, in order

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            gap = (now - self._last) * 1000
            self.gaps.append(gap)
            if gap > TARGET_MS:
                self.late.append((self._last, now))
        self._last = now

    def start(self) -> None:
        self.gaps = []
        self.late = []
        self._last = None
        if self.profile is not None:
            self.profile.spans.clear()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.gaps

    async def during(self, work: Awaitable[T]) -> tuple[list[float], T]:
        """The gaps while ``work`` runs, and its result."""
        self.start()
        try:
            result = await work
        finally:
            gaps = self.stop()
            if self.profile is not None:
                self.explanations.append(self.profile.explain(self.late))
        return gaps, result


def _row(recorder: TickRecorder, name: str, gaps: list[float], extra: str = "") -> Row:
    if recorder.explanations:  # --why: printed as each scenario ends
        print(f"stall: {name}", *recorder.explanations.pop(0), sep="\n  ", file=sys.stderr)
    ordered = sorted(gaps) or [float("nan")]
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    worst = ordered[-1]
    return Row(
        f"stall: {name}: gap between 5 ms ticks, p50 / p99 / max",
        f"{p50:.1f} / {p99:.1f} / {worst:.1f} ms ({len(gaps):,} ticks{extra})",
        f"max <= {TARGET_MS:g} ms",
        worst <= TARGET_MS,
    )


async def _until(done: Callable[[], bool], what: str, patience: float = 120.0) -> None:
    deadline = time.monotonic() + patience
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"stall benchmark: {what} did not happen within {patience:g} s")
        await asyncio.sleep(0.01)


def _bench_account(**changes: Any) -> Any:
    """A C2C v2 account the reports of ``benchmarks.ingest_load`` are filed under."""
    from benchmarks.ingest import ACCOUNT
    from dialer.core.accounts import Account, ProviderKind

    account = Account(
        name=ACCOUNT,
        provider=ProviderKind.C2C_V2,
        url="https://c2c.invalid/api/v2/",
        region="IN",
        agent="+919876543210",
        options={"webhook_id": "sim-webhook"},
    )
    return dataclasses.replace(account, **changes)


@contextlib.asynccontextmanager
async def _window(
    home: Path,
    accounts: list[Any],
    secrets: Any,
    *,
    reporting: bool = False,
    timings: Any = None,
    receiver_port: int = 0,
) -> AsyncIterator[Any]:
    """The real window on a profile in ``home``, shown, with what start-up schedules done.
    ``reporting``: the tracker (at ``timings``) and the receiver (on ``receiver_port``)."""
    from dialer.app.profile import assemble
    from dialer.core.accounts import StaticAccounts
    from dialer.core.paths import AppPaths
    from dialer.ui.app import tune_collector
    from dialer.ui.main_window import MainWindow

    profile = assemble(
        AppPaths.under(home), StaticAccounts(accounts), secrets, demo=False, label="stall"
    )
    window = None
    collections: asyncio.Future[None] | None = None
    try:
        if reporting:
            await profile.start_reporting(receiver_port=receiver_port, timings=timings)
        window = MainWindow(profile)
        window.resize(1200, 800)
        window.show()
        await window.start()
        await window.history_panel.model.wait_loaded()
        await window.tasks.wait_idle()
        collections = asyncio.ensure_future(tune_collector(window.warm_up))  # as dialer does
        await asyncio.sleep(0.5)  # the first paints, the totals
        yield window
    finally:
        if collections is not None:
            collections.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await collections
        if window is not None:
            await window.shutdown()
            window.close()
            window.deleteLater()
        await profile.aclose()


# -- 1. calls in flight -------------------------------------------------------------------------


async def _calls_in_flight(home: Path, recorder: TickRecorder, remote: Any) -> Row:
    from dialer.app.demo import demo_accounts, demo_secrets
    from dialer.core.accounts import ProviderKind
    from dialer.core.limits import NO_LIMITS

    accounts = demo_accounts(remote, limits=NO_LIMITS).list()
    normal = next(a for a in accounts if a.provider is ProviderKind.C2C_V2)
    slow = dataclasses.replace(normal, name="C2C with a short read timeout", read_timeout=1.0)
    secrets = demo_secrets(remote)
    secrets.set(slow.secret_key, secrets.get(normal.secret_key) or "")
    async with _window(home, [*accounts, slow], secrets) as window:
        service = window.profile.service
        started = time.perf_counter()
        gaps, results = await recorder.during(
            asyncio.gather(
                *(
                    service.place_call(
                        f"+91886713{n:04d}", account=slow.name if n < TIMING_OUT else normal.name
                    )
                    for n in range(BURST)
                ),
                return_exceptions=True,
            )
        )
        wall = time.perf_counter() - started
    failed = sum(1 for r in results if isinstance(r, BaseException))
    return _row(
        recorder,
        f"{BURST} calls in flight, answered after {ANSWER_DELAY:g} s, {TIMING_OUT} timing out",
        gaps,
        f"; {failed} failed as timeouts, {wall:.1f} s wall",
    )


# -- 2. reports with the panel live -------------------------------------------------------------


async def _reports(home: Path, recorder: TickRecorder, count: int) -> Row:
    from benchmarks.ingest import _folded, _load, _place
    from dialer.core.calls import CallStatus
    from dialer.core.paths import AppPaths
    from dialer.core.secrets import MemorySecretStore
    from dialer.history import HistoryQuery
    from dialer.history.sqlite_store import SqliteHistory

    paths = AppPaths.under(home).ensure()
    history = SqliteHistory(paths.calls_db)
    await _place(history, count)  # the calls the reports are about, placed earlier
    history.close()
    async with _window(home, [_bench_account()], MemorySecretStore(), reporting=True) as window:
        await _folded(paths.calls_db)
        url = window.profile.receiver.url
        loop = asyncio.get_running_loop()
        gaps, result = await recorder.during(loop.run_in_executor(None, _load, url, count))
        query = HistoryQuery(statuses=(CallStatus.COMPLETED,))
        totals = await loop.run_in_executor(None, window.profile.history.totals, query)
        completed = totals.calls
    rate = count / float(result["seconds"])
    return _row(
        recorder,
        f"{count:,} reports to the window's receiver, panel live",
        gaps,
        f"; {rate:,.0f}/s, {completed:,} calls completed",
    )


# -- 3. contacts ---------------------------------------------------------------------------------


def _contacts_file(folder: Path, count: int) -> Path:
    from dialer.core.contacts import ContactStore, demo_contacts
    from dialer.core.contacts.csvio import export_csv

    folder.mkdir(parents=True, exist_ok=True)
    store = ContactStore(folder / "source.sqlite3")
    store.add_many(demo_contacts(count))
    path = folder / "contacts.csv"
    export_csv(store, path)
    store.close()
    return path


def _accept_import_dialogs() -> Any:
    """A timer that accepts the import's dialogs as the user would: Import on the column
    mapping (once it may be pressed), OK on the report."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from dialer.ui.contact_dialogs import CsvMappingDialog, ImportReportDialog

    def press() -> None:
        for widget in QApplication.topLevelWidgets():
            if not widget.isVisible():
                continue
            if isinstance(widget, CsvMappingDialog) and widget.ok_button.isEnabled():
                widget.ok_button.click()
            elif isinstance(widget, ImportReportDialog):
                widget.accept()

    timer = QTimer(interval=50)
    timer.timeout.connect(press)
    timer.start()
    return timer


async def _contacts(home: Path, recorder: TickRecorder, count: int) -> list[Row]:
    from PySide6.QtTest import QTest

    from dialer.core.secrets import MemorySecretStore
    from dialer.ui.contact_dialogs import import_contacts

    source = _contacts_file(home / "source", count)
    async with _window(home / "profile", [_bench_account()], MemorySecretStore()) as window:
        clicker = _accept_import_dialogs()

        async def imported() -> int:
            report = await import_contacts(window, window.profile, source)
            await window.search(window.search_edit.text())  # as the menu's import does
            return 0 if report is None else report.added

        try:
            import_gaps, added = await recorder.during(imported())
        finally:
            clicker.stop()
        window.search_edit.setFocus()

        async def typed() -> int:
            for key in SEARCH:
                QTest.keyClicks(window.search_edit, key)
                await asyncio.sleep(0.1)
            # The search starts once typing pauses (its timer), then runs as a task.
            await _until(lambda: not window._search_timer.isActive(), "the search starting")
            await window.tasks.wait_idle()
            return int(window.contacts_model.rowCount())

        search_gaps, found = await recorder.during(typed())
    return [
        _row(recorder, f"importing {count:,} contacts from CSV", import_gaps, f"; {added:,} added"),
        _row(
            recorder,
            f"typing '{SEARCH}' into the search, a key every 100 ms",
            search_gaps,
            f"; {found:,} found",
        ),
    ]


# -- 4. a big history ----------------------------------------------------------------------------


async def _big_history(home: Path, recorder: TickRecorder, count: int) -> list[Row]:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QAbstractSlider

    from benchmarks.history import history_file
    from dialer.core.paths import AppPaths
    from dialer.core.secrets import MemorySecretStore
    from dialer.ui.history_model import COLUMNS
    from dialer.ui.history_panel import FILTER_DELAY_MS

    source, _ = history_file(count)
    paths = AppPaths.under(home).ensure()
    await asyncio.get_running_loop().run_in_executor(None, shutil.copyfile, source, paths.calls_db)
    async with _window(home, [_bench_account()], MemorySecretStore()) as window:
        panel = window.history_panel
        model, view = panel.model, panel.view

        async def settled() -> None:
            await model.wait_loaded()
            await window.tasks.wait_idle()

        async def scrolled() -> int:
            bar = view.verticalScrollBar()
            for _ in range(50):
                bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepAdd)
                await asyncio.sleep(0.02)  # the paint, and any page it asked for
                await settled()
            return int(view.last_visible_row())

        scroll_gaps, last_row = await recorder.during(scrolled())
        column = next(n for n, c in enumerate(COLUMNS) if c.sort is not None and n > 0)
        header = view.horizontalHeader()

        async def sorted_by_click() -> None:
            x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
            QTest.mouseClick(
                header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
            )
            await asyncio.sleep(0.05)
            await settled()

        sort_gaps, _ = await recorder.during(sorted_by_click())
        panel.digits_edit.setFocus()

        async def filtered() -> int:
            for key in NUMBER_FILTER:
                QTest.keyClicks(panel.digits_edit, key)
                await asyncio.sleep(0.1)
            await asyncio.sleep(FILTER_DELAY_MS / 1000 + 0.05)
            await settled()
            return int(model.rowCount())

        filter_gaps, shown = await recorder.during(filtered())
    name = f"{count:,}-call history"
    return [
        _row(recorder, f"{name}: scrolling 50 pages", scroll_gaps, f"; to row {last_row:,}"),
        _row(recorder, f"{name}: sorting by {COLUMNS[column].title} (header click)", sort_gaps),
        _row(
            recorder,
            f"{name}: typing the number filter '{NUMBER_FILTER}'",
            filter_gaps,
            f"; {shown:,} rows loaded",
        ),
    ]


# -- 5. a keyring that hangs --------------------------------------------------------------------


async def _locked_keyring(home: Path, recorder: TickRecorder, remote: Any, delay: float) -> Row:
    from dialer.app.demo import demo_accounts, demo_secrets
    from dialer.core.accounts import ProviderKind
    from dialer.core.limits import NO_LIMITS
    from dialer.core.secrets import MemorySecretStore

    accounts = demo_accounts(remote, limits=NO_LIMITS).list()
    locked = next(a for a in accounts if a.provider is ProviderKind.C2C_V2)
    other = next(a for a in accounts if a.provider is ProviderKind.DIGIDONAR)
    known = demo_secrets(remote)
    locking = [False]

    class LockedKeyring(MemorySecretStore):
        """The OS keyring once it locked: reading a secret waits for its password."""

        def get(self, key: str) -> str | None:
            if locking[0] and key == locked.secret_key:
                time.sleep(delay)
            return known.get(key)

    async with _window(home, accounts, LockedKeyring()) as window:
        service = window.profile.service
        await service.place_call("+91 88671 35000", account=other.name)  # before it locked
        locking[0] = True

        async def both() -> tuple[str, float]:
            waiting = asyncio.ensure_future(
                service.place_call("+91 88671 35001", account=locked.name)
            )
            await asyncio.sleep(0.5)
            started = time.perf_counter()
            await service.place_call("+91 88671 35002", account=other.name)
            other_s = time.perf_counter() - started
            try:
                outcome = (await waiting).status.value
            except Exception as exc:  # the keyring's own timeout: the user is told
                outcome = type(exc).__name__
            return outcome, other_s

        gaps, (outcome, other_s) = await recorder.during(both())
    return _row(
        recorder,
        f"the keyring answering after {delay:g} s for one account",
        gaps,
        f"; that call {outcome}, another account's placed in {other_s * 1000:.0f} ms",
    )


# -- 6. the team database comes back ------------------------------------------------------------


@contextlib.contextmanager
def _team_database() -> Any:
    """A database of the stall benchmark's own, with a supervisor and an agent; dropped
    afterwards. ``None`` without a server."""
    import psycopg

    from benchmarks.team import ADMIN, _dsn, _login, _server
    from dialer.core.team import TeamRole
    from dialer.history import postgres_admin

    name = STALL_DATABASE
    try:
        conn = _server()
    except psycopg.Error:
        yield None
        return

    def drop() -> None:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for person in ("sue", "alice"):
            conn.execute(f'DROP ROLE IF EXISTS "{_login(name, person)}"')

    with conn:
        drop()
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ADMIN,)).fetchone():
            conn.execute(f'CREATE ROLE "{ADMIN}" LOGIN CREATEROLE')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{ADMIN}"')
        try:
            admin = _dsn(name, ADMIN)
            postgres_admin.setup(admin)
            postgres_admin.add_person(admin, _login(name, "sue"), TeamRole.SUPERVISOR, "bench")
            postgres_admin.add_person(admin, _login(name, "alice"), TeamRole.AGENT, "bench")
            yield name
        finally:
            drop()


def _changes(dsn: str, user: str, seconds: float) -> int:
    """Another agent's desktop committing ``CHANGES_PER_SECOND`` changes a second (a call
    placed, then its outcome), in a process of its own; how many it committed."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks.stall", "--changes", dsn, user, str(seconds)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return int(json.loads(done.stdout.strip().splitlines()[-1])["changes"])


async def _agent_changes(dsn: str, user: str, seconds: float) -> int:
    from benchmarks.ingest import bench_call
    from dialer.core.calls import CallStatus
    from dialer.core.team import TeamRole
    from dialer.history.postgres_store import PostgresHistory

    store = PostgresHistory(dsn, user=user, role=TeamRole.AGENT, password=lambda: "bench")
    changes = 0
    started = time.monotonic()
    try:
        n = 0
        while time.monotonic() - started < seconds:
            placed = bench_call(f"alice-{n:06d}", n, CallStatus.ACCEPTED, time.time())
            record = await store.insert(placed)
            await store.amend(record, status=CallStatus.COMPLETED, talk_seconds=30)
            changes += 2
            n += 1
            pause = started + changes / CHANGES_PER_SECOND - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
    finally:
        store.close()
    return changes


async def _team_comes_back(home: Path, recorder: TickRecorder, waiting: int, seconds: float) -> Row:
    from psycopg import conninfo

    from benchmarks.ingest import bench_call
    from benchmarks.team import SERVER_DSN, _dsn, _login
    from dialer.core.calls import CallStatus
    from dialer.core.paths import AppPaths
    from dialer.core.secrets import KeyringSecretStore, MemorySecretStore
    from dialer.core.team import TeamMembership, TeamRole, save_membership
    from dialer.history.factory import open_history
    from tests.team.tcp_proxy import TcpProxy  # the relay the team tests cut, shared

    title = (
        f"{waiting:,} calls sent as the team database comes back, {CHANGES_PER_SECOND} changes/s"
    )
    with _team_database() as database:
        if database is None:
            target = f"max <= {TARGET_MS:g} ms"
            return Row(f"stall: {title}", "skipped: no PostgreSQL server", target)
        server = conninfo.conninfo_to_dict(SERVER_DSN)
        host, port = str(server.get("host") or "127.0.0.1"), int(server.get("port") or 5432)
        relay = TcpProxy(host, port).start()
        relay.cut()
        try:
            paths = AppPaths.under(home).ensure()
            membership = TeamMembership(
                dsn=f"postgresql://127.0.0.1:{relay.port}/{database}",
                user=_login(database, "sue"),
                role=TeamRole.SUPERVISOR,
            )
            save_membership(paths.config_dir, membership)
            KeyringSecretStore().set(membership.secret_key, "bench")
            history = open_history(paths, send_in_background=False)  # placed while away
            now = time.time() - waiting
            for n in range(waiting):
                await history.insert(bench_call(f"sue-{n:06d}", n, CallStatus.COMPLETED, now + n))
            history.close()
            async with _window(home, [_bench_account()], MemorySecretStore()) as window:
                await _until(lambda: "offline" in window.team_status.text(), "going offline")
                loop = asyncio.get_running_loop()
                agent = _dsn(database, _login(database, "alice"))

                async def back() -> tuple[float, int]:
                    started = time.perf_counter()
                    changes = loop.run_in_executor(
                        None, _changes, agent, _login(database, "alice"), seconds
                    )
                    relay.restore()
                    await _until(
                        lambda: window.team_status.text() == "Team history: up to date",
                        "sending what waited",
                    )
                    sent_s = time.perf_counter() - started
                    return sent_s, await changes

                gaps, (sent_s, changes) = await recorder.during(back())
                await asyncio.sleep(1.0)  # the last notifications
                shown = window.history_panel.model.rowCount()
        finally:
            relay.close()
    return _row(
        recorder,
        title,
        gaps,
        f"; sent in {sent_s:.1f} s, {changes:,} changes heard, {shown:,} rows shown",
    )


# -- the run -----------------------------------------------------------------------------------


SCENARIOS = ("calls", "reports", "contacts", "history", "keyring", "team")


async def _measure(home: Path, quick: bool, why: bool, only: frozenset[str]) -> list[Row]:
    recorder = TickRecorder()
    with contextlib.ExitStack() as stack:
        if why:
            recorder.profile = stack.enter_context(LoopProfile())
        return await _scenarios(home, quick, recorder, only)


async def _scenarios(
    home: Path, quick: bool, recorder: TickRecorder, only: frozenset[str]
) -> list[Row]:
    from benchmarks.calls import _simulator_process

    rows: list[Row] = []
    if "calls" in only:
        with _simulator_process(ANSWER_DELAY) as remote:
            rows.append(await _calls_in_flight(home / "calls", recorder, remote))
    if "reports" in only:
        rows.append(await _reports(home / "reports", recorder, 4_000 if quick else 20_000))
    if "contacts" in only:
        rows += await _contacts(home / "contacts", recorder, 20_000 if quick else 100_000)
    if "history" in only:
        rows += await _big_history(home / "history", recorder, 100_000 if quick else 1_000_000)
    if "keyring" in only:
        with _simulator_process(0.0) as remote:
            delay = 3.0 if quick else KEYRING_DELAY
            rows.append(await _locked_keyring(home / "keyring", recorder, remote, delay))
    if "team" in only:
        seconds = 4.0 if quick else 10.0
        rows.append(await _team_comes_back(home / "team", recorder, 1_000, seconds))
    return rows


def run(
    *, quick: bool = False, why: bool = False, only: frozenset[str] = frozenset(SCENARIOS)
) -> list[Row]:
    """Runs its own qasync loop (the window lives on Qt's loop, as in the app). ``why``:
    print, for each scenario, which loop callbacks ran during its gaps over the target
    (:mod:`benchmarks.loop_profile`); ``only``: the scenarios to run (all by default)."""
    from benchmarks.qt_loop import run_in_a_home

    _memory_keyring()
    return run_in_a_home(lambda home: _measure(home, quick, why, only))


def _memory_keyring() -> None:
    """The team scenario's password goes to a keyring in this process, never the user's."""
    import keyring

    from tests.memory_keyring import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--changes"]:
        dsn, user, seconds = sys.argv[2], sys.argv[3], float(sys.argv[4])
        print(json.dumps({"changes": asyncio.run(_agent_changes(dsn, user, seconds))}))
        sys.exit(0)
    from benchmarks.table import print_table

    parser = argparse.ArgumentParser(prog="python -m benchmarks.stall")
    parser.add_argument("--quick", action="store_true", help="every scenario, smaller")
    parser.add_argument("--why", action="store_true", help="what ran during the late gaps")
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, help="this scenario (repeatable)"
    )
    args = parser.parse_args()
    only = frozenset(args.only or SCENARIOS)
    print_table(run(quick=args.quick, why=args.why, only=only))
