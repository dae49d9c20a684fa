from __future__ import annotations

import os
from pathlib import Path

import pytest

from dialer.core.accounts import Account, AccountStore, ProviderKind, check_base_url
from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.numbers import NumberFormat
from dialer.core.paths import AppPaths


def make(name: str = "work", **kw: object) -> Account:
    fields: dict[str, object] = {
        "provider": ProviderKind.C2C_V2,
        "url": "https://portal.example.com/api/v2/",
        "region": "IN",
        "agent": "+919876543210",
        "bridges": ("918068280000",),
        "options": {"webhook_id": "w1"},
    }
    fields.update(kw)
    return Account(name=name, **fields)  # type: ignore[arg-type]


def test_round_trip(tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "accounts.toml")
    account = make(number_format=NumberFormat.E164, read_timeout=7.5)
    store.add(account)
    assert store.get("work") == account
    assert store.get() == account  # the only account is the default
    assert store.list() == [account]


def test_default_and_removal(tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "accounts.toml")
    store.add(make("a"))
    store.add(make("b"), make_default=True)
    assert store.default_name() == "b"
    store.remove("b")
    assert store.default_name() == "a"
    with pytest.raises(ConfigError, match="No account named 'b'"):
        store.get("b")


def test_several_accounts_without_default_asks_for_one(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(
        '[accounts.a]\nprovider = "kazoo"\nurl = "https://k/"\n'
        '[accounts.b]\nprovider = "kazoo"\nurl = "https://k/"\n'
    )
    with pytest.raises(ConfigError, match="pass --account"):
        AccountStore(path).get()


def test_duplicate_name_refused(tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "accounts.toml")
    store.add(make())
    with pytest.raises(ConfigError, match="already exists"):
        store.add(make())


def test_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text("[accounts.a]\nprovider = 'kazoo'\n")  # no url
    with pytest.raises(ConfigError, match="malformed"):
        AccountStore(path).list()
    path.write_text("not = [toml")
    with pytest.raises(ConfigError, match="Cannot read"):
        AccountStore(path).list()


def test_write_is_atomic_and_private(tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "cfg" / "accounts.toml")
    store.add(make())
    assert [p.name for p in (tmp_path / "cfg").iterdir()] == ["accounts.toml"]
    if os.name == "posix":
        assert (tmp_path / "cfg").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("url", "allow", "ok"),
    [
        ("https://portal.example.com/api/v2", False, True),
        ("http://127.0.0.1:8765/api/v2/", False, True),
        ("http://localhost:8765/", False, True),
        ("http://[::1]:8765/", False, True),
        ("http://portal.example.com/api/v2/", False, False),
        ("http://portal.example.com/api/v2/", True, True),
        ("ftp://x/", True, False),
        ("https://u:p@x.example/", False, False),
        ("https://x.example/?token=1", False, False),
    ],
)
def test_base_url_rules(url: str, allow: bool, ok: bool) -> None:
    if ok:
        assert check_base_url(url, allow_insecure_http=allow).endswith("/")
    else:
        with pytest.raises(InvalidInput):
            check_base_url(url, allow_insecure_http=allow)


def test_insecure_http_message_names_the_flag() -> None:
    with pytest.raises(InvalidInput, match="--allow-insecure-http"):
        check_base_url("http://portal.example.com/", allow_insecure_http=False)


def test_dialer_home_holds_everything(dialer_home: Path) -> None:
    paths = AppPaths.default().ensure()
    for path in (paths.config_dir, paths.data_dir, paths.log_dir, paths.accounts_file):
        assert dialer_home in path.parents


def test_platformdirs_when_no_dialer_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIALER_HOME")
    paths = AppPaths.default()
    assert "dialer" in str(paths.config_dir).lower()


def test_a_kind_nobody_declares_is_refused_when_used(tmp_path: Path) -> None:
    # The file may name a plug-in's provider; which kinds exist is the registry's to say.
    from dialer.providers import provider_spec

    path = tmp_path / "accounts.toml"
    path.write_text("[accounts.a]\nprovider = 'nope'\nurl = 'https://x.example/'\n")
    [account] = AccountStore(path).list()
    with pytest.raises(ConfigError, match="'nope' is not a provider this dialer knows"):
        provider_spec(account.provider)
