"""History export: CSV and JSON, written as the records stream past (a million rows never
sit in memory). The history panel and ``dialer history --csv/--json`` write the same files.

Columns: every field of :meth:`CallRecord.as_dict` but the request that was sent (it is in
the call's details), the supervisor's note and disposition included, and after the customer's
number the contact it belongs to (``contact_name``, ``contact_company``; empty when it is
nobody's) as the exporting profile's contact book has it now, looked up a chunk of rows at a
time. Times are ISO 8601 in
local time with the UTC offset ("2024-05-01T10:22:03+05:30"): readable in a spreadsheet and
unambiguous for a program. A stored value no calendar holds (or a number that is not finite)
is exported as unknown, so that one odd row never stops an export. In CSV, ``answered`` is
``yes``/``no`` and an unknown value is an empty cell; in JSON it is ``true``/``false``/``null``.

CSV is read by spreadsheets, which run a cell that starts with ``=``, ``+``, ``-`` or ``@``
as a formula, and some report data (a name or a number in a call placed outside the app)
comes from the provider. Such text cells get a leading apostrophe, the usual neutraliser
(tab and carriage return too). One exception keeps phone numbers readable: a cell that is
only a phone number ("+91 98765 43210": a ``+``, digits and the spaces, dashes, dots and
brackets people write numbers with) is left as it is. Those characters can form arithmetic
at worst, never a function call, a link or a DDE command, and an apostrophe would show up
in front of every number in most spreadsheets. Numeric columns are written as numbers.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, Protocol, TextIO

from dialer.core.times import local_iso
from dialer.history.records import CallRecord

_TIME_FIELDS = frozenset({"created_at", "started_at", "ended_at"})

_CONTACT_FIELDS = ("contact_name", "contact_company")
# as_dict's keys, in its order, less the request, and the customer's contact after the
# customer: the columns follow the record as it grows.
COLUMNS: tuple[str, ...] = tuple(
    column
    for key in CallRecord(id="", account="", provider="", customer="").as_dict()
    if key != "request"
    for column in ((key, *_CONTACT_FIELDS) if key == "customer" else (key,))
)
_OWNER_CHUNK = 500  # rows whose contacts are looked up together


class NumberOwner(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def company(self) -> str: ...


class ContactBook(Protocol):
    """Who numbers belong to (:class:`~dialer.core.contacts.ContactStore` is one)."""

    def owners(self, numbers: Iterable[str]) -> Mapping[str, NumberOwner]: ...


def contact_text(owner: NumberOwner | None) -> str:
    """A contact as the history's Contact column names it: "Asha Rao, Kaveri Textiles"."""
    if owner is None:
        return ""
    return ", ".join(part for part in (owner.name, owner.company) if part)


def with_owners(
    records: Iterable[CallRecord], contacts: ContactBook | None
) -> Iterator[tuple[CallRecord, NumberOwner | None]]:
    """Each record with the contact its customer's number belongs to (None: nobody's, or
    no contact book), looked up for a chunk of records at a time."""
    if contacts is None:  # each row written as it is read
        yield from ((record, None) for record in records)
        return
    iterator = iter(records)
    while chunk := list(islice(iterator, _OWNER_CHUNK)):
        owners = contacts.owners({r.customer for r in chunk if r.customer})
        for record in chunk:
            yield record, owners.get(record.customer)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_NUMBER = re.compile(r"\+?[0-9][0-9 ().\-]*")


# A team history's exports say who placed each call (empty for calls placed outside the app).
TEAM_COLUMNS: tuple[str, ...] = (*COLUMNS[:1], "user", *COLUMNS[1:])


def export_row(
    record: CallRecord, *, team: bool = False, owner: NumberOwner | None = None
) -> dict[str, Any]:
    """One record as the export writes it (JSON types; times as local ISO 8601); ``team``
    adds who placed it, ``owner`` is the contact the customer's number belongs to."""
    values = {
        **record.as_dict(),
        "user": record.user,
        "contact_name": owner.name if owner else "",
        "contact_company": owner.company if owner else "",
    }
    row: dict[str, Any] = {}
    for key in TEAM_COLUMNS if team else COLUMNS:
        value = values[key]
        if key in _TIME_FIELDS and value is not None:
            value = local_iso(value)
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        row[key] = value
    return row


def safe_cell(value: Any) -> Any:
    """A value as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _PHONE_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(
    records: Iterable[CallRecord],
    out: TextIO,
    *,
    team: bool = False,
    contacts: ContactBook | None = None,
) -> int:
    """Write a header and one row per record; returns how many records were written."""
    writer = csv.writer(out)
    columns = TEAM_COLUMNS if team else COLUMNS
    writer.writerow(columns)
    count = 0
    for record, owner in with_owners(records, contacts):
        row = export_row(record, team=team, owner=owner)
        writer.writerow([safe_cell(row[key]) for key in columns])
        count += 1
    return count


def write_json(
    records: Iterable[CallRecord],
    out: TextIO,
    *,
    team: bool = False,
    contacts: ContactBook | None = None,
) -> int:
    """Write a JSON array of one object per record, one record per line; returns the count."""
    count = 0
    out.write("[")
    for record, owner in with_owners(records, contacts):
        row = export_row(record, team=team, owner=owner)
        out.write(",\n" if count else "\n")
        out.write(json.dumps(row, ensure_ascii=False, allow_nan=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
