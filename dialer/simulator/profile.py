"""The demo profile: one account per provider, pointed at a simulator.

Used by ``dialer demo`` (and the window's demo mode): the secrets are the simulator's
published demo credentials, held in memory only, and the accounts are never saved.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from dialer.core.accounts import Account, ProviderKind
from dialer.core.secrets import MemorySecretStore
from dialer.core.service import StaticAccounts
from dialer.simulator.model import SimulatorConfig

DEMO_AGENT = "+91 98765 43210"
DEMO_REGION = "IN"


class SimulatorEndpoint(Protocol):
    """A running simulator: in-process (ProviderSimulator) or elsewhere (SimulatorAddress)."""

    @property
    def config(self) -> SimulatorConfig: ...

    def account_url(self, provider: ProviderKind) -> str: ...


def demo_accounts(sim: SimulatorEndpoint) -> StaticAccounts:
    creds = sim.config.credentials
    base = Account(
        name="",
        provider=ProviderKind.C2C_V2,
        url="",
        region=DEMO_REGION,
        agent=DEMO_AGENT,
        demo=True,
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
    secret_for = {
        ProviderKind.C2C_V2: creds.c2c_token,
        ProviderKind.CLICK2CALL_V1: creds.v1_pin,
        ProviderKind.KAZOO: creds.kazoo_api_key,
        ProviderKind.DIGIDONAR: creds.digidonar_authcode,
    }
    return MemorySecretStore(
        {account.secret_key: secret_for[account.provider] for account in demo_accounts(sim).list()}
    )
