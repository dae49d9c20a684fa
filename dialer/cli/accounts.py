"""``dialer account add|list|remove``."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from dialer.core.accounts import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    Account,
    AccountStore,
    ProviderKind,
    check_base_url,
)
from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.numbers import NumberFormat, parse_contact, validate_region
from dialer.core.paths import AppPaths
from dialer.core.secrets import KeyringSecretStore

SECRET_NAMES = {
    ProviderKind.C2C_V2: "API token",
    ProviderKind.CLICK2CALL_V1: "API PIN",
    ProviderKind.KAZOO: "API key",
    ProviderKind.DIGIDONAR: "authcode",
}

_OPTION_FLAGS = {
    "webhook_id": "webhook_id",
    "uid": "uid",
    "holdfile": "holdfile",
    "kazoo_account": "kazoo_account",
    "kazoo_api": "kazoo_api",
    "kazoo_user": "kazoo_user",
    "kazoo_account_name": "kazoo_account_name",
}

# Which provider each provider-specific flag belongs to, to refuse a flag that would be ignored.
_FLAG_PROVIDER = {
    "webhook_id": ProviderKind.C2C_V2,
    "uid": ProviderKind.CLICK2CALL_V1,
    "holdfile": ProviderKind.CLICK2CALL_V1,
    "kazoo_account": ProviderKind.KAZOO,
    "kazoo_api": ProviderKind.KAZOO,
    "kazoo_user": ProviderKind.KAZOO,
    "kazoo_account_name": ProviderKind.KAZOO,
}


def run(args: argparse.Namespace, paths: AppPaths) -> int:
    store = AccountStore(paths.accounts_file)
    if args.account_command == "add":
        return _add(args, store)
    if args.account_command == "list":
        return _list(args, store)
    return _remove(args, store)


def account_from_args(args: argparse.Namespace) -> Account:
    """Validate the flags of ``account add`` into an :class:`Account` (no secret)."""
    provider = ProviderKind(args.provider)
    if not args.name.strip() or any(c in args.name for c in "\r\n\t"):
        raise InvalidInput("The account name must be a non-empty single line")
    options: dict[str, str] = {}
    for attr, key in _OPTION_FLAGS.items():
        value = getattr(args, attr)
        if value is None:
            continue
        owner = _FLAG_PROVIDER[attr]
        if owner is not provider:
            flag = "--" + attr.replace("_", "-")
            raise InvalidInput(f"{flag} is a {owner} setting; this account is {provider}")
        options[key] = value
    if provider is ProviderKind.CLICK2CALL_V1 and "uid" not in options:
        raise InvalidInput("A click2call-v1 account needs --uid")
    if provider is ProviderKind.KAZOO:
        if "kazoo_account" not in options:
            raise InvalidInput("A kazoo account needs --kazoo-account (the account id)")
        if "kazoo_user" in options and "kazoo_account_name" not in options:
            raise InvalidInput("Kazoo user login (--kazoo-user) needs --kazoo-account-name")
    region = validate_region(args.region) if args.region else None
    url = check_base_url(args.url, allow_insecure_http=args.allow_insecure_http)
    agent = None
    if args.agent:
        # Stored as given but checked now, so a typo is caught when it is cheap to fix.
        parse_contact(args.agent, region, allow_sip=provider is ProviderKind.KAZOO)
        agent = args.agent.strip()
    for timeout in (args.connect_timeout, args.read_timeout):
        if timeout is not None and not 0 < timeout <= 300:
            raise InvalidInput("Timeouts must be between 0 and 300 seconds")
    return Account(
        name=args.name.strip(),
        provider=provider,
        url=url,
        region=region,
        number_format=NumberFormat(args.number_format) if args.number_format else None,
        agent=agent,
        bridges=tuple(b.strip() for b in args.bridge if b.strip()),
        options=options,
        allow_insecure_http=args.allow_insecure_http,
        connect_timeout=args.connect_timeout or DEFAULT_CONNECT_TIMEOUT,
        read_timeout=args.read_timeout or DEFAULT_READ_TIMEOUT,
    )


def read_secret(account: Account) -> str:
    what = SECRET_NAMES[account.provider]
    if account.provider is ProviderKind.KAZOO and account.option("kazoo_user"):
        what = "password"
    if sys.stdin is None:
        raise InvalidInput(f"No {what} given: pipe it on standard input")
    if sys.stdin.isatty():
        secret = getpass.getpass(f"{what} for {account.name}: ")
    else:
        secret = sys.stdin.read()
    secret = secret.strip("\r\n")
    if not secret.strip():
        raise InvalidInput(f"No {what} given (standard input was empty)")
    return secret


def _add(args: argparse.Namespace, store: AccountStore) -> int:
    account = account_from_args(args)
    if any(a.name == account.name for a in store.list()):
        raise ConfigError(f"An account named '{account.name}' already exists")
    secret = read_secret(account)
    secrets = KeyringSecretStore()
    secrets.set(account.secret_key, secret)  # first: no keyring, no account half-added
    try:
        store.add(account, make_default=args.default)
    except BaseException:
        secrets.delete(account.secret_key)
        raise
    print(f"Added {account.provider} account '{account.name}'; its secret is in the OS keyring")
    return 0


def _list(args: argparse.Namespace, store: AccountStore) -> int:
    accounts = store.list()
    default = store.default_name()
    if args.json:
        rows = [
            {
                "name": a.name,
                "provider": str(a.provider),
                "url": a.url,
                "region": a.region,
                "number_format": str(a.number_format) if a.number_format else None,
                "agent": a.agent,
                "bridges": list(a.bridges),
                "options": a.options,
                "allow_insecure_http": a.allow_insecure_http,
                "default": a.name == default,
            }
            for a in accounts
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not accounts:
        print("No accounts. Add one with: dialer account add NAME --provider ... --url ...")
        return 0
    for a in accounts:
        mark = "*" if a.name == default else " "
        extras = ", ".join(f"{k}={v}" for k, v in a.options.items())
        bridges = ", ".join(a.bridges) or "-"
        print(
            f"{mark} {a.name}  {a.provider}  {a.url}  agent={a.agent or '-'}  "
            f"bridges={bridges}" + (f"  {extras}" if extras else "")
        )
    return 0


def _remove(args: argparse.Namespace, store: AccountStore) -> int:
    account = store.get(args.name)
    KeyringSecretStore().delete(account.secret_key)
    store.remove(account.name)
    print(f"Removed account '{account.name}' and its keyring entry")
    return 0
