"""Where the webhook receiver listens, and the URL to register in the provider's panel.

Settings live in ``config_dir/webhooks.toml`` (``host``, ``port``, optional ``public_url``).
The secret path segment that makes the URL unguessable is not a setting: it is made once
and kept in the OS keyring (key ``webhooks:path-token``), never in a file or a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from secrets import token_urlsafe
from typing import Any
from urllib.parse import urlsplit

from dialer.core.accounts import is_loopback_host
from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.files import read_toml, write_toml_atomically
from dialer.core.paths import AppPaths
from dialer.core.redact import register_secret
from dialer.core.secrets import SecretStore, get_secret, set_secret

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8767
PATH_TOKEN_KEY = "webhooks:path-token"  # noqa: S105 - the keyring entry's name, not a secret
PATH_PREFIX = "/c2c/"


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0: any free port (the URL is known only once it runs)
    # The address the provider reaches the receiver at, when a reverse proxy or a tunnel
    # forwards to it ("https://dialer.example.com/hooks"); the path segment is appended.
    public_url: str | None = None


def settings_file(paths: AppPaths) -> Path:
    return paths.config_dir / "webhooks.toml"


def check_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidInput(f"'{port}' is not a port number (0 to 65535)")
    return port


def check_public_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"The public URL '{url}' is not an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidInput(
            "The public URL must not carry a query, a fragment, a user name or a password; "
            "the receiver's secret path segment is appended to it"
        )
    return url.rstrip("/")


def load_settings(paths: AppPaths) -> WebhookSettings:
    """The settings file, or the defaults when there is none."""
    path = settings_file(paths)
    raw = read_toml(path, "webhook receiver's settings")
    if raw is None:
        return WebhookSettings()
    unknown = set(raw) - {"host", "port", "public_url"}
    if unknown:
        raise ConfigError(f"{path} has unknown settings: {', '.join(sorted(unknown))}")
    try:
        host = raw.get("host", DEFAULT_HOST)
        if not isinstance(host, str) or not host.strip():
            raise InvalidInput("'host' must be a host name or address")
        port = check_port(raw.get("port", DEFAULT_PORT))
        public_url = raw.get("public_url")
        if public_url is not None:
            if not isinstance(public_url, str):
                raise InvalidInput("'public_url' must be a URL")
            public_url = check_public_url(public_url) if public_url.strip() else None
    except InvalidInput as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return WebhookSettings(host=host.strip(), port=port, public_url=public_url)


def save_settings(paths: AppPaths, settings: WebhookSettings) -> None:
    """Replace the settings file atomically (a crash never leaves half a file)."""
    check_port(settings.port)
    document: dict[str, Any] = {"host": settings.host, "port": settings.port}
    if settings.public_url:
        document["public_url"] = check_public_url(settings.public_url)
    write_toml_atomically(settings_file(paths), document)


def new_path_token() -> str:
    return token_urlsafe(24)


async def path_token(secrets: SecretStore) -> str:
    """The receiver's secret path segment: read from the secret store, made on first use."""
    token = await get_secret(secrets, PATH_TOKEN_KEY)
    if not token:
        token = new_path_token()
        await set_secret(secrets, PATH_TOKEN_KEY, token)
    register_secret(token)  # masked in every log line from now on
    return token


def format_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def receiver_url(settings: WebhookSettings, token: str) -> str:
    """The URL to register in the provider's panel: the public URL when one is set (a
    reverse proxy or a tunnel in front of the receiver), else the address it listens on."""
    if settings.public_url:
        base = settings.public_url.rstrip("/")
    else:
        if settings.port == 0:
            raise ConfigError(
                "The receiver's port is 0 (any free port), so its URL is known only while it "
                "runs; set a fixed port (dialer webhooks config --port N)"
            )
        base = f"http://{format_host(settings.host)}:{settings.port}"
    return f"{base}{PATH_PREFIX}{token}"


_WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - recognised, not bound


def url_notes(settings: WebhookSettings, url: str, *, set_public_url: str) -> list[tuple[str, str]]:
    """What a person registering ``url`` should know: ("note" | "warning", sentence) pairs.
    ``set_public_url`` says how to set a public URL where they are (a command, a field)."""
    notes: list[tuple[str, str]] = []
    if settings.public_url is None:
        if is_loopback_host(settings.host):
            notes.append(
                (
                    "note",
                    "this address is reachable from this machine only. A provider on the "
                    "internet needs a reverse proxy or a tunnel in front of the receiver: "
                    f"set its address {set_public_url}",
                )
            )
        elif settings.host in _WILDCARDS:
            notes.append(
                (
                    "note",
                    "the receiver listens on every interface; replace "
                    f"{settings.host or '*'} with this machine's public name or address, "
                    f"or set a public URL {set_public_url}",
                )
            )
    if url.startswith("http://") and not is_loopback_host(urlsplit(url).hostname or ""):
        notes.append(
            (
                "warning",
                "plain http:// crosses the network unencrypted, secret path included; "
                "put TLS in front of the receiver (https://)",
            )
        )
    return notes
