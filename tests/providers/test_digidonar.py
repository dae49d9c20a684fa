"""DigiDonar reverse click-to-call over loopback: GET query, national numbers, JSON type."""

from __future__ import annotations

import pytest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallOptions
from dialer.core.errors import (
    AuthenticationRefused,
    CallRejected,
    InvalidInput,
    UnsupportedOption,
)
from dialer.simulator import ProviderSimulator
from tests.providers.conftest import MakeService, provider_requests

KIND = ProviderKind.DIGIDONAR


async def test_wire_form(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND)
    record = await service.place_call("+91 88671 35000", CallOptions(max_seconds=60))
    [request] = provider_requests(sim)
    assert request.method == "GET"
    assert request.path == "/api_v2/click_to_call_v3"
    assert request.query == {
        "calling_party_a": "8867135000",  # the customer, rung first
        "calling_party_b": "9876543210",  # the agent (member number)
        "deskphone": "01204000000",
        "authcode": "sim-digidonar-authcode",
        "call_from_did": "1",
        "CallLimit": "60",  # seconds
    }
    assert request.body == b""  # nothing in a body: a GET's is never read
    assert record.provider_ref is not None
    assert record.provider_ref.isdigit()  # campid
    call = sim.calls[next(iter(sim.calls))]
    assert call.timeline[1][1] != "ringing-agent"  # the customer is rung first


async def test_the_accounts_campaign_or_the_calls_is_sent_in_the_query(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND, options={"campid": "9995"})
    first = await service.place_call("+91 88671 35000")
    second = await service.place_call("+91 88671 35001", CallOptions(campid="4242"))
    sent = provider_requests(sim)
    assert [r.query.get("campid") for r in sent] == ["9995", "4242"]
    assert [r.body for r in sent] == [b"", b""]
    assert [sim.calls[str(r.provider_ref)].extra["campaign"] for r in (first, second)] == [
        "9995",
        "4242",
    ]
    assert first.request["fields"]["campid"] == "9995"  # the call details show it


async def test_the_answers_desk_phone_is_kept_on_the_call(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    record = await service.place_call("+91 88671 35000")
    assert record.bridge == "01204000000"  # what was sent
    assert record.message == "Call to Customer Initiate Successfully.. (desk phone 1204000000)"
    assert service.history.get(record.id).message == record.message  # type: ignore[union-attr]


@pytest.mark.parametrize("campid", ["99a5", "-1", "9 995", "\u00b2", ""])
async def test_a_campaign_id_that_is_not_a_number_is_refused_before_sending(
    sim: ProviderSimulator, make_service: MakeService, campid: str
) -> None:
    service = await make_service(KIND)
    with pytest.raises(InvalidInput) as refused:
        await service.place_call("+918867135000", CallOptions(campid=campid))
    assert str(refused.value) == (
        f"The campaign id must be a whole number, for example 9995 (not '{campid}')"
    )
    assert provider_requests(sim) == []


async def test_a_campaign_id_is_refused_where_the_provider_has_none(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(ProviderKind.CLICK2CALL_V1)
    with pytest.raises(UnsupportedOption) as refused:
        await service.place_call("+918867135000", CallOptions(campid="9995"))
    assert str(refused.value) == "Click2Call v1 does not support a campaign id"
    assert provider_requests(sim) == []


async def test_auth_error_inside_200_html(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND, secret="wrong-code")
    with pytest.raises(AuthenticationRefused, match="Invalid Auth Code") as info:
        await service.place_call("+918867135000")
    assert "wrong-code" not in str(info.value)


async def test_parameter_error(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND, bridges=("0000",))
    with pytest.raises(CallRejected, match="Invalid Parameter value"):
        await service.place_call("+918867135000")


async def test_unsupported_options(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND)
    for options, fragment in [
        (CallOptions(flow="1"), "IVR flows"),
        (CallOptions(record=True), "recording"),
        (CallOptions(attempts=1), "redial"),
    ]:
        with pytest.raises(UnsupportedOption, match=fragment):
            await service.place_call("+918867135000", options)
    assert provider_requests(sim) == []


async def test_sip_contact_refused(sim: ProviderSimulator, make_service: MakeService) -> None:
    from dialer.core.errors import InvalidNumber

    service = await make_service(KIND)
    with pytest.raises(InvalidNumber, match="phone numbers only"):
        await service.place_call("sip:1001@pbx.example.com")
    assert provider_requests(sim) == []
