"""Polled provider reports, parsed into :class:`ProviderReport`: a Click2Call v1 report line
and a Kazoo clicktocall history item.

Pure functions, no I/O. ``body`` is what the provider sent, kept verbatim in the history; a
report that cannot be read raises :class:`ReportParseError` and nothing else.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallStatus
from dialer.history.records import ProviderReport
from dialer.providers.click2call_v1 import V1Report, parse_v1_report
from dialer.providers.kazoo import GREGORIAN_UNIX_OFFSET

SOURCE = "poll"


class ReportParseError(ValueError):
    """A polled report that cannot be read as one; the message says what is wrong."""


# -- Click2Call v1 ---------------------------------------------------------------------------


def v1_report(
    report: V1Report,
    *,
    account: str | None = None,
    call_id: str | None = None,
    provider_ref: str | None = None,
    reported_at: float | None = None,
) -> ProviderReport:
    """What a ``report-click2call.php`` row says about a call whose durations are final.

    The document (seed 002): "In case any number is not answered/busy/invalid/not reachable
    then duration will be 0". A conversation happened when the second number's leg has a
    duration; the first leg may have one without it (the agent answered, the customer did
    not). Whether a row is final is the tracker's decision, not this function's.
    """
    first, second = report.first_leg_seconds, report.second_leg_seconds
    if first < 0 or second < 0:
        raise ReportParseError(f"negative duration in a Click2Call v1 report: {first},{second}")
    answered = second > 0
    return ProviderReport(
        provider=str(ProviderKind.CLICK2CALL_V1),
        source=SOURCE,
        body=report.text or f"{report.id},{first},{second},{report.credit}",
        status=CallStatus.COMPLETED if answered else CallStatus.NO_ANSWER,
        account=account,
        call_id=call_id,
        provider_ref=provider_ref,
        answered=answered,
        reported_at=reported_at,
        agent_seconds=first,
        talk_seconds=second,
        charge=_credit(report.credit),
    )


def parse_v1_report_text(
    text: str,
    *,
    account: str | None = None,
    call_id: str | None = None,
    provider_ref: str | None = None,
    reported_at: float | None = None,
) -> ProviderReport | None:
    """A report body as received; None when it has no row yet."""
    try:
        row = parse_v1_report(text)
    except ValueError:
        raise ReportParseError("not a Click2Call v1 report (id,dur1,dur2,credit)") from None
    if row is None:
        return None
    return v1_report(
        row, account=account, call_id=call_id, provider_ref=provider_ref, reported_at=reported_at
    )


def _credit(text: str) -> float | None:
    """The credit used, when it is a number; the body keeps it as sent either way."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# -- Kazoo ----------------------------------------------------------------------------------

# Hangup causes (Q.850 names as FreeSWITCH and Kazoo spell them, and the texts Kazoo's
# clicktocall writes itself) that say more than "failed". Kazoo already counts
# NORMAL_CLEARING, ORIGINATOR_CANCEL and SUCCESS as a ``success`` result.
_KAZOO_CAUSES = {
    "USER_BUSY": CallStatus.BUSY,
    "NO_ANSWER": CallStatus.NO_ANSWER,
    "NO_USER_RESPONSE": CallStatus.NO_ANSWER,
    "ALLOTTED_TIMEOUT": CallStatus.NO_ANSWER,
    "PROGRESS_TIMEOUT": CallStatus.NO_ANSWER,
    "RECOVERY_ON_TIMER_EXPIRE": CallStatus.NO_ANSWER,
    "SUBSCRIBER_ABSENT": CallStatus.NO_ANSWER,
    "TIMED OUT": CallStatus.NO_ANSWER,  # the originate got no answer within its timeout
    "ORIGINATOR_CANCEL": CallStatus.CANCELLED,
    # Q.850 cause codes, in case a deployment reports numbers.
    "17": CallStatus.BUSY,
    "18": CallStatus.NO_ANSWER,
    "19": CallStatus.NO_ANSWER,
    "487": CallStatus.CANCELLED,
}


def kazoo_status(result: str, cause: str) -> CallStatus:
    """The status of a history item: ``success`` completed; an error by its cause."""
    if result.strip().lower() == "success":
        return CallStatus.COMPLETED
    return _KAZOO_CAUSES.get(cause.strip().upper(), CallStatus.FAILED)


def kazoo_history_report(
    item: Mapping[str, Any] | str,
    *,
    account: str | None = None,
    clicktocall_id: str | None = None,
    extension: str | None = None,
    call_id: str | None = None,
) -> ProviderReport:
    """What one ``/clicktocall/{id}/history`` item says.

    ``item`` is the object from the listing (or its JSON text): ``timestamp`` (Gregorian
    seconds), ``contact`` (who was called), ``call_id`` (the leg to the contact, the
    ``outbound_call_id`` connect answered), ``result`` (``success``/``error``) and ``cause``.
    ``extension`` is the clicktocall's (the agent's phone), ``call_id`` our own reference when
    the caller already knows which call the item is about.
    """
    if isinstance(item, str):
        try:
            item = json.loads(item)
        except ValueError:
            raise ReportParseError("a Kazoo history item that is not JSON") from None
    if not isinstance(item, Mapping):
        raise ReportParseError("a Kazoo history item that is not a JSON object")
    result = item.get("result")
    if not isinstance(result, str) or not result.strip():
        raise ReportParseError("a Kazoo history item without a result")
    contact = _text(item.get("contact")) if isinstance(item.get("contact"), str | int) else ""
    if not contact:
        raise ReportParseError("a Kazoo history item without a contact")
    cause = _text(item.get("cause"))
    status = kazoo_status(result, cause)
    started = _unix_time(item.get("timestamp"))
    leg = _text(item.get("call_id")) or None
    try:
        body = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        raise ReportParseError("a Kazoo history item that is not plain JSON") from None
    return ProviderReport(
        provider=str(ProviderKind.KAZOO),
        source=SOURCE,
        body=body,
        status=status,
        account=account,
        call_id=call_id,
        provider_ref=leg,
        bridge=clicktocall_id,
        agent=extension,
        customer=contact,
        answered=status is CallStatus.COMPLETED,
        started_at=started,
        reported_at=started,
        cause=cause or result.strip(),
    )


def _text(value: object) -> str:
    if value is None or isinstance(value, bool | dict | list):
        return ""
    try:
        return str(value).strip()
    except ValueError:  # an integer too long to print
        return ""


def kazoo_item_time(item: Mapping[str, Any]) -> float | None:
    """When a history item's clicktocall was activated, as unix time (None if unknown)."""
    return _unix_time(item.get("timestamp"))


_LATEST_UNIX = 10**11  # beyond any real time: the item's timestamp is not one


def _unix_time(value: object) -> float | None:
    """Gregorian seconds as unix time; None when absent or not a plausible time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 15:
            return None
        value = int(text)
    if isinstance(value, int):
        unix = value - GREGORIAN_UNIX_OFFSET
        return float(unix) if 0 <= unix < _LATEST_UNIX else None
    if isinstance(value, float) and math.isfinite(value):
        unix_f = value - GREGORIAN_UNIX_OFFSET
        return unix_f if 0 <= unix_f < _LATEST_UNIX else None
    return None
