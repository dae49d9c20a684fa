"""The call service: the one place a widget or a command asks for a call.

It turns what the user typed into a validated :class:`CallRequest` (numbers parsed with the
account's region, options checked against the provider's capabilities), records the call,
sends it through the account's provider and records the outcome. Invalid input never
reaches the network.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from dialer.core.accounts import Account, AccountSource
from dialer.core.calls import CallOptions, CallRequest, CallStatus, Flow
from dialer.core.contacts import Contact as ContactEntry
from dialer.core.errors import (
    CallInProgress,
    ConfigError,
    DialerError,
    InvalidInput,
    UnexpectedFailure,
)
from dialer.core.flows import FlowDefinition, resolve_variables
from dialer.core.limits import check_allowed, refusal
from dialer.core.numbers import Contact, parse_contact
from dialer.core.pacing import Pacer
from dialer.core.secrets import SecretStore, get_secret
from dialer.history import CallRecord, HistoryListener, HistoryStore

if TYPE_CHECKING:
    import httpx

    from dialer.providers.base import Bridge, Capabilities, Provider

_BRIDGE_SEPARATORS = re.compile(r"[\s\-.()]")

logger = logging.getLogger(__name__)


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
        # One lock per account: a keyring that hangs on one account's secret (locked, asking
        # for its password) must not hold up a call on another account.
        self._provider_locks: dict[str, asyncio.Lock] = {}
        self._placing: set[tuple[str, str]] = set()  # (account, customer) being placed
        # Calls past the limits check and not yet in the history: reference -> (account,
        # agent, when). Counted with the stored calls, so that a burst whose calls all pass
        # the check before the first is stored cannot slip past a limit together.
        self._admitted: dict[str, tuple[str, str | None, float]] = {}
        self._pacer = Pacer()

    def add_listener(self, listener: HistoryListener) -> None:
        """Tell ``listener`` of every stored change to a call, whoever made it (the
        history's change listeners)."""
        self.history.add_listener(listener)

    def remove_listener(self, listener: HistoryListener) -> None:
        self.history.remove_listener(listener)

    async def provider_for(self, account: Account) -> Provider:
        """The account's provider, created once and kept (with its connection pool)."""
        async with self._provider_locks.setdefault(account.name, asyncio.Lock()):
            cached = self._providers.get(account.name)
            if cached is not None and cached[0] == account:
                return cached[1]
            if cached is not None:
                await cached[1].aclose()
            provider = await open_provider(account, self.secrets, transport=self._transport)
            self._providers[account.name] = (account, provider)
            return provider

    async def forget(self, account_name: str) -> None:
        """Drop an account's provider (and its connections), e.g. after it was removed."""
        async with self._provider_locks.setdefault(account_name, asyncio.Lock()):
            cached = self._providers.pop(account_name, None)
        if cached is not None:
            await cached[1].aclose()

    def capabilities(self, account: Account) -> Capabilities:
        """What the account's provider can do (the window gates its options on it)."""
        from dialer.providers import provider_class

        return provider_class(account.provider).capabilities

    def parse_number(self, text: str, account: Account | None) -> Contact:
        """A number as the account would dial it (its region; SIP where its provider takes
        SIP contacts, or anywhere when there is no account yet); InvalidInput says why not."""
        sip = account is None or self.capabilities(account).sip_contacts
        return parse_contact(text, account.region if account else None, allow_sip=sip)

    async def list_bridges(self, account: Account) -> list[Bridge]:
        """The bridges/DIDs the agent can pick: the account's own, or (Kazoo) the server's."""
        from dialer.providers.base import Bridge, BridgeKind

        if self.capabilities(account).bridge is not BridgeKind.CLICKTOCALL:
            return [Bridge(id=b, label=b, number=b) for b in account.bridges]
        provider = await self.provider_for(account)
        return await provider.list_bridges()

    @staticmethod
    def flow_variables(
        flow: FlowDefinition,
        contact: ContactEntry | None,
        per_call: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The flow's variables for a call to ``contact`` (the contact being dialled, or None
        for a number that is no contact): fixed values, the contact's fields, and what was
        typed for this call (``per_call``) for the variables asked each time."""
        return resolve_variables(
            flow,
            contact.fields() if contact else None,
            contact_name=contact.name if contact else "",
            per_call=per_call,
        )

    def build_request(
        self, account: Account, number: str, options: CallOptions | None = None
    ) -> CallRequest:
        """Parse and check everything the user gave; raises before anything is sent."""
        from dialer.providers.base import BridgeKind

        options = options or CallOptions()
        caps = self.capabilities(account)
        customer = parse_contact(number, account.region, allow_sip=caps.sip_contacts)
        agent_contact: Contact | None = None
        agent_text = options.agent or account.agent
        if agent_text and options.flow is None:
            agent_contact = parse_contact(agent_text, account.region, allow_sip=caps.sip_contacts)
        if options.variables and options.flow is None:
            raise InvalidInput("Flow variables (--var) need a flow (--flow)")
        chosen_bridge = options.bridge
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
            flow=Flow(options.flow, dict(options.variables)) if options.flow is not None else None,
            record=options.record,
            max_seconds=options.max_seconds,
            attempts=options.attempts,
            holdfile=options.holdfile,
            campid=options.campid,
        )

    async def place_call(
        self,
        number: str,
        options: CallOptions | None = None,
        *,
        account: str | None = None,
    ) -> CallRecord:
        """Place one call. Returns the record on acceptance; raises a DialerError otherwise
        (the failure is recorded too, except for input refused before sending).

        A second call to the same customer on the same account while the first is still
        being placed (a double click, Enter held down) is refused: one click, one call. A
        call over the account's limits, or to a number outside its allow-list, is refused
        (:class:`~dialer.core.limits.CallLimitReached`) before anything is sent; it is not
        recorded either: a stuck key would otherwise fill the history with refusals, and
        the person is told at once."""
        acct = self.accounts.get(account)
        request = self.build_request(acct, number, options)
        check_allowed(acct.name, str(request.customer), acct.limits.allowed_numbers)
        key = (acct.name, str(request.customer))
        if key in self._placing:
            raise CallInProgress(f"A call to {request.customer} is already being placed")
        # Checked and admitted with no await in between: no other call can be checked
        # meanwhile, so two calls racing in one burst are counted one after the other.
        placed_at = time.time()
        self._check_limits(acct, request, placed_at)
        self._admitted[request.reference] = (acct.name, _agent_of(request), placed_at)
        self._placing.add(key)
        try:
            return await self._place(acct, request, placed_at)
        finally:
            self._placing.discard(key)
            self._admitted.pop(request.reference, None)

    def _check_limits(self, acct: Account, request: CallRequest, now: float) -> None:
        """Refuse a call over one of the account's limits, counting the calls the history
        holds and those admitted but not stored yet; the sentence says which limit and when
        it frees up."""
        agent = _agent_of(request)
        for name, limit, window in acct.limits.windows:
            per_agent = name.startswith("agent_")
            if per_agent and agent is None:
                continue  # a flow call rings no agent
            since = now - window
            counted = dict(
                self.history.recent_calls(
                    account=acct.name, since=since, limit=limit, agent=agent if per_agent else None
                )
            )
            for reference, (account, admitted_agent, at) in self._admitted.items():
                if (
                    account == acct.name
                    and at >= since
                    and (not per_agent or admitted_agent == agent)
                ):
                    counted[reference] = at
            if len(counted) >= limit:
                # It frees up when the limit-th newest call leaves the window.
                oldest_counted = sorted(counted.values(), reverse=True)[limit - 1]
                raise refusal(
                    acct.name,
                    name,
                    limit,
                    oldest_counted + window,
                    agent=agent if per_agent else None,
                    now=now,
                )

    async def _place(self, acct: Account, request: CallRequest, placed_at: float) -> CallRecord:
        # A burst of calls (or of their answers) is worked through in slices: the window
        # paints and takes input in between (benchmarks/stall.py measures it).
        await self._pacer.turn()
        provider = await self.provider_for(acct)
        prepared = await provider.prepare(request)
        record_row = await self.history.insert(
            CallRecord(
                id=request.reference,
                account=acct.name,
                provider=str(acct.provider),
                customer=str(request.customer),
                agent=prepared.first_leg or (str(request.agent) if request.agent else None),
                bridge=request.bridge,
                flow_id=request.flow.flow_id if request.flow else None,
                request=prepared.sent.as_dict(),
                created_at=placed_at,
                updated_at=placed_at,
            )
        )
        await self._pacer.turn()
        try:
            result = await provider.start(prepared)
        except DialerError as exc:
            await self.history.amend(record_row, status=CallStatus.FAILED, error=str(exc))
            raise
        except Exception as exc:
            # A fault of ours or of a library (not a provider's answer): the call still ends
            # as failed, never left "placing", and the person gets one sentence.
            logger.error("Placing call %s failed unexpectedly", record_row.id, exc_info=exc)
            failure = UnexpectedFailure(
                f"Placing the call failed unexpectedly ({type(exc).__name__}); the call may "
                "or may not have been placed. The details are in the log",
                provider=str(acct.provider),
            )
            await self.history.amend(record_row, status=CallStatus.FAILED, error=str(failure))
            raise failure from exc
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


def _agent_of(request: CallRequest) -> str | None:
    """The agent a call counts against, as the history stores it (None: a flow call)."""
    return str(request.agent) if request.agent is not None else None


async def open_provider(
    account: Account,
    secrets: SecretStore,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Provider:
    """A new provider for ``account``, with its secret from the keyring (a command that
    manages the account's objects, not calls, needs no call service). The caller closes it."""
    from dialer.providers import provider_class, provider_spec
    from dialer.providers.spec import in_sentence

    declared = provider_spec(account.provider).secret
    secret = await get_secret(secrets, account.secret_key)
    # Typing it again is the fix; the window can edit an account, the command line only
    # remove and add it.
    where = "in the account's settings (or remove the account and add it again)"
    if not secret:
        what = in_sentence(declared.label_for(account.options))
        raise ConfigError(f"No {what} is stored for account '{account.name}': type it {where}")
    # A secret stored before it was checked (an older release): refused here, before any
    # request, rather than quoted back in the HTTP library's error.
    problem = declared.problem(secret, account.options)
    if problem:
        raise ConfigError(
            f"Account '{account.name}' has a problem: {problem[:1].lower()}{problem[1:]}. "
            f"Type it again {where}"
        )
    return provider_class(account.provider)(account, secret, transport=transport)
