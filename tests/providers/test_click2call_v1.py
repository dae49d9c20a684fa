"""Click2Call v1 over loopback: a POSTed form, plain-text answers, report lookups."""

from __future__ import annotations

import pytest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallOptions
from dialer.core.errors import AuthenticationRefused, CallRejected, UnsupportedOption
from dialer.providers.click2call_v1 import Click2CallV1Provider, V1Report, parse_v1_report
from dialer.simulator import Outcome, ProviderSimulator
from tests.providers.conftest import MakeService, provider_requests

KIND = ProviderKind.CLICK2CALL_V1


async def test_wire_form_is_a_post_form_with_the_pin_out_of_the_url(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    record = await service.place_call("+91 88671 35000", CallOptions(max_seconds=90, holdfile="2"))
    [request] = provider_requests(sim)
    assert request.method == "POST"
    assert request.path == "/api/voice/click2call.php"
    assert request.query == {}
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.form == {
        "uid": "sim-uid",
        "pin": "sim-pin",
        "number1": "919876543210",
        "number2": "918867135000",
        "holdfile": "2",  # the per-call override beats the account's "1"
        "duration": "90",  # seconds, as the document says
        "uniqueid": record.id,
    }
    assert record.provider_ref is not None
    assert record.provider_ref.isdigit()


async def test_account_holdfile_is_the_default(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    await service.place_call("+918867135000")
    form = provider_requests(sim)[0].form
    assert form["holdfile"] == "1"
    assert "duration" not in form


async def test_wrong_pin(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND, secret="0000")
    with pytest.raises(AuthenticationRefused, match="Invalid UID or PIN"):
        await service.place_call("+918867135000")


async def test_plain_text_refusal(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND, options={"uid": "sim-uid", "holdfile": "99"})
    with pytest.raises(CallRejected, match="Invalid Holdfile"):
        await service.place_call("+918867135000")


async def test_flows_and_recording_are_refused_up_front(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    with pytest.raises(UnsupportedOption, match="IVR flows"):
        await service.place_call("+918867135000", CallOptions(flow="220"))
    with pytest.raises(UnsupportedOption, match="recording"):
        await service.place_call("+918867135000", CallOptions(record=True))
    assert provider_requests(sim) == []


@pytest.mark.parametrize("by", ["call_id", "unique_id"])
async def test_report_after_the_call(
    sim: ProviderSimulator, make_service: MakeService, by: str
) -> None:
    service = await make_service(KIND)
    record = await service.place_call("+918867135000")
    assert record.provider_ref is not None
    await sim.wait_call_finished(record.provider_ref, timeout=5)
    provider = await service.provider_for(service.accounts.get())
    assert isinstance(provider, Click2CallV1Provider)
    key = record.provider_ref if by == "call_id" else record.id
    report = await provider.report(**{by: key})
    assert report is not None
    assert report.answered
    assert report.id == key
    lookup = next(r for r in provider_requests(sim) if r.path.endswith("report-click2call.php"))
    assert lookup.method == "GET"


async def test_unanswered_call_reports_zero(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    sim.config.outcomes["918867135000"] = Outcome.BUSY
    service = await make_service(KIND)
    record = await service.place_call("+918867135000")
    assert record.provider_ref is not None
    await sim.wait_call_finished(record.provider_ref, timeout=5)
    provider = await service.provider_for(service.accounts.get())
    assert isinstance(provider, Click2CallV1Provider)
    report = await provider.report(call_id=record.provider_ref)
    assert report is not None
    assert not report.answered


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("1231,23,45,12", V1Report("1231", 23, 45, "12")),
        ("1231, 23, 45, 12\n", V1Report("1231", 23, 45, "12")),
        (
            "Unique_ID, Duration of Number 1,Duration of Number 2,Credit_Used\n1231,23,45,12",
            V1Report("1231", 23, 45, "12"),
        ),
        ("abc-1,0,0,0", V1Report("abc-1", 0, 0, "0")),
        ("", None),
    ],
)
def test_report_parsing(body: str, expected: V1Report | None) -> None:
    assert parse_v1_report(body) == expected


@pytest.mark.parametrize("body", ["<html>error</html>", "1,2,3", "x,y,z,w"])
def test_report_parsing_refuses_other_bodies(body: str) -> None:
    with pytest.raises(ValueError):
        parse_v1_report(body)
