"""Provider accounts: everything but the secret, kept in a TOML file.

The secret (v2 token, v1 PIN, Kazoo API key or password, DigiDonar authcode) lives only in
the OS keyring (:mod:`dialer.core.secrets`); this file never sees it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.files import read_toml, write_toml_atomically
from dialer.core.limits import CallLimits
from dialer.core.numbers import NumberFormat

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0


class ProviderKind(StrEnum):
    C2C_V2 = "c2c-v2"
    CLICK2CALL_V1 = "click2call-v1"
    KAZOO = "kazoo"
    DIGIDONAR = "digidonar"


def provider_kind(text: str) -> str:
    """A provider kind as an account holds it: a built-in kind as its enum member (so that
    ``account.provider is ProviderKind.KAZOO`` holds), any other declared kind as text.
    Whether a kind is declared is the provider registry's to say, when the account is used."""
    try:
        return ProviderKind(text)
    except ValueError:
        return text


@dataclass(frozen=True, slots=True)
class Account:
    """One configured provider account. ``options`` holds provider-specific settings.

    Known options: ``webhook_id`` (C2C v2), ``uid`` and ``holdfile`` (Click2Call v1),
    ``kazoo_account``, ``kazoo_api`` (``v1``/``v2``), ``kazoo_user`` and
    ``kazoo_account_name`` (user/password login instead of an API key).
    """

    name: str
    provider: str  # a ProviderKind, or the kind of a provider registered as a plug-in
    url: str
    region: str | None = None
    number_format: NumberFormat | None = None  # None: the provider's default
    agent: str | None = None
    bridges: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    allow_insecure_http: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    # Every provider's: how many calls a minute and a day, and to which numbers.
    limits: CallLimits = field(default_factory=CallLimits)
    demo: bool = False  # demo accounts keep their secret in memory and are never saved

    def option(self, key: str, default: str | None = None) -> str | None:
        return self.options.get(key, default)

    @property
    def default_bridge(self) -> str | None:
        return self.bridges[0] if self.bridges else None

    @property
    def secret_key(self) -> str:
        """The keyring user name under the ``dialer`` service."""
        return f"account:{self.name}"

    @property
    def webhook_secret_key(self) -> str:
        """The keyring user name of the secret a C2C v2 webhook must present, if set."""
        return f"account:{self.name}:webhook"


class AccountSource(Protocol):
    """Where accounts come from: the TOML file (AccountStore) or memory (demo, tests)."""

    def get(self, name: str | None = None) -> Account: ...
    def list(self) -> list[Account]: ...
    def add(self, account: Account, *, make_default: bool = False) -> None: ...
    def update(self, account: Account) -> None: ...
    def remove(self, name: str) -> Account: ...


