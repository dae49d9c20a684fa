"""The behaviour every history backend shares, run against each: which call a report
belongs to, deduplication, what a report or an amendment changes (never reopening a
finished call; a tracker's conclusion never overriding a stored report), queries, totals
and annotations. A backend joins by adding itself to ``BACKENDS``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from dialer.core.calls import CallStatus
from dialer.core.paths import AppPaths
from dialer.history import CallOrigin, CallRecord, HistoryQuery, HistoryStore, SortKey
from dialer.history.factory import open_history
from tests.history.test_sqlite_store import call, filled, report


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> HistoryStore:
    """The profile's own backend, as the factory builds it: a real file."""
    return open_history(AppPaths.under(tmp_path).ensure())


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> HistoryStore:
    """The team backend in a database of the test's own, as its administrator (the owner
    of the tables, whom row-level security does not restrict: tests/team tests that)."""
    from dialer.core.team import TeamRole
    from dialer.history import postgres_admin
    from dialer.history.postgres_store import PostgresHistory

    team = request.getfixturevalue("team_database")
    postgres_admin.setup(team.admin_dsn)
    return PostgresHistory(team.dsn(), user=team.admin, role=TeamRole.SUPERVISOR)


# Each backend, opened empty for one test. The PostgreSQL one skips when there is no server
# (and fails under CI=true: tests/postgres.py).
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], HistoryStore]] = {
    "sqlite": _sqlite,
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    history = BACKENDS[request.param](request, tmp_path)
    try:
        yield history
    finally:
        history.close()


async def test_listeners_hear_every_change_before_the_writer_returns(
    store: HistoryStore,
) -> None:
    heard: list[tuple[str, CallStatus]] = []
    store.add_listener(lambda r: heard.append((r.id, r.status)))
    record = await store.insert(call("c1"))
    assert heard == [("c1", CallStatus.PLACING)]
    await store.amend(record, status=CallStatus.ACCEPTED)
    await store.ingest(report(call_id="c1"))
    assert heard[1:] == [("c1", CallStatus.ACCEPTED), ("c1", CallStatus.COMPLETED)]


async def test_a_report_naming_our_reference_updates_that_call(store: HistoryStore) -> None:
    await store.insert(call("mine", status=CallStatus.ACCEPTED))
    await store.insert(call("newer", status=CallStatus.ACCEPTED, created_at=1_700_000_100.0))
    stored = await store.ingest(
        report(call_id="mine", talk_seconds=23, agent_seconds=30, answered=True, cause="ANSWER")
    )
    assert stored.id == "mine"
    assert stored.status is CallStatus.COMPLETED
    assert (stored.talk_seconds, stored.agent_seconds, stored.answered) == (23, 30, True)
    assert store.get("newer").status is CallStatus.ACCEPTED  # type: ignore[union-attr]
    assert [r.source for r in store.reports("mine")] == ["webhook"]
    assert store.timeline("mine")[-1].detail == "ANSWER"


async def test_bridge_and_legs_match_the_newest_open_call(store: HistoryStore) -> None:
    await store.insert(call("older", status=CallStatus.ACCEPTED, created_at=1.0))
    await store.insert(call("newest", status=CallStatus.ACCEPTED, created_at=3.0))
    await store.insert(call("done", status=CallStatus.COMPLETED, created_at=4.0))
    await store.insert(call("other-leg", customer="+14155550100", created_at=5.0))
    first = await store.ingest(report(reported_at=1.0))
    second = await store.ingest(report(reported_at=2.0))
    assert (first.id, second.id) == ("newest", "older")


async def test_a_report_dated_outside_the_calls_life_matches_no_call(
    store: HistoryStore,
) -> None:
    placed_at = time.time() - 60
    await store.insert(call("open", status=CallStatus.ACCEPTED, created_at=placed_at))
    # The document's example report, of 2021: the same numbers, but not this call.
    in_2021 = datetime(2021, 4, 9, 16, 27, 39).timestamp()
    old = await store.ingest(report(started_at=in_2021, reported_at=1_653_455_555.0))
    assert old.origin is CallOrigin.OUTSIDE and old.id != "open"
    assert store.get("open").status is CallStatus.ACCEPTED  # type: ignore[union-attr]
    # One from hours ahead (its times read in another zone than the platform's) neither.
    ahead = await store.ingest(report(started_at=time.time() + 5 * 3600, hangup_by="agent"))
    assert ahead.origin is CallOrigin.OUTSIDE
    # Its own report, begun just after the call was placed here, is its.
    own = await store.ingest(report(started_at=placed_at + 3, ended_at=placed_at + 40))
    assert own.id == "open" and own.status is CallStatus.COMPLETED


async def test_a_late_report_of_a_call_finds_it_past_a_newer_call_to_the_same_numbers(
    store: HistoryStore,
) -> None:
    first_at = time.time() - 600
    await store.insert(call("first", status=CallStatus.ACCEPTED, created_at=first_at))
    await store.insert(call("second", status=CallStatus.ACCEPTED, created_at=first_at + 120))
    late = await store.ingest(report(started_at=first_at + 4, reported_at=time.time()))
    assert late.id == "first"
    assert store.get("second").status is CallStatus.ACCEPTED  # type: ignore[union-attr]


async def test_a_flow_report_matches_the_flow_call(store: HistoryStore) -> None:
    await store.insert(call("agent-call", status=CallStatus.ACCEPTED))
    await store.insert(call("flow-call", agent=None, flow_id="220", status=CallStatus.ACCEPTED))
    stored = await store.ingest(
        report(agent="918867135000", customer="flow:220", status=CallStatus.COMPLETED)
    )
    assert stored.id == "flow-call"


async def test_a_report_matching_nothing_is_a_call_placed_outside(store: HistoryStore) -> None:
    stored = await store.ingest(
        report(customer="14155550100", account="a", started_at=1_600_000_000.0, talk_seconds=9)
    )
    assert stored.origin is CallOrigin.OUTSIDE
    assert stored.customer == "14155550100" and stored.created_at == 1_600_000_000.0
    assert stored.talk_seconds == 9
    assert store.page(HistoryQuery(digits="4155550100"))[0].id == stored.id


@pytest.mark.parametrize(
    ("authorised", "names_it"),
    [
        ({"account": "b"}, {"call_id": "a-call"}),
        ({"account": "b"}, {"provider_ref": "a-ref"}),
        ({"account": "b"}, {}),
        ({"accounts": frozenset({"b", "c"})}, {"call_id": "a-call"}),
        ({"accounts": frozenset({"b", "c"})}, {"provider_ref": "a-ref"}),
    ],
)
async def test_a_report_changes_only_calls_of_the_accounts_it_was_authorised_for(
    store: HistoryStore, authorised: dict[str, object], names_it: dict[str, str]
) -> None:
    await store.insert(call("a-call", status=CallStatus.ACCEPTED, provider_ref="a-ref"))
    crossing = report(status=CallStatus.BUSY, **authorised, **names_it)
    stored = await store.ingest(crossing)
    assert stored.id != "a-call" and stored.origin is CallOrigin.OUTSIDE
    assert stored.status is CallStatus.BUSY and store.reports(stored.id)[0].body == crossing.body
    untouched = store.get("a-call")
    assert untouched is not None and untouched.status is CallStatus.ACCEPTED
    assert store.reports("a-call") == []
    # The account's own report still finds its call, past the outside call just kept.
    own = await store.ingest(report(account="a", cause="own", **names_it))
    assert own.id == "a-call" and own.status is CallStatus.COMPLETED


async def test_a_report_authorised_for_several_accounts_changes_their_calls(
    store: HistoryStore,
) -> None:
    await store.insert(call("c-call", account="c", status=CallStatus.ACCEPTED, provider_ref="r"))
    for names_it in ({"call_id": "c-call"}, {"provider_ref": "r", "cause": "again"}):
        stored = await store.ingest(report(accounts=frozenset({"b", "c"}), **names_it))
        assert stored.id == "c-call"
    assert len(store.reports("c-call")) == 2


async def test_a_repeated_delivery_changes_nothing(store: HistoryStore) -> None:
    first = await store.ingest(report(customer="14155550100", reported_at=5.0))
    again = await store.ingest(report(customer="14155550100", reported_at=5.0))
    assert again.id == first.id
    assert store.count() == 1
    assert len(store.reports(first.id)) == 1


async def test_a_late_progress_step_never_reopens_a_finished_call(store: HistoryStore) -> None:
    record = await store.insert(call("c"))
    await store.ingest(report(call_id="c", status=CallStatus.BUSY))
    late = await store.amend(record, status=CallStatus.ACCEPTED, provider_ref="p9")
    assert late.status is CallStatus.BUSY
    assert late.provider_ref == "p9"
    assert store.open_calls() == []


async def test_filters(store: HistoryStore) -> None:
    await filled(store)

    def ids(**query: object) -> list[str]:
        return [r.id for r in store.page(HistoryQuery(**query))]  # type: ignore[arg-type]

    assert ids() == ["c4", "c3", "c2", "c1"]
    assert ids(since=20.0, until=40.0) == ["c3", "c2"]
    assert ids(accounts=("west",)) == ["c2"]
    assert ids(statuses=(CallStatus.COMPLETED, CallStatus.BUSY)) == ["c3", "c2", "c1"]
    assert ids(digits="555-0100") == ["c2"]
    assert ids(digits="9000000001") == ["c3"]  # the agent's number counts too
    assert ids(agent="9000000001") == ["c3"]
    assert ids(agent="8867135000") == []  # a customer's digits are not an agent's
    assert ids(bridge="Sales line") == ["c4"]
    assert ids(bridge="80682") == ["c3", "c2", "c1"]
    for query in (HistoryQuery(accounts=("east",)), HistoryQuery(digits="4155")):
        stored = store.page(query)
        assert all(query.matches(r) for r in stored)
        assert not any(query.matches(r) for r in store.page(HistoryQuery()) if r not in stored)


async def test_every_sort_pages_without_gaps_or_repeats(store: HistoryStore) -> None:
    await filled(store)
    for key in SortKey:
        for descending in (True, False):
            query = HistoryQuery(sort=key, descending=descending)
            whole = [r.id for r in store.page(query)]
            paged: list[str] = []
            after = None
            while True:
                page = store.page(query, after=after, limit=1)
                if not page:
                    break
                paged.extend(r.id for r in page)
                after = store.page_key(query, page[-1])
            assert paged == whole, (key, descending)
            assert sorted(whole) == ["c1", "c2", "c3", "c4"]
    talk = [r.id for r in store.page(HistoryQuery(sort=SortKey.TALK))]
    assert talk[:2] == ["c3", "c1"]


async def test_totals(store: HistoryStore) -> None:
    await filled(store)
    totals = store.totals(HistoryQuery(accounts=("east",)))
    assert (totals.calls, totals.answered, totals.talk_seconds) == (3, 2, 120)
    assert (totals.billed_seconds, totals.charge) == (180, 3.5)
    assert totals.answered_rate == pytest.approx(2 / 3)
    assert totals.average_talk_seconds == 60
    empty = store.totals(HistoryQuery(accounts=("nobody",)))
    assert (empty.calls, empty.answered_rate, empty.average_talk_seconds) == (0, 0.0, 0.0)


async def test_export_reads_everything_in_order(store: HistoryStore) -> None:
    await asyncio.gather(
        *(store.insert(call(f"y{n:05}", created_at=float(n))) for n in range(2500))
    )
    ids = [r.id for r in store.iter_records(HistoryQuery(descending=False))]
    assert ids == [f"y{n:05}" for n in range(2500)]


async def test_notes_and_dispositions(store: HistoryStore) -> None:
    await filled(store)
    annotated = await store.annotate("c2", note="Call back Monday", disposition="Callback")
    assert (annotated.note, annotated.disposition) == ("Call back Monday", "Callback")
    assert annotated.status is CallStatus.BUSY
    again = await store.annotate("c2", disposition="Sale")
    assert (again.note, again.disposition) == ("Call back Monday", "Sale")
    assert store.page(HistoryQuery(sort=SortKey.DISPOSITION), limit=1)[0].id == "c2"
    with pytest.raises(KeyError):
        await store.annotate("nope", note="x")


async def test_a_conclusion_made_only_if_open_never_overrides_a_stored_outcome(
    store: HistoryStore,
) -> None:
    record = await store.insert(call("race", status=CallStatus.ACCEPTED))
    # The report commits first; the tracker's "no report" was decided on the older row.
    await store.ingest(report(call_id="race", status=CallStatus.COMPLETED))
    kept = await store.amend(
        record, only_if_open=True, status=CallStatus.NO_REPORT, message="no report"
    )
    assert kept.status is CallStatus.COMPLETED
    assert store.get("race").status is CallStatus.COMPLETED  # type: ignore[union-attr]
    forced = await store.amend(record, status=CallStatus.NO_REPORT)
    assert forced.status is CallStatus.NO_REPORT  # without the flag a final status may replace


async def test_a_removed_listener_hears_nothing_more(store: HistoryStore) -> None:
    heard: list[str] = []

    def told(record: CallRecord) -> None:
        heard.append(record.id)

    store.add_listener(told)
    await store.insert(call("l1"))
    store.remove_listener(told)
    store.remove_listener(told)  # one no longer listening is ignored
    await store.insert(call("l2"))
    assert heard == ["l1"]


async def test_listeners_are_told_on_the_loop_they_asked_for(store: HistoryStore) -> None:
    loop = asyncio.get_running_loop()
    serving = store.serving_thread
    expected = 3 if serving is not None else 2
    heard: list[asyncio.AbstractEventLoop] = []
    all_told = asyncio.Event()

    def told(_record: CallRecord) -> None:
        heard.append(asyncio.get_running_loop())
        if len(heard) == expected:
            all_told.set()

    store.add_listener(told)
    store.call_listeners_on(loop)
    if serving is not None:  # a write made on the backend's own loop is told here too
        await serving.run(store.insert(call("s1")))
    placed = await store.insert(call("s2"))
    await store.amend(placed, status=CallStatus.ACCEPTED)
    # The serving loop's caller may resume before this loop is told: wait until all are.
    async with asyncio.timeout(10):
        await all_told.wait()
    assert heard == [loop] * expected


async def test_account_names_are_the_accounts_the_history_holds_calls_of(
    store: HistoryStore,
) -> None:
    assert store.account_names() == []
    for n, account in enumerate(["shop", "branch", "shop", "depot"]):
        await store.insert(call(f"c{n}", account=account))
    assert store.account_names() == ["branch", "depot", "shop"]


async def test_recent_calls_are_those_placed_here_through_the_account_newest_first(
    store: HistoryStore,
) -> None:
    """What the call limits count: calls placed from the app, by account (and agent)."""
    base = 1_700_000_000.0
    for n in range(4):
        await store.insert(call(f"mine{n}", created_at=base + n))
    await store.insert(call("old", created_at=base - 1))
    await store.insert(call("other-account", account="b", created_at=base + 1))
    await store.insert(call("other-agent", agent="+919000000001", created_at=base + 2.2))
    await store.insert(call("flow", agent=None, created_at=base + 2.5))
    await store.insert(call("outside", origin=CallOrigin.OUTSIDE, created_at=base + 3))
    assert store.recent_calls(account="a", since=base, limit=10) == [
        ("mine3", base + 3),
        ("flow", base + 2.5),
        ("other-agent", base + 2.2),
        ("mine2", base + 2),
        ("mine1", base + 1),
        ("mine0", base),
    ]
    assert store.recent_calls(account="a", since=base, limit=2) == [
        ("mine3", base + 3),
        ("flow", base + 2.5),
    ]
    by_agent = store.recent_calls(account="a", since=base + 1, limit=10, agent="+919876543210")
    assert by_agent == [("mine3", base + 3), ("mine2", base + 2), ("mine1", base + 1)]
    assert store.recent_calls(account="nobody", since=0, limit=10) == []
