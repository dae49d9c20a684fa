"""Phone numbers: parsing what people type or click, and formatting for each wire.

Parsing and validation are ``phonenumbers``' (Google's libphonenumber metadata); this module
only adds RFC 3966 ``tel:`` handling, ``sip:`` contacts for Kazoo, the per-account wire
formats, and error sentences that say exactly what is wrong.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from dialer.core.errors import InvalidNumber

if TYPE_CHECKING:
    import phonenumbers


class NumberFormat(StrEnum):
    """How a number is written in a provider request."""

    DIGITS = "digits"  # country code + national number, no "+": 918867135000
    E164 = "e164"  # +918867135000
    NATIONAL = "national"  # national significant number: 8867135000


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A validated telephone number."""

    e164: str
    country_code: int
    national_number: str
    region: str | None
    extension: str | None = None

    def for_wire(self, fmt: NumberFormat) -> str:
        if fmt is NumberFormat.E164:
            return self.e164
        if fmt is NumberFormat.NATIONAL:
            return self.national_number
        return self.e164.lstrip("+")

    def __str__(self) -> str:
        return self.e164


@dataclass(frozen=True, slots=True)
class SipAddress:
    """A ``sip:`` contact; only providers that declare SIP support accept one."""

    uri: str

    def for_wire(self, fmt: NumberFormat) -> str:
        return self.uri

    def __str__(self) -> str:
        return self.uri


Contact = PhoneNumber | SipAddress

_VISUAL_SEPARATORS = re.compile(r"[\s\-.()\u00a0\u2010-\u2015/]")
_SIP_URI = re.compile(
    r"^sips?:[^@\s]+@[A-Za-z0-9.\-\[\]:]+(;[^\s]*)?$|^sips?:[+\d][\d]*(@[^\s]+)?$"
)
_REGION = re.compile(r"^[A-Z]{2}$")


def _reason_text(reason: int, text: str, region: str | None) -> str | None:
    import phonenumbers

    where = f" for {region_name(region)}" if region else ""
    messages = {
        phonenumbers.ValidationResult.TOO_SHORT: f"{_shown(text)} is too short for a number{where}",
        phonenumbers.ValidationResult.TOO_LONG: f"{_shown(text)} is too long for a number{where}",
        phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: (
            f"{_shown(text)} does not start with a known country code"
        ),
        phonenumbers.ValidationResult.INVALID_LENGTH: (
            f"{_shown(text)} has the wrong number of digits{where}"
        ),
    }
    return messages.get(reason)


def region_name(region: str | None) -> str:
    """``IN`` -> ``India (IN)``; falls back to the code. (A table of names: phonenumbers'
    geocoder would cost about 100 MB of every language's place names.)"""
    if not region:
        return "an unknown country"
    from dialer.core.region_names import NAMES

    name = NAMES.get(region)
    return f"{name} ({region})" if name else region


SHOWN_LENGTH = 40  # of what was typed, quoted in a message


def _shown(text: str) -> str:
    """What was typed, quoted for a one-line message: control characters (a pasted line
    break) written as escapes, and cut to :data:`SHOWN_LENGTH` characters (a 5,000-digit
    paste is not echoed whole)."""
    visible = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(visible) > SHOWN_LENGTH:
        visible = visible[: SHOWN_LENGTH - 1] + "…"
    return f"'{visible}'"


def validate_region(region: str) -> str:
    """Normalise an ISO 3166 region code (``in`` -> ``IN``) or refuse it."""
    import phonenumbers

    code = region.strip().upper()
    if not _REGION.match(code) or code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidNumber(
            f"{_shown(region)} is not a country code this dialer knows: give a two-letter "
            "code such as IN, GB or US"
        )
    return code


def parse_tel_uri(uri: str) -> tuple[str, str | None]:
    """Split an RFC 3966 ``tel:`` URI into (dialable text, extension).

    A global number (``tel:+91-88671-35000``) stands alone; a local one needs a numeric
    ``phone-context`` (``tel:35000;phone-context=+91-88671``), whose digits are put in front.
    A domain context (``phone-context=example.com``) names a private dial plan that a
    click-to-call service cannot reach, so it is refused.
    """
    body = uri.split(":", 1)[1] if ":" in uri else uri
    number, *params = body.split(";")
    fields: dict[str, str] = {}
    for param in params:
        key, _, value = param.partition("=")
        fields[key.strip().lower()] = value.strip()
    number = _VISUAL_SEPARATORS.sub("", number)
    if not number:
        raise InvalidNumber(f"{_shown(uri)} has no number in it")
    if not number.startswith("+"):
        context = fields.get("phone-context")
        if not context:
            raise InvalidNumber(
                f"{_shown(uri)} is a local tel: number without a phone-context; "
                "write it with its country code (tel:+...)"
            )
        context_digits = _VISUAL_SEPARATORS.sub("", context)
        if not re.fullmatch(r"\+\d+", context_digits):
            raise InvalidNumber(
                f"{_shown(uri)} belongs to the private dial plan {_shown(context)}, "
                "which a click-to-call service cannot dial"
            )
        number = context_digits + number
    ext = fields.get("ext") or None
    return number, (_VISUAL_SEPARATORS.sub("", ext) if ext else None)


