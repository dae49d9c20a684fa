"""The ``dialer`` command, in-process (for the in-memory keyring) against a live simulator."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer import __version__
from dialer.cli.main import main
from dialer.core.accounts import ProviderKind
from dialer.simulator import Fault, ProviderSimulator, SimulatorConfig
from tests.memory_keyring import MemoryKeyring

SECRETS = ("sim-c2c-token", "sim-pin", "sim-kazoo-api-key", "sim-digidonar-authcode")


@pytest.fixture
def sim() -> Iterator[ProviderSimulator]:
    """The simulator on its own loop thread, so that main() can run asyncio.run() here."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    simulator = ProviderSimulator(SimulatorConfig())
    asyncio.run_coroutine_threadsafe(simulator.start(), loop).result(10)
    yield simulator
    asyncio.run_coroutine_threadsafe(simulator.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str | None = None) -> int:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(argv))


def add_accounts(monkeypatch: pytest.MonkeyPatch, sim: ProviderSimulator) -> None:
    common = ["--region", "IN", "--agent", "+919876543210"]
    commands = [
        (["sim-c2c", "--provider", "c2c-v2", "--url", sim.account_url(ProviderKind.C2C_V2),
          "--bridge", "918068280000", "--webhook-id", "sim-webhook", "--default"], "sim-c2c-token"),
        (["sim-v1", "--provider", "click2call-v1", "--url",
          sim.account_url(ProviderKind.CLICK2CALL_V1), "--uid", "sim-uid", "--holdfile", "1"],
         "sim-pin"),
        (["sim-kazoo", "--provider", "kazoo", "--url", sim.account_url(ProviderKind.KAZOO),
          "--kazoo-account", sim.config.credentials.kazoo_account_id], "sim-kazoo-api-key"),
        (["sim-digi", "--provider", "digidonar", "--url", sim.account_url(ProviderKind.DIGIDONAR),
          "--bridge", "01204000000"], "sim-digidonar-authcode"),
    ]  # fmt: skip
    for args, secret in commands:
        assert run(monkeypatch, "account", "add", *args, *common, stdin=secret + "\n") == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"dialer {__version__}"


def test_accounts_keep_secrets_in_the_keyring_only(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
) -> None:
    add_accounts(monkeypatch, sim)
    assert memory_keyring.entries[("dialer", "account:sim-c2c")] == "sim-c2c-token"
    capsys.readouterr()
    assert run(monkeypatch, "account", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in listed] == ["sim-c2c", "sim-v1", "sim-kazoo", "sim-digi"]
    assert listed[0]["default"] is True
    assert run(monkeypatch, "account", "list") == 0
    text = capsys.readouterr().out
    files = "".join(p.read_text(errors="replace") for p in dialer_home.rglob("*") if p.is_file())
    for secret in SECRETS:
        assert secret not in json.dumps(listed)
        assert secret not in text
        assert secret not in files
    assert run(monkeypatch, "account", "remove", "sim-v1") == 0
    assert ("dialer", "account:sim-v1") not in memory_keyring.entries


@pytest.mark.parametrize(
    ("account", "extra"),
    [("sim-c2c", []), ("sim-v1", []), ("sim-kazoo", []), ("sim-digi", ["--max-seconds", "60"])],
)
def test_call_accepted_prints_json(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,
    account: str,
    extra: list[str],
) -> None:
    add_accounts(monkeypatch, sim)
    capsys.readouterr()
    code = run(monkeypatch, "call", "+91 88671 35000", "--account", account, "--json", *extra)
    out = capsys.readouterr()
    assert code == 0, out.err
    payload = json.loads(out.out)
    assert payload["status"] == "accepted"
    assert payload["account"] == account
    assert payload["customer"] == "+918867135000"
    assert payload["agent"] == "+919876543210"
    assert payload["provider_ref"]
    assert {"id", "provider"} <= payload.keys()


