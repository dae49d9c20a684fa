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

Who a number belongs to is a different question, asked for a caller and for every row of a
history page, so it has a table of its own: ``contact_numbers`` holds each stored number's
keys (:func:`number_keys`) indexed by the national part. A page of 200 history rows is one
indexed query (the search index would take about 4 ms a number, and would have to be read
first).

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
from dataclasses import dataclass, replace
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
_NUMBERS_SCHEMA = """
CREATE TABLE contact_numbers (
    national       TEXT NOT NULL,     -- number_keys(): the digits after the country code
    full_digits    TEXT NOT NULL,     -- ... every digit (international or as written)
    international  INTEGER NOT NULL,  -- ... whether it was written with its country code
    contact_id     INTEGER NOT NULL,
    PRIMARY KEY (national, contact_id, full_digits, international)
) WITHOUT ROWID  -- one b-tree: the lookup's (a contact's rows go by its numbers' keys)
"""


def _add_number_keys(db: sqlite3.Connection) -> None:
    """Schema 2: the number-owner table, filled from the contacts already stored."""
    db.execute(_NUMBERS_SCHEMA)
    for contact_id, numbers in db.execute("SELECT id, numbers FROM contacts").fetchall():
        db.executemany(_INSERT_NUMBER, _number_rows(contact_id, _decode_numbers(numbers)))


MIGRATIONS = (_SCHEMA, _add_number_keys)  # schema n + 1 = an upgrade step appended here
SCHEMA_VERSION = len(MIGRATIONS)

