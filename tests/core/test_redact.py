from __future__ import annotations

import logging

import pytest

from dialer.core.redact import (
    RedactingFilter,
    excerpt,
    redact_mapping,
    redact_url,
    register_secret,
    scrub,
)


def test_query_secrets_are_masked() -> None:
    url = "https://cloud.example/api_v2/click_to_call_v3?calling_party_a=98&authcode=s3cr3t&x=1"
    clean = redact_url(url)
    assert "s3cr3t" not in clean
    assert "calling_party_a=98" in clean
    assert "authcode=***" in clean


def test_userinfo_is_masked() -> None:
    assert "pw" not in redact_url("https://user:pw@example.com/x")


def test_mapping_masks_secret_fields_recursively() -> None:
    data = {"uid": "u1", "pin": "1234", "data": {"api_key": "k", "name": "n"}}
    assert redact_mapping(data) == {
        "uid": "u1",
        "pin": "***",
        "data": {"api_key": "***", "name": "n"},
    }


def test_registered_secrets_vanish_from_any_text() -> None:
    register_secret("tok-XYZ-123")
    assert scrub("Bearer tok-XYZ-123 was refused") == "Bearer *** was refused"
    assert "tok-XYZ-123" not in excerpt("<html><title>bad tok-XYZ-123</title></html>")


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abc.def",
        '{"api_key": "abc.def"}',
        "pin=abc.def&uid=1",
        "X-Auth-Token: abc.def",
    ],
)
def test_field_patterns_are_masked(text: str) -> None:
    assert "abc.def" not in scrub(text)


def test_html_excerpt_uses_the_title() -> None:
    page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>x</body></html>"
    assert excerpt(page) == "HTML page: 502 Bad Gateway"


def test_excerpt_is_short_and_single_line() -> None:
    text = excerpt("a\nb " * 200, limit=50)
    assert "\n" not in text
    assert len(text) <= 50


def test_logging_filter_scrubs_formatted_messages() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "GET %s", ("/r?pin=9999",), None)
    RedactingFilter().filter(record)
    assert "9999" not in record.getMessage()


@pytest.mark.parametrize(
    "quoted",
    [
        "Illegal header value b'Bearer s3cret\\nline-two'",  # h11, as bytes' repr
        "value 's3cret\\nline-two' refused",  # a str's repr
        '{"token": "s3cret\\nline-two"}',  # JSON
        "GET /c2c?x=s3cret%0Aline-two",  # a URL
        "excerpt: s3cret line-two",  # an excerpt flattens the line break
    ],
)
def test_a_registered_secret_is_masked_however_it_is_quoted(quoted: str) -> None:
    register_secret("s3cret\nline-two")
    assert "line-two" not in scrub(quoted)


def test_a_bearer_token_is_masked_even_when_too_short_to_register() -> None:
    assert scrub("Illegal header value b'Bearer ab12'") == "Illegal header value b'Bearer ***'"


def test_an_error_sentence_is_scrubbed_as_it_is_made_but_prose_is_left_alone() -> None:
    from dialer.core.errors import AuthenticationRefused

    register_secret("tok-9f8e7d6c")
    error = AuthenticationRefused("C2C v2 refused the credentials: Invalid token tok-9f8e7d6c")
    assert str(error) == "C2C v2 refused the credentials: Invalid token ***"
