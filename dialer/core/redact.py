"""Keeping secrets out of everything a person or a log can read.

Three of the four services carry a secret in the query string (v1 ``pin``, DigiDonar
``authcode``, the v2 ``access_token`` fallback) and two in headers. Anything that turns a
request, a URL or a provider body into text goes through here first.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# Field names whose values are secrets wherever they appear (query, form, JSON, headers).
SECRET_FIELDS = frozenset(
    {
        "pin",
        "authcode",
        "access_token",
        "api_key",
        "password",
        "credentials",
        "token",
        "auth_token",
        "authorization",
        "x-auth-token",
        "secret",
    }
)

_SECRET_PAIR = re.compile(
    r"(?i)\b(" + "|".join(re.escape(f) for f in sorted(SECRET_FIELDS)) + r")"
    r"(\"?\s*[=:]\s*\"?)(?:bearer\s+)?([^&\s\"',;}]+)"
)
# "Bearer <token>" wherever it is quoted (h11's "Illegal header value b'Bearer ...'"): the
# token is a secret even when it is too short to be registered.
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\*\*\*)([^\s'\",;}]+)")

_known_secrets: set[str] = set()
_known_lock = threading.Lock()


MIN_REGISTERED_LENGTH = 6  # shorter values (a 4-digit PIN) would mask ordinary words and
# numbers everywhere; they are still masked wherever they appear as a field's value


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`scrub` removes it from any text, whatever its field,
    and however the text quotes it: as Python shows it in an exception (``b'Bearer a\\nb'``),
    as JSON or a URL escapes it, or with its line breaks flattened into an excerpt."""
    if value and len(value) >= MIN_REGISTERED_LENGTH:
        forms = _quoted_forms(value)
        with _known_lock:
            _known_secrets.update(forms)


def _quoted_forms(value: str) -> set[str]:
    import json
    from urllib.parse import quote, quote_plus

    forms = {
        value,
        repr(value)[1:-1],
        repr(value.encode("utf-8", "backslashreplace"))[2:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
        " ".join(value.split()),
    }
    return {form for form in forms if len(form) >= MIN_REGISTERED_LENGTH}


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """Return ``text`` with every known secret and every ``secret_field=value`` masked."""
    text = scrub_known(text, extra)
    return _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def scrub_known(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret (however quoted) and every Bearer token masked, but
    not ``field: value`` pairs: for our own sentences, where "credentials: Invalid Auth
    Code" is prose (what a provider said in them went through :func:`excerpt` already)."""
    with _known_lock:
        secrets = sorted({*_known_secrets, *(s for s in extra if s)}, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return _BEARER.sub(lambda m: f"{m.group(1)}{MASK}", text)


def redact_url(url: str) -> str:
    """The URL with secret query values and any user-info replaced by a mask."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = urlencode(
        [
            (k, MASK if k.lower() in SECRET_FIELDS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return scrub(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def redact_mapping(data: Mapping[str, object]) -> dict[str, object]:
    """A copy of a request's fields or headers with secret values masked (recursively)."""
    out: dict[str, object] = {}
    for key, value in data.items():
        if key.lower() in SECRET_FIELDS:
            out[key] = MASK
        elif isinstance(value, Mapping):
            out[key] = redact_mapping(value)
        elif isinstance(value, str):
            out[key] = scrub(value)
        else:
            out[key] = value
    return out


def excerpt(body: str | bytes, limit: int = 160) -> str:
    """A short, single-line, secret-free excerpt of a provider's answer for an error message."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if re.search(r"(?i)<(html|body|head|!doctype)", body):
        # An HTML page: the <title> or the visible text says more than the markup.
        title = re.search(r"(?is)<title[^>]*>(.*?)</title>", body)
        text = title.group(1) if title else re.sub(r"(?s)<[^>]+>", " ", body)
        body = "HTML page: " + text
    flat = " ".join(scrub(body).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secrets from every record's final message.

    Installed on the handlers by :func:`dialer.core.logs.setup_logging`; it also catches
    third-party loggers (httpx logs every request URL at INFO, query string included).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            # A traceback quotes exception messages, which may quote a secret: formatted
            # (unless another handler did already), scrubbed, and kept where every
            # formatter reuses it.
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(text)
        return True
