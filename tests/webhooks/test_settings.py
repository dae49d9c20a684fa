"""Receiver settings on real files, and the secret path segment in the keyring."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.core.errors import ConfigError
from dialer.core.paths import AppPaths
from dialer.core.redact import scrub
from dialer.core.secrets import KeyringSecretStore
from dialer.webhooks.settings import (
    PATH_TOKEN_KEY,
    WebhookSettings,
    load_settings,
    path_token,
    receiver_url,
    save_settings,
    settings_file,
)
from tests.memory_keyring import MemoryKeyring


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.under(tmp_path / "home")


def test_defaults_without_a_file(paths: AppPaths) -> None:
    assert load_settings(paths) == WebhookSettings("127.0.0.1", 8767, None)
    assert not settings_file(paths).exists()  # reading never writes


def test_settings_survive_a_round_trip(paths: AppPaths) -> None:
    wanted = WebhookSettings("0.0.0.0", 9000, "https://hooks.example.com/dialer")  # noqa: S104
    save_settings(paths, wanted)
    assert load_settings(paths) == wanted
    assert 'public_url = "https://hooks.example.com/dialer"' in settings_file(paths).read_text()
    save_settings(paths, WebhookSettings())
    assert load_settings(paths) == WebhookSettings()
    assert [p.name for p in settings_file(paths).parent.iterdir()] == ["webhooks.toml"]


@pytest.mark.parametrize(("text", "words"), [
    ("port = 'eighty'", "is not a port number"),
    ("port = 70000", "is not a port number"),
    ("port = true", "is not a port number"),
    ("host = ''", "'host' must be a host name"),
    ("public_url = 'ftp://x'", "is not an http(s) URL"),
    ("public_url = 'https://x/?key=1'", "must not carry a query"),
    ("colour = 'blue'", "unknown settings: colour"),
    ("port = ", "Cannot read"),
])  # fmt: skip
def test_a_bad_settings_file_is_one_sentence(paths: AppPaths, text: str, words: str) -> None:
    settings_file(paths).parent.mkdir(parents=True)
    settings_file(paths).write_text(text)
    with pytest.raises(ConfigError, match=r"webhooks\.toml") as info:
        load_settings(paths)
    assert words in str(info.value)


async def test_the_path_token_is_made_once_and_kept_in_the_keyring(
    memory_keyring: MemoryKeyring, paths: AppPaths
) -> None:
    store = KeyringSecretStore()
    token = await path_token(store)
    assert len(token) == 32 and "/" not in token
    assert memory_keyring.entries[("dialer", PATH_TOKEN_KEY)] == token
    assert await path_token(store) == token
    assert token not in scrub(f"POST /c2c/{token}")  # registered: masked in every log line


def test_the_url_to_register(paths: AppPaths) -> None:
    assert receiver_url(WebhookSettings(), "tok") == "http://127.0.0.1:8767/c2c/tok"
    assert receiver_url(WebhookSettings(host="::1", port=80), "tok") == "http://[::1]:80/c2c/tok"
    public = WebhookSettings(public_url="https://abc.tunnel.example/")
    assert receiver_url(public, "tok") == "https://abc.tunnel.example/c2c/tok"
    with pytest.raises(ConfigError, match="set a fixed port"):
        receiver_url(WebhookSettings(port=0), "tok")
