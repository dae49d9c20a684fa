"""The contact book: SQLite in the data folder (``contacts.sqlite3``), searched as one types.

Every row carries three columns computed once, when it is written, so that neither opening
nor searching folds 100,000 names again:

- ``sort_key``: the name, case- and accent-folded (:func:`normalise`): the display order is
  favourites first, then ``sort_key``, then ``id``;
- ``search_text``: the folded name and company, which a query's words are looked for in;
- ``search_digits``: the digit strings of every number (the full international digits, and
  the national form with its trunk ``0`` where the country writes one).

One index holds ``(favourite DESC, sort_key, id, search_text, search_digits)``: reading the
search columns in display order never touches the table. The search itself runs on those
columns in memory (``search.py`` says why and measures the alternatives: an SQL ``instr()``
scan of that index, and FTS5 trigrams).

Like the call log: WAL, the schema version in ``PRAGMA user_version``, a file from a newer
version refused untouched, one connection behind a lock so that any thread may call in.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

from dialer.core import collector
from dialer.core.contacts.model import (
    Contact,
    ContactNumber,
    normalise,
    number_keys,
    number_search_text,
)
from dialer.core.contacts.search import SearchIndex, parse_query
from dialer.core.errors import InvalidInput
from dialer.core.sqlite import immediate_transaction, open_migrated

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    company        TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    notes          TEXT NOT NULL DEFAULT '',
    favourite      INTEGER NOT NULL DEFAULT 0,
    numbers        TEXT NOT NULL DEFAULT '',  -- number US label RS number US label ...
    sort_key       TEXT NOT NULL,
    search_text    TEXT NOT NULL,
    search_digits  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_search
    ON contacts (favourite DESC, sort_key, id, search_text, search_digits);
"""
MIGRATIONS = (_SCHEMA,)  # schema n + 1 = an upgrade step appended here
SCHEMA_VERSION = len(MIGRATIONS)

# Every statement is a constant; values are always bound.
_INSERT = (
    "INSERT INTO contacts (name, company, email, notes, favourite, numbers, sort_key, "
    "search_text, search_digits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE = (
    "UPDATE contacts SET name = ?, company = ?, email = ?, notes = ?, favourite = ?, "
    "numbers = ?, sort_key = ?, search_text = ?, search_digits = ? WHERE id = ?"
)
_SELECT_ONE = (
    "SELECT id, name, company, email, notes, favourite, numbers FROM contacts WHERE id = ?"
)
_SELECT_MANY = (
    "SELECT id, name, company, email, notes, favourite, numbers FROM contacts "
    "WHERE id IN (SELECT value FROM json_each(?))"
)
_SELECT_KEYS = (
    "SELECT id, search_text, search_digits FROM contacts INDEXED BY contacts_search "
    "ORDER BY favourite DESC, sort_key, id"
)
_POSITION = (
    "SELECT (SELECT count(*) FROM contacts WHERE favourite > :f) + "
    "(SELECT count(*) FROM contacts WHERE favourite = :f AND (sort_key, id) < (:s, :i))"
)
# Nameless contacts (a number only) sort after every name.
_NAMELESS = "\U0010ffff"
_IN_CHUNK = 1000  # ids per get_many statement
_MIN_LOOKUP_DIGITS = 6  # find_by_number: shorter input is an extension, not a caller


def _printable(text: str) -> str:
    """``text`` stripped, with control characters (tabs, the separators below) as spaces."""
    text = text.strip()
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else " " for char in text).strip()


def _clean(contact: Contact) -> Contact:
    """The contact as stored: whitespace trimmed, blank numbers dropped."""
    name = " ".join(contact.name.split())
    numbers = contact.numbers
    if not all(
        n.number
        and n.number.isprintable()
        and n.label.isprintable()
        and n.number == n.number.strip()
        and n.label == n.label.strip()
        for n in numbers
    ):
        cleaned = ((_printable(n.number), _printable(n.label)) for n in numbers)
        numbers = tuple(ContactNumber(number, label) for number, label in cleaned if number)
    if not name and not numbers:
        raise InvalidInput("A contact needs a name or a number")
    if (
        name == contact.name
        and numbers is contact.numbers
        and contact.company == contact.company.strip()
        and contact.email == contact.email.strip()
        and contact.notes == contact.notes.strip()
        and type(contact.favourite) is bool
    ):
        return contact  # the usual case (an import, the demo): no copy
    return Contact(
        name=name,
        numbers=numbers,
        company=contact.company.strip(),
        email=contact.email.strip(),
        notes=contact.notes.strip(),
        favourite=bool(contact.favourite),
        id=contact.id,
    )


