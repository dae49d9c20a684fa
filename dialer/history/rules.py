"""The history's rules, the same for every backend: which call a provider report belongs to,
when a report is one already stored, what a report or an amendment changes (a finished
call is never reopened; a tracker's conclusion never overrides a stored report), and each
call's share of the totals.

A backend stores and fetches; it asks these functions what to store. They are pure (no
I/O, no clock but the ``now`` they are given) and cheap: the writer calls them once per
report, so they add no round trip and copy a record only where it changes.
"""

from __future__ import annotations

import hashlib
import math
import operator
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any, NamedTuple, Protocol

from dialer.core.calls import new_reference
from dialer.core.times import plausible
from dialer.history.records import (
    FINAL_STATUSES,
    CallOrigin,
    CallRecord,
    ProviderReport,
    SortKey,
    digits_of,
)

# -- deduplication ---------------------------------------------------------------------


def report_digest(report: ProviderReport) -> str:
    """A report's identity: a redelivery of the same body from the same provider has the
    same digest, and changes nothing once one with it is stored."""
    return body_digest(report.provider, report.body)


def body_digest(provider: str, body: str) -> str:
    """The digest of a report kept as received (a stored report knows only these two)."""
    return hashlib.sha256(f"{provider}\n{body}".encode()).hexdigest()


# -- matching a report to its call ------------------------------------------------------

# How many open calls of one provider (newest first) a report's numbers are compared
# against, when neither its call id nor its provider reference names the call.
MATCH_WINDOW = 50

# How far the provider's clock (and its idea of our time zone's offset, to the minute) may
# be from ours: a report's time may fall this long before its call was placed here, or
# after now, and still be the call's (see `matching_call`).
CLOCK_SKEW = 300.0


