"""The ingest path counted in instructions (valgrind's callgrind), not seconds.

    python -m benchmarks.ingest_instructions

A shared machine's speed can change by half within an hour, and so does the ingest rate
(``benchmarks.ingest``); the instructions a report costs do not. Three set-ups, each run
in a process of its own under callgrind with the load in the same process (8 keep-alive
connections, ``benchmarks.ingest_load``), each twice (SMALL and LARGE reports), so that the
difference over the extra reports is one report's cost without start-up and set-up:

- ``floor``: the receiver's HTTP server with a handler that stores nothing, and the load;
- ``receiver``: the webhook receiver with a history that keeps nothing (parse, check, answer);
- ``store``: the receiver into a real ``SqliteHistory``, served from its writer thread as the
  window serves it, the calls placed first and their digit totals folded before the load.

receiver - floor is what the receiver adds to HTTP; store - receiver is what storing adds.
Informative rows, no targets: for comparing two versions of the code on any machine.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.ingest_load import deliver
from benchmarks.table import Row

SMALL, LARGE = 100, 600
CONNECTIONS = 8
MODES = ("floor", "receiver", "store")


def _instructions(valgrind: str, mode: str, count: int) -> int:
    """Instructions callgrind counted in a whole run of ``mode`` with ``count`` reports."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        subprocess.run(  # noqa: S603 - valgrind and our own interpreter and module
            [
                valgrind,
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "benchmarks.ingest_instructions",
                "--child",
                mode,
                str(count),
            ],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        for line in out.read_text().splitlines():
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("callgrind wrote no totals")


def run() -> list[Row]:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return [Row("ingest instructions per report", "not measured: valgrind is not installed")]
    per_report = {
        mode: (_instructions(valgrind, mode, LARGE) - _instructions(valgrind, mode, SMALL))
        / (LARGE - SMALL)
        for mode in MODES
    }
    floor, receiver, store = (per_report[mode] for mode in MODES)
    return [
        Row("ingest instructions per report: HTTP and load (bare handler)", f"{floor:,.0f}"),
        Row("ingest instructions per report: the receiver adds", f"{receiver - floor:,.0f}"),
        Row("ingest instructions per report: storing adds", f"{store - receiver:,.0f}"),
        Row("ingest instructions per report: in all (load included)", f"{store:,.0f}"),
    ]


# -- the child: one set-up, under callgrind ------------------------------------------------


async def _child(mode: str, count: int) -> None:
    from benchmarks.ingest import bench_receiver, serve_bare_handler

    with tempfile.TemporaryDirectory() as folder:
        history = await _placed_history(Path(folder) / "calls.sqlite3") if mode == "store" else None
        try:
            if mode == "floor":
                server = await serve_bare_handler()
                url = f"http://127.0.0.1:{server.addresses[0][1]}/floor"
                stop = functools.partial(server.stop, 1.0)
            else:
                receiver = bench_receiver(
                    history or _KeepsNothing(),
                    serve_on=history.writer_thread if history is not None else None,
                )
                url, stop = await receiver.start(), receiver.stop
            result = await deliver(url, count, CONNECTIONS)
            await stop()
        finally:
            if history is not None:
                history.close()
    if result["statuses"] != {"200": count}:
        raise RuntimeError(f"not every report was answered 200: {result['statuses']}")


class _KeepsNothing:
    """A history that stores nothing: the receiver's own work, measured alone."""

    class _Record:
        id = "kept-nowhere"
        origin = "app"

    async def ingest(self, _report: object) -> object:
        return self._Record


async def _placed_history(path: Path) -> Any:
    """A history holding the LARGE calls the reports name, folded (see the module doc)."""
    from benchmarks.ingest import _folded, _place
    from dialer.history.sqlite_store import SqliteHistory

    history = SqliteHistory(path)
    await _place(history, LARGE)
    await _folded(path)
    return history


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        asyncio.run(_child(sys.argv[2], int(sys.argv[3])))
    else:
        from benchmarks.table import print_table

        print_table(run())