# How a contact's numbers are kept in one column: faster to write than JSON (a bulk import
# writes 100,000), and safe, as _clean() leaves no control character in a number or label.
_LABEL_SEPARATOR, _NUMBER_SEPARATOR = "\x1f", "\x1e"


def _decode_numbers(text: str) -> tuple[ContactNumber, ...]:
    if not text:
        return ()
    numbers = []
    for entry in text.split(_NUMBER_SEPARATOR):
        number, _, label = entry.partition(_LABEL_SEPARATOR)
        numbers.append(ContactNumber(number, label))
    return tuple(numbers)


# A book has few companies and many contacts in each: fold each company once.
_fold_company = functools.lru_cache(maxsize=4096)(normalise)


def _row(contact: Contact) -> tuple[Any, ...]:
    folded_name = normalise(contact.name)
    numbers = contact.numbers
    return (
        contact.name,
        contact.company,
        contact.email,
        contact.notes,
        int(contact.favourite),
        _NUMBER_SEPARATOR.join([f"{n.number}{_LABEL_SEPARATOR}{n.label}" for n in numbers]),
        folded_name or _NAMELESS + (numbers[0].number if numbers else ""),
        f"{folded_name}\n{_fold_company(contact.company)}" if contact.company else folded_name,
        " ".join([number_search_text(n.number) for n in numbers]),
    )


def _contact(row: tuple[Any, ...]) -> Contact:
    return Contact(
        id=row[0],
        name=row[1],
        company=row[2],
        email=row[3],
        notes=row[4],
        favourite=bool(row[5]),
        numbers=_decode_numbers(row[6]),
    )


