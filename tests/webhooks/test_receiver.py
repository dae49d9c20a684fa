"""The receiver over loopback HTTP, into a real SQLite history: the handshake, secrets,
refusals that store nothing, garbage, duplicates, and the simulator's callbacks end to end."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import pytest

from dialer.app.demo import demo_accounts, demo_secrets
from dialer.app.service import CallService
from dialer.core.accounts import ProviderKind, StaticAccounts
from dialer.core.calls import CallOptions, CallStatus
from dialer.core.errors import ConfigError, SecretStoreError
from dialer.core.secrets import MemorySecretStore
from dialer.history import CallOrigin, CallRecord, HistoryQuery
from dialer.history.sqlite_store import SqliteHistory
from dialer.history.store import final_record
from dialer.history.tracking import CallTracker, TrackingTimings
from dialer.simulator import Outcome, ProviderSimulator, SimulatorConfig
from dialer.webhooks import receiver as receiver_module
from dialer.webhooks.receiver import MAX_BODY, WebhookReceiver
from tests.simulator.conftest import eventually
from tests.webhooks.conftest import (
    PLACED_AT,
    TOKEN,
    c2c_account,
    callback,
    shop_call,
    stored,
)


async def post(
    client: httpx.AsyncClient, url: str, body: dict[str, Any] | bytes, **headers: str
) -> httpx.Response:
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    headers.setdefault("content-type", "application/json")
    return await client.post(url, content=content, headers=headers)


def only_record(history: SqliteHistory) -> CallRecord:
    records = history.page(HistoryQuery())
    assert len(records) == 1, records
    return records[0]


# -- the happy path -----------------------------------------------------------------------


async def test_a_report_is_durable_when_the_receiver_answers_200(
    receiver: WebhookReceiver, client: httpx.AsyncClient, history: SqliteHistory
) -> None:
    body = json.dumps(callback(extra_field="kept"))
    answer = await post(client, receiver.url, body.encode())
    assert answer.status_code == 200
    assert answer.json() == {"ok": True}
    # Read by a connection that is not the store's: the report is committed to the file.
    db = sqlite3.connect(history.path)
    try:
        (kept,) = db.execute("SELECT body FROM reports").fetchone()
        row = db.execute("SELECT account, status, talk_seconds, origin FROM calls").fetchone()
    finally:
        db.close()
    assert kept == body
    assert row == ("shop", "completed", 16, "outside")  # nothing placed here: an outside call
    record = only_record(history)
    assert (record.agent, record.customer, record.agent_seconds) == (
        "919891952000",
        "918867135000",
        23,
    )
    assert receiver.url.startswith("http://127.0.0.1:") and receiver.url.endswith(f"/c2c/{TOKEN}")


async def test_numbers_as_json_numbers_or_strings_match_calls_alike(
    receiver: WebhookReceiver, client: httpx.AsyncClient, history: SqliteHistory
) -> None:
    placed = [
        await history.insert(
            CallRecord(
                id=f"ours-{n}",
                account="shop",
                provider="c2c-v2",
                customer="+918867135000",
                agent="+919891952000",
                bridge="918068280000",
                status=CallStatus.ACCEPTED,
                created_at=PLACED_AT + n,
            )
        )
        for n in (1, 2)
    ]
    as_numbers = callback(
        bridge=918068280000, duration=23, billing=16, **{"from": 919891952000, "to": 918867135000}
    )
    assert (await post(client, receiver.url, as_numbers)).status_code == 200
    assert (await post(client, receiver.url, callback(hangup_by="agent"))).status_code == 200
    # Each report closed one call placed here (the newest open one first): no outside rows.
    assert stored(history) == (2, 2)
    newer, older = history.get("ours-2"), history.get("ours-1")
    assert newer is not None and older is not None
    assert json.loads(history.reports(newer.id)[0].body)["from"] == 919891952000
    assert older.hangup_by == "agent"
    for record in (newer, older):
        assert record.origin is CallOrigin.APP
        assert (record.status, record.agent_seconds, record.talk_seconds) == (
            CallStatus.COMPLETED,
            23,
            16,
        )
    assert {r.id for r in placed} == {newer.id, older.id}


async def test_a_repeated_delivery_is_stored_once(
    receiver: WebhookReceiver, client: httpx.AsyncClient, history: SqliteHistory
) -> None:
    body = json.dumps(callback()).encode()
    answers = await asyncio.gather(*(post(client, receiver.url, body) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5  # the platform must stop retrying
    assert stored(history) == (1, 1)


async def test_concurrent_reports_are_all_stored(
    receiver: WebhookReceiver, history: SqliteHistory
) -> None:
    bodies = [callback(callId=f"call-{n}", to=f"9188671{n:05d}") for n in range(200)]
    # aiohttp's client here: httpx's pool slows down with hundreds of requests in flight
    # (see the README's concurrency note).
    async with aiohttp.ClientSession() as session:

        async def deliver(body: dict[str, Any]) -> int:
            async with session.post(receiver.url, json=body) as answer:
                return answer.status

        statuses = await asyncio.gather(*(deliver(b) for b in bodies))
    assert set(statuses) == {200}
    assert stored(history) == (200, 200)
    refs = {r.provider_ref for r in history.iter_records(HistoryQuery())}
    assert refs == {f"call-{n}" for n in range(200)}
    assert receiver.status_counts[200] == 200


async def test_any_declared_content_type_is_read_as_json(
    receiver: WebhookReceiver, client: httpx.AsyncClient, history: SqliteHistory
) -> None:
    # Platforms mislabel pushes; what matters is whether the body is a report.
    for n, content_type in enumerate(["text/plain", "application/x-www-form-urlencoded", ""]):
        body = json.dumps(callback(callId=f"c{n}")).encode()
        headers = {"content-type": content_type} if content_type else {}
        answer = await client.post(receiver.url, content=body, headers=headers)
        assert answer.status_code == 200, content_type
    assert stored(history) == (3, 3)
    form = await client.post(receiver.url, data={"status": "COMPLETED", "to": "918867135000"})
    assert form.status_code == 400
    assert "not valid JSON" in form.text
    picture = await post(
        client, receiver.url, b"\x89PNG\r\n\x1a\n", **{"content-type": "image/png"}
    )
    assert picture.status_code == 400
    assert stored(history) == (3, 3)


# -- the handshake --------------------------------------------------------------------------


async def test_the_verification_handshake_echoes_the_challenge(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    history: SqliteHistory,
    secrets: MemorySecretStore,
) -> None:
    secrets.set("account:shop:webhook", "shop-webhook-secret")  # not needed for the handshake
    for challenge in ("3f2a-challenge", 987654):
        answer = await post(
            client,
            receiver.url + "?token=validation-key",
            {"validation_key": "validation-key", "challenge": challenge},
        )
        assert answer.status_code == 200
        assert answer.json() == {"challenge": challenge}
    # Without ?token= it is an ordinary request: the secret first, then the shape.
    no_token = await post(client, receiver.url, {"validation_key": "k", "challenge": "c"})
    assert no_token.status_code == 401
    no_token = await post(
        client,
        receiver.url,
        {"validation_key": "k", "challenge": "c"},
        authorization="Bearer shop-webhook-secret",
    )
    assert no_token.status_code == 400
    assert "no status" in no_token.text
    assert stored(history) == (0, 0)


# -- secrets ---------------------------------------------------------------------------------


async def test_an_account_with_a_webhook_secret_needs_it(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    history: SqliteHistory,
    secrets: MemorySecretStore,
) -> None:
    secrets.set("account:shop:webhook", "shop-webhook-secret")
    body = callback(webhook_id="hook-shop")
    missing = await post(client, receiver.url, body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.text
    wrong = await post(client, receiver.url, body, authorization="Bearer not-the-secret")
    assert wrong.status_code == 401
    basic = await post(client, receiver.url, body, authorization="Basic c2hvcC13ZWJob29r")
    assert basic.status_code == 401
    assert stored(history) == (0, 0)
    right = await post(client, receiver.url, body, authorization="Bearer shop-webhook-secret")
    assert right.status_code == 200
    assert only_record(history).account == "shop"
    # The other account has no secret: its reports need none.
    branch = await post(client, receiver.url, callback(webhook_id="hook-branch", callId="b1"))
    assert branch.status_code == 200
    assert history.page(HistoryQuery(accounts=("branch",)))[0].provider_ref == "b1"


async def test_a_report_naming_no_account_needs_one_of_the_secrets(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    history: SqliteHistory,
    secrets: MemorySecretStore,
) -> None:
    secrets.set("account:shop:webhook", "shop-webhook-secret")
    # Leaving out the webhook_id (or naming another) must not get round the shop's secret.
    for webhook_id in (..., "hook-unknown"):
        body = callback(webhook_id=webhook_id)
        assert (await post(client, receiver.url, body)).status_code == 401
        assert (await post(client, receiver.url, body, authorization="Bearer x")).status_code == 401
    assert stored(history) == (0, 0)
    answer = await post(
        client, receiver.url, callback(webhook_id=...), authorization="Bearer shop-webhook-secret"
    )
    assert answer.status_code == 200
    assert only_record(history).account == "shop"  # the secret shown says whose it is


async def test_no_secret_anywhere_files_an_unknown_webhook_under_no_account(
    receiver: WebhookReceiver, client: httpx.AsyncClient, history: SqliteHistory
) -> None:
    assert (await post(client, receiver.url, callback(webhook_id="other"))).status_code == 200
    assert only_record(history).account == ""


@pytest.mark.parametrize(
    "names_it",
    [
        {"mid": "shop-call"},
        {"callId": "shop-ref"},
        {"mid": "shop-call", "callId": "shop-ref"},
        {},  # the numbers alone
    ],
    ids=["mid", "callId", "both", "numbers"],
)
async def test_a_report_authorised_for_one_account_never_changes_anothers_call(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    history: SqliteHistory,
    secrets: MemorySecretStore,
    names_it: dict[str, str],
) -> None:
    # The shop's webhook has a secret; the branch's has none. A forged report sent as the
    # branch's, naming the shop's calls, is a branch's outside call: the shop's stay as
    # they were.
    secrets.set("account:shop:webhook", "shop-webhook-secret")
    await history.insert(shop_call("shop-call", CallStatus.COMPLETED, provider_ref="shop-ref"))
    await history.insert(shop_call("shop-open", CallStatus.ACCEPTED))
    forged = callback(webhook_id="hook-branch", status="BUSY", status2="BUSY", **names_it)
    answer = await post(client, receiver.url, forged)
    assert answer.status_code == 200
    for call_id, status in (
        ("shop-call", CallStatus.COMPLETED),
        ("shop-open", CallStatus.ACCEPTED),
    ):
        record = history.get(call_id)
        assert record is not None and record.status is status
        assert history.reports(call_id) == []
    (outside,) = history.page(HistoryQuery(accounts=("branch",)))
    assert outside.origin is CallOrigin.OUTSIDE and outside.status is CallStatus.BUSY
    assert json.loads(history.reports(outside.id)[0].body)["status"] == "BUSY"  # its words
    # The shop's own report, with its secret, still finds its calls: the outside call the
    # forged report left (with the same callId) does not stand in the way.
    genuine = callback(status="NOANSWER", status2="NOANSWER", **names_it)
    del genuine["recording_url"]
    answer = await post(client, receiver.url, genuine, authorization="Bearer shop-webhook-secret")
    assert answer.status_code == 200
    changed = history.get("shop-open" if not names_it else "shop-call")
    assert changed is not None and len(history.reports(changed.id)) == 1
    assert stored(history) == (3, 2)


async def test_a_secret_two_accounts_share_lets_a_report_change_only_their_calls(
    client: httpx.AsyncClient, history: SqliteHistory, secrets: MemorySecretStore
) -> None:
    accounts = StaticAccounts(
        [
            c2c_account("shop", "hook-shop"),
            c2c_account("branch", "hook-branch"),
            c2c_account("depot", "hook-depot"),
        ]
    )
    secrets.set("account:shop:webhook", "shared")
    secrets.set("account:branch:webhook", "shared")
    secrets.set("account:depot:webhook", "depot-secret")
    depot = replace(shop_call("depot-call", CallStatus.ACCEPTED), account="depot")
    await history.insert(depot)
    await history.insert(replace(depot, id="branch-call", account="branch"))
    async with WebhookReceiver(history, accounts, secrets, path_token=TOKEN) as receiver:
        for call_id in ("depot-call", "branch-call"):
            answer = await post(
                client,
                receiver.url,
                callback(webhook_id=..., mid=call_id),
                authorization="Bearer shared",
            )
            assert answer.status_code == 200
    depot_now, branch_now = history.get("depot-call"), history.get("branch-call")
    assert depot_now is not None and depot_now.status is CallStatus.ACCEPTED
    assert branch_now is not None and branch_now.status is CallStatus.COMPLETED
    assert stored(history) == (3, 2)  # the depot's report became an outside call


async def test_a_changed_secret_takes_effect_without_a_restart(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    secrets: MemorySecretStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(receiver_module, "SECRET_RECHECK_AGE", 0.0)
    secrets.set("account:shop:webhook", "first-secret")
    body = callback()
    assert (await post(client, receiver.url, body, authorization="Bearer first-secret")).is_success
    secrets.set("account:shop:webhook", "second-secret")
    rotated = await post(
        client, receiver.url, callback(callId="2"), authorization="Bearer second-secret"
    )
    assert rotated.status_code == 200  # a failed check reads the keyring again
    old = await post(
        client, receiver.url, callback(callId="3"), authorization="Bearer first-secret"
    )
    assert old.status_code == 401
    # The app calls forget_secrets() after an edit; a new secret then applies at once.
    secrets.set("account:branch:webhook", "branch-secret")
    receiver.forget_secrets()
    assert (await post(client, receiver.url, callback(webhook_id="hook-branch"))).status_code == 401


class LockedKeyring:
    def get(self, key: str) -> str | None:
        raise SecretStoreError("The OS keyring is locked; unlock it and try again")

    def set(self, key: str, secret: str) -> None:
        raise SecretStoreError("locked")

    def delete(self, key: str) -> None:
        raise SecretStoreError("locked")


@pytest.mark.allow_warnings_log("not stored: The OS keyring is locked")
async def test_a_locked_keyring_refuses_with_503_and_stores_nothing(
    history: SqliteHistory, accounts: StaticAccounts, client: httpx.AsyncClient
) -> None:
    async with WebhookReceiver(history, accounts, LockedKeyring(), path_token=TOKEN) as receiver:
        answer = await post(client, receiver.url, callback())
    assert answer.status_code == 503  # the platform may deliver it again later
    assert "keyring is locked" in answer.text
    assert stored(history) == (0, 0)


@pytest.mark.allow_warnings_log(r"a C2C v2 call report from \S+ could not be stored")
async def test_a_store_that_fails_refuses_with_503(
    tmp_path: Path, accounts: StaticAccounts, client: httpx.AsyncClient
) -> None:
    history = SqliteHistory(tmp_path / "closed.sqlite3")
    history.close()
    async with WebhookReceiver(history, accounts, MemorySecretStore(), path_token=TOKEN) as rx:
        answer = await post(client, rx.url, callback())
    assert answer.status_code == 503
    assert answer.text == "The report could not be stored; nothing was kept.\n"


# -- refusals and garbage -----------------------------------------------------------------------


async def chunks(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 4096):
        yield b"x" * 4096


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("POST", "", b"not json at all", 400),
    ("POST", "", json.dumps(callback()).encode()[:-7], 400),
    ("POST", "", b"[]", 400),
    ("POST", "", json.dumps({"from": "919891952000"}).encode(), 400),
    ("POST", "", json.dumps(callback(duration=2.5)).encode(), 400),
    ("POST", "", b"", 400),
    ("GET", "", b"", 405),
    ("PUT", "", json.dumps(callback()).encode(), 405),
    ("DELETE", "", b"", 405),
    ("POST", "x", json.dumps(callback()).encode(), 404),  # the token plus a character
    ("POST", "/", json.dumps(callback()).encode(), 404),
    ("POST", "/../c2c", json.dumps(callback()).encode(), 404),
    ("GET", "/../../", b"", 404),
    ("POST", "WRONG", json.dumps(callback()).encode(), 404),
    ("POST", "", b" " * (MAX_BODY + 1), 413),
    ("POST", "", b"{" + b" " * (4 * MAX_BODY), 413),
])  # fmt: skip
async def test_refusals_store_nothing(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    history: SqliteHistory,
    method: str,
    path: str,
    body: bytes,
    status: int,
) -> None:
    url = receiver.url
    if path == "WRONG":
        url = url.replace(TOKEN, "guessed-token-0123456789abcdefgh")
    else:
        url += path
    answer = await client.request(method, url, content=body)
    assert answer.status_code == status
    sentence = answer.text
    assert sentence.endswith(".\n") and sentence.count("\n") == 1  # one sentence, no traceback
    assert TOKEN not in sentence
    if status == 405:
        assert answer.headers["allow"] == "POST"
    assert stored(history) == (0, 0)
    assert receiver.status_counts[status] == 1


async def test_a_body_over_the_limit_without_a_length_is_cut_off(
    receiver: WebhookReceiver, client: httpx.AsyncClient, history: SqliteHistory
) -> None:
    answer = await client.post(receiver.url, content=chunks(MAX_BODY * 4))  # chunked
    assert answer.status_code == 413
    exact = json.dumps(callback(padding=" " * (MAX_BODY - len(json.dumps(callback())) - 15)))
    assert len(exact) <= MAX_BODY
    assert (await client.post(receiver.url, content=exact.encode())).status_code == 200
    assert stored(history) == (1, 1)


async def test_a_lone_surrogate_is_stored_escaped_not_answered_503(
    receiver: WebhookReceiver, client: httpx.AsyncClient, history: SqliteHistory
) -> None:
    # JSON's "\ud800" is text no database takes. 503 would have the platform retry a
    # delivery that can never succeed: the report is stored, the odd text escaped.
    body = b'{"webhook_id": "hook-shop", "status": "BUSY", "to": "\\ud800", "cause": "x"}'
    answer = await post(client, receiver.url, body)
    assert answer.status_code == 200, answer.text
    record = only_record(history)
    assert record.customer == "\\ud800" and record.status is CallStatus.BUSY
    assert history.reports(record.id)[0].body == body.decode()  # verbatim, escape and all


async def test_garbage_leaves_the_receiver_working(
    receiver: WebhookReceiver, client: httpx.AsyncClient, history: SqliteHistory
) -> None:
    rng = random.Random(4)
    whole = json.dumps(callback()).encode()
    garbage = [rng.randbytes(rng.randrange(1, 3000)) for _ in range(40)]
    garbage += [whole[:cut] for cut in range(0, len(whole), 37)]
    garbage += [b"[" * MAX_BODY, b'{"status": "' + b"\xc3\x28" * 100 + b'"}', b"\x00" * 1000]
    content_types = ["application/json", "text/html", "multipart/form-data", "", "\u00e9/x"]
    for n, body in enumerate(garbage):
        kind = content_types[n % len(content_types)].encode("latin-1")
        answer = await client.post(receiver.url, content=body, headers={b"content-type": kind})
        assert answer.status_code in (400, 413), body[:40]
    huge = await client.post(receiver.url, content=b"\xff" * (2 * 1024 * 1024))
    assert huge.status_code == 413
    # A raw socket that speaks no HTTP at all.
    host, port = receiver.url.split("/")[2].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(rng.randbytes(500) + b"\r\n\r\n")
    await writer.drain()
    await reader.read()  # the server answers (400) and hangs up
    writer.close()
    assert stored(history) == (0, 0)
    assert (await post(client, receiver.url, callback())).status_code == 200
    assert stored(history) == (1, 1)


async def test_logs_never_carry_the_path_token_or_a_secret(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    secrets: MemorySecretStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets.set("account:shop:webhook", "shop-webhook-secret")
    caplog.set_level(logging.DEBUG)
    await post(client, receiver.url, callback(), authorization="Bearer shop-webhook-secret")
    await post(client, receiver.url, callback(callId="2"), authorization="Bearer wrong-secret-x")
    await post(client, receiver.url, b"garbage", authorization="Bearer shop-webhook-secret")
    await client.get(receiver.url)
    await client.post(receiver.url + "/more", content=b"{}")
    await post(client, receiver.url + "?token=k", {"validation_key": "k", "challenge": "c"})
    # Everything the receiving side logged (the test's own httpx client logs its URLs).
    text = "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    )
    assert "stored on call" in text and "refused" in text  # the log does say what happened
    for secret in (TOKEN, "shop-webhook-secret", "wrong-secret-x"):
        assert secret not in text


async def test_a_port_in_use_is_one_clear_sentence(
    history: SqliteHistory, accounts: StaticAccounts
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        receiver = WebhookReceiver(
            history, accounts, MemorySecretStore(), path_token=TOKEN, port=port
        )
        with pytest.raises(ConfigError, match=f"Port {port} on 127.0.0.1 is already in use"):
            await receiver.start()
    with pytest.raises(RuntimeError):
        _ = receiver.url
    await receiver.stop()  # harmless when it never started


# -- the simulator's callbacks, end to end ------------------------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[ProviderSimulator]:
    async with ProviderSimulator(SimulatorConfig()) as simulator:
        yield simulator


async def wait_final(history: SqliteHistory, call_id: str) -> CallRecord:
    """The call once a report closed it (the listener hears every committed change)."""
    return await final_record(history, call_id, 10)


async def test_simulated_calls_end_with_the_reported_outcome(
    sim: ProviderSimulator, history: SqliteHistory
) -> None:
    accounts = demo_accounts(sim)
    c2c = next(a for a in accounts.list() if a.provider is ProviderKind.C2C_V2)
    accounts = StaticAccounts([c2c])
    secrets = demo_secrets(sim)
    service = CallService(accounts, secrets, history)
    sim.set_outcome("918867135001", Outcome.BUSY)
    sim.set_outcome("918867135002", Outcome.AGENT_NO_ANSWER)
    async with WebhookReceiver(history, accounts, secrets, path_token=TOKEN) as receiver:
        sim.config.default_webhook_url = receiver.url
        try:
            answered = await service.place_call("+91 88671 35000", account=c2c.name)
            busy = await service.place_call("+918867135001", account=c2c.name)
            missed = await service.place_call("+918867135002", account=c2c.name)
            flow = await service.place_call(
                "+918867135003",
                CallOptions(flow="220", variables={"Name": "A", "otp": "1"}),
                account=c2c.name,
            )
            placed = [answered, busy, missed, flow]
            final = {r.id: await wait_final(history, r.id) for r in placed}
        finally:
            await service.aclose()
    # The calls are final once stored; the pushes' answers reach the simulator just after.
    await eventually(lambda: len(sim.webhooks) == 4 and all(d.status for d in sim.webhooks))
    assert all(d.delivered and d.attempts == 1 for d in sim.webhooks)
    assert history.count() == 4  # every report found the call it reports
    pushed = {d.payload["mid"]: d.payload for d in sim.webhooks}
    done = final[answered.id]
    assert done.status is CallStatus.COMPLETED and done.answered is True
    assert done.origin is CallOrigin.APP
    assert done.provider_ref == pushed[answered.id]["callId"]
    assert done.talk_seconds == done.billed_seconds == int(str(pushed[answered.id]["billing"]))
    assert done.agent_seconds == int(str(pushed[answered.id]["duration"])) > 0
    assert done.cause == "COMPLETED/RECEIVED/ANSWER"
    assert done.started_at is not None and done.hangup_by in ("agent", "caller")
    assert (final[busy.id].status, final[busy.id].answered) == (CallStatus.BUSY, False)
    assert final[missed.id].status is CallStatus.NO_ANSWER
    assert final[missed.id].cause == "MISSED/NOANSWER/CANCEL"
    assert final[flow.id].status is CallStatus.COMPLETED  # RECEIVED: the flow took the call
    for record in placed:
        (report,) = history.reports(record.id)
        assert json.loads(report.body)["mid"] == record.id
        assert [e.status for e in history.timeline(record.id)][-1] is final[record.id].status


async def test_a_simulated_report_matching_nothing_is_an_outside_call(
    sim: ProviderSimulator, history: SqliteHistory, client: httpx.AsyncClient
) -> None:
    c2c = next(a for a in demo_accounts(sim).list() if a.provider is ProviderKind.C2C_V2)
    accounts = StaticAccounts([replace(c2c, options={"webhook_id": "sim-webhook"})])
    async with WebhookReceiver(history, accounts, MemorySecretStore(), path_token=TOKEN) as rx:
        sim.config.default_webhook_url = rx.url
        # A call placed on the same account from elsewhere (straight to the provider's API).
        answer = await client.post(
            c2c.url + "voice/c2c",
            json={
                "bridge": "918068280000",
                "from": "919812300000",
                "to": "918800011122",
                "webhook_id": "sim-webhook",
            },
            headers={"Authorization": f"Bearer {sim.config.credentials.c2c_token}"},
        )
        call_id = answer.json()["callId"]
        await sim.wait_call_finished(call_id)
        stored_one = asyncio.Event()
        history.add_listener(lambda record: stored_one.set())
        if history.count() == 0:
            async with asyncio.timeout(10):
                await stored_one.wait()
    record = only_record(history)
    assert record.origin is CallOrigin.OUTSIDE
    assert record.account == c2c.name  # its webhook_id says whose it is
    assert record.provider_ref == call_id
    assert (record.agent, record.customer) == ("919812300000", "918800011122")
    assert record.status is CallStatus.COMPLETED


# -- reports by subscription, read in the account's time zone ---------------------------------


def a_zone_hours_from_here() -> str:
    """A zone whose clock is at least two hours from this machine's now: a report's local
    times read in the wrong one of the two fall far outside any call's life."""
    now = time.time()
    here = datetime.fromtimestamp(now).astimezone().utcoffset()
    assert here is not None
    for name in ("Asia/Kolkata", "America/New_York"):  # 9.5 hours or more apart
        there = datetime.fromtimestamp(now, ZoneInfo(name)).utcoffset()
        if there is not None and abs(there - here) >= timedelta(hours=2):
            return name
    raise AssertionError("no zone far from this machine's")  # cannot happen


