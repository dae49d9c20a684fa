"""A fifth click-to-call service, declared from the tests folder alone: its provider, its
declaration and a small server of its own, to show that nothing outside a provider's module
needs to know about it (accounts dialog, ``dialer account add``, the tracker).

"Ring Relay" is made up: ``POST /calls`` (form ``agent``, ``customer``, header ``X-Key``)
answers ``{"ok": true, "id": "..."}``; ``GET /calls/{id}`` answers the call's state, and its
outcome once it ended (``{"state": "ended", "talk": 42}``).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from dialer.core.calls import CallRequest, CallResult, CallStatus
from dialer.core.errors import CallRejected
from dialer.core.numbers import NumberFormat
from dialer.core.reports import ProviderReport
from dialer.providers.base import BridgeKind, Capabilities, PreparedCall, Provider
from dialer.providers.spec import (
    AccountField,
    PolledRead,
    PolledReports,
    ProviderSpec,
    SecretDeclaration,
    TrackedCall,
)

KIND = "ring-relay"


class RingRelayProvider(Provider):
    kind = KIND
    label = "Ring Relay"
    capabilities = Capabilities(
        default_number_format=NumberFormat.E164, bridge=BridgeKind.NONE, bridge_required=False
    )

    def form(self, request: CallRequest) -> dict[str, str]:
        assert request.agent is not None
        return {
            "agent": request.agent.for_wire(self.number_format),
            "customer": request.customer.for_wire(self.number_format),
            "line": self.account.option("line_id") or "",
        }

    async def prepare(self, request: CallRequest) -> PreparedCall:
        self.check_request(request)
        return PreparedCall(request, self.sent("POST", f"{self.base_url}calls", self.form(request)))

    async def start(self, call: PreparedCall) -> CallResult:
        response = await self.send(
            "POST",
            f"{self.base_url}calls",
            form=self.form(call.request),
            headers={"X-Key": self._secret},
            places_call=True,
        )
        data = self.parse_json(response)
        if not data.get("ok"):
            raise CallRejected(f"{self.label} refused the call", provider=self.kind)
        return CallResult(provider_ref=str(data["id"]), message="Relaying")

    async def state(self, call_id: str) -> dict[str, object]:
        response = await self.send(
            "GET", f"{self.base_url}calls/{call_id}", headers={"X-Key": self._secret},
            places_call=False,
        )  # fmt: skip
        data = self.parse_json(response)
        assert isinstance(data, dict)
        return data


class RingRelayReports(PolledReports):
    async def read(self, provider: Provider, call: TrackedCall) -> PolledRead | None:
        assert isinstance(provider, RingRelayProvider) and call.provider_ref
        data = await provider.state(call.provider_ref)
        if data.get("state") != "ended":
            return None
        talk = int(str(data.get("talk", 0)))
        report = ProviderReport(
            provider=KIND,
            source="poll",
            body=f"{call.provider_ref}:{talk}",
            status=CallStatus.COMPLETED if talk else CallStatus.NO_ANSWER,
            account=call.account,
            call_id=call.id,
            provider_ref=call.provider_ref,
            answered=talk > 0,
            talk_seconds=talk,
        )
        return PolledRead(report, key=talk)


SPEC = ProviderSpec(
    kind=KIND,
    label="Ring Relay",
    provider=RingRelayProvider,
    secret=SecretDeclaration("Relay key"),
    fields=(AccountField("line_id", "Relay line", "Ring Relay: the line to call from", True),),
    reports=RingRelayReports(),
)


@dataclass
class RingRelayServer:
    """The service's twin: every call ends answered after ``polls_until_ended`` reads."""

    key: str = "relay-key"
    talk_seconds: int = 42
    polls_until_ended: int = 2
    placed: list[dict[str, str]] = field(default_factory=list)
    reads: dict[str, int] = field(default_factory=dict)
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def place(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Key") != self.key:
            return web.json_response({"ok": False}, status=401)
        self.placed.append(dict(await request.post()))  # type: ignore[arg-type]
        call_id = f"rr-{next(self._ids)}"
        self.reads[call_id] = 0
        return web.json_response({"ok": True, "id": call_id})

    async def state(self, request: web.Request) -> web.Response:
        call_id = request.match_info["id"]
        if call_id not in self.reads:
            return web.json_response({"ok": False}, status=404)
        self.reads[call_id] += 1
        if self.reads[call_id] <= self.polls_until_ended:
            return web.json_response({"state": "ringing"})
        return web.json_response({"state": "ended", "talk": self.talk_seconds})


@asynccontextmanager
async def ring_relay_server() -> AsyncIterator[RingRelayServer]:
    server = RingRelayServer()
    app = web.Application()
    app.router.add_post("/calls", server.place)
    app.router.add_get("/calls/{id}", server.state)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}/"
    try:
        yield server
    finally:
        await runner.cleanup()
