"""The simulator's vocabulary: credentials, configuration, faults, recorded requests, calls.

Everything here is plain data so tests (in-process) and the control API (other processes)
describe the same things the same way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from enum import StrEnum

from dialer.core.accounts import ProviderKind

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What happens to a simulated call once it is placed."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"  # the customer's phone rings out
    BUSY = "busy"  # the customer's line is busy
    FAILED = "failed"  # the customer's leg cannot be set up at all
    AGENT_NO_ANSWER = "agent_no_answer"  # the agent never picks up

    @classmethod
    def parse(cls, text: str) -> Outcome:
        """Accept ``no-answer`` as well as ``no_answer`` (and any case) from other processes."""
        normalised = text.strip().lower().replace("-", "_")
        try:
            return cls(normalised)
        except ValueError:
            choices = ", ".join(member.value for member in cls)
            raise ValueError(f"unknown outcome {text!r} (choose from {choices})") from None


class CallState(StrEnum):
    ACCEPTED = "accepted"
    RINGING_AGENT = "ringing-agent"
    AGENT_ANSWERED = "agent-answered"
    RINGING_CUSTOMER = "ringing-customer"
    CONNECTED = "connected"
    COMPLETED = "completed"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"


FINAL_STATES = frozenset(
    {CallState.COMPLETED, CallState.NO_ANSWER, CallState.BUSY, CallState.FAILED}
)


@dataclass
class SimCredentials:
    """The simulator's demo credentials and the account data its fake services know about.

    These are not secrets: they are published so the app's demo accounts and the tests can
    log in. Lists are tuples so one default instance can never be mutated by accident.
    """

    # C2C v2
    c2c_token: str = "sim-c2c-token"  # noqa: S105 - a published demo credential
    c2c_webhook_ids: tuple[str, ...] = ("sim-webhook",)
    c2c_bridges: tuple[str, ...] = ("918068280000", "918068280001")
    c2c_flows: dict[str, str] = field(
        default_factory=lambda: {
            "220": "Hello {Name}, your otp for login is {otp}",
            "221": "Hi {Name}, your order {order} ships today",
        }
    )
    # Click2Call v1
    v1_uid: str = "sim-uid"
    v1_pin: str = "sim-pin"
    v1_holdfiles: tuple[str, ...] = ("1", "2")
    # Kazoo
    kazoo_account_id: str = "sim0kazoo0account0000000000000001"
    kazoo_api_key: str = "sim-kazoo-api-key"
    kazoo_user: str = "agent"
    kazoo_password: str = "sim-kazoo-password"  # noqa: S105 - a published demo credential
    kazoo_account_name: str = "simcorp"
    # DigiDonar
    digidonar_authcode: str = "sim-digidonar-authcode"
    digidonar_deskphones: tuple[str, ...] = ("01204000000", "1204000000")


@dataclass
class SimulatorConfig:
    """How the simulator behaves. Mutable on purpose: tests and the control API change
    ``outcomes`` and timings while the server runs."""

    credentials: SimCredentials = field(default_factory=SimCredentials)
    answer_delay: float = 0.0  # seconds every provider request waits before it is answered
    ring_seconds: float = 0.05
    talk_seconds: float = 0.1
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # customer number as sent
    default_outcome: Outcome = Outcome.ANSWERED
    webhook_urls: dict[str, str] = field(default_factory=dict)  # C2C v2 webhook_id -> URL
    default_webhook_url: str | None = None
    # C2C v2 subscriptions ("create subscription"): id -> the webhook_id reports go to. Every
    # call's report is pushed to each, in the document's example shape (no mid, no callId).
    c2c_subscriptions: dict[str, str] = field(default_factory=dict)
    c2c_time_zone: str | None = None  # the zone of C2C v2 report times (None: this machine's)
    kazoo_page_size: int = 50
    # "document": history items as seed 003 shows them (contact, timestamp, call_id,
    # cdr_id) and a CDR per call; "upstream": Kazoo 4.3's items (result, cause), no CDR.
    kazoo_history_shape: str = "document"
    kazoo_cdrs_readable: bool = True  # False: /cdrs answers 403, as for a restricted login
    webhook_retry_delay: float = 0.2  # between the three attempts of a webhook push
    webhook_timeout: float = 5.0

    def outcome_for(self, customer: str) -> Outcome:
        return self.outcomes.get(customer, self.default_outcome)

    def webhook_ids(self) -> set[str]:
        return set(self.credentials.c2c_webhook_ids) | set(self.webhook_urls)

    def webhook_url(self, webhook_id: str) -> str | None:
        return self.webhook_urls.get(webhook_id) or self.default_webhook_url


class FaultKind(StrEnum):
    LATENCY = "latency"
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    HTML = "html"
    MALFORMED_JSON = "malformed_json"
    FAILURE_IN_200 = "failure_in_200"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class Fault:
    """A misbehaviour applied to the next matching request(s). A faulted request places no
    call, except ``latency``, which answers normally after the delay."""

    kind: FaultKind
    seconds: float = 0.0
    status: int = 200
    message: str | None = None

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        return cls(FaultKind.LATENCY, seconds=seconds)

    @classmethod
    def timeout(cls, seconds: float = 60.0) -> Fault:
        if seconds < 0:
            raise ValueError("timeout must not be negative")
        return cls(FaultKind.TIMEOUT, seconds=seconds)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        if not 500 <= status <= 599:
            raise ValueError("a server error needs a 5xx status")
        return cls(FaultKind.SERVER_ERROR, status=status)

    @classmethod
    def html(cls, status: int = 200) -> Fault:
        if not 100 <= status <= 599:
            raise ValueError("not an HTTP status")
        return cls(FaultKind.HTML, status=status)

    @classmethod
    def malformed_json(cls) -> Fault:
        return cls(FaultKind.MALFORMED_JSON)

    @classmethod
    def failure_in_200(cls, message: str | None = None) -> Fault:
        """``message`` None uses a failure text typical of the provider the request hits."""
        return cls(FaultKind.FAILURE_IN_200, message=message)

    @classmethod
    def reset(cls) -> Fault:
        return cls(FaultKind.RESET)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    provider: ProviderKind | None
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: object | None
    form: dict[str, str]
    arrived: float  # time.perf_counter() when the server first saw the request

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def to_json(self) -> dict[str, object]:
        return {
            "provider": self.provider.value if self.provider else None,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.text,
            "json": self.json,
            "form": self.form,
            "arrived": self.arrived,
        }


@dataclass(eq=False)
class SimCall:
    """One simulated call. ``agent``/``customer``/``bridge`` are kept exactly as received."""

    id: str
    provider: ProviderKind
    agent: str | None
    customer: str
    bridge: str | None
    outcome: Outcome
    customer_first: bool = False  # DigiDonar's reverse click-to-call
    flow_id: str | None = None  # C2C v2 ``to: flow:<id>``: the customer hears the flow
    variables: dict[str, str] = field(default_factory=dict)
    record: bool = False
    limit: float | None = None  # seconds, whatever unit the request used
    reference: str | None = None  # the client's own id: v2 ``mid``, v1 ``uniqueid``
    extra: dict[str, object] = field(default_factory=dict)  # provider-specific request fields
    timeline: list[tuple[float, str]] = field(default_factory=list)  # (time.time(), state)
    started_at: float | None = None
    ended_at: float | None = None
    first_leg_seconds: float = 0.0  # talk time of the leg rung first, 0 if never answered
    second_leg_seconds: float = 0.0
    cause: str | None = None  # why a call failed, in the provider's terms where it has them
    hangup_by: str | None = None  # "agent" or "caller", as the C2C v2 callback reports it
    finished: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def state(self) -> str:
        return self.timeline[-1][1] if self.timeline else CallState.ACCEPTED.value

    @property
    def is_finished(self) -> bool:
        return self.state in FINAL_STATES

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "provider": self.provider.value,
            "agent": self.agent,
            "customer": self.customer,
            "bridge": self.bridge,
            "outcome": self.outcome.value,
            "customer_first": self.customer_first,
            "flow_id": self.flow_id,
            "variables": self.variables,
            "record": self.record,
            "limit": self.limit,
            "reference": self.reference,
            "extra": self.extra,
            "timeline": [[at, state] for at, state in self.timeline],
            "state": self.state,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "first_leg_seconds": self.first_leg_seconds,
            "second_leg_seconds": self.second_leg_seconds,
            "cause": self.cause,
            "hangup_by": self.hangup_by,
        }
