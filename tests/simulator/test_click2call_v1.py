"""Click2Call v1: plain-text PHP answers, always HTTP 200, reports by id or uniqueid."""

from __future__ import annotations

import httpx
import pytest

from dialer.core.accounts import ProviderKind
from dialer.simulator import Outcome, ProviderSimulator, SimulatorConfig
from tests.simulator.conftest import AGENT, CUSTOMER

KIND = ProviderKind.CLICK2CALL_V1
LOGIN = {"uid": "sim-uid", "pin": "sim-pin"}


def params(**changes: str | None) -> dict[str, str]:
    base: dict[str, str | None] = {**LOGIN, "number1": AGENT, "number2": CUSTOMER}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


async def test_get_success(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    answer = await client.get(
        sim.account_url(KIND) + "click2call.php",
        params=params(holdfile="1", duration="60", uniqueid="u-1"),
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")  # PHP's default
    call_id = answer.text
    assert call_id.isdigit()
    call = sim.calls[call_id]
    assert (call.agent, call.customer, call.reference, call.limit) == (AGENT, CUSTOMER, "u-1", 60)
    assert call.extra["holdfile"] == "1"
    recorded = sim.requests[-1]
    assert recorded.method == "GET"
    assert recorded.query["number2"] == CUSTOMER
    assert recorded.form == {}


async def test_post_form_success(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    answer = await client.post(sim.account_url(KIND) + "click2call.php", data=params())
    assert answer.status_code == 200
    assert answer.text.isdigit()
    recorded = sim.requests[-1]
    assert recorded.method == "POST"
    assert recorded.form["uid"] == "sim-uid"
    assert recorded.json is None
    assert recorded.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_ids_increase(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    first = await client.post(sim.account_url(KIND) + "click2call.php", data=params())
    second = await client.post(sim.account_url(KIND) + "click2call.php", data=params())
    assert int(second.text) == int(first.text) + 1


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"uid": "other"}, "Invalid UID or PIN"),
        ({"pin": None}, "Invalid UID or PIN"),
        ({"number1": None}, "Invalid Number"),
        ({"number2": "+918867135000"}, "Invalid Number"),
        ({"number2": "12345"}, "Invalid Number"),
        ({"number1": "91 98765 43210"}, "Invalid Number"),
        ({"holdfile": "9"}, "Invalid Holdfile"),
        ({"duration": "0"}, "Invalid Duration"),
        ({"duration": "1m"}, "Invalid Duration"),
        ({"duration": "\u00b2"}, "Invalid Duration"),  # a digit to str.isdigit(), not to int()
    ],
)
async def test_refusals(
    sim: ProviderSimulator, client: httpx.AsyncClient, changes: dict[str, str | None], text: str
) -> None:
    answer = await client.post(sim.account_url(KIND) + "click2call.php", data=params(**changes))
    assert answer.status_code == 200
    assert answer.text == text
    assert sim.calls == {}


@pytest.mark.parametrize("by", ["id", "uniqueid"])
async def test_report_before_and_after(
    config: SimulatorConfig, client: httpx.AsyncClient, by: str
) -> None:
    config.talk_seconds = 0.3
    async with ProviderSimulator(config) as sim:
        placed = await client.post(
            sim.account_url(KIND) + "click2call.php", data=params(uniqueid="my-7")
        )
        asked = placed.text if by == "id" else "my-7"
        report_url = sim.account_url(KIND) + "report-click2call.php"
        running = await client.get(report_url, params={**LOGIN, by: asked})
        assert running.status_code == 200
        assert running.text == ""
        await sim.wait_call_finished(placed.text)
        done = await client.get(report_url, params={**LOGIN, by: asked})
        ident, dur1, dur2, credit = done.text.split(",")
        assert ident == asked
        assert int(dur1) >= int(dur2) >= 1
        assert int(credit) == 2


@pytest.mark.parametrize("outcome", [Outcome.BUSY, Outcome.NO_ANSWER, Outcome.FAILED])
async def test_unanswered_customer_reports_zero(
    sim: ProviderSimulator, client: httpx.AsyncClient, outcome: Outcome
) -> None:
    sim.config.outcomes[CUSTOMER] = outcome
    placed = await client.post(sim.account_url(KIND) + "click2call.php", data=params())
    call = await sim.wait_call_finished(placed.text)
    assert call.state == {"busy": "busy", "no_answer": "no-answer", "failed": "failed"}[outcome]
    report = await client.get(
        sim.account_url(KIND) + "report-click2call.php", params={**LOGIN, "id": placed.text}
    )
    ident, dur1, dur2, credit = report.text.split(",")
    assert ident == placed.text
    assert int(dur1) >= 1
    assert (dur2, credit) == ("0", "1")


async def test_agent_no_answer_reports_zero_both(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    sim.config.default_outcome = Outcome.AGENT_NO_ANSWER
    placed = await client.post(sim.account_url(KIND) + "click2call.php", data=params())
    await sim.wait_call_finished(placed.text)
    report = await client.get(
        sim.account_url(KIND) + "report-click2call.php", params={**LOGIN, "id": placed.text}
    )
    assert report.text == f"{placed.text},0,0,0"


async def test_report_refusals(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    report_url = sim.account_url(KIND) + "report-click2call.php"
    wrong = await client.get(report_url, params={"uid": "sim-uid", "pin": "x", "id": "1"})
    assert wrong.text == "Invalid UID or PIN"
    unknown = await client.get(report_url, params={**LOGIN, "id": "999"})
    assert (unknown.status_code, unknown.text) == (200, "No Record Found")
    nothing = await client.get(report_url, params=LOGIN)
    assert nothing.text == "No Record Found"
