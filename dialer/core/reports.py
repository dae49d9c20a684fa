"""What a provider says about a call, parsed: the type every report parser returns.

It lives in the core because both sides need it without knowing each other: each provider
module parses its own reports into it (dialer/providers/), and the history stores it
(dialer/history/).
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.core.calls import CallStatus


class ReportParseError(ValueError):
    """A report that cannot be read as one; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class ProviderReport:
    """What one provider report says about one call, parsed; ``body`` is the report as
    received (kept verbatim in the history, unknown fields included).

    Matching (see the history store's ``ingest``) tries ``call_id`` (our own reference, echoed
    back as C2C v2 ``mid`` or v1 ``uniqueid``), then ``provider_ref``, then the bridge and the
    two legs' numbers against the newest open call of the same provider.
    """

    provider: str  # a ProviderKind value
    source: str  # "webhook" or "poll"
    body: str
    status: CallStatus
    account: str | None = None
    call_id: str | None = None
    provider_ref: str | None = None
    bridge: str | None = None
    agent: str | None = None  # the first leg as reported ("from")
    customer: str | None = None  # the second leg as reported ("to"), or a flow ("flow:220")
    answered: bool | None = None
    started_at: float | None = None
    ended_at: float | None = None
    reported_at: float | None = None
    agent_seconds: int | None = None
    talk_seconds: int | None = None
    billed_seconds: int | None = None
    charge: float | None = None
    recording_url: str | None = None
    hangup_by: str | None = None
    cause: str = ""
