"""Call limits: how many calls an account, and each agent on it, may place in a minute and
in a day, and which customer numbers it may call at all.

The Click2Call v1 document's security tips (bind the widget to a domain, a captcha, a
per-IP daily limit) protect a web form from strangers; what a desktop has to fear is its
own runaway script or a stuck hotkey placing hundreds of calls. These limits are the
desktop's counterpart: every call is checked against them before anything is sent (by the
call service, from the calls the history holds), and one over a limit is refused with a
sentence that says which limit and when it frees up.

Windows are rolling: "a minute" is the last 60 seconds and "a day" the last 24 hours, so a
limit frees up exactly when the oldest call it counted leaves its window (a calendar day
would let a script place a day's worth at 23:59 and again at 00:00).

Allow-list patterns are numbers in international form, ``+9180...``, where a trailing
``*`` stands for any further digits (``+9180*``: every number starting with +91 80); no
other wildcard. A call-centre admin writes numbers, not regular expressions, and a number
pattern cannot be written that matches by accident more than it says.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dialer.core.errors import InvalidInput

MINUTE = 60.0
DAY = 24 * 3600.0

# The defaults: far above what a person clicking places (a call takes a minute or more of
# the agent's time), low enough that a stuck key or a loop stops within seconds.
DEFAULT_PER_MINUTE = 6
DEFAULT_PER_DAY = 500
# The largest limit accepted: beyond it a "limit" limits nothing (0 already means none).
MAX_LIMIT = 1_000_000

_PATTERN = re.compile(r"\+[1-9][0-9]*\*?")
_PATTERN_SEPARATORS = re.compile(r"[\s\-()]")  # not ".": "+91.*" is a regular expression


class CallLimitReached(InvalidInput):
    """A call over one of the account's limits (or outside its allow-list): nothing was
    sent and nothing recorded."""


@dataclass(frozen=True, slots=True)
class CallLimits:
    """An account's limits. 0 means no limit; ``allowed_numbers`` empty means any number.

    ``agent_*`` count each agent's calls through the account (the agent's own phone, the one
    rung first), so one agent's stuck key stops that agent while the rest of a team sharing
    the account go on calling."""

    per_minute: int = DEFAULT_PER_MINUTE
    per_day: int = DEFAULT_PER_DAY
    agent_per_minute: int = DEFAULT_PER_MINUTE
    agent_per_day: int = DEFAULT_PER_DAY
    allowed_numbers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("per_minute", "per_day", "agent_per_minute", "agent_per_day"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= MAX_LIMIT:
                raise InvalidInput(
                    # Quoted as the form shows it: lowercased, "the calls a minute" reads
                    # as calls rather than as the setting.
                    f"'{LIMIT_LABELS[name]}' must be a whole number from 0 (no limit) to "
                    f"{MAX_LIMIT:,}"
                )
        for pattern in self.allowed_numbers:
            problem = pattern_problem(pattern)
            if problem:
                raise InvalidInput(problem)

    @property
    def windows(self) -> tuple[tuple[str, int, float], ...]:
        """(name, limit, window seconds) of each limit that is set."""
        return tuple(
            (name, limit, window)
            for name, limit, window in (
                ("per_minute", self.per_minute, MINUTE),
                ("per_day", self.per_day, DAY),
                ("agent_per_minute", self.agent_per_minute, MINUTE),
                ("agent_per_day", self.agent_per_day, DAY),
            )
            if limit
        )

    @property
    def longest_window(self) -> float:
        return max((window for _, _, window in self.windows), default=0.0)


# No limit at all (a load test's accounts).
NO_LIMITS = CallLimits(per_minute=0, per_day=0, agent_per_minute=0, agent_per_day=0)

# How each limit is named: the form's labels, and in sentences.
LIMIT_LABELS = {
    "per_minute": "Calls a minute",
    "per_day": "Calls a day",
    "agent_per_minute": "Calls a minute per agent",
    "agent_per_day": "Calls a day per agent",
}


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not an allow-list pattern (one sentence), or None."""
    if _PATTERN.fullmatch(pattern):
        return None
    return (
        f"'{pattern}' is not a number pattern: write a number in international form, "
        "with a * at the end to allow every number that starts with it (for example +9180*)"
    )


