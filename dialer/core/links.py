"""What a clicked link, a command-line argument or the global hotkey asks to dial.

Browsers and CRMs hand the app ``tel:``, ``callto:`` and ``sip:`` URLs as they appear in a
page: percent-encoded (``tel:%2B91%2088671%2035000``), sometimes with ``//`` after the scheme
(``callto://+91...``, ``tel://...``) or a trailing ``/``. :func:`dial_text` turns any of them,
or a bare number, into the text the window's number entry shows; the entry then validates it
for the chosen account (a ``sip:`` address only where the provider dials SIP contacts, so
that refusal names the provider). What no account could ever dial is refused here, with a
sentence: an unknown scheme, a local ``tel:`` number whose ``phone-context`` is a domain.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from dialer.core.errors import InvalidNumber
from dialer.core.numbers import parse_tel_uri

SCHEMES = ("tel", "callto", "sip", "sips")
# A bare number on a command line or in a selection: digits with the usual separators, an
# optional leading "+" and an optional extension.
_BARE_NUMBER = re.compile(r"\+?[\d\s().\-/]{3,}((ext\.?|x|;ext=)\s*\d+)?", re.IGNORECASE)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


def is_dial_target(text: str) -> bool:
    """Whether a command-line argument is something to dial (a link or a number) rather
    than a command: ``dialer tel:+91...``, ``dialer +91 88671 35000``."""
    stripped = text.strip()
    scheme = _SCHEME.match(stripped)
    if scheme is not None:
        return scheme.group(1).lower() in SCHEMES
    return bool(_BARE_NUMBER.fullmatch(stripped)) and any(c.isdigit() for c in stripped)


def dial_text(raw: str) -> str:
    """The number entry's text for a link or a number (see the module's docstring).

    ``tel:``/``callto:`` become the number as dialled (``+918867135000``, ``ext. 12`` when the
    link has ``;ext=``, a numeric ``phone-context`` applied); a ``sip:`` address stays as it
    is; anything else is returned stripped, for the entry to validate. Raises
    :class:`InvalidNumber` with the reason for what cannot be a call.
    """
    text = raw.strip()
    if not text:
        raise InvalidNumber("The link has no number in it")
    scheme_match = _SCHEME.match(text)
    if scheme_match is None:
        return text
    scheme = scheme_match.group(1).lower()
    if scheme not in SCHEMES:
        raise InvalidNumber(
            f"'{text}' is a {scheme}: link; the dialer handles tel:, callto: and sip: links"
        )
    body = unquote(text[scheme_match.end() :]).strip()
    if body.startswith("//"):
        body = body[2:]
    body = body.rstrip("/").strip()
    if not body:
        raise InvalidNumber(f"'{text}' has no number in it")
    if scheme in ("sip", "sips"):
        return f"{scheme}:{body}"
    if scheme == "callto" and not re.search(r"\d", body):
        raise InvalidNumber(f"'{text}' names an account of a chat program, not a phone number")
    number, extension = parse_tel_uri(f"tel:{body}")
    return f"{number} ext. {extension}" if extension else number


__all__ = ["SCHEMES", "dial_text", "is_dial_target"]
