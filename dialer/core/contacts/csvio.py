"""CSV import and export: a preview with a guessed column mapping, then the import itself.

Files come from Excel, LibreOffice, Google Contacts and Outlook exports, CRMs and hand-made
sheets: ``,``/``;``/tab/``|`` delimiters (sniffed), UTF-8 with or without a BOM, UTF-16 with a
BOM (Excel's "Unicode text"), else Windows-1252. A file without a header row (its first row
already holds a phone number) is read as ``Column 1``, ``Column 2``...
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dialer.core import collector
from dialer.core.contacts.files import ImportReport, read_text_parts, stored_number
from dialer.core.contacts.model import DEFAULT_LABEL, Contact, ContactNumber, digits_of, normalise
from dialer.core.contacts.store import ContactStore
from dialer.core.errors import InvalidInput

PREVIEW_ROWS = 5
_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 16384
_HEAD_CHARS = 65536  # what is looked at before parsing: the sniffer's sample, and more
_MIN_PHONE_DIGITS = 6
_EXPORT_PAGE = 500


@dataclass(frozen=True)
class CsvMapping:
    """Which column holds what; every column is named as in :attr:`CsvPreview.headers`.

    ``numbers`` holds ``(column, label)`` pairs, in the order the numbers are kept (the
    first is the one Enter calls). ``label_columns`` pairs a number column with a column
    whose value, where present, is that number's label instead (``label_1`` in our own
    export, ``Phone 1 - Label`` in Google's). ``first_name``/``last_name`` are joined into
    the name when ``name`` is ``None``.
    """

    name: str | None = None
    numbers: tuple[tuple[str, str], ...] = ()
    company: str | None = None
    email: str | None = None
    notes: str | None = None
    favourite: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    label_columns: tuple[tuple[str, str], ...] = ()

    def columns(self) -> list[str]:
        """Every column the mapping reads."""
        named = [
            self.name,
            self.company,
            self.email,
            self.notes,
            self.favourite,
            self.first_name,
            self.last_name,
        ]
        found = [column for column in named if column is not None]
        found += [column for column, _label in self.numbers]
        found += [label for _number, label in self.label_columns]
        return found


@dataclass(frozen=True)
class CsvPreview:
    """The first rows of a CSV file as read, and the mapping guessed from its header."""

    headers: list[str]
    rows: list[list[str]]  # the first PREVIEW_ROWS data rows, padded to len(headers)
    mapping: CsvMapping
    delimiter: str
    encoding: str = "utf-8"  # utf-8, utf-16 or cp1252: what the file was read as
    has_header: bool = True  # False: the first row already held data (Column 1, Column 2...)


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    headers: list[str]
    records: list[tuple[int, list[str]]]  # (line the record starts on, cells)
    delimiter: str
    encoding: str
    has_header: bool


def _sniff(head: str) -> str:
    """The delimiter, guessed from the file's beginning (``head``: at least its first
    ``_SNIFF_CHARS`` characters, or all of it)."""
    sample = head[:_SNIFF_CHARS]
    if len(head) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    first_line = sample.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    if delimiter not in first_line:
        # The sniffer can be fooled by values (a ";" in notes); the header line settles it.
        counts = {candidate: first_line.count(candidate) for candidate in _DELIMITERS}
        best = max(counts, key=lambda candidate: counts[candidate])
        delimiter = best if counts[best] else ","
    return delimiter


def _parse(
    parts: list[str], delimiter: str, path: Path, limit: int | None
) -> list[tuple[int, list[str]]]:
    """The records with the line each starts on; blank lines left out."""

    def read(strict: bool) -> list[tuple[int, list[str]]]:
        reader = csv.reader(_lines(parts), delimiter=delimiter, strict=strict)
        records: list[tuple[int, list[str]]] = []
        start = 1
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    records.append((start, row))
                    if limit is not None and len(records) >= limit:
                        break
                start = reader.line_num + 1
        except csv.Error as exc:
            if strict and "unexpected end of data" not in str(exc):
                raise _Lenient from None
            if "unexpected end of data" in str(exc):
                raise InvalidInput(
                    f"{path} is not valid CSV: the quote opened on line {start} is never closed"
                ) from None
            raise InvalidInput(f"{path} is not valid CSV: line {start}: {exc}") from None
        return records

    try:
        return read(strict=True)
    except _Lenient:
        # Stray quotes inside values ('12" monitor'): read them as text, as spreadsheets do.
        return read(strict=False)


_LINE_END = re.compile(r"\r\n?|\n")


def _lines(parts: list[str]) -> Iterator[str]:
    """The text of ``parts`` line by line as a file opened with ``newline=""`` gives it (any
    of ``\r\n``, ``\r``, ``\n`` ends a line, and is kept; a line may span parts). Not
    ``io.StringIO(text)``: that copies a 10 MB file in one call holding the GIL for
    20-50 ms, during which the window's thread cannot run (the import runs on a worker
    thread)."""
    carry = ""
    for part in parts:
        text = carry + part
        start = 0
        for match in _LINE_END.finditer(text):
            if match.end() == len(text) and text[-1] == "\r":
                break  # the next part may begin with the "\n" of this "\r\n"
            yield text[start : match.end()]
            start = match.end()
        carry = text[start:]
    if carry:
        yield carry


def _head(parts: list[str], size: int) -> str:
    """The first ``size`` characters of the text of ``parts`` (all of it when shorter)."""
    head = ""
    for part in parts:
        head += part[: size - len(head)]
        if len(head) >= size:
            break
    return head


class _Lenient(Exception):
    """Strict parsing met something a lenient reader accepts."""


def _looks_like_number(cell: str) -> bool:
    stripped = cell.strip()
    return bool(stripped) and (
        len(digits_of(stripped)) >= _MIN_PHONE_DIGITS
        and bool(re.fullmatch(r"(tel:|callto:)?[\d\s+\-().\u00a0/;=x]+", stripped, re.I))
    )


def _unique_headers(cells: list[str]) -> list[str]:
    headers: list[str] = []
    seen: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        header = " ".join(cell.split()) or f"Column {position}"
        candidate, copy = header, 1
        while candidate.casefold() in seen:
            copy += 1
            candidate = f"{header} ({copy})"
        seen.add(candidate.casefold())
        headers.append(candidate)
    return headers


def _load(path: Path, *, limit: int | None = None) -> _Table:
    parts, encoding = read_text_parts(path, "CSV")
    head = _head(parts, _HEAD_CHARS)
    first = head.lstrip()[:64].upper()
    if first.startswith("BEGIN:VCARD"):
        raise InvalidInput(f"{path} is a vCard file, not CSV; import it as vCard")
    if first.startswith(("{", "[", "<?XML", "<HTML", "<!DOCTYPE")):
        raise InvalidInput(f"{path} is JSON, XML or HTML, not CSV")
    delimiter = _sniff(head)
    records = _parse(parts, delimiter, path, None if limit is None else limit + 1)
    if not records:
        raise InvalidInput(f"{path} has no rows")
    _first_line, first_row = records[0]
    if any(_looks_like_number(cell) for cell in first_row):
        width = max(len(row) for _line, row in records)
        headers = [f"Column {n}" for n in range(1, width + 1)]
        return _Table(headers, records, delimiter, encoding, has_header=False)
    return _Table(_unique_headers(first_row), records[1:], delimiter, encoding, has_header=True)


# -- guessing the mapping -----------------------------------------------------------------------

_PHONE_WORDS = {
    "phone", "phones", "mobile", "mobiles", "cell", "cellphone", "cellular", "tel",
    "telephone", "telefon", "telefono", "landline", "fax", "whatsapp", "mob", "ph", "msisdn",
    "number", "numbers", "no", "num", "contactno", "phoneno", "mobileno",
}  # fmt: skip
_WEAK_PHONE_WORDS = {"no", "number", "numbers", "num"}
_NOT_PHONE_WORDS = {
    "account", "acct", "customer", "id", "order", "invoice", "policy", "pan", "aadhaar",
    "aadhar", "gst", "pin", "zip", "postal", "postcode", "employee", "extension", "ext",
    "address", "email", "mail", "type", "label", "serial", "s", "sl", "sr", "ticket",
}  # fmt: skip
_BARE_NUMBER_HEADERS = {"work", "home", "office", "business", "personal", "other"}
_LABEL_WORDS = (
    ({"mobile", "mobiles", "cell", "cellphone", "cellular", "mob"}, "mobile"),
    ({"whatsapp"}, "whatsapp"),
    ({"fax"}, "fax"),
    ({"work", "office", "business", "company"}, "work"),
    ({"home", "residence", "personal"}, "home"),
    ({"landline"}, "landline"),
    ({"main"}, "main"),
    ({"other"}, "other"),
)
_COMPANY_WORDS = {"company", "organisation", "organization", "org", "employer", "firm", "business"}
_NOT_COMPANY_WORDS = {"title", "department", "type", "label", "address", "job", "role", "website"}
_FIRST = {"first", "firstname", "givenname", "given", "forename", "fname", "firstnames"}
_LAST = {"last", "lastname", "surname", "familyname", "family", "lname"}
_NAME = {
    "name", "fullname", "displayname", "contactname", "contact", "customer", "customername",
    "person", "personname", "names", "nom", "nombre", "leadname", "clientname", "client",
}  # fmt: skip
_NOTES = {"notes", "note", "comments", "comment", "remarks", "remark", "description", "memo"}
_FAVOURITE = {"favourite", "favorite", "favourites", "favorites", "fav", "starred", "star", "vip"}
_EMAIL = {"email", "emailaddress", "mail", "emailid", "email1", "emailvalue", "email1value"}


def _words(header: str) -> list[str]:
    return re.findall(r"[a-z]+|\d+", normalise(header))


def _number_label(words: set[str]) -> str:
    for keys, label in _LABEL_WORDS:
        if words & keys:
            return label
    return DEFAULT_LABEL


def _index_of(words: list[str]) -> str | None:
    return next((word for word in words if word.isdigit()), None)


def guess_mapping(headers: Sequence[str], rows: Sequence[Sequence[str]] = ()) -> CsvMapping:
    """The mapping a person would most likely pick, from header names in English (and the
    sample ``rows``: a column named like a number that holds no phone number is left out)."""
    fields: dict[str, str] = {}
    numbers: list[tuple[str, str]] = []
    number_index: dict[str | None, str] = {}
    label_candidates: list[tuple[str | None, str]] = []

    def holds_numbers(position: int, words: set[str]) -> bool:
        """A column named only "No" or "Number" is a phone number unless its values say
        otherwise (serial numbers: 1, 2, 3)."""
        if words & _PHONE_WORDS - _WEAK_PHONE_WORDS:
            return True
        values = [row[position] for row in rows if position < len(row) and row[position].strip()]
        return not values or any(len(digits_of(value)) > 3 for value in values)

    for position, header in enumerate(headers):
        words = _words(header)
        word_set = set(words)
        compact = "".join(word for word in words if not word.isdigit())
        if word_set & {"type", "label"} and (word_set & _PHONE_WORDS or compact == "label"):
            label_candidates.append((_index_of(words), header))
        elif (
            (word_set & _PHONE_WORDS and not word_set & _NOT_PHONE_WORDS)
            or compact in _BARE_NUMBER_HEADERS
        ) and holds_numbers(position, word_set):
            numbers.append((header, _number_label(word_set)))
            number_index.setdefault(_index_of(words), header)
        elif compact.startswith("email") or compact in _EMAIL:
            if not word_set & {"display", "type", "label"}:
                fields.setdefault("email", header)
        elif word_set & _COMPANY_WORDS and not word_set & _NOT_COMPANY_WORDS:
            fields.setdefault("company", header)
        elif compact in _FIRST:
            fields.setdefault("first_name", header)
        elif compact in _LAST:
            fields.setdefault("last_name", header)
        elif compact in _NAME:
            fields.setdefault("name", header)
        elif compact in _NOTES:
            fields.setdefault("notes", header)
        elif compact in _FAVOURITE:
            fields.setdefault("favourite", header)
    label_columns = tuple(
        (number_index[index], header) for index, header in label_candidates if index in number_index
    )
    if not numbers and rows:
        # No header names a number (or there is no header): take the columns of numbers.
        for position, header in enumerate(headers):
            values = [row[position] for row in rows if position < len(row) and row[position]]
            if values and sum(map(_looks_like_number, values)) * 2 > len(values):
                numbers.append((header, DEFAULT_LABEL))
    if "name" not in fields and "first_name" not in fields and rows:
        taken = {column for column, _label in numbers} | set(fields.values())
        for position, header in enumerate(headers):
            values = [row[position] for row in rows if position < len(row) and row[position]]
            wordy = [
                value for value in values if re.search(r"[^\W\d_]", value) and "@" not in value
            ]
            if header not in taken and values and len(wordy) * 2 > len(values):
                fields["name"] = header
                break
    return CsvMapping(numbers=tuple(numbers), label_columns=label_columns, **fields)


def preview_csv(path: Path) -> CsvPreview:
    """The file's columns, its first rows and a guessed mapping, for the import dialog.

    :class:`InvalidInput` names the file and the problem when it cannot be read as CSV.
    """
    table = _load(Path(path), limit=PREVIEW_ROWS)
    width = len(table.headers)
    rows = [(row + [""] * width)[:width] for _line, row in table.records[:PREVIEW_ROWS]]
    return CsvPreview(
        headers=table.headers,
        rows=rows,
        mapping=guess_mapping(table.headers, rows),
        delimiter=table.delimiter,
        encoding=table.encoding,
        has_header=table.has_header,
    )


# -- importing ----------------------------------------------------------------------------------

_FALSE = {"", "0", "no", "n", "false", "f", "off", "-", "none", "nil"}
# A number cell holding several numbers: "98450 12345 / 98450 67890".
_MULTI_SEPARATOR = re.compile(r"\s*[,;/|]\s*")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _split_numbers(cell: str) -> list[str]:
    parts = [part for part in _MULTI_SEPARATOR.split(cell) if part]
    if len(parts) > 1 and all(len(digits_of(part)) >= 7 for part in parts):
        return parts
    return [cell]


def _unescape(cell: str) -> str:
    """Undo :func:`_escape`: a leading ``'`` that kept a spreadsheet from running a formula."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] and cell[1:2] in _FORMULA_START else cell