# Every statement is a constant; values are always bound.
_INSERT = (
    "INSERT INTO contacts (name, company, email, notes, favourite, numbers, sort_key, "
    "search_text, search_digits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_WITH_ID = (
    "INSERT INTO contacts (name, company, email, notes, favourite, numbers, sort_key, "
    "search_text, search_digits, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_NUMBER = (  # OR IGNORE: a contact may hold one number twice
    "INSERT OR IGNORE INTO contact_numbers (national, full_digits, international, contact_id) "
    "VALUES (?, ?, ?, ?)"
)
_DELETE_NUMBER = (
    "DELETE FROM contact_numbers "
    "WHERE national = ? AND full_digits = ? AND international = ? AND contact_id = ?"
)
_SELECT_NUMBERS = "SELECT numbers FROM contacts WHERE id = ?"
# The owners of some national numbers, in display order (the first is who a number is).
_OWNERS = (
    "SELECT n.national, n.full_digits, n.international, c.id, c.name, c.company "
    "FROM contact_numbers n JOIN contacts c ON c.id = n.contact_id "
    "WHERE n.national IN (SELECT value FROM json_each(?)) "
    "ORDER BY c.favourite DESC, c.sort_key, c.id"
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
_SELECT_IDS = (
    "SELECT id FROM contacts INDEXED BY contacts_search ORDER BY favourite DESC, sort_key, id"
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


def _number_rows(contact_id: int, numbers: Iterable[ContactNumber]) -> list[tuple[Any, ...]]:
    rows = []
    for entry in numbers:
        full, national, international = number_keys(entry.number)
        if len(national) >= _MIN_LOOKUP_DIGITS:  # shorter: an extension, owned by nobody
            rows.append((national, full, int(international), contact_id))
    return rows


def _same_number(
    asked: tuple[str, str, bool], full: str, national: str, international: bool
) -> bool:
    """Whether a stored number (its keys) is the number asked about: the full digits when
    both carry a country code, else the national parts (trunk zeros ignored)."""
    asked_full, asked_national, asked_international = asked
    if asked_international and international:
        return full == asked_full
    return national == asked_national


@dataclass(frozen=True, slots=True)
class NumberOwner:
    """Who a number belongs to, as a history row names them."""

    contact_id: int
    name: str
    company: str


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


def _asked_keys(number: str) -> tuple[str, str, bool] | None:
    """The keys of a number asked about (a ``tel:`` link's too), or None when it is too
    short to belong to anyone."""
    text = number.strip()
    if text.lower().startswith(("tel:", "callto:")):
        text = text.split(":", 1)[1].split(";", 1)[0]
    keys = number_keys(text)
    return keys if len(keys[1]) >= _MIN_LOOKUP_DIGITS else None


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
                db.executemany(_INSERT_NUMBER, _number_rows(new_id, cleaned.numbers))
            self._index_insert(new_id, row)
        return replace(cleaned, id=new_id)

    def add_many(self, contacts: Iterable[Contact]) -> int:
        """Store many new contacts in one transaction; returns how many. All or nothing: a
        contact with neither name nor number raises :class:`InvalidInput` and stores none."""
        # Prepared before taking the lock: searches from other threads go on meanwhile.
        cleaned = [_clean(contact) for contact in contacts]
        rows = [_row(contact) for contact in cleaned]
        with self._lock:
            # Read again by the next search: cheaper than 100,000 inserts.
            stale, self._index = self._index, None
            with self._transaction() as db:
                # Ids given here (the write lock is held, so nobody takes them meanwhile):
                # the number-owner rows need them, and executemany returns none.
                first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM contacts").fetchone()[0]
                cursor = db.executemany(
                    _INSERT_WITH_ID, [(*row, first + n) for n, row in enumerate(rows)]
                )
                added = max(cursor.rowcount, 0)
                db.executemany(
                    _INSERT_NUMBER,
                    [
                        owned
                        for n, contact in enumerate(cleaned)
                        for owned in _number_rows(first + n, contact.numbers)
                    ],
                )
        collector.drop_in_chunks(rows)
        collector.drop_in_chunks(cleaned)
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
                old = db.execute(_SELECT_NUMBERS, (contact.id,)).fetchone()
                if old is None:
                    raise InvalidInput(f"Contact {contact.id} no longer exists (it was deleted)")
                db.execute(_UPDATE, (*row, contact.id))
                self._forget_numbers(db, contact.id, old[0])
                db.executemany(_INSERT_NUMBER, _number_rows(contact.id, cleaned.numbers))
            if self._index is not None:
                self._index.remove(contact.id)
            self._index_insert(contact.id, row)
        return cleaned

    def delete(self, contact_id: int) -> None:
        """Remove a contact; deleting one that is already gone does nothing."""
        with self._lock:
            with self._transaction() as db:
                old = db.execute(_SELECT_NUMBERS, (contact_id,)).fetchone()
                if old is not None:
                    db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
                    self._forget_numbers(db, contact_id, old[0])
            if self._index is not None:
                self._index.remove(contact_id)

    @staticmethod
    def _forget_numbers(db: sqlite3.Connection, contact_id: int, stored: str) -> None:
        """Drop a contact's number-owner rows (``stored``: its numbers column as written)."""
        rows = _number_rows(contact_id, _decode_numbers(stored))
        db.executemany(_DELETE_NUMBER, rows)

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
            if not terms and self._index is None:
                # Everyone, before anyone searched (the window opening): the ids straight
                # from the display-order index, without loading every contact's search
                # keys into memory (about 6 MB at 20,000) for a search nobody typed yet.
                return [row[0] for row in self._db.execute(_SELECT_IDS)]
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
        asked = _asked_keys(number)
        if asked is None:
            return []
        with self._lock:
            rows = self._db.execute(_OWNERS, (json.dumps([asked[1]]),)).fetchall()
        ids = [row[3] for row in rows if _same_number(asked, row[1], row[0], bool(row[2]))]
        return self.get_many(list(dict.fromkeys(ids)))

    def owners(self, numbers: Iterable[str]) -> dict[str, NumberOwner]:
        """Who each of ``numbers`` belongs to (the first such contact in display order, as
        :meth:`find_by_number` would list them); numbers nobody has are left out. One query
        however many numbers (a history page's customers)."""
        asked = {}
        for number in numbers:
            if number not in asked:
                keys = _asked_keys(number)
                if keys is not None:
                    asked[number] = keys
        if not asked:
            return {}
        nationals = sorted({keys[1] for keys in asked.values()})
        with self._lock:
            rows = [
                row
                for start in range(0, len(nationals), _IN_CHUNK)
                for row in self._db.execute(
                    _OWNERS, (json.dumps(nationals[start : start + _IN_CHUNK]),)
                ).fetchall()
            ]
        by_national: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            by_national.setdefault(row[0], []).append(row)
        found = {}
        for number, keys in asked.items():
            for row in by_national.get(keys[1], ()):
                if _same_number(keys, row[1], row[0], bool(row[2])):
                    found[number] = NumberOwner(row[3], row[4], row[5])
                    break
        return found

    def close(self) -> None:
        with self._lock:
            self._index = None
            self._db.close()
