"""What the history holds: one :class:`CallRecord` per call, its status timeline, and the
provider reports that told us its outcome, kept as received.

Plain values, no storage and no Qt: the SQLite store, a future shared server store, the
webhook receiver, the trackers, the CLI and the window all speak these types.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dialer.core.calls import CallStatus

# Parsed reports are a core type (providers build them); the history re-exports it.
from dialer.core.reports import ProviderReport as ProviderReport  # noqa: PLC0414 (re-export)

# Where a call's life ends. A call in any other status is still open: a tracker may yet
# learn its outcome, and a report that arrives is matched against it.
FINAL_STATUSES = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.NO_ANSWER,
        CallStatus.BUSY,
        CallStatus.CANCELLED,
        CallStatus.FAILED,
        CallStatus.NO_REPORT,
    }
)

_NOT_DIGITS = re.compile(r"\D+")


def digits_of(text: str | None) -> str:
    """The digits of a number as typed, stored or reported: "+91 98765-43210" -> "919876543210"."""
    return _NOT_DIGITS.sub("", text or "")


class CallOrigin(StrEnum):
    APP = "app"  # placed from this app (or its CLI)
    OUTSIDE = "outside"  # learned from a provider report that matched no call placed here


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call. The first block is known when it is placed; the outcome block is filled in
    from provider reports; ``note`` and ``disposition`` are the supervisor's."""

    id: str
    account: str
    provider: str
    customer: str
    agent: str | None = None
    bridge: str | None = None
    flow_id: str | None = None
    status: CallStatus = CallStatus.PLACING
    provider_ref: str | None = None
    message: str = ""
    error: str = ""
    request: Mapping[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    origin: CallOrigin = CallOrigin.APP
    # -- the outcome, as the provider reported it (None: not reported) --
    answered: bool | None = None
    started_at: float | None = None
    ended_at: float | None = None
    agent_seconds: int | None = (
        None  # the first leg (the agent's phone; the customer's for DigiDonar)
    )
    talk_seconds: int | None = None  # the conversation: the second leg, or the flow call itself
    billed_seconds: int | None = None
    charge: float | None = None  # credit used, in the provider's unit (Click2Call v1)
    recording_url: str | None = None
    hangup_by: str | None = None
    cause: str = ""  # the provider's own words for the outcome ("COMPLETED/RECEIVED/ANSWER")
    # -- the supervisor's --
    note: str = ""
    disposition: str = ""
    # -- who placed it, in a team history (a person's name there); "" in a profile's own
    # history, and for calls placed outside the app --
    user: str = ""

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def as_dict(self) -> dict[str, Any]:
        """The record as plain JSON-able values (export, call details, ``--json``)."""
        return {
            "id": self.id,
            "created_at": self.created_at,
            "account": self.account,
            "provider": self.provider,
            "origin": str(self.origin),
            "status": str(self.status),
            "agent": self.agent,
            "customer": self.customer,
            "bridge": self.bridge,
            "flow_id": self.flow_id,
            "provider_ref": self.provider_ref,
            "message": self.message,
            "error": self.error,
            "answered": self.answered,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "agent_seconds": self.agent_seconds,
            "talk_seconds": self.talk_seconds,
            "billed_seconds": self.billed_seconds,
            "charge": self.charge,
            "recording_url": self.recording_url,
            "hangup_by": self.hangup_by,
            "cause": self.cause,
            "note": self.note,
            "disposition": self.disposition,
            "request": dict(self.request),
        }


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One step of a call's life: when, which status, and what said so."""

    at: float
    status: CallStatus
    source: str  # "app", "webhook", "poll", "simulator", "user"
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A provider report exactly as it arrived."""

    received_at: float
    source: str  # "webhook" or "poll"
    body: str


class SortKey(StrEnum):
    """The columns history can be sorted by (each has an index)."""

    CREATED = "created_at"
    CUSTOMER = "customer"
    ACCOUNT = "account"
    AGENT = "agent"
    BRIDGE = "bridge"
    STATUS = "status"
    TALK = "talk_seconds"
    BILLED = "billed_seconds"
    DISPOSITION = "disposition"


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """A filter and an order over the history. Empty fields do not filter."""

    since: float | None = None  # created_at >= since
    until: float | None = None  # created_at < until
    accounts: tuple[str, ...] = ()
    agent: str = ""  # digits of the agent's number
    bridge: str = ""  # digits of the bridge, or a Kazoo bridge as named
    statuses: tuple[CallStatus, ...] = ()
    digits: str = ""  # any run of digits of the customer's or the agent's number
    users: tuple[str, ...] = ()  # who placed the call (a team history's people)
    sort: SortKey = SortKey.CREATED
    descending: bool = True

    def matches(self, record: CallRecord) -> bool:
        """The same test the store's SQL makes, for records that arrive live."""
        if self.since is not None and record.created_at < self.since:
            return False
        if self.until is not None and record.created_at >= self.until:
            return False
        if self.accounts and record.account not in self.accounts:
            return False
        if self.statuses and record.status not in self.statuses:
            return False
        if self.users and record.user not in self.users:
            return False
        if self.agent and self.agent not in digits_of(record.agent):
            return False
        if self.bridge and not _bridge_matches(self.bridge, record.bridge):
            return False
        wanted = digits_of(self.digits)
        return (
            not wanted or wanted in digits_of(record.customer) or wanted in digits_of(record.agent)
        )


def _bridge_matches(wanted: str, bridge: str | None) -> bool:
    if bridge is None:
        return False
    return wanted == bridge or (digits_of(wanted) != "" and digits_of(wanted) in digits_of(bridge))


@dataclass(frozen=True, slots=True)
class HistoryTotals:
    """Totals over a query: what the supervisor's footer shows."""

    calls: int = 0
    answered: int = 0
    talk_seconds: int = 0
    billed_seconds: int = 0
    charge: float = 0.0

    @property
    def answered_rate(self) -> float:
        return self.answered / self.calls if self.calls else 0.0

    @property
    def average_talk_seconds(self) -> float:
        return self.talk_seconds / self.answered if self.answered else 0.0
