"""The demo profile: one account per provider, pointed at a simulator.

Used by ``dialer demo`` (and the window's demo mode): the secrets are the simulator's
published demo credentials, held in memory only, and the accounts are never saved.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from dialer.app.profile import Profile
from dialer.app.service import CallService
from dialer.core.accounts import Account, ProviderKind, StaticAccounts
from dialer.core.calls import CallStatus
from dialer.core.limits import CallLimits
from dialer.core.paths import AppPaths
from dialer.core.secrets import MemorySecretStore
from dialer.history import FINAL_STATUSES, CallRecord
from dialer.history.tracking import TrackingTimings
from dialer.simulator.model import SimulatorConfig

if TYPE_CHECKING:
    from dialer.simulator.server import ProviderSimulator

DEMO_AGENT = "+91 98765 43210"
DEMO_REGION = "IN"


class SimulatorEndpoint(Protocol):
    """A running simulator: in-process (ProviderSimulator) or elsewhere (SimulatorAddress)."""

    @property
    def config(self) -> SimulatorConfig: ...

    def account_url(self, provider: ProviderKind) -> str: ...


def demo_accounts(sim: SimulatorEndpoint, *, limits: CallLimits | None = None) -> StaticAccounts:
    """The simulator's accounts, with the default call limits unless ``limits`` are given
    (a load test's bursts need none)."""
    creds = sim.config.credentials
    base = Account(
        name="",
        provider=ProviderKind.C2C_V2,
        url="",
        region=DEMO_REGION,
        agent=DEMO_AGENT,
        demo=True,
        limits=limits or CallLimits(),
    )
    webhook = {"webhook_id": creds.c2c_webhook_ids[0]}
    v1 = {"uid": creds.v1_uid, "holdfile": creds.v1_holdfiles[0]}
    kazoo = {"kazoo_account": creds.kazoo_account_id}
    settings: list[tuple[str, ProviderKind, tuple[str, ...], dict[str, str]]] = [
        ("Demo C2C v2", ProviderKind.C2C_V2, creds.c2c_bridges, webhook),
        ("Demo Click2Call v1", ProviderKind.CLICK2CALL_V1, (), v1),
        ("Demo Kazoo", ProviderKind.KAZOO, (), kazoo),
        ("Demo DigiDonar", ProviderKind.DIGIDONAR, creds.digidonar_deskphones, {}),
    ]
    accounts = [
        replace(base, name=name, provider=kind, url=sim.account_url(kind), bridges=bridges,
                options=options)
        for name, kind, bridges, options in settings
    ]  # fmt: skip
    return StaticAccounts(accounts)


def demo_secrets(sim: SimulatorEndpoint) -> MemorySecretStore:
    creds = sim.config.credentials
    secret_for: dict[str, str] = {
        ProviderKind.C2C_V2: creds.c2c_token,
        ProviderKind.CLICK2CALL_V1: creds.v1_pin,
        ProviderKind.KAZOO: creds.kazoo_api_key,
        ProviderKind.DIGIDONAR: creds.digidonar_authcode,
    }
    return MemorySecretStore(
        {account.secret_key: secret_for[account.provider] for account in demo_accounts(sim).list()}
    )


DEMO_CONTACTS = 300
DEMO_TIMINGS = TrackingTimings(
    first_poll=1.0,
    confirm_delay=1.0,
    max_interval=5.0,
    v1_ring_allowance=10.0,
    v1_zero_settle=15.0,
    kazoo_sweep_interval=None,  # the demo has no calls placed elsewhere to discover
)


async def open_demo_profile(
    paths: AppPaths, *, ring_seconds: float = 3.0, talk_seconds: float = 8.0
) -> Profile:
    """The demo: an in-process simulator, one account per provider with in-memory secrets,
    sample contacts and flows, all in a data folder of its own (never the user's)."""
    from dialer.app.profile import assemble
    from dialer.core.contacts import demo_contacts
    from dialer.core.flows import demo_flows
    from dialer.simulator.server import ProviderSimulator

    sim = ProviderSimulator(SimulatorConfig(ring_seconds=ring_seconds, talk_seconds=talk_seconds))
    await sim.start()
    demo_paths = paths.demo_profile()
    profile = assemble(
        demo_paths,
        demo_accounts(sim),
        demo_secrets(sim),
        demo=True,
        label=f"Demo profile: simulated providers at {sim.base_url}, no real calls",
    )
    profile.on_close(sim.stop)
    profile.simulator = sim
    # Outcomes arrive the way real ones do: the in-app webhook receiver gets the simulator's
    # C2C v2 pushes, the tracker polls v1 reports and Kazoo history (at demo speed).
    await profile.start_reporting(receiver_port=0, timings=DEMO_TIMINGS)
    sim.config.default_webhook_url = profile.webhook_url
    follower = asyncio.get_running_loop().create_task(
        follow_simulated_calls(sim, profile.service), name="demo-progress"
    )

    async def stop_following() -> None:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower

    profile.on_close(stop_following)
    if profile.contacts.count() == 0:
        profile.contacts.add_many(demo_contacts(DEMO_CONTACTS))
    c2c = next(a for a in profile.accounts.list() if a.provider is ProviderKind.C2C_V2)
    if not profile.flows.list(c2c.name):
        for flow in demo_flows(c2c.name):
            profile.flows.save(flow)
    return profile


# The progress steps only: outcomes arrive through the receiver and the tracker.
_SIM_STATUS = {
    "accepted": CallStatus.ACCEPTED,
    "ringing-agent": CallStatus.RINGING_AGENT,
    "agent-answered": CallStatus.RINGING_CUSTOMER,
    "ringing-customer": CallStatus.RINGING_CUSTOMER,
    "connected": CallStatus.CONNECTED,
}


async def follow_simulated_calls(
    sim: ProviderSimulator,
    service: CallService,
    interval: float = 0.1,
    *,
    followed: dict[str, str] | None = None,
) -> None:
    """The demo's live progress: the in-process simulator's ringing and connected steps,
    recorded on the matching calls (the simulator's call id is the provider reference).

    Real providers report only outcomes, and so does this: a call's end is left to the
    webhook receiver and the tracker, exactly as with a real account."""
    # The calls being followed (provider reference -> call id); a test may pass its own.
    call_for_ref: dict[str, str] = {} if followed is None else followed
    seen: dict[str, str] = {}

    def accepted(record: CallRecord) -> None:
        if record.provider_ref and record.status not in FINAL_STATUSES:
            call_for_ref[record.provider_ref] = record.id

    service.add_listener(accepted)
    try:
        while True:
            # The calls followed, not every call the simulator ever had: a demo left open
            # all day must not look through (or keep) a day of finished calls every tick.
            for ref, call_id in list(call_for_ref.items()):
                sim_call = sim.calls.get(ref)
                if sim_call is None or sim_call.is_finished:
                    call_for_ref.pop(ref, None)
                    seen.pop(ref, None)
                    continue
                state = sim_call.state
                if seen.get(ref) == state:
                    continue
                seen[ref] = state
                status = _SIM_STATUS.get(state)
                if status is not None:
                    await service.report_progress(call_id, status, source="simulator")
            await asyncio.sleep(interval)
    finally:
        service.remove_listener(accepted)
