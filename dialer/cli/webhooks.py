"""``dialer webhooks serve|url|config|secret``: the C2C v2 call-report receiver, headless.

``serve`` runs the receiver on the user's profile (accounts file, OS keyring, the call
history) until SIGINT or SIGTERM, and with it the call tracker that asks Click2Call v1 and
Kazoo for the outcomes they do not push (``--no-track``: the receiver alone, when a window or
a ``dialer track`` follows them); it prints where it listens with the secret path segment
masked, because its output often ends up in a service log. ``url`` prints the full URL to
register in the provider's panel.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace

from dialer.core.accounts import AccountStore, ProviderKind, is_loopback_host
from dialer.core.errors import ConfigError, InvalidInput, SecretStoreError
from dialer.core.paths import AppPaths
from dialer.core.secrets import KeyringSecretStore, SecretStore, delete_secret, set_secret
from dialer.core.team import TeamMembership
from dialer.providers import provider_label
from dialer.webhooks.settings import (
    PATH_PREFIX,
    check_port,
    check_public_url,
    format_host,
    load_settings,
    path_token,
    receiver_url,
    save_settings,
    url_notes,
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhooks = commands.add_parser("webhooks", help="the C2C v2 call-report receiver (webhooks)")
    actions = webhooks.add_subparsers(dest="webhooks_command", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve",
        help="run the receiver until Ctrl+C or SIGTERM (headless, e.g. on a server)",
        description="Run the C2C v2 webhook receiver on this profile's accounts and call "
        "history until interrupted, and the tracker that asks Click2Call v1 and Kazoo for "
        "the outcomes of open calls. Host and port default to webhooks.toml "
        "(127.0.0.1:8767).",
    )
    serve.add_argument(
        "--no-track",
        action="store_true",
        help="receive reports only; do not ask Click2Call v1 and Kazoo for outcomes",
    )
    serve.add_argument("--host", help="address to listen on (0.0.0.0: every interface)")
    serve.add_argument("--port", type=_port, help="port to listen on (0: any free port)")
    actions.add_parser("url", help="print the URL to register in the provider's panel")
    config = actions.add_parser(
        "config",
        help="show or change where the receiver listens and its public URL",
        description="Without options, print the settings. A public URL is the address a "
        "reverse proxy or tunnel gives the receiver; 'dialer webhooks url' then prints it.",
    )
    config.add_argument("--host")
    config.add_argument("--port", type=_port)
    public = config.add_mutually_exclusive_group()
    public.add_argument("--public-url", metavar="URL")
    public.add_argument("--no-public-url", action="store_true", help="forget the public URL")
    secret = actions.add_parser(
        "secret",
        help="set the Bearer secret a C2C v2 account's webhook must present",
        description="Read the webhook's secret (the one set in the provider's Webhooks "
        "section) from standard input, or prompt for it, and keep it in the OS keyring. "
        "Reports for this account are then refused without 'Authorization: Bearer <secret>'.",
    )
    secret.add_argument("account")
    secret.add_argument("--remove", action="store_true", help="stop requiring a secret")


def _port(text: str) -> int:
    try:
        return check_port(int(text))
    except (ValueError, InvalidInput):
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0 to 65535)") from None


async def run(args: argparse.Namespace, paths: AppPaths) -> int:
    command = args.webhooks_command
    if command == "serve":
        return await serve(args, paths, KeyringSecretStore())
    if command == "url":
        return await print_url(paths, KeyringSecretStore())
    if command == "config":
        return configure(args, paths)
    return await set_webhook_secret(args, paths, KeyringSecretStore())


async def _token(secrets: SecretStore, paths: AppPaths) -> str:
    from dialer.core.team import TeamRole, load_membership

    membership = load_membership(paths.config_dir)
    if membership is not None and membership.role is TeamRole.RECEIVER:
        return await _team_token(membership)
    try:
        return await path_token(secrets)
    except SecretStoreError as exc:
        raise SecretStoreError(
            f"The webhook URL ends in a secret kept in the OS keyring. {exc}"
        ) from None


async def _team_token(membership: TeamMembership) -> str:
    """The team's path token: every receiver of the team answers at the same URL (behind a
    load balancer, each with the same public URL), and only receivers may read it."""
    from dialer.core.redact import register_secret
    from dialer.history.factory import team_store

    def read() -> str:
        store = team_store(membership)
        try:
            return store.team_secret("webhook_path")
        finally:
            store.close()

    token = await asyncio.to_thread(read)
    register_secret(token)  # masked in every log line from now on
    return token


async def print_url(paths: AppPaths, secrets: SecretStore) -> int:
    settings = load_settings(paths)
    url = receiver_url(settings, await _token(secrets, paths))
    print(url)
    set_public = "with 'dialer webhooks config --public-url URL'"
    for level, sentence in url_notes(settings, url, set_public_url=set_public):
        print(f"{level}: {sentence}", file=sys.stderr)
    return 0


async def serve(args: argparse.Namespace, paths: AppPaths, secrets: SecretStore) -> int:
    from dialer.app.service import CallService
    from dialer.cli import track
    from dialer.cli.signals import stop_signals, until_stopped
    from dialer.history.factory import open_history
    from dialer.history.tracking import CallTracker
    from dialer.webhooks.receiver import WebhookReceiver

    settings = load_settings(paths)
    host = args.host if args.host is not None else settings.host
    port = args.port if args.port is not None else settings.port
    token = await _token(secrets, paths)
    accounts = AccountStore(paths.accounts_file)
    c2c = [a for a in accounts.list() if a.provider is ProviderKind.C2C_V2]
    history = open_history(paths.ensure())
    receiver = WebhookReceiver(history, accounts, secrets, path_token=token, host=host, port=port)
    service = CallService(accounts, secrets, history)
    # The same tracker the window runs: v1 and Kazoo outcomes, and the v2 calls whose
    # report never came.
    tracker = None if args.no_track else CallTracker(history, service, timings=track.TIMINGS)
    with stop_signals() as stop:
        try:
            await receiver.start()
            bound = f"http://{format_host(host)}:{receiver.port_bound}{PATH_PREFIX}<secret>"
            print(
                f"C2C v2 webhook receiver listening on {bound} (Ctrl+C stops it); "
                "'dialer webhooks url' prints the URL to register",
                flush=True,
            )
            from dialer.core.team import describe_dsn, load_membership

            membership = load_membership(paths.config_dir)
            if membership is not None:
                print(
                    f"Reports are stored in the team history of {describe_dsn(membership.dsn)}"
                    + (
                        " (answered 200 once committed there)"
                        if membership.role == "receiver"
                        else ""
                    ),
                    flush=True,
                )
            if not is_loopback_host(host):
                print(
                    f"note: listening on {host}, not loopback: put a TLS reverse proxy in front, "
                    "as plain http would carry the secret path across the network",
                    file=sys.stderr,
                    flush=True,
                )
            if not c2c:
                print(
                    "note: no C2C v2 account in this profile: every report will be stored as a "
                    "call placed outside the app",
                    file=sys.stderr,
                    flush=True,
                )
            if tracker is not None:
                tracker.start()
                print(
                    "Asking Click2Call v1 and Kazoo for the outcomes of open calls as well "
                    "(--no-track: only receive)",
                    flush=True,
                )
            await until_stopped(stop)
        finally:
            if tracker is not None:
                await tracker.aclose()  # before the service: it polls through its providers
            await receiver.stop()
            await service.aclose()
            history.close()
    print("C2C v2 webhook receiver stopped", flush=True)
    return 0


def configure(args: argparse.Namespace, paths: AppPaths) -> int:
    current = load_settings(paths)
    settings = current
    if args.host is not None:
        if not args.host.strip():
            raise InvalidInput("--host must be a host name or address")
        settings = replace(settings, host=args.host.strip())
    if args.port is not None:
        settings = replace(settings, port=args.port)
    if args.public_url is not None:
        settings = replace(settings, public_url=check_public_url(args.public_url))
    if args.no_public_url:
        settings = replace(settings, public_url=None)
    if settings != current:
        save_settings(paths, settings)
    print(f"host = {settings.host}")
    print(f"port = {settings.port}")
    print(f"public_url = {settings.public_url or '(none)'}")
    return 0


async def set_webhook_secret(
    args: argparse.Namespace, paths: AppPaths, secrets: SecretStore
) -> int:
    account = AccountStore(paths.accounts_file).get(args.account)
    if account.provider is not ProviderKind.C2C_V2:
        raise ConfigError(
            f"Account '{account.name}' is a {provider_label(account.provider)} account; only "
            f"{provider_label(ProviderKind.C2C_V2)} accounts receive webhook reports"
        )
    if args.remove:
        await delete_secret(secrets, account.webhook_secret_key)
        print(f"Reports for '{account.name}' no longer need a Bearer secret")
        return 0
    from dialer.cli.accounts import read_secret_line
    from dialer.providers.spec import secret_problem

    secret = read_secret_line("webhook secret", account.name)
    problem = secret_problem(secret, "Webhook secret", in_header=True)
    if problem:
        raise InvalidInput(problem)
    await set_secret(secrets, account.webhook_secret_key, secret)
    print(
        f"Reports for '{account.name}' now need 'Authorization: Bearer <secret>'; "
        "the secret is in the OS keyring"
    )
    return 0