@collector.paused()  # 100,000 contacts built and dropped: no full collections
def import_csv(
    store: ContactStore, path: Path, mapping: CsvMapping, *, default_region: str | None
) -> ImportReport:
    """Add every row of ``path`` as a contact, read with ``mapping``; one transaction.

    Numbers are stored as E.164 when they parse with ``default_region``, else as typed
    (:func:`~dialer.core.contacts.files.stored_number`). A row with no phone number (with
    or without a name) is skipped and reported with its line number, as is a row with more
    values than the header has columns; nothing else is dropped. A file that cannot be read
    as CSV, or a mapping naming a column the file lacks, raises :class:`InvalidInput` and
    adds nothing.
    """
    path = Path(path)
    table = _load(path)
    position = {header: index for index, header in enumerate(table.headers)}
    missing = [column for column in mapping.columns() if column not in position]
    if missing:
        raise InvalidInput(
            f"{path} has no column {missing[0]!r} (its columns are "
            f"{', '.join(repr(h) for h in table.headers)})"
        )
    if not mapping.numbers:
        raise InvalidInput("Choose at least one column that holds phone numbers")
    width = len(table.headers)
    label_of = dict(mapping.label_columns)
    contacts: list[Contact] = []
    skipped: list[tuple[int, str]] = []
    for line, row in table.records:
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            skipped.append(
                (
                    line,
                    f"has {len(row)} values but the header has {width} columns "
                    f"(a {table.delimiter!r} inside a value that is not in quotes?)",
                )
            )
            continue
        cells = [_unescape(cell.strip()) for cell in row] + [""] * (width - len(row))

        def cell(column: str | None, cells: list[str] = cells) -> str:
            return cells[position[column]] if column is not None else ""

        name = cell(mapping.name)
        if mapping.name is None:
            name = " ".join(filter(None, (cell(mapping.first_name), cell(mapping.last_name))))
        numbers: list[ContactNumber] = []
        for column, label in mapping.numbers:
            raw = cell(column)
            if not raw:
                continue
            number_label = cell(label_of.get(column)) or label
            numbers.extend(
                ContactNumber(stored_number(part, default_region), number_label)
                for part in _split_numbers(raw)
            )
        if not numbers:
            reason = f"{name!r} has no phone number" if name else "has no name and no number"
            skipped.append((line, reason))
            continue
        contacts.append(
            Contact(
                name=" ".join(name.split()),
                numbers=tuple(numbers),
                company=cell(mapping.company),
                email=cell(mapping.email),
                notes=cell(mapping.notes),
                favourite=cell(mapping.favourite).casefold() not in _FALSE,
            )
        )
    added = store.add_many(contacts)
    collector.drop_in_chunks(contacts)
    collector.drop_in_chunks(table.records)
    return ImportReport(added=added, skipped=skipped)


