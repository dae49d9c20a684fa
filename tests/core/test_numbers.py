from __future__ import annotations

import pytest

from dialer.core.errors import InvalidNumber
from dialer.core.numbers import (
    NumberFormat,
    PhoneNumber,
    SipAddress,
    parse_contact,
    parse_number,
    validate_region,
)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("+91 88671 35000", None),
        ("+91-88671-35000", None),
        ("918867135000", None),  # the wire form, pasted from a provider panel
        ("08867135000", "IN"),
        ("8867135000", "IN"),
        ("(088) 6713-5000", "IN"),
        ("tel:+91-88671-35000", None),
        ("TEL:+91.88671.35000", "GB"),
        ("tel:35000;phone-context=+91-88671", None),
    ],
)
def test_accepted_forms_all_mean_the_same_number(text: str, region: str | None) -> None:
    number = parse_number(text, region)
    assert number.e164 == "+918867135000"
    assert number.region == "IN"


def test_wire_formats() -> None:
    number = parse_number("+91 88671 35000")
    assert number.for_wire(NumberFormat.DIGITS) == "918867135000"
    assert number.for_wire(NumberFormat.E164) == "+918867135000"
    assert number.for_wire(NumberFormat.NATIONAL) == "8867135000"


def test_tel_extension_is_kept_apart_from_the_number() -> None:
    number = parse_number("tel:+44-20-7946-0958;ext=1234")
    assert number.e164 == "+442079460958"
    assert number.extension == "1234"


@pytest.mark.parametrize(
    ("text", "region", "fragment"),
    [
        ("", "IN", "No phone number"),
        ("123", "IN", "too short"),
        ("98765432101234567", "IN", "too long"),
        ("+999 1234 5678", None, "known country code"),
        ("call me", "IN", "letters"),
        ("9876543210", None, "no default country"),
        ("+91 5555 555555", None, "not a valid number in India"),
        ("+1 555 010 0000", None, "not a valid number in United States"),
        ("tel:35000;phone-context=example.com", None, "private dial plan"),
        ("tel:35000", None, "phone-context"),
        ("sip:agent@pbx.example.com", "IN", "SIP address"),
    ],
)
def test_invalid_numbers_get_a_specific_message(
    text: str, region: str | None, fragment: str
) -> None:
    with pytest.raises(InvalidNumber) as info:
        parse_number(text, region)
    assert fragment in str(info.value)


def test_sip_contacts_only_where_allowed() -> None:
    assert parse_contact("sip:1001@pbx.example.com", allow_sip=True) == SipAddress(
        "sip:1001@pbx.example.com"
    )
    with pytest.raises(InvalidNumber, match="phone numbers only"):
        parse_contact("sip:1001@pbx.example.com", allow_sip=False)
    with pytest.raises(InvalidNumber, match="not a valid SIP address"):
        parse_contact("sip:nohost", allow_sip=True)
    assert isinstance(parse_contact("+918867135000", allow_sip=True), PhoneNumber)


def test_region_codes() -> None:
    assert validate_region("in") == "IN"
    with pytest.raises(InvalidNumber, match="not a country code"):
        validate_region("XX")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("+91 88671\n35000", r"'+91 88671\n35000'"),  # a pasted line break, on one line
        ("9" * 5000, "'" + "9" * 39 + "…'"),  # quoted, and cut
        ("+91\x1b[31m88671", r"'+91\x1b[31m88671'"),  # no escape sequence reaches a terminal
    ],
)
def test_what_was_typed_is_quoted_on_one_line_and_cut(text: str, shown: str) -> None:
    with pytest.raises(InvalidNumber) as refused:
        parse_number(text, "IN")
    message = str(refused.value)
    assert shown in message and "\n" not in message and len(message) < 200


def test_calling_regions_are_listed_without_loading_each_regions_numbering_plan() -> None:
    import subprocess
    import sys

    script = (
        "import sys; from dialer.core.numbers import calling_regions; "
        "regions = calling_regions(); "
        "loaded = [m for m in sys.modules if m.startswith('phonenumbers.data.region_')]; "
        "print(len(regions), len(loaded), dict(regions)['IN'], dict(regions)['GB'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["245", "0", "91", "44"]
