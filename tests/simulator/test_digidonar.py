"""DigiDonar reverse click-to-call: GET only, JSON bodies served as text/html, HTTP 200."""

from __future__ import annotations

import json

import httpx
import pytest

from dialer.core.accounts import ProviderKind
from dialer.simulator import Outcome, ProviderSimulator

KIND = ProviderKind.DIGIDONAR
CUSTOMER = "8867135000"
AGENT = "9876543210"


def params(**changes: str | None) -> dict[str, str]:
    base: dict[str, str | None] = {
        "calling_party_a": CUSTOMER,
        "calling_party_b": AGENT,
        "deskphone": "01204000000",
        "authcode": "sim-digidonar-authcode",
        "call_from_did": "1",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def call_url(sim: ProviderSimulator) -> str:
    return sim.account_url(KIND) + "click_to_call_v3"


async def test_success(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    answer = await client.get(call_url(sim), params=params(CallLimit="45"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    data = json.loads(answer.text)  # the body is JSON whatever the header says
    assert data["type"] == "success"
    assert data["message"] == "Call to Customer Initiate Successfully.."
    assert isinstance(data["campid"], int)
    assert data["deskphone"] == "1204000000"  # as the document's answer writes it: no 0
    call = sim.calls[str(data["campid"])]
    assert (call.customer, call.agent, call.bridge, call.limit) == (
        CUSTOMER,
        AGENT,
        "01204000000",
        45,
    )
    await sim.wait_call_finished(call.id)
    # The reverse API rings the customer first.
    assert [state for _, state in call.timeline] == [
        "accepted",
        "ringing-customer",
        "ringing-agent",
        "agent-answered",
        "connected",
        "completed",
    ]


async def test_deskphone_compared_as_given(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    answer = await client.get(call_url(sim), params=params(deskphone="1204000000"))
    assert answer.json()["deskphone"] == "1204000000"
    assert sim.calls[str(answer.json()["campid"])].bridge == "1204000000"


async def test_a_campaign_id_is_read_from_the_query(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    answer = await client.get(call_url(sim), params=params(campid="9995"))
    assert answer.json()["type"] == "success"
    assert sim.calls[str(answer.json()["campid"])].extra["campaign"] == "9995"


async def test_a_form_body_on_the_get_is_not_read(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    """As PHP does (``$_POST`` is filled for POST only): a campid in a GET's body is lost."""
    answer = await client.request(
        "GET", call_url(sim), params=params(), content=b"campid=9995",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert answer.json()["type"] == "success"
    assert sim.calls[str(answer.json()["campid"])].extra["campaign"] is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"authcode": "wrong"}, "Invalid Auth Code!"),
        ({"authcode": None}, "Invalid Auth Code!"),
        ({"calling_party_a": None}, "Invalid Parameter value."),
        ({"calling_party_a": "918867135000"}, "Invalid Parameter value."),
        ({"calling_party_b": "+919876543210"}, "Invalid Parameter value."),
        ({"deskphone": "01209999999"}, "Invalid Parameter value."),
        ({"call_from_did": "0"}, "Invalid Parameter value."),
        ({"call_from_did": None}, "Invalid Parameter value."),
        ({"CallLimit": "0"}, "Invalid Parameter value."),
        ({"CallLimit": "1.5"}, "Invalid Parameter value."),
        ({"CallLimit": "\u00b2"}, "Invalid Parameter value."),
        ({"campid": "99a5"}, "Invalid Parameter value."),
        ({"campid": "-1"}, "Invalid Parameter value."),
        ({"campid": ""}, "Invalid Parameter value."),
    ],
)
async def test_refusals(
    sim: ProviderSimulator,
    client: httpx.AsyncClient,
    changes: dict[str, str | None],
    message: str,
) -> None:
    answer = await client.get(call_url(sim), params=params(**changes))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert json.loads(answer.text) == {"type": "error", "message": message}
    assert sim.calls == {}


async def test_a_parameter_given_twice_differently_is_refused(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    query = httpx.QueryParams(params()).add("deskphone", "1204000000")
    answer = await client.get(call_url(sim), params=query)
    assert json.loads(answer.text) == {"type": "error", "message": "Invalid Parameter value."}
    assert sim.calls == {}


async def test_post_is_405(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    answer = await client.post(call_url(sim), data=params())
    assert answer.status_code == 405
    assert sim.calls == {}


async def test_agent_no_answer_after_customer_answered(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    sim.set_outcome(CUSTOMER, Outcome.AGENT_NO_ANSWER)
    answer = await client.get(call_url(sim), params=params())
    call = await sim.wait_call_finished(str(answer.json()["campid"]))
    assert call.state == "no-answer"
    assert [state for _, state in call.timeline][-2:] == ["ringing-agent", "no-answer"]
    assert call.first_leg_seconds > 0
    assert call.second_leg_seconds == 0