# -- exporting ----------------------------------------------------------------------------------


def _escape(cell: str, *, number: bool = False) -> str:
    """Keep a spreadsheet from reading a value as a formula (``=HYPERLINK(...)`` in a name):
    a leading ``'``, which :func:`import_csv` removes again. A phone number's ``+`` is left
    alone when the rest is a number."""
    if not cell.startswith(_FORMULA_START):
        return cell
    if number and re.fullmatch(r"\+[\d\s\-().]*(ext\. \d+)?", cell):
        return cell
    return "'" + cell


def export_csv(store: ContactStore, path: Path, ids: Sequence[int] | None = None) -> int:
    """Write contacts (``ids``, in that order; all, in display order, when ``None``) to
    ``path`` as UTF-8 CSV with a BOM (so Excel reads it as UTF-8); returns how many.

    Columns: name, company, email, notes, favourite (``yes``/``no``), then number_1,
    label_1, number_2, label_2... as many as the contact with the most numbers needs. The
    file imports back unchanged with :func:`preview_csv`'s guessed mapping.
    """
    chosen = list(store.search_ids("") if ids is None else ids)
    contacts = [
        contact
        for start in range(0, len(chosen), _EXPORT_PAGE)
        for contact in store.get_many(chosen[start : start + _EXPORT_PAGE])
    ]
    most = max((len(contact.numbers) for contact in contacts), default=1) or 1
    header = ["name", "company", "email", "notes", "favourite"]
    for n in range(1, most + 1):
        header += [f"number_{n}", f"label_{n}"]
    path = Path(path)
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for contact in contacts:
                row = [
                    _escape(contact.name),
                    _escape(contact.company),
                    _escape(contact.email),
                    _escape(contact.notes),
                    "yes" if contact.favourite else "no",
                ]
                for number in contact.numbers:
                    row += [_escape(number.number, number=True), _escape(number.label)]
                writer.writerow(row + [""] * (len(header) - len(row)))
    except OSError as exc:
        raise InvalidInput(f"{path} could not be written: {exc.strerror or exc}") from None
    return len(contacts)