@functools.lru_cache(maxsize=1024)  # the agent's own and the recent customers
def parse_number(text: str, region: str | None = None) -> PhoneNumber:
    """Parse typed, pasted or clicked input into a valid :class:`PhoneNumber`.

    ``region`` (ISO code) is used for national input such as ``088671 35000``. Raises
    :class:`InvalidNumber` with a sentence that says what is wrong. Cached: an agent's own
    number is parsed on every call, and the result is immutable.
    """
    import phonenumbers

    original = text.strip()
    if not original:
        raise InvalidNumber("No phone number given")
    candidate, extension = original, None
    lowered = candidate.lower()
    if lowered.startswith(("tel:", "callto:")):
        candidate, extension = parse_tel_uri(candidate)
    elif lowered.startswith(("sip:", "sips:")):
        raise InvalidNumber(f"{_shown(original)} is a SIP address, not a phone number")
    if re.search(r"[A-Za-z]", re.sub(r"(?i)(ext\.?|x)\s*\d+$", "", candidate)):
        raise InvalidNumber(f"{_shown(original)} contains letters; a phone number has only digits")
    if region is None and re.fullmatch(r"[1-9]\d{7,14}", _VISUAL_SEPARATORS.sub("", candidate)):
        # Digits with no "+" and no default country: read them the way the wire writes them,
        # country code first (918867135000), as agents paste them from provider panels.
        try:
            return parse_number("+" + _VISUAL_SEPARATORS.sub("", candidate))
        except InvalidNumber:
            raise InvalidNumber(
                f"{_shown(original)} has no country code and no default country is set; "
                "write it as +<country code><number> or set the account's region (its country)"
            ) from None
    try:
        parsed = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            if region is None and not candidate.lstrip().startswith("+"):
                raise InvalidNumber(
                    f"{_shown(original)} has no country code and no default country is set; "
                    "write it as +<country code><number> or set the account's region (its country)"
                ) from None
            raise InvalidNumber(
                f"{_shown(original)} does not start with a known country code"
            ) from None
        if exc.error_type in (
            phonenumbers.NumberParseException.TOO_SHORT_NSN,
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD,
        ):
            raise InvalidNumber(f"{_shown(original)} is too short to be a phone number") from None
        if exc.error_type == phonenumbers.NumberParseException.TOO_LONG:
            raise InvalidNumber(f"{_shown(original)} is too long to be a phone number") from None
        raise InvalidNumber(f"{_shown(original)} is not a phone number") from None
    return _validated(parsed, original, extension)


def _validated(
    parsed: phonenumbers.PhoneNumber, original: str, extension: str | None
) -> PhoneNumber:
    import phonenumbers

    number_region: str | None = phonenumbers.region_code_for_number(parsed) or (
        phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    )
    if number_region == phonenumbers.UNKNOWN_REGION:
        number_region = None
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason not in (
        phonenumbers.ValidationResult.IS_POSSIBLE,
        phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ):
        message = _reason_text(reason, original, number_region)
        raise InvalidNumber(message or f"{_shown(original)} is not a possible phone number")
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(
            f"{_shown(original)} is not a valid number in {region_name(number_region)}"
        )
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        country_code=parsed.country_code or 0,
        national_number=phonenumbers.national_significant_number(parsed),
        region=number_region,
        extension=extension or parsed.extension or None,
    )


def parse_contact(text: str, region: str | None = None, *, allow_sip: bool = False) -> Contact:
    """Like :func:`parse_number`, but a ``sip:`` URI is accepted where ``allow_sip`` is set."""
    stripped = text.strip()
    if stripped.lower().startswith(("sip:", "sips:")):
        if not allow_sip:
            raise InvalidNumber(
                f"{_shown(stripped)} is a SIP address; this provider dials phone numbers only"
            )
        if not _SIP_URI.match(stripped):
            raise InvalidNumber(f"{_shown(stripped)} is not a valid SIP address (sip:user@host)")
        return SipAddress(stripped)
    return parse_number(stripped, region)


def format_as_you_type(text: str, region: str) -> str:
    """Progressive formatting for a number entry field (used by the window)."""
    import phonenumbers

    formatter = phonenumbers.AsYouTypeFormatter(region)
    result = text
    for char in text:
        if char.isdigit() or char == "+":
            result = formatter.input_digit(char)
    return result


def calling_regions() -> list[tuple[str, int]]:
    """Every region phonenumbers knows with its country calling code, sorted by region.

    Read from phonenumbers' code-to-regions table: asking each region for its code would
    load the numbering plan of every one of the 245 (about 300 modules) to fill a list."""
    import phonenumbers

    codes: dict[str, int] = {}
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            codes.setdefault(region, code)
    return sorted((region, codes[region]) for region in phonenumbers.SUPPORTED_REGIONS)


def display_international(number: str) -> str:
    """``+918867135000`` -> ``+91 88671 35000``; anything unparsable is shown as stored."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def prepare_regions(regions: Iterable[str | None]) -> None:
    """Load and compile phonenumbers' rules for these regions (a worker thread's job): the
    first number checked for a region otherwise compiles its patterns on the caller's
    thread, about 15 ms on the window's loop (benchmarks/stall.py)."""
    import phonenumbers

    for region in {r for r in regions if r}:
        example = phonenumbers.example_number(region)
        if example is not None:
            phonenumbers.is_valid_number(example)
