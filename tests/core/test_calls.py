from __future__ import annotations

import pytest

from dialer.core.calls import CallMode, CallRequest, Flow, new_reference
from dialer.core.errors import InvalidInput
from dialer.core.numbers import parse_number

CUSTOMER = parse_number("+918867135000")
AGENT = parse_number("+919876543210")


@pytest.mark.parametrize(("seconds", "minutes"), [(1, 1), (59, 1), (60, 1), (61, 2), (3600, 60)])
def test_minutes_round_up(seconds: int, minutes: int) -> None:
    assert CallRequest(customer=CUSTOMER, agent=AGENT, max_seconds=seconds).max_minutes == minutes


def test_no_limit_means_no_minutes() -> None:
    assert CallRequest(customer=CUSTOMER, agent=AGENT).max_minutes is None


def test_mode_follows_flow() -> None:
    assert CallRequest(customer=CUSTOMER, agent=AGENT).mode is CallMode.AGENT_FIRST
    assert CallRequest(customer=CUSTOMER, flow=Flow("220")).mode is CallMode.FLOW


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"agent": None}, "No agent number"),
        ({"agent": AGENT, "attempts": 3}, "between 0 and 2"),
        ({"agent": AGENT, "attempts": -1}, "between 0 and 2"),
        ({"agent": AGENT, "max_seconds": 0}, "positive"),
    ],
)
def test_impossible_requests_are_refused(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        CallRequest(customer=CUSTOMER, **kwargs)  # type: ignore[arg-type]


def test_references_are_unique_and_time_ordered() -> None:
    refs = [new_reference() for _ in range(1000)]
    assert len(set(refs)) == 1000
    assert refs[0][:11] <= refs[-1][:11]
