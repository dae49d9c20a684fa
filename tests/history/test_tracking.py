"""The call tracker against the real simulator over loopback and real SQLite files: every
open call of a provider that does not push its outcome ends with one."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from dialer.app.demo import demo_secrets
from dialer.app.service import CallService
from dialer.core.accounts import Account, ProviderKind, StaticAccounts
from dialer.core.calls import CallOptions, CallStatus
from dialer.core.secrets import MemorySecretStore
from dialer.history import CallOrigin, CallRecord, HistoryQuery
from dialer.history.sqlite_store import SqliteHistory
from dialer.history.tracking import CallTracker, TrackingTimings
from dialer.providers import c2c_v2, digidonar
from dialer.providers.spec import NoReports, WebhookReports
from dialer.simulator import Fault, Outcome, ProviderSimulator, SimulatorConfig
from tests.providers.conftest import sim_account

V1 = ProviderKind.CLICK2CALL_V1
assert isinstance(digidonar.SPEC.reports, NoReports)
DIGIDONAR_NO_REPORT = digidonar.SPEC.reports.sentence
assert isinstance(c2c_v2.SPEC.reports, WebhookReports)
NO_WEBHOOK = c2c_v2.SPEC.reports.missing
KAZOO = ProviderKind.KAZOO
T = TypeVar("T")
CUSTOMER = "+91 88671 35000"
CUSTOMER_WIRE = "918867135000"  # as v1 and Kazoo send it

# Fast enough for tests; every deadline far away unless a test shortens it.
FAST = TrackingTimings(
    first_poll=0.01,
    backoff=1.5,
    max_interval=0.05,
    confirm_delay=0.01,
    v1_ring_allowance=0.0,
    v1_zero_settle=0.0,
    v1_deadline=60.0,
    kazoo_deadline=60.0,
    kazoo_match_window=60.0,
    kazoo_sweep_interval=None,
    kazoo_lookback=600.0,
    webhook_deadline=60.0,
    placing_grace=5.0,  # longer than placing a call takes on a loaded machine
    rescan_interval=0.05,
)


@pytest.fixture
async def sim() -> AsyncIterator[ProviderSimulator]:
    async with ProviderSimulator(SimulatorConfig(ring_seconds=0.02, talk_seconds=0.05)) as sim:
        yield sim


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "calls.sqlite3"


@pytest.fixture
def history(db_path: Path) -> Iterator[SqliteHistory]:
    store = SqliteHistory(db_path)
    yield store
    store.close()


class Rig:
    """Services and trackers made by a test, closed in the right order at its end."""

    def __init__(self, sim: ProviderSimulator) -> None:
        self.sim = sim
        self.services: list[CallService] = []
        self.trackers: list[CallTracker] = []

    def account(self, kind: ProviderKind, **changes: Any) -> Account:
        return replace(sim_account(self.sim, kind), **changes)

    def service(self, history: SqliteHistory, *accounts: Account) -> CallService:
        demo = demo_secrets(self.sim)
        stored = {
            account.secret_key: demo.get(sim_account(self.sim, account.provider).secret_key) or ""
            for account in accounts
        }
        service = CallService(StaticAccounts(list(accounts)), MemorySecretStore(stored), history)
        self.services.append(service)
        return service

    def tracker(
        self,
        history: SqliteHistory,
        service: CallService,
        *,
        max_concurrent: int = 8,
        **timing: Any,
    ) -> CallTracker:
        tracker = CallTracker(
            history, service, max_concurrent=max_concurrent, timings=replace(FAST, **timing)
        )
        self.trackers.append(tracker)
        tracker.start()
        return tracker

    async def close(self) -> None:
        for tracker in self.trackers:
            await tracker.aclose()
        for service in self.services:
            await service.aclose()


@pytest.fixture
async def rig(sim: ProviderSimulator, history: SqliteHistory) -> AsyncIterator[Rig]:
    # After ``history``, so torn down before it: no tracker reads a closed history.
    made = Rig(sim)
    yield made
    await made.close()


async def eventually(check: Callable[[], T | None], timeout: float = 10.0) -> T:
    """``check()``'s first true answer (the timeout only guards against a hang)."""
    async with asyncio.timeout(timeout):
        while True:
            value = check()
            if value:
                return value
            await asyncio.sleep(0.01)


async def outcome(history: SqliteHistory, call_id: str) -> CallRecord:
    """The call once it is final."""

    def final() -> CallRecord | None:
        record = history.get(call_id)
        return record if record is not None and record.is_final else None

    return await eventually(final)


