"""``dialer report`` and ``dialer track``: v1 and Kazoo outcomes learned without the window,
in-process (for the in-memory keyring) against a live simulator over loopback and the
profile's real SQLite file. (SIGTERM and SIGINT stop a real ``dialer track`` process in
tests/cli/test_track_process.py.)"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from dialer.cli import track
from dialer.core.accounts import ProviderKind
from dialer.core.paths import AppPaths
from dialer.history.sqlite_store import SqliteHistory
from dialer.simulator import Fault, Outcome
from tests.cli.conftest import FAST, Sim
from tests.cli.test_cli import add_accounts, run

CUSTOMER = "+91 88671 35000"


def place(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], account: str
) -> dict[str, Any]:
    capsys.readouterr()
    assert run(monkeypatch, "call", CUSTOMER, "--account", account, "--json") == 0
    placed: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert placed["status"] == "accepted"
    return placed


def stored(call_id: str) -> dict[str, Any]:
    history = SqliteHistory(AppPaths.default().calls_db)
    try:
        record = history.get(call_id)
        assert record is not None
        return record.as_dict()
    finally:
        history.close()


def test_report_fetches_and_stores_a_v1_calls_outcome(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    add_accounts(monkeypatch, threaded_sim.simulator)
    placed = place(monkeypatch, capsys, "sim-v1")
    threaded_sim.finished(placed["provider_ref"])
    assert threaded_sim.lookups("report-click2call.php") == 0  # nothing asked while it rang
    assert run(monkeypatch, "report", placed["id"], "--json") == 0
    out = capsys.readouterr()
    done = json.loads(out.out)
    assert done["id"] == placed["id"]
    assert done["status"] == "completed"
    assert done["answered"] is True
    assert done["talk_seconds"] == 1  # the simulator bills an answered leg at least 1 s
    assert done["charge"] == 2.0
    assert stored(placed["id"]) == done  # what it printed is what it stored
    # Two reads, the second confirming the first (the window's rule), and nothing else.
    assert threaded_sim.lookups("report-click2call.php") == 2

    # A concluded call, found by the provider's reference, is shown as stored: no request.
    assert run(monkeypatch, "report", placed["provider_ref"]) == 0
    line = capsys.readouterr().out
    assert line == f"Call {placed['id']} to +918867135000: completed, talk 0:01\n"
    assert threaded_sim.lookups("report-click2call.php") == 2


def test_report_fetches_and_stores_a_kazoo_calls_outcome(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    add_accounts(monkeypatch, threaded_sim.simulator)
    placed = place(monkeypatch, capsys, "sim-kazoo")
    threaded_sim.finished(placed["provider_ref"])
    assert run(monkeypatch, "report", placed["id"]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"Call {placed['id']} to +918867135000: completed")
    done = stored(placed["id"])
    assert done["status"] == "completed"
    assert done["answered"] is True
    assert threaded_sim.lookups("/history") >= 1


def test_track_once_concludes_v1_kazoo_and_digidonar_calls_placed_from_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    add_accounts(monkeypatch, threaded_sim.simulator)
    v1 = place(monkeypatch, capsys, "sim-v1")
    kazoo = place(monkeypatch, capsys, "sim-kazoo")
    digi = place(monkeypatch, capsys, "sim-digi")
    c2c = place(monkeypatch, capsys, "sim-c2c")  # its report is pushed: it waits for it
    for call in (v1, kazoo):
        threaded_sim.finished(call["provider_ref"])
    assert run(monkeypatch, "track", "--once") == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[-1] == "Concluded 3 calls; 1 still open"
    assert f"Call {v1['id']} to +918867135000: completed, talk 0:01" in lines
    assert f"Call {kazoo['id']} to +918867135000: completed (NORMAL_CLEARING), talk 0:01" in lines
    assert f"Call {digi['id']} to +918867135000: no-report (DigiDonar does not report" in out.out
    assert out.err == ""
    assert stored(v1["id"])["status"] == "completed"
    assert stored(kazoo["id"])["status"] == "completed"
    assert stored(digi["id"])["status"] == "no-report"
    assert stored(c2c["id"])["status"] == "accepted"


def test_track_runs_until_every_polled_call_is_concluded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    add_accounts(monkeypatch, threaded_sim.simulator)
    v1 = place(monkeypatch, capsys, "sim-v1")  # still ringing: tracked until it ended
    kazoo = place(monkeypatch, capsys, "sim-kazoo")
    assert run(monkeypatch, "track") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Tracking 2 calls until each is concluded (Ctrl+C stops)"
    assert lines[-1] == "Concluded 2 calls"
    assert stored(v1["id"])["status"] == "completed"
    assert stored(kazoo["id"])["status"] == "completed"


def test_track_with_nothing_open_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    assert run(monkeypatch, "track") == 0
    assert capsys.readouterr().out.splitlines() == ["No open call to track", "Concluded 0 calls"]


def test_report_refuses_what_it_cannot_fetch_with_exit_2_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    assert run(monkeypatch, "report", "nosuchcall") == 2  # before any history exists
    assert capsys.readouterr().err == (
        "dialer: No call in the history has the id or provider reference 'nosuchcall'; "
        "'dialer history' lists the calls\n"
    )
    add_accounts(monkeypatch, threaded_sim.simulator)
    digi = place(monkeypatch, capsys, "sim-digi")
    c2c = place(monkeypatch, capsys, "sim-c2c")
    sent = len(threaded_sim.simulator.requests)
    assert run(monkeypatch, "report", "nosuchcall") == 2
    assert "No call in the history has the id or provider reference" in capsys.readouterr().err
    assert run(monkeypatch, "report", digi["id"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "dialer: DigiDonar does not report call outcomes: whether this call was answered is "
        "not known\n"
    )
    assert run(monkeypatch, "report", c2c["id"], "--json") == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == (
        "dialer: C2C v2 pushes its reports to the webhook receiver (the window, or "
        "'dialer webhooks serve'): there is no report to fetch\n"
    )
    assert run(monkeypatch, "report", " ") == 2
    assert capsys.readouterr().err == "dialer: Give the call's id or the provider's reference\n"
    assert len(threaded_sim.simulator.requests) == sent
    assert stored(digi["id"])["status"] == "accepted"  # a refusal changes nothing


@pytest.mark.allow_warnings_log(r"report for call \w+: .*\(retrying with backoff\)")
def test_report_on_a_failing_provider_exits_with_its_code_and_keeps_the_call_open(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    add_accounts(monkeypatch, threaded_sim.simulator)
    placed = place(monkeypatch, capsys, "sim-v1")
    threaded_sim.finished(placed["provider_ref"])
    threaded_sim.simulator.inject(Fault.server_error(503), provider=ProviderKind.CLICK2CALL_V1)
    assert run(monkeypatch, "report", placed["id"]) == 4  # as 'dialer call' maps a 5xx
    err = capsys.readouterr().err
    assert err == (
        "dialer: Click2Call v1 had a server error (HTTP 503): 503 Service Unavailable\n"
    ), err
    assert stored(placed["id"])["status"] == "accepted"
    assert run(monkeypatch, "report", placed["id"]) == 0  # the provider answers again
    assert "completed" in capsys.readouterr().out


@pytest.mark.allow_warnings_log(r"report for call \w+: .*\(retrying with backoff\)")
def test_track_says_a_failing_provider_as_it_happens_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    add_accounts(monkeypatch, threaded_sim.simulator)
    placed = place(monkeypatch, capsys, "sim-v1")
    threaded_sim.finished(placed["provider_ref"])
    threaded_sim.simulator.inject(Fault.server_error(503), provider=ProviderKind.CLICK2CALL_V1)
    assert run(monkeypatch, "track") == 0
    out = capsys.readouterr()
    assert out.err == (
        f"dialer: Click2Call v1 report for call {placed['id']}: Click2Call v1 had a server "
        "error (HTTP 503): 503 Service Unavailable (retrying with backoff)\n"
    )
    assert out.out.splitlines()[-1] == "Concluded 1 call"
    assert stored(placed["id"])["status"] == "completed"


@pytest.mark.allow_warnings_log(r"report for call \w+: .*\(retrying with backoff\)")
def test_track_once_exits_with_the_failing_providers_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    add_accounts(monkeypatch, threaded_sim.simulator)
    placed = place(monkeypatch, capsys, "sim-v1")
    threaded_sim.finished(placed["provider_ref"])
    threaded_sim.simulator.inject(Fault.server_error(503), provider=ProviderKind.CLICK2CALL_V1)
    assert run(monkeypatch, "track", "--once") == 4
    out = capsys.readouterr()
    assert out.out == "Concluded 0 calls; 1 still open\n"
    assert out.err == (
        f"dialer: Click2Call v1 report for call {placed['id']}: Click2Call v1 had a server "
        "error (HTTP 503): 503 Service Unavailable\n"
    )
    assert stored(placed["id"])["status"] == "accepted"


def test_report_leaves_a_zero_row_open_while_the_call_may_still_ring(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], threaded_sim: Sim
) -> None:
    add_accounts(monkeypatch, threaded_sim.simulator)
    threaded_sim.simulator.set_outcome("918867135000", Outcome.AGENT_NO_ANSWER)  # zeros
    placed = place(monkeypatch, capsys, "sim-v1")
    threaded_sim.finished(placed["provider_ref"])
    assert run(monkeypatch, "report", placed["id"]) == 0
    assert capsys.readouterr().out == (
        f"Call {placed['id']} to +918867135000: no final report from Click2Call v1 yet "
        "(still accepted); ask again later, or run 'dialer track' to follow it\n"
    )
    assert stored(placed["id"])["status"] == "accepted"
    # Once the call is too old to be ringing still (here at once), the zeros are its outcome.
    monkeypatch.setattr(track, "TIMINGS", replace(FAST, v1_zero_settle=0.0))
    assert run(monkeypatch, "report", placed["id"], "--json") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "no-answer"
