"""``dialer history`` over a real history file: filters, the table, CSV and JSON."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from dialer.cli.main import main
from dialer.core.calls import CallStatus
from dialer.core.paths import AppPaths
from dialer.history import CallOrigin, CallRecord
from dialer.history.export import COLUMNS
from dialer.history.sqlite_store import SqliteHistory


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()  # local time, as the command reads dates


CALLS = [
    CallRecord(id="a1", account="shop", provider="c2c-v2", customer="+918867135000",
               agent="+919876543210", bridge="918068280000", status=CallStatus.COMPLETED,
               created_at=at("2024-05-01 09:00:00"), answered=True, talk_seconds=125,
               billed_seconds=130),
    CallRecord(id="a2", account="shop", provider="c2c-v2", customer="+918867135111",
               agent="+919876543210", status=CallStatus.BUSY, created_at=at("2024-05-01 23:59:30"),
               answered=False),
    CallRecord(id="a3", account="branch", provider="kazoo", customer="+441632960000",
               agent="+441632960999", status=CallStatus.NO_ANSWER, disposition="\x1b[31mred",
               created_at=at("2024-05-02 00:00:10"), answered=False),
    CallRecord(id="a4", account="branch", provider="c2c-v2", customer="=HYPERLINK(\"x\")",
               status=CallStatus.COMPLETED, origin=CallOrigin.OUTSIDE,
               created_at=at("2024-05-03 12:00:00"), answered=True, talk_seconds=60,
               billed_seconds=60),
]  # fmt: skip


@pytest.fixture
def history_file(dialer_home: Path) -> Path:
    path = AppPaths.default().ensure().calls_db

    async def fill() -> None:
        store = SqliteHistory(path)
        try:
            for record in CALLS:
                await store.insert(record)
            await store.annotate("a1", note="promised a callback", disposition="sale")
        finally:
            store.close()

    asyncio.run(fill())
    return path


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def ids_in_json(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [row["id"] for row in json.loads(capsys.readouterr().out)]


@pytest.mark.usefixtures("history_file")
def test_the_table_lists_oldest_first_with_totals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history"]) == 0
    out = lines(capsys)
    assert out[0].split() == [
        "When", "Account", "Status", "Customer", "Contact", "Agent", "Bridge", "Talk", "Billed",
        "Disposition", "Origin",
    ]  # fmt: skip
    assert out[1].startswith("2024-05-01 09:00:00  shop") and "2:05" in out[1] and "sale" in out[1]
    assert out[4].startswith("2024-05-03 12:00:00  branch") and out[4].endswith("outside")
    assert out[1].endswith("app")
    assert "\x1b" not in "".join(out) and "?[31mred" in out[3]  # no escape reaches the terminal
    assert out[5] == "4 calls, 2 answered (50%), talk 3:05 (average 1:32), billed 3:10"
    assert main(["history", "--status", "failed"]) == 0
    assert lines(capsys)[1:] == ["No calls match."]


@pytest.mark.usefixtures("history_file")
def test_the_customer_is_named_from_the_contact_book_in_the_table_and_exports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dialer.core.contacts import Contact, ContactNumber, ContactStore

    book = ContactStore(AppPaths.default().contacts_db)
    book.add(Contact("Asha Rao", (ContactNumber("088671 35000"),), company="Kaveri Textiles"))
    book.add(Contact("Tom Hale", (ContactNumber("+441632960000"),)))
    book.close()

    assert main(["history"]) == 0
    out = lines(capsys)
    assert "Asha Rao, Kaveri Textiles" in out[1]  # stored nationally, called as +91
    assert "Tom Hale" in out[3] and "Asha" not in out[2] + out[3] + out[4]

    assert main(["history", "--json"]) == 0
    named = {r["id"]: (r["contact_name"], r["contact_company"]) for r in json.loads(
        capsys.readouterr().out)}  # fmt: skip
    assert named == {
        "a1": ("Asha Rao", "Kaveri Textiles"), "a2": ("", ""), "a3": ("Tom Hale", ""),
        "a4": ("", ""),
    }  # fmt: skip

    assert main(["history", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["customer"], r["contact_name"], r["contact_company"]) for r in rows][:2] == [
        ("+918867135000", "Asha Rao", "Kaveri Textiles"), ("+918867135111", "", ""),
    ]  # fmt: skip
    assert list(rows[0])[7:10] == ["customer", "contact_name", "contact_company"]


def test_a_history_listing_creates_no_contact_book(
    history_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--json"]) == 0
    assert ids_in_json(capsys) == ["a1", "a2", "a3", "a4"]
    assert not AppPaths.default().contacts_db.exists()


@pytest.mark.usefixtures("history_file")
def test_filters(capsys: pytest.CaptureFixture[str]) -> None:
    def ids(*argv: str) -> list[str]:
        assert main(["history", "--json", *argv]) == 0
        return ids_in_json(capsys)

    assert ids() == ["a1", "a2", "a3", "a4"]
    assert ids("--until", "2024-05-01") == ["a1", "a2"]  # the whole day, 23:59:30 included
    assert ids("--since", "2024-05-02") == ["a3", "a4"]
    assert ids("--since", "2024-05-01T12:00", "--until", "2024-05-02T00:00:10") == ["a2"]
    assert ids("--status", "completed,busy") == ["a1", "a2", "a4"]
    assert ids("--status", "busy", "--status", " No-Answer ") == ["a2", "a3"]
    assert ids("--account", "branch") == ["a3", "a4"]
    assert ids("--account", "branch", "--account", "shop", "--status", "busy") == ["a2"]
    assert ids("--number", "1632 960") == ["a3"]  # any digits, spaces ignored
    assert ids("--number", "9876543210") == ["a1", "a2"]  # the agent's number too


@pytest.mark.usefixtures("history_file")
@pytest.mark.parametrize(("argv", "words"), [
    (["--status", "done"], "Unknown status 'done'; choose from: placing, accepted,"),
    (["--since", "yesterday"], "--since 'yesterday' is not a date (YYYY-MM-DD)"),
    (["--until", "2024-02-30"], "--until '2024-02-30' is not a date"),
    (["--since", "2024-05-03", "--until", "2024-05-01"], "must be later than --since"),
    (["--number", "abc"], "--number 'abc' has no digits"),
])  # fmt: skip
def test_bad_filters_are_exit_2_and_one_sentence(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    assert main(["history", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("dialer: ") and words in err and err.count("\n") == 1


@pytest.mark.usefixtures("history_file")
def test_csv_export(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--csv", "--status", "completed"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert [r["id"] for r in rows] == ["a1", "a4"]
    assert tuple(rows[0]) == COLUMNS and "request" not in rows[0]
    assert rows[0]["note"] == "promised a callback" and rows[0]["disposition"] == "sale"
    assert rows[0]["customer"] == "+918867135000"  # a phone number stays readable
    assert rows[1]["customer"] == '\'=HYPERLINK("x")'  # a formula does not run
    assert rows[0]["answered"] == "yes" and rows[0]["talk_seconds"] == "125"
    assert datetime.fromisoformat(rows[0]["created_at"]).timestamp() == CALLS[0].created_at


@pytest.mark.usefixtures("history_file")
def test_json_export(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--json", "--account", "shop"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["a1", "a2"]
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["note"] == "promised a callback" and rows[1]["answered"] is False
    assert rows[1]["talk_seconds"] is None


def test_no_history_yet_prints_nothing_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], dialer_home: Path
) -> None:
    assert main(["history"]) == 0
    assert lines(capsys)[1:] == ["No calls match."]
    assert main(["history", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not AppPaths.default().calls_db.exists()


def test_history_as_a_real_process(history_file: Path, dialer_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dialer", "history", "--json", "--status", "completed,busy"],
        env={**os.environ, "DIALER_HOME": str(dialer_home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [row["id"] for row in json.loads(done.stdout)] == ["a1", "a2", "a4"]
    assert done.stderr == ""


def test_a_reader_that_stops_early_is_not_an_error(dialer_home: Path) -> None:
    path = AppPaths.default().ensure().calls_db

    async def fill() -> None:
        store = SqliteHistory(path)
        try:
            await asyncio.gather(
                *(
                    store.insert(replace(CALLS[0], id=f"many-{n}", created_at=1e9 + n))
                    for n in range(3000)
                )
            )
        finally:
            store.close()

    asyncio.run(fill())
    proc = subprocess.Popen(
        [sys.executable, "-m", "dialer", "history"],
        env={**os.environ, "DIALER_HOME": str(dialer_home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith("When")  # like `| head -1`
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert err == ""
