"""Contacts as values, and the text normalisation that search is built on."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DEFAULT_LABEL = "mobile"


@dataclass(frozen=True, slots=True)
class ContactNumber:
    """One number of a contact.

    ``number`` is stored as E.164 when it parsed (with the import's default region), else as
    it was given, stripped: the dialer refuses it later with its own message.
    """

    number: str
    label: str = DEFAULT_LABEL  # free text: mobile, work, home, ...


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    numbers: tuple[ContactNumber, ...] = ()
    company: str = ""
    email: str = ""
    notes: str = ""
    favourite: bool = False
    id: int | None = None  # set by the store

    @property
    def primary(self) -> ContactNumber | None:
        """The first number, the one Enter calls."""
        return self.numbers[0] if self.numbers else None

    @property
    def first_name(self) -> str:
        parts = self.name.split()
        return parts[0] if parts else ""

    def fields(self) -> dict[str, str]:
        """The contact as flow variables (``{name}``, ``{first_name}``, ``{number}``...)."""
        primary = self.primary
        return {
            "name": self.name,
            "first_name": self.first_name,
            "company": self.company,
            "email": self.email,
            "number": primary.number if primary is not None else "",
            "notes": self.notes,
        }


# Letters that carry no combining mark in NFKD but that people type without their stroke.
_FOLD = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "ı": "i",
        "ŧ": "t",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "\u2019": "'",  # typographic apostrophe: O’Brien is found by o'brien
        "\u2018": "'",
    }
)
# Marks are stripped only after Latin, Greek and Cyrillic letters (é -> e), where they are
# accents. In Indic scripts the same Unicode category carries vowel signs, which are letters
# a person types, so those are kept.
_ACCENTED_BLOCK_END = 0x0530


def normalise(text: str) -> str:
    """Case- and accent-insensitive form of ``text`` for searching and sorting.

    ``"  Émile  DUBOIS "`` -> ``"emile dubois"``; ``"Łukasz"`` -> ``"lukasz"``; ``"Straße"``
    -> ``"strasse"``. Whitespace is collapsed to single spaces.
    """
    if text.isascii():  # the common case, ten times faster
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept: list[str] = []
    base = 0
    for char in decomposed:
        if unicodedata.combining(char):
            if base < _ACCENTED_BLOCK_END:
                continue
        else:
            base = ord(char)
        kept.append(char)
    folded = unicodedata.normalize("NFC", "".join(kept)).translate(_FOLD)
    return " ".join(folded.split())


_NON_DIGITS = re.compile(r"\D")
_EXTENSION = re.compile(r"(?i)\s*(?:;\s*ext\s*=|ext\.?|x)\s*\d+$")


def digits_of(text: str) -> str:
    """The ASCII digits of ``text`` (other scripts' digits are converted): ``+91 886-71``
    -> ``9188671``."""
    if text.isdigit() and text.isascii():
        return text
    if not text.isascii():
        text = "".join(str(unicodedata.digit(c, "")) if c.isdigit() else c for c in text)
    return _NON_DIGITS.sub("", text)


_trunk_zero: dict[str, bool] = {}  # country code -> whether its national form starts with 0


def _writes_trunk_zero(country_code: str) -> bool:
    """Whether numbers of this country are written nationally with a leading ``0`` (India,
    the UK...), unlike the US. Metadata is read once per country code."""
    known = _trunk_zero.get(country_code)
    if known is None:
        import phonenumbers

        code = int(country_code)
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code) or ("001",)
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, regions[0])
        known = getattr(metadata, "national_prefix", None) == "0"
        _trunk_zero[country_code] = known
    return known


_COUNTRY_CODES: set[str] = set()


def _load_country_codes() -> set[str]:
    import phonenumbers

    _COUNTRY_CODES.update(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    return _COUNTRY_CODES


def split_country_code(full_digits: str) -> tuple[str, str] | None:
    """``918867135000`` -> ``("91", "8867135000")``; ``None`` when no country code fits.

    Country codes are prefix-free, so the first of 1, 2 or 3 leading digits that is one wins.
    Cheap: no parsing, so that storing 100,000 contacts does not cost 100,000 parses.
    """
    codes = _COUNTRY_CODES or _load_country_codes()
    if full_digits[:1] in codes:
        head = full_digits[:1]
    elif full_digits[:2] in codes:
        head = full_digits[:2]
    elif full_digits[:3] in codes:
        head = full_digits[:3]
    else:
        return None
    return (head, full_digits[len(head) :]) if len(full_digits) > len(head) else None


def number_keys(number: str) -> tuple[str, str, bool]:
    """What a stored number is compared by: ``(full digits, national part, international)``.

    ``+918867135000`` gives ``("918867135000", "8867135000", True)``; a number not written
    internationally (``088671 35000``) gives its digits, and as its national part the
    digits without trunk zeros: ``("08867135000", "8867135000", False)``. An extension
    (``ext. 12``, ``x12``, ``;ext=12``) is left out.
    """
    stripped = number.strip()
    if stripped[:1] == "+" and stripped[1:].isdigit() and stripped.isascii():
        digits = stripped[1:]  # E.164, as nearly every stored number is
    else:
        digits = digits_of(_EXTENSION.sub("", stripped))
    if stripped.startswith(("+", "00")):
        full = digits[2:] if stripped.startswith("00") else digits
        split = split_country_code(full)
        return full, split[1] if split is not None else full, True
    return digits, digits.lstrip("0"), False


def number_search_text(number: str) -> str:
    """The digit strings a number is found by, space separated: its full international
    digits and, for countries that write a trunk ``0`` (India, UK...), the national form
    with it, so that ``0886`` finds ``+918867135000``."""
    if number[:1] == "+" and number.isascii() and number[1:].isdigit():
        full = number[1:]  # E.164: the fast path, taken 100,000 times by a bulk import
    else:
        full, _national, international = number_keys(number)
        if not international:
            return full
    split = split_country_code(full)
    if split is not None and _writes_trunk_zero(split[0]):
        return f"{full} 0{split[1]}"
    return full
