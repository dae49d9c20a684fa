"""CSV: preview and mapping guesses, import with its report, export, the round trip."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dialer.core.contacts import (
    Contact,
    ContactNumber,
    ContactStore,
    CsvMapping,
    demo_contacts,
    export_csv,
    guess_mapping,
    import_csv,
    preview_csv,
    stored_number,
)
from dialer.core.errors import InvalidInput


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ContactStore]:
    contacts = ContactStore(tmp_path / "contacts.sqlite3")
    yield contacts
    contacts.close()


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def everyone(store: ContactStore) -> list[Contact]:
    return store.get_many(store.search_ids(""))


# -- numbers as stored --------------------------------------------------------------------------


def test_stored_number() -> None:
    assert stored_number(" 98450 12345 ", "IN") == "+919845012345"
    assert stored_number("+91 98450 12345", None) == "+919845012345"
    assert stored_number("0091 98450 12345", None) == "+919845012345"
    assert stored_number("tel:+91-98450-12345", None) == "+919845012345"
    assert stored_number("+91 98450 12345 ext. 12", None) == "+919845012345 ext. 12"
    # Unparsable: kept as typed, stripped; the dialer refuses it later in its own words.
    assert stored_number("  12345 ", "IN") == "12345"
    assert stored_number("call reception", "IN") == "call reception"
    # No region: national input is not guessed at (9845012345 would read as +98, Iran).
    assert stored_number("9845012345", None) == "9845012345"
    assert stored_number("+123", None) == "+123"


# -- preview ------------------------------------------------------------------------------------


def test_preview_reads_a_bom_and_guesses_the_mapping(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Full Name,Mobile,Work Phone,Home,Company,E-mail,Notes,Favourite\r\n"
        "Asha Rao,98450 12345,080 2345 6789,,Kaveri,asha@example.in,VIP,yes\r\n",
        encoding="utf-8-sig",
    )
    preview = preview_csv(path)
    assert preview.headers[0] == "Full Name"  # no BOM left in the first header
    assert preview.delimiter == ","
    assert preview.encoding == "utf-8"
    assert preview.has_header
    assert preview.rows == [
        ["Asha Rao", "98450 12345", "080 2345 6789", "", "Kaveri", "asha@example.in", "VIP", "yes"]
    ]
    assert preview.mapping == CsvMapping(
        name="Full Name",
        numbers=(("Mobile", "mobile"), ("Work Phone", "work"), ("Home", "home")),
        company="Company",
        email="E-mail",
        notes="Notes",
        favourite="Favourite",
    )


def test_preview_sniffs_semicolons_and_reads_cp1252(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "First name;Last name;Cell;Organisation\nÉmile;Dubois;06 12 34 56 78;Café Lumière\n",
        encoding="cp1252",
    )
    preview = preview_csv(path)
    assert preview.delimiter == ";"
    assert preview.encoding == "cp1252"
    assert preview.rows == [["Émile", "Dubois", "06 12 34 56 78", "Café Lumière"]]
    assert preview.mapping == CsvMapping(
        first_name="First name",
        last_name="Last name",
        numbers=(("Cell", "mobile"),),
        company="Organisation",
    )


def test_preview_of_tabs_and_utf16(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffName\tPhone\nRavi\t+91 98450 12345\n", encoding="utf-16-le")
    preview = preview_csv(path)
    assert preview.delimiter == "\t"
    assert preview.encoding == "utf-16"
    assert preview.mapping.name == "Name"
    assert preview.mapping.numbers == (("Phone", "mobile"),)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # Outlook
        (
            ["First Name", "Middle Name", "Last Name", "Company", "E-mail Address",
             "E-mail Display Name", "Business Phone", "Home Phone", "Mobile Phone",
             "Business Fax", "Notes"],
            CsvMapping(first_name="First Name", last_name="Last Name", company="Company",
                       email="E-mail Address", notes="Notes",
                       numbers=(("Business Phone", "work"), ("Home Phone", "home"),
                                ("Mobile Phone", "mobile"), ("Business Fax", "fax"))),
        ),
        # Google Contacts
        (
            ["Name", "Given Name", "Family Name", "Organization 1 - Name",
             "Organization 1 - Title", "E-mail 1 - Type", "E-mail 1 - Value",
             "Phone 1 - Type", "Phone 1 - Value", "Phone 2 - Type", "Phone 2 - Value"],
            CsvMapping(name="Name", first_name="Given Name", last_name="Family Name",
                       company="Organization 1 - Name", email="E-mail 1 - Value",
                       numbers=(("Phone 1 - Value", "mobile"), ("Phone 2 - Value", "mobile")),
                       label_columns=(("Phone 1 - Value", "Phone 1 - Type"),
                                      ("Phone 2 - Value", "Phone 2 - Type"))),
        ),
        # A hand-made sheet: a serial number column is not a phone number
        (
            ["S.No", "Customer Name", "Contact No", "Account Number", "Remarks", "Starred"],
            CsvMapping(name="Customer Name", numbers=(("Contact No", "mobile"),),
                       notes="Remarks", favourite="Starred"),
        ),
        # Nothing recognisable: nothing guessed
        (["foo", "bar"], CsvMapping()),
    ],
)  # fmt: skip
def test_guess_mapping_from_headers(headers: list[str], expected: CsvMapping) -> None:
    assert guess_mapping(headers) == expected


def test_guess_mapping_checks_numbers_against_the_rows() -> None:
    headers = ["No", "Name", "Phone"]
    rows = [["1", "Asha", "98450 12345"], ["2", "Ravi", "98450 67890"]]
    assert guess_mapping(headers, rows) == CsvMapping(name="Name", numbers=(("Phone", "mobile"),))


def test_preview_of_a_file_without_a_header(tmp_path: Path) -> None:
    path = write(tmp_path, "Asha Rao,98450 12345\nRavi Kumar,98450 67890\n")
    preview = preview_csv(path)
    assert not preview.has_header
    assert preview.headers == ["Column 1", "Column 2"]
    assert preview.rows == [["Asha Rao", "98450 12345"], ["Ravi Kumar", "98450 67890"]]
    assert preview.mapping == CsvMapping(name="Column 1", numbers=(("Column 2", "mobile"),))


def test_duplicate_and_empty_headers_get_distinct_names(tmp_path: Path) -> None:
    path = write(tmp_path, "Name,Phone,Phone,\nAsha,98450 12345,98450 67890,x\n")
    preview = preview_csv(path)
    assert preview.headers == ["Name", "Phone", "Phone (2)", "Column 4"]
    assert preview.mapping.numbers == (("Phone", "mobile"), ("Phone (2)", "mobile"))


def test_preview_shows_five_rows_padded(tmp_path: Path) -> None:
    lines = "".join(f"Person {n},98450{n:05d}\n" for n in range(10))
    path = write(tmp_path, "name,phone,notes\n" + lines)
    preview = preview_csv(path)
    assert len(preview.rows) == 5
    assert preview.rows[0] == ["Person 0", "9845000000", ""]


# -- import -------------------------------------------------------------------------------------


def test_import_parses_numbers_and_reports_bad_rows_by_line(
    tmp_path: Path, store: ContactStore
) -> None:
    path = write(
        tmp_path,
        "name,mobile,work,company,favourite\n"  # line 1
        "Asha Rao,98450 12345,+44 20 7183 8750,Kaveri,yes\n"  # 2
        "Ravi Kumar,,,Deccan,\n"  # 3: no number
        ",,,,\n"  # 4: blank: nothing to report
        '"Meera\nNair",12345,,,no\n'  # 5-6: unparsable number kept as typed
        ",,,Acme,\n"  # 7: no name, no number
        "Zoya,98450 67890 / 98450 11111,,,\n"  # 8: two numbers in one cell
        "Extra,98450 22222,,,,surprise\n"  # 9: one value too many
        "Trailing,98450 33333,,,,,\n",  # 10: empty extra values are fine
    )
    mapping = preview_csv(path).mapping
    report = import_csv(store, path, mapping, default_region="IN")
    assert report.added == 4
    assert report.skipped == [
        (3, "'Ravi Kumar' has no phone number"),
        (7, "has no name and no number"),
        (9, "has 6 values but the header has 5 columns (a ',' inside a value that is not "
            "in quotes?)"),
    ]  # fmt: skip
    contacts = {c.name: c for c in everyone(store)}
    assert contacts["Asha Rao"].numbers == (
        ContactNumber("+919845012345", "mobile"),
        ContactNumber("+442071838750", "work"),
    )
    assert contacts["Asha Rao"].favourite
    assert contacts["Asha Rao"].company == "Kaveri"
    assert contacts["Meera Nair"].numbers == (ContactNumber("12345", "mobile"),)
    assert not contacts["Meera Nair"].favourite
    assert [n.number for n in contacts["Zoya"].numbers] == ["+919845067890", "+919845011111"]
    assert "Trailing" in contacts


def test_import_joins_first_and_last_names(tmp_path: Path, store: ContactStore) -> None:
    path = write(tmp_path, "First;Last;Phone\nÉmile;Dubois;+33 6 12 34 56 78\n;Rao;98450 12345\n")
    report = import_csv(store, path, preview_csv(path).mapping, default_region=None)
    assert report.added == 2
    assert [c.name for c in everyone(store)] == ["Émile Dubois", "Rao"]
    # Without a default region, a national number is kept as typed.
    assert everyone(store)[1].numbers == (ContactNumber("98450 12345"),)


def test_import_with_label_columns(tmp_path: Path, store: ContactStore) -> None:
    path = write(
        tmp_path,
        "Name,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value\n"
        "Asha,Office,+91 80 2345 6789,,+91 98450 12345\n",
    )
    import_csv(store, path, preview_csv(path).mapping, default_region="IN")
    assert everyone(store)[0].numbers == (
        ContactNumber("+918023456789", "Office"),
        ContactNumber("+919845012345", "mobile"),  # no label given: the column's
    )


def test_import_refuses_a_mapping_the_file_does_not_fit(
    tmp_path: Path, store: ContactStore
) -> None:
    path = write(tmp_path, "name,phone\nAsha,98450 12345\n")
    with pytest.raises(InvalidInput, match=r"in\.csv has no column 'Mobile'"):
        import_csv(
            store,
            path,
            CsvMapping(name="name", numbers=(("Mobile", "mobile"),)),
            default_region="IN",
        )
    with pytest.raises(InvalidInput, match="at least one column that holds phone numbers"):
        import_csv(store, path, CsvMapping(name="name"), default_region="IN")
    assert store.count() == 0


def test_import_a_file_without_a_header(tmp_path: Path, store: ContactStore) -> None:
    path = write(tmp_path, "Asha Rao,98450 12345\nRavi Kumar,98450 67890,extra column\n")
    preview = preview_csv(path)
    report = import_csv(store, path, preview.mapping, default_region="IN")
    assert report.added == 2  # the first row is a contact, not a header
    assert report.skipped == []


def test_a_row_missing_columns_is_read_as_empty_values(tmp_path: Path, store: ContactStore) -> None:
    path = write(tmp_path, "name,phone,company\nAsha,98450 12345\n")
    report = import_csv(store, path, preview_csv(path).mapping, default_region="IN")
    assert report.added == 1
    assert everyone(store)[0].company == ""


# -- malformed files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"bad\.csv is empty"),
        (b"  \n\n", r"bad\.csv is empty"),
        (b"PK\x03\x04\x14\x00\x06\x00", r"bad\.csv is a ZIP archive or an Excel"),
        (b"name,phone\x00\x01\x02\x00", r"bad\.csv holds binary data"),
        (b"name,phone\n\x81\x8d\x8f\x90\xc3,1\n", r"bad\.csv is neither UTF-8 nor Windows-1252"),
        (b"BEGIN:VCARD\nVERSION:3.0\nEND:VCARD\n", r"bad\.csv is a vCard file, not CSV"),
        (b'{"contacts": []}', r"bad\.csv is JSON, XML or HTML, not CSV"),
        (b'name,phone\nAsha,"98450\nRavi,98450 67890\n', r"quote opened on line 2 is never closed"),
    ],
)
def test_malformed_files_raise_invalid_input_naming_the_file(
    tmp_path: Path, store: ContactStore, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        import_csv(store, path, CsvMapping(name="name", numbers=(("phone", "mobile"),)),
                   default_region="IN")  # fmt: skip
    if b"never closed" not in message.encode():
        with pytest.raises(InvalidInput, match=message):
            preview_csv(path)
    assert store.count() == 0


def test_a_missing_file_or_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"nope\.csv does not exist"):
        preview_csv(tmp_path / "nope.csv")
    with pytest.raises(InvalidInput, match="is a folder"):
        preview_csv(tmp_path)


def test_stray_quotes_inside_values_are_read_as_text(tmp_path: Path, store: ContactStore) -> None:
    path = write(tmp_path, 'name,phone,notes\nAsha,98450 12345,"27" monitor" x\n')
    report = import_csv(store, path, preview_csv(path).mapping, default_region="IN")
    assert report.added == 1


# -- export and the round trip ------------------------------------------------------------------


def test_export_then_import_round_trips(tmp_path: Path, store: ContactStore) -> None:
    originals = [
        Contact(
            name='Asha, "the boss" Rao',
            numbers=(
                ContactNumber("+918867135000", "mobile"),
                ContactNumber("+442071838750", "work"),
                ContactNumber("12345", "desk; ext"),  # unparsable, kept as typed
            ),
            company="Kaveri; Textiles",
            email="asha@example.in",
            notes="Line one\nline two, with comma",
            favourite=True,
        ),
        Contact(name='=HYPERLINK("http://x")', numbers=(ContactNumber("+12125550147"),)),
        Contact(name="Émile Dubois", numbers=(ContactNumber("+33612345678", "home"),)),
        Contact(name="", numbers=(ContactNumber("+918867135001"),)),
    ]
    store.add_many(originals)
    path = tmp_path / "out.csv"
    assert export_csv(store, path) == 4
    text = path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == (
        "name,company,email,notes,favourite,number_1,label_1,number_2,label_2,number_3,label_3"
    )
    assert "'=HYPERLINK" in text  # a spreadsheet shows it, never runs it

    again = ContactStore(tmp_path / "again.sqlite3")
    preview = preview_csv(path)
    report = import_csv(again, path, preview.mapping, default_region="IN")
    assert report.added == 4
    assert report.skipped == []

    def key(contacts: list[Contact]) -> list[Contact]:
        return [replace(c, id=None) for c in contacts]

    assert key(everyone(again)) == key(everyone(store))
    again.close()


def test_export_chosen_ids_in_their_order(tmp_path: Path, store: ContactStore) -> None:
    import csv

    store.add_many(demo_contacts(30))
    ids = store.search_ids("")[::-3]
    path = tmp_path / "some.csv"
    assert export_csv(store, path, ids) == len(ids)
    with path.open(encoding="utf-8-sig", newline="") as exported:
        written = [row[0] for row in csv.reader(exported)][1:]
    assert written == [c.name for c in store.get_many(ids)]


def test_export_of_an_empty_book(tmp_path: Path, store: ContactStore) -> None:
    path = tmp_path / "empty.csv"
    assert export_csv(store, path) == 0
    preview = preview_csv(path)
    assert preview.rows == []
    assert preview.mapping.numbers == (("number_1", "mobile"),)


def test_export_to_an_unwritable_place(tmp_path: Path, store: ContactStore) -> None:
    with pytest.raises(InvalidInput, match="could not be written"):
        export_csv(store, tmp_path / "missing-folder" / "out.csv")


def test_a_big_file_is_decoded_whole_across_its_megabyte_slices(tmp_path: Path) -> None:
    """Decoded a megabyte at a time (the GIL is not held for the whole file): a character
    cut by a slice's end is read whole, and a bad byte is named at its offset in the file."""
    from dialer.core.contacts.files import _DECODE_CHUNK, read_text

    head = b"Name,Phone\n" + b"a" * (_DECODE_CHUNK - 12)
    path = tmp_path / "big.csv"
    path.write_bytes(head + "é,+918867135000\n".encode())  # é straddles the first slice's end
    text, encoding = read_text(path, "CSV")
    assert encoding == "utf-8"
    assert text.endswith("aé,+918867135000\n")
    bad = head + b"xxxxx\x81,+918867135000\n"  # 0x81 is neither UTF-8 nor Windows-1252
    path.write_bytes(bad)
    with pytest.raises(InvalidInput, match=rf"byte 0x81 at offset {len(head) + 5}\)"):
        read_text(path, "CSV")