class MatchCandidate(Protocol):
    """What matching compares of an open call (a backend may fetch only these columns)."""

    @property
    def id(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def bridge(self) -> str | None: ...
    @property
    def flow_id(self) -> str | None: ...
    @property
    def customer(self) -> str: ...
    @property
    def agent(self) -> str | None: ...
    @property
    def created_at(self) -> float: ...


class Candidate(NamedTuple):
    """A :class:`MatchCandidate` as a row: id, account, bridge, flow_id, customer, agent,
    created_at."""

    id: str
    account: str
    bridge: str | None
    flow_id: str | None
    customer: str
    agent: str | None
    created_at: float


# A report is matched in this order; the backend looks each step up and stops at the first
# that finds the call:
# 1. its call id (ours, echoed back), when that call is of the report's provider
#    (`named_call_matches`); a call of an account the report may not change ends matching
#    there: the report is kept as an outside call (`crosses_accounts`);
# 2. its provider reference: the newest call of that provider with that reference, among
#    the accounts the report may change (`ProviderReport.allowed_accounts`);
# 3. of the MATCH_WINDOW newest open calls of its provider, the one `matching_call` picks:
#    the same numbers and bridge, and placed while the report's time says its call ran.
#    Steps 1 and 2 name the call outright and need no time; this one guesses, and a guess
#    that ignored time let a report of 2021 close a call placed in 2026.
# A report never changes a call of an account it was not authorised for: what a forged
# report ("mid" of another account's call, sent under an account with no secret) does is
# add an outside call, with its words.


def named_call_matches(report: ProviderReport, call: CallRecord) -> bool:
    """Whether the call the report's call id names is the report's call (step 1)."""
    return call.provider == report.provider and report.may_change(call.account)


def crosses_accounts(report: ProviderReport, call: CallRecord | None) -> bool:
    """Whether the call the report's call id names belongs to an account the report may not
    change (step 1): then the report matches no call at all."""
    return (
        call is not None
        and call.provider == report.provider
        and not report.may_change(call.account)
    )


def matching_call(
    report: ProviderReport, open_calls: Iterable[MatchCandidate], now: float
) -> str | None:
    """The id of the call among ``open_calls`` (the provider's open calls, newest first)
    that the report describes, or None (step 3).

    The report's numbers and bridge must be the call's (:func:`same_call`), and its time
    (:func:`report_time`) must fall within the call's life: an open call lives from when it
    was placed until now, each end widened by CLOCK_SKEW. Of the calls that qualify, the
    newest placed before the report's time is the one; failing that, the earliest placed
    after it (within the skew: the two clocks disagree). A report that gives no time at all
    is matched by its numbers alone, to the newest call."""
    at = report_time(report)
    if at is not None and at > now + CLOCK_SKEW:
        return None  # a call still to come: its times were read in the wrong time zone
    placed_after: str | None = None
    for candidate in open_calls:
        if not report.may_change(candidate.account) or not same_call(report, candidate):
            continue
        if at is None or candidate.created_at <= at:
            return candidate.id
        if candidate.created_at - CLOCK_SKEW <= at:
            placed_after = candidate.id  # newest first: the last one kept is the earliest
    return placed_after


def report_time(report: ProviderReport) -> float | None:
    """When the report says its call happened: its start, else its end, else when it was
    sent (C2C v2 ``unixtime``, else ``date``); None when it gives none a call can have.

    The start comes first because it alone tells calls to one customer apart: a late
    report of the call before carries its own start, earlier than the next call, while
    the time it was sent (a retry's, perhaps) falls within both calls' lives."""
    for moment in (report.started_at, report.ended_at, report.reported_at):
        kept = plausible(moment)
        if kept is not None:
            return kept
    return None


def flow_of(report: ProviderReport) -> str | None:
    """The flow a report's call rang into ("to": "flow:220"), if it was a flow call."""
    customer = report.customer or ""
    return customer.removeprefix("flow:") if customer.startswith("flow:") else None


def same_call(report: ProviderReport, call: MatchCandidate) -> bool:
    """Whether the report's numbers and bridge describe ``call``."""
    if report.bridge and call.bridge and digits_of(report.bridge) != digits_of(call.bridge):
        return False
    if not (report.customer or report.agent):
        return False  # a report with no numbers matches nothing
    flow = flow_of(report)
    if flow is not None:
        # A flow call rings the customer ("from") into the flow ("to": "flow:220").
        return call.flow_id == flow and numbers_match(report.agent, call.customer)
    if call.flow_id is not None:
        return False
    return numbers_match(report.customer, call.customer) and numbers_match(report.agent, call.agent)


def numbers_match(reported: str | None, placed: str | None) -> bool:
    """Two renderings of one number: the report may drop or add the country code."""
    a, b = digits_of(reported), digits_of(placed)
    if not a or not b:
        return True  # nothing to compare: not evidence against
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 6 and longer.endswith(shorter)


# -- what a report changes --------------------------------------------------------------

# The outcome fields a report carries; one it leaves out (None) keeps the stored value.
OUTCOME_FIELDS = (
    "answered",
    "started_at",
    "ended_at",
    "agent_seconds",
    "talk_seconds",
    "billed_seconds",
    "charge",
    "recording_url",
    "hangup_by",
)


_TIME_FIELDS = frozenset({"started_at", "ended_at"})


def report_outcome(report: ProviderReport) -> dict[str, Any]:
    """The fields a report sets on its call, whichever call that is (status aside). A time
    no call can have (whichever parser let it through) is left unknown: it would break
    every later read of the call (see dialer.core.times)."""
    outcome = {name: getattr(report, name) for name in OUTCOME_FIELDS}
    for name in _TIME_FIELDS:
        outcome[name] = plausible(outcome[name])
    charge = outcome["charge"]
    if charge is not None and not math.isfinite(charge):
        outcome["charge"] = None
    outcome = {name: value for name, value in outcome.items() if value is not None}
    if report.cause:
        outcome["cause"] = report.cause
    return outcome


def report_changes(report: ProviderReport, call: CallRecord) -> dict[str, Any]:
    """What a report changes on the call it matched (to be applied with
    :func:`applied_changes`): its status and outcome, and its provider reference if the
    call has none yet."""
    outcome = report_outcome(report)
    if report.provider_ref and not call.provider_ref:
        outcome["provider_ref"] = report.provider_ref
    return {"status": report.status, **outcome}


def call_from_report(report: ProviderReport, now: float) -> CallRecord:
    """The call a report that matches no call stands for: one placed outside the app."""
    flow = flow_of(report)
    return CallRecord(
        id=new_reference(),
        account=report.account or "",
        provider=report.provider,
        customer=(report.agent if flow is not None else report.customer) or "",
        agent=None if flow is not None else report.agent,
        bridge=report.bridge,
        flow_id=flow,
        status=report.status,
        provider_ref=report.provider_ref,
        origin=CallOrigin.OUTSIDE,
        created_at=plausible(report.started_at) or plausible(report.reported_at) or now,
        updated_at=now,
        **report_outcome(report),
    )


def stands(stored: CallRecord, *, only_if_open: bool) -> bool:
    """Whether an amendment must leave the stored call as it is: one made ``only_if_open``
    (a tracker's conclusion) never overrides an outcome already stored (a provider's report
    that came first)."""
    return only_if_open and stored.is_final


def applied_changes(
    current: CallRecord, changes: Mapping[str, Any], now: float
) -> tuple[CallRecord, frozenset[str]] | None:
    """``current`` with ``changes`` and the names of the fields that really changed, or None
    when nothing would. A finished call is never reopened: a late progress step (the
    service's "accepted" after the webhook's "completed") keeps the final status."""
    status = changes.get("status")
    if status is not None and current.is_final and status not in FINAL_STATUSES:
        changes = {name: value for name, value in changes.items() if name != "status"}
    changed = frozenset(name for name, value in changes.items() if getattr(current, name) != value)
    if not changed:
        return None
    return with_fields(current, {**changes, "updated_at": now}), changed


_FIELDS = tuple(f.name for f in fields(CallRecord))
_FIELD_INDEX = {name: n for n, name in enumerate(_FIELDS)}
_field_values = operator.attrgetter(*_FIELDS)


def with_fields(record: CallRecord, changes: Mapping[str, Any]) -> CallRecord:
    """``dataclasses.replace`` for the writer's path: the fields by position, no checks."""
    values = list(_field_values(record))
    for name, value in changes.items():
        values[_FIELD_INDEX[name]] = value
    return CallRecord(*values)


# Each sort key as every backend's SQL orders by it; NULLs sort as '' or -1 so that keyset
# paging can compare them (sort_value gives the same value for a record).
SORT_SQL = {
    SortKey.CREATED: "created_at",
    SortKey.CUSTOMER: "customer",
    SortKey.ACCOUNT: "account",
    SortKey.AGENT: "COALESCE(agent, '')",
    SortKey.BRIDGE: "COALESCE(bridge, '')",
    SortKey.STATUS: "status",
    SortKey.TALK: "COALESCE(talk_seconds, -1)",
    SortKey.BILLED: "COALESCE(billed_seconds, -1)",
    SortKey.DISPOSITION: "disposition",
}


def sort_value(key: SortKey, record: CallRecord) -> Any:
    """A record's value under a sort key, as every backend's SQL computes it (a page ends
    at this value and the record's id)."""
    value = getattr(record, str(key))
    if value is None:
        return -1 if key in (SortKey.TALK, SortKey.BILLED) else ""
    return str(value) if key is SortKey.STATUS else value


# -- totals -------------------------------------------------------------------------------

# A call's share of the totals: [calls, answered, talk_seconds, billed_seconds, charge].
# A backend keeps sums of these per day, account and status, and per numbers (the digit
# totals); a change takes the old share away and adds the new one.
Share = list[Any]

# The fields the per-day totals read (their key and their sums), and the ones the digit
# totals read: a change to none of them leaves those totals as they are.
DAY_TOTALS_FIELDS = frozenset(
    {"created_at", "account", "status", "answered", "talk_seconds", "billed_seconds", "charge"}
)
DIGIT_TOTALS_FIELDS = frozenset(
    {"customer", "agent", "answered", "talk_seconds", "billed_seconds", "charge"}
)

# Totals are kept per whole day since the epoch (UTC).
DAY_SECONDS = 86_400


def day_of(created_at: float) -> int:
    """The day a call's totals are kept under (truncated, as SQL's CAST of the division)."""
    return int(created_at / DAY_SECONDS)


def day_key(record: CallRecord) -> tuple[int, str, str]:
    """Which per-day total a call counts in: (day, account, status)."""
    return (day_of(record.created_at), record.account, str(record.status))


def numbers_of(record: CallRecord) -> str:
    """Which digit total a call counts in: the digits of the customer's and the agent's
    numbers (a search's runs of digits are found in it)."""
    return f"{digits_of(record.customer)} {digits_of(record.agent)}"


def empty_share() -> Share:
    return [0, 0, 0, 0, 0.0]


def add_share(sums: Share, record: CallRecord, sign: int) -> None:
    """Add ``record``'s share (sign 1) to, or take it (-1) from, ``sums``."""
    sums[0] += sign
    sums[1] += sign * int(record.answered or 0)
    sums[2] += sign * (record.talk_seconds or 0)
    sums[3] += sign * (record.billed_seconds or 0)
    sums[4] += sign * (record.charge or 0.0)
