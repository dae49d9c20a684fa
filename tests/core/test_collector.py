"""The garbage collector paused for bulk work: nested and concurrent pauses, and an import
of thousands of contacts that triggers no collection at all (each would hold the GIL, and so
the window's thread, for as long as it walks the heap)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dialer.core import collector
from dialer.core.contacts import ContactStore, demo_contacts
from dialer.core.contacts.csvio import export_csv, import_csv, preview_csv


def counted_until_stored(store: ContactStore, collections: list[int]) -> list[int]:
    """How many collections had run when the import stored its contacts, its last step
    inside the pause (the first allocation after it may well run a young collection)."""
    seen: list[int] = []
    add_many = store.add_many

    def storing(contacts: Any) -> int:
        added = add_many(contacts)
        seen.append(len(collections))
        return added

    store.add_many = storing  # type: ignore[method-assign]
    return seen


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of every collection that starts while the test runs."""
    started: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(note)
    yield started
    gc.callbacks.remove(note)


def test_pauses_nest_and_the_collector_comes_back_after_the_last() -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_pauses_on_two_threads_overlap() -> None:
    inside, leave = threading.Event(), threading.Event()

    def worker() -> None:
        with collector.paused():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(5)
    with collector.paused():
        pass
    assert not gc.isenabled()  # the worker's pause outlives this one
    leave.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_importing_thousands_of_contacts_runs_no_collection(
    tmp_path: Path, collections: list[int]
) -> None:
    source = ContactStore(tmp_path / "source.sqlite3")
    source.add_many(demo_contacts(5_000))
    path = tmp_path / "contacts.csv"
    export_csv(source, path)
    source.close()
    store = ContactStore(tmp_path / "contacts.sqlite3")
    mapping = preview_csv(path).mapping
    seen = counted_until_stored(store, collections)
    gc.collect()  # counts from zero: the few objects made before the pause trigger none
    collections.clear()
    report = import_csv(store, path, mapping, default_region="IN")
    assert report.added == 5_000
    assert seen == [0]
    store.close()


def test_importing_a_vcard_file_runs_no_collection(tmp_path: Path, collections: list[int]) -> None:
    from dialer.core.contacts.vcard import import_vcard

    cards = (
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {n}\r\nTEL;TYPE=CELL:+91 88671 {n:05d}\r\n"
        "END:VCARD\r\n"
        for n in range(2_000)
    )
    path = tmp_path / "contacts.vcf"
    path.write_text("".join(cards), encoding="utf-8")
    store = ContactStore(tmp_path / "contacts.sqlite3")
    seen = counted_until_stored(store, collections)
    gc.collect()  # counts from zero: the few objects made before the pause trigger none
    collections.clear()
    report = import_vcard(store, path, default_region="IN")
    assert report.added == 2_000
    assert seen == [0]
    store.close()


def test_a_big_list_is_dropped_a_slice_at_a_time() -> None:
    rows = [(n, f"name {n}") for n in range(collector.DROP_CHUNK * 3 + 7)]
    kept = rows[-1]
    collector.drop_in_chunks(rows)
    assert rows == []
    assert kept == (collector.DROP_CHUNK * 3 + 6, f"name {collector.DROP_CHUNK * 3 + 6}")


async def test_full_collections_run_on_the_windows_schedule_and_only_then() -> None:
    """While the schedule runs, no allocation starts a full collection (young ones go on);
    the schedule runs one each period; once it ends, Python's own rule is back."""
    import asyncio

    before = gc.get_threshold()
    full: list[float] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(asyncio.get_running_loop().time())

    schedule = asyncio.ensure_future(collector.collect_fully_now_and_then(every=0.2))
    await asyncio.sleep(0)  # it has set its thresholds
    gc.callbacks.append(note)
    try:
        started = asyncio.get_running_loop().time()
        for _ in range(300):  # far more than Python's rule needs to start full collections
            cycles: list[list[Any]] = [[] for _ in range(2_000)]
            for item in cycles:
                item.append(item)
            del cycles
            await asyncio.sleep(0)
        assert all(at - started >= 0.2 for at in full)  # only the schedule's
        await asyncio.sleep(0.25)
        assert full  # the schedule's came
    finally:
        gc.callbacks.remove(note)
        schedule.cancel()
        with pytest.raises(asyncio.CancelledError):
            await schedule
    assert gc.get_threshold() == before
