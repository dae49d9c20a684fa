"""Fake Click2Call v1 service: the 2013 PHP API (seed 002).

Everything is answered with HTTP 200 and a plain line of text, as legacy PHP scripts do;
the error lines are the simulator's choice because the document names none.
"""

from __future__ import annotations

import itertools
import logging
import math
import re

from aiohttp import web

from dialer.core.accounts import ProviderKind
from dialer.simulator.context import SimContext
from dialer.simulator.engine import leg_seconds
from dialer.simulator.model import SimCall
from dialer.simulator.wire import parse_form, php_text, positive_int

logger = logging.getLogger(__name__)

PREFIX = "/api/voice/"
NUMBER_RE = re.compile(r"[0-9]{7,15}")
FIRST_CALL_ID = 104523

INVALID_LOGIN = "Invalid UID or PIN"
INVALID_NUMBER = "Invalid Number"
INVALID_HOLDFILE = "Invalid Holdfile"
INVALID_DURATION = "Invalid Duration"
NO_RECORD = "No Record Found"


class Click2CallV1Service:
    provider = ProviderKind.CLICK2CALL_V1

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self._ids = itertools.count(FIRST_CALL_ID)
        self._calls: dict[str, SimCall] = {}
        self._by_uniqueid: dict[str, SimCall] = {}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", PREFIX + "{tail:.*}", self.dispatch)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        if tail not in ("click2call.php", "report-click2call.php"):
            return web.Response(
                status=404,
                text="<html><head><title>404 Not Found</title></head>"
                "<body><h1>Not Found</h1></body></html>",
                content_type="text/html",
            )
        if request.method not in ("GET", "POST"):
            return web.Response(status=405, text="Method Not Allowed", content_type="text/html")
        params = await self._params(request)
        if tail == "click2call.php":
            return self.click2call(params)
        return self.report(params)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, str]:
        # PHP's $_REQUEST: query string first, then form fields override.
        params = {key: value for key, value in request.query.items()}
        if request.method == "POST":
            body = await request.read()
            params.update(parse_form(body, request.headers.get("Content-Type", "")))
        return params

    def _logged_in(self, params: dict[str, str]) -> bool:
        creds = self.ctx.config.credentials
        return params.get("uid") == creds.v1_uid and params.get("pin") == creds.v1_pin

    def click2call(self, params: dict[str, str]) -> web.Response:
        if not self._logged_in(params):
            return php_text(INVALID_LOGIN)
        number1, number2 = params.get("number1", ""), params.get("number2", "")
        if not NUMBER_RE.fullmatch(number1) or not NUMBER_RE.fullmatch(number2):
            return php_text(INVALID_NUMBER)
        holdfile = params.get("holdfile", "")
        if holdfile and holdfile not in self.ctx.config.credentials.v1_holdfiles:
            return php_text(INVALID_HOLDFILE)
        duration_text = params.get("duration", "")
        duration = positive_int(duration_text) if duration_text else None
        if duration_text and duration is None:
            return php_text(INVALID_DURATION)
        uniqueid = params.get("uniqueid") or None
        call = SimCall(
            id=str(next(self._ids)),
            provider=self.provider,
            agent=number1,
            customer=number2,
            bridge=None,
            outcome=self.ctx.config.outcome_for(number2),
            limit=float(duration) if duration is not None else None,
            reference=uniqueid,
            extra={"holdfile": holdfile or None, "uniqueid": uniqueid},
        )
        self._calls[call.id] = call
        if uniqueid is not None:
            self._by_uniqueid[uniqueid] = call  # a reused uniqueid reports the latest call
        self.ctx.engine.start(call)
        logger.info("Click2Call v1 call %s accepted", call.id)
        return php_text(call.id)

    def report(self, params: dict[str, str]) -> web.Response:
        if not self._logged_in(params):
            return php_text(INVALID_LOGIN)
        asked = params.get("id") or ""
        call = self._calls.get(asked) if asked else None
        if not asked:
            asked = params.get("uniqueid") or ""
            call = self._by_uniqueid.get(asked) if asked else None
        if call is None:
            return php_text(NO_RECORD)
        if not call.is_finished:
            return php_text("")  # the row is written when the call ends
        dur1 = leg_seconds(call.first_leg_seconds)
        dur2 = leg_seconds(call.second_leg_seconds)
        return php_text(f"{asked},{dur1},{dur2},{credit(dur1, dur2)}")


def credit(dur1: int, dur2: int) -> int:
    """Credits used: one per started minute of each answered leg."""
    return math.ceil(dur1 / 60) + math.ceil(dur2 / 60)
