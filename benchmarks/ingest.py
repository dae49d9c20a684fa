"""Ingest: C2C v2 reports over loopback into the history, with the history panel open.

The app's side runs as the window does: one qasync loop (Qt offscreen) with a shown
``HistoryPanel`` listening to the ``SqliteHistory``, and the in-app ``WebhookReceiver``
serving from the history's writer thread.
The calls the reports describe are placed (stored open) first; the reports then come from
``benchmarks.ingest_load`` in a process of its own, 64 keep-alive connections.

Measured: reports per second from the first request to the last answer; lost (a call
without its report) and duplicated (a call with two, or a call "placed outside"); and
how long a stored report takes to reach the open panel (listener -> model flush). The
same load against a bare handler, served the same way (the receiver's HTTP server on the
writer's kind of loop thread), is the floor. The app's
CPU time per report (and its writer thread's, which serves the HTTP too and so bounds the
rate) is steadier than the rate on a machine whose speed varies. The load starts once the
writer has folded the placed calls into the digit totals (idle-time upkeep of the set-up).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.ingest_load import call_id
from benchmarks.table import Row

CONNECTIONS = 64
ACCOUNT = "Bench C2C"  # the account the placed calls and the reports are filed under
TARGET_RATE = 2000.0
TARGET_PANEL_MS = 100.0


def _load(url: str, count: int) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks.ingest_load", url, str(count), str(CONNECTIONS)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def _floor(count: int) -> float:
    """The same load against a handler that stores nothing, served as the receiver is (its
    HTTP server on a loop thread of its own): what the HTTP stack costs."""
    from dialer.core.threads import LoopThread

    thread = LoopThread("bench-floor")
    try:
        server = await thread.run(serve_bare_handler())
        port = server.addresses[0][1]
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, _load, f"http://127.0.0.1:{port}/floor", count)
        await thread.run(server.stop(1.0))
    finally:
        thread.close()
    return count / float(result["seconds"])


async def serve_bare_handler() -> Any:
    """The receiver's HTTP server on a free loopback port with a handler that answers as the
    receiver does, storing nothing; the ``HttpServer``."""
    from dialer.webhooks.http_server import HttpServer, Response

    class Bare:
        def check_head(self, request: Any) -> None:
            return None

        def body_too_large(self, request: Any) -> Response:
            return Response(413)

        async def handle(self, request: Any) -> Response:
            return Response(200, b'{"ok": true}', "application/json")

    server = HttpServer(Bare(), max_body=64 * 1024)
    await server.start("127.0.0.1", 0)
    return server


def bench_receiver(history: Any, *, serve_on: Any) -> Any:
    """The webhook receiver as the benchmarks run it: one C2C v2 account, no secrets."""
    from dialer.core.accounts import Account, ProviderKind, StaticAccounts
    from dialer.core.secrets import MemorySecretStore
    from dialer.webhooks.receiver import WebhookReceiver

    account = Account(
        name=ACCOUNT,
        provider=ProviderKind.C2C_V2,
        url="https://c2c.invalid/api/v2/",
        options={"webhook_id": "sim-webhook"},
    )
    return WebhookReceiver(
        history,
        StaticAccounts([account]),
        MemorySecretStore(),
        path_token="bench-token",  # noqa: S106 - a throw-away URL segment
        serve_on=serve_on,
    )


def bench_call(call_id: str, n: int, status: Any, created_at: float) -> Any:
    """The ``n``-th call of a benchmark, placed on ``ACCOUNT``: a ``CallRecord``."""
    from dialer.history import CallRecord

    return CallRecord(
        id=call_id,
        account=ACCOUNT,
        provider="c2c-v2",
        customer=f"+91{8867135000 + n % 1000}",
        agent="+919876543210",
        bridge="918068280000",
        status=status,
        created_at=created_at,
    )


async def _place(history: Any, count: int) -> None:
    from dialer.core.calls import CallStatus

    now = time.time() - count
    for first in range(0, count, 2000):
        await asyncio.gather(
            *(
                history.insert(bench_call(call_id(n), n, CallStatus.ACCEPTED, now + n))
                for n in range(first, min(count, first + 2000))
            )
        )


async def _measure(count: int, home: Path) -> list[Row]:
    from dialer.history.dispositions import DispositionList
    from dialer.history.sqlite_store import SqliteHistory
    from dialer.ui.history_panel import HistoryPanel
    from dialer.ui.tasks import TaskManager

    floor = await _floor(min(count, 10_000))
    history = SqliteHistory(home / "calls.sqlite3")
    await _place(history, count)
    tasks = TaskManager()
    panel = HistoryPanel(history, tasks, DispositionList.in_folder(home), accounts=[ACCOUNT])
    panel.resize(1200, 600)
    panel.show()
    await panel.model.wait_loaded()
    await tasks.wait_idle()
    await _folded(home / "calls.sqlite3")

    # Panel latency: a report's listener call (it is committed then) to the flush that
    # applies it; each flush applies everything queued before it.
    waiting: list[float] = []
    delays: list[float] = []

    def stored(_record: Any) -> None:
        waiting.append(time.perf_counter())

    def flushed(_updated: int, _inserted: int) -> None:
        now = time.perf_counter()
        delays.extend(now - t for t in waiting)
        waiting.clear()

    history.add_listener(stored)
    history.add_listener(panel.record_changed)
    panel.model.liveApplied.connect(flushed)
    receiver = bench_receiver(history, serve_on=history.writer_thread)  # as the window runs it
    history.call_listeners_on(asyncio.get_running_loop())
    url = await receiver.start()
    try:
        result, process_cpu, writer_cpu = await _timed_load(history, url, count)
        await asyncio.sleep(0.2)  # the last flush
        panel.model.flush()
    finally:
        await receiver.stop()
        await tasks.cancel_all()
        panel.close_panel()
        panel.deleteLater()
        history.close()

    lost, duplicated, completed = _count(home / "calls.sqlite3", count)
    ok_answers = int(result["statuses"].get("200", 0))
    rate = count / float(result["seconds"])
    delays.sort()
    p50 = delays[len(delays) // 2] * 1000 if delays else float("nan")
    p99 = delays[int(len(delays) * 0.99)] * 1000 if delays else float("nan")
    return [
        Row(
            f"ingest: {count:,} reports over loopback, panel open",
            f"{rate:,.0f}/s ({result['seconds']:.1f} s; {rate / floor:.2f}× a bare "
            f"handler, {floor:,.0f}/s)",
            f"≥ {TARGET_RATE:,.0f}/s",
            rate >= TARGET_RATE,
        ),
        Row(
            "ingest: answered 200 / lost / duplicated",
            f"{ok_answers:,} / {lost} / {duplicated} ({completed:,} calls completed)",
            f"{count:,} / 0 / 0",
            ok_answers == count and lost == 0 and duplicated == 0,
        ),
        Row(
            "ingest: the app's CPU per report (writer thread's)",
            f"{process_cpu / count * 1e6:.0f} µs ({writer_cpu / count * 1e6:.0f} µs)",
        ),
        Row(
            "ingest: stored report shown in the panel, p50 / p99",
            f"{p50:.0f} / {p99:.0f} ms",
            f"≤ {TARGET_PANEL_MS:.0f} ms",
            p99 <= TARGET_PANEL_MS,
        ),
    ]


async def _timed_load(history: Any, url: str, count: int) -> tuple[dict[str, Any], float, float]:
    """The load's result, and the CPU seconds the app and its writer thread spent meanwhile."""
    loop = asyncio.get_running_loop()
    writer_cpu = await history.writer_thread.run(_thread_time())
    process_cpu = time.process_time()
    result = await loop.run_in_executor(None, _load, url, count)
    process_cpu = time.process_time() - process_cpu
    writer_cpu = await history.writer_thread.run(_thread_time()) - writer_cpu
    return result, process_cpu, writer_cpu