async def subscribe(sim: ProviderSimulator, client: httpx.AsyncClient, webhook_id: str) -> None:
    answer = await client.post(
        sim.account_url(ProviderKind.C2C_V2) + "developer/subscriptions",
        json={"event": "voice:message:out", "identity": "all", "webhook_id": webhook_id},
        headers={"Authorization": f"Bearer {sim.config.credentials.c2c_token}"},
    )
    assert answer.status_code == 200, answer.text


async def test_a_subscribed_accounts_calls_wait_for_their_reports_and_match_them(
    sim: ProviderSimulator, history: SqliteHistory, client: httpx.AsyncClient
) -> None:
    zone = a_zone_hours_from_here()
    sim.config.c2c_time_zone = zone  # the platform writes its local times there
    c2c = next(a for a in demo_accounts(sim).list() if a.provider is ProviderKind.C2C_V2)
    account = replace(c2c, options={"reports_by": "subscription", "time_zone": zone})
    accounts = StaticAccounts([account])
    secrets = demo_secrets(sim)
    service = CallService(accounts, secrets, history)
    tracker = CallTracker(history, service, timings=TrackingTimings(rescan_interval=0.05))
    tracker.start()
    sim.set_outcome("918867135001", Outcome.BUSY)
    async with WebhookReceiver(history, accounts, secrets, path_token=TOKEN) as receiver:
        sim.config.webhook_urls["sim-webhook"] = receiver.url
        await subscribe(sim, client, "sim-webhook")
        try:
            answered = await service.place_call("+91 88671 35000", account=account.name)
            busy = await service.place_call("+918867135001", account=account.name)
            final = {r.id: await wait_final(history, r.id) for r in (answered, busy)}
        finally:
            await tracker.aclose()
            await service.aclose()
    sent = [r.json for r in sim.requests if r.path.endswith("voice/c2c")]
    assert len(sent) == 2
    assert not any(isinstance(body, dict) and "webhook_id" in body for body in sent)
    assert all(isinstance(body, dict) for body in sent)
    assert history.count() == 2  # each report found its call: no outside call
    done, refused = final[answered.id], final[busy.id]
    assert (done.status, done.origin, done.answered) == (CallStatus.COMPLETED, CallOrigin.APP, True)
    assert (refused.status, refused.origin) == (CallStatus.BUSY, CallOrigin.APP)
    for record in (done, refused):
        (report,) = history.reports(record.id)
        pushed = json.loads(report.body)
        assert "mid" not in pushed and "callId" not in pushed  # matched by numbers and time
        simulated = sim.calls[str(record.provider_ref)]
        assert simulated.started_at is not None and record.started_at is not None
        assert 0 <= simulated.started_at - record.started_at < 1  # read in the account's zone


