"""``dialer``: accounts, calls, history, the webhook receiver, the simulator and the demo
from a terminal.

Exit codes of ``dialer call`` (scripts rely on them): 0 accepted by the provider; 2 invalid
input or an option the provider cannot do; 3 refused by the provider (authentication,
rejection, an answer that could not be read, or an unexpected fault while placing: the call
may have been placed); 4 provider unreachable. Failures print one
line on stderr, never a traceback; the details go to the log file.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from dialer import __version__
from dialer.core.errors import DialerError, InvalidInput

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_INPUT, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 2, 3, 4, 130


def _positive_int(text: str) -> int:
    shown = repr(text if len(text) <= 20 else text[:19] + "…")
    try:
        value = int(text) if len(text) <= 40 else None  # a 5,000-digit paste is no length
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown} is not a whole number of seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{shown} must be greater than zero")
    return value


def _attempts(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    return value  # the range (0..2) is checked by CallRequest, with its own message


def _variable(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"'{text}' is not KEY=VALUE")
    return key.strip(), value


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"dialer {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (Qt, the keyring, a call on the built-in simulator)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the window on the demo profile (built-in simulator, sample contacts)",
    )


def _provider_flags(add: argparse.ArgumentParser) -> None:
    """``--provider`` and each provider's own settings, as their declarations name them
    (dialer/providers/spec.py)."""
    from dialer.providers import provider_specs

    specs = provider_specs()
    add.add_argument("--provider", required=True, choices=[str(spec.kind) for spec in specs])
    for spec in specs:
        for setting in spec.option_fields:
            add.add_argument(
                setting.flag,
                dest=setting.key,
                metavar=setting.metavar,
                choices=setting.choices or None,
                help=setting.help or f"{spec.label}: {setting.label}",
            )


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line. ``argv``: the words it will parse; the providers' own flags
    of ``account add`` (read from their declarations, which imports every provider module)
    are added only when they can be used, so a launch that hands a number to the window
    does not pay for them."""
    parser = argparse.ArgumentParser(
        prog="dialer",
        description="Click-to-call dialer: your phone rings, then the customer's.",
        epilog="'dialer NUMBER' or 'dialer tel:...' (also callto:, sip:) opens the window with "
        "that number, or hands it to the window already open.",
    )
    _global_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    account = commands.add_parser("account", help="add, list and remove provider accounts")
    account_cmds = account.add_subparsers(dest="account_command", metavar="ACTION", required=True)
    add = account_cmds.add_parser(
        "add",
        help="add an account (the secret is read from stdin, or prompted without echo)",
        description="Add an account. The secret (C2C v2 token, v1 PIN, Kazoo API key or "
        "password, DigiDonar authcode) is read from standard input when it is not a terminal, "
        "else prompted without echo, and stored only in the OS keyring.",
    )
    add.add_argument("name")
    if argv is None or "account" in argv:
        _provider_flags(add)
    add.add_argument("--url", required=True, help="the API base URL")
    add.add_argument("--region", help="default country for national numbers (ISO code: IN, GB)")
    add.add_argument("--agent", help="the agent's own phone number (rung first)")
    add.add_argument("--bridge", action="append", default=[], metavar="DID", help="repeatable")
    add.add_argument("--number-format", choices=("digits", "e164", "national"))
    add.add_argument("--connect-timeout", type=float, metavar="SECONDS")
    add.add_argument("--read-timeout", type=float, metavar="SECONDS")
    add.add_argument("--allow-insecure-http", action="store_true")
    add.add_argument("--default", action="store_true", help="make it the default account")
    if argv is None or "account" in argv:
        from dialer.cli.accounts import add_limit_flags

        add_limit_flags(add)
    listing = account_cmds.add_parser("list", help="list accounts (never prints a secret)")
    listing.add_argument("--json", action="store_true")
    remove = account_cmds.add_parser("remove", help="remove an account and its keyring entry")
    remove.add_argument("name")

    call = commands.add_parser("call", help="place a call: your phone rings, then NUMBER")
    call.add_argument("number", help="the customer's number, a tel: URI, or (Kazoo) a sip: URI")
    call.add_argument("--account", help="account name (default: the default account)")
    call.add_argument("--agent", help="the agent's phone (default: the account's)")
    call.add_argument("--bridge", metavar="DID_OR_ID", help="caller id DID / Kazoo clicktocall")
    call.add_argument("--flow", metavar="ID", help="ring the customer into this IVR flow")
    call.add_argument(
        "--var",
        action="append",
        default=[],
        type=_variable,
        metavar="KEY=VALUE",
        help="flow variable (repeatable)",
    )
    call.add_argument("--record", action="store_true")
    call.add_argument("--max-seconds", type=_positive_int, metavar="N")
    call.add_argument("--attempts", type=_attempts, metavar="N", help="redials (0 to 2)")
    call.add_argument("--holdfile", help="Click2Call v1: sound file id for this call")
    call.add_argument("--campid", metavar="ID", help="DigiDonar: campaign id for this call")
    call.add_argument("--json", action="store_true", help="print the call as one JSON object")

    simulate = commands.add_parser("simulate", help="run the provider simulator")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8765)
    simulate.add_argument("--webhook-url", help="where to push C2C v2 call reports")
    simulate.add_argument("--ring-seconds", type=float, default=3.0)
    simulate.add_argument("--talk-seconds", type=float, default=8.0)
    simulate.add_argument(
        "--answer-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="make every API answer this slow (try how the app copes with a slow provider)",
    )

    commands.add_parser("demo", help="start the simulator and place a demo call on every provider")
    _add_report_commands(commands)
    return parser


