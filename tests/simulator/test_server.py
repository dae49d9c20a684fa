"""The server itself: addresses, the request log, the control API, concurrency, lifecycle."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from dialer.core.accounts import ProviderKind
from dialer.simulator import (
    Outcome,
    ProviderSimulator,
    RecordedRequest,
    SimCredentials,
    SimulatorConfig,
)
from tests.simulator.conftest import AGENT, BRIDGE, C2C_TOKEN, CUSTOMER, TLS


def c2c_body(customer: str = CUSTOMER) -> dict[str, str]:
    return {"bridge": BRIDGE, "from": AGENT, "to": customer}


async def place_c2c(
    sim: ProviderSimulator, client: httpx.AsyncClient, customer: str = CUSTOMER
) -> httpx.Response:
    return await client.post(
        sim.account_url(ProviderKind.C2C_V2) + "voice/c2c",
        json=c2c_body(customer),
        headers={"Authorization": f"Bearer {C2C_TOKEN}", "X-Custom-Header": "Yes"},
    )


async def test_account_urls(sim: ProviderSimulator) -> None:
    base = sim.base_url
    assert base.startswith("http://127.0.0.1:")
    assert base.endswith("/")
    assert sim.account_url(ProviderKind.C2C_V2) == base + "api/v2/"
    assert sim.account_url(ProviderKind.CLICK2CALL_V1) == base + "api/voice/"
    assert sim.account_url(ProviderKind.KAZOO) == base
    assert sim.account_url(ProviderKind.DIGIDONAR) == base + "api_v2/"


def test_demo_credentials_defaults() -> None:
    creds = SimCredentials()
    assert creds.c2c_token == "sim-c2c-token"
    assert creds.c2c_bridges == ("918068280000", "918068280001")
    assert (creds.v1_uid, creds.v1_pin, creds.v1_holdfiles) == ("sim-uid", "sim-pin", ("1", "2"))
    assert creds.kazoo_api_key == "sim-kazoo-api-key"
    assert creds.digidonar_deskphones == ("01204000000", "1204000000")
    assert set(creds.c2c_flows) == {"220", "221"}


async def test_request_log(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    before = time.perf_counter()
    await place_c2c(sim, client)
    after = time.perf_counter()
    recorded = sim.requests[-1]
    assert isinstance(recorded, RecordedRequest)
    assert recorded.provider is ProviderKind.C2C_V2
    assert (recorded.method, recorded.path) == ("POST", "/api/v2/voice/c2c")
    assert before <= recorded.arrived <= after
    assert recorded.headers["x-custom-header"] == "Yes"
    assert recorded.headers["authorization"] == f"Bearer {C2C_TOKEN}"
    assert all(name == name.lower() for name in recorded.headers)
    assert recorded.json == c2c_body()
    assert recorded.form == {}
    assert b'"bridge"' in recorded.body
    with pytest.raises(AttributeError):
        recorded.method = "GET"  # type: ignore[misc]
    sim.clear_requests()
    assert sim.requests == []


async def test_arrived_is_taken_before_delays(client: httpx.AsyncClient) -> None:
    async with ProviderSimulator(SimulatorConfig(answer_delay=0.3)) as sim:
        started = time.perf_counter()
        await place_c2c(sim, client)
        answered = time.perf_counter()
        # Taken on arrival, the delay comes after it: the whole delay lies between it and the
        # answer (taken after the delay, it would be within moments of the answer).
        arrived = sim.requests[-1].arrived
        assert started <= arrived
        assert answered - arrived >= 0.3


async def test_unknown_paths_are_recorded_without_a_provider(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    answer = await client.get(sim.base_url + "favicon.ico")
    assert answer.status_code == 404
    assert sim.requests[-1].provider is None


async def test_control_api(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    control = sim.base_url + "_simulator/"
    await place_c2c(sim, client)
    listed = (await client.get(control + "requests")).json()
    assert len(listed) == 1  # control requests are not recorded
    assert listed[0]["provider"] == "c2c-v2"
    assert '"bridge"' in listed[0]["body"]
    assert listed[0]["json"]["to"] == CUSTOMER

    calls = (await client.get(control + "calls")).json()
    assert len(calls) == 1
    (only,) = calls.values()
    assert only["customer"] == CUSTOMER
    assert only["provider"] == "c2c-v2"

    cleared = await client.delete(control + "requests")
    assert cleared.json() == {"cleared": 1}
    assert sim.requests == []

    outcomes = await client.put(control + "outcomes", json={"918867135009": "busy"})
    assert outcomes.status_code == 200
    assert sim.config.outcomes["918867135009"] is Outcome.BUSY
    await client.put(control + "outcomes", json={"918867135008": "no-answer"})
    assert sim.config.outcomes["918867135008"] is Outcome.NO_ANSWER
    bad = await client.put(control + "outcomes", json={"1": "maybe"})
    assert bad.status_code == 400
    answer = await place_c2c(sim, client, "918867135009")
    call = await sim.wait_call_finished(answer.json()["callId"])
    assert call.state == "busy"

    fault = await client.post(
        control + "faults",
        json={"fault": "server_error", "provider": "c2c-v2", "count": 2, "status": 502},
    )
    assert fault.status_code == 201
    assert sim.pending_faults == 2
    assert (await place_c2c(sim, client)).status_code == 502
    latency = await client.post(control + "faults", json={"fault": "latency", "seconds": 0.01})
    assert latency.status_code == 201
    for spec in (
        {"fault": "explode"},
        {"fault": "latency"},
        {"fault": "server_error", "status": 404},
        {"fault": "reset", "provider": "skype"},
        {"fault": "reset", "count": 0},
    ):
        assert (await client.post(control + "faults", json=spec)).status_code == 400, spec
    assert (await client.delete(control + "faults")).status_code == 200
    assert sim.pending_faults == 0

    info = (await client.get(control)).json()
    assert info["accounts"]["kazoo"] == sim.base_url
    assert (await client.post(control + "kazoo/expire-tokens")).json() == {"expired": True}
    assert (await client.get(control + "webhooks")).json() == []
    assert sim.requests[-1].path == "/api/v2/voice/c2c"


async def test_control_api_faults_every_kind(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    control = sim.base_url + "_simulator/faults"
    for name in ("timeout", "server_error", "html", "malformed_json", "failure_in_200", "reset"):
        answer = await client.post(control, json={"fault": name, "provider": None})
        assert answer.status_code == 201, name
    answer = await client.post(control, json={"fault": "failure_in_200", "message": "Nope"})
    assert answer.json()["message"] == "Nope"
    assert sim.pending_faults == 7


async def test_concurrent_requests_are_not_serialised() -> None:
    # Served one at a time, 200 requests would take 200 delays; served together, one. The
    # delay leaves the clients time to send all 200 on a slow, busy machine (0.5 s did not).
    delay = 2.0
    config = SimulatorConfig(answer_delay=delay, ring_seconds=60, talk_seconds=60)
    # Several clients: one httpx pool with 200 connections spends seconds on its own
    # bookkeeping (httpcore scans every connection per event), which would hide the server.
    clients = [httpx.AsyncClient(trust_env=False, timeout=10, verify=TLS) for _ in range(20)]
    try:
        async with ProviderSimulator(config) as sim:
            # Warm the clients up (their first request pays one-off setup costs).
            await asyncio.gather(*(client.get(sim.base_url + "_simulator/") for client in clients))
            answers = await asyncio.gather(
                *(place_c2c(sim, clients[n % len(clients)]) for n in range(200))
            )
            assert all(answer.status_code == 200 for answer in answers)
            assert len(sim.calls) == 200
            # Every request was being handled before the first one was answered.
            arrivals = [request.arrived for request in sim.requests]
            assert max(arrivals) - min(arrivals) < delay
            # stop() now cancels 200 calls that are still ringing, leaving nothing pending.
    finally:
        for client in clients:
            await client.aclose()


async def test_outcome_keyed_by_number_as_sent(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    sim.set_outcome(CUSTOMER, Outcome.NO_ANSWER)
    answer = await place_c2c(sim, client)
    call = await sim.wait_call_finished(answer.json()["callId"])
    assert call.outcome is Outcome.NO_ANSWER
    assert call.state == "no-answer"
    assert call.second_leg_seconds == 0


async def test_wait_call_finished_errors(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    with pytest.raises(KeyError):
        await sim.wait_call_finished("no-such-call")
    sim.config.talk_seconds = 5
    answer = await place_c2c(sim, client)
    with pytest.raises(TimeoutError):
        await sim.wait_call_finished(answer.json()["callId"], timeout=0.05)


async def test_lifecycle(client: httpx.AsyncClient) -> None:
    sim = ProviderSimulator()
    with pytest.raises(RuntimeError):
        _ = sim.base_url
    await sim.start()
    with pytest.raises(RuntimeError):
        await sim.start()
    assert (await place_c2c(sim, client)).status_code == 200
    await sim.stop()
    await sim.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        await place_c2c(sim, client)


async def test_outcome_parse() -> None:
    assert Outcome.parse("No-Answer") is Outcome.NO_ANSWER
    assert Outcome.parse("agent_no_answer") is Outcome.AGENT_NO_ANSWER
    with pytest.raises(ValueError, match="unknown outcome"):
        Outcome.parse("later")