class ContactStore:
    """SQLite-backed contacts, thread-safe (one connection behind a lock).

    Opening reads nothing but the schema version. The first search reads every contact's
    search key (not the contacts) into memory, ~0.2 s and ~28 MB at 100,000 contacts;
    later writes through this store keep it current, and a write by another process (seen
    through ``PRAGMA data_version``) makes the next search read it again. The window asks
    for ids with :meth:`search_ids` and reads only the rows it shows with :meth:`get_many`.
    """

    def __init__(self, path: Path | str):
        self.path: Path | str = Path(path) if str(path) != ":memory:" else str(path)
        self._lock = threading.Lock()
        self._index: SearchIndex | None = None
        self._db = open_migrated(path, MIGRATIONS, "contacts database")

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """Caller holds the lock."""
        return immediate_transaction(self._db)

    # -- writing ----------------------------------------------------------------------------

    def add(self, contact: Contact) -> Contact:
        """Store a new contact (its ``id`` is ignored); returns it as stored, with its id."""
        cleaned = _clean(contact)
        row = _row(cleaned)
        with self._lock:
            with self._transaction() as db:
                cursor = db.execute(_INSERT, row)
                new_id = cursor.lastrowid
            assert new_id is not None
            self._index_insert(new_id, row)
        return replace(cleaned, id=new_id)

    def add_many(self, contacts: Iterable[Contact]) -> int:
        """Store many new contacts in one transaction; returns how many. All or nothing: a
        contact with neither name nor number raises :class:`InvalidInput` and stores none."""
        # Prepared before taking the lock: searches from other threads go on meanwhile.
        rows = [_row(_clean(contact)) for contact in contacts]
        with self._lock:
            # Read again by the next search: cheaper than 100,000 inserts.
            stale, self._index = self._index, None
            with self._transaction() as db:
                cursor = db.executemany(_INSERT, rows)
            added = max(cursor.rowcount, 0)
        collector.drop_in_chunks(rows)
        if stale is not None:
            stale.drop()
        return added

    def update(self, contact: Contact) -> Contact:
        """Replace a stored contact (found by its ``id``); returns it as stored."""
        if contact.id is None:
            raise InvalidInput("This contact has not been saved yet, so it cannot be updated")
        cleaned = _clean(contact)
        row = _row(cleaned)
        with self._lock:
            with self._transaction() as db:
                cursor = db.execute(_UPDATE, (*row, contact.id))
                if cursor.rowcount == 0:
                    raise InvalidInput(f"Contact {contact.id} no longer exists (it was deleted)")
            if self._index is not None:
                self._index.remove(contact.id)
            self._index_insert(contact.id, row)
        return cleaned

    def delete(self, contact_id: int) -> None:
        """Remove a contact; deleting one that is already gone does nothing."""
        with self._lock:
            with self._transaction() as db:
                db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
            if self._index is not None:
                self._index.remove(contact_id)

    def _index_insert(self, contact_id: int, row: tuple[Any, ...]) -> None:
        """Put a just-written row into the search index at its place. Caller holds the lock."""
        if self._index is None:
            return
        favourite, sort_key = row[4], row[6]
        position = self._db.execute(
            _POSITION, {"f": favourite, "s": sort_key, "i": contact_id}
        ).fetchone()[0]
        self._index.insert(position, contact_id, row[7], row[8])

    # -- reading ----------------------------------------------------------------------------

    def get(self, contact_id: int) -> Contact | None:
        with self._lock:
            row = self._db.execute(_SELECT_ONE, (contact_id,)).fetchone()
        return _contact(row) if row is not None else None

    def get_many(self, ids: Sequence[int]) -> list[Contact]:
        """The contacts with these ids, in the order given; ids no longer stored are left out."""
        found: dict[int, Contact] = {}
        with self._lock:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = json.dumps([int(i) for i in ids[start : start + _IN_CHUNK]])
                rows = self._db.execute(_SELECT_MANY, (chunk,)).fetchall()
                for row in rows:
                    found[row[0]] = _contact(row)
        return [found[i] for i in ids if i in found]

    def _search_index(self) -> SearchIndex:
        """The index, read (again) if it is missing or another connection wrote. Caller holds
        the lock."""
        data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if self._index is None or self._index.data_version != data_version:
            rows = self._db.execute(_SELECT_KEYS).fetchall()
            stale, self._index = (
                self._index,
                SearchIndex(
                    [row[0] for row in rows],
                    [row[1] for row in rows],
                    [row[2] for row in rows],
                    data_version,
                ),
            )
            collector.drop_in_chunks(rows)
            if stale is not None:
                stale.drop()
        return self._index

    def search_ids(self, text: str) -> list[int]:
        """Every contact matching ``text``, as ids in display order: favourites first, then
        by name (case- and accent-insensitive), then by id.

        Each word of ``text`` must occur in the name or company (``rao as`` finds Asha Rao);
        a word of 2+ digits, or a query that is only a number (``+91 886-71``), also matches
        any part of any of the contact's numbers. An empty query matches everyone.
        """
        terms = parse_query(text)
        with self._lock:
            return self._search_index().search(terms)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM contacts").fetchone()[0])

    def find_by_number(self, number: str) -> list[Contact]:
        """The contacts that have ``number`` (``+918867135000``, ``tel:+91-88671-35000``,
        ``088671 35000``...), in display order; for showing who a number belongs to.

        Numbers are compared by their digits: the full international digits when both are
        written with a country code, else the national part (trunk zeros ignored). Input with
        fewer than six digits matches nobody.
        """
        text = number.strip()
        if text.lower().startswith(("tel:", "callto:")):
            text = text.split(":", 1)[1].split(";", 1)[0]
        full, national, international = number_keys(text)
        if len(national) < _MIN_LOOKUP_DIGITS:
            return []
        with self._lock:
            candidates = self._search_index().search([(national, True)])
        matches = []
        for contact in self.get_many(candidates):
            for stored in contact.numbers:
                s_full, s_national, s_international = number_keys(stored.number)
                same = (
                    s_full == full if international and s_international else s_national == national
                )
                if same:
                    matches.append(contact)
                    break
        return matches

    def close(self) -> None:
        with self._lock:
            self._index = None
            self._db.close()
