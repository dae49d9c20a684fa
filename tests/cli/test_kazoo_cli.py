"""``dialer kazoo ...`` against the simulator's Kazoo: every documented property and verb,
refusals before anything is sent, updates that keep the rest, delete with confirmation."""

from __future__ import annotations

import io
import json
import sys
import time
from typing import Any

import pytest

from dialer.core.accounts import ProviderKind
from dialer.simulator import ProviderSimulator
from tests.cli.test_cli import add_accounts, run, sim  # noqa: F401 - the fixture

BASE = "/v2/accounts/sim0kazoo0account0000000000000001/clicktocall"


def kazoo_requests(sim: ProviderSimulator) -> list[tuple[str, str]]:  # noqa: F811
    return [
        (r.method, r.path)
        for r in sim.requests
        if r.provider is ProviderKind.KAZOO and not r.path.endswith("_auth")
    ]


def json_out(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def kazoo_cli(
    monkeypatch: pytest.MonkeyPatch,
    sim: ProviderSimulator,  # noqa: F811
    memory_keyring: object,
    dialer_home: object,
) -> ProviderSimulator:
    add_accounts(monkeypatch, sim)
    sim.clear_requests()
    return sim


def test_create_show_list_update_delete(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kazoo_cli: ProviderSimulator,
) -> None:
    simulator = kazoo_cli
    capsys.readouterr()
    code = run(
        monkeypatch,
        "kazoo", "create", "--name", "Sales line", "--extension", "1001",
        "--realm", "pbx.example.com", "--no-auth-required", "--whitelist", "^91",
        "--whitelist", "^44", "--throttle", "2", "--caller-id-number", "918067000001",
        "--outbound-callee-id-name", "Kaveri", "--outbound-callee-id-number", "918067000000",
        "--json",
    )  # fmt: skip
    assert code == 0
    made = json_out(capsys)
    assert isinstance(made, dict)
    [create] = [r for r in simulator.requests if r.method == "PUT" and r.path == BASE]
    assert create.json == {
        "data": {
            "name": "Sales line",
            "extension": "1001",
            "realm": "pbx.example.com",
            "auth_required": False,
            "whitelist": ["^91", "^44"],
            "throttle": 2,
            "caller_id_number": "918067000001",
            "outbound_callee_id_name": "Kaveri",
            "outbound_callee_id_number": "918067000000",
        }
    }
    # The account is found without --account: the only Kazoo one.
    assert run(monkeypatch, "kazoo", "list") == 0
    listing = capsys.readouterr().out
    assert made["id"] in listing and "Sales line" in listing and "1001" in listing

    assert run(monkeypatch, "kazoo", "show", "Sales line") == 0
    shown = capsys.readouterr().out
    assert "Requires a login: no" in shown
    assert "Whitelist: ^91, ^44" in shown
    assert "History items: 0" in shown

    simulator.clear_requests()
    assert run(monkeypatch, "kazoo", "update", "Sales line", "--throttle", "0", "--realm", "",
               "--clear-whitelist", "--json") == 0  # fmt: skip
    updated = json_out(capsys)
    assert isinstance(updated, dict)
    posted = [r for r in simulator.requests if r.method == "POST"][-1]
    assert isinstance(posted.json, dict)
    assert posted.json["data"] == {
        "name": "Sales line",
        "extension": "1001",
        "auth_required": False,
        "whitelist": [],
        "throttle": 0,
        "caller_id_number": "918067000001",
        "outbound_callee_id_name": "Kaveri",
        "outbound_callee_id_number": "918067000000",
        "custom_application_vars": {},  # what Kazoo filled in stays as it is
    }
    assert "if-match" in posted.headers

    assert run(monkeypatch, "kazoo", "delete", str(made["id"]), "--yes") == 0
    assert capsys.readouterr().out.startswith("Deleted clicktocall Sales line (1001)")
    assert simulator.kazoo.clicktocalls == {}


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["create", "--name", "S", "--extension", "1001", "--throttle", "-1"], "0 or more"),
        (["create", "--name", "S", "--extension", "1001", "--throttle", "two"], "not a whole"),
        (["create", "--name", "S", "--extension", "10 01"], "is not an extension"),
        (["create", "--name", "S", "--extension", "1", "--whitelist", "(91"], "Whitelist entry 1"),
        (["create", "--name", "S", "--extension", "1", "--realm", "pbx"], "is not a realm"),
        (["update", "Nobody", "--throttle", "1"], "has no Kazoo clicktocall with id or name"),
        (["update", "Nobody"], "Nothing to change"),
        (["delete", "Nobody"], "pass --yes"),
        (["list", "--account", "sim-c2c"], "is a c2c-v2 account; clicktocalls are Kazoo's"),
    ],
)
def test_refusals_say_why_and_write_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kazoo_cli: ProviderSimulator,
    argv: list[str],
    fragment: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: nobody to ask
    capsys.readouterr()
    assert run(monkeypatch, "kazoo", *argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err
    assert [m for m, _ in kazoo_requests(kazoo_cli) if m != "GET"] == []


def test_history_in_the_documents_shape(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kazoo_cli: ProviderSimulator,
) -> None:
    simulator = kazoo_cli
    capsys.readouterr()
    assert run(monkeypatch, "call", "8867135000", "--account", "sim-kazoo", "--json") == 0
    placed = json_out(capsys)
    assert isinstance(placed, dict)
    deadline = time.monotonic() + 15
    while not any(simulator.kazoo.history.values()):  # the call ends on the simulator's thread
        assert time.monotonic() < deadline, "the simulated call never ended"
        time.sleep(0.05)
    assert run(monkeypatch, "kazoo", "history", "Dialer 919876543210", "--json") == 0
    [item] = json_out(capsys)
    assert set(item) == {"contact", "timestamp", "call_id", "cdr_id"}
    assert item["call_id"] == placed["provider_ref"]
    assert run(monkeypatch, "kazoo", "history", "Dialer 919876543210") == 0
    table = capsys.readouterr().out
    assert "918867135000" in table and item["cdr_id"] in table


def test_the_first_call_says_which_clicktocall_it_made(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kazoo_cli: ProviderSimulator,
) -> None:
    capsys.readouterr()
    assert run(monkeypatch, "call", "8867135000", "--account", "sim-kazoo") == 0
    out = capsys.readouterr().out
    assert "+919876543210 rings first, then +918867135000" in out
    assert "Created clicktocall 'Dialer 919876543210'" in out
    assert "needs a login" in out


def test_calling_through_another_agents_clicktocall_names_the_phone_that_rings(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kazoo_cli: ProviderSimulator,
) -> None:
    assert run(monkeypatch, "kazoo", "create", "--name", "Priya", "--extension", "1007") == 0
    capsys.readouterr()
    assert (
        run(monkeypatch, "call", "8867135000", "--account", "sim-kazoo", "--bridge", "Priya") == 0
    )
    out = capsys.readouterr().out
    assert "1007 rings first, then +918867135000" in out
    assert "+919876543210" not in out


def test_an_account_add_bridge_for_kazoo_points_to_the_clicktocall_setting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kazoo_cli: ProviderSimulator,
) -> None:
    code = run(
        monkeypatch,
        "account", "add", "k2", "--provider", "kazoo", "--url",
        kazoo_cli.account_url(ProviderKind.KAZOO), "--kazoo-account", "x", "--bridge", "Sales",
        stdin="key\n",
    )  # fmt: skip
    assert code == 2
    assert "takes no --bridge (give the clicktocall with --kazoo-clicktocall)" in (
        capsys.readouterr().err
    )
