"""The provider simulator: one local aiohttp server speaking all four click-to-call APIs."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from dialer.core.accounts import ProviderKind
from dialer.simulator import c2c_v2, click2call_v1, digidonar
from dialer.simulator.c2c_v2 import C2CV2Service
from dialer.simulator.click2call_v1 import Click2CallV1Service
from dialer.simulator.context import SimContext, WebhookDelivery
from dialer.simulator.control import PREFIX as CONTROL_PREFIX
from dialer.simulator.control import ControlApi
from dialer.simulator.digidonar import DigiDonarService
from dialer.simulator.engine import CallEngine
from dialer.simulator.faults import FaultQueue, apply_fault, sleep_unless
from dialer.simulator.kazoo import KazooService
from dialer.simulator.model import Fault, Outcome, RecordedRequest, SimCall, SimulatorConfig
from dialer.simulator.wire import parse_form, parse_json

logger = logging.getLogger(__name__)

# How long stop() lets in-flight requests finish before their connections are cut.
SHUTDOWN_GRACE = 1.0

_ACCOUNT_PATHS = {
    ProviderKind.C2C_V2: c2c_v2.PREFIX.lstrip("/"),
    ProviderKind.CLICK2CALL_V1: click2call_v1.PREFIX.lstrip("/"),
    ProviderKind.KAZOO: "",  # the client appends v1/... or v2/...
    ProviderKind.DIGIDONAR: digidonar.PREFIX.lstrip("/"),
}


def account_url(base_url: str, provider: ProviderKind | str) -> str:
    """The base URL an account of ``provider`` uses against a simulator at ``base_url``."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return base + _ACCOUNT_PATHS[ProviderKind(provider)]


@dataclass(frozen=True)
class SimulatorAddress:
    """A simulator running elsewhere (``dialer simulate``), known by its URL.

    Default credentials are assumed: that is what ``dialer simulate`` serves.
    """

    base_url: str
    config: SimulatorConfig = field(default_factory=SimulatorConfig)

    def account_url(self, provider: ProviderKind | str) -> str:
        return account_url(self.base_url, provider)


def provider_for_path(path: str) -> ProviderKind | None:
    if path.startswith(c2c_v2.PREFIX):
        return ProviderKind.C2C_V2
    if path.startswith(click2call_v1.PREFIX):
        return ProviderKind.CLICK2CALL_V1
    if path.startswith(digidonar.PREFIX):
        return ProviderKind.DIGIDONAR
    if path.startswith(("/v1/", "/v2/")):
        return ProviderKind.KAZOO
    return None


class ProviderSimulator:
    """Start with ``await sim.start()`` (or ``async with``), point accounts at
    :meth:`account_url`, inspect :attr:`requests` and :attr:`calls`, stop with ``stop()``."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self._requests: list[RecordedRequest] = []
        self._faults = FaultQueue()
        self._engine = CallEngine(self.config)
        self._ctx: SimContext | None = None
        self._kazoo: KazooService | None = None
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        ctx = SimContext(config=self.config, engine=self._engine)
        self._ctx = ctx
        app = web.Application(middlewares=[self._middleware()])
        for service in (
            C2CV2Service(ctx),
            Click2CallV1Service(ctx),
            DigiDonarService(ctx),
        ):
            service.add_routes(app)
        self._kazoo = KazooService(ctx)
        self._kazoo.add_routes(app)
        ControlApi(self).add_routes(app)
        # Handlers are cancelled when a client hangs up, so a held (timeout-faulted) request
        # does not outlive the client that gave up on it.
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=SHUTDOWN_GRACE
        )
        await runner.setup()
        # A deep backlog: benchmarks open hundreds of connections at once.
        site = web.TCPSite(runner, host, port, backlog=1024)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else str(bound_host)
        self._base_url = f"http://{shown}:{bound_port}/"
        ctx.base_url = self._base_url
        logger.info("provider simulator listening on %s", self._base_url)

    async def stop(self) -> None:
        runner, ctx = self._runner, self._ctx
        if runner is None or ctx is None:
            return
        ctx.stopping.set()
        await runner.cleanup()
        await self._engine.close()
        if ctx.http is not None:
            await ctx.http.aclose()
            ctx.http = None
        self._runner = None
        logger.info("provider simulator stopped")

    async def __aenter__(self) -> ProviderSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- addresses --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the simulator has not been started")
        return self._base_url

    def account_url(self, provider: ProviderKind) -> str:
        return account_url(self.base_url, provider)

    # -- inspection and control -------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._requests

    def clear_requests(self) -> None:
        self._requests.clear()

    def inject(self, fault: Fault, provider: ProviderKind | None = None, count: int = 1) -> None:
        """The next ``count`` requests to ``provider`` (None: any request) get ``fault``."""
        self._faults.add(fault, ProviderKind(provider) if provider is not None else None, count)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def pending_faults(self) -> int:
        return len(self._faults)

    @property
    def calls(self) -> dict[str, SimCall]:
        return self._engine.calls

    @property
    def webhooks(self) -> list[WebhookDelivery]:
        """Every C2C v2 callback pushed (or attempted), in order."""
        return self._ctx.webhooks if self._ctx is not None else []

    def set_outcome(self, customer: str, outcome: Outcome) -> None:
        self.config.outcomes[customer] = outcome

    @property
    def kazoo(self) -> KazooService:
        """The simulated Kazoo's state (its clicktocalls, history and CDRs), for tests."""
        assert self._kazoo is not None, "the simulator is not running"
        return self._kazoo

    def expire_kazoo_tokens(self) -> None:
        if self._kazoo is not None:
            self._kazoo.expire_tokens()

    async def wait_call_finished(self, call_id: str, timeout: float = 5.0) -> SimCall:
        """The call once it reached a final state; KeyError if no such call was placed."""
        call = self.calls[call_id]
        async with asyncio.timeout(timeout):
            await call.finished.wait()
        return call

    # -- the request pipeline ---------------------------------------------------------------

    def _middleware(self) -> Middleware:
        @web.middleware
        async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
            arrived = time.perf_counter()
            if request.path.startswith(CONTROL_PREFIX):
                return await handler(request)
            provider = provider_for_path(request.path)
            body = await request.read()
            content_type = request.headers.get("Content-Type", "")
            headers: dict[str, str] = {}
            for name, value in request.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            self._requests.append(
                RecordedRequest(
                    provider=provider,
                    method=request.method,
                    path=request.path,
                    query={key: value for key, value in request.query.items()},
                    headers=headers,
                    body=body,
                    json=parse_json(body),
                    form=parse_form(body, content_type),
                    arrived=arrived,
                )
            )
            fault = self._faults.take(provider)
            assert self._ctx is not None
            if self.config.answer_delay > 0:
                await sleep_unless(self._ctx.stopping, self.config.answer_delay)
            if fault is not None:
                faulted = await apply_fault(fault, request, provider, self._ctx.stopping)
                if faulted is not None:
                    return faulted
            return await handler(request)

        return pipeline
