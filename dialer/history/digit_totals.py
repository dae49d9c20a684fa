"""Totals of the calls whose numbers hold a run of one to three digits, kept ahead of time.

A search for three digits ("919") can match a third of the history: at a million calls,
reading every match to total it takes a third of a second, however they are found. But
there are only 1,110 runs of one to three digits, so their totals can be kept: the
panel's footer for such a search is then one row read, plus the changes not yet added in.

The writer does not add a call to up to fifty runs' totals on each write (that would
cost the ingest rate): each write that changes what is totalled appends one row to
``digit_changes`` (the numbers and the change), in the same transaction, and the writer
folds those rows into ``digit_totals`` in small steps when it has had nothing to write for
a moment (or, past a bound, whatever the load). Totals are ``digit_totals`` plus the
matching rows of ``digit_changes``, so they are exact at every moment, folded or not.

A file upgraded from schema 3 holds calls that are in neither table: ``digit_build.upto``
is then the first call's rowid not yet counted, and the same steps count the calls in
rowid order (dropping the changes of the calls they count: their rows already hold them)
until none is left and ``upto`` becomes NULL. Until then searches total the slow way.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable
from typing import Any

# Schema 4. `digit_changes.call` is the call's rowid while the totals are being built (the
# build drops the changes of the calls it reaches), else NULL.
SCHEMA = (
    """CREATE TABLE digit_totals (
        digits          TEXT PRIMARY KEY,
        calls           INTEGER NOT NULL,
        answered        INTEGER NOT NULL,
        talk_seconds    INTEGER NOT NULL,
        billed_seconds  INTEGER NOT NULL,
        charge          REAL NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE digit_changes (
        id              INTEGER PRIMARY KEY,
        call            INTEGER,
        numbers         TEXT NOT NULL,
        calls           INTEGER NOT NULL,
        answered        INTEGER NOT NULL,
        talk_seconds    INTEGER NOT NULL,
        billed_seconds  INTEGER NOT NULL,
        charge          REAL NOT NULL
    )""",
    "CREATE TABLE digit_build (upto INTEGER)",
    # Nothing to count in a new file; an upgraded one counts its calls from the first.
    "INSERT INTO digit_build SELECT MIN(rowid) FROM calls",
)

# The longest run kept: a search for more digits matches few enough calls to read them.
LONGEST = 3

# Rows (calls or changes) per step: about 10 ms here (20 on a slow day), so a write that
# comes meanwhile waits no longer than that.
STEP = 250

# The five sums every kept total holds (per run here, per day in the store's `call_days`),
# in SQL: added to by an upsert, and added up over rows.
ADD_SUMS = (
    "calls = calls + excluded.calls, answered = answered + excluded.answered, "
    "talk_seconds = talk_seconds + excluded.talk_seconds, "
    "billed_seconds = billed_seconds + excluded.billed_seconds, "
    "charge = charge + excluded.charge"
)
SUM_SUMS = (
    "COALESCE(SUM(calls), 0), COALESCE(SUM(answered), 0), "
    "COALESCE(SUM(talk_seconds), 0), COALESCE(SUM(billed_seconds), 0), "
    "COALESCE(SUM(charge), 0)"
)

_ADD = f"INSERT INTO digit_totals VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET {ADD_SUMS}"

Change = tuple[Any, ...]  # (numbers, calls, answered, talk_seconds, billed_seconds, charge)


# One number's runs take about 3.4 KB: 65,536 cached numbers grew a window placing calls to
# new customers by 8 MB per 1,000 calls, for 220 MB (benchmarks/soak.py). What repeats on
# every call is the agents' and bridges' numbers, a few: those stay cached; a customer's
# runs cost 20 µs to work out again.
RUNS_CACHED = 1024


@functools.lru_cache(maxsize=RUNS_CACHED)
def runs(digits: str) -> frozenset[str]:
    """Every run of one to ``LONGEST`` digits in one number's digits (the agents' numbers
    repeat on every call, so the most recent are cached)."""
    return frozenset(
        digits[start : start + size]
        for size in range(1, LONGEST + 1)
        for start in range(len(digits) - size + 1)
    )


def runs_of(numbers: str) -> frozenset[str]:
    """The runs of a call's ``numbers`` column (its numbers' digits, space-separated): a run
    never spans two numbers, as a search never does."""
    found: frozenset[str] = frozenset()
    for part in numbers.split(" "):
        found |= runs(part)
    return found


def sums_by_run(changes: Iterable[Change]) -> dict[str, list[Any]]:
    """The changes added up by run: run -> [calls, answered, talk, billed, charge]."""
    sums: dict[str, list[Any]] = {}
    for numbers, calls, answered, talk, billed, charge in changes:
        for run in runs_of(numbers):
            total = sums.get(run)
            if total is None:
                sums[run] = [calls, answered, talk, billed, charge]
            else:
                total[0] += calls
                total[1] += answered
                total[2] += talk
                total[3] += billed
                total[4] += charge
    return sums


def add(db: sqlite3.Connection, sums: dict[str, list[Any]]) -> None:
    """Add ``sums`` to the kept totals."""
    db.executemany(_ADD, [(run, *total) for run, total in sums.items() if any(total)])


def building(db: sqlite3.Connection) -> bool:
    """Whether calls are still being counted (an upgraded file's first steps)."""
    return db.execute("SELECT upto FROM digit_build").fetchone()[0] is not None


def record(db: sqlite3.Connection, changes: list[tuple[Any, ...]]) -> int:
    """Append the writer's ``(call rowid or None, numbers, calls, answered, talk, billed,
    charge)`` changes, leaving out the ones that change nothing; how many it appended."""
    rows = [change for change in changes if any(change[2:])]
    db.executemany(
        "INSERT INTO digit_changes (call, numbers, calls, answered, talk_seconds, "
        "billed_seconds, charge) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def step(db: sqlite3.Connection, size: int) -> bool:
    """One step, inside the caller's write transaction: count the next ``size`` calls of
    an upgraded file, else fold the oldest ``size`` changes. Whether more remains."""
    (upto,) = db.execute("SELECT upto FROM digit_build").fetchone()
    if upto is not None:
        calls = db.execute(
            "SELECT rowid, numbers, 1, COALESCE(answered, 0), COALESCE(talk_seconds, 0), "
            "COALESCE(billed_seconds, 0), COALESCE(charge, 0) FROM calls "
            "WHERE rowid >= ? ORDER BY rowid LIMIT ?",
            (upto, size),
        ).fetchall()
        add(db, sums_by_run(row[1:] for row in calls))
        done = len(calls) < size
        after = None if done else calls[-1][0] + 1
        # Those calls' rows hold their changes: they are counted, the changes must not be.
        if done:
            db.execute("DELETE FROM digit_changes WHERE call >= ?", (upto,))
        else:
            db.execute("DELETE FROM digit_changes WHERE call >= ? AND call < ?", (upto, after))
        db.execute("UPDATE digit_build SET upto = ?", (after,))
        return True  # the changes still wait to be folded, if any
    changes = db.execute(
        "SELECT id, numbers, calls, answered, talk_seconds, billed_seconds, charge "
        "FROM digit_changes ORDER BY id LIMIT ?",
        (size,),
    ).fetchall()
    if not changes:
        return False
    add(db, sums_by_run(row[1:] for row in changes))
    db.execute("DELETE FROM digit_changes WHERE id <= ?", (changes[-1][0],))
    return len(changes) == size


def waiting(db: sqlite3.Connection) -> int:
    """How many changes wait to be folded: the span of their ids, read off the table's
    b-tree ends (a count would read them all). Exact but for the gaps a build leaves."""
    row = db.execute("SELECT MAX(id) - MIN(id) + 1 FROM digit_changes").fetchone()
    return int(row[0] or 0)


def totals(db: sqlite3.Connection, digits: str) -> tuple[Any, ...] | None:
    """The totals of the calls whose numbers hold ``digits`` (one to ``LONGEST`` digits),
    or None while an upgraded file's calls are still being counted."""
    if building(db):
        return None
    kept = db.execute(
        "SELECT calls, answered, talk_seconds, billed_seconds, charge FROM digit_totals "
        "WHERE digits = ?",
        (digits,),
    ).fetchone() or (0, 0, 0, 0, 0.0)
    pending = db.execute(
        f"SELECT {SUM_SUMS} FROM digit_changes WHERE instr(numbers, ?) > 0",
        (digits,),
    ).fetchone()
    return tuple(a + b for a, b in zip(kept, pending, strict=True))
