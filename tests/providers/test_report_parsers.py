"""Parsing polled reports: Click2Call v1 report lines and Kazoo history items, by example and
by property (anything at all either parses or raises ReportParseError)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.core.calls import CallStatus
from dialer.core.reports import ReportParseError
from dialer.providers.click2call_v1 import V1Report, parse_v1_report_text, v1_report
from dialer.providers.kazoo import GREGORIAN_UNIX_OFFSET, kazoo_history_report, kazoo_status

# -- Click2Call v1 ---------------------------------------------------------------------------


def test_v1_answered_row() -> None:
    report = parse_v1_report_text(
        "1231,23,45,12", account="a", call_id="ref1", provider_ref="1231", reported_at=5.0
    )
    assert report is not None
    assert report.provider == "click2call-v1"
    assert report.source == "poll"
    assert report.status is CallStatus.COMPLETED
    assert report.answered is True
    assert (report.agent_seconds, report.talk_seconds, report.charge) == (23, 45, 12.0)
    assert (report.account, report.call_id, report.provider_ref) == ("a", "ref1", "1231")
    assert report.reported_at == 5.0
    assert report.body == "1231,23,45,12"


def test_v1_body_is_kept_as_received_with_its_header() -> None:
    text = "Unique_ID, Duration of Number 1,Duration of Number 2,Credit_Used\n1231, 23, 45, 12\n"
    report = parse_v1_report_text(text)
    assert report is not None
    assert report.body == text.strip()
    assert report.talk_seconds == 45


@pytest.mark.parametrize(
    ("text", "agent_seconds"),
    [("77,0,0,0", 0), ("77,31,0,1", 31)],  # nobody answered / the customer did not
)
def test_v1_zero_second_leg_is_not_answered(text: str, agent_seconds: int) -> None:
    report = parse_v1_report_text(text)
    assert report is not None
    assert report.status is CallStatus.NO_ANSWER
    assert report.answered is False
    assert (report.agent_seconds, report.talk_seconds) == (agent_seconds, 0)


@pytest.mark.parametrize("credit", ["N/A", "", "nan", "inf", "1e999"])
def test_v1_credit_that_is_not_a_number_is_kept_only_in_the_body(credit: str) -> None:
    report = parse_v1_report_text(f"9,10,5,{credit}")
    assert report is not None
    assert report.charge is None
    assert report.body == f"9,10,5,{credit}".strip()


def test_v1_without_a_row_is_none() -> None:
    assert parse_v1_report_text("") is None
    assert parse_v1_report_text(" \r\n ") is None


@pytest.mark.parametrize("text", ["<html>error</html>", "1,2,3", "x,y,z,w", "1,²,3,4"])
def test_v1_other_bodies_are_refused(text: str) -> None:
    with pytest.raises(ReportParseError, match="not a Click2Call v1 report"):
        parse_v1_report_text(text)


def test_v1_negative_durations_are_refused() -> None:
    with pytest.raises(ReportParseError, match="negative"):
        v1_report(V1Report("1", -1, 0, "0"))


def test_v1_report_without_its_text_is_written_out() -> None:
    assert v1_report(V1Report("5", 1, 2, "3")).body == "5,1,2,3"


_ids = (
    st.text(st.characters(blacklist_characters=",\r\n", blacklist_categories=["Cs"]))
    .map(str.strip)
    .filter(bool)
)
_credits = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(str),
)


@given(
    id=_ids,
    first=st.integers(min_value=0, max_value=10**9),
    second=st.integers(min_value=0, max_value=10**9),
    credit=_credits,
)
def test_v1_round_trip(id: str, first: int, second: int, credit: str) -> None:
    text = f"{id},{first},{second},{credit}"
    report = parse_v1_report_text(text, call_id="ours")
    assert report is not None
    assert report.body == text
    assert (report.agent_seconds, report.talk_seconds) == (first, second)
    assert report.charge == float(credit)
    assert report.answered is (second > 0)
    assert report.status is (CallStatus.COMPLETED if second > 0 else CallStatus.NO_ANSWER)
    assert report.call_id == "ours"


@given(st.text() | st.from_regex(r"[ -~]{0,8}(,[ -~²0-9]{0,6}){0,5}\n?", fullmatch=True))
def test_v1_any_text_parses_or_is_refused_clearly(text: str) -> None:
    refusal = ""
    try:
        report = parse_v1_report_text(text)
    except ReportParseError as exc:
        refusal, report = str(exc), None
    if refusal:
        assert refusal == "not a Click2Call v1 report (id,dur1,dur2,credit)"
    else:
        assert report is None or report.body == text.strip()


# -- Kazoo -----------------------------------------------------------------------------------

NOW_GREGORIAN = 1_700_000_000 + GREGORIAN_UNIX_OFFSET


def test_kazoo_success_item() -> None:
    item = {
        "timestamp": NOW_GREGORIAN,
        "contact": "918867135000",
        "call_id": "c2c-abc-1",
        "cdr_id": "201711-c2c-abc-1",
        "result": "success",
    }
    report = kazoo_history_report(
        item, account="k", clicktocall_id="abc", extension="1001", call_id="ours"
    )
    assert report.provider == "kazoo"
    assert report.source == "poll"
    assert report.status is CallStatus.COMPLETED
    assert report.answered is True
    assert report.started_at == 1_700_000_000.0
    assert (report.customer, report.agent, report.bridge) == ("918867135000", "1001", "abc")
    assert (report.provider_ref, report.call_id, report.account) == ("c2c-abc-1", "ours", "k")
    assert report.cause == "success"
    assert json.loads(report.body) == item  # unknown fields (cdr_id) kept


@pytest.mark.parametrize(
    ("cause", "status"),
    [
        ("USER_BUSY", CallStatus.BUSY),
        ("NO_ANSWER", CallStatus.NO_ANSWER),
        ("no_user_response", CallStatus.NO_ANSWER),
        ("timed out", CallStatus.NO_ANSWER),
        ("ORIGINATOR_CANCEL", CallStatus.CANCELLED),
        ("NO_ROUTE_DESTINATION", CallStatus.FAILED),
        ("no resources", CallStatus.FAILED),
        ("request failed: econnrefused", CallStatus.FAILED),
        (17, CallStatus.BUSY),
    ],
)
def test_kazoo_error_items_take_their_cause(cause: object, status: CallStatus) -> None:
    item = {"timestamp": NOW_GREGORIAN, "contact": "1001", "result": "error", "cause": cause}
    report = kazoo_history_report(item)
    assert report.status is status
    assert report.answered is False
    assert report.cause == str(cause)
    assert report.provider_ref is None  # error items carry no call id


def test_kazoo_error_without_a_cause() -> None:
    report = kazoo_history_report({"contact": "1001", "result": "error"})
    assert report.status is CallStatus.FAILED
    assert report.cause == "error"
    assert report.started_at is None


def test_kazoo_item_as_json_text_and_odd_timestamps() -> None:
    report = kazoo_history_report(
        f'{{"timestamp": "{NOW_GREGORIAN}", "contact": 1001, "result": "success"}}'
    )
    assert report.started_at == 1_700_000_000.0
    assert report.customer == "1001"
    for odd in (-5, "soon", 1e400, True, None, 10**30):
        assert (
            kazoo_history_report({"timestamp": odd, "contact": "1", "result": "x"}).started_at
            is None
        )


@pytest.mark.parametrize(
    ("item", "why"),
    [
        ("[1, 2]", "not a JSON object"),
        ("{", "not JSON"),
        ({"contact": "1001", "result": 1}, "result is not a word"),
        ({"contact": "1001", "result": " "}, "result is not a word"),
        ({"result": "success"}, "without a contact"),
        ({"result": "success", "contact": ["x"]}, "without a contact"),
        ({"result": "success", "contact": True}, "without a contact"),
        ({"result": "success", "contact": "1", 1: "mixed keys"}, "not plain JSON"),
    ],
)
def test_kazoo_unusable_items_are_refused(item: Any, why: str) -> None:
    with pytest.raises(ReportParseError, match=why):
        kazoo_history_report(item)


def test_kazoo_document_item_without_its_cdr_says_the_outcome_is_unknown() -> None:
    # Seed 003's shape: contact, timestamp, call_id, cdr_id and no result.
    item = {"contact": "1001", "timestamp": NOW_GREGORIAN, "call_id": "leg-1", "cdr_id": "c-1"}
    report = kazoo_history_report(item)
    assert report.status is CallStatus.NO_REPORT
    assert report.answered is None
    assert report.provider_ref == "leg-1"
    assert report.started_at == 1_700_000_000.0
    assert "not how it ended" in report.cause


@pytest.mark.parametrize(
    ("cause", "billed", "status"),
    [
        ("NORMAL_CLEARING", "42", CallStatus.COMPLETED),
        ("NORMAL_CLEARING", "0", CallStatus.NO_ANSWER),  # cleared before anyone answered
        ("USER_BUSY", 0, CallStatus.BUSY),
        ("NO_ANSWER", "0", CallStatus.NO_ANSWER),
        ("CALL_REJECTED", "0", CallStatus.FAILED),
        ("", "7", CallStatus.COMPLETED),
    ],
)
def test_kazoo_document_item_takes_its_outcome_and_durations_from_the_cdr(
    cause: str, billed: object, status: CallStatus
) -> None:
    cdr = {
        "id": "c-1",
        "call_id": "leg-1",
        "billing_seconds": billed,
        "duration_seconds": "60",
        "hangup_cause": cause,
        "timestamp": NOW_GREGORIAN + 60,
    }
    item = {"contact": "1001", "timestamp": NOW_GREGORIAN, "call_id": "leg-1", "cdr_id": "c-1"}
    report = kazoo_history_report({**item, "cdr": cdr})
    assert report.status is status
    assert report.answered is (status is CallStatus.COMPLETED)
    assert report.talk_seconds == report.billed_seconds == int(str(billed))
    assert report.started_at == 1_700_000_000.0
    assert report.ended_at == 1_700_000_060.0
    assert report.cause == (cause or "the CDR gives no hangup cause")


def test_kazoo_upstream_item_takes_its_durations_from_a_cdr_too() -> None:
    cdr = {"billing_seconds": "30", "timestamp": NOW_GREGORIAN + 40, "duration_seconds": 40}
    report = kazoo_history_report({"contact": "1001", "result": "success", "cdr": cdr})
    assert report.status is CallStatus.COMPLETED
    assert report.talk_seconds == 30
    assert report.started_at == 1_700_000_000.0  # the CDR's end less its duration
    assert report.ended_at == 1_700_000_040.0


def test_kazoo_body_does_not_depend_on_key_order() -> None:
    a = kazoo_history_report({"contact": "1", "result": "success", "timestamp": 1})
    b = kazoo_history_report({"timestamp": 1, "result": "success", "contact": "1"})
    assert a.body == b.body  # the store dedupes the same item read twice


_causes = st.sampled_from(
    ["", "USER_BUSY", "NO_ANSWER", "CALL_REJECTED", "timed out", "no resources"]
) | st.text(max_size=20)


@given(
    timestamp=st.integers(min_value=GREGORIAN_UNIX_OFFSET, max_value=NOW_GREGORIAN * 2),
    contact=st.from_regex(r"(sip:)?[0-9]{3,15}(@[a-z.]{1,10})?", fullmatch=True),
    leg=st.none() | st.text(min_size=1, max_size=30).filter(str.strip),
    result=st.sampled_from(["success", "error", "Error"]),
    cause=_causes,
)
def test_kazoo_round_trip(
    timestamp: int, contact: str, leg: str | None, result: str, cause: str
) -> None:
    item: dict[str, Any] = {"timestamp": timestamp, "contact": contact, "result": result}
    if leg is not None:
        item["call_id"] = leg
    if cause:
        item["cause"] = cause
    report = kazoo_history_report(item, clicktocall_id="c")
    assert json.loads(report.body) == item
    assert report.customer == contact
    assert report.provider_ref == (leg.strip() if leg is not None else None)
    assert report.started_at == float(timestamp - GREGORIAN_UNIX_OFFSET)
    assert report.status is kazoo_status(result, cause)
    assert report.answered is (result == "success")
    assert report.cause == (cause.strip() or result)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_item_keys = st.sampled_from(["timestamp", "contact", "call_id", "result", "cause"]) | st.text(
    max_size=6
)


@given(st.dictionaries(_item_keys, _json, max_size=6) | _json | st.text())
def test_kazoo_anything_parses_or_is_refused_clearly(item: Any) -> None:
    refusal = ""
    try:
        report = kazoo_history_report(item)
    except ReportParseError as exc:
        refusal = str(exc)
    if refusal:
        assert refusal.startswith("a Kazoo history item ")
    else:
        assert report.status in set(CallStatus)
        assert report.customer
