"""Links and numbers from outside the app, as browsers, CRMs and command lines give them."""

from __future__ import annotations

import pytest

from dialer.core.errors import InvalidNumber
from dialer.core.links import dial_text, is_dial_target
from dialer.core.numbers import parse_number


@pytest.mark.parametrize(
    ("link", "text"),
    [
        ("tel:+91-88671-35000", "+918867135000"),  # RFC 3966 visual separators
        ("tel:+91.88671.(35000)", "+918867135000"),
        ("tel:%2B91%2088671%2035000", "+918867135000"),  # percent-encoded by a browser
        ("TEL:+918867135000", "+918867135000"),
        ("tel://+918867135000/", "+918867135000"),
        ("callto:+918867135000", "+918867135000"),
        ("callto://+91 88671 35000", "+918867135000"),
        ("tel:35000;phone-context=+91-88671", "+918867135000"),  # numeric context applied
        ("tel:+91-88671-35000;ext=12", "+918867135000 ext. 12"),
        ("tel:+918867135000;ext=12;isub=1", "+918867135000 ext. 12"),
        ("sip:alice@pbx.example.com", "sip:alice@pbx.example.com"),
        ("sip:1001%40pbx.example.com", "sip:1001@pbx.example.com"),
        ("  +91 88671 35000  ", "+91 88671 35000"),  # a bare number: the entry validates it
    ],
)
def test_links_become_the_number_as_dialled(link: str, text: str) -> None:
    assert dial_text(link) == text


def test_the_extension_survives_to_the_parsed_number() -> None:
    number = parse_number(dial_text("tel:+91-88671-35000;ext=12"))
    assert (number.e164, number.extension) == ("+918867135000", "12")


@pytest.mark.parametrize(
    ("link", "says"),
    [
        ("tel:7042;phone-context=example.com", "private dial plan 'example.com'"),
        ("tel:35000", "without a phone-context"),
        ("mailto:agent@example.com", "mailto: link; the dialer handles tel:, callto: and sip:"),
        ("https://crm.example.com/call?n=1", "https: link"),
        ("callto:some.chat.user", "account of a chat program"),
        ("tel:", "has no number"),
        ("   ", "no number"),
    ],
)
def test_what_no_account_could_dial_is_refused_with_its_reason(link: str, says: str) -> None:
    with pytest.raises(InvalidNumber, match=says.replace("(", r"\(")):
        dial_text(link)


@pytest.mark.parametrize(
    ("argument", "dial"),
    [
        ("tel:+918867135000", True),
        ("callto:+918867135000", True),
        ("sip:alice@example.com", True),
        ("+91 88671 35000", True),
        ("08867135000", True),
        ("(020) 7946-0018 ext. 4", True),
        ("call", False),
        ("history", False),
        ("12", False),
        ("https://example.com", False),
        ("mailto:x@example.com", False),
    ],
)
def test_command_line_arguments_that_are_numbers_or_links(argument: str, dial: bool) -> None:
    assert is_dial_target(argument) is dial