def test_call_human_output_says_who_rings_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sim: ProviderSimulator
) -> None:
    add_accounts(monkeypatch, sim)
    capsys.readouterr()
    assert run(monkeypatch, "call", "8867135000") == 0
    assert "+919876543210 rings first" in capsys.readouterr().out
    assert run(monkeypatch, "call", "8867135000", "--account", "sim-digi") == 0
    assert "+918867135000 rings first" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (["call", "123"], 2, "too short"),
        (["call", "+918867135000", "--account", "sim-v1", "--flow", "220"], 2, "IVR flows"),
        (["call", "+918867135000", "--attempts", "3"], 2, "between 0 and 2"),
        (["call", "+918867135000", "--var", "Name=x"], 2, "need a flow"),
        (["call", "+918867135000", "--account", "nobody"], 2, "No account named"),
        (["call", "+918867135000", "--max-seconds", "0"], 2, "greater than zero"),
        (["call", "+918867135000", "--max-seconds", "9" * 23], 2, "at most 86,400 seconds"),
        (["call", "+918867135000", "--max-seconds", "9" * 5000], 2, "'9999999999999999999…'"),
        (["call", "+91 88671\n35000"], 2, "'+91 88671\\n35000'"),
    ],
)
def test_invalid_input_exits_2_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,
    argv: list[str],
    code: int,
    fragment: str,
) -> None:
    add_accounts(monkeypatch, sim)
    capsys.readouterr()
    sim.clear_requests()
    assert run(monkeypatch, *argv) == code
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err and len(err) < 400
    assert [r for r in sim.requests if r.provider is not None] == []


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (Fault.failure_in_200("Low balance"), 3),
        (Fault.html(200), 3),
        (Fault.server_error(502), 4),
        (Fault.reset(), 4),
    ],
)
def test_provider_failures_map_to_exit_codes(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,
    fault: Fault,
    code: int,
) -> None:
    add_accounts(monkeypatch, sim)
    capsys.readouterr()
    sim.inject(fault, provider=ProviderKind.C2C_V2)
    assert run(monkeypatch, "call", "+918867135000", "--json") == code
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dialer: ")
    assert json.loads(out.out)["status"] == "failed"


def test_wrong_secret_exits_3_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sim: ProviderSimulator
) -> None:
    args = ["account", "add", "bad", "--provider", "digidonar", "--url",
            sim.account_url(ProviderKind.DIGIDONAR), "--bridge", "01204000000", "--region", "IN",
            "--agent", "9876543210"]  # fmt: skip
    assert run(monkeypatch, *args, stdin="not-the-code-123\n") == 0
    assert run(monkeypatch, "call", "8867135000") == 3
    err = capsys.readouterr().err
    assert "Invalid Auth Code" in err
    assert "not-the-code-123" not in err


def test_unreachable_exits_4(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["account", "add", "down", "--provider", "c2c-v2", "--url",
            f"http://127.0.0.1:{port}/api/v2/", "--bridge", "918068280000",
            "--agent", "+919876543210"]  # fmt: skip
    assert run(monkeypatch, *args, stdin="tok-for-a-dead-port\n") == 0
    assert run(monkeypatch, "call", "+918867135000") == 4
    err = capsys.readouterr().err
    # In words first, the address last.
    assert err.startswith("dialer: C2C v2 cannot be reached (connection refused); nothing was")
    assert err.rstrip().endswith(f"Address tried: http://127.0.0.1:{port}/api/v2/voice/c2c")


def test_logs_never_hold_a_secret(
    monkeypatch: pytest.MonkeyPatch, sim: ProviderSimulator, dialer_home: Path
) -> None:
    import logging

    add_accounts(monkeypatch, sim)
    logging.getLogger().setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # it logs every URL, query included
    for account in ("sim-c2c", "sim-v1", "sim-kazoo", "sim-digi"):
        run(monkeypatch, "call", "+918867135000", "--account", account)
    sim.inject(Fault.html(200))
    run(monkeypatch, "call", "+918867135000", "--account", "sim-digi")
    for handler in logging.getLogger().handlers:
        handler.flush()
    logs = "".join(p.read_text() for p in (dialer_home / "logs").glob("*.log*"))
    assert "click_to_call_v3" in logs or "HTTP Request" in logs or logs  # something was logged
    for secret in SECRETS:
        assert secret not in logs


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--provider", "c2c-v2", "--url", "http://portal.example.com/api/v2/"],
         "--allow-insecure-http"),
        (["--provider", "click2call-v1", "--url", "https://x.example/api/voice/"], "--uid"),
        (["--provider", "kazoo", "--url", "https://k.example:8443/"], "--kazoo-account"),
        (["--provider", "c2c-v2", "--url", "https://x.example/", "--uid", "u"], "click2call-v1"),
        (["--provider", "c2c-v2", "--url", "https://x.example/", "--region", "XX"],
         "not a country code"),
        (["--provider", "c2c-v2", "--url", "https://x.example/", "--region", "IN", "--agent", "12"],
         "too short"),
    ],
)  # fmt: skip
def test_account_add_refuses_bad_settings_and_stores_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
    args: list[str],
    fragment: str,
) -> None:
    assert run(monkeypatch, "account", "add", "x", *args, stdin="secret-value\n") == 2
    assert fragment in capsys.readouterr().err
    assert memory_keyring.entries == {}
    assert not (dialer_home / "config" / "accounts.toml").exists()


