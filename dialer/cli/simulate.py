"""``dialer simulate``: the provider simulator as a standalone local server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from dialer.core.accounts import ProviderKind, is_loopback_host


async def run(args: argparse.Namespace) -> int:
    from dialer.simulator import ProviderSimulator, SimulatorConfig

    if not is_loopback_host(args.host):
        print(
            f"warning: listening on {args.host}, not loopback: anyone who can reach this "
            "machine can use the simulator",
            file=sys.stderr,
        )
    config = SimulatorConfig(
        ring_seconds=args.ring_seconds,
        talk_seconds=args.talk_seconds,
        answer_delay=args.answer_delay,
        default_webhook_url=args.webhook_url,
    )
    sim = ProviderSimulator(config)
    await sim.start(host=args.host, port=args.port)
    try:
        print(describe(sim), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Windows has no signal handlers on the loop: Ctrl+C raises KeyboardInterrupt there.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await sim.stop()
    return 0


def describe(sim: object) -> str:
    """What to paste to point accounts at the simulator (its demo credentials included)."""
    from dialer.simulator import ProviderSimulator

    assert isinstance(sim, ProviderSimulator)
    creds = sim.config.credentials
    c2c = sim.account_url(ProviderKind.C2C_V2)
    v1 = sim.account_url(ProviderKind.CLICK2CALL_V1)
    kazoo = sim.account_url(ProviderKind.KAZOO)
    digi = sim.account_url(ProviderKind.DIGIDONAR)
    return "\n".join(
        [
            f"Provider simulator listening on {sim.base_url} (Ctrl+C stops it)",
            "These are simulator credentials, not real ones. To try each provider:",
            f"  echo {creds.c2c_token} | dialer account add sim-c2c --provider c2c-v2 "
            f"--url {c2c} --region IN --agent +919876543210 --bridge 918068280000 "
            "--webhook-id sim-webhook",
            f"  echo {creds.v1_pin} | dialer account add sim-v1 --provider click2call-v1 "
            f"--url {v1} --region IN --agent +919876543210 --uid {creds.v1_uid} --holdfile 1",
            f"  echo {creds.kazoo_api_key} | dialer account add sim-kazoo --provider kazoo "
            f"--url {kazoo} --region IN --agent +919876543210 "
            f"--kazoo-account {creds.kazoo_account_id}",
            f"  echo {creds.digidonar_authcode} | dialer account add sim-digidonar "
            f"--provider digidonar --url {digi} --region IN --agent +919876543210 "
            "--bridge 01204000000",
            "  dialer call +918867135000 --account sim-c2c",
        ]
    )