@pytest.mark.parametrize("end", ["\r\n", "\r", "\n"])
def test_any_line_ending_ends_a_record_and_a_quoted_one_stays_in_its_value(
    store: ContactStore, tmp_path: Path, end: str
) -> None:
    text = end.join(
        ["Name,Phone,Notes", 'Asha Rao,+918867135000,"two' + end + 'lines"', "Ravi,+918867135001,"]
    )
    path = write(tmp_path, text + end)
    report = import_csv(store, path, preview_csv(path).mapping, default_region="IN")
    assert report.added == 2
    notes = {c.name: c.notes for c in everyone(store)}
    assert notes["Asha Rao"].splitlines() == ["two", "lines"]
    assert notes["Ravi"] == ""


@pytest.mark.parametrize("end", ["\r\n", "\r", "\n"])
def test_records_that_straddle_the_files_parts_are_read_whole(
    tmp_path: Path, end: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text is read in parts (never joined into one string, which would hold the GIL):
    a line ending, a character or a quoted value that a part's end cuts is read whole, at
    every place a cut can fall."""
    from dialer.core.contacts import csvio, files

    rows = [
        f'Kāvya {n},+9188671{n:05d},"a{end}b"' if n % 3 == 0 else f"Ravi {n},+9188671{n:05d},"
        for n in range(40)
    ]
    path = write(tmp_path, end.join(["Name,Phone,Notes", *rows]) + end)
    whole = csvio._load(path)
    for chunk in (1, 2, 3, 5, 7, 64):
        monkeypatch.setattr(files, "_DECODE_CHUNK", chunk)
        table = csvio._load(path)
        assert (table.headers, table.records) == (whole.headers, whole.records), chunk
    assert len(whole.records) == 40
    assert whole.records[3] == (6, ["Kāvya 3", "+918867100003", f"a{end}b"])