def parse_patterns(text: str | Iterable[str]) -> tuple[str, ...]:
    """Allow-list patterns as typed (one text split on commas, semicolons and line breaks, or
    one pattern each): the spaces, dashes and brackets people write numbers with are
    dropped; each is checked (:class:`InvalidInput` names the first bad one)."""
    items = re.split(r"[,;\n]+", text) if isinstance(text, str) else list(text)
    patterns: list[str] = []
    for item in items:
        pattern = _PATTERN_SEPARATORS.sub("", item)
        if not pattern:
            continue
        problem = pattern_problem(pattern)
        if problem:
            raise InvalidInput(problem)
        if pattern not in patterns:
            patterns.append(pattern)
    return tuple(patterns)


def number_allowed(number: str, patterns: Sequence[str]) -> bool:
    """Whether ``number`` (E.164, as the call service parsed it) matches a pattern."""
    for pattern in patterns:
        if pattern.endswith("*"):
            if number.startswith(pattern[:-1]):
                return True
        elif number == pattern:
            return True
    return False


def check_allowed(account: str, customer: str, patterns: Sequence[str]) -> None:
    """Refuse a customer outside the account's allow-list (none set: every number)."""
    if not patterns or number_allowed(customer, patterns):
        return
    shown = ", ".join(patterns[:5]) + (
        f" and {len(patterns) - 5} more" if len(patterns) > 5 else ""
    )
    raise CallLimitReached(
        f"Account '{account}' may call only numbers matching {shown}; {customer} is not one "
        "of them. Check the number, or ask whoever manages the account to allow it"
    )


def refusal(
    account: str,
    limit_name: str,
    limit: int,
    frees_at: float,
    *,
    agent: str | None = None,
    now: float | None = None,
) -> CallLimitReached:
    """The sentence for a call over ``limit_name``: which limit, and when it frees up."""
    now = time.time() if now is None else now
    per = "a minute" if limit_name.endswith("minute") else "a day (24 hours)"
    calls = "call" if limit == 1 else "calls"
    who = (
        f"Agent {agent} may place at most {limit} {calls} {per} through account '{account}'"
        if agent is not None
        else f"Account '{account}' may place at most {limit} {calls} {per}"
    )
    return CallLimitReached(f"{who}; the next call can be placed {when(frees_at, now)}")


def when(at: float, now: float) -> str:
    """``in 23 seconds (at 14:05:09)``, ``in 3 hours (at 09:12 tomorrow)``: local time."""
    wait = max(0.0, at - now)
    if wait < 90:
        seconds = max(1, math.ceil(wait))
        span = f"{seconds} second{'s' if seconds != 1 else ''}"
    elif wait < 90 * 60:
        minutes = math.ceil(wait / 60)
        span = f"{minutes} minutes"
    else:
        hours = math.ceil(wait / 3600)
        span = f"{hours} hour{'s' if hours != 1 else ''}"
    local, today = time.localtime(at), time.localtime(now)
    clock = time.strftime("%H:%M:%S" if wait < 90 * 60 else "%H:%M", local)
    if (local.tm_year, local.tm_yday) != (today.tm_year, today.tm_yday):
        clock += " tomorrow"
    return f"in {span} (at {clock})"


__all__ = [
    "DAY",
    "DEFAULT_PER_DAY",
    "DEFAULT_PER_MINUTE",
    "LIMIT_LABELS",
    "MINUTE",
    "NO_LIMITS",
    "CallLimitReached",
    "CallLimits",
    "check_allowed",
    "number_allowed",
    "parse_patterns",
    "pattern_problem",
    "refusal",
    "when",
]
