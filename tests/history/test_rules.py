"""The history's rules on their own, without a store: what every backend asks them."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

import pytest

from dialer.core.calls import CallStatus
from dialer.history import CallOrigin, rules
from tests.history.test_sqlite_store import call, report


def test_a_redelivery_has_the_digest_of_the_first_delivery() -> None:
    first = report(call_id="c", reported_at=5.0)
    assert rules.report_digest(first) == rules.report_digest(replace(first, source="poll"))
    assert rules.report_digest(first) != rules.report_digest(replace(first, provider="kazoo"))
    assert rules.report_digest(first) != rules.report_digest(replace(first, body="{}"))


def test_numbers_match_with_or_without_the_country_code() -> None:
    assert rules.numbers_match("918867135000", "+91 88671 35000")
    assert rules.numbers_match("8867135000", "+918867135000")
    assert not rules.numbers_match("12345", "912345")  # too short to tell
    assert rules.numbers_match(None, "+918867135000")  # nothing to compare


NOW = 1_800_000_000.0


def candidate(call_id: str, created_at: float, **fields: object) -> rules.Candidate:
    """An open call of account "a" to +918867135000 by +919876543210 over the first bridge."""
    values: dict[str, object] = {
        "id": call_id,
        "account": "a",
        "bridge": "918068280000",
        "flow_id": None,
        "customer": "+918867135000",
        "agent": "+919876543210",
        "created_at": created_at,
    }
    values.update(fields)
    return rules.Candidate(**values)  # type: ignore[arg-type]


def test_the_first_matching_open_call_is_chosen() -> None:
    candidates = [
        candidate("other-account", NOW - 10, account="b", agent=None),
        candidate("flow", NOW - 20, flow_id="220", agent=None),
        candidate("newest", NOW - 30),
        candidate("older", NOW - 40),
    ]
    assert rules.matching_call(report(account="a"), candidates, NOW) == "newest"
    flow_report = report(customer="flow:220", agent="918867135000")
    assert rules.matching_call(flow_report, candidates, NOW) == "flow"
    assert rules.matching_call(report(customer=None, agent=None), candidates, NOW) is None
    assert rules.matching_call(report(bridge="911111111111"), candidates, NOW) is None


def test_a_report_dated_outside_an_open_calls_life_matches_none() -> None:
    placed = [candidate("placed", NOW - 60)]
    in_2021 = datetime(2021, 4, 9, 16, 27, 39).timestamp()
    for old in ({"started_at": in_2021}, {"ended_at": in_2021}, {"reported_at": in_2021}):
        assert rules.matching_call(report(**old), placed, NOW) is None, old
    # Later than now by more than the clocks may differ: read in the wrong time zone.
    ahead = NOW + rules.CLOCK_SKEW + 1
    assert rules.matching_call(report(started_at=ahead), placed, NOW) is None
    assert rules.matching_call(report(started_at=NOW + rules.CLOCK_SKEW), placed, NOW) == "placed"
    # A little before the call was placed here: the provider's clock is behind ours.
    early = NOW - 60 - rules.CLOCK_SKEW
    assert rules.matching_call(report(started_at=early), placed, NOW) == "placed"
    assert rules.matching_call(report(started_at=early - 1), placed, NOW) is None
    # A report that gives no time is matched by its numbers, as before.
    assert rules.matching_call(report(), placed, NOW) == "placed"


def test_a_late_report_of_the_call_before_finds_that_call_not_the_next() -> None:
    first, second = NOW - 200, NOW - 100  # the same customer rung twice, both still open
    placed = [candidate("second", second), candidate("first", first)]
    late = report(started_at=first + 5, ended_at=first + 50, reported_at=NOW)
    assert rules.matching_call(late, placed, NOW) == "first"
    assert rules.matching_call(report(started_at=second + 5), placed, NOW) == "second"
    # Both placed after the report's start (its clock is behind): the earliest of them.
    assert rules.matching_call(report(started_at=first - 5), placed, NOW) == "first"


def test_a_reports_time_is_its_start_else_its_end_else_when_it_was_sent() -> None:
    assert rules.report_time(report(started_at=3e9, ended_at=2e9, reported_at=1e9)) == 3e9
    assert rules.report_time(report(ended_at=2e9, reported_at=1e9)) == 2e9
    assert rules.report_time(report(reported_at=1e9)) == 1e9
    # A time no call can have counts as none given.
    assert rules.report_time(report(started_at=5.0, ended_at=math.inf, reported_at=1e9)) == 1e9
    assert rules.report_time(report()) is None


def test_a_report_sets_its_outcome_and_a_missing_reference() -> None:
    placed = call("c", status=CallStatus.ACCEPTED)
    changes = rules.report_changes(
        report(talk_seconds=9, provider_ref="p1", cause="ANSWER"), placed
    )
    assert changes == {
        "status": CallStatus.COMPLETED,
        "talk_seconds": 9,
        "cause": "ANSWER",
        "provider_ref": "p1",
    }
    known = replace(placed, provider_ref="p0")
    assert "provider_ref" not in rules.report_changes(report(provider_ref="p1"), known)


def test_a_report_matching_nothing_is_a_call_placed_outside() -> None:
    outside = rules.call_from_report(report(started_at=1.6e9, account="a"), now=1.7e9)
    assert outside.origin is CallOrigin.OUTSIDE
    assert (outside.created_at, outside.updated_at, outside.account) == (1.6e9, 1.7e9, "a")
    flow = rules.call_from_report(report(customer="flow:220", agent="918867135000"), now=1.0)
    assert (flow.flow_id, flow.customer, flow.agent) == ("220", "918867135000", None)


@pytest.mark.parametrize(
    "when", [1234.0, -1.0, 253_402_300_799.0, 1e300, math.inf, -math.inf, math.nan]
)
def test_a_time_no_call_can_have_is_stored_as_unknown(when: float) -> None:
    # Whichever parser let it through: kept as unknown, the report's body verbatim.
    odd = report(started_at=when, ended_at=when, reported_at=when, charge=when)
    outside = rules.call_from_report(odd, now=1.7e9)
    assert outside.created_at == 1.7e9
    assert (outside.started_at, outside.ended_at) == (None, None)
    if math.isfinite(when):
        assert outside.charge == when  # a charge is any finite number
    else:
        assert outside.charge is None
    assert "started_at" not in rules.report_outcome(odd)


def test_a_finished_call_is_never_reopened() -> None:
    done = call("c", status=CallStatus.BUSY)
    applied = rules.applied_changes(done, {"status": CallStatus.ACCEPTED, "provider_ref": "p"}, 9.0)
    assert applied is not None
    updated, changed = applied
    assert (updated.status, updated.provider_ref, updated.updated_at) == (CallStatus.BUSY, "p", 9.0)
    assert changed == {"provider_ref"}
    assert rules.applied_changes(done, {"status": CallStatus.ACCEPTED}, 9.0) is None
    final = rules.applied_changes(done, {"status": CallStatus.NO_REPORT}, 9.0)
    assert final is not None and final[0].status is CallStatus.NO_REPORT


def test_only_if_open_leaves_a_stored_outcome_standing() -> None:
    assert rules.stands(call("c", status=CallStatus.COMPLETED), only_if_open=True)
    assert not rules.stands(call("c", status=CallStatus.ACCEPTED), only_if_open=True)
    assert not rules.stands(call("c", status=CallStatus.COMPLETED), only_if_open=False)


def test_a_change_moves_a_call_s_share_of_the_totals() -> None:
    before = call("c", status=CallStatus.ACCEPTED, created_at=86_400.0 * 3 + 5)
    after = replace(before, status=CallStatus.COMPLETED, answered=True, talk_seconds=30, charge=1.5)
    sums = rules.empty_share()
    rules.add_share(sums, before, 1)
    rules.add_share(sums, before, -1)
    rules.add_share(sums, after, 1)
    assert sums == [1, 1, 30, 0, 1.5]
    assert rules.day_key(after) == (3, "a", "completed")
    assert rules.numbers_of(after) == "918867135000 919876543210"
