"""C2C v2: ``POST {base}voice/c2c`` with a Bearer token, Laravel-style refusals, webhooks."""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiohttp import web

from dialer.core.accounts import ProviderKind
from dialer.simulator import Fault, Outcome, ProviderSimulator
from tests.simulator.conftest import AGENT, BRIDGE, C2C_TOKEN, CUSTOMER, eventually

KIND = ProviderKind.C2C_V2
AUTH = {"Authorization": f"Bearer {C2C_TOKEN}", "Accept": "application/json"}
VOCABULARY = {
    "ANSWER", "BUSY", "NOANSWER", "CANCEL", "CONGESTION", "CHANUNAVAIL", "RECEIVED", "MISSED",
    "COMPLETED",
}  # fmt: skip
DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def c2c_url(sim: ProviderSimulator) -> str:
    return sim.account_url(KIND) + "voice/c2c"


def body(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"bridge": BRIDGE, "from": AGENT, "to": CUSTOMER}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


async def place(
    sim: ProviderSimulator, client: httpx.AsyncClient, **changes: object
) -> httpx.Response:
    return await client.post(c2c_url(sim), json=body(**changes), headers=AUTH)


@dataclass
class Receiver:
    """A webhook receiver: answers the statuses queued in ``answers`` (then 200)."""

    url: str = ""
    received: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    answers: list[int] = field(default_factory=list)
    hits: int = 0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()

    async def hook(request: web.Request) -> web.Response:
        state.hits += 1
        status = state.answers.pop(0) if state.answers else 200
        if status in (200, 202):
            await state.received.put(await request.json())
        return web.Response(status=status, text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}/hook"
    yield state
    await runner.cleanup()


