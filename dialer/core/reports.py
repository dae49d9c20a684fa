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
    back as C2C v2 ``mid`` or v1 ``uniqueid``), then ``provider_ref``, then the bridge, the
    two legs' numbers and the report's time against the open calls of the same provider
    (``dialer.history.rules.matching_call``).

    ``account`` is the account the report is filed under; ``accounts`` the accounts whose
    calls it may change, when that is more than ``account`` (a webhook secret shared by two
    accounts). A report changes only calls of those accounts, however its ids read: the
    receiver authorised it for them and for no other (:meth:`may_change`).
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
    accounts: frozenset[str] | None = None

    def may_change(self, account: str) -> bool:
        """Whether this report may change a call of ``account``. A report filed under no
        account, with no ``accounts``, came where no account is protected: any call."""
        allowed = self.allowed_accounts
        return allowed is None or account in allowed

    @property
    def allowed_accounts(self) -> frozenset[str] | None:
        """The accounts whose calls this report may change; None: any account's."""
        if self.accounts is not None:
            return self.accounts
        return frozenset((self.account,)) if self.account else None
