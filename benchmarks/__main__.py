"""Run every benchmark and print one table: measured figure, target, verdict.

    python -m benchmarks            # all
    python -m benchmarks --quick    # fewer iterations, for a smoke run

Timings are never asserted in tests; they are measured here, on this machine, and printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from benchmarks import calls, contacts, history, ingest, soak, stall, startup, team
from benchmarks.table import Row, print_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args(argv)
    rows: list[Row] = asyncio.run(calls.run(quick=args.quick))
    rows += asyncio.run(contacts.run(quick=args.quick))
    rows += asyncio.run(history.run(quick=args.quick))
    rows += ingest.run(quick=args.quick)  # its own qasync loop: the panel lives on Qt's
    rows += team.run(quick=args.quick)  # the team history on the machine's PostgreSQL
    rows += stall.run(quick=args.quick)  # the real window's event loop under load
    rows += startup.run(quick=args.quick)  # launches of the window, against a bare one
    rows += soak.run(quick=args.quick)  # a day of calls through the real window
    print_table(rows)
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
