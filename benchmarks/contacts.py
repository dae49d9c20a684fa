"""The contact book at 100,000 contacts: bulk insert, search as one types, paging.

Everything runs against a real SQLite file in a temporary folder, opened afresh after the
insert (as the app does at start), with demo contacts (``demo_contacts``: mostly Indian
names and mobiles, some UK/US). Search is timed per query over about fifty typical ones,
after one search has loaded the search keys (that first search is shown on its own):

- two letters taken from names (the commonest query: an agent types two letters, Enter);
- four digits taken from numbers, some as the national form with its leading 0;
- full names; the empty query (everyone, in display order).

``get_many`` is timed for 100-row pages at spread offsets of the empty query's result,
which is how the window pages through a search.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.table import Row
from dialer.core.contacts import ContactStore, demo_contacts

SEARCH_TARGET_MS = 30.0
PAGE_TARGET_MS = 5.0
PAGE = 100
HISTORY_PAGE = 200  # the history panel's page (dialer.ui.history_model.PAGE_SIZE)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _queries(rng: random.Random, names: list[str], numbers: list[str]) -> dict[str, list[str]]:
    def two_letters() -> str:
        while True:
            name = rng.choice(names).lower()
            start = rng.randrange(max(len(name) - 1, 1))
            pair = name[start : start + 2]
            if len(pair) == 2 and pair.isalpha():
                return pair

    def four_digits() -> str:
        number = rng.choice(numbers)
        if rng.random() < 0.3:
            return "0" + number[3:6]  # the national form of an Indian mobile: 0 + 3 digits
        start = rng.randrange(1, len(number) - 4)
        return number[start : start + 4]

    return {
        "2 letters": [two_letters() for _ in range(20)],
        "4 digits": [four_digits() for _ in range(15)],
        "full name": [rng.choice(names) for _ in range(10)],
        "empty": [""] * 5,
    }


def _timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _search_rows(label: str, store: ContactStore, queries: dict[str, list[str]]) -> list[Row]:
    rows: list[Row] = []
    everything: list[float] = []
    for kind, texts in queries.items():
        samples, matched = [], []
        for query in texts:
            started = time.perf_counter()
            found = store.search_ids(query)
            samples.append((time.perf_counter() - started) * 1000)
            matched.append(len(found))
        everything += samples
        p50, p95 = _percentile(samples, 50), _percentile(samples, 95)
        rows.append(Row(
            f"{label}: search_ids, {kind} ({len(texts)} queries, median "
            f"{statistics.median(matched):,.0f} matches), p50 / p95",
            f"{p50:.1f} / {p95:.1f} ms", f"<= {SEARCH_TARGET_MS:g} ms", p95 <= SEARCH_TARGET_MS,
        ))  # fmt: skip
    p50, p95 = _percentile(everything, 50), _percentile(everything, 95)
    rows.append(Row(
        f"{label}: search_ids, all {len(everything)} queries, p50 / p95",
        f"{p50:.1f} / {p95:.1f} ms", f"<= {SEARCH_TARGET_MS:g} ms", p95 <= SEARCH_TARGET_MS,
    ))  # fmt: skip
    return rows


def _page_rows(
    label: str, store: ContactStore, rng: random.Random, pages: int, numbers: list[str]
) -> list[Row]:
    ids = store.search_ids("")
    page_samples = []
    for _ in range(pages):
        start = rng.randrange(0, max(len(ids) - PAGE, 1))
        page_samples.append(_timed_ms(partial(store.get_many, ids[start : start + PAGE])))
    p50, p95 = _percentile(page_samples, 50), _percentile(page_samples, 95)
    who_samples = [_timed_ms(partial(store.find_by_number, number)) for number in numbers[:20]]
    # A history page's customers, half of them in the book: the Contact column's lookup.
    owner_samples = []
    for _ in range(30):
        page = [
            rng.choice(numbers) if rng.random() < 0.5 else f"+9170{rng.randrange(10**8):08d}"
            for _ in range(HISTORY_PAGE)
        ]
        owner_samples.append(_timed_ms(partial(store.owners, page)))
    owners_p95 = _percentile(owner_samples, 95)
    return [
        Row(
            f"{label}: get_many of a {PAGE}-row page ({pages} pages), p50 / p95",
            f"{p50:.2f} / {p95:.2f} ms", f"<= {PAGE_TARGET_MS:g} ms", p95 <= PAGE_TARGET_MS,
        ),
        Row(
            f"{label}: find_by_number (who is calling), p50",
            f"{_percentile(who_samples, 50):.1f} ms",
        ),
        Row(
            f"{label}: owners of a {HISTORY_PAGE}-call history page (Contact column), p50 / p95",
            f"{_percentile(owner_samples, 50):.2f} / {owners_p95:.2f} ms",
            f"<= {PAGE_TARGET_MS:g} ms", owners_p95 <= PAGE_TARGET_MS,
        ),
    ]  # fmt: skip


async def run(*, quick: bool) -> list[Row]:
    count = 20_000 if quick else 100_000
    label = f"contacts ({count // 1000}k)"
    rng = random.Random(2024)
    contacts = demo_contacts(count)
    names = [c.name for c in contacts]
    numbers = [n.number for c in contacts for n in c.numbers if n.number.startswith("+91")]
    with tempfile.TemporaryDirectory(prefix="dialer-contacts-bench-") as folder:
        path = Path(folder) / "contacts.sqlite3"
        store = ContactStore(path)
        started = time.perf_counter()
        store.add_many(contacts)
        insert_s = time.perf_counter() - started
        store.close()
        size_mb = path.stat().st_size / 1e6

        open_ms = _timed_ms(lambda: ContactStore(path).close())
        store = ContactStore(path)
        first_ms = _timed_ms(lambda: store.search_ids("ra"))
        measured = ContactStore(path)  # the same load again, its memory traced (slower)
        tracemalloc.start()
        measured.search_ids("ra")
        index_mb = tracemalloc.get_traced_memory()[0] / 1e6
        tracemalloc.stop()
        measured.close()
        rows = [
            Row(
                f"{label}: add_many of {count:,} demo contacts (one transaction)",
                f"{insert_s:.2f} s ({count / insert_s:,.0f}/s), file {size_mb:.0f} MB",
            ),
            Row(f"{label}: open the store (reads no contact)", f"{open_ms:.1f} ms"),
            Row(
                f"{label}: first search after opening (reads every search key)",
                f"{first_ms:.0f} ms, then {index_mb:.0f} MB held",
            ),
        ]
        rows += _search_rows(label, store, _queries(rng, names, numbers))
        rows += _page_rows(label, store, rng, 20 if quick else 100, numbers)
        store.close()
    return rows


if __name__ == "__main__":
    import asyncio
    import sys

    from benchmarks.table import print_table

    table = asyncio.run(run(quick="--quick" in sys.argv))
    print_table(table)