def report_lookups(sim: ProviderSimulator) -> list[Any]:
    return [r for r in sim.requests if r.path.endswith("report-click2call.php")]


# -- Click2Call v1 ---------------------------------------------------------------------------


async def test_v1_answered_call_completes_with_durations_and_charge(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    service = rig.service(history, rig.account(V1))
    rig.tracker(history, service)
    placed = await service.place_call(CUSTOMER)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.COMPLETED
    assert done.answered is True
    assert done.agent_seconds == 1  # the simulator bills an answered leg at least 1 s
    assert done.talk_seconds == 1
    assert done.charge == 2.0  # a credit per started minute of each leg
    [stored] = history.reports(placed.id)
    assert stored.source == "poll"
    assert stored.body == f"{placed.provider_ref},1,1,2"  # the report line as received
    lookups = report_lookups(sim)
    assert all(r.query.get("id") == placed.provider_ref for r in lookups)
    assert [e.status for e in history.timeline(placed.id)][-1] is CallStatus.COMPLETED


@pytest.mark.parametrize(
    ("scripted", "agent_seconds"),
    [
        (Outcome.NO_ANSWER, 1),  # the agent answered and waited; the customer never did
        (Outcome.BUSY, 1),
        (Outcome.AGENT_NO_ANSWER, 0),  # a row of zeros
    ],
)
async def test_v1_unanswered_call_is_no_answer(
    sim: ProviderSimulator,
    rig: Rig,
    history: SqliteHistory,
    scripted: Outcome,
    agent_seconds: int,
) -> None:
    sim.set_outcome(CUSTOMER_WIRE, scripted)
    service = rig.service(history, rig.account(V1))
    rig.tracker(history, service)
    placed = await service.place_call(CUSTOMER)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_ANSWER
    assert done.answered is False
    assert (done.agent_seconds, done.talk_seconds) == (agent_seconds, 0)
    assert history.reports(placed.id)[0].body.startswith(f"{placed.provider_ref},{agent_seconds},0")


class FakeV1:
    """A Click2Call v1 server that, unlike the simulator, writes the report row with zero
    durations when the call starts and fills them in when it ends: what seed 002 allows."""

    def __init__(self) -> None:
        self.row = (0, 0, 0)  # dur1, dur2, credit
        self.growing = False  # durations grow on every read, as a live row would
        self.reads = 0
        self.read_event = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/voice/click2call.php", self.place)
        app.router.add_route("GET", "/api/voice/report-click2call.php", self.report)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/api/voice/"

    async def place(self, request: web.Request) -> web.Response:
        return web.Response(text="777", content_type="text/html")

    async def report(self, request: web.Request) -> web.Response:
        self.reads += 1
        self.read_event.set()
        if self.growing:
            first, second, credit = self.row
            self.row = (first + 1, second + 1, credit)
        first, second, credit = self.row
        return web.Response(text=f"777,{first},{second},{credit}", content_type="text/html")

    async def reads_at_least(self, count: int) -> None:
        async with asyncio.timeout(10):
            while self.reads < count:
                self.read_event.clear()
                await self.read_event.wait()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def fake_v1() -> AsyncIterator[FakeV1]:
    server = FakeV1()
    await server.start()
    yield server
    await server.stop()


async def test_v1_zero_row_during_the_call_is_not_taken_as_not_answered(
    fake_v1: FakeV1, rig: Rig, history: SqliteHistory
) -> None:
    account = rig.account(V1, url=fake_v1.url)
    service = rig.service(history, account)
    rig.tracker(history, service, v1_zero_settle=3600.0, v1_ring_allowance=60.0)
    placed = await service.place_call(CUSTOMER)  # no maximum duration: the call may run long
    await fake_v1.reads_at_least(4)  # the zero row has been read, unchanged, several times
    still = history.get(placed.id)
    assert still is not None
    assert still.status is CallStatus.ACCEPTED  # not "no answer": the call may be talking
    fake_v1.row = (95, 80, 4)  # the call ended
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.COMPLETED
    assert (done.agent_seconds, done.talk_seconds, done.charge) == (95, 80, 4.0)


async def test_v1_zero_row_is_not_answered_once_the_call_cannot_be_running(
    fake_v1: FakeV1, rig: Rig, history: SqliteHistory
) -> None:
    account = rig.account(V1, url=fake_v1.url)
    service = rig.service(history, account)
    # The request caps the call at 1 s; with no ringing allowance a zero row is final after
    # that, however long the general settling time.
    rig.tracker(history, service, v1_zero_settle=3600.0, v1_ring_allowance=0.0)
    placed = await service.place_call(CUSTOMER, CallOptions(max_seconds=1))
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_ANSWER
    assert done.answered is False
    assert time.time() - done.created_at >= 1.0
    assert (done.agent_seconds, done.talk_seconds, done.charge) == (0, 0, 0.0)


async def test_v1_row_still_changing_is_not_final(
    fake_v1: FakeV1, rig: Rig, history: SqliteHistory
) -> None:
    account = rig.account(V1, url=fake_v1.url)
    service = rig.service(history, account)
    rig.tracker(history, service)
    fake_v1.row = (30, 20, 1)
    fake_v1.growing = True
    placed = await service.place_call(CUSTOMER)
    await fake_v1.reads_at_least(4)
    still = history.get(placed.id)
    assert still is not None
    assert not still.is_final  # each read differed from the one before
    fake_v1.growing = False
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.COMPLETED
    assert done.talk_seconds is not None and done.talk_seconds >= 23
    assert history.reports(placed.id)[0].body == f"777,{fake_v1.row[0]},{fake_v1.row[1]},1"


async def test_v1_without_a_report_before_the_deadline_is_no_report(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    sim.config.talk_seconds = 60.0  # still talking when the deadline passes
    service = rig.service(history, rig.account(V1))
    rig.tracker(history, service, v1_deadline=0.3)
    placed = await service.place_call(CUSTOMER)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_REPORT
    assert done.message == "No report from the provider within 0.005 minutes"
    assert history.reports(placed.id) == []


@pytest.mark.parametrize("age", [10.0, 0.0])  # interrupted long ago / just now
async def test_v1_call_interrupted_while_placing_is_found_by_its_uniqueid(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory, age: float
) -> None:
    account = rig.account(V1)
    service = rig.service(history, account)
    request = service.build_request(account, CUSTOMER)
    provider = await service.provider_for(account)
    # The app sent the call and died before it stored the provider's answer.
    await history.insert(
        CallRecord(
            id=request.reference,
            account=account.name,
            provider=str(V1),
            customer=str(request.customer),
            agent=str(request.agent),
            created_at=time.time() - age,
        )
    )
    await provider.place_call(request)
    tracker = rig.tracker(history, service, placing_grace=0.3)
    # Still "placing" and young: the service may yet store the answer, so not tracked yet.
    assert tracker.is_tracking(request.reference) is (age > 0.3)
    done = await outcome(history, request.reference)
    assert done.status is CallStatus.COMPLETED
    assert all(r.query.get("uniqueid") == request.reference for r in report_lookups(sim))


async def test_provider_failures_while_polling_are_retried(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory, caplog: pytest.LogCaptureFixture
) -> None:
    service = rig.service(history, rig.account(V1))
    placed = await service.place_call(CUSTOMER)
    sim.inject(Fault.server_error(503), V1, count=2)
    sim.inject(Fault.html(), V1)
    sim.inject(Fault.reset(), V1)
    caplog.set_level(logging.INFO, logger="dialer.history.tracking")
    rig.tracker(history, service)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.COMPLETED
    assert sim.pending_faults == 0
    logged = [r for r in caplog.records if r.name == "dialer.history.tracking"]
    # One warning when reads start failing (not one per retry), one line when they recover.
    assert [r.levelno for r in logged] == [logging.WARNING, logging.INFO]
    assert "server error (HTTP 503)" in logged[0].getMessage()
    assert all(r.exc_info is None and "sim-pin" not in r.getMessage() for r in logged)


async def test_polls_in_flight_never_exceed_the_bound(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = rig.account(V1)
    service = rig.service(history, account)
    placed = [await service.place_call(f"+91 88671 350{n:02d}") for n in range(9)]
    for record in placed:
        assert record.provider_ref is not None
        await sim.wait_call_finished(record.provider_ref)
    provider = await service.provider_for(account)
    in_flight = 0
    most = 0
    send = provider.send

    async def counting_send(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            return await send(*args, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(provider, "send", counting_send)
    sim.config.answer_delay = 0.05  # every read takes a while, so reads overlap
    rig.tracker(history, service, max_concurrent=3)
    for record in placed:
        assert (await outcome(history, record.id)).status is CallStatus.COMPLETED
    assert most == 3


async def test_resumes_open_calls_after_a_restart(
    sim: ProviderSimulator, rig: Rig, db_path: Path
) -> None:
    first = SqliteHistory(db_path)
    service = rig.service(first, rig.account(V1), rig.account(KAZOO))
    v1_call = await service.place_call(CUSTOMER, account="Demo Click2Call v1")
    kazoo_call = await service.place_call(CUSTOMER, account="Demo Kazoo")
    tracker = rig.tracker(first, service, first_poll=3600.0)  # quit before the first poll
    assert tracker.is_tracking(v1_call.id)
    await tracker.aclose()
    await service.aclose()
    first.close()

    again = SqliteHistory(db_path)
    try:
        assert {r.id for r in again.open_calls()} == {v1_call.id, kazoo_call.id}
        service = rig.service(again, rig.account(V1), rig.account(KAZOO))
        rig.tracker(again, service)
        assert (await outcome(again, v1_call.id)).status is CallStatus.COMPLETED
        assert (await outcome(again, kazoo_call.id)).status is CallStatus.COMPLETED
    finally:
        await rig.close()
        again.close()


async def test_calls_another_process_stores_are_found_by_the_rescan(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory, db_path: Path
) -> None:
    account = rig.account(V1)
    service = rig.service(history, account)
    tracker = rig.tracker(history, service)
    # The CLI: its own store on the same file, whose writes the app's listeners never see.
    cli_history = SqliteHistory(db_path)
    try:
        placed = await rig.service(cli_history, account).place_call(CUSTOMER)
        assert not tracker.is_tracking(placed.id)
        done = await outcome(history, placed.id)
        assert done.status is CallStatus.COMPLETED
    finally:
        await rig.close()
        cli_history.close()


# -- Kazoo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["document", "upstream"])
async def test_kazoo_successful_call_completes(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory, shape: str
) -> None:
    sim.config.kazoo_history_shape = shape
    sim.config.talk_seconds = 1.2
    service = rig.service(history, rig.account(KAZOO))
    rig.tracker(history, service)
    placed = await service.place_call(CUSTOMER)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.COMPLETED
    assert done.answered is True
    [stored] = history.reports(placed.id)
    item = json.loads(stored.body)
    assert item["call_id"] == placed.provider_ref
    assert item["contact"] == CUSTOMER_WIRE
    if shape == "upstream":
        assert done.cause == "success"
        assert "cdr" not in item
    else:
        # The document's item names its CDR, which the tracker read: the talk time and
        # the hangup cause are the CDR's (1.2 s billed as 2 whole seconds begun).
        assert done.cause == "NORMAL_CLEARING"
        assert item["cdr"]["id"] == item["cdr_id"]
        assert done.talk_seconds == done.billed_seconds == 2
        assert done.ended_at is not None and done.started_at is not None
        assert done.ended_at >= done.started_at
    assert done.started_at is not None and abs(done.started_at - placed.created_at) < 5
    lookups = [r for r in sim.requests if r.path.endswith("/history")]
    assert lookups and all("created_from" in r.query for r in lookups)


async def test_kazoo_items_ingested_are_remembered_by_a_digest_not_their_body(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    """The tracker remembers each history item it ingested for more than a day (so that
    reading it again adds nothing): by 16 bytes, not by its body (1.2 KB with its CDR)."""
    sim.config.talk_seconds = 0.05
    service = rig.service(history, rig.account(KAZOO))
    tracker = rig.tracker(history, service, kazoo_sweep_interval=0.05)
    placed = [await service.place_call(f"+91 88671 3500{n}") for n in range(3)]
    for record in placed:
        assert (await outcome(history, record.id)).status is CallStatus.COMPLETED
    sweeps = len([r for r in sim.requests if r.path.endswith("/history")])
    await eventually(lambda: len([r for r in sim.requests if r.path.endswith("/history")])
                     > sweeps + 3)  # fmt: skip
    [watch] = tracker._histories.values()
    assert len(watch.seen) == 3
    assert all(len(key) == 16 for key in watch.seen)
    # Read again and again by the sweeps, each item was ingested once.
    assert all(len(history.reports(record.id)) == 1 for record in placed)
    assert len(list(history.iter_records(HistoryQuery()))) == 3  # no outside calls


async def test_kazoo_document_items_without_a_readable_cdr_conclude_saying_so(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    sim.config.kazoo_cdrs_readable = False  # a login restricted to clicktocall
    service = rig.service(history, rig.account(KAZOO))
    rig.tracker(history, service)
    first = await service.place_call(CUSTOMER)
    second = await service.place_call("+91 88671 35001")
    for placed in (first, second):
        done = await outcome(history, placed.id)
        assert done.status is CallStatus.NO_REPORT
        assert done.cause == (
            "Kazoo's history lists this call but not how it ended (no result, no CDR)"
        )
    # Refused once, never asked again for the next item.
    assert len([r for r in sim.requests if "/cdrs/" in r.path]) == 1


@pytest.mark.parametrize(
    ("scripted", "status", "cause"),
    [
        (Outcome.BUSY, CallStatus.BUSY, "USER_BUSY"),
        (Outcome.NO_ANSWER, CallStatus.NO_ANSWER, "NO_ANSWER"),
        (Outcome.FAILED, CallStatus.FAILED, "CALL_REJECTED"),
    ],
)
async def test_kazoo_failed_calls_take_the_status_of_their_cause(
    sim: ProviderSimulator,
    rig: Rig,
    history: SqliteHistory,
    scripted: Outcome,
    status: CallStatus,
    cause: str,
) -> None:
    sim.set_outcome(CUSTOMER_WIRE, scripted)
    service = rig.service(history, rig.account(KAZOO))
    rig.tracker(history, service)
    placed = await service.place_call(CUSTOMER)
    done = await outcome(history, placed.id)
    assert done.status is status
    assert done.cause == cause
    assert done.answered is False


async def test_kazoo_calls_placed_elsewhere_become_outside_calls(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    account = rig.account(KAZOO)
    service = rig.service(history, account)
    placed = await service.place_call(CUSTOMER)
    # A call through the same clicktocall that this app never recorded (a web widget).
    provider = await service.provider_for(account)
    elsewhere = await provider.place_call(service.build_request(account, "+91 88671 35999"))
    assert elsewhere.provider_ref is not None
    await sim.wait_call_finished(elsewhere.provider_ref)
    rig.tracker(history, service, kazoo_sweep_interval=0.05)
    assert (await outcome(history, placed.id)).status is CallStatus.COMPLETED
    [row] = await eventually(
        lambda: [r for r in history.page(HistoryQuery()) if r.origin is CallOrigin.OUTSIDE]
    )
    assert row.customer == "918867135999"
    assert row.provider_ref == elsewhere.provider_ref
    assert row.status is CallStatus.COMPLETED
    assert row.agent == "919876543210"  # the clicktocall's extension
    assert history.count() == 2  # the app's own call was matched, not duplicated
    # A new tracker (after a restart) knows nothing it ingested before; the store dedupes.
    await rig.trackers[0].aclose()
    stored: list[CallRecord] = []
    history.add_listener(stored.append)  # told of deduplicated ingests too
    rig.tracker(history, service, kazoo_sweep_interval=0.05)
    await eventually(lambda: len(stored) >= 2)
    assert history.count() == 2
    assert {r.id for r in stored} <= {placed.id, row.id}


async def test_kazoo_sweep_finds_outside_calls_with_nothing_open(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    account = rig.account(KAZOO)
    service = rig.service(history, account)
    provider = await service.provider_for(account)
    elsewhere = await provider.place_call(service.build_request(account, CUSTOMER))
    assert elsewhere.provider_ref is not None
    await sim.wait_call_finished(elsewhere.provider_ref)
    rig.tracker(history, service, kazoo_sweep_interval=0.05)
    await eventually(lambda: history.count() > 0)
    [row] = history.page(HistoryQuery())
    assert row.origin is CallOrigin.OUTSIDE
    assert row.account == account.name


async def test_kazoo_without_history_before_the_deadline_is_no_report(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    sim.config.talk_seconds = 60.0
    service = rig.service(history, rig.account(KAZOO))
    rig.tracker(history, service, kazoo_deadline=0.3)
    placed = await service.place_call(CUSTOMER)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_REPORT
    assert done.message.startswith("No history item from Kazoo within")


# -- DigiDonar and C2C v2 --------------------------------------------------------------------


async def test_digidonar_calls_are_marked_no_report(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    service = rig.service(history, rig.account(ProviderKind.DIGIDONAR))
    rig.tracker(history, service)
    placed = await service.place_call(CUSTOMER)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_REPORT
    assert done.message == DIGIDONAR_NO_REPORT
    assert [e.status for e in history.timeline(placed.id)] == [
        CallStatus.PLACING,
        CallStatus.ACCEPTED,
        CallStatus.NO_REPORT,
    ]


async def test_c2c_v2_without_a_webhook_is_marked_no_report(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    service = rig.service(history, rig.account(ProviderKind.C2C_V2, options={}))
    rig.tracker(history, service)
    placed = await service.place_call(CUSTOMER)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_REPORT
    assert done.message == NO_WEBHOOK


async def test_c2c_v2_without_a_webhook_report_by_the_deadline_is_no_report(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    service = rig.service(history, rig.account(ProviderKind.C2C_V2))  # webhook_id set
    tracker = rig.tracker(history, service, webhook_deadline=0.3)
    placed = await service.place_call(CUSTOMER)
    assert tracker.is_tracking(placed.id)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_REPORT
    assert done.message.startswith("No webhook report within")
    assert sim.requests  # the simulator was only asked to place the call
    assert all(r.path.endswith("voice/c2c") for r in sim.requests if r.provider is not None)


@pytest.mark.parametrize(
    "options",
    [{"reports_by": "subscription"}, {"reports_by": "subscription", "webhook_id": "sim-webhook"}],
)
async def test_c2c_v2_reports_by_subscription_are_waited_for_like_a_webhooks(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory, options: dict[str, str]
) -> None:
    service = rig.service(history, rig.account(ProviderKind.C2C_V2, options=options))
    rig.tracker(history, service, webhook_deadline=0.3)
    placed = await service.place_call(CUSTOMER)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_REPORT
    # Concluded at the deadline (no report came), not at once as an account without any.
    assert done.message.startswith("No webhook report within")


# -- accounts and lifecycle ------------------------------------------------------------------


async def test_a_removed_account_ends_tracking_with_a_note(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    account = rig.account(V1)
    service = rig.service(history, account)
    placed = await service.place_call(CUSTOMER)
    service.accounts.remove(account.name)
    rig.tracker(history, service)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_REPORT
    assert "no longer exists" in done.message
    assert report_lookups(sim) == []


async def test_an_account_now_of_another_provider_ends_tracking_naming_it_for_people(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    account = rig.account(V1)
    service = rig.service(history, account)
    placed = await service.place_call(CUSTOMER)
    service.accounts.update(replace(account, provider=ProviderKind.C2C_V2))
    rig.tracker(history, service)
    done = await outcome(history, placed.id)
    assert done.status is CallStatus.NO_REPORT
    assert done.message == (
        f"The account '{account.name}' is now a C2C v2 account, so this call's outcome cannot "
        "be fetched"
    )
    assert report_lookups(sim) == []


async def test_closing_stops_every_task(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory
) -> None:
    service = rig.service(history, rig.account(V1), rig.account(KAZOO))
    tracker = rig.tracker(history, service, first_poll=3600.0, kazoo_sweep_interval=0.05)
    await service.place_call(CUSTOMER, account="Demo Click2Call v1")
    await service.place_call(CUSTOMER, account="Demo Kazoo")

    def tracking_tasks() -> list[asyncio.Task[Any]]:
        return [
            t
            for t in asyncio.all_tasks()
            if t.get_name().startswith(("call-tracker", "track-")) and not t.done()
        ]

    assert tracking_tasks()
    await tracker.aclose()
    assert tracking_tasks() == []
    assert history.listeners == []


async def test_calls_concluded_by_their_webhook_reports_leave_nothing_behind(
    sim: ProviderSimulator, rig: Rig, history: SqliteHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day of C2C v2 calls, each waiting for its webhook report up to a two-hour deadline:
    once its report is stored the tracker lets go of the call at once (not two hours on),
    and the dispatcher, woken by every call, sets no new timer for that far-off deadline
    each time (a cancelled timer stays with qasync's loop until its time comes)."""
    loop = asyncio.get_running_loop()
    far_off: list[float] = []
    call_at = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
        if when - loop.time() > 3600:
            far_off.append(when)
        return call_at(when, callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", counting_call_at)
    service = rig.service(history, rig.account(ProviderKind.C2C_V2))  # webhook_id set
    tracker = rig.tracker(history, service, webhook_deadline=2 * 3600.0)
    unreported = await service.place_call("+91 88671 39999")  # its report never comes
    placed = []
    for n in range(200):
        record = await service.place_call(f"+91 88671 3{n:04d}")
        await asyncio.sleep(0.005)  # the tracker looks at it and waits for its report
        # What the webhook receiver stores for it:
        placed.append(await history.amend(record, source="webhook", status=CallStatus.COMPLETED))
    await eventually(lambda: not any(tracker.is_tracking(record.id) for record in placed))
    assert tracker.is_tracking(unreported.id)
    assert len(far_off) <= 2
    assert len(tracker._heap) < 100  # not one entry per finished call behind the open one
