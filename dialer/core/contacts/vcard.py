"""vCard import (2.1, 3.0 and 4.0), as phones, Google, Outlook and Apple Contacts export it.

The file is cut into cards here and each card parsed on its own by ``vobject``, so one broken
card is reported and skipped instead of ending the import. Only the properties read below
are handed to ``vobject``: a photo with broken base64 (common) cannot cost the contact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialer.core import collector
from dialer.core.contacts.files import ImportReport, read_text, stored_number
from dialer.core.contacts.model import DEFAULT_LABEL, Contact, ContactNumber
from dialer.core.contacts.store import ContactStore
from dialer.core.errors import InvalidInput

_KEEP = {"BEGIN", "END", "VERSION", "FN", "N", "TEL", "ORG", "EMAIL", "NOTE", "CATEGORIES"}
_PROPERTY = re.compile(r"^(?:([A-Za-z0-9\-]+)\.)?([A-Za-z0-9\-]+)[;:]")
_TYPE_LABELS = (
    ({"cell", "mobile", "iphone"}, "mobile"),
    ({"fax"}, "fax"),
    ({"pager"}, "pager"),
    ({"work"}, "work"),
    ({"home"}, "home"),
    ({"main"}, "main"),
    ({"other"}, "other"),
)
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")
_FAVOURITE_CATEGORIES = {"starred", "favourite", "favourites", "favorite", "favorites"}


@dataclass(frozen=True)
class _Card:
    number: int  # 1 for the first card in the file
    line: int  # the line its BEGIN:VCARD is on
    lines: list[str]  # only the properties read here, folding kept
    complete: bool


def _cards(text: str) -> Iterator[_Card]:
    """The cards of a vCard file, with only the properties we read kept."""
    lines: list[str] = []
    start, depth, count = 0, 0, 0
    keep = False  # whether the property being read (and its continuation lines) is kept
    quoted_printable = False  # whether the previous line ended a soft break (2.1)
    for number, line in enumerate(text.splitlines(), start=1):
        continued = line[:1] in (" ", "\t") or quoted_printable
        if not continued:
            upper = line.strip().upper()
            if upper == "BEGIN:VCARD":
                if depth == 0:
                    start, lines = number, []
                depth += 1
            elif upper == "END:VCARD" and depth:
                depth -= 1
                if depth == 0:
                    count += 1
                    yield _Card(count, start, [*lines, "END:VCARD"], complete=True)
                keep = quoted_printable = False
                continue
            match = _PROPERTY.match(line)
            if match is not None:
                name = match.group(2).upper()
                keep = depth == 1 and (name in _KEEP or name == "X-ABLABEL")
            # else a line that is no property: it goes (to be reported) with the property
            # before it when that one is kept, and away with it (a broken photo) when not.
            head = line.split(":", 1)[0].upper()
            quoted_printable = "QUOTED-PRINTABLE" in head and line.endswith("=")
        else:
            quoted_printable = quoted_printable and line.endswith("=")
        if depth and keep:
            lines.append(line)
    if depth:
        yield _Card(count + 1, start, lines, complete=False)


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(part).strip() for part in value if str(part).strip())
    return str(value).strip() if value is not None else ""


def _types(prop: Any) -> set[str]:
    found: set[str] = set()
    for value in prop.params.get("TYPE", []):
        found.update(part.strip().strip('"').lower() for part in str(value).split(","))
    found.update(str(value).lower() for value in getattr(prop, "singletonparams", []))
    return found


def _label(prop: Any, group_labels: dict[str, str]) -> str:
    group = getattr(prop, "group", None)
    if group and group.lower() in group_labels:
        return group_labels[group.lower()]
    types = _types(prop)
    for keys, label in _TYPE_LABELS:
        if types & keys:
            return label
    return DEFAULT_LABEL


def _preference(prop: Any) -> int:
    """Lower first: 4.0's PREF=1..100, 2.1/3.0's TYPE=pref as 1, none as 101."""
    pref = prop.params.get("PREF")
    if pref:
        try:
            return int(str(pref[0]))
        except ValueError:
            return 1
    return 1 if "pref" in _types(prop) else 101


def _contact(card: Any, default_region: str | None) -> Contact:
    contents: dict[str, list[Any]] = card.contents
    group_labels: dict[str, str] = {}
    for prop in contents.get("x-ablabel", []):
        label = _text(prop.value)
        apple = _APPLE_LABEL.match(label)
        if getattr(prop, "group", None) and label:
            group_labels[prop.group.lower()] = (apple.group(1) if apple else label).lower()
    name = next((_text(prop.value) for prop in contents.get("fn", []) if _text(prop.value)), "")
    if not name:
        for prop in contents.get("n", []):
            value = prop.value
            parts = (
                [value.prefix, value.given, value.additional, value.family, value.suffix]
                if hasattr(value, "family")
                else str(value).split(";")
            )
            name = " ".join(_text(part) for part in parts if _text(part))
            if name:
                break
    company = next((_text(p.value) for p in contents.get("org", []) if _text(p.value)), "")
    tels = sorted(contents.get("tel", []), key=_preference)  # stable: file order otherwise
    numbers = tuple(
        ContactNumber(stored_number(_text(prop.value), default_region), _label(prop, group_labels))
        for prop in tels
        if _text(prop.value)
    )
    emails = sorted(contents.get("email", []), key=_preference)
    email = next((_text(prop.value) for prop in emails if _text(prop.value)), "")
    notes = "\n".join(_text(prop.value) for prop in contents.get("note", []) if _text(prop.value))
    categories = {
        category.strip().lower()
        for prop in contents.get("categories", [])
        for category in (prop.value if isinstance(prop.value, list) else str(prop.value).split(","))
    }
    return Contact(
        name=" ".join(name.split()) or company,
        numbers=numbers,
        company=company,
        email=email,
        notes=notes,
        favourite=bool(categories & _FAVOURITE_CATEGORIES),
    )


@collector.paused()  # 100,000 contacts built and dropped: no full collections
def import_vcard(store: ContactStore, path: Path, *, default_region: str | None) -> ImportReport:
    """Add every card of ``path`` as a contact, in one transaction.

    FN (else N, else ORG) is the name; every TEL is kept with its TYPE (or Apple label) as
    the label, preferred numbers first; then ORG, the first EMAIL, NOTE, and "starred" or
    "favourite" in CATEGORIES. A card that cannot be read, or that has no phone number, is
    skipped and reported by its position (1 for the first card) with the line it starts on.
    A file with no card at all raises :class:`InvalidInput` naming it.
    """
    import vobject  # type: ignore[import-untyped]  # no type information published

    path = Path(path)
    text, _encoding = read_text(path, "vCard")
    contacts: list[Contact] = []
    skipped: list[tuple[int, str]] = []
    seen = 0
    for card in _cards(text):
        seen += 1
        where = f"card {card.number} (line {card.line})"
        if not card.complete:
            skipped.append((card.number, f"{where} has no END:VCARD; the file is cut short"))
            continue
        try:
            parsed = next(vobject.readComponents("\r\n".join(card.lines), allowQP=True), None)
            if parsed is None:
                raise ValueError("it is empty")
            contact = _contact(parsed, default_region)
        except Exception as exc:  # vobject raises many kinds; one card must not end the import
            reason = re.sub(r"^At line \d+: ", "", str(exc)) or type(exc).__name__
            skipped.append((card.number, f"{where} could not be read: {reason}"))
            continue
        if not contact.numbers:
            reason = (
                f"{where}: {contact.name!r} has no phone number"
                if contact.name
                else f"{where} has no name and no phone number"
            )
            skipped.append((card.number, reason))
            continue
        contacts.append(contact)
    if not seen:
        raise InvalidInput(f"{path} is not a vCard file: it has no BEGIN:VCARD")
    added = store.add_many(contacts)
    collector.drop_in_chunks(contacts)
    return ImportReport(added=added, skipped=skipped)
