"""Reading a C2C v2 call report (the "Callback URL with Webhook ID" push) into a
:class:`~dialer.history.records.ProviderReport`.

The document's fields: ``webhook_id, bridge, from, to, source, start_at, end_at, date,
unixtime, duration, billing, status, status1, status2, recording_url, hangup_by``; the
simulator (and the platform, when the call carried them) adds ``callId`` (the platform's
call id) and ``mid`` (our own reference, sent with the call). Anything else is kept: the
report is stored verbatim.

Value types, as the document's example and real pushes send them:

- ``bridge``, ``from``, ``to``: a JSON number or a string. A string is kept exactly (less
  surrounding blanks), so ``"flow:220"`` and leading zeros survive; a number is written in
  its digits. A fractional number, a boolean or a negative number is not a phone number and
  makes the report malformed.
- ``duration``, ``billing``, ``unixtime``: a whole number, as a JSON integer or a string of
  digits; ``""`` means not reported.
- ``start_at``, ``end_at``, ``date``: ``YYYY-MM-DD HH:MM:SS`` in the platform's local time,
  read in the zone the account names (``time_zone``; none named: this machine's local
  time). The document writes PHP's ``h:i:s``, but its example says ``16:27:39``: the hour is
  24-hour. An ISO 8601 time with an offset is read with its offset. ``""`` and PHP's zero
  date ``0000-00-00 00:00:00`` mean not reported.
- A time (those three, or ``unixtime``) that reads as one but is outside 2000-2199 is stored
  as unknown, the report verbatim as always (:mod:`dialer.core.times`).

Statuses. The platform's vocabulary (``v2/voice/index.md``) maps onto ours as follows; the
overall ``status`` decides, and only when it is missing or outside the vocabulary does
``status2`` (the customer's leg), then ``status1`` (the agent's leg):

==============================  ============  =========
platform                        CallStatus    answered
==============================  ============  =========
COMPLETED, ANSWER, RECEIVED     COMPLETED     True
BUSY                            BUSY          False
NOANSWER, MISSED                NO_ANSWER     False
CANCEL                          CANCELLED     False
CONGESTION, CHANUNAVAIL         FAILED        False
(none of the three known)       FAILED        None
==============================  ============  =========

``RECEIVED`` ("received in ivr system but not call forward") is how a flow call succeeds.

A status word outside the vocabulary is *stored*, not refused: the platform counts anything
but 200/202 as a failed delivery and gives up after a few tries, so refusing would lose the
report for good, while storing it keeps the call's durations, recording and the raw words
(in ``cause`` and the verbatim body) for a person or a later release to read. The call is
over either way (the platform reports only finished calls), so it is closed as FAILED with
``answered`` unknown rather than guessed. A report with no status at all is malformed: it
does not say it is a call report.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallStatus
from dialer.core.times import plausible, wall_clock_time
from dialer.history.records import ProviderReport

logger = logging.getLogger(__name__)

PROVIDER = str(ProviderKind.C2C_V2)
SOURCE = "webhook"

# The platform's word -> (our status, whether the customer's leg was answered).
STATUS_MAP: Mapping[str, tuple[CallStatus, bool]] = {
    "COMPLETED": (CallStatus.COMPLETED, True),
    "ANSWER": (CallStatus.COMPLETED, True),
    "RECEIVED": (CallStatus.COMPLETED, True),
    "BUSY": (CallStatus.BUSY, False),
    "NOANSWER": (CallStatus.NO_ANSWER, False),
    "MISSED": (CallStatus.NO_ANSWER, False),
    "CANCEL": (CallStatus.CANCELLED, False),
    "CONGESTION": (CallStatus.FAILED, False),
    "CHANUNAVAIL": (CallStatus.FAILED, False),
}

STATUS_FIELDS = ("status", "status1", "status2")

# Bounds that keep every value storable (SQLite integers are 64-bit) and every time
# convertible to a date: no call lasts 68 years, no report comes from after the year 9999.
MAX_SECONDS = 2**31 - 1
MAX_UNIXTIME = 253_402_300_799

_ZERO_DATE = "0000-00-00"


class MalformedCallback(Exception):
    """The body is not a C2C v2 call report; ``reason`` is one sentence saying why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def decode_callback(body: bytes) -> tuple[str, Any]:
    """The body as text (UTF-8) and as parsed JSON; raises :class:`MalformedCallback`."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedCallback("The body is not UTF-8 text.") from None
    if not text.strip():
        raise MalformedCallback("The body is empty; a call report is a JSON object.")
    try:
        # A byte-order mark is legal in front of UTF-8 JSON; json.loads refuses it.
        data = json.loads(text.removeprefix("\ufeff"))
    except RecursionError:
        raise MalformedCallback("The body is JSON nested too deeply to be a call report.") from None
    except ValueError as exc:
        raise MalformedCallback(f"The body is not valid JSON ({_json_error(exc)}).") from None
    return text, data


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)[:120]


def parse_c2c_callback(
    body: bytes, *, account: str | None, zone: tzinfo | None = None
) -> ProviderReport:
    """A C2C v2 callback body as a report about one call, for ``account`` (the account whose
    ``webhook_id`` it names; None when no account claims it), its local times read in
    ``zone`` (None: this machine's). Raises :class:`MalformedCallback` with one sentence for
    anything that is not a call report."""
    text, data = decode_callback(body)
    return callback_from_json(text, data, account=account, zone=zone)


def callback_from_json(
    text: str,
    data: Any,
    *,
    account: str | None,
    accounts: frozenset[str] | None = None,
    zone: tzinfo | None = None,
) -> ProviderReport:
    """:func:`parse_c2c_callback` for a body already decoded (``text``) and parsed
    (``data``); ``accounts``: those whose calls it may change, when more than ``account``."""
    if not isinstance(data, dict):
        raise MalformedCallback(
            f"The body is a JSON {_json_type(data)}, not an object; a call report is an object."
        )
    statuses = {name: _text(data, name) for name in STATUS_FIELDS}
    if not any(statuses.values()):
        raise MalformedCallback(
            "The body has no status, status1 or status2; it is not a call report."
        )
    # Every field is checked before anything is concluded from the statuses.
    fields: dict[str, Any] = {
        "call_id": _text(data, "mid", allow_int=True),
        "provider_ref": _text(data, "callId", allow_int=True),
        "bridge": _number(data, "bridge"),
        "agent": _number(data, "from"),
        "customer": _number(data, "to"),
        "started_at": _time(data, "start_at", zone),
        "ended_at": _time(data, "end_at", zone),
        "agent_seconds": _seconds(data, "duration"),
        "talk_seconds": _seconds(data, "billing"),
        "recording_url": _text(data, "recording_url"),
        "hangup_by": _text(data, "hangup_by"),
    }
    reported_at = _unixtime(data)
    date = _time(data, "date", zone)
    status, answered = _status(statuses)
    return ProviderReport(
        provider=PROVIDER,
        source=SOURCE,
        body=text,
        status=status,
        account=account,
        accounts=accounts,
        answered=answered,
        reported_at=reported_at if reported_at is not None else date,
        billed_seconds=fields["talk_seconds"],
        cause="/".join(statuses[name] or "" for name in STATUS_FIELDS),
        **fields,
    )


def is_verification(query: Mapping[str, str], body_json: Any) -> str | int | None:
    """The challenge to echo if this request is the platform's verification handshake
    (``?token=<validation key>`` and a body ``{"validation_key": ..., "challenge": ...}``),
    else None. The challenge is returned as it came (a string or an integer)."""
    if "token" not in query or not isinstance(body_json, dict):
        return None
    if "validation_key" not in body_json or "challenge" not in body_json:
        return None
    challenge = body_json["challenge"]
    if isinstance(challenge, bool) or not isinstance(challenge, str | int):
        return None
    return challenge


def _status(statuses: Mapping[str, str | None]) -> tuple[CallStatus, bool | None]:
    for name in ("status", "status2", "status1"):
        word = (statuses[name] or "").strip().upper()
        if word in STATUS_MAP:
            return STATUS_MAP[word]
    logger.warning(
        "C2C v2 callback with statuses outside the documented vocabulary (%s); stored as "
        "failed with its words kept",
        "/".join(statuses[name] or "" for name in STATUS_FIELDS),
    )
    return CallStatus.FAILED, None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "value"


def _text(data: Mapping[str, Any], name: str, *, allow_int: bool = False) -> str | None:
    """A text field: None when absent, null or blank."""
    value = data.get(name)
    if value is None:
        return None
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return _digits(name, value)
    if not isinstance(value, str):
        raise MalformedCallback(f"The callback's '{name}' is a JSON {_json_type(value)}, not text.")
    return _storable(value.strip()) or None


def _storable(text: str) -> str:
    """``text`` with what UTF-8 cannot hold escaped: JSON's ``"\ud800"`` is a lone surrogate,
    which no file, log or database takes. Kept as ``\ud800``, six characters (the body, as
    received, has it exactly), so the report is stored: a retry would never succeed."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _digits(name: str, value: int) -> str:
    """A JSON integer as text (Python refuses to print one of over 4,300 digits)."""
    try:
        return str(value)
    except ValueError:
        raise MalformedCallback(f"The callback's '{name}' is a number far too long.") from None


def _number(data: Mapping[str, Any], name: str) -> str | None:
    """A phone number, DID or flow: a JSON integer or a string, kept as given."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool | float):
        raise MalformedCallback(
            f"The callback's '{name}' is a JSON {_json_type(value)} ({json.dumps(value)}), "
            "not a phone number."
        )
    if isinstance(value, int):
        if value < 0:
            raise MalformedCallback(f"The callback's '{name}' is negative.")
        return _digits(name, value)
    if not isinstance(value, str):
        raise MalformedCallback(
            f"The callback's '{name}' is a JSON {_json_type(value)}, not a phone number."
        )
    return _storable(value.strip()) or None


def _whole_number(data: Mapping[str, Any], name: str, maximum: int, what: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        digits = value.strip()
        if not digits:
            return None
        if not (digits.isascii() and digits.isdigit()):
            raise MalformedCallback(f"The callback's '{name}' ({value[:40]!r}) is not {what}.")
        if len(digits) > len(str(maximum)) or int(digits) > maximum:
            raise MalformedCallback(f"The callback's '{name}' ({digits[:40]}) is out of range.")
        return int(digits)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = json.dumps(value)[:40] if isinstance(value, float) and math.isfinite(value) else ""
        extra = f" ({shown})" if shown else ""
        raise MalformedCallback(
            f"The callback's '{name}' is a JSON {_json_type(value)}{extra}, not {what}."
        )
    if not 0 <= value <= maximum:
        shown = f" ({value})" if -(10**20) < value < 10**20 else ""
        raise MalformedCallback(f"The callback's '{name}'{shown} is out of range.")
    return value


def _seconds(data: Mapping[str, Any], name: str) -> int | None:
    return _whole_number(data, name, MAX_SECONDS, "a whole number of seconds")


def _unixtime(data: Mapping[str, Any]) -> float | None:
    value = data.get("unixtime")
    if isinstance(value, int) and not isinstance(value, bool):
        return _plausible("unixtime", float(value), value)  # negative or huge: unknown
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        digits = value.strip()
        return _plausible("unixtime", float(digits) if len(digits) < 20 else None, digits)
    whole = _whole_number(data, "unixtime", MAX_UNIXTIME, "a Unix time in whole seconds")
    return None if whole is None else float(whole)


def _time(data: Mapping[str, Any], name: str, zone: tzinfo | None) -> float | None:
    """``YYYY-MM-DD HH:MM:SS`` local time in ``zone`` (or ISO 8601) as epoch seconds."""
    text = _text(data, name)
    if text is None or text.startswith(_ZERO_DATE):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedCallback(
            f"The callback's '{name}' ({text[:40]!r}) is not a time as YYYY-MM-DD HH:MM:SS."
        ) from None
    try:
        epoch = wall_clock_time(moment, zone)
    except (ValueError, OverflowError, OSError):  # a time a date, but not an instant, holds
        epoch = None
    return _plausible(name, epoch, text)


def _plausible(name: str, epoch: float | None, shown: object) -> float | None:
    """A time a call can have, or None: the report keeps it verbatim, the call as unknown
    (9999-12-31T23:59:59-12:00 is the year 10000 in UTC; every later read would fail on
    it). Refusing the report would lose it: the platform retries only a few times."""
    kept = plausible(epoch)
    if kept is None:
        logger.info(
            "C2C v2 callback's %r (%s) is not a plausible call time; stored as unknown",
            name,
            str(shown)[:40],
        )
    return kept
