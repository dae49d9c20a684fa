"""The call a user asks for and what became of it, independent of any provider.

Provider modules map a :class:`CallRequest` onto their own wire fields. Units live here,
once: a request carries its limit in seconds and the providers ask for the unit they need.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from dialer.core.errors import InvalidInput
from dialer.core.numbers import Contact

MAX_ATTEMPTS = 2  # the C2C v2 document: "default 2. Max 2"
# The longest call limit asked of any provider. None of the four documents gives one (v2
# takes minutes, v1 and DigiDonar seconds, all as text); a day is beyond any click-to-call
# and far inside what each one's number fields hold, where a 23-digit limit would be read
# as who knows what.
MAX_CALL_SECONDS = 24 * 3600


class CallMode(StrEnum):
    AGENT_FIRST = "agent"  # ring the agent, then bridge the customer
    FLOW = "flow"  # ring the customer straight into an IVR flow


class CallStatus(StrEnum):
    """Where a call is in its life: the open steps, then the outcomes (see FINAL_STATUSES)."""

    PLACING = "placing"  # request on its way
    ACCEPTED = "accepted"  # the provider took it
    RINGING_AGENT = "ringing-agent"
    RINGING_CUSTOMER = "ringing-customer"
    CONNECTED = "connected"
    COMPLETED = "completed"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    CANCELLED = "cancelled"  # hung up before anyone answered (the platform's CANCEL)
    FAILED = "failed"  # refused, unreachable or an unreadable answer
    NO_REPORT = "no-report"  # accepted, and the provider has no way to report the outcome


def new_reference() -> str:
    """A local reference id: sortable by time, unique without coordination."""
    return f"{int(time.time() * 1000):x}{secrets.token_hex(5)}"


def campaign_id_problem(text: str) -> str | None:
    """Why ``text`` is not a DigiDonar campaign id (the document: an integer, "for example
    9995"), or None. Checked here so that the CLI, the window and the account form say the
    same sentence before anything is sent."""
    if text.isascii() and text.isdecimal() and len(text) <= 18:
        return None
    return f"The campaign id must be a whole number, for example 9995 (not '{text[:20]}')"


@dataclass(frozen=True, slots=True)
class Flow:
    flow_id: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallOptions:
    """What the person asked for beyond the number, as typed: checked and parsed into a
    :class:`CallRequest` by the call service (``agent``: the account's when None)."""

    agent: str | None = None
    bridge: str | None = None
    flow: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    record: bool = False
    max_seconds: int | None = None
    attempts: int | None = None
    holdfile: str | None = None
    campid: str | None = None  # DigiDonar's campaign id for this call (the account's: None)


@dataclass(frozen=True, slots=True)
class CallRequest:
    """Everything needed to place one call, already validated and parsed.

    ``agent`` is the agent's own phone (None in flow mode); ``bridge`` is the DID shown as
    caller id, or for Kazoo the clicktocall object to connect through.
    """

    customer: Contact
    agent: Contact | None = None
    bridge: str | None = None
    flow: Flow | None = None
    record: bool = False
    max_seconds: int | None = None
    attempts: int | None = None
    holdfile: str | None = None
    campid: str | None = None
    reference: str = field(default_factory=new_reference)

    def __post_init__(self) -> None:
        if self.flow is None and self.agent is None:
            # Also raised for a call from the window, which has no --agent.
            raise InvalidInput(
                "No agent number: set the account's agent number (or pass --agent on the "
                "command line)"
            )
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise InvalidInput("The maximum call length must be a positive number of seconds")
        if self.max_seconds is not None and self.max_seconds > MAX_CALL_SECONDS:
            raise InvalidInput(
                f"The maximum call length must be at most {MAX_CALL_SECONDS:,} seconds (24 hours)"
            )
        if self.attempts is not None and not 0 <= self.attempts <= MAX_ATTEMPTS:
            raise InvalidInput(f"Redial attempts must be between 0 and {MAX_ATTEMPTS}")
        if self.campid is not None and (problem := campaign_id_problem(self.campid)):
            raise InvalidInput(problem)

    @property
    def mode(self) -> CallMode:
        return CallMode.FLOW if self.flow is not None else CallMode.AGENT_FIRST

    @property
    def max_minutes(self) -> int | None:
        """The limit in whole minutes, rounded up: 61 s must not cut a call at 60 s."""
        return None if self.max_seconds is None else math.ceil(self.max_seconds / 60)


@dataclass(frozen=True, slots=True)
class CallResult:
    """What the provider said when it accepted a call."""

    provider_ref: str | None
    message: str = ""
    raw: Mapping[str, object] = field(default_factory=dict)
