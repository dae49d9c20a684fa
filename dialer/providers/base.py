"""The one interface every click-to-call service sits behind, and the HTTP plumbing they share.

A provider turns a :class:`~dialer.core.calls.CallRequest` into its own wire form and the
answer back into a :class:`~dialer.core.calls.CallResult` or a typed error. What each
provider can do is declared in :class:`Capabilities`, so the service and the window refuse or
disable an option up front instead of silently dropping it.
"""

from __future__ import annotations

import functools
import json
import logging
import socket
import ssl
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from dialer.core.accounts import Account
from dialer.core.calls import CallRequest, CallResult
from dialer.core.errors import (
    AuthenticationRefused,
    ConfigError,
    ProviderUnreachable,
    UnexpectedAnswer,
    UnsupportedOption,
)
from dialer.core.numbers import NumberFormat
from dialer.core.redact import excerpt, redact_mapping, redact_url

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)


class BridgeKind(StrEnum):
    DID = "did"  # a caller-id number configured on the account
    CLICKTOCALL = "clicktocall"  # a server-side object (Kazoo) that is listed from the server
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider can do. Options outside these are refused with a reason. (How its
    outcomes are learned is part of its declaration: :mod:`dialer.providers.spec`.)"""

    default_number_format: NumberFormat
    bridge: BridgeKind
    bridge_required: bool
    flows: bool = False
    record: bool = False
    max_length: bool = False
    attempts: bool = False
    sip_contacts: bool = False
    holdfile: bool = False
    campaign: bool = False  # a campaign id per call (DigiDonar's campid)
    customer_rings_first: bool = False


@dataclass(frozen=True, slots=True)
class Bridge:
    """A caller id / route the agent can pick: a DID, or a Kazoo clicktocall object."""

    id: str
    label: str
    number: str | None = None


@dataclass(frozen=True, slots=True)
class SentRequest:
    """A request as sent, with secrets masked: shown in call details and kept in the record."""

    method: str
    url: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "fields": dict(self.fields)}


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """A call checked and resolved (e.g. the Kazoo clicktocall chosen), ready to send.

    ``sent`` is what will go on the wire with secrets masked; the service records it before
    sending so that even a failed call shows what was asked of the provider.
    """

    request: CallRequest
    sent: SentRequest
    context: Mapping[str, str] = field(default_factory=dict)
    # The phone rung first when it is not the request's agent (a Kazoo clicktocall rings
    # its own extension): the call's record names it as the agent.
    first_leg: str | None = None


def unsupported_reason(caps: Capabilities, label: str, option: str) -> str | None:
    """Why ``option`` is not available on this provider, or None when it is."""
    allowed = {
        "flow": caps.flows,
        "record": caps.record,
        "max_length": caps.max_length,
        "attempts": caps.attempts,
        "holdfile": caps.holdfile,
        "campaign": caps.campaign,
        "sip": caps.sip_contacts,
    }
    if allowed.get(option, True):
        return None
    what = {
        "flow": "IVR flows",
        "record": "call recording",
        "max_length": "a maximum call length",
        "attempts": "redial attempts",
        "holdfile": "a hold file",
        "campaign": "a campaign id",
        "sip": "SIP contacts",
    }[option]
    return f"{label} does not support {what}"


def bridge_noun(kind: str, *, article: bool = False, plural: bool = False) -> str:
    """What a provider calls one of the account's bridges, inside a sentence: its
    declaration's plural label (``Desk phones``) made singular, or "bridge" if it has none."""
    from dialer.providers import provider_spec
    from dialer.providers.spec import in_sentence

    try:
        label = provider_spec(kind).bridges
    except ConfigError:
        label = None
    noun = in_sentence(label) if label else "bridges"
    if not plural:
        noun = noun.removesuffix("s")
        if article:
            noun = ("an " if noun[:1].lower() in "aeiou" else "a ") + noun
    return noun