def _add_report_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``history``, ``report``, ``track``, ``webhooks``, ``team`` and ``kazoo``: their
    options live with their code."""
    from dialer.cli import history, kazoo, team, track, webhooks

    history.add_parser(commands)
    track.add_parser(commands)
    webhooks.add_parser(commands)
    team.add_parser(commands)
    kazoo.add_parser(commands)


def _dial_argument(arguments: list[str]) -> str | None:
    """A link or number given to ``dialer`` itself (``dialer tel:+91...``, the way desktops
    and browsers start the app for a link), as opposed to a command."""
    from dialer.core.links import is_dial_target

    first = next((a for a in arguments if not a.startswith("-")), None)
    if first is None or first in _COMMANDS or not is_dial_target(first):
        return None
    return first


_COMMANDS = frozenset(
    {
        "account",
        "call",
        "simulate",
        "demo",
        "history",
        "webhooks",
        "team",
        "report",
        "track",
        "kazoo",
    }
)


def _forwarded(parser: argparse.ArgumentParser, args: argparse.Namespace, paths: Any) -> bool:
    """``dialer call NUMBER`` while this profile's window runs: the number goes to the
    window (the agent sees it and confirms there) and nothing is placed from here. Any
    call option, ``--json``, or ``DIALER_NO_WINDOW=1`` keeps the headless behaviour, where
    scripts rely on the exit codes above."""
    import os

    defaults = parser.parse_args(["call", args.number])
    if vars(args) != vars(defaults) or os.environ.get("DIALER_NO_WINDOW") == "1":
        return False
    from dialer.ui.single_instance import InstanceError, forward_if_running

    try:
        sent = forward_if_running(paths.data_dir, {"dial": args.number})
    except InstanceError as exc:
        print(f"dialer: {exc}; placing the call from here instead", file=sys.stderr)
        return False
    if sent:
        print("Sent to the Dialer window already running: confirm the call there.")
    return sent


def _window_launch(arguments: list[str]) -> tuple[bool, str | None] | None:
    """``dialer``, ``dialer --demo`` and ``dialer NUMBER`` (a link): (demo, number) for the
    window, else None. Such a launch opens the window without building the command line
    (every command's parser and the modules behind it: about 0.15 s before the window)."""
    words = [a for a in arguments if a != "--demo"]
    if len(arguments) - len(words) > 1 or len(words) > 1:
        return None
    number = words[0] if words else None
    if number is not None:
        from dialer.core.links import is_dial_target

        if number.startswith("-") or number in _COMMANDS or not is_dial_target(number):
            return None
    return "--demo" in arguments, number


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. Returns the exit code (``python -m dialer`` raises SystemExit)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    window = _window_launch(arguments)
    if window is not None:
        from dialer.ui.app import run as run_window

        return run_window(demo=window[0], number=window[1])
    parser = build_parser(arguments)
    link = _dial_argument(arguments)
    if link is not None:
        arguments.remove(link)
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # argparse has printed usage or --version already
        return int(exc.code or 0)
    if args.self_test:
        from dialer.ui.self_test import run_self_test

        return run_self_test()
    if args.command is None:
        from dialer.ui.app import run as run_window

        return run_window(demo=args.demo, number=link)
    if link is not None:
        parser.print_usage(sys.stderr)
        print(
            f"dialer: a link cannot be combined with other arguments: run 'dialer {link}' or "
            f"'dialer call {link}'",
            file=sys.stderr,
        )
        return EXIT_INPUT
    from dialer.core.logs import setup_logging
    from dialer.core.paths import AppPaths

    paths = AppPaths.default()
    log_file = setup_logging(paths.log_dir)
    try:
        return _run_command(parser, args, paths)
    except DialerError as exc:
        print(f"dialer: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dialer: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        logger.exception("Unexpected error in 'dialer %s'", args.command)
        from dialer.core.redact import scrub

        print(
            f"dialer: unexpected error ({type(exc).__name__}: {scrub(str(exc))}); "
            f"details in {log_file}",
            file=sys.stderr,
        )
        return 1


def _run_command(parser: argparse.ArgumentParser, args: argparse.Namespace, paths: Any) -> int:
    """Run one command; its failures are the caller's to print."""
    import asyncio  # here, not at the top: a launch of the window never needs this one

    if args.command == "account":
        from dialer.cli import accounts

        return accounts.run(args, paths)
    if args.command == "call":
        if _forwarded(parser, args, paths):
            return EXIT_OK
        return asyncio.run(_call(args, paths))
    if args.command == "simulate":
        from dialer.cli import simulate

        return asyncio.run(simulate.run(args))
    if args.command == "demo":
        from dialer.cli import demo

        return asyncio.run(demo.run(paths))
    if args.command == "history":
        from dialer.cli import history

        return history.run(args, paths)
    if args.command in ("report", "track"):
        from dialer.cli import track

        return asyncio.run(track.run(args, paths))
    if args.command == "webhooks":
        from dialer.cli import webhooks

        return asyncio.run(webhooks.run(args, paths))
    if args.command == "team":
        from dialer.cli import team

        return team.run(args, paths)
    if args.command == "kazoo":
        from dialer.cli import kazoo

        return kazoo.run(args, paths)
    raise AssertionError(args.command)  # pragma: no cover


async def _call(args: argparse.Namespace, paths: Any) -> int:
    from dialer.app.service import CallService
    from dialer.core.accounts import AccountStore
    from dialer.core.calls import CallOptions
    from dialer.core.secrets import KeyringSecretStore
    from dialer.history import HistoryQuery
    from dialer.history.factory import open_history

    store = AccountStore(paths.accounts_file)
    account = store.get(args.account)
    variables = dict(args.var)
    if len(variables) != len(args.var):
        raise InvalidInput("A flow variable is given twice")
    history = open_history(paths.ensure())
    service = CallService(store, KeyringSecretStore(), history)
    try:
        record = await service.place_call(
            args.number,
            CallOptions(
                agent=args.agent,
                bridge=args.bridge,
                flow=args.flow,
                variables=variables,
                record=args.record,
                max_seconds=args.max_seconds,
                attempts=args.attempts,
                holdfile=args.holdfile,
                campid=args.campid,
            ),
            account=account.name,
        )
    except DialerError as exc:
        if args.json:
            failed = history.page(HistoryQuery(), limit=1)
            payload: dict[str, Any] = {
                "account": account.name,
                "provider": str(account.provider),
                "status": "failed",
                "error": str(exc),
                "exit_code": exc.exit_code,
            }
            if failed and failed[0].error == str(exc):
                payload = {**failed[0].as_dict(), **payload}
            print(json.dumps(payload, indent=None))
        raise
    finally:
        await service.aclose()
        history.close()
    if args.json:
        print(json.dumps(record.as_dict()))
        return EXIT_OK
    from dialer.providers import provider_class

    ref = f" (provider reference {record.provider_ref})" if record.provider_ref else ""
    if record.flow_id:
        order = f"{record.customer} is rung into flow {record.flow_id}"
    elif provider_class(account.provider).capabilities.customer_rings_first:
        order = f"{record.customer} rings first, then {record.agent}"
    else:
        order = f"{record.agent} rings first, then {record.customer}"
    print(f"Call {record.id} accepted by {account.name}{ref}: {order}")
    if record.message:
        print(f"  {record.message}")  # the provider's words, or what it made for the call
    return EXIT_OK
