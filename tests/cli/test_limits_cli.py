"""``dialer account add``'s call limits and ``dialer call`` over them, in-process against a
live simulator; ``dialer call --campid`` on DigiDonar."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dialer.core.accounts import ProviderKind
from dialer.simulator import ProviderSimulator
from dialer.simulator.model import RecordedRequest
from tests.cli.test_cli import run, sim  # noqa: F401 (the simulator fixture)
from tests.memory_keyring import MemoryKeyring


def add_c2c(monkeypatch: pytest.MonkeyPatch, sim: ProviderSimulator, *limits: str) -> int:  # noqa: F811
    return run(
        monkeypatch, "account", "add", "sales", "--provider", "c2c-v2",
        "--url", sim.account_url(ProviderKind.C2C_V2), "--bridge", "918068280000",
        "--webhook-id", "sim-webhook", "--region", "IN", "--agent", "+919876543210", *limits,
        stdin="sim-c2c-token\n",
    )  # fmt: skip


def provider_requests(sim: ProviderSimulator) -> list[RecordedRequest]:  # noqa: F811
    return [r for r in sim.requests if r.provider is not None]


def test_a_call_over_the_limit_exits_2_with_the_sentence_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,  # noqa: F811
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
) -> None:
    assert add_c2c(monkeypatch, sim, "--calls-per-minute", "2") == 0
    monkeypatch.setenv("DIALER_NO_WINDOW", "1")
    for n in range(2):
        assert run(monkeypatch, "call", f"+91 88671 3500{n}") == 0
    capsys.readouterr()
    assert run(monkeypatch, "call", "+91 88671 35009") == 2
    err = capsys.readouterr().err
    assert re.search(
        r"Account 'sales' may place at most 2 calls a minute; the next call can be placed "
        r"in \d+ seconds \(at \d\d:\d\d:\d\d\)",
        err,
    ), err
    assert "Traceback" not in err
    assert len(provider_requests(sim)) == 2
    assert run(monkeypatch, "call", "+91 88671 35009", "--json") == 2
    printed = json.loads(capsys.readouterr().out)
    assert (printed["status"], printed["exit_code"]) == ("failed", 2)
    assert printed["error"].startswith("Account 'sales' may place at most 2 calls a minute")
    assert len(provider_requests(sim)) == 2


def test_limits_and_allowed_numbers_are_saved_and_listed(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,  # noqa: F811
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
) -> None:
    flags = ["--calls-per-minute", "3", "--agent-calls-per-day", "0",
             "--allow-number", "+91 80*", "--allow-number", "+918867135000"]  # fmt: skip
    assert add_c2c(monkeypatch, sim, *flags) == 0
    capsys.readouterr()
    assert run(monkeypatch, "account", "list") == 0
    assert "limits: 3/min 500/day, each agent 6/min any/day, only +9180* +918867135000" in (
        capsys.readouterr().out
    )
    assert run(monkeypatch, "account", "list", "--json") == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["limits"] == {
        "per_minute": 3,
        "per_day": 500,
        "agent_per_minute": 6,
        "agent_per_day": 0,
        "allowed_numbers": ["+9180*", "+918867135000"],
    }
    monkeypatch.setenv("DIALER_NO_WINDOW", "1")
    assert run(monkeypatch, "call", "+91 88671 35001") == 2
    assert "may call only numbers matching +9180*, +918867135000" in capsys.readouterr().err
    assert provider_requests(sim) == []


@pytest.mark.parametrize(
    ("flags", "sentence"),
    [
        (["--allow-number", "9180*"], "'9180*' is not a number pattern: write a number in "
         "international form, with a * at the end to allow every number that starts with it "
         "(for example +9180*)"),
        (["--allow-number", "+91.*"], "'+91.*' is not a number pattern"),
        (["--calls-per-day", "-1"], "'-1' is not a whole number of calls (0 for no limit)"),
        (["--calls-per-minute", "six"], "'six' is not a whole number of calls (0 for no limit)"),
    ],
)  # fmt: skip
def test_a_bad_limit_is_refused_and_nothing_stored(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,  # noqa: F811
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
    flags: list[str],
    sentence: str,
) -> None:
    assert add_c2c(monkeypatch, sim, *flags) == 2
    assert sentence in capsys.readouterr().err
    assert memory_keyring.entries == {}
    assert not (dialer_home / "config" / "accounts.toml").exists()


def test_call_campid_is_sent_to_digidonar(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,  # noqa: F811
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
) -> None:
    assert run(
        monkeypatch, "account", "add", "digi", "--provider", "digidonar",
        "--url", sim.account_url(ProviderKind.DIGIDONAR), "--bridge", "01204000000",
        "--campid", "9995", "--region", "IN", "--agent", "+919876543210",
        stdin="sim-digidonar-authcode\n",
    ) == 0  # fmt: skip
    monkeypatch.setenv("DIALER_NO_WINDOW", "1")
    assert run(monkeypatch, "call", "+91 88671 35000", "--campid", "4242", "--json") == 0
    assert run(monkeypatch, "call", "+91 88671 35001", "--json") == 0
    out = capsys.readouterr().out.splitlines()
    assert [r.query.get("campid") for r in provider_requests(sim)] == ["4242", "9995"]
    assert json.loads(out[-1])["message"].endswith("(desk phone 1204000000)")
    assert run(monkeypatch, "call", "+91 88671 35002", "--campid", "42x") == 2
    assert "The campaign id must be a whole number, for example 9995" in capsys.readouterr().err
    assert len(provider_requests(sim)) == 2


def test_account_add_refuses_a_campaign_id_that_is_not_a_number(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,  # noqa: F811
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
) -> None:
    assert run(
        monkeypatch, "account", "add", "digi", "--provider", "digidonar",
        "--url", sim.account_url(ProviderKind.DIGIDONAR), "--bridge", "01204000000",
        "--campid", "camp-1", stdin="sim-digidonar-authcode\n",
    ) == 2  # fmt: skip
    assert (
        "Campaign id: it must be a whole number, for example 9995 (not 'camp-1')"
        in capsys.readouterr().err
    )
    assert memory_keyring.entries == {}
