"""The contact book: values, the SQLite store, search semantics, demo data."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import phonenumbers
import pytest

from dialer.core.contacts import (
    SCHEMA_VERSION,
    Contact,
    ContactNumber,
    ContactStore,
    demo_contacts,
    normalise,
)
from dialer.core.contacts.model import digits_of, number_search_text
from dialer.core.errors import ConfigError, InvalidInput


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ContactStore]:
    contacts = ContactStore(tmp_path / "contacts.sqlite3")
    yield contacts
    contacts.close()


def names(store: ContactStore, query: str) -> list[str]:
    return [c.name for c in store.get_many(store.search_ids(query))]


ASHA = Contact(
    name="Asha Rao",
    numbers=(ContactNumber("+918867135000"), ContactNumber("+442071838750", "work")),
    company="Kaveri Textiles",
    email="asha@example.in",
    notes="Prefers Hindi",
)


# -- values -------------------------------------------------------------------------------------


def test_fields_give_flow_variables() -> None:
    assert ASHA.primary == ContactNumber("+918867135000", "mobile")
    assert ASHA.first_name == "Asha"
    assert ASHA.fields() == {
        "name": "Asha Rao",
        "first_name": "Asha",
        "company": "Kaveri Textiles",
        "email": "asha@example.in",
        "number": "+918867135000",
        "notes": "Prefers Hindi",
    }
    nobody = Contact(name="")
    assert nobody.primary is None
    assert nobody.first_name == ""
    assert nobody.fields()["number"] == ""


def test_normalise_folds_case_accents_and_spaces() -> None:
    assert normalise("  Émile   DUBOIS ") == "emile dubois"
    assert normalise("Łukasz Straße") == "lukasz strasse"
    assert normalise("Søren Åberg") == "soren aberg"
    assert normalise("Nguyễn") == "nguyen"
    assert normalise("O’Brien") == "o'brien"
    # Indic vowel signs are letters, not accents: they stay.
    assert normalise("प्रिया") == "प्रिया"
    assert digits_of("+91 ८८६-71") == "9188671"


def test_number_search_text_has_the_national_form_where_a_trunk_zero_is_written() -> None:
    assert number_search_text("+918867135000") == "918867135000 08867135000"
    assert number_search_text("+447911123456") == "447911123456 07911123456"
    assert number_search_text("+12125550147") == "12125550147"  # no trunk 0 in the US
    assert number_search_text("08867135000") == "08867135000"  # stored as typed


# -- the store ----------------------------------------------------------------------------------


def test_add_get_update_delete(store: ContactStore) -> None:
    added = store.add(ASHA)
    assert added.id is not None
    assert added == replace(ASHA, id=added.id)
    assert store.get(added.id) == added
    assert store.count() == 1

    changed = store.update(replace(added, name="Asha R. Rao", favourite=True))
    assert store.get(added.id) == changed
    assert changed.favourite
    assert store.search_ids("r. rao") == [added.id]

    store.delete(added.id)
    assert store.get(added.id) is None
    assert store.count() == 0
    store.delete(added.id)  # already gone: nothing happens
    with pytest.raises(InvalidInput, match="no longer exists"):
        store.update(changed)
    with pytest.raises(InvalidInput, match="not been saved"):
        store.update(ASHA)


def test_stored_values_are_trimmed_and_blank_numbers_dropped(store: ContactStore) -> None:
    added = store.add(
        Contact(
            name="  Ravi   Kumar ",
            numbers=(
                ContactNumber("  ", "home"),
                ContactNumber(" +91 98450 12345\t", " work "),
                ContactNumber("+9198450\x1e67890", "mo\x1fbile"),
            ),
            company=" Deccan Motors ",
        )
    )
    assert added.name == "Ravi Kumar"
    assert added.company == "Deccan Motors"
    assert added.numbers == (
        ContactNumber("+91 98450 12345", "work"),
        ContactNumber("+9198450 67890", "mo bile"),  # control characters become spaces
    )
    assert added.id is not None
    assert store.get(added.id) == added


def test_a_contact_needs_a_name_or_a_number(store: ContactStore) -> None:
    with pytest.raises(InvalidInput, match="name or a number"):
        store.add(Contact(name="  ", numbers=(ContactNumber(" "),)))
    with pytest.raises(InvalidInput):
        store.add_many([ASHA, Contact(name="")])
    assert store.count() == 0  # all or nothing
    number_only = store.add(Contact(name="", numbers=(ContactNumber("+918867135000"),)))
    assert number_only.name == ""


def test_get_many_keeps_the_given_order_and_leaves_out_missing_ids(store: ContactStore) -> None:
    ids: list[int] = []
    for n in range(5):
        added = store.add(
            Contact(name=f"Person {n}", numbers=(ContactNumber(f"+91980000{n:04d}"),))
        )
        assert added.id is not None
        ids.append(added.id)
    wanted = [ids[3], 99999, ids[0], ids[4]]
    assert [c.id for c in store.get_many(wanted)] == [ids[3], ids[0], ids[4]]
    assert store.get_many([]) == []
    many = store.add_many(
        Contact(name=f"Bulk {n}", numbers=(ContactNumber(f"+91990000{n:04d}"),))
        for n in range(2500)
    )
    assert many == 2500
    everyone = store.search_ids("")
    assert [c.id for c in store.get_many(everyone)] == everyone  # more than one chunk


def test_contacts_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "contacts.sqlite3"
    first = ContactStore(path)
    added = first.add(ASHA)
    first.close()
    again = ContactStore(path)
    assert again.get(added.id or 0) == added
    assert again.search_ids("asha") == [added.id]
    again.close()


def test_memory_database_works() -> None:
    store = ContactStore(":memory:")
    added = store.add(ASHA)
    assert store.search_ids("kaveri") == [added.id]
    store.close()


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "contacts.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE future (x)")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="newer version"):
        ContactStore(path)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "contacts.sqlite3"
    path.write_bytes(b"this is not SQLite, it is a note someone saved here" * 100)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="not a contacts database"):
        ContactStore(path)
    assert path.read_bytes() == before


def test_opening_reads_no_contact(tmp_path: Path) -> None:
    path = tmp_path / "contacts.sqlite3"
    first = ContactStore(path)
    first.add_many(demo_contacts(50))
    first.close()
    again = ContactStore(path)
    assert again._index is None  # nothing loaded until the first search
    assert again.count() == 50
    assert again._index is None
    again.close()


# -- search -------------------------------------------------------------------------------------


@pytest.fixture
def book(store: ContactStore) -> ContactStore:
    store.add_many(
        [
            ASHA,
            Contact(name="Émile Dubois", numbers=(ContactNumber("+33612345678"),), company="Café"),
            Contact(name="emma williams", numbers=(ContactNumber("+12125550147", "work"),)),
            Contact(name="Ravi Shankar", numbers=(ContactNumber("+919845012345"),), favourite=True),
            Contact(
                name="Zoya Khan", numbers=(ContactNumber("08867 200100"),), company="Rao & Sons"
            ),
            Contact(name="Anil 3M", numbers=(ContactNumber("+919000000003"),), company="3M India"),
            Contact(name="ASHOK MEHTA", numbers=(ContactNumber("+447911123456"),), favourite=True),
        ]
    )
    return store


def test_search_is_case_and_accent_insensitive(book: ContactStore) -> None:
    assert names(book, "emile") == ["Émile Dubois"]
    assert names(book, "ÉMILE") == ["Émile Dubois"]
    assert names(book, "cafe") == ["Émile Dubois"]  # company, accent folded
    assert names(book, "ASH") == ["ASHOK MEHTA", "Asha Rao"]  # favourites first
    assert names(book, "mehta") == ["ASHOK MEHTA"]


def test_search_matches_company_and_every_word(book: ContactStore) -> None:
    assert names(book, "kaveri") == ["Asha Rao"]
    assert names(book, "rao") == ["Asha Rao", "Zoya Khan"]  # name or company
    assert names(book, "rao as") == ["Asha Rao"]
    assert names(book, "  as   rao ") == ["Asha Rao"]
    assert names(book, "rao zz") == []
    assert names(book, "xyz") == []


def test_search_finds_numbers_by_their_digits_in_any_format(book: ContactStore) -> None:
    for query in ("88671", "+91 886", "886-71", "(886) 71", "918867135000", "+91 88671 35000"):
        assert names(book, query) == ["Asha Rao"], query
    assert names(book, "0886") == ["Asha Rao", "Zoya Khan"]  # national form; stored as typed
    assert names(book, "07911") == ["ASHOK MEHTA"]
    assert names(book, "555-0147") == ["emma williams"]
    assert names(book, "2071838") == ["Asha Rao"]  # the second number counts too
    assert names(book, "rao 35000") == ["Asha Rao"]  # a word and a number together


def test_one_digit_matches_names_only(book: ContactStore) -> None:
    assert names(book, "3") == ["Anil 3M"]
    assert names(book, "3m") == ["Anil 3M"]


def test_empty_query_returns_everyone_in_display_order(book: ContactStore) -> None:
    expected = [
        "ASHOK MEHTA",
        "Ravi Shankar",  # favourites, by name
        "Anil 3M",
        "Asha Rao",
        "Émile Dubois",  # sorted as "emile", between "asha" and "emma"
        "emma williams",
        "Zoya Khan",
    ]
    assert names(book, "") == expected
    assert names(book, "   ") == expected


def test_same_names_are_ordered_by_id(store: ContactStore) -> None:
    ids = [store.add(Contact(name=name, numbers=(ContactNumber("+918867135000"),))).id
           for name in ("b", "A", "a", "B")]  # fmt: skip
    assert store.search_ids("") == [ids[1], ids[2], ids[0], ids[3]]


def test_nameless_contacts_come_last(store: ContactStore) -> None:
    nameless = store.add(Contact(name="", numbers=(ContactNumber("+918867135000"),)))
    named = store.add(Contact(name="Zubin", numbers=(ContactNumber("+918867135001"),)))
    assert store.search_ids("") == [named.id, nameless.id]
    assert store.search_ids("88671350") == [named.id, nameless.id]


def test_search_follows_writes(book: ContactStore) -> None:
    assert names(book, "rao") == ["Asha Rao", "Zoya Khan"]  # the index is now in memory
    added = book.add(Contact(name="Aarti Rao", numbers=(ContactNumber("+919876543210"),)))
    assert names(book, "rao") == ["Aarti Rao", "Asha Rao", "Zoya Khan"]
    assert names(book, "98765") == ["Aarti Rao"]
    moved = book.update(replace(added, name="Zeba Rao", favourite=True))
    assert names(book, "rao") == ["Zeba Rao", "Asha Rao", "Zoya Khan"]
    assert names(book, "aarti") == []
    assert moved.id is not None
    book.delete(moved.id)
    assert names(book, "rao") == ["Asha Rao", "Zoya Khan"]
    book.add_many([Contact(name="Raosaheb", numbers=(ContactNumber("+919876500000"),))])
    assert names(book, "rao") == ["Asha Rao", "Raosaheb", "Zoya Khan"]
    assert book.search_ids("") == [c.id for c in book.get_many(book.search_ids(""))]


def test_search_sees_writes_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "contacts.sqlite3"
    mine, theirs = ContactStore(path), ContactStore(path)
    assert mine.search_ids("asha") == []
    added = theirs.add(ASHA)
    assert mine.search_ids("asha") == [added.id]
    mine.close()
    theirs.close()


Keyed = list[tuple[Contact, str, str]]


def _keyed(contacts: list[Contact]) -> Keyed:
    return [
        (
            c,
            f"{normalise(c.name)}\n{normalise(c.company)}",
            " ".join(number_search_text(n.number) for n in c.numbers),
        )
        for c in contacts
    ]


def _reference(keyed: Keyed, query: str) -> list[int]:
    """Search semantics, written plainly, to check the fast path against."""
    words = normalise(query).split()
    digits = digits_of(query)
    numberish = bool(query.strip()) and all(c.isdigit() or c in " +-()./" for c in query.strip())

    def matches(text: str, numbers: str) -> bool:
        if numberish and len(digits) >= 2:
            return digits in text or digits in numbers
        for word in words:
            word_digits = digits_of(word)
            if all(ch.isdigit() or ch in "+-()./" for ch in word) and len(word_digits) >= 2:
                if word_digits not in text and word_digits not in numbers:
                    return False
            elif word not in text:
                return False
        return True

    found = [c for c, text, numbers in keyed if matches(text, numbers)]
    found.sort(key=lambda c: (not c.favourite, normalise(c.name) or "\U0010ffff", c.id or 0))
    return [c.id for c in found if c.id is not None]


def test_search_agrees_with_a_plain_reference_on_5000_contacts(store: ContactStore) -> None:
    store.add_many(demo_contacts(5000, seed=3))
    everyone = store.get_many(store.search_ids(""))
    assert len(everyone) == 5000
    keyed = _keyed(everyone)
    queries = ["a", "ra", "sh", "em", "zz", "ka", "iy", "8867", "9123", "0791", "+91 98", "12",
               "555-01", "asha rao", "rao as", "emile", "ÉMILE", "müller", "kaveri", "deccan mo",
               "a 98", "", "0", "x"]  # fmt: skip
    for query in queries:
        assert store.search_ids(query) == _reference(keyed, query), query


def test_concurrent_use_from_threads(store: ContactStore) -> None:
    store.add_many(demo_contacts(500))
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for k in range(20):
                store.add(
                    Contact(name=f"Thread {n} {k}", numbers=(ContactNumber("+918867135000"),))
                )
                store.get_many(store.search_ids("ra")[:100])
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count() == 580
    assert len(store.search_ids("thread")) == 80


# -- who is calling -----------------------------------------------------------------------------


def test_find_by_number(book: ContactStore) -> None:
    for number in ("+918867135000", "tel:+91-88671-35000", "088671 35000", "8867135000",
                   "+91 88671 35000", "00918867135000"):  # fmt: skip
        assert [c.name for c in book.find_by_number(number)] == ["Asha Rao"], number
    # Stored as typed (no country code): found by its national digits.
    assert [c.name for c in book.find_by_number("+918867200100")] == ["Zoya Khan"]
    assert book.find_by_number("+918867135001") == []
    assert book.find_by_number("+448867135000") == []  # same digits, another country
    assert book.find_by_number("35000") == []  # too short to say who it is
    assert [c.name for c in book.find_by_number("+442071838750")] == ["Asha Rao"]


def test_owners_names_a_page_of_numbers_in_one_read(book: ContactStore) -> None:
    owners = book.owners(
        ["+918867135000", "+442071838750", "+918867200100", "+918867135001", "35000", "",
         "tel:+33-6-12-34-56-78", "+918867135000"]
    )  # fmt: skip
    assert {number: (o.name, o.company) for number, o in owners.items()} == {
        "+918867135000": ("Asha Rao", "Kaveri Textiles"),
        "+442071838750": ("Asha Rao", "Kaveri Textiles"),
        "+918867200100": ("Zoya Khan", "Rao & Sons"),
        "tel:+33-6-12-34-56-78": ("Émile Dubois", "Café"),
    }
    assert book.owners([]) == {}


def test_a_shared_number_belongs_to_the_first_contact_in_display_order(
    store: ContactStore,
) -> None:
    shared = (ContactNumber("+918867135000"),)
    store.add_many([Contact("Bina", shared), Contact("Arun", shared)])
    assert store.owners(["+918867135000"])["+918867135000"].name == "Arun"
    store.add(Contact("Zeba", shared, favourite=True))  # favourites come first
    assert store.owners(["+918867135000"])["+918867135000"].name == "Zeba"
    assert [c.name for c in store.find_by_number("+918867135000")] == ["Zeba", "Arun", "Bina"]


def test_owners_follow_every_write(store: ContactStore) -> None:
    asha = store.add(ASHA)
    assert asha.id is not None
    assert store.owners(["+918867135000"])["+918867135000"].name == "Asha Rao"
    moved = store.update(replace(asha, name="Asha R.", numbers=(ContactNumber("+919845012345"),)))
    assert store.owners(["+918867135000", "+442071838750"]) == {}
    assert store.owners(["+919845012345"])["+919845012345"].name == moved.name
    store.delete(asha.id)
    assert store.owners(["+919845012345"]) == {}
    assert store.find_by_number("+919845012345") == []
    # The same number twice in one contact is one owner row (and leaves with the contact).
    twice = store.add(
        Contact("Twice", (ContactNumber("+918867135000"), ContactNumber("+918867135000")))
    )
    assert twice.id is not None
    assert [c.name for c in store.find_by_number("+918867135000")] == ["Twice"]
    store.delete(twice.id)
    assert store.owners(["+918867135000"]) == {}


def test_a_schema_1_book_gets_its_number_owners_when_opened(tmp_path: Path) -> None:
    from dialer.core.contacts.store import MIGRATIONS
    from dialer.core.sqlite import open_migrated

    path = tmp_path / "old.sqlite3"
    old = open_migrated(path, MIGRATIONS[:1], "contacts database")  # as version 1 wrote it
    old.execute(
        "INSERT INTO contacts (name, company, numbers, sort_key, search_text, search_digits) "
        "VALUES ('Asha Rao', 'Kaveri', ?, 'asha rao', 'asha rao', '918867135000')",
        ("+918867135000\x1fmobile",),
    )
    old.close()
    reopened = ContactStore(path)
    try:
        assert reopened.owners(["088671 35000"])["088671 35000"].name == "Asha Rao"
        version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION == 2
    finally:
        reopened.close()


# -- demo data ----------------------------------------------------------------------------------


def test_demo_contacts_are_deterministic_varied_and_valid() -> None:
    first = demo_contacts(300)
    assert first == demo_contacts(300)
    assert first != demo_contacts(300, seed=8)
    assert len({c.name for c in first}) > 150
    assert 1 <= sum(c.favourite for c in first) < 40
    assert {len(c.numbers) for c in first} == {1, 2, 3}
    assert any(not c.name.isascii() for c in first)
    assert any(c.company for c in first)
    assert any(not c.company for c in first)
    regions = set()
    for contact in first:
        assert contact.primary is not None
        assert contact.primary.label == "mobile"
        for number in contact.numbers:
            parsed = phonenumbers.parse(number.number)
            assert phonenumbers.is_valid_number(parsed), number
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == (
                number.number
            )
            regions.add(phonenumbers.region_code_for_number(parsed))
    assert regions == {"IN", "GB", "US"}
    indian = sum(c.numbers[0].number.startswith("+919") for c in first)
    assert indian > 200


@pytest.mark.parametrize("split_below", [0.0, 10.0])
def test_both_ways_of_finding_a_term_agree(
    store: ContactStore, monkeypatch: pytest.MonkeyPatch, split_below: float
) -> None:
    """Every term is found by scanning each row (common terms) or by splitting the joined
    column (rare terms); forcing one or the other changes nothing but the time taken."""
    from dialer.core.contacts import search

    store.add_many(demo_contacts(3000, seed=11))
    queries = ["a", "ra", "zz", "8867", "98", "asha", "+44 7", "rao as", ""]
    expected = {query: store.search_ids(query) for query in queries}
    monkeypatch.setattr(search, "_SPLIT_BELOW", split_below)
    for query in queries:
        assert store.search_ids(query) == expected[query], query


def test_everyone_is_listed_without_loading_the_search_index_until_someone_searches(
    tmp_path: Path,
) -> None:
    store = ContactStore(tmp_path / "contacts.sqlite3")
    try:
        store.add_many(demo_contacts(300))  # favourites among them: they come first
        reopened = ContactStore(tmp_path / "contacts.sqlite3")
        try:
            everyone = reopened.search_ids("")
            assert reopened._index is None  # the window's first list read no search keys
            assert len(everyone) == 300
            reopened.search_ids("ra")  # the first search loads it
            assert reopened._index is not None
            assert reopened.search_ids("") == everyone  # the same order either way
        finally:
            reopened.close()
    finally:
        store.close()
