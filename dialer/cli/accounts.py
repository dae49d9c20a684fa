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
    check_base_url,
    provider_kind,
)
from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.limits import DEFAULT_PER_DAY, DEFAULT_PER_MINUTE, CallLimits, parse_patterns
from dialer.core.numbers import NumberFormat, parse_contact, validate_region
from dialer.core.paths import AppPaths
from dialer.core.secrets import KeyringSecretStore
from dialer.providers import provider_spec, provider_specs
from dialer.providers.spec import in_sentence


def run(args: argparse.Namespace, paths: AppPaths) -> int:
    store = AccountStore(paths.accounts_file)
    if args.account_command == "add":
        return _add(args, store)
    if args.account_command == "list":
        return _list(args, store)
    return _remove(args, store)


def add_limit_flags(add: argparse.ArgumentParser) -> None:
    """``account add``'s call limits (every provider's)."""
    limits = add.add_argument_group(
        "call limits",
        "A call over a limit is refused before anything is sent; 0 means no limit. Minutes "
        "and days are rolling: the last 60 seconds, the last 24 hours.",
    )
    for flag, what, default in (
        ("--calls-per-minute", "calls a minute through the account", DEFAULT_PER_MINUTE),
        ("--calls-per-day", "calls a day through the account", DEFAULT_PER_DAY),
        ("--agent-calls-per-minute", "calls a minute by each agent", DEFAULT_PER_MINUTE),
        ("--agent-calls-per-day", "calls a day by each agent", DEFAULT_PER_DAY),
    ):
        limits.add_argument(
            flag, type=_limit, metavar="N", help=f"at most N {what} (default {default})"
        )
    limits.add_argument(
        "--allow-number",
        action="append",
        default=[],
        metavar="PATTERN",
        help="call only numbers matching PATTERN, in international form with an optional * "
        "at the end: +9180* allows every number starting with +91 80 (repeatable; "
        "default: any number)",
    )


def _limit(text: str) -> int:
    try:
        value = int(text) if len(text) <= 12 else None
    except ValueError:
        value = None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(
            f"'{text[:20]}' is not a whole number of calls (0 for no limit)"
        )
    return value


def limits_from_args(args: argparse.Namespace) -> CallLimits:
    """The limits the flags set; the defaults for those not given."""
    default = CallLimits()
    given = {
        "per_minute": getattr(args, "calls_per_minute", None),
        "per_day": getattr(args, "calls_per_day", None),
        "agent_per_minute": getattr(args, "agent_calls_per_minute", None),
        "agent_per_day": getattr(args, "agent_calls_per_day", None),
    }
    return CallLimits(
        **{key: getattr(default, key) if value is None else value for key, value in given.items()},
        allowed_numbers=parse_patterns(getattr(args, "allow_number", None) or ()),
    )


def limits_text(limits: CallLimits) -> str:
    """``6/min 500/day, each agent 6/min 500/day, only +9180*``: ``account list``'s."""

    def pair(minute: int, day: int) -> str:
        return f"{minute or 'any'}/min {day or 'any'}/day"

    text = (
        f"{pair(limits.per_minute, limits.per_day)}, each agent "
        f"{pair(limits.agent_per_minute, limits.agent_per_day)}"
    )
    if limits.allowed_numbers:
        text += ", only " + " ".join(limits.allowed_numbers)
    return text


def account_from_args(args: argparse.Namespace) -> Account:
    """Validate the flags of ``account add`` into an :class:`Account` (no secret)."""
    spec = provider_spec(args.provider)
    provider = provider_kind(args.provider)
    if not args.name.strip() or any(c in args.name for c in "\r\n\t"):
        raise InvalidInput("The account name must be a non-empty single line")
    options: dict[str, str] = {}
    for other in provider_specs():
        for setting in other.option_fields:
            value = getattr(args, setting.key, None)
            if value is None:
                continue
            if other.kind != spec.kind and spec.field(setting.key) is None:
                raise InvalidInput(
                    f"{setting.flag} is a {other.kind} setting, but this is a {provider} "
                    "account: leave it out"
                )
            options[setting.key] = value
    spec.check_options(options, flags=True)
    if args.bridge and spec.bridges is None:
        instead = (
            " (give the clicktocall with --kazoo-clicktocall)"
            if spec.field("kazoo_clicktocall")
            else ""
        )
        raise InvalidInput(f"A {spec.kind} account takes no --bridge{instead}")
    region = validate_region(args.region) if args.region else None
    url = check_base_url(args.url, allow_insecure_http=args.allow_insecure_http)
    agent = None
    if args.agent:
        # Stored as given but checked now, so a typo is caught when it is cheap to fix.
        parse_contact(args.agent, region, allow_sip=spec.sip_agent)
        agent = args.agent.strip()
    for timeout in (args.connect_timeout, args.read_timeout):
        if timeout is not None and not 0 < timeout <= 300:
            raise InvalidInput("Timeouts must be more than 0 and at most 300 seconds")
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
        limits=limits_from_args(args),
    )


def read_secret(account: Account) -> str:
    declared = provider_spec(account.provider).secret
    what = in_sentence(declared.label_for(account.options))
    secret = read_secret_line(what, account.name)
    if not secret.strip():
        # Nothing typed at the prompt is not an empty standard input.
        piped = sys.stdin is not None and not sys.stdin.isatty()
        raise InvalidInput(f"No {what} given" + (" (standard input was empty)" if piped else ""))
    problem = declared.problem(secret, account.options)
    if problem:
        raise InvalidInput(problem)
    return secret


def read_secret_line(what: str, account_name: str) -> str:
    """A secret typed at the prompt, or piped in: the one line break ``echo`` adds at the
    end is not part of it; anything else is, for the caller to check."""
    if sys.stdin is None:
        raise InvalidInput(f"No {what} given: pipe it on standard input")
    if sys.stdin.isatty():
        return getpass.getpass(f"{what} for {account_name}: ")
    text = sys.stdin.read()
    return text.removesuffix("\n").removesuffix("\r")


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
                "limits": {
                    "per_minute": a.limits.per_minute,
                    "per_day": a.limits.per_day,
                    "agent_per_minute": a.limits.agent_per_minute,
                    "agent_per_day": a.limits.agent_per_day,
                    "allowed_numbers": list(a.limits.allowed_numbers),
                },
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
            f"bridges={bridges}"
            + (f"  {extras}" if extras else "")
            + f"  limits: {limits_text(a.limits)}"
        )
    return 0


def _remove(args: argparse.Namespace, store: AccountStore) -> int:
    account = store.get(args.name)
    KeyringSecretStore().delete(account.secret_key)
    store.remove(account.name)
    print(f"Removed account '{account.name}' and its keyring entry")
    return 0