async def test_a_report_read_in_the_wrong_time_zone_is_kept_apart_from_the_call(
    sim: ProviderSimulator, history: SqliteHistory, client: httpx.AsyncClient
) -> None:
    sim.config.c2c_time_zone = a_zone_hours_from_here()
    c2c = next(a for a in demo_accounts(sim).list() if a.provider is ProviderKind.C2C_V2)
    account = replace(c2c, options={"reports_by": "subscription"})  # no zone: this machine's
    accounts = StaticAccounts([account])
    secrets = demo_secrets(sim)
    service = CallService(accounts, secrets, history)
    outside = asyncio.Event()
    history.add_listener(lambda r: outside.set() if r.origin is CallOrigin.OUTSIDE else None)
    async with WebhookReceiver(history, accounts, secrets, path_token=TOKEN) as receiver:
        sim.config.webhook_urls["sim-webhook"] = receiver.url
        await subscribe(sim, client, "sim-webhook")
        try:
            placed = await service.place_call("+91 88671 35000", account=account.name)
            async with asyncio.timeout(10):
                await outside.wait()
        finally:
            await service.aclose()
    # Hours away from the call's life: not its report, whatever its numbers say.
    still = history.get(placed.id)
    assert still is not None and still.status is CallStatus.ACCEPTED
    (kept,) = [r for r in history.page(HistoryQuery()) if r.id != placed.id]
    assert kept.origin is CallOrigin.OUTSIDE and kept.status is CallStatus.COMPLETED