async def test_success_wire_form_and_call(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    answer = await place(sim, client, record="1", mid="ref-1", duration="2", attempts="1")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    data = answer.json()
    assert data["status"] == 200
    assert data["message"] == "Call initiated successfully"
    assert uuid.UUID(data["callId"]).version == 4
    call = sim.calls[data["callId"]]
    assert (call.agent, call.customer, call.bridge) == (AGENT, CUSTOMER, BRIDGE)
    assert call.record is True
    assert call.reference == "ref-1"
    assert call.limit == 120.0  # minutes on the wire
    assert call.extra["attempts"] == 1
    finished = await sim.wait_call_finished(call.id, timeout=5)
    states = [state for _, state in finished.timeline]
    assert states == [
        "accepted",
        "ringing-agent",
        "agent-answered",
        "ringing-customer",
        "connected",
        "completed",
    ]
    assert finished.state == "completed"
    assert finished.first_leg_seconds > finished.second_leg_seconds > 0
    assert finished.started_at is not None
    assert finished.ended_at is not None


async def test_numbers_and_record_as_json_integers(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    answer = await client.post(
        c2c_url(sim),
        json={"bridge": int(BRIDGE), "from": int(AGENT), "to": int(CUSTOMER), "record": 1},
        headers=AUTH,
    )
    assert answer.status_code == 200, answer.text
    call = sim.calls[answer.json()["callId"]]
    assert call.customer == CUSTOMER
    assert call.record is True


async def test_flow_mode(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    answer = await place(
        sim,
        client,
        **{
            "from": CUSTOMER,
            "to": "flow:220",
            "variables[Name]": "Asha",
            "variables[otp]": "12344",
        },
    )
    assert answer.status_code == 200, answer.text
    call = sim.calls[answer.json()["callId"]]
    assert call.flow_id == "220"
    assert call.agent is None
    assert call.customer == CUSTOMER
    assert call.variables == {"Name": "Asha", "otp": "12344"}
    await sim.wait_call_finished(call.id)
    assert [s for _, s in call.timeline] == [
        "accepted",
        "ringing-customer",
        "connected",
        "completed",
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": C2C_TOKEN},  # the raw token without the scheme
        {"Authorization": f"Basic {C2C_TOKEN}"},
    ],
)
async def test_unauthenticated(
    sim: ProviderSimulator, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    answer = await client.post(c2c_url(sim), json=body(), headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthenticated."}
    assert sim.calls == {}


async def test_access_token_query_parameter(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    answer = await client.post(c2c_url(sim), params={"access_token": C2C_TOKEN}, json=body())
    assert answer.status_code == 200


async def test_non_json_body_is_422(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    answer = await client.post(c2c_url(sim), data=body(), headers=AUTH)  # form-encoded
    assert answer.status_code == 422
    assert answer.json()["status"] == "ERROR"
    assert sim.calls == {}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"bridge": None}, "bridge", "The bridge field is required."),
        ({"from": None}, "from", "The from field is required."),
        ({"to": ""}, "to", "The to field is required."),
        ({"bridge": "918068289999"}, "bridge", "The selected bridge is invalid."),
        ({"from": "+919876543210"}, "from", "The from must be"),
        ({"to": "9876543"}, "to", "The to must be"),
        ({"to": "09876543210"}, "to", "The to must be"),
        ({"to": "flow:999"}, "to", "The selected flow is invalid."),
        ({"to": "flow:220", "variables[Name]": "A"}, "variables[otp]", "variables[otp]"),
        ({"record": "2"}, "record", "The selected record is invalid."),
        ({"record": True}, "record", "The selected record is invalid."),
        ({"duration": "0"}, "duration", "The duration must be at least 1."),
        ({"duration": "1.5"}, "duration", "The duration must be an integer."),
        ({"attempts": "3"}, "attempts", "The attempts may not be greater than 2."),
        ({"attempts": -1}, "attempts", "The attempts must be at least 0."),
        ({"webhook_id": "nope"}, "webhook_id", "The selected webhook id is invalid."),
        ({"mid": ["x"]}, "mid", "The mid must be a string."),
    ],
)
async def test_validation_refusals(
    sim: ProviderSimulator,
    client: httpx.AsyncClient,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    answer = await place(sim, client, **changes)
    assert answer.status_code == 422
    data = answer.json()
    assert data["status"] == "ERROR"
    assert data["code"] == 422
    assert message in data["message"]
    assert message in data["errors"][field][0]
    assert sim.calls == {}


async def test_missing_flow_variable_named_and_nested_object_not_accepted(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    answer = await place(
        sim, client, to="flow:221", variables={"Name": "A", "order": "7"}, **{"from": CUSTOMER}
    )
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert set(errors) == {"variables[Name]", "variables[order]"}
    assert answer.json()["message"] == "The variables[Name] field is required."


async def test_every_failing_field_is_reported(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    answer = await client.post(c2c_url(sim), json={"attempts": 5}, headers=AUTH)
    assert answer.status_code == 422
    assert list(answer.json()["errors"]) == ["bridge", "from", "to", "attempts"]


async def test_wrong_method_is_405(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    answer = await client.get(c2c_url(sim), headers=AUTH)
    assert answer.status_code == 405
    assert "Supported methods: POST" in answer.json()["message"]


async def test_auth_me(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    ok = await client.get(sim.account_url(KIND) + "auth/me", headers=AUTH)
    assert ok.status_code == 200
    assert ok.json()["status"] == "OK"
    refused = await client.get(sim.account_url(KIND) + "auth/me")
    assert refused.status_code == 401


async def test_webhook_delivered(
    sim: ProviderSimulator, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    sim.config.webhook_urls["sim-webhook"] = receiver.url
    answer = await place(sim, client, webhook_id="sim-webhook", mid="m-1", record="1")
    call_id = answer.json()["callId"]
    payload = await asyncio.wait_for(receiver.received.get(), 5)
    assert isinstance(payload, dict)
    assert payload["webhook_id"] == "sim-webhook"
    # The document's example carries the numbers unquoted.
    assert payload["bridge"] == int(BRIDGE)
    assert payload["from"] == int(AGENT)
    assert payload["to"] == int(CUSTOMER)
    assert payload["source"] == "C2C"
    for name in ("start_at", "end_at", "date"):
        assert DATETIME.fullmatch(payload[name]), name
    assert isinstance(payload["unixtime"], str)
    assert payload["unixtime"].isdigit()
    assert isinstance(payload["duration"], str)
    assert int(payload["duration"]) >= 1
    assert isinstance(payload["billing"], str)
    assert int(payload["billing"]) >= 1
    assert (payload["status"], payload["status1"], payload["status2"]) == (
        "COMPLETED",
        "RECEIVED",
        "ANSWER",
    )
    assert payload["hangup_by"] in ("agent", "caller")
    assert payload["mid"] == "m-1"
    assert payload["callId"] == call_id
    recording = await client.get(payload["recording_url"])
    assert recording.status_code == 200
    assert recording.content.startswith(b"RIFF")
    assert sim.webhooks[-1].delivered


@pytest.mark.parametrize(
    ("outcome", "status", "status1", "status2"),
    [
        (Outcome.BUSY, "BUSY", "RECEIVED", "BUSY"),
        (Outcome.NO_ANSWER, "NOANSWER", "RECEIVED", "NOANSWER"),
        (Outcome.FAILED, "CHANUNAVAIL", "RECEIVED", "CHANUNAVAIL"),
        (Outcome.AGENT_NO_ANSWER, "MISSED", "NOANSWER", "CANCEL"),
    ],
)
async def test_outcomes_in_webhook(
    sim: ProviderSimulator,
    client: httpx.AsyncClient,
    receiver: Receiver,
    outcome: Outcome,
    status: str,
    status1: str,
    status2: str,
) -> None:
    sim.config.webhook_urls["sim-webhook"] = receiver.url
    sim.set_outcome(CUSTOMER, outcome)
    await place(sim, client, webhook_id="sim-webhook", record="1")
    payload = await asyncio.wait_for(receiver.received.get(), 5)
    assert isinstance(payload, dict)
    assert (payload["status"], payload["status1"], payload["status2"]) == (
        status,
        status1,
        status2,
    )
    assert {status, status1, status2} <= VOCABULARY
    assert payload["billing"] == "0"
    assert payload["recording_url"] == ""
    assert "mid" not in payload


async def test_flow_webhook_keeps_flow_target_as_string(
    sim: ProviderSimulator, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    sim.config.default_webhook_url = receiver.url  # sim-webhook has no URL of its own
    await place(
        sim,
        client,
        webhook_id="sim-webhook",
        to="flow:220",
        **{"from": CUSTOMER, "variables[Name]": "A", "variables[otp]": "1"},
    )
    payload = await asyncio.wait_for(receiver.received.get(), 5)
    assert isinstance(payload, dict)
    assert payload["to"] == "flow:220"
    assert payload["from"] == int(CUSTOMER)
    assert (payload["status"], payload["status1"], payload["status2"]) == (
        "RECEIVED",
        "ANSWER",
        "RECEIVED",
    )
    assert payload["billing"] == payload["duration"]


@pytest.mark.allow_warnings_log(r"webhook receiver \S+ answered HTTP (500|404) \(attempt [12]\)")
async def test_webhook_retried_after_a_refusal(
    sim: ProviderSimulator, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    sim.config.webhook_retry_delay = 0.01
    sim.config.webhook_urls["sim-webhook"] = receiver.url
    receiver.answers = [500, 404]
    await place(sim, client, webhook_id="sim-webhook")
    await asyncio.wait_for(receiver.received.get(), 5)
    assert receiver.hits == 3
    await eventually(lambda: sim.webhooks[-1].delivered)
    delivery = sim.webhooks[-1]
    assert (delivery.delivered, delivery.attempts, delivery.status) == (True, 3, 200)


@pytest.mark.allow_warnings_log(
    r"webhook push to \S+ failed \(attempt [123]\)",
    r"giving up on the webhook push to \S+ after 3 attempts",
)
async def test_unreachable_webhook_gives_up_quietly(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sim.config.webhook_retry_delay = 0.01
    sim.config.webhook_urls["sim-webhook"] = f"http://127.0.0.1:{port}/hook"
    answer = await place(sim, client, webhook_id="sim-webhook")
    await sim.wait_call_finished(answer.json()["callId"])
    await eventually(lambda: bool(sim.webhooks) and sim.webhooks[-1].attempts == 3)
    await eventually(lambda: sim.webhooks[-1].error is not None)
    delivery = sim.webhooks[-1]
    assert not delivery.delivered
    assert delivery.attempts == 3
    assert delivery.error


async def test_no_webhook_without_webhook_id(
    sim: ProviderSimulator, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    sim.config.default_webhook_url = receiver.url
    answer = await place(sim, client)
    await sim.wait_call_finished(answer.json()["callId"])
    await asyncio.sleep(0.05)
    assert receiver.hits == 0
    assert sim.webhooks == []


async def test_faulted_request_places_no_call(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    sim.inject(Fault.server_error(503), KIND)
    answer = await place(sim, client)
    assert answer.status_code == 503
    assert sim.calls == {}
    assert (await place(sim, client)).status_code == 200


# -- subscriptions ("create subscription", instead of a webhook_id on every call) ------------


def subscriptions_url(sim: ProviderSimulator) -> str:
    return sim.account_url(KIND) + "developer/subscriptions"


SUBSCRIPTION = {"event": "voice:message:out", "identity": "all", "webhook_id": "sim-webhook"}
# The callback table of the document, exactly: what a subscription's report carries.
DOCUMENTED_FIELDS = {
    "webhook_id", "bridge", "from", "to", "source", "start_at", "end_at", "date", "unixtime",
    "duration", "billing", "status", "status1", "status2", "recording_url", "hangup_by",
}  # fmt: skip


async def test_subscriptions_are_created_listed_read_and_deleted(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    created = await client.post(subscriptions_url(sim), json=SUBSCRIPTION, headers=AUTH)
    assert created.status_code == 200, created.text
    data = created.json()["data"]
    assert created.json()["status"] == "OK"
    assert {k: data[k] for k in SUBSCRIPTION} == SUBSCRIPTION
    item = f"{subscriptions_url(sim)}/{data['id']}"
    listed = await client.get(subscriptions_url(sim), headers=AUTH)
    assert listed.json()["data"] == [data]
    assert (await client.get(item, headers=AUTH)).json()["data"] == data
    assert sim.config.c2c_subscriptions == {data["id"]: "sim-webhook"}
    deleted = await client.delete(item, headers=AUTH)
    assert deleted.status_code == 200 and deleted.json()["status"] == "OK"
    assert (await client.get(item, headers=AUTH)).status_code == 404
    assert (await client.delete(item, headers=AUTH)).status_code == 404
    assert sim.config.c2c_subscriptions == {}


async def test_subscription_refusals(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    url = subscriptions_url(sim)
    unauthenticated = await client.post(url, json=SUBSCRIPTION)
    assert unauthenticated.status_code == 401
    assert (await client.get(url)).status_code == 401
    assert (await client.put(url, json=SUBSCRIPTION, headers=AUTH)).status_code == 405
    empty = await client.post(url, json={}, headers=AUTH)
    assert empty.status_code == 422
    assert empty.json()["errors"] == {
        "event": ["The event field is required."],
        "identity": ["The identity field is required."],
        "webhook_id": ["The webhook id field is required."],
    }
    wrong = await client.post(
        url,
        json={**SUBSCRIPTION, "event": "sms:message:out", "webhook_id": "nope"},
        headers=AUTH,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == {
        "event": ["The selected event is invalid."],
        "webhook_id": ["The selected webhook id is invalid."],
    }
    assert sim.config.c2c_subscriptions == {}


async def test_a_subscription_pushes_the_report_of_a_call_sent_without_webhook_id(
    sim: ProviderSimulator, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    sim.config.webhook_urls["sim-webhook"] = receiver.url
    await client.post(subscriptions_url(sim), json=SUBSCRIPTION, headers=AUTH)
    answer = await place(sim, client, mid="m-1")
    payload = await asyncio.wait_for(receiver.received.get(), 5)
    assert isinstance(payload, dict)
    # The document's example shape: no mid, no callId, whatever the call carried.
    assert set(payload) == DOCUMENTED_FIELDS
    assert payload["webhook_id"] == "sim-webhook"
    assert (payload["bridge"], payload["from"], payload["to"]) == tuple(
        map(int, (BRIDGE, AGENT, CUSTOMER))
    )
    assert payload["status"] == "COMPLETED"
    assert sim.calls[answer.json()["callId"]].extra["webhook_id"] is None


async def test_a_call_naming_the_subscribed_webhook_is_reported_there_once(
    sim: ProviderSimulator, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    sim.config.webhook_urls["sim-webhook"] = receiver.url
    sim.config.c2c_subscriptions["sub-1"] = "sim-webhook"
    await place(sim, client, webhook_id="sim-webhook", mid="m-1")
    payload = await asyncio.wait_for(receiver.received.get(), 5)
    assert isinstance(payload, dict) and payload["mid"] == "m-1"  # the call's own push
    await eventually(lambda: all(d.status for d in sim.webhooks))
    assert len(sim.webhooks) == 1


async def test_report_times_are_local_times_of_the_platforms_zone(
    sim: ProviderSimulator, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    sim.config.webhook_urls["sim-webhook"] = receiver.url
    sim.config.c2c_time_zone = "Asia/Kolkata"
    answer = await place(sim, client, webhook_id="sim-webhook")
    payload = await asyncio.wait_for(receiver.received.get(), 5)
    assert isinstance(payload, dict)
    call = sim.calls[answer.json()["callId"]]
    assert call.started_at is not None
    kolkata = ZoneInfo("Asia/Kolkata")
    start = datetime.fromisoformat(str(payload["start_at"])).replace(tzinfo=kolkata)
    assert abs(start.timestamp() - call.started_at) < 1  # the wire form has whole seconds
    sent = datetime.fromisoformat(str(payload["date"])).replace(tzinfo=kolkata)
    assert abs(sent.timestamp() - int(str(payload["unixtime"]))) < 1
