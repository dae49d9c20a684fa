"""Kazoo Crossbar: auth tokens, clicktocall CRUD, connect, history, pagination, envelopes."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import httpx
import pytest

from dialer.core.accounts import ProviderKind
from dialer.simulator import Outcome, ProviderSimulator
from tests.simulator.conftest import CUSTOMER

KIND = ProviderKind.KAZOO
ACCOUNT = "sim0kazoo0account0000000000000001"
GREGORIAN_OFFSET = 62167219200
ENVELOPE_KEYS = {"auth_token", "data", "status", "request_id", "revision", "timestamp", "version"}


def base(sim: ProviderSimulator, version: str = "v2") -> str:
    return f"{sim.account_url(KIND)}{version}/"


def c2c_url(sim: ProviderSimulator, *parts: str, version: str = "v2") -> str:
    return base(sim, version) + "/".join(["accounts", ACCOUNT, "clicktocall", *parts])


def cdr_url(sim: ProviderSimulator, cdr_id: str) -> str:
    return base(sim) + f"accounts/{ACCOUNT}/cdrs/{cdr_id}"


async def login(sim: ProviderSimulator, client: httpx.AsyncClient, version: str = "v2") -> str:
    answer = await client.put(
        base(sim, version) + "api_auth", json={"data": {"api_key": "sim-kazoo-api-key"}}
    )
    assert answer.status_code == 201, answer.text
    token = answer.json()["auth_token"]
    assert isinstance(token, str)
    return token


async def create(
    sim: ProviderSimulator, client: httpx.AsyncClient, token: str, **fields: object
) -> dict[str, object]:
    data: dict[str, object] = {"name": "Sales", "extension": "1001", **fields}
    answer = await client.put(c2c_url(sim), json={"data": data}, headers={"X-Auth-Token": token})
    assert answer.status_code == 201, answer.text
    doc = answer.json()["data"]
    assert isinstance(doc, dict)
    return doc


async def test_api_auth(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    answer = await client.put(
        base(sim) + "api_auth", json={"data": {"api_key": "sim-kazoo-api-key"}}
    )
    assert answer.status_code == 201
    envelope = answer.json()
    assert set(envelope) >= ENVELOPE_KEYS
    assert envelope["status"] == "success"
    assert envelope["version"] == "4.3.1"
    assert envelope["data"]["account_id"] == ACCOUNT
    assert envelope["auth_token"]


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_bad_api_key(sim: ProviderSimulator, client: httpx.AsyncClient, version: str) -> None:
    answer = await client.put(base(sim, version) + "api_auth", json={"data": {"api_key": "nope"}})
    assert answer.status_code == 401
    envelope = answer.json()
    assert envelope["status"] == "error"
    assert envelope["error"] == "401"  # a string, as Kazoo sends it
    assert envelope["message"] == "invalid_credentials"
    assert envelope["data"] == {"message": "invalid credentials"}


@pytest.mark.parametrize(
    ("user", "method", "digest"),
    [("agent", "md5", hashlib.md5), ("AGENT", "md5", hashlib.md5), ("agent", "sha", hashlib.sha1)],
)
async def test_user_auth(
    sim: ProviderSimulator,
    client: httpx.AsyncClient,
    user: str,
    method: str,
    digest: object,
) -> None:
    assert callable(digest)
    credentials = digest(
        f"{user.lower()}:sim-kazoo-password".encode(), usedforsecurity=False
    ).hexdigest()
    answer = await client.put(
        base(sim) + "user_auth",
        json={"data": {"credentials": credentials, "account_name": "simcorp", "method": method}},
    )
    assert answer.status_code == 201, answer.text
    token = answer.json()["auth_token"]
    listing = await client.get(c2c_url(sim), headers={"X-Auth-Token": token})
    assert listing.status_code == 200


async def test_user_auth_refusals(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    wrong = hashlib.md5(b"agent:wrong", usedforsecurity=False).hexdigest()
    answer = await client.put(
        base(sim) + "user_auth",
        json={"data": {"credentials": wrong, "account_name": "simcorp", "method": "md5"}},
    )
    assert answer.status_code == 401
    # The user name is lower-cased before hashing, so a hash of "AGENT:..." is refused.
    upper = hashlib.md5(b"AGENT:sim-kazoo-password", usedforsecurity=False).hexdigest()
    answer = await client.put(
        base(sim) + "user_auth",
        json={"data": {"credentials": upper, "account_name": "simcorp", "method": "md5"}},
    )
    assert answer.status_code == 401
    missing = await client.put(base(sim) + "user_auth", json={"data": {"account_name": "simcorp"}})
    assert missing.status_code == 400
    assert missing.json()["data"]["credentials"]["required"]["message"]


async def test_token_required_and_expiry(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    assert (await client.get(c2c_url(sim))).status_code == 401
    bogus = await client.get(c2c_url(sim), headers={"X-Auth-Token": "made-up"})
    assert bogus.status_code == 401
    assert bogus.json()["message"] == "invalid_credentials"
    token = await login(sim, client)
    assert (await client.get(c2c_url(sim), headers={"X-Auth-Token": token})).status_code == 200
    sim.expire_kazoo_tokens()
    expired = await client.get(c2c_url(sim), headers={"X-Auth-Token": token})
    assert expired.status_code == 401
    fresh = await login(sim, client)
    assert fresh != token
    assert (await client.get(c2c_url(sim), headers={"X-Auth-Token": fresh})).status_code == 200


async def test_token_auth_check_and_revoke(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    token = await login(sim, client)
    check = await client.get(base(sim) + "token_auth", headers={"X-Auth-Token": token})
    assert check.status_code == 200
    assert check.json()["data"]["account_id"] == ACCOUNT
    revoke = await client.delete(base(sim) + "token_auth", headers={"X-Auth-Token": token})
    assert revoke.status_code == 200
    again = await client.get(base(sim) + "token_auth", headers={"X-Auth-Token": token})
    assert again.status_code == 401


async def test_wrong_account_is_bad_identifier(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    token = await login(sim, client)
    answer = await client.get(
        base(sim) + "accounts/0000000000000000000000000000dead/clicktocall",
        headers={"X-Auth-Token": token},
    )
    assert answer.status_code == 404
    envelope = answer.json()
    assert (envelope["status"], envelope["error"]) == ("error", "404")
    assert envelope["data"]["message"] == "bad identifier"


async def test_crud(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    token = await login(sim, client)
    headers = {"X-Auth-Token": token}
    doc = await create(sim, client, token)
    assert re.fullmatch(r"[0-9a-f]{32}", str(doc["id"]))
    assert doc["auth_required"] is True  # upstream 4.3's default, not the seed's
    assert doc["custom_application_vars"] == {}
    c2c_id = str(doc["id"])
    fetched = await client.get(c2c_url(sim, c2c_id), headers=headers)
    assert fetched.json()["data"] == doc
    updated = await client.post(
        c2c_url(sim, c2c_id),
        json={"data": {"name": "Support", "extension": "1002"}},
        headers=headers,
    )
    assert updated.status_code == 200
    assert updated.json()["data"]["extension"] == "1002"
    listing = await client.get(c2c_url(sim), headers=headers)
    assert listing.json()["data"] == [{"id": c2c_id, "name": "Support", "extension": "1002"}]
    patched = await client.patch(
        c2c_url(sim, c2c_id), json={"data": {"extension": "1003"}}, headers=headers
    )
    assert patched.json()["data"]["name"] == "Support"
    deleted = await client.delete(c2c_url(sim, c2c_id), headers=headers)
    assert deleted.status_code == 200
    gone = await client.get(c2c_url(sim, c2c_id), headers=headers)
    assert gone.status_code == 404
    assert gone.json()["message"] == "bad_identifier"


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"extension": "1001"}, "name", "required"),
        ({"name": "Sales"}, "extension", "required"),
        ({"name": "", "extension": "1001"}, "name", "minLength"),
        ({"name": "x" * 129, "extension": "1001"}, "name", "maxLength"),
        ({"name": "Sales", "extension": 1001}, "extension", "type"),
        ({"name": "Sales", "extension": "1001", "auth_required": "no"}, "auth_required", "type"),
    ],
)
async def test_create_validation(
    sim: ProviderSimulator,
    client: httpx.AsyncClient,
    data: dict[str, object],
    field: str,
    code: str,
) -> None:
    token = await login(sim, client)
    answer = await client.put(c2c_url(sim), json={"data": data}, headers={"X-Auth-Token": token})
    assert answer.status_code == 400
    envelope = answer.json()
    assert (envelope["status"], envelope["error"]) == ("error", "400")
    assert envelope["message"] == "validation failed"
    assert isinstance(envelope["data"][field][code]["message"], str)
    if code == "required":
        assert envelope["data"][field][code]["message"] == "Field is required but missing"


async def test_v1_validation_errors_are_strings(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    token = await login(sim, client, "v1")
    answer = await client.put(
        c2c_url(sim, version="v1"),
        json={"data": {"name": "Sales"}},
        headers={"X-Auth-Token": token},
    )
    assert answer.status_code == 400
    assert answer.json()["data"]["extension"]["required"] == "Field is required but missing"


async def test_list_pagination(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    token = await login(sim, client)
    headers = {"X-Auth-Token": token}
    made = {str((await create(sim, client, token, name=f"Line {n}"))["id"]) for n in range(5)}
    seen: list[str] = []
    pages = 0
    page_url = c2c_url(sim) + "?page_size=2"
    while True:
        answer = await client.get(page_url, headers=headers)
        envelope = answer.json()
        pages += 1
        assert envelope["page_size"] == len(envelope["data"])
        seen += [item["id"] for item in envelope["data"]]
        key = envelope.get("next_start_key")
        if key is None:
            break
        assert re.fullmatch(r"[A-Za-z0-9_-]+", key)  # url-safe base64, no padding
        base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        page_url = c2c_url(sim) + f"?page_size=2&start_key={key}"
    assert pages == 3
    assert len(seen) == 5
    assert set(seen) == made
    # The configured default page size applies without ?page_size=.
    sim.config.kazoo_page_size = 4
    first = (await client.get(c2c_url(sim), headers=headers)).json()
    assert len(first["data"]) == 4
    assert "next_start_key" in first
    # v1 has no pagination at all.
    v1 = (await client.get(c2c_url(sim, version="v1"), headers=headers)).json()
    assert len(v1["data"]) == 5
    assert "next_start_key" not in v1


async def test_bad_start_key(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    token = await login(sim, client)
    answer = await client.get(c2c_url(sim) + "?start_key=!!", headers={"X-Auth-Token": token})
    assert answer.status_code == 400


async def test_connect_success(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    token = await login(sim, client)
    doc = await create(sim, client, token)
    answer = await client.post(
        c2c_url(sim, str(doc["id"]), "connect"),
        json={"data": {"contact": CUSTOMER}},
        headers={"X-Auth-Token": token},
    )
    assert answer.status_code == 200
    envelope = answer.json()
    assert envelope["status"] == "success"
    data = envelope["data"]
    assert data["application_name"] == "transfer"
    assert data["application_data"]["route"] == CUSTOMER
    assert data["endpoints"][0]["route"] == "1001"
    call_id = data["outbound_call_id"]
    assert re.fullmatch(rf"c2c-{doc['id']}-[0-9a-f]+", call_id)
    call = await sim.wait_call_finished(call_id)
    assert (call.agent, call.customer) == ("1001", CUSTOMER)
    states = [state for _, state in call.timeline]
    assert states.index("ringing-agent") < states.index("ringing-customer")
    assert call.state == "completed"


@pytest.mark.parametrize("how", ["query", "top-level", "get"])
async def test_connect_contact_sources(
    sim: ProviderSimulator, client: httpx.AsyncClient, how: str
) -> None:
    token = await login(sim, client)
    doc = await create(sim, client, token)
    connect = c2c_url(sim, str(doc["id"]), "connect")
    headers = {"X-Auth-Token": token}
    if how == "query":
        answer = await client.post(connect, params={"contact": CUSTOMER}, headers=headers)
    elif how == "top-level":
        answer = await client.post(connect, json={"contact": CUSTOMER}, headers=headers)
    else:
        answer = await client.get(connect, params={"contact": CUSTOMER}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert sim.calls[answer.json()["data"]["outbound_call_id"]].customer == CUSTOMER


async def test_connect_without_contact(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    token = await login(sim, client)
    doc = await create(sim, client, token)
    answer = await client.post(
        c2c_url(sim, str(doc["id"]), "connect"), json={"data": {}}, headers={"X-Auth-Token": token}
    )
    assert answer.status_code == 400
    envelope = answer.json()
    assert envelope["message"] == "validation error"
    assert envelope["data"]["contact"]["required"]["message"]
    assert sim.calls == {}


@pytest.mark.parametrize("contact", ["+918867135000", "%2B918867135000"])
async def test_plus_contact_fails_to_route(
    sim: ProviderSimulator, client: httpx.AsyncClient, contact: str
) -> None:
    sim.config.kazoo_history_shape = "upstream"
    token = await login(sim, client)
    doc = await create(sim, client, token)
    headers = {"X-Auth-Token": token}
    answer = await client.post(
        c2c_url(sim, str(doc["id"]), "connect"),
        json={"data": {"contact": contact}},
        headers=headers,
    )
    assert answer.status_code == 200  # accepted: the failure only shows afterwards
    call = await sim.wait_call_finished(answer.json()["data"]["outbound_call_id"])
    assert call.state == "failed"
    assert call.cause == "NO_ROUTE_DESTINATION"
    history = (await client.get(c2c_url(sim, str(doc["id"]), "history"), headers=headers)).json()
    item = history["data"][0]
    assert (item["result"], item["cause"], item["contact"]) == (
        "error",
        "NO_ROUTE_DESTINATION",
        contact,
    )


async def test_sip_contact_and_public_clicktocall(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    token = await login(sim, client)
    doc = await create(sim, client, token, auth_required=False)
    answer = await client.post(  # no token: auth_required is false
        c2c_url(sim, str(doc["id"]), "connect"), json={"data": {"contact": "sip:bob@example.com"}}
    )
    assert answer.status_code == 200, answer.text
    private = await create(sim, client, token)
    refused = await client.post(
        c2c_url(sim, str(private["id"]), "connect"), json={"data": {"contact": CUSTOMER}}
    )
    assert refused.status_code == 401


async def test_whitelist(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    token = await login(sim, client)
    doc = await create(sim, client, token, whitelist=["^91"])
    headers = {"X-Auth-Token": token}
    connect = c2c_url(sim, str(doc["id"]), "connect")
    refused = await client.post(connect, json={"data": {"contact": "15551234567"}}, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["message"] == "Contact doesn't match whitelist"
    ok = await client.post(connect, json={"data": {"contact": CUSTOMER}}, headers=headers)
    assert ok.status_code == 200


@pytest.mark.parametrize("shape", ["document", "upstream"])
async def test_history(sim: ProviderSimulator, client: httpx.AsyncClient, shape: str) -> None:
    sim.config.kazoo_history_shape = shape
    token = await login(sim, client)
    headers = {"X-Auth-Token": token}
    doc = await create(sim, client, token)
    connect = c2c_url(sim, str(doc["id"]), "connect")
    sim.set_outcome("918867135001", Outcome.BUSY)
    sim.set_outcome("918867135002", Outcome.NO_ANSWER)
    contacts = ["918867135000", "918867135001", "918867135002"]
    for contact in contacts:
        answer = await client.post(connect, json={"data": {"contact": contact}}, headers=headers)
        await sim.wait_call_finished(answer.json()["data"]["outbound_call_id"])
    history_url = c2c_url(sim, str(doc["id"]), "history")
    items = (await client.get(history_url, headers=headers)).json()["data"]
    assert [item["contact"] for item in items] == contacts[::-1]  # newest first
    now = time.time() + GREGORIAN_OFFSET
    for item in items:
        assert abs(item["timestamp"] - now) < 60  # Gregorian seconds
        assert item["call_id"].startswith(f"c2c-{doc['id']}-")
    if shape == "upstream":
        assert [item["result"] for item in items] == ["error", "error", "success"]
        assert [item.get("cause") for item in items] == ["NO_ANSWER", "USER_BUSY", None]
    else:
        # Seed 003's items, each naming the CDR of its leg, which says how the call ended.
        assert all(set(item) == {"contact", "timestamp", "call_id", "cdr_id"} for item in items)
        cdrs = [
            (await client.get(cdr_url(sim, item["cdr_id"]), headers=headers)).json()["data"]
            for item in items
        ]
        assert [cdr["hangup_cause"] for cdr in cdrs] == [
            "NO_ANSWER",
            "USER_BUSY",
            "NORMAL_CLEARING",
        ]
        assert [int(cdr["billing_seconds"]) > 0 for cdr in cdrs] == [False, False, True]
        assert [cdr["call_id"] for cdr in cdrs] == [item["call_id"] for item in items]
        assert (await client.get(c2c_url(sim, str(doc["id"])), headers=headers)).json()["data"][
            "history_items"
        ] == 3
    # Paginated like any listing.
    first = (await client.get(history_url + "?page_size=2", headers=headers)).json()
    assert [item["contact"] for item in first["data"]] == contacts[:0:-1]
    second = (
        await client.get(
            history_url + f"?page_size=2&start_key={first['next_start_key']}", headers=headers
        )
    ).json()
    assert [item["contact"] for item in second["data"]] == contacts[:1]
    assert "next_start_key" not in second
    # created_from / created_to filter on the Gregorian timestamp.
    later = int(now) + 3600
    empty = await client.get(
        history_url + f"?created_from={later}&created_to={later + 10}", headers=headers
    )
    assert empty.json()["data"] == []
    too_wide = await client.get(
        history_url + f"?created_from={later - 40 * 86400}&created_to={later}", headers=headers
    )
    assert too_wide.status_code == 400


async def test_unknown_paths_and_methods(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    token = await login(sim, client)
    headers = {"X-Auth-Token": token}
    unknown = await client.get(base(sim) + "nothing/here", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["status"] == "error"
    wrong_verb = await client.get(base(sim) + "api_auth")
    assert wrong_verb.status_code == 405
    broken = await client.put(
        c2c_url(sim), content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400


async def test_verb_tunnelling(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    token = await login(sim, client)
    doc = await create(sim, client, token)
    answer = await client.post(
        c2c_url(sim, str(doc["id"])), params={"verb": "delete"}, headers={"X-Auth-Token": token}
    )
    assert answer.status_code == 200
    assert str(doc["id"]) not in [
        item["id"]
        for item in (await client.get(c2c_url(sim), headers={"X-Auth-Token": token})).json()["data"]
    ]


async def test_cdrs_refused_to_a_login_that_may_not_read_them(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    sim.config.kazoo_cdrs_readable = False
    token = await login(sim, client)
    answer = await client.get(cdr_url(sim, "202612-x"), headers={"X-Auth-Token": token})
    assert answer.status_code == 403
    assert answer.json()["status"] == "error"


async def test_a_write_under_an_old_revision_is_refused(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    token = await login(sim, client)
    headers = {"X-Auth-Token": token}
    doc = await create(sim, client, token)
    url = c2c_url(sim, str(doc["id"]))
    read = await client.get(url, headers=headers)
    revision = read.json()["revision"]
    assert read.headers["etag"] == f'"{revision}"'
    assert revision.startswith("1-")
    body = {"data": {"name": "Renamed", "extension": "1001"}}
    first = await client.post(url, json=body, headers={**headers, "If-Match": f'"{revision}"'})
    assert first.status_code == 200
    assert first.json()["revision"].startswith("2-")
    stale = await client.post(url, json=body, headers={**headers, "If-Match": f'"{revision}"'})
    assert stale.status_code == 412
    assert (await client.get(url, headers=headers)).json()["data"]["name"] == "Renamed"


async def test_realm_is_kept_and_listed_and_must_be_a_domain_or_an_ip(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    token = await login(sim, client)
    headers = {"X-Auth-Token": token}
    doc = await create(sim, client, token, realm="pbx.example.com")
    listing = (await client.get(c2c_url(sim), headers=headers)).json()["data"]
    assert listing == [
        {"id": doc["id"], "name": "Sales", "extension": "1001", "realm": "pbx.example.com"}
    ]
    refused = await client.put(
        c2c_url(sim),
        json={"data": {"name": "B", "extension": "1002", "realm": "not a realm"}},
        headers=headers,
    )
    assert refused.status_code == 400
    assert "realm" in refused.json()["data"]


async def test_throttle_caps_the_calls_active_at_once(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    sim.config.ring_seconds = 5.0  # the first call stays active while the second is asked
    token = await login(sim, client)
    headers = {"X-Auth-Token": token}
    doc = await create(sim, client, token, throttle=1)
    connect = c2c_url(sim, str(doc["id"]), "connect")
    first = await client.post(connect, json={"data": {"contact": CUSTOMER}}, headers=headers)
    assert first.status_code == 200
    second = await client.post(connect, json={"data": {"contact": CUSTOMER}}, headers=headers)
    assert second.status_code == 429
    assert len(sim.calls) == 1
