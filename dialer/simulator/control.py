"""HTTP control API under ``/_simulator/``, so another process (the app under test, a
benchmark, ``dialer simulate``) can steer a running simulator. Never recorded, never faulted.
"""

from __future__ import annotations

import io
import logging
import wave
from typing import TYPE_CHECKING

from aiohttp import web

from dialer.core.accounts import ProviderKind
from dialer.simulator.model import Fault, FaultKind, Outcome
from dialer.simulator.wire import json_answer, parse_json

if TYPE_CHECKING:
    from dialer.simulator.server import ProviderSimulator

logger = logging.getLogger(__name__)

PREFIX = "/_simulator/"


def _bad_request(message: str) -> web.Response:
    return json_answer({"error": message}, 400)


def fault_from_json(spec: dict[str, object]) -> Fault:
    """Build a Fault from the control API's JSON; ValueError says what is wrong."""
    name = spec.get("fault")
    if not isinstance(name, str):
        raise ValueError("'fault' is required")
    try:
        kind = FaultKind(name)
    except ValueError:
        choices = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"unknown fault {name!r} (choose from {choices})") from None
    seconds = spec.get("seconds")
    status = spec.get("status")
    message = spec.get("message")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float)):
        raise ValueError("'seconds' must be a number")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise ValueError("'status' must be an integer")
    if message is not None and not isinstance(message, str):
        raise ValueError("'message' must be a string")
    if kind is FaultKind.LATENCY:
        if seconds is None:
            raise ValueError("a latency fault needs 'seconds'")
        return Fault.latency(float(seconds))
    if kind is FaultKind.TIMEOUT:
        return Fault.timeout(float(seconds) if seconds is not None else 60.0)
    if kind is FaultKind.SERVER_ERROR:
        return Fault.server_error(status if status is not None else 500)
    if kind is FaultKind.HTML:
        return Fault.html(status if status is not None else 200)
    if kind is FaultKind.MALFORMED_JSON:
        return Fault.malformed_json()
    if kind is FaultKind.FAILURE_IN_200:
        return Fault.failure_in_200(message)
    return Fault.reset()


def silent_wav(seconds: float) -> bytes:
    """A short silent recording, enough for a player or a download to work against."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * max(0.1, min(seconds, 5.0))))
    return buffer.getvalue()


class ControlApi:
    def __init__(self, sim: ProviderSimulator) -> None:
        self.sim = sim

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PREFIX, self.info)
        app.router.add_get(PREFIX + "requests", self.list_requests)
        app.router.add_delete(PREFIX + "requests", self.clear_requests)
        app.router.add_post(PREFIX + "faults", self.add_fault)
        app.router.add_delete(PREFIX + "faults", self.clear_faults)
        app.router.add_get(PREFIX + "calls", self.list_calls)
        app.router.add_get(PREFIX + "outcomes", self.get_outcomes)
        app.router.add_put(PREFIX + "outcomes", self.set_outcomes)
        app.router.add_get(PREFIX + "webhooks", self.list_webhooks)
        app.router.add_post(PREFIX + "kazoo/expire-tokens", self.expire_tokens)
        app.router.add_get(PREFIX + "recordings/{call_id}.wav", self.recording)

    async def info(self, request: web.Request) -> web.Response:
        return json_answer(
            {
                "base_url": self.sim.base_url,
                "accounts": {kind.value: self.sim.account_url(kind) for kind in ProviderKind},
                "calls": len(self.sim.calls),
                "requests": len(self.sim.requests),
            }
        )

    async def list_requests(self, request: web.Request) -> web.Response:
        return json_answer([recorded.to_json() for recorded in self.sim.requests])

    async def clear_requests(self, request: web.Request) -> web.Response:
        cleared = len(self.sim.requests)
        self.sim.clear_requests()
        return json_answer({"cleared": cleared})

    async def add_fault(self, request: web.Request) -> web.Response:
        spec = parse_json(await request.read())
        if not isinstance(spec, dict):
            return _bad_request("the body must be a JSON object")
        provider_name = spec.get("provider")
        count = spec.get("count", 1)
        try:
            fault = fault_from_json(spec)
            provider = ProviderKind(provider_name) if provider_name is not None else None
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError("'count' must be a positive integer")
        except ValueError as exc:
            return _bad_request(str(exc))
        self.sim.inject(fault, provider, count)
        return json_answer(
            {
                "fault": fault.kind.value,
                "provider": provider.value if provider else None,
                "count": count,
                "seconds": fault.seconds,
                "status": fault.status,
                "message": fault.message,
            },
            201,
        )

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sim.clear_faults()
        return json_answer({"cleared": True})

    async def list_calls(self, request: web.Request) -> web.Response:
        return json_answer({call_id: call.to_json() for call_id, call in self.sim.calls.items()})

    async def get_outcomes(self, request: web.Request) -> web.Response:
        config = self.sim.config
        return json_answer(
            {
                "default": config.default_outcome.value,
                "outcomes": {number: outcome.value for number, outcome in config.outcomes.items()},
            }
        )

    async def set_outcomes(self, request: web.Request) -> web.Response:
        spec = parse_json(await request.read())
        if not isinstance(spec, dict):
            return _bad_request("the body must be a JSON object of number -> outcome")
        parsed: dict[str, Outcome] = {}
        try:
            for number, value in spec.items():
                if not isinstance(value, str):
                    raise ValueError(f"the outcome of {number!r} must be a string")
                parsed[number] = Outcome.parse(value)
        except ValueError as exc:
            return _bad_request(str(exc))
        self.sim.config.outcomes.update(parsed)
        return await self.get_outcomes(request)

    async def list_webhooks(self, request: web.Request) -> web.Response:
        return json_answer([delivery.to_json() for delivery in self.sim.webhooks])

    async def expire_tokens(self, request: web.Request) -> web.Response:
        self.sim.expire_kazoo_tokens()
        return json_answer({"expired": True})

    async def recording(self, request: web.Request) -> web.Response:
        call = self.sim.calls.get(request.match_info["call_id"])
        if call is None or not call.record or not call.is_finished:
            return json_answer({"error": "no such recording"}, 404)
        return web.Response(
            body=silent_wav(call.second_leg_seconds or call.first_leg_seconds),
            content_type="audio/wav",
        )
