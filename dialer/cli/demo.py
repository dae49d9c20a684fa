"""``dialer demo``: the simulator in-process, one demo account per provider, one call each.

Nothing here touches the user's real accounts or keyring: the demo profile has its own data
folder and keeps the simulator's (fake) secrets in memory.
"""

from __future__ import annotations

import asyncio
import time

from dialer.app.service import CallService
from dialer.core.paths import AppPaths
from dialer.history.factory import open_history

DEMO_CUSTOMER = "+91 88671 35000"
RING_SECONDS, TALK_SECONDS = 1.0, 2.0  # slow enough to watch, quick enough to wait for


async def run(paths: AppPaths) -> int:
    from dialer.app.demo import demo_accounts, demo_secrets
    from dialer.simulator import ProviderSimulator, SimulatorConfig

    demo_paths = paths.demo_profile().ensure()
    async with ProviderSimulator(
        SimulatorConfig(ring_seconds=RING_SECONDS, talk_seconds=TALK_SECONDS)
    ) as sim:
        accounts = demo_accounts(sim)
        history = open_history(demo_paths)
        service = CallService(accounts, demo_secrets(sim), history)
        print(f"Demo profile (simulated providers at {sim.base_url}; no real calls are made)")
        try:
            for account in accounts.list():
                record = await service.place_call(DEMO_CUSTOMER, account=account.name)
                ref = record.provider_ref or "-"
                print(f"  {account.name:<16} {record.status:<9} provider ref {ref}")
            print("Calls in progress on the simulator:")
            await _follow(sim)
        finally:
            await service.aclose()
            history.close()
    print(f"Done. Call records: {demo_paths.calls_db}")
    return 0


async def _follow(sim: object, timeout: float = 30.0) -> None:
    from dialer.simulator import ProviderSimulator

    assert isinstance(sim, ProviderSimulator)
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in list(sim.calls.values()):
            state = call.state
            if seen.get(call.id) != state:
                seen[call.id] = state
                print(f"  {call.provider!s:<14} {call.id[:18]:<18} {state}", flush=True)
        if sim.calls and all(c.finished.is_set() for c in sim.calls.values()):
            return
        await asyncio.sleep(0.1)
