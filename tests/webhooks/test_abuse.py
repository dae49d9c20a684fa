"""The receiver against an attacker, with hypothesis: arbitrary JSON values in every field the
document names (text, numbers huge and negative, NaN, unicode, lone surrogates, nested
values), sent over loopback HTTP to a real receiver over a real SQLite history. After each
request: the answer is 200 or 400 (a 5xx says "try again", and a retry of bad input never
succeeds); every export and every cell of the history panel read the whole file; and a
report not authorised for the shop left the shop's calls as they were."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dialer.cli.history import write_table
from dialer.core.accounts import StaticAccounts
from dialer.core.calls import CallStatus
from dialer.core.secrets import MemorySecretStore
from dialer.core.threads import LoopThread
from dialer.history import CallRecord, HistoryQuery
from dialer.history.export import COLUMNS, write_csv, write_json
from dialer.history.sqlite_store import SqliteHistory
from dialer.webhooks.receiver import WebhookReceiver
from tests.webhooks.conftest import TOKEN, c2c_account, shop_call

# What a stored report that says odd things logs, as it should (it is stored all the same).
pytestmark = pytest.mark.allow_warnings_log(r"outside the documented vocabulary")

SHOP_SECRET = "shop-webhook-secret"
DOCUMENTED = (
    "webhook_id", "bridge", "from", "to", "source", "start_at", "end_at", "date", "unixtime",
    "duration", "billing", "status", "status1", "status2", "recording_url", "hangup_by",
    "mid", "callId",
)  # fmt: skip

# Text of any code point, lone surrogates included (json.dumps escapes them as \ud800).
# The hard ones are drawn often: lone surrogates, control characters, NUL, line breaks.
HARD = st.characters(categories=["Cs", "Cc", "Zl", "Zp", "Cf"])
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()) | HARD, max_size=12)
LONE_SURROGATE = st.builds(
    "{}{}{}".format, ANY_TEXT, st.characters(categories=["Cs"]), st.sampled_from(["", "x"])
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()  # NaN and the infinities too: Python's json reads "NaN" and "Infinity"
    | ANY_TEXT
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6,
)
# Values of the right kind, so that many reports get as far as being stored.
LIKELY: dict[str, st.SearchStrategy[Any]] = {
    "webhook_id": st.sampled_from(["hook-shop", "hook-branch", "hook-unknown"]),
    "status": st.sampled_from(["COMPLETED", "BUSY", "NOANSWER", "CANCEL", "WHATEVER"]),
    "mid": st.sampled_from(["shop-call", "shop-open"]),
    "callId": st.just("shop-ref"),
    "from": st.sampled_from(["919891952000", 919891952000]),
    "to": st.sampled_from(["918867135000", "flow:220"]),
    "bridge": st.just("918068280000"),
    "start_at": st.sampled_from(
        ["2021-04-09 16:27:39", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]
    ),
    "end_at": st.sampled_from(["2021-04-09 16:27:55", "9999-12-31 23:59:59", ""]),
    "date": st.sampled_from(["2021-04-09 16:27:55", "0000-00-00 00:00:00"]),
    "unixtime": st.sampled_from([1617965875, "253402300799", 253402300799, 10**40, -1]),
    "duration": st.sampled_from([23, "23", 2**31 - 1, 2**63, -5]),
    "billing": st.sampled_from([16, "16", ""]),
}


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly a plausible report, with one to three fields anything at all (text of any
    code point half the time: the type a text field wants, with what it may not carry)."""
    names = draw(st.lists(st.sampled_from(DOCUMENTED), unique=True, max_size=len(DOCUMENTED)))
    body = {name: draw(LIKELY.get(name, ANY_TEXT)) for name in names}
    if draw(st.integers(0, 9)):  # most of them are call reports, most for the branch
        body.setdefault("status", draw(LIKELY["status"]))
        body.setdefault("webhook_id", "hook-branch")
    attacked = draw(st.lists(st.sampled_from(DOCUMENTED), unique=True, min_size=1, max_size=2))
    for name in attacked:
        body[name] = draw(st.one_of(ANY_TEXT, ANY_TEXT, LONE_SURROGATE, ANY_JSON))
    return body


