"""Kazoo Crossbar over loopback: auth, clicktocall CRUD, connect, history, envelopes."""

from __future__ import annotations

import hashlib

import pytest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallOptions
from dialer.core.errors import AuthenticationRefused, CallRejected, InvalidInput
from dialer.providers.kazoo import KazooProvider, unix_from_gregorian
from dialer.simulator import Fault, ProviderSimulator
from tests.providers.conftest import MakeService, provider_requests

KIND = ProviderKind.KAZOO
ACCOUNT = "sim0kazoo0account0000000000000001"
BASE = f"/v2/accounts/{ACCOUNT}/clicktocall"


async def provider_of(service: object) -> KazooProvider:
    from dialer.app.service import CallService

    assert isinstance(service, CallService)
    provider = await service.provider_for(service.accounts.get())
    assert isinstance(provider, KazooProvider)
    return provider


async def test_first_call_creates_the_agents_clicktocall(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    record = await service.place_call("+91 88671 35000")
    auth, listing, create, connect = provider_requests(sim)
    assert (auth.method, auth.path) == ("PUT", "/v2/api_auth")
    assert auth.json == {"data": {"api_key": "sim-kazoo-api-key"}}
    assert (listing.method, listing.path) == ("GET", BASE)
    assert (create.method, create.path) == ("PUT", BASE)
    assert create.json == {
        "data": {"name": "Dialer 919876543210", "extension": "919876543210", "auth_required": True}
    }
    assert connect.method == "POST"
    assert connect.path.startswith(BASE + "/")
    assert connect.path.endswith("/connect")
    assert connect.json == {"data": {"contact": "918867135000"}}  # digits, never "+"
    token = connect.headers["x-auth-token"]
    assert token
    assert token != "sim-kazoo-api-key"
    assert record.provider_ref is not None
    assert record.provider_ref.startswith("c2c-")


async def test_second_call_reuses_token_and_clicktocall(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    await service.place_call("+918867135000")
    sim.clear_requests()
    await service.place_call("+918867135001")
    [connect] = provider_requests(sim)
    assert connect.path.endswith("/connect")


async def test_existing_clicktocall_with_the_agents_extension_is_used(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    provider = await provider_of(service)
    made = await provider.create_clicktocall({"name": "Desk 7", "extension": "919876543210"})
    sim.clear_requests()
    await service.place_call("+918867135000")
    methods = [(r.method, r.path) for r in provider_requests(sim)]
    assert ("PUT", BASE) not in methods
    assert methods[-1] == ("POST", f"{BASE}/{made['id']}/connect")


@pytest.mark.parametrize("by", ["id", "name"])
async def test_bridge_names_the_clicktocall(
    sim: ProviderSimulator, make_service: MakeService, by: str
) -> None:
    service = await make_service(KIND)
    provider = await provider_of(service)
    made = await provider.create_clicktocall({"name": "Sales line", "extension": "1001"})
    await service.place_call("+918867135000", CallOptions(bridge=made[by]))
    assert provider_requests(sim)[-1].path == f"{BASE}/{made['id']}/connect"


async def test_unknown_bridge_is_refused(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND)
    with pytest.raises(InvalidInput, match=r"has no Kazoo clicktocall with id or name .nope."):
        await service.place_call("+918867135000", CallOptions(bridge="nope"))
    assert not any(r.path.endswith("/connect") for r in provider_requests(sim))


async def test_sip_contact(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND)
    await service.place_call("sip:1001@pbx.example.com")
    assert provider_requests(sim)[-1].json == {"data": {"contact": "sip:1001@pbx.example.com"}}


async def test_user_password_login(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(
        KIND,
        secret="sim-kazoo-password",
        options={
            "kazoo_account": ACCOUNT,
            "kazoo_user": "Agent",
            "kazoo_account_name": "simcorp",
        },
    )
    await service.place_call("+918867135000")
    auth = provider_requests(sim)[0]
    assert (auth.method, auth.path) == ("PUT", "/v2/user_auth")
    expected = hashlib.md5(b"agent:sim-kazoo-password", usedforsecurity=False).hexdigest()
    assert auth.json == {
        "data": {"credentials": expected, "account_name": "simcorp", "method": "md5"}
    }


async def test_bad_api_key(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND, secret="wrong-key")
    with pytest.raises(AuthenticationRefused, match="invalid") as info:
        await service.place_call("+918867135000")
    assert "wrong-key" not in str(info.value)


async def test_a_failure_inside_a_200_at_login_is_not_called_a_credentials_refusal(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    sim.inject(Fault.failure_in_200())  # Kazoo's "no resources", in both its fields
    with pytest.raises(CallRejected) as info:
        await service.place_call("+918867135000")
    message = str(info.value)
    assert message == "Kazoo could not log in (HTTP 200, status error): no resources"
    assert not isinstance(info.value, AuthenticationRefused)
    assert provider_requests(sim)[-1].path.endswith("/api_auth")  # the login, nothing after


async def test_expired_token_is_renewed_once(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    await service.place_call("+918867135000")
    sim.expire_kazoo_tokens()
    sim.clear_requests()
    await service.place_call("+918867135000")
    steps = [(r.method, r.path.rsplit("/", 1)[-1]) for r in provider_requests(sim)]
    assert steps == [("POST", "connect"), ("PUT", "api_auth"), ("POST", "connect")]


async def test_v1_api_path(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND, options={"kazoo_account": ACCOUNT, "kazoo_api": "v1"})
    await service.place_call("+918867135000")
    assert all(r.path.startswith("/v1/") for r in provider_requests(sim))


async def test_crud_and_validation_errors(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    provider = await provider_of(service)
    made = await provider.create_clicktocall({"name": "A", "extension": "1001"})
    assert made["auth_required"] is True
    assert (await provider.get_clicktocall(made["id"]))["name"] == "A"
    updated = await provider.update_clicktocall(made["id"], {"name": "B", "extension": "1002"})
    assert updated["extension"] == "1002"
    with pytest.raises(CallRejected) as info:
        await provider.create_clicktocall({"extension": "1003"})
    assert "name" in info.value.details
    await provider.delete_clicktocall(made["id"])
    assert made["id"] not in {item["id"] for item in await provider.list_clicktocalls()}


async def test_listing_follows_every_page(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    sim.config.kazoo_page_size = 2
    service = await make_service(KIND)
    provider = await provider_of(service)
    for n in range(5):
        await provider.create_clicktocall({"name": f"L{n}", "extension": f"10{n}"})
    sim.clear_requests()
    items = await provider.list_clicktocalls()
    assert sorted(i["name"] for i in items) == [f"L{n}" for n in range(5)]
    pages = provider_requests(sim)
    assert len(pages) == 3
    assert "start_key" not in pages[0].query
    assert all("start_key" in p.query for p in pages[1:])


@pytest.mark.parametrize("shape", ["document", "upstream"])
async def test_history_of_finished_calls(
    sim: ProviderSimulator, make_service: MakeService, shape: str
) -> None:
    sim.config.kazoo_page_size = 2
    sim.config.kazoo_history_shape = shape
    service = await make_service(KIND)
    records = [await service.place_call(f"+91886713500{n}") for n in range(3)]
    for record in records:
        assert record.provider_ref is not None
    for call in list(sim.calls.values()):
        await sim.wait_call_finished(call.id, timeout=5)
    provider = await provider_of(service)
    [c2c] = await provider.list_clicktocalls()
    history = await provider.history(c2c["id"])
    assert len(history) == 3
    assert {h["contact"] for h in history} == {f"91886713500{n}" for n in range(3)}
    assert all(unix_from_gregorian(h["timestamp"]) > 1.7e9 for h in history)
    if shape == "upstream":
        assert all(h["result"] == "success" for h in history)
        return
    # Seed 003's item: contact, timestamp, call_id, cdr_id; the outcome is in the CDR.
    assert all(set(h) == {"contact", "timestamp", "call_id", "cdr_id"} for h in history)
    cdrs = [await provider.cdr(h["cdr_id"]) for h in history]
    assert all(
        cdr is not None and cdr["call_id"] == h["call_id"]
        for cdr, h in zip(cdrs, history, strict=True)
    )
    assert all(cdr and int(cdr["billing_seconds"]) >= 0 for cdr in cdrs)
    assert {cdr["hangup_cause"] for cdr in cdrs if cdr} == {"NORMAL_CLEARING"}


async def test_list_bridges_are_clicktocalls(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    provider = await provider_of(service)
    made = await provider.create_clicktocall({"name": "Sales", "extension": "1001"})
    bridges = await provider.list_bridges()
    # The default first (the agent's own clicktocall), so another's is never picked by
    # being listed first.
    assert [(b.id, b.number) for b in bridges] == [("", None), (made["id"], "1001")]
    assert bridges[0].label == "Mine (for my extension)"
    assert "Sales" in bridges[1].label


async def test_concurrent_first_calls_log_in_once(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    import asyncio

    service = await make_service(KIND)
    provider = await provider_of(service)
    await provider.create_clicktocall({"name": "Desk", "extension": "919876543210"})
    sim.expire_kazoo_tokens()
    provider._token = None
    sim.clear_requests()
    # Five different customers: the same one twice at once is refused as a double click.
    await asyncio.gather(*(service.place_call(f"+91886713500{n}") for n in range(5)))
    logins = [r for r in provider_requests(sim) if r.path.endswith("api_auth")]
    assert len(logins) == 1