async def _folded(path: Path, patience: float = 120.0) -> None:
    """Wait until the writer has folded the placed calls' changes into the digit totals
    (its idle-time upkeep): the load then measures the reports alone, not the set-up's
    leftovers. Read on a connection of its own: there is no event to wait on."""
    from dialer.history import digit_totals

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for _ in range(int(patience / 0.05)):
            if not digit_totals.waiting(db):
                return
            await asyncio.sleep(0.05)
    finally:
        db.close()
    raise RuntimeError(f"the digit totals were not folded within {patience:.0f} s")


async def _thread_time() -> float:
    """CPU time of the thread this runs on (the writer's: the receiver serves from it)."""
    return time.thread_time()


def _count(path: Path, count: int) -> tuple[int, int, int]:
    """(lost, duplicated, completed) as the file says, read on a connection of its own."""
    db = sqlite3.connect(path)
    calls = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    reported = db.execute("SELECT COUNT(DISTINCT call_id) FROM reports").fetchone()[0]
    reports = db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    completed = db.execute("SELECT COUNT(*) FROM calls WHERE status = 'completed'").fetchone()[0]
    db.close()
    return count - reported, (reports - reported) + (calls - count), completed


def run(*, quick: bool = False) -> list[Row]:
    """Runs its own qasync loop (the panel lives on Qt's loop, as in the app)."""
    from benchmarks.qt_loop import run_in_a_home

    count = 4_000 if quick else 20_000
    return run_in_a_home(lambda home: _measure(count, home))


if __name__ == "__main__":
    from benchmarks.table import print_table

    print_table(run(quick="--quick" in sys.argv))