class StaticAccounts:
    """Accounts held in memory (the demo profile, tests)."""

    def __init__(self, accounts: list[Account], default: str | None = None):
        self._accounts = {a.name: a for a in accounts}
        self._default = default or (accounts[0].name if accounts else None)

    def get(self, name: str | None = None) -> Account:
        key = name or self._default
        if key is None or key not in self._accounts:
            raise ConfigError(f"No account named '{name}'" if name else "No account configured")
        return self._accounts[key]

    def list(self) -> list[Account]:
        return list(self._accounts.values())

    def add(self, account: Account, *, make_default: bool = False) -> None:
        if account.name in self._accounts:
            raise ConfigError(f"An account named '{account.name}' already exists")
        self._accounts[account.name] = account
        if make_default or self._default is None:
            self._default = account.name

    def update(self, account: Account) -> None:
        if account.name not in self._accounts:
            raise ConfigError(f"No account named '{account.name}'")
        self._accounts[account.name] = account

    def remove(self, name: str) -> Account:
        try:
            account = self._accounts.pop(name)
        except KeyError:
            raise ConfigError(f"No account named '{name}'") from None
        if self._default == name:
            self._default = next(iter(self._accounts), None)
        return account


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, *, allow_insecure_http: bool) -> str:
    """Validate an account's base URL; plain http to a remote host needs explicit consent."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"'{url}' is not an http(s) URL")
    if parts.username or parts.password or parts.query:
        raise InvalidInput(
            "The base URL must not carry user names, passwords or query parameters; "
            "the secret is asked for separately and kept in the keyring"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not allow_insecure_http:
        raise InvalidInput(
            f"Refusing plain http:// to {parts.hostname}: the secret would cross the network "
            "unencrypted. Use https://, or pass --allow-insecure-http if you accept the risk"
        )
    return url if url.endswith("/") else url + "/"


def _account_to_toml(account: Account) -> dict[str, Any]:
    data = asdict(account)
    data.pop("name")
    data.pop("demo")
    data["bridges"] = list(account.bridges)
    data["provider"] = str(account.provider)
    if account.number_format is None:
        data.pop("number_format")
    else:
        data["number_format"] = str(account.number_format)
    data["limits"] = _limits_to_toml(account.limits)
    return {k: v for k, v in data.items() if v is not None and v != {}}


def _limits_to_toml(limits: CallLimits) -> dict[str, Any]:
    """Only what differs from the defaults: an account that never set a limit follows the
    defaults of the release it runs on."""
    default = CallLimits()
    data: dict[str, Any] = {}
    for item in fields(CallLimits):
        value = getattr(limits, item.name)
        if value != getattr(default, item.name):
            data[item.name] = list(value) if isinstance(value, tuple) else value
    return data


def _limits_from_toml(name: str, data: Any) -> CallLimits:
    if not isinstance(data, dict):
        raise ConfigError(f"Account '{name}' in the accounts file has malformed limits")
    known = {f.name for f in fields(CallLimits)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"Account '{name}' has unknown limits: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "allowed_numbers":
            if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
                raise ConfigError(
                    f"Account '{name}': allowed_numbers must be a list of quoted number patterns"
                )
            values[key] = tuple(value)
        elif type(value) is not int:
            raise ConfigError(f"Account '{name}': the limit {key} must be a whole number")
        else:
            values[key] = value
    try:
        return CallLimits(**values)
    except InvalidInput as exc:
        raise ConfigError(f"Account '{name}' in the accounts file: {exc}") from None


def _account_from_toml(name: str, data: dict[str, Any]) -> Account:
    known = {f.name for f in fields(Account)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"Account '{name}' has unknown settings: {', '.join(sorted(unknown))}")
    try:
        return Account(
            name=name,
            provider=provider_kind(str(data["provider"])),
            url=str(data["url"]),
            region=data.get("region"),
            number_format=NumberFormat(data["number_format"]) if "number_format" in data else None,
            agent=data.get("agent"),
            bridges=tuple(str(b) for b in data.get("bridges", ())),
            options={str(k): str(v) for k, v in data.get("options", {}).items()},
            allow_insecure_http=bool(data.get("allow_insecure_http", False)),
            connect_timeout=float(data.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT)),
            read_timeout=float(data.get("read_timeout", DEFAULT_READ_TIMEOUT)),
            limits=_limits_from_toml(name, data.get("limits", {})),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"Account '{name}' in the accounts file is malformed: {exc}") from None


class AccountStore:
    """The accounts file. Reads are cheap; writes replace the file atomically."""

    def __init__(self, path: Path):
        self.path = path

    def _read(self) -> tuple[str | None, dict[str, Account]]:
        raw = read_toml(self.path, "accounts")
        if raw is None:
            return None, {}
        accounts = {
            name: _account_from_toml(name, data) for name, data in raw.get("accounts", {}).items()
        }
        default = raw.get("default")
        return (default if default in accounts else None), accounts

    def _write(self, default: str | None, accounts: dict[str, Account]) -> None:
        doc: dict[str, Any] = {}
        if default:
            doc["default"] = default
        doc["accounts"] = {name: _account_to_toml(acc) for name, acc in accounts.items()}
        write_toml_atomically(self.path, doc)

    def list(self) -> list[Account]:
        return list(self._read()[1].values())

    def default_name(self) -> str | None:
        default, accounts = self._read()
        if default is None and len(accounts) == 1:
            return next(iter(accounts))
        return default

    def get(self, name: str | None = None) -> Account:
        default, accounts = self._read()
        if name is None:
            name = default or (next(iter(accounts)) if len(accounts) == 1 else None)
            if name is None:
                if not accounts:
                    raise ConfigError("No account yet: add one with 'dialer account add'")
                raise ConfigError(
                    "Several accounts and no default: pass --account NAME "
                    f"(one of {', '.join(sorted(accounts))})"
                )
        try:
            return accounts[name]
        except KeyError:
            raise ConfigError(f"No account named '{name}'") from None

    def add(self, account: Account, *, make_default: bool = False) -> None:
        default, accounts = self._read()
        if account.name in accounts:
            raise ConfigError(f"An account named '{account.name}' already exists")
        accounts[account.name] = account
        if make_default or default is None:
            default = account.name
        self._write(default, accounts)

    def update(self, account: Account) -> None:
        default, accounts = self._read()
        if account.name not in accounts:
            raise ConfigError(f"No account named '{account.name}'")
        accounts[account.name] = account
        self._write(default, accounts)

    def remove(self, name: str) -> Account:
        default, accounts = self._read()
        try:
            account = accounts.pop(name)
        except KeyError:
            raise ConfigError(f"No account named '{name}'") from None
        if default == name:
            default = next(iter(accounts), None)
        self._write(default, accounts)
        return account


__all__ = [
    "Account",
    "AccountSource",
    "AccountStore",
    "ProviderKind",
    "StaticAccounts",
    "check_base_url",
    "is_loopback_host",
]