def test_empty_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["account", "add", "x", "--provider", "c2c-v2", "--url", "https://x.example/"]
    assert run(monkeypatch, *args, stdin="\n") == 2
    assert capsys.readouterr().err == "dialer: No API token given (standard input was empty)\n"


def test_nothing_typed_at_the_prompt_is_not_called_an_empty_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    # No terminal here: the prompt's reader is replaced by the person pressing Enter.
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    args = ["account", "add", "x", "--provider", "click2call-v1", "--url", "https://x.example/"]
    assert main([*args, "--uid", "u"]) == 2
    assert capsys.readouterr().err == "dialer: No API PIN given\n"


@pytest.mark.parametrize("flag", ["--connect-timeout", "--read-timeout"])
def test_a_timeout_out_of_range_says_the_range(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    args = ["account", "add", "x", "--provider", "c2c-v2", "--url", "https://x.example/"]
    assert run(monkeypatch, *args, flag, "0", stdin="tok-1\n") == 2
    assert capsys.readouterr().err == (
        "dialer: Timeouts must be more than 0 and at most 300 seconds\n"
    )


def test_a_link_with_other_arguments_says_how_to_call_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "tel:+918867135000", "history") == 2
    assert capsys.readouterr().err.endswith(
        "dialer: a link cannot be combined with other arguments: run 'dialer "
        "tel:+918867135000' or 'dialer call tel:+918867135000'\n"
    )


@pytest.mark.parametrize(
    ("provider", "secret", "says"),
    [
        ("c2c-v2", "sim-c2c\ntoken", "line break or another control character"),
        ("c2c-v2", "sim-c2c-tökén", "outside ASCII"),
        ("c2c-v2", "sim c2c token", "has a space in it"),
        ("c2c-v2", " sim-c2c-token ", "spaces or a line break around it"),
        ("click2call-v1", "sim-\x1b[31mpin", "control character"),
        ("kazoo", "sim-kazoo\tkey", "control character"),
        ("digidonar", "sim-digidonar-authcode\r\n\n", "spaces or a line break around it"),
    ],
)
def test_a_secret_the_wire_cannot_carry_is_refused_at_account_add(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
    provider: str,
    secret: str,
    says: str,
) -> None:
    extra = {"click2call-v1": ["--uid", "u"], "kazoo": ["--kazoo-account", "a" * 32]}
    args = ["account", "add", "x", "--provider", provider, "--url", "https://x.example/",
            *extra.get(provider, [])]  # fmt: skip
    assert run(monkeypatch, *args, stdin=secret + "\n") == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert secret.strip() not in err
    assert memory_keyring.entries == {}
    assert not (dialer_home / "config" / "accounts.toml").exists()