class Provider(ABC):
    """One account's connection to one click-to-call service."""

    kind: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def __init__(
        self,
        account: Account,
        secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.account = account
        self._secret = secret
        self._transport = transport
        self._clients = ClientPool(lambda: make_client(account, transport))

    # -- the interface -------------------------------------------------------------------

    @abstractmethod
    async def prepare(self, request: CallRequest) -> PreparedCall:
        """Check the request against this provider and resolve what the call goes through.

        May talk to the provider (Kazoo looks up its clicktocall) but never places a call.
        """

    @abstractmethod
    async def start(self, call: PreparedCall) -> CallResult:
        """Ask the provider to start the call. Never retried once it may have been sent."""

    async def place_call(self, request: CallRequest) -> CallResult:
        return await self.start(await self.prepare(request))

    async def list_bridges(self) -> list[Bridge]:
        """Bridges the agent can pick; by default the account's configured DIDs."""
        return [Bridge(id=did, label=did, number=did) for did in self.account.bridges]

    async def test_connection(self) -> str:
        """Check the account works without placing a call; return a sentence on success."""
        raise UnsupportedOption(
            f"{self.label} has no way to check credentials without placing a call"
        )

    @property
    def number_format(self) -> NumberFormat:
        return self.account.number_format or self.capabilities.default_number_format

    def check_request(self, request: CallRequest) -> None:
        """Refuse what this provider cannot do, before anything is sent."""
        checks = (
            ("flow", request.flow is not None),
            ("record", request.record),
            ("max_length", request.max_seconds is not None),
            ("attempts", request.attempts is not None),
            ("holdfile", request.holdfile is not None),
            ("campaign", request.campid is not None),
        )
        for option, asked in checks:
            reason = unsupported_reason(self.capabilities, self.label, option) if asked else None
            if reason:
                raise UnsupportedOption(reason)
        if self.capabilities.bridge_required and not request.bridge:
            # Also checked for calls from the window, which has no --bridge: the flag is
            # only the second way out.
            raise UnsupportedOption(
                f"{self.label} needs {bridge_noun(self.kind, article=True)} to call from: "
                "add one to the account (or pass --bridge on the command line)"
            )

    async def aclose(self) -> None:
        await self._clients.aclose()

    # -- HTTP shared by the providers ---------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.account.url if self.account.url.endswith("/") else self.account.url + "/"

    async def send(
        self,
        method: str,
        url: str,
        *,
        places_call: bool,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request and map transport failures and 5xx to :class:`ProviderUnreachable`.

        Only a connection that failed before anything was written is retried (the client's
        transport retries connect errors once). A timeout after sending is final: a second
        request could ring the customer twice.
        """
        import httpx

        try:
            with self._clients.lease() as client:
                response = await client.request(
                    method, url, params=params, json=json_body, data=form, headers=headers
                )
        except httpx.TimeoutException as exc:
            phase = "connect" if isinstance(exc, httpx.ConnectTimeout) else "answer"
            limit = (
                self.account.connect_timeout if phase == "connect" else self.account.read_timeout
            )
            tail = (
                "; the call may or may not have been placed, so it was not retried"
                if places_call and phase != "connect"
                else ""
            )
            raise ProviderUnreachable(
                f"{self.label} did not {phase} within {limit:g} s{tail}",
                provider=self.kind,
            ) from None
        except httpx.ConnectError as exc:
            where = redact_url(str(exc.request.url.copy_with(query=None)))
            # In words first; the address, for whoever checks it, last.
            raise ProviderUnreachable(
                f"{self.label} cannot be reached ({_plain_reason(exc)}); nothing was sent. "
                f"Address tried: {where}",
                provider=self.kind,
            ) from None
        except httpx.TransportError as exc:
            tail = "; the call may or may not have been placed" if places_call else ""
            raise ProviderUnreachable(
                f"The connection to {self.label} failed: {_plain_reason(exc)}{tail}",
                provider=self.kind,
            ) from None
        logger.debug(
            "%s %s -> %s", method, redact_url(str(response.request.url)), response.status_code
        )
        if response.status_code >= 500:
            raise ProviderUnreachable(
                f"{self.label} had a server error (HTTP {response.status_code}): "
                f"{excerpt(response.content) or 'no details'}",
                provider=self.kind,
                status_code=response.status_code,
            )
        return response

    def sent(self, method: str, url: str, fields: Mapping[str, Any]) -> SentRequest:
        return SentRequest(method=method, url=redact_url(url), fields=redact_mapping(fields))

    def parse_json(self, response: httpx.Response) -> Any:
        """The body as JSON whatever the Content-Type says, or :class:`UnexpectedAnswer`."""
        try:
            return json.loads(response.content)
        except ValueError:
            raise self.unexpected(response, "an answer that is not JSON") from None

    def json_or_none(self, response: httpx.Response) -> dict[str, Any] | None:
        """The body as a JSON object if it is one; for reading error details."""
        try:
            data = json.loads(response.content)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def unexpected(self, response: httpx.Response, what: str) -> UnexpectedAnswer:
        snippet = excerpt(response.content)
        return UnexpectedAnswer(
            f"{self.label} sent {what} (HTTP {response.status_code}): {snippet or 'empty body'}",
            provider=self.kind,
            status_code=response.status_code,
            body_excerpt=snippet,
        )

    def auth_refused(self, detail: str, status_code: int | None = None) -> AuthenticationRefused:
        return AuthenticationRefused(
            f"{self.label} refused the account's credentials: {detail}",
            provider=self.kind,
            status_code=status_code,
        )


def _plain_reason(exc: BaseException) -> str:
    """The root cause in a few words: httpx wraps the socket error it got."""
    import errno

    causes: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in causes:
        causes.append(current)
        current = current.__cause__ or current.__context__
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError) or (
            isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED
        ):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "its TLS certificate is not trusted"
    text = " ".join(str(c) for c in causes)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "its TLS certificate is not trusted"
    return excerpt(str(exc) or type(exc).__name__, 120)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """The OS trust store (``truststore``), so corporate CAs installed by IT just work.

    One for the process, shared by every client (a context is safe to share): a burst of
    calls leases new clients, and each context built loads the OS's certificates, 5-20 ms
    on the window's loop (benchmarks/stall.py). The window's warm-up builds it."""
    try:
        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except ImportError:  # pragma: no cover - truststore is a dependency
        return ssl.create_default_context()


class ClientPool:
    """The account's HTTP clients: one normally, a few small ones under a burst.

    httpcore's pool re-examines every connection each time a request starts or ends, so one
    client carrying 200 concurrent calls spends its time on bookkeeping (quadratic in the
    number of connections; measured in benchmarks/calls.py). Leasing the least busy of a few
    clients, each holding at most ``per_client`` requests, keeps every pool small.
    """

    def __init__(
        self,
        factory: Callable[[], httpx.AsyncClient],
        *,
        per_client: int = 4,
        max_clients: int = 64,
    ):
        self._factory = factory
        self._per_client = per_client
        self._max_clients = max_clients
        self._clients: list[httpx.AsyncClient] = []
        self._busy: list[int] = []

    @contextmanager
    def lease(self) -> Iterator[httpx.AsyncClient]:
        index = min(range(len(self._clients)), key=self._busy.__getitem__, default=-1)
        if index < 0 or (
            self._busy[index] >= self._per_client and len(self._clients) < self._max_clients
        ):
            self._clients.append(self._factory())
            self._busy.append(0)
            index = len(self._clients) - 1
        self._busy[index] += 1
        try:
            yield self._clients[index]
        finally:
            self._busy[index] -= 1

    async def aclose(self) -> None:
        clients, self._clients, self._busy = self._clients, [], []
        for client in clients:
            await client.aclose()


def import_http_stack() -> None:
    """Import what the first request needs (httpx's transport, httpcore, anyio's asyncio
    backend, h11). The window calls it on a worker thread once it is shown: imported lazily
    by the first call instead, they held the window's loop for about 110 ms (measured by
    benchmarks/stall.py), and importing them at start-up would delay the first paint."""
    import anyio._backends._asyncio  # noqa: F401
    import h11  # noqa: F401
    import httpcore  # noqa: F401
    import httpx

    # Its first construction imports the rest; with the process's context (truststore, and
    # the OS's certificates), not one of its own that loads certifi's, once more.
    httpx.AsyncHTTPTransport(verify=_ssl_context())


def make_client(
    account: Account, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    import httpx

    from dialer import __version__

    timeout = httpx.Timeout(
        connect=account.connect_timeout,
        read=account.read_timeout,
        write=account.read_timeout,
        pool=account.read_timeout,
    )
    if transport is None:
        # retries=1 re-tries only connect errors, i.e. before any byte of the request left.
        transport = httpx.AsyncHTTPTransport(
            retries=1,
            verify=_ssl_context(),
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
        )
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=True,
        headers={"User-Agent": f"dialer/{__version__}"},
    )
