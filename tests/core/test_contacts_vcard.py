"""vCard import: 2.1, 3.0 and 4.0 as phones and address books write them; bad cards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.core.contacts import Contact, ContactNumber, ContactStore, import_vcard
from dialer.core.errors import InvalidInput


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ContactStore]:
    contacts = ContactStore(tmp_path / "contacts.sqlite3")
    yield contacts
    contacts.close()


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "contacts.vcf"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def by_name(store: ContactStore) -> dict[str, Contact]:
    return {c.name: c for c in store.get_many(store.search_ids(""))}


VCARD_21 = """BEGIN:VCARD
VERSION:2.1
N:Rao;Asha;;;
FN:Asha Rao
TEL;WORK;VOICE:080 2345 6789
TEL;CELL;PREF:+91 98450 12345
item1.TEL:+44 20 7183 8750
item1.X-ABLabel:_$!<Office>!$_
ORG:Kaveri Textiles;Sales
EMAIL;INTERNET:asha@example.in
NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Caf=C3=A9 =
au lait
PHOTO;ENCODING=BASE64;TYPE=JPEG:@@@this is not base64
END:VCARD
"""

VCARD_30 = """BEGIN:VCARD
VERSION:3.0
N:Dubois;Émile;;;
FN:Émile Dubois
TEL;TYPE=CELL,VOICE:+33 6 12 34 56 78
TEL;TYPE=work;TYPE=voice:+33 1 23 45 67 89
TEL;TYPE=FAX:+33 1 23 45 67 00
EMAIL;TYPE=INTERNET:emile@example.org
NOTE:Ligne un\\nligne deux\\, avec virgule
CATEGORIES:myContacts,starred
END:VCARD
"""

VCARD_40 = """BEGIN:VCARD
VERSION:4.0
FN:Wei Zhang
TEL;VALUE=uri;TYPE=home:tel:+1-646-555-0123;ext=12
TEL;VALUE=uri;TYPE="voice,cell";PREF=1:tel:+1-212-555-0147
ORG:Northwind Traders
END:VCARD
"""


def test_vcard_21(tmp_path: Path, store: ContactStore) -> None:
    report = import_vcard(store, write(tmp_path, VCARD_21), default_region="IN")
    assert (report.added, report.skipped) == (1, [])
    asha = by_name(store)["Asha Rao"]
    assert asha.numbers == (
        ContactNumber("+919845012345", "mobile"),  # PREF first
        ContactNumber("+918023456789", "work"),
        ContactNumber("+442071838750", "office"),  # Apple's label for the group
    )
    assert asha.company == "Kaveri Textiles, Sales"
    assert asha.email == "asha@example.in"
    assert asha.notes == "Café au lait"
    assert not asha.favourite


def test_vcard_30(tmp_path: Path, store: ContactStore) -> None:
    report = import_vcard(store, write(tmp_path, VCARD_30), default_region=None)
    assert (report.added, report.skipped) == (1, [])
    emile = by_name(store)["Émile Dubois"]
    assert emile.numbers == (
        ContactNumber("+33612345678", "mobile"),
        ContactNumber("+33123456789", "work"),
        ContactNumber("+33123456700", "fax"),
    )
    assert emile.notes == "Ligne un\nligne deux, avec virgule"
    assert emile.email == "emile@example.org"
    assert emile.favourite  # Google's "starred"


def test_vcard_40(tmp_path: Path, store: ContactStore) -> None:
    report = import_vcard(store, write(tmp_path, VCARD_40), default_region=None)
    assert (report.added, report.skipped) == (1, [])
    wei = by_name(store)["Wei Zhang"]
    assert wei.numbers == (
        ContactNumber("+12125550147", "mobile"),  # PREF=1 first
        ContactNumber("+16465550123 ext. 12", "home"),
    )
    assert wei.company == "Northwind Traders"


def test_several_cards_with_broken_ones_skipped_and_reported(
    tmp_path: Path, store: ContactStore
) -> None:
    text = (
        VCARD_21
        + "BEGIN:VCARD\nVERSION:3.0\nFN:Broken Card\nTEL this line has no colon\nEND:VCARD\n"
        + VCARD_30
        + "BEGIN:VCARD\nVERSION:3.0\nFN:Ravi Kumar\nEMAIL:ravi@example.in\nEND:VCARD\n"
        + "BEGIN:VCARD\nVERSION:3.0\nORG:Deccan Motors\nTEL:+91 80 4000 1000\nEND:VCARD\n"
        + "BEGIN:VCARD\nVERSION:3.0\nNOTE:nothing else\nEND:VCARD\n"
        + "BEGIN:VCARD\nVERSION:3.0\nN:Nair;Meera;;;\nTEL:12345\nEND:VCARD\n"
        + VCARD_40
        + "BEGIN:VCARD\nVERSION:3.0\nFN:Cut Short\nTEL:+91 98450 99999\n"
    )
    report = import_vcard(store, write(tmp_path, text), default_region="IN")
    assert report.added == 5
    assert [number for number, _reason in report.skipped] == [2, 4, 6, 9]
    reasons = dict(report.skipped)
    assert reasons[2] == (
        "card 2 (line 15) could not be read: Failed to parse line: TEL this line has no colon"
    )
    assert reasons[4] == "card 4 (line 31): 'Ravi Kumar' has no phone number"
    assert reasons[6] == "card 6 (line 41) has no name and no phone number"
    assert reasons[9] == "card 9 (line 57) has no END:VCARD; the file is cut short"
    contacts = by_name(store)
    assert set(contacts) == {"Asha Rao", "Émile Dubois", "Deccan Motors", "Meera Nair", "Wei Zhang"}
    assert contacts["Deccan Motors"].company == "Deccan Motors"  # ORG stands in for a name
    assert contacts["Meera Nair"].numbers == (ContactNumber("12345", "mobile"),)  # as typed


def test_a_cp1252_vcard(tmp_path: Path, store: ContactStore) -> None:
    card = "BEGIN:VCARD\nVERSION:2.1\nFN:Zoë Müller\nTEL;HOME:+49 30 1234567\nEND:VCARD\n"
    path = write(tmp_path, card, encoding="cp1252")
    assert import_vcard(store, path, default_region=None).added == 1
    assert list(by_name(store)) == ["Zoë Müller"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,phone\nAsha,98450 12345\n", r"contacts\.vcf is not a vCard file"),
        (b"", r"contacts\.vcf is empty"),
        (b"\x00\x01\x02BEGIN:VCARD", r"contacts\.vcf holds binary data"),
    ],
)
def test_files_that_are_not_vcards(
    tmp_path: Path, store: ContactStore, content: bytes, message: str
) -> None:
    path = tmp_path / "contacts.vcf"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        import_vcard(store, path, default_region="IN")
    assert store.count() == 0