@pytest.fixture(autouse=True, scope="module")
def east_of_utc() -> Iterator[None]:
    """The machine 14 hours east of UTC (a POSIX zone: no tz database needed): where the
    latest time the receiver took (9999-12-31 23:59:59 UTC) is already the year 10000."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "XST-14"
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()


@dataclass
class Site:
    history: SqliteHistory
    url: str
    http: httpx.Client


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One receiver for every example (hypothesis runs hundreds), serving from a thread of
    its own as ``dialer webhooks serve`` would, over a history with two of the shop's calls.
    The shop's webhook has a secret; the branch's has none."""
    folder: Path = tmp_path_factory.mktemp("abuse")
    history = SqliteHistory(folder / "calls.sqlite3")
    secrets = MemorySecretStore()
    secrets.set("account:shop:webhook", SHOP_SECRET)
    accounts = StaticAccounts(
        [c2c_account("shop", "hook-shop"), c2c_account("branch", "hook-branch")]
    )
    server = LoopThread("abuse-receiver")
    receiver = WebhookReceiver(history, accounts, secrets, path_token=TOKEN)

    def on_server(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, server.loop).result(30)

    for call_id, status, ref in (
        ("shop-call", CallStatus.COMPLETED, "shop-ref"),
        ("shop-open", CallStatus.ACCEPTED, None),
    ):
        on_server(history.insert(shop_call(call_id, status, provider_ref=ref)))
    url = on_server(receiver.start())
    try:
        with httpx.Client(trust_env=False, timeout=30) as http:
            yield Site(history, url, http)
    finally:
        on_server(receiver.stop())
        server.close()
        history.close()


def shop_calls(history: SqliteHistory) -> list[tuple[CallRecord | None, int]]:
    return [(history.get(i), len(history.reports(i))) for i in ("shop-call", "shop-open")]


def read_everything(history: SqliteHistory) -> int:
    """Every way the history is read, over the whole file; returns how many calls it holds."""
    from dialer.ui.history_model import COLUMNS as PANEL_COLUMNS
    from dialer.ui.history_model import HistoryModel, cell_text

    query = HistoryQuery()
    records = list(history.iter_records(query))
    text = io.StringIO()
    assert write_csv(iter(records), text) == len(records)
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    assert rows[0] == list(COLUMNS) and len(rows) == len(records) + 1
    text = io.StringIO()
    assert write_json(iter(records), text) == len(records)
    assert len(json.loads(text.getvalue())) == len(records)  # strict JSON: no NaN
    assert write_table(iter(records), history.totals(query), io.StringIO()) == len(records)
    for record in records:
        for column in range(len(PANEL_COLUMNS)):
            assert isinstance(cell_text(record, column), str)
            HistoryModel._tooltip(record, column)
        for reported in history.reports(record.id):
            assert isinstance(reported.body, str)
        history.timeline(record.id)
    return len(records)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=reports(), authorised=st.booleans(), as_bytes=st.booleans())
@example(
    body={"status": "BUSY", "webhook_id": "hook-branch", "to": "\ud800"},
    authorised=False,
    as_bytes=False,
)
@example(body={"status": "\udfff", "webhook_id": "hook-branch"}, authorised=False, as_bytes=False)
@example(
    body={"status": "BUSY", "hangup_by": "a\x00b\u2028", "webhook_id": "hook-branch"},
    authorised=False,
    as_bytes=True,
)
def test_any_json_in_any_documented_field_gets_200_or_400_and_every_read_survives(
    site: Site, body: dict[str, Any], authorised: bool, as_bytes: bool
) -> None:
    before = shop_calls(site.history)
    # ensure_ascii=False sends unicode as UTF-8; a lone surrogate cannot be, so it is sent
    # escaped, as any JSON encoder would.
    try:
        content = json.dumps(body, ensure_ascii=not as_bytes).encode()
    except UnicodeEncodeError:
        content = json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if authorised:
        headers["authorization"] = f"Bearer {SHOP_SECRET}"
    answer = site.http.post(site.url, content=content, headers=headers)
    assert answer.status_code in (200, 400, 401), answer.text
    assert "\n" not in answer.text.strip() and len(answer.text) < 300  # one sentence
    read_everything(site.history)
    if not authorised:
        assert shop_calls(site.history) == before  # nothing crossed into the shop's calls


def test_the_corpus_of_odd_times_is_stored_as_unknown_and_read_everywhere(site: Site) -> None:
    # The cases, each its own call: times no calendar can show stay unknown.
    corpus: list[dict[str, Any]] = [
        {"start_at": "9999-12-31T23:59:59-12:00"},
        {"unixtime": 253_402_300_799},
        {"unixtime": "99999999999999999999999"},
        {"end_at": "0001-01-01T00:00:00+14:00"},
    ]
    for number, odd in enumerate(corpus):
        body = {"webhook_id": "hook-branch", "status": "BUSY", "to": f"91886713{number:04d}", **odd}
        answer = site.http.post(site.url, content=json.dumps(body).encode())
        assert answer.status_code == 200, answer.text
        (stored,) = site.history.page(HistoryQuery(digits=f"91886713{number:04d}"))
        assert stored.started_at is None and stored.ended_at is None
        assert stored.created_at > 1e9 and math.isfinite(stored.created_at)
        assert json.loads(site.history.reports(stored.id)[0].body) == body  # kept verbatim
    assert read_everything(site.history) >= 4
