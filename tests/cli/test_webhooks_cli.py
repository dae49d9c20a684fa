"""``dialer webhooks url|config|secret`` in-process, on the tests' in-memory keyring.
(``serve`` runs as a real process in tests/webhooks/test_kill.py.)"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from dialer.cli.main import main
from dialer.core.accounts import Account, AccountStore, ProviderKind
from dialer.core.paths import AppPaths
from tests.memory_keyring import MemoryKeyring


def run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str | None = None) -> int:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(argv))


def test_url_prints_the_url_to_register_with_its_secret_segment(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
) -> None:
    assert run(monkeypatch, "webhooks", "url") == 0
    out, err = capsys.readouterr()
    token = memory_keyring.entries[("dialer", "webhooks:path-token")]
    assert out == f"http://127.0.0.1:8767/c2c/{token}\n"
    assert "reverse proxy or a tunnel" in err  # loopback only: says how to reach it
    assert run(monkeypatch, "webhooks", "url") == 0
    assert capsys.readouterr().out == out  # made once, then kept
    for path in dialer_home.rglob("*"):  # the log included
        assert not path.is_file() or token.encode() not in path.read_bytes(), path


def test_a_public_url_is_what_gets_registered(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], dialer_home: Path
) -> None:
    assert run(monkeypatch, "webhooks", "config", "--public-url", "https://hooks.example.com/") == 0
    assert "public_url = https://hooks.example.com" in capsys.readouterr().out
    assert run(monkeypatch, "webhooks", "url") == 0
    out, err = capsys.readouterr()
    assert out.startswith("https://hooks.example.com/c2c/") and err == ""
    assert run(monkeypatch, "webhooks", "config", "--host", "0.0.0.0", "--no-public-url") == 0  # noqa: S104
    capsys.readouterr()
    assert run(monkeypatch, "webhooks", "url") == 0
    out, err = capsys.readouterr()
    assert out.startswith("http://0.0.0.0:8767/c2c/")
    assert "every interface" in err and "unencrypted" in err
    assert run(monkeypatch, "webhooks", "config", "--public-url", "ftp://x") == 2
    assert "is not an http(s) URL" in capsys.readouterr().err
    assert run(monkeypatch, "webhooks", "config", "--port", "99999") == 2
    assert "not a port number" in capsys.readouterr().err


def test_url_without_a_keyring_is_exit_2_and_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())
    assert run(monkeypatch, "webhooks", "url") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("dialer: The webhook URL ends in a secret kept in the OS keyring.")
    assert "PYTHON_KEYRING_BACKEND" in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_a_webhook_secret_is_kept_in_the_keyring_only(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    dialer_home: Path,
) -> None:
    store = AccountStore(AppPaths.default().accounts_file)
    store.add(Account("shop", ProviderKind.C2C_V2, "https://c2c.example/api/v2/"))
    store.add(
        Account("legacy", ProviderKind.CLICK2CALL_V1, "https://v1.example/", options={"uid": "u"})
    )
    assert run(monkeypatch, "webhooks", "secret", "shop", stdin="s3cret-webhook-value\n") == 0
    assert memory_keyring.entries[("dialer", "account:shop:webhook")] == "s3cret-webhook-value"
    assert "Bearer" in capsys.readouterr().out
    for path in dialer_home.rglob("*"):
        assert not path.is_file() or b"s3cret-webhook-value" not in path.read_bytes(), path
    assert run(monkeypatch, "webhooks", "secret", "legacy", stdin="x\n") == 2
    assert capsys.readouterr().err == (
        "dialer: Account 'legacy' is a Click2Call v1 account; only C2C v2 accounts receive "
        "webhook reports\n"
    )
    for unusable, says in (
        ("two words\n", "has a space in it"),
        ("s3cret-wébhook\n", "outside ASCII"),
        ("s3cret\r\nInjected: 1\n", "control character"),
        (" s3cret-webhook\n", "spaces or a line break around it"),
    ):
        assert run(monkeypatch, "webhooks", "secret", "shop", stdin=unusable) == 2
        err = capsys.readouterr().err
        assert says in err and unusable.strip() not in err
    assert memory_keyring.entries[("dialer", "account:shop:webhook")] == "s3cret-webhook-value"
    assert run(monkeypatch, "webhooks", "secret", "nobody", stdin="x\n") == 2
    assert "No account named 'nobody'" in capsys.readouterr().err
    assert run(monkeypatch, "webhooks", "secret", "shop", "--remove") == 0
    assert ("dialer", "account:shop:webhook") not in memory_keyring.entries
