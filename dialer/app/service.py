"""The call service: the one place a widget or a command asks for a call.

It turns what the user typed into a validated :class:`CallRequest` (numbers parsed with the
account's region, options checked against the provider's capabilities), records the call,
sends it through the account's provider and records the outcome. Invalid input never
reaches the network.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from dialer.core.accounts import Account, AccountSource
from dialer.core.calls import CallRequest, CallStatus, Flow
from dialer.core.errors import ConfigError, DialerError, InvalidInput
from dialer.core.numbers import Contact, parse_contact
from dialer.core.secrets import SecretStore, get_secret
from dialer.history import CallRecord, HistoryListener, HistoryStore

if TYPE_CHECKING:
    import httpx

    from dialer.providers.base import Provider

_BRIDGE_SEPARATORS = re.compile(r"[\s\-.()]")


class CallService:
    def __init__(
        self,
        accounts: AccountSource,
        secrets: SecretStore,
        history: HistoryStore,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.accounts = accounts
        self.secrets = secrets
        self.history = history
        self._transport = transport
        self._providers: dict[str, tuple[Account, Provider]] = {}
        self._provider_lock = asyncio.Lock()

    def add_listener(self, listener: HistoryListener) -> None:
        """Tell ``listener`` of every stored change to a call, whoever made it (the
        history's change listeners)."""
        self.history.add_listener(listener)

    def remove_listener(self, listener: HistoryListener) -> None:
        self.history.remove_listener(listener)

    async def provider_for(self, account: Account) -> Provider:
        """The account's provider, created once and kept (with its connection pool)."""
        async with self._provider_lock:
            cached = self._providers.get(account.name)
            if cached is not None and cached[0] == account:
                return cached[1]
            if cached is not None:
                await cached[1].aclose()
            from dialer.providers import provider_class

            secret = await get_secret(self.secrets, account.secret_key)
            if not secret:
                raise ConfigError(
                    f"No secret is stored for account '{account.name}'; remove the account "
                    "and add it again"
                )
            provider = provider_class(account.provider)(account, secret, transport=self._transport)
            self._providers[account.name] = (account, provider)
            return provider

    async def forget(self, account_name: str) -> None:
        """Drop an account's provider (and its connections), e.g. after it was removed."""
        async with self._provider_lock:
            cached = self._providers.pop(account_name, None)
        if cached is not None:
            await cached[1].aclose()

    def build_request(
        self,
        account: Account,
        number: str,
        *,
        agent: str | None = None,
        bridge: str | None = None,
        flow: str | None = None,
        variables: Mapping[str, str] | None = None,
        record: bool = False,
        max_seconds: int | None = None,
        attempts: int | None = None,
        holdfile: str | None = None,
    ) -> CallRequest:
        """Parse and check everything the user gave; raises before anything is sent."""
        from dialer.providers import provider_class
        from dialer.providers.base import BridgeKind

        caps = provider_class(account.provider).capabilities
        customer = parse_contact(number, account.region, allow_sip=caps.sip_contacts)
        agent_contact: Contact | None = None
        agent_text = agent or account.agent
        if agent_text and flow is None:
            agent_contact = parse_contact(agent_text, account.region, allow_sip=caps.sip_contacts)
        if variables and flow is None:
            raise InvalidInput("Flow variables (--var) need a flow (--flow)")
        chosen_bridge = bridge
        if chosen_bridge is None and caps.bridge_required:
            chosen_bridge = account.default_bridge
        if chosen_bridge is not None and caps.bridge is BridgeKind.DID:
            # A DID is sent as the provider shows it, less the spaces people paste with it;
            # a Kazoo bridge is an object id or name and is kept as typed.
            chosen_bridge = _BRIDGE_SEPARATORS.sub("", chosen_bridge) or None
        return CallRequest(
            customer=customer,
            agent=agent_contact,
            bridge=chosen_bridge,
            flow=Flow(flow, dict(variables or {})) if flow is not None else None,
            record=record,
            max_seconds=max_seconds,
            attempts=attempts,
            holdfile=holdfile,
        )

    async def place_call(
        self,
        number: str,
        *,
        account: str | None = None,
        agent: str | None = None,
        bridge: str | None = None,
        flow: str | None = None,
        variables: Mapping[str, str] | None = None,
        record: bool = False,
        max_seconds: int | None = None,
        attempts: int | None = None,
        holdfile: str | None = None,
    ) -> CallRecord:
        """Place one call. Returns the record on acceptance; raises a DialerError otherwise
        (the failure is recorded too, except for input refused before sending)."""
        acct = self.accounts.get(account)
        request = self.build_request(
            acct,
            number,
            agent=agent,
            bridge=bridge,
            flow=flow,
            variables=variables,
            record=record,
            max_seconds=max_seconds,
            attempts=attempts,
            holdfile=holdfile,
        )
        provider = await self.provider_for(acct)
        prepared = await provider.prepare(request)
        record_row = await self.history.insert(
            CallRecord(
                id=request.reference,
                account=acct.name,
                provider=str(acct.provider),
                customer=str(request.customer),
                agent=str(request.agent) if request.agent else None,
                bridge=request.bridge,
                flow_id=request.flow.flow_id if request.flow else None,
                request=prepared.sent.as_dict(),
            )
        )
        try:
            result = await provider.start(prepared)
        except DialerError as exc:
            await self.history.amend(record_row, status=CallStatus.FAILED, error=str(exc))
            raise
        except asyncio.CancelledError:
            await self.history.amend(
                record_row,
                status=CallStatus.FAILED,
                error="Cancelled before the provider answered; the call may have been placed",
            )
            raise
        return await self.history.amend(
            record_row,
            status=CallStatus.ACCEPTED,
            provider_ref=result.provider_ref,
            message=result.message,
        )

    async def report_progress(
        self,
        call_id: str,
        status: CallStatus,
        message: str | None = None,
        *,
        source: str = "provider",
    ) -> CallRecord | None:
        """Record a progress step a provider or the simulator reported about a call."""
        record = self.history.get(call_id)
        if record is None or (record.status is status and message in (None, record.message)):
            return record
        changes = {"status": status} if message is None else {"status": status, "message": message}
        return await self.history.amend(record, source=source, **changes)

    async def aclose(self) -> None:
        for _, provider in self._providers.values():
            await provider.aclose()
        self._providers.clear()