async def test_report_times_are_read_in_the_zone_of_the_account_they_are_for(
    history: SqliteHistory, client: httpx.AsyncClient
) -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    shop = replace(c2c_account("shop", "hook-shop"), options={
        "webhook_id": "hook-shop", "time_zone": "Asia/Kolkata"})  # fmt: skip
    accounts = StaticAccounts([shop, c2c_account("branch", "hook-branch")])
    placed_at = datetime(2021, 4, 9, 16, 27, 30, tzinfo=kolkata).timestamp()
    await history.insert(shop_call("shop-call", CallStatus.ACCEPTED, created_at=placed_at))
    async with WebhookReceiver(history, accounts, MemorySecretStore(), path_token=TOKEN) as rx:
        answer = await post(client, rx.url, callback())  # the example's times, in Kolkata
        assert answer.status_code == 200
    record = history.get("shop-call")
    assert record is not None and record.status is CallStatus.COMPLETED
    assert record.started_at == datetime(2021, 4, 9, 16, 27, 39, tzinfo=kolkata).timestamp()
    assert history.count() == 1


@pytest.mark.parametrize(
    ("zones", "read_in"),
    [
        (("Asia/Kolkata", "Asia/Kolkata"), "Asia/Kolkata"),  # every account's zone
        (("Asia/Kolkata", None), None),  # they differ: this machine's
    ],
)
async def test_a_report_naming_no_account_is_read_in_the_zone_all_accounts_name(
    history: SqliteHistory,
    client: httpx.AsyncClient,
    zones: tuple[str | None, str | None],
    read_in: str | None,
) -> None:
    accounts = StaticAccounts([
        replace(c2c_account(name, ""), options={"time_zone": zone} if zone else {})
        for name, zone in zip(("shop", "branch"), zones, strict=True)
    ])  # fmt: skip
    async with WebhookReceiver(history, accounts, MemorySecretStore(), path_token=TOKEN) as rx:
        answer = await post(client, rx.url, callback(webhook_id=...))
        assert answer.status_code == 200
    record = only_record(history)
    zone = ZoneInfo(read_in) if read_in else None
    assert record.started_at == datetime(2021, 4, 9, 16, 27, 39, tzinfo=zone).timestamp()
