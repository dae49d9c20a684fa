"""``dialer kazoo list|show|create|update|delete|history``: a Kazoo account's clicktocalls
(seed 003), as the window's clicktocall dialog manages them.

Every property is checked as the document gives it before anything is sent
(:mod:`dialer.providers.kazoo_clicktocall`); ``update`` sends what was asked and keeps the
rest; ``delete`` asks first unless ``--yes``. Exit codes as ``dialer call``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dialer.core.errors import ConfigError, InvalidInput

if TYPE_CHECKING:
    from dialer.core.accounts import Account, AccountStore
    from dialer.core.paths import AppPaths
    from dialer.providers.kazoo import KazooProvider


def _count(text: str) -> int:
    try:
        value = int(text) if len(text) <= 12 else None
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"'{text[:20]}' is not a whole number")
    return value  # 0 or more is the property's own check, with its sentence


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from dialer.providers.kazoo_clicktocall import BY_KEY

    kazoo = commands.add_parser(
        "kazoo",
        help="list, create, edit and delete a Kazoo account's clicktocalls",
        description="A Kazoo account's clicktocalls: the objects a call goes through (their "
        "extension rings first, then the customer). ID_OR_NAME is a clicktocall's id or name.",
    )
    actions = kazoo.add_subparsers(dest="kazoo_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str, *, target: bool = True) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text, description=help_text)
        if target:
            parser.add_argument("clicktocall", metavar="ID_OR_NAME")
        parser.add_argument("--account", help="a Kazoo account (default: the only or default one)")
        return parser

    def properties(parser: argparse.ArgumentParser, *, creating: bool) -> None:
        for key in ("name", "extension"):
            prop = BY_KEY[key]
            parser.add_argument(prop.flag, dest=key, required=creating, help=prop.help)
        optional = "" if creating else " (an empty value removes it)"
        for key in ("realm", "caller_id_number", "outbound_callee_id_name"):
            prop = BY_KEY[key]
            parser.add_argument(prop.flag, dest=key, help=prop.help + optional)
        prop = BY_KEY["outbound_callee_id_number"]
        parser.add_argument(prop.flag, dest=prop.key, help=prop.help + optional)
        parser.add_argument(
            "--auth-required",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=BY_KEY["auth_required"].help + (" (Kazoo's default: yes)" if creating else ""),
        )
        parser.add_argument(
            "--whitelist",
            action="append",
            metavar="REGEX",
            help=BY_KEY["whitelist"].help
            + " (repeatable"
            + ("; replaces the list)" if not creating else ")"),
        )
        parser.add_argument("--throttle", type=_count, metavar="N", help=BY_KEY["throttle"].help)
        if not creating:
            parser.add_argument(
                "--clear-whitelist", action="store_true", help="call any number again"
            )
        parser.add_argument("--json", action="store_true", help="print the clicktocall as JSON")

    listing = action("list", "list the account's clicktocalls", target=False)
    listing.add_argument("--json", action="store_true")
    show = action("show", "show every property of one clicktocall")
    show.add_argument("--json", action="store_true")
    properties(action("create", "create a clicktocall", target=False), creating=True)
    properties(action("update", "change some properties and keep the rest"), creating=False)
    delete = action("delete", "delete a clicktocall")
    delete.add_argument("--yes", action="store_true", help="do not ask first")
    history = action("history", "past calls through a clicktocall (Kazoo keeps 31 days)")
    history.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, paths: AppPaths) -> int:
    from dialer.core.accounts import AccountStore

    store = AccountStore(paths.accounts_file)
    account = kazoo_account(store, args.account)
    if args.kazoo_command == "delete" and not args.yes:
        _confirm_delete(args.clicktocall)
    return asyncio.run(_run(args, account))


def kazoo_account(store: AccountStore, name: str | None) -> Account:
    """The account named, else the default one if it is Kazoo's, else the only Kazoo one."""
    from dialer.core.accounts import ProviderKind

    if name:
        account = store.get(name)
        if account.provider is not ProviderKind.KAZOO:
            raise InvalidInput(
                f"Account '{name}' is a {account.provider} account; clicktocalls are Kazoo's"
            )
        return account
    accounts = [a for a in store.list() if a.provider is ProviderKind.KAZOO]
    if not accounts:
        raise ConfigError("No Kazoo account: add one with 'dialer account add --provider kazoo'")
    default = store.default_name()
    for account in accounts:
        if account.name == default:
            return account
    if len(accounts) > 1:
        names = ", ".join(sorted(a.name for a in accounts))
        raise InvalidInput(f"Several Kazoo accounts: pass --account NAME (one of {names})")
    return accounts[0]


