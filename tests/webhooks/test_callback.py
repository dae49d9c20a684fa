"""Reading C2C v2 callbacks: the document's fields and types, the status vocabulary, one
sentence for every malformed body, and property tests that fuzz the parser."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.core.calls import CallStatus
from dialer.webhooks.callback import (
    STATUS_MAP,
    MalformedCallback,
    is_verification,
    parse_c2c_callback,
)
from tests.webhooks.conftest import callback


def parse(body: dict[str, Any] | str | bytes, account: str | None = "shop") -> Any:
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return parse_c2c_callback(body, account=account)


def local(text: str) -> float:
    return time.mktime(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


def test_the_documents_example_maps_onto_a_report() -> None:
    body = json.dumps(callback(mid="ref-1", callId="sim-42", extra={"kept": True}))
    report = parse(body)
    assert report.provider == "c2c-v2"
    assert report.source == "webhook"
    assert report.body == body  # verbatim, unknown fields included
    assert report.account == "shop"
    assert report.status is CallStatus.COMPLETED
    assert report.answered is True
    assert (report.bridge, report.agent, report.customer) == (
        "918068280000",
        "919891952000",
        "918867135000",
    )
    assert report.agent_seconds == 23  # duration: the first leg
    assert report.talk_seconds == 16  # billing: the second leg
    assert report.billed_seconds == 16
    assert report.started_at == local("2021-04-09 16:27:39")
    assert report.ended_at == local("2021-04-09 16:27:55")
    assert report.reported_at == 1617965875.0
    assert report.recording_url == "https://recordings.example/1.wav"
    assert report.hangup_by == "caller"
    assert report.cause == "COMPLETED/RECEIVED/ANSWER"
    assert report.call_id == "ref-1"  # mid: our reference
    assert report.provider_ref == "sim-42"  # callId: the platform's


def test_numbers_may_be_json_numbers_or_strings() -> None:
    as_numbers = parse(
        callback(
            bridge=918068280000,
            unixtime=1617965875,
            duration=23,
            billing=16,
            **{"from": 919891952000, "to": 918867135000},
        )
    )
    as_strings = parse(callback())
    for field in ("bridge", "agent", "customer", "agent_seconds", "talk_seconds", "reported_at"):
        assert getattr(as_numbers, field) == getattr(as_strings, field), field
    # A string keeps what a number cannot: a leading zero, a flow.
    flow = parse(callback(to="flow:220", bridge="08068280000"))
    assert flow.customer == "flow:220"
    assert flow.bridge == "08068280000"


@pytest.mark.parametrize(("word", "status", "answered"), [
    ("COMPLETED", CallStatus.COMPLETED, True),
    ("ANSWER", CallStatus.COMPLETED, True),
    ("RECEIVED", CallStatus.COMPLETED, True),
    ("BUSY", CallStatus.BUSY, False),
    ("NOANSWER", CallStatus.NO_ANSWER, False),
    ("MISSED", CallStatus.NO_ANSWER, False),
    ("CANCEL", CallStatus.CANCELLED, False),
    ("CONGESTION", CallStatus.FAILED, False),
    ("CHANUNAVAIL", CallStatus.FAILED, False),
])  # fmt: skip
def test_the_platforms_vocabulary(word: str, status: CallStatus, answered: bool) -> None:
    report = parse(callback(status=word, status1="RECEIVED", status2="ANSWER"))
    assert (report.status, report.answered) == (status, answered)
    assert report.cause == f"{word}/RECEIVED/ANSWER"
    assert parse(callback(status=word.lower())).status is status  # case is not meaning


def test_status_decides_then_the_customers_leg_then_the_agents() -> None:
    assert parse(callback(status=..., status2="BUSY", status1="ANSWER")).status is CallStatus.BUSY
    assert parse(callback(status="", status2="", status1="NOANSWER")).status is (
        CallStatus.NO_ANSWER
    )
    odd = parse(callback(status="TRANSFERRED", status2="CANCEL"))
    assert odd.status is CallStatus.CANCELLED
    assert odd.cause == "TRANSFERRED/RECEIVED/CANCEL"


@pytest.mark.allow_warnings_log("^C2C v2 callback with statuses outside the documented vocabulary")
def test_a_status_outside_the_vocabulary_is_kept_not_refused() -> None:
    report = parse(callback(status="VOICEMAIL", status1="ODD", status2=None))
    assert report.status is CallStatus.FAILED
    assert report.answered is None  # not guessed
    assert report.cause == "VOICEMAIL/ODD/"
    assert report.talk_seconds == 16  # everything else is kept


def test_empty_values_mean_not_reported() -> None:
    report = parse(
        callback(
            start_at="0000-00-00 00:00:00",
            end_at="",
            unixtime="",
            date="2021-04-09 16:27:55",
            duration="",
            billing=None,
            recording_url="",
            hangup_by="",
            bridge="",
        )
    )
    assert report.started_at is None and report.ended_at is None
    assert report.reported_at == local("2021-04-09 16:27:55")  # date stands in for unixtime
    assert report.agent_seconds is None and report.talk_seconds is None
    assert report.recording_url is None and report.hangup_by is None
    assert report.bridge is None


def test_an_iso_time_with_an_offset_is_read_with_it() -> None:
    report = parse(callback(start_at="2021-04-09T16:27:39+05:30"))
    assert report.started_at == datetime.fromisoformat("2021-04-09T10:57:39+00:00").timestamp()


def test_local_times_are_read_in_the_zone_given() -> None:
    kolkata, new_york = ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York")
    body = json.dumps(callback(end_at="2021-11-07 01:30:00")).encode()
    report = parse_c2c_callback(body, account="shop", zone=kolkata)
    assert report.started_at == datetime(2021, 4, 9, 16, 27, 39, tzinfo=kolkata).timestamp()
    assert report.started_at == datetime.fromisoformat("2021-04-09T10:57:39+00:00").timestamp()
    # The hour a clock goes back shows twice: its first showing is taken.
    late = parse_c2c_callback(body, account="shop", zone=new_york)
    assert late.ended_at == datetime.fromisoformat("2021-11-07T01:30:00-04:00").timestamp()
    assert late.reported_at == 1617965875.0  # unixtime has no zone
    # An offset in the text wins over the zone.
    aware = callback(start_at="2021-04-09T16:27:39+00:00")
    report = parse_c2c_callback(json.dumps(aware).encode(), account="shop", zone=kolkata)
    assert report.started_at == datetime.fromisoformat("2021-04-09T16:27:39+00:00").timestamp()


@pytest.mark.parametrize(("body", "words"), [
    (b"", "empty"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"status": "COMPLETED"', "not valid JSON"),
    (b"[1, 2]", "JSON array, not an object"),
    (b'"COMPLETED"', "JSON string, not an object"),
    (b"null", "JSON null, not an object"),
    (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
    (b'{"from": "919891952000"}', "no status"),
    (json.dumps(callback(status=200)).encode(), "'status' is a JSON number, not text"),
    (json.dumps(callback(**{"from": 9.19e11})).encode(), "'from' is a JSON number (9190000"),
    (json.dumps(callback(to=True)).encode(), "'to' is a JSON boolean"),
    (json.dumps(callback(bridge=-5)).encode(), "'bridge' is negative"),
    (json.dumps(callback(bridge=[1])).encode(), "'bridge' is a JSON array, not a phone number"),
    (json.dumps(callback(duration="23s")).encode(), "'duration' ('23s') is not a whole number"),
    (json.dumps(callback(billing=1.5)).encode(), "'billing' is a JSON number (1.5)"),
    (json.dumps(callback(billing=-1)).encode(), "'billing' (-1) is out of range"),
    (json.dumps(callback(duration="9" * 30)).encode(), "'duration' (999"),
    (json.dumps(callback(unixtime="soon")).encode(), "'unixtime' ('soon') is not a Unix time"),
    (json.dumps(callback(start_at="09/04/2021")).encode(), "'start_at' ('09/04/2021') is not"),
    (json.dumps(callback(recording_url={"u": 1})).encode(), "'recording_url' is a JSON value"),
])  # fmt: skip
def test_malformed_bodies_get_one_specific_sentence(body: bytes, words: str) -> None:
    with pytest.raises(MalformedCallback) as info:
        parse_c2c_callback(body, account=None)
    assert words in info.value.reason
    assert info.value.reason.endswith(".") and "\n" not in info.value.reason


def test_the_verification_handshake_is_recognised() -> None:
    body = {"validation_key": "k", "challenge": "c-123"}
    assert is_verification({"token": "k"}, body) == "c-123"
    assert is_verification({"token": "k"}, {**body, "challenge": 42}) == 42
    assert is_verification({}, body) is None  # no ?token=
    assert is_verification({"token": "k"}, {"challenge": "c"}) is None  # no validation_key
    assert is_verification({"token": "k"}, [body]) is None
    assert is_verification({"token": "k"}, {**body, "challenge": None}) is None
    assert is_verification({"token": "k"}, callback()) is None


# -- property tests ---------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
KNOWN_FIELDS = [*callback(), "mid", "callId"]
# Every known field, each with any JSON value (or absent): the type checks meet everything.
SCALARS: st.SearchStrategy[object] = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=25)
    | st.from_regex(r" ?[0-9]{0,20} ?", fullmatch=True)
    | st.just([])
)
ANY_SHAPED_CALLBACK = st.fixed_dictionaries({}, optional={name: SCALARS for name in KNOWN_FIELDS})


def parses_or_refuses(body: bytes) -> None:
    try:
        report = parse_c2c_callback(body, account=None)
    except MalformedCallback as exc:
        reason = exc.reason
        assert reason and "\n" not in reason
        return
    assert report.body == body.decode("utf-8")
    assert report.status in CallStatus


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_else(body: bytes) -> None:
    parses_or_refuses(body)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_any_json_never_raises_anything_else(value: object) -> None:
    parses_or_refuses(json.dumps(value).encode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_SHAPED_CALLBACK)
@pytest.mark.allow_warnings_log("^C2C v2 callback with statuses outside the documented vocabulary")
def test_any_values_in_the_known_fields_never_raise_anything_else(body: dict[str, Any]) -> None:
    parses_or_refuses(json.dumps(body).encode())


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.integers(min_value=0, max_value=200))
def test_truncated_callbacks_never_raise_anything_else(noise: str, cut: int) -> None:
    whole = json.dumps(callback(hangup_by=noise))
    parses_or_refuses(whole[: len(whole) - cut].encode())


def phone_number() -> st.SearchStrategy[int | str]:
    digits = st.integers(min_value=10**7, max_value=10**15 - 1)
    return digits | digits.map(str) | st.from_regex(r"0[0-9]{9,12}", fullmatch=True)


def seconds() -> st.SearchStrategy[int | str]:
    whole = st.integers(min_value=0, max_value=10**6)
    return whole | whole.map(str)


MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda moment: moment.replace(microsecond=0)
)
WORDS = sorted(STATUS_MAP)


@settings(max_examples=100, deadline=None)
@given(
    bridge=phone_number(),
    agent=phone_number(),
    customer=phone_number() | st.integers(1, 999).map(lambda n: f"flow:{n}"),
    duration=seconds(),
    billing=seconds(),
    unixtime=st.integers(min_value=946_684_800, max_value=4_102_444_800) | st.just(""),
    started=MOMENTS,
    ended=MOMENTS,
    statuses=st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(WORDS)),
    mid=st.none() | st.text(min_size=1, max_size=20).filter(str.strip),
    call_id=st.none() | st.uuids().map(str),
    recording=st.sampled_from(["", "https://example.com/r.wav"]),
    hangup_by=st.sampled_from(["agent", "caller"]),
    extra=st.dictionaries(st.text(min_size=1, max_size=6).map(lambda k: "x-" + k), SCALARS),
)
def test_valid_callbacks_round_trip_their_fields(
    bridge: int | str,
    agent: int | str,
    customer: int | str,
    duration: int | str,
    billing: int | str,
    unixtime: int | str,
    started: datetime,
    ended: datetime,
    statuses: tuple[str, str, str],
    mid: str | None,
    call_id: str | None,
    recording: str,
    hangup_by: str,
    extra: dict[str, Any],
) -> None:
    status, status1, status2 = statuses
    fields: dict[str, Any] = {
        **extra,
        "webhook_id": "hook-shop",
        "bridge": bridge,
        "from": agent,
        "to": customer,
        "source": "C2C",
        "start_at": started.strftime("%Y-%m-%d %H:%M:%S"),
        "end_at": ended.strftime("%Y-%m-%d %H:%M:%S"),
        "unixtime": unixtime,
        "duration": duration,
        "billing": billing,
        "status": status,
        "status1": status1,
        "status2": status2,
        "recording_url": recording,
        "hangup_by": hangup_by,
    }
    if mid is not None:
        fields["mid"] = mid
    if call_id is not None:
        fields["callId"] = call_id
    text = json.dumps(fields)
    report = parse_c2c_callback(text.encode(), account="shop")
    assert report.body == text
    assert (report.bridge, report.agent, report.customer) == (
        str(bridge),
        str(agent),
        str(customer),
    )
    assert report.agent_seconds == int(duration)
    assert report.talk_seconds == report.billed_seconds == int(billing)
    assert report.reported_at == (float(unixtime) if unixtime != "" else None)
    assert report.started_at == started.timestamp()
    assert report.ended_at == ended.timestamp()
    assert (report.status, report.answered) == STATUS_MAP[status]
    assert report.cause == f"{status}/{status1}/{status2}"
    assert report.call_id == (mid.strip() if mid is not None else None)
    assert report.provider_ref == call_id
    assert report.recording_url == (recording or None)
    assert report.hangup_by == hangup_by
    assert report.account == "shop"
