"""Managing Kazoo clicktocalls (seed 003) over loopback: every documented property checked
before sending, edits that keep what was not changed, and edits that would undo someone
else's refused; the account's "clicktocall to use" and the clicktocalls it makes."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallOptions
from dialer.core.errors import InvalidInput
from dialer.providers.kazoo import KazooProvider
from dialer.providers.kazoo_clicktocall import ClicktocallChanged, changes_between, checked
from dialer.simulator import ProviderSimulator
from tests.providers.conftest import MakeService, provider_requests

KIND = ProviderKind.KAZOO
ACCOUNT = "sim0kazoo0account0000000000000001"
BASE = f"/v2/accounts/{ACCOUNT}/clicktocall"


async def kazoo(make_service: MakeService, **options: str) -> KazooProvider:
    service = await make_service(KIND, options={"kazoo_account": ACCOUNT, **options})
    provider = await service.provider_for(service.accounts.get())
    assert isinstance(provider, KazooProvider)
    return provider


@pytest.mark.parametrize(
    ("values", "sentence"),
    [
        ({"extension": "1001"}, "A clicktocall needs a name (--name)"),
        ({"name": "Sales"}, "A clicktocall needs an extension (--extension)"),
        ({"name": " ", "extension": "1001"}, "The name must not be empty"),
        ({"name": "Sales", "extension": None}, "A clicktocall needs an extension"),
        (
            {"name": "x" * 129, "extension": "1001"},
            "The name must be at most 128 characters (it has",
        ),
        ({"name": "Sales", "extension": "10 01"}, "'10 01' is not an extension Kazoo can call"),
        ({"name": "S", "extension": "1001", "realm": "pbx"}, "'pbx' is not a realm"),
        ({"name": "S", "extension": "1001", "realm": "a..b"}, "'a..b' is not a realm"),
        (
            {"name": "S", "extension": "1001", "realm": "pbx"},
            "give a domain name (pbx.example.com) or an IP address",
        ),
        (
            {"name": "Sales ", "extension": "1001"},
            "The name has spaces around it or a line break in it: remove them",
        ),
        ({"name": "S", "extension": "1001", "throttle": -1}, "The throttle must be 0 or more"),
        (
            {"name": "S", "extension": "1001", "throttle": "2"},
            "The throttle must be a whole number",
        ),
        (
            {"name": "S", "extension": "1001", "auth_required": "yes"},
            "'Requires a login' must be yes or no",
        ),
        (
            {"name": "S", "extension": "1001", "whitelist": ["^91", "(+91"]},
            "Whitelist entry 2: '(+91' is not a regular expression (",
        ),
        (
            {"name": "S", "extension": "1001", "whitelist": [""]},
            "Whitelist entry 1 is empty: fill it in or remove it",
        ),
        (
            {"name": "S", "extension": "1001", "caller_id_number": ""},
            "The caller id number (to the extension) must not be empty",
        ),
        ({"name": "S", "extension": "1001", "history_items": 3}, "set by Kazoo"),
    ],
)
async def test_a_clicktocall_the_server_would_refuse_is_refused_before_sending(
    sim: ProviderSimulator, make_service: MakeService, values: dict[str, Any], sentence: str
) -> None:
    provider = await kazoo(make_service)
    sim.clear_requests()
    with pytest.raises(InvalidInput) as info:
        await provider.add_clicktocall(values)
    assert sentence in str(info.value)
    assert provider_requests(sim) == []


@pytest.mark.parametrize(
    "extension", ["1001", "+918067000000", "sip:1001@pbx.example.com", "agent.7", "*97"]
)
def test_every_documented_form_of_extension_is_taken(extension: str) -> None:
    checked({"name": "Desk", "extension": extension}, creating=True)


@pytest.mark.parametrize("realm", ["pbx.example.com", "10.0.0.7", "2001:db8::1", "a.b."])
def test_a_realm_is_a_domain_name_or_an_ip(realm: str) -> None:
    checked({"realm": realm}, creating=False)


async def test_every_documented_property_goes_on_the_wire_as_given(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    provider = await kazoo(make_service)
    values = {
        "name": "Sales line",
        "extension": "sip:1001@pbx.example.com",
        "realm": "pbx.example.com",
        "auth_required": False,
        "whitelist": ["^91", "^44"],
        "throttle": 3,
        "caller_id_number": "918067000001",
        "outbound_callee_id_name": "Kaveri Textiles",
        "outbound_callee_id_number": "918067000000",
    }
    sim.clear_requests()
    made = await provider.add_clicktocall(values)
    [create] = [r for r in provider_requests(sim) if r.path == BASE]
    assert (create.method, create.path, create.json) == ("PUT", BASE, {"data": values})
    read = await provider.get_clicktocall(made["id"])
    assert {key: read[key] for key in values} == values
    assert read["history_items"] == 0  # documented as returned, not modifiable


async def test_an_edit_sends_the_whole_object_with_only_the_change_made(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    provider = await kazoo(make_service)
    # Properties this app does not edit (timeout, custom_application_vars) must survive:
    # Kazoo's POST replaces the object.
    made = await provider.create_clicktocall(
        {
            "name": "Sales",
            "extension": "1001",
            "realm": "pbx.example.com",
            "whitelist": ["^91"],
            "timeout": 45,
            "custom_application_vars": {"team": "north"},
        }
    )
    seen, revision = await provider.read_clicktocall(made["id"])
    assert revision is not None
    sim.clear_requests()
    edited = await provider.edit_clicktocall(
        made["id"], {"name": "Sales north", "realm": None, "whitelist": []}, seen=seen
    )
    fetch, post = provider_requests(sim)
    assert (fetch.method, post.method) == ("GET", "POST")
    assert post.headers["if-match"] == f'"{revision}"'
    assert post.json == {
        "data": {
            "name": "Sales north",
            "extension": "1001",
            "whitelist": [],
            "timeout": 45,
            "custom_application_vars": {"team": "north"},
            "auth_required": True,
        }
    }
    assert "realm" not in edited
    assert edited["timeout"] == 45


async def test_an_edit_of_an_object_changed_since_it_was_opened_is_refused(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    provider = await kazoo(make_service)
    made = await provider.create_clicktocall({"name": "Sales", "extension": "1001"})
    seen = await provider.get_clicktocall(made["id"])
    sim.kazoo.write_as_someone_else(made["id"], {"extension": "1002"})
    sim.clear_requests()
    with pytest.raises(ClicktocallChanged) as info:
        await provider.edit_clicktocall(made["id"], {"name": "Mine"}, seen=seen)
    assert str(info.value) == (
        "Clicktocall 'Sales' was changed on the server after you opened it, so your edit "
        "was not saved: open it again to see the change, then make yours"
    )
    assert [r.method for r in provider_requests(sim)] == ["GET"]  # nothing written
    assert sim.kazoo.clicktocalls[made["id"]]["extension"] == "1002"


async def test_a_write_landing_between_the_read_and_the_edit_is_not_overwritten(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    provider = await kazoo(make_service)
    made = await provider.create_clicktocall({"name": "Sales", "extension": "1001"})

    def someone_else_first(c2c_id: str) -> None:
        sim.kazoo.before_write = None
        sim.kazoo.write_as_someone_else(c2c_id, {"name": "Theirs"})

    sim.kazoo.before_write = someone_else_first
    with pytest.raises(ClicktocallChanged):
        await provider.edit_clicktocall(made["id"], {"throttle": 2})
    assert sim.kazoo.clicktocalls[made["id"]]["name"] == "Theirs"
    assert "throttle" not in sim.kazoo.clicktocalls[made["id"]]


def test_what_an_edit_changed() -> None:
    before = {"id": "x", "name": "A", "extension": "1", "realm": "r.example", "history_items": 4}
    after = {"id": "x", "name": "B", "extension": "1", "history_items": 5}
    assert changes_between(before, after) == {"name": "B", "realm": None}


async def test_a_name_two_clicktocalls_share_asks_for_the_id(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    provider = await kazoo(make_service)
    one = await provider.create_clicktocall({"name": "Desk", "extension": "1001"})
    two = await provider.create_clicktocall({"name": "Desk", "extension": "1002"})
    with pytest.raises(InvalidInput) as info:
        await provider.find_clicktocall("Desk")
    assert str(info.value).startswith(
        "2 clicktocalls of account 'Demo Kazoo' are named 'Desk': give the id of the one you mean"
    )
    assert one["id"] in str(info.value) and two["id"] in str(info.value)
    assert (await provider.find_clicktocall(two["id"]))["extension"] == "1002"


async def test_the_accounts_clicktocall_to_use_is_the_default_and_rings_its_extension(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    setup = await kazoo(make_service)
    other = await setup.create_clicktocall({"name": "Priya's desk", "extension": "1007"})
    service = await make_service(
        KIND, options={"kazoo_account": ACCOUNT, "kazoo_clicktocall": "Priya's desk"}
    )
    sim.clear_requests()
    record = await service.place_call("+918867135000")
    assert provider_requests(sim)[-1].path == f"{BASE}/{other['id']}/connect"
    # The phone that rings first is the clicktocall's extension, not the account's agent.
    assert record.agent == "1007"
    # --bridge still chooses another for one call.
    mine = await setup.create_clicktocall({"name": "Mine", "extension": "919876543210"})
    record = await service.place_call("+918867135001", CallOptions(bridge="Mine"))
    assert provider_requests(sim)[-1].path == f"{BASE}/{mine['id']}/connect"
    assert record.agent == "+919876543210"


@pytest.mark.parametrize(
    ("setting", "required"), [({}, True), ({"kazoo_auth_required": "no"}, False)]
)
async def test_a_clicktocall_made_for_the_agent_follows_the_accounts_login_setting(
    sim: ProviderSimulator, make_service: MakeService, setting: dict[str, str], required: bool
) -> None:
    service = await make_service(KIND, options={"kazoo_account": ACCOUNT, **setting})
    record = await service.place_call("+918867135000")
    [create] = [r for r in provider_requests(sim) if r.method == "PUT" and r.path == BASE]
    # Nothing of the account is slipped in as a caller id: name, extension and the login.
    assert create.json == {
        "data": {
            "name": "Dialer 919876543210",
            "extension": "919876543210",
            "auth_required": required,
        }
    }
    login = "needs a login" if required else "needs no login"
    assert record.message.startswith(
        f"Created clicktocall 'Dialer 919876543210' (id {create_id(sim)}, {login}) for "
        "extension 919876543210. Connecting through clicktocall"
    )


def create_id(sim: ProviderSimulator) -> str:
    [c2c_id] = sim.kazoo.clicktocalls
    return c2c_id


async def test_history_pages_newest_first(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    provider = await kazoo(make_service)
    made = await provider.create_clicktocall({"name": "Desk", "extension": "919876543210"})
    service = await make_service(KIND, options={"kazoo_account": ACCOUNT})
    for n in range(3):
        record = await service.place_call(f"+91886713500{n}", CallOptions(bridge=made["id"]))
        assert record.provider_ref is not None
        await sim.wait_call_finished(record.provider_ref)
    first, following = await provider.history_page(made["id"], page_size=2)
    assert [item["contact"] for item in first] == ["918867135002", "918867135001"]
    assert following is not None
    second, last = await provider.history_page(made["id"], start_key=following, page_size=2)
    assert [item["contact"] for item in second] == ["918867135000"]
    assert last is None


async def test_a_connection_test_says_when_the_clicktocall_to_use_does_not_exist(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    provider = await kazoo(make_service, kazoo_clicktocall="Gone desk")
    await provider.create_clicktocall({"name": "Desk", "extension": "1001"})
    with pytest.raises(InvalidInput) as info:
        await provider.test_connection()
    assert str(info.value) == (
        "Kazoo accepted the credentials, but the account has no clicktocall with the id or "
        "name 'Gone desk' (it has 1 clicktocall): choose another clicktocall to use, or leave "
        "it empty to use the agent's own"
    )
    fine = await kazoo(make_service, kazoo_clicktocall="Desk")
    assert await fine.test_connection() == (
        "Kazoo accepted the credentials; the account has 1 clicktocall"
    )