def _confirm_delete(target: str) -> None:
    if not sys.stdin.isatty():
        raise InvalidInput(
            f"Deleting clicktocall '{target}' cannot be undone: pass --yes to delete it "
            "without being asked"
        )
    answer = input(f"Delete clicktocall '{target}'? This cannot be undone. [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise InvalidInput("Nothing deleted")


async def _run(args: argparse.Namespace, account: Account) -> int:
    from dialer.app.service import open_provider
    from dialer.core.secrets import KeyringSecretStore
    from dialer.providers.kazoo import KazooProvider

    provider = await open_provider(account, KeyringSecretStore())
    assert isinstance(provider, KazooProvider)
    try:
        command: Callable[[argparse.Namespace, KazooProvider], Any] = _COMMANDS[args.kazoo_command]
        return int(await command(args, provider))
    finally:
        await provider.aclose()


async def _list(args: argparse.Namespace, provider: KazooProvider) -> int:
    items = await provider.list_clicktocalls()
    if args.json:
        print(json.dumps(items))
        return 0
    if not items:
        print(f"Account '{provider.account.name}' has no clicktocall yet.")
        return 0
    chosen = provider.chosen_clicktocall
    rows = [("ID", "NAME", "EXTENSION", "")]
    for item in items:
        mark = "(clicktocall to use)" if chosen in (item.get("id"), item.get("name")) else ""
        rows.append(
            (str(item.get("id")), str(item.get("name", "")), str(item.get("extension", "")), mark)
        )
    _print_table(rows)
    return 0


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    """Columns as wide as their widest cell, two spaces apart; no trailing blanks."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


async def _show(args: argparse.Namespace, provider: KazooProvider) -> int:
    found = await provider.find_clicktocall(args.clicktocall)
    document = await provider.get_clicktocall(str(found["id"]))
    _print_document(document, as_json=args.json)
    return 0


def _print_document(document: dict[str, Any], *, as_json: bool) -> None:
    from dialer.providers.kazoo_clicktocall import PROPERTIES

    if as_json:
        print(json.dumps(document))
        return
    print(f"Id: {document.get('id')}")
    for prop in PROPERTIES:
        if prop.key not in document:
            continue
        value = document[prop.key]
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, list):
            shown = ", ".join(map(str, value)) if value else "(empty: any number)"
        else:
            shown = str(value)
        print(f"{prop.label}: {shown}")
    if "history_items" in document:
        print(f"History items: {document['history_items']}")


def _values(args: argparse.Namespace, *, creating: bool) -> dict[str, Any]:
    """The properties the flags give; in an update an empty value removes a property."""
    from dialer.providers.kazoo_clicktocall import PROPERTIES

    values: dict[str, Any] = {}
    for prop in PROPERTIES:
        given = getattr(args, prop.key, None)
        if given is None:
            continue
        if isinstance(given, str) and not given.strip() and not creating and not prop.required:
            values[prop.key] = None
        else:
            values[prop.key] = given
    if not creating and args.clear_whitelist:
        if args.whitelist:
            raise InvalidInput("Give --whitelist or --clear-whitelist, not both")
        values["whitelist"] = []
    return values


async def _create(args: argparse.Namespace, provider: KazooProvider) -> int:
    made = await provider.add_clicktocall(_values(args, creating=True))
    if args.json:
        print(json.dumps(made))
    else:
        from dialer.providers.kazoo_clicktocall import describe

        print(f"Created clicktocall {describe(made)}")
    return 0


async def _update(args: argparse.Namespace, provider: KazooProvider) -> int:
    changes = _values(args, creating=False)
    if not changes:
        raise InvalidInput("Nothing to change: give at least one property (see --help)")
    found = await provider.find_clicktocall(args.clicktocall)
    edited = await provider.edit_clicktocall(str(found["id"]), changes)
    if args.json:
        print(json.dumps(edited))
    else:
        from dialer.providers.kazoo_clicktocall import BY_KEY, describe

        names = ", ".join(BY_KEY[key].label.lower() for key in changes if key in BY_KEY)
        print(f"Updated clicktocall {describe(edited)}: {names}")
    return 0


async def _delete(args: argparse.Namespace, provider: KazooProvider) -> int:
    from dialer.providers.kazoo_clicktocall import describe

    found = await provider.find_clicktocall(args.clicktocall)
    await provider.delete_clicktocall(str(found["id"]))
    print(f"Deleted clicktocall {describe(found)}")
    if provider.chosen_clicktocall in (found.get("id"), found.get("name")):
        print(
            f"Account '{provider.account.name}' still names it as its clicktocall to use: "
            "its calls will be refused until you choose another"
        )
    return 0


async def _history(args: argparse.Namespace, provider: KazooProvider) -> int:
    from dialer.providers.kazoo import kazoo_item_time

    found = await provider.find_clicktocall(args.clicktocall)
    items = await provider.history(str(found["id"]))
    if args.json:
        print(json.dumps(items))
        return 0
    if not items:
        print(f"No call through clicktocall '{found.get('name')}' in the last 31 days.")
        return 0
    rows = [("WHEN", "CONTACT", "CALL ID", "CDR ID", "RESULT")]
    for item in items:
        at = kazoo_item_time(item)
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at is not None else "?"
        result = " ".join(str(item[k]) for k in ("result", "cause") if item.get(k))
        rows.append(
            (
                when,
                str(item.get("contact", "")),
                str(item.get("call_id", "")),
                str(item.get("cdr_id", "")),
                result,
            )
        )
    _print_table(rows)
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, KazooProvider], Any]] = {
    "list": _list,
    "show": _show,
    "create": _create,
    "update": _update,
    "delete": _delete,
    "history": _history,
}
