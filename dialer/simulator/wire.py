"""Small helpers shared by the fake services: answers in the exact wire forms they use."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qsl

from aiohttp import web

logger = logging.getLogger(__name__)

# Legacy PHP answers everything as text/html unless told otherwise; clients must not trust it.
PHP_CONTENT_TYPE = "text/html"


def json_answer(
    payload: object, status: int = 200, content_type: str = "application/json"
) -> web.Response:
    # Built by hand rather than web.json_response so DigiDonar can lie about its type.
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        content_type=content_type,
        charset="UTF-8",
    )


def php_text(text: str, status: int = 200) -> web.Response:
    return web.Response(status=status, text=text, content_type=PHP_CONTENT_TYPE, charset="UTF-8")


def parse_form(body: bytes, content_type: str) -> dict[str, str]:
    if "application/x-www-form-urlencoded" not in content_type.lower():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    # Last value wins, as PHP's $_POST does with repeated keys.
    return dict(parse_qsl(text, keep_blank_values=True))


def parse_json(body: bytes) -> object | None:
    if not body.strip():
        return None
    try:
        parsed: object = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed


def query_dict(request: web.Request) -> dict[str, str]:
    # Last value wins (PHP's $_GET); multidict order keeps that well defined.
    return {key: value for key, value in request.query.items()}


def is_digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts superscripts, which int() refuses."""
    return text.isascii() and text.isdigit()


def positive_int(text: str) -> int | None:
    return int(text) if is_digits(text) and int(text) >= 1 else None


def local_datetime(unix: float, zone: str | None = None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in local time (of the IANA ``zone``, else this machine's),
    the form the C2C v2 callback uses."""
    if zone is None:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(unix))
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(unix, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