def test_a_secret_sent_in_a_body_or_query_may_be_any_visible_text(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    # Kazoo's password goes in a JSON body and v1's PIN in a form: both carry any text.
    args = ["account", "add", "k", "--provider", "kazoo", "--url", "https://k.example:8443/",
            "--kazoo-account", "a" * 32, "--kazoo-user", "agent",
            "--kazoo-account-name", "r.example"]  # fmt: skip
    assert run(monkeypatch, *args, stdin="pässwört mit Leerzeichen\n") == 0
    assert memory_keyring.entries[("dialer", "account:k")] == "pässwört mit Leerzeichen"


def test_a_stored_secret_the_wire_cannot_carry_is_refused_before_sending(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    sim: ProviderSimulator,
) -> None:
    # A token stored before it was checked (an older release, or the keyring edited by
    # hand): no request, and the error says what to fix without quoting it.
    add_accounts(monkeypatch, sim)
    memory_keyring.entries[("dialer", "account:sim-c2c")] = "sim-c2c\ntoken"
    sent = len(sim.requests)
    assert run(monkeypatch, "call", "+918867135000", "--account", "sim-c2c") == 2
    err = capsys.readouterr().err
    assert "Account 'sim-c2c' has a problem: the API token has a line break" in err
    assert "sim-c2c\ntoken" not in err and "sim-c2c\\ntoken" not in err
    assert len(sim.requests) == sent
    assert run(monkeypatch, "history", "--csv") == 0
    assert "token" not in capsys.readouterr().out  # nothing placed, nothing recorded


@pytest.mark.allow_warnings_log(r"^Placing call \w+ failed unexpectedly$")
def test_an_unexpected_failure_while_placing_ends_the_call_failed_with_exit_3(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sim: ProviderSimulator,
    dialer_home: Path,
) -> None:
    import logging

    from dialer.providers.c2c_v2 import C2CV2Provider

    add_accounts(monkeypatch, sim)

    async def broken(self: object, prepared: object) -> object:
        # What a library's fault looks like from here: not a provider's answer, and it
        # quotes the secret (h11 quotes the header it refused).
        raise RuntimeError("Illegal header value b'Bearer sim-c2c-token'")

    monkeypatch.setattr(C2CV2Provider, "start", broken)
    assert run(monkeypatch, "call", "+918867135000", "--json") == 3
    out, err = capsys.readouterr()
    assert "failed unexpectedly (RuntimeError)" in err and "sim-c2c-token" not in out + err
    assert run(monkeypatch, "history", "--json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "failed" and "unexpectedly" in row["error"]
    for handler in logging.getLogger().handlers:
        handler.flush()
    logs = "".join(p.read_text() for p in (dialer_home / "logs").glob("*.log*"))
    assert "RuntimeError" in logs and "sim-c2c-token" not in logs  # the traceback, redacted


def _cli_env(dialer_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON_KEYRING")}
    env.update({"DIALER_HOME": str(dialer_home), **extra})
    return env


def test_python_dash_m_and_console_script(dialer_home: Path) -> None:
    for command in ([sys.executable, "-m", "dialer", "--version"],
                    [str(Path(sys.executable).with_name("dialer")), "--version"]):  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, env=_cli_env(dialer_home), check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"dialer {__version__}"


@pytest.mark.parametrize(
    "backend",
    [
        "keyring.backends.fail.Keyring",  # refuses: "no keyring"
        "keyring.backends.null.Keyring",  # accepts and keeps nothing: read back, refused
    ],
)
def test_no_keyring_names_the_fix_and_writes_nothing(dialer_home: Path, backend: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dialer", "account", "add", "x", "--provider", "c2c-v2",
         "--url", "https://x.example/api/v2/"],
        input="top-secret-token\n",
        capture_output=True,
        text=True,
        env=_cli_env(dialer_home, PYTHON_KEYRING_BACKEND=backend),
        check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "keyring" in done.stderr.lower() and done.stderr.count("\n") == 1
    assert "PYTHON_KEYRING_BACKEND" in done.stderr
    assert "Traceback" not in done.stderr
    written = [p for p in dialer_home.rglob("*") if p.is_file()]
    assert not any("top-secret-token" in p.read_text(errors="replace") for p in written)
    assert not (dialer_home / "config" / "accounts.toml").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], (False, None)),
        (["--demo"], (True, None)),
        (["tel:+918867135000"], (False, "tel:+918867135000")),
        (["--demo", "+918867135000"], (True, "+918867135000")),
        (["call", "+918867135000"], None),
        (["--self-test"], None),
        (["--help"], None),
        (["--version"], None),
        (["--demo", "--demo"], None),
        (["+91", "88671"], None),
        (["history"], None),
        (["not-a-number"], None),
    ],
)
def test_a_window_launch_skips_the_command_line_parser(
    argv: list[str], expected: tuple[bool, str | None] | None
) -> None:
    from dialer.cli.main import _window_launch

    assert _window_launch(argv) == expected
