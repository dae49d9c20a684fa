"""Fake DigiDonar reverse click-to-call (a CallerDesk white-label, seed 004).

The real service answers every outcome with HTTP 200 and ``Content-Type: text/html`` around
a JSON body, so that is what clients get here too: they must decide on ``type``.

What it reads, as strictly as the document allows: the query string only (the PHP server
behind it fills ``$_POST`` for POST requests alone, so a form body on this GET is never
seen); ``campid`` (a "form parameter" of the document, read from the query as the server
reads any request parameter) must be an integer; a parameter given twice with different
values is refused rather than guessed at. The answer writes the desk phone without its
leading 0, as the document's example does (``0120xxxx`` sent, ``1204xxxxx`` answered).
"""

from __future__ import annotations

import itertools
import logging
import re

from aiohttp import web

from dialer.core.accounts import ProviderKind
from dialer.simulator.context import SimContext
from dialer.simulator.model import SimCall
from dialer.simulator.wire import PHP_CONTENT_TYPE, is_digits, json_answer, positive_int

logger = logging.getLogger(__name__)

PREFIX = "/api_v2/"
NATIONAL_RE = re.compile(r"[0-9]{10}")
FIRST_CAMPID = 3570001

INVALID_AUTH = "Invalid Auth Code!"
INVALID_PARAMETER = "Invalid Parameter value."
SUCCESS = "Call to Customer Initiate Successfully.."


def html_json(payload: dict[str, object]) -> web.Response:
    return json_answer(payload, 200, content_type=PHP_CONTENT_TYPE)


def error(message: str) -> web.Response:
    return html_json({"type": "error", "message": message})


class DigiDonarService:
    provider = ProviderKind.DIGIDONAR

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self._campids = itertools.count(FIRST_CAMPID)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", PREFIX + "{tail:.*}", self.dispatch)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["tail"] != "click_to_call_v3":
            return web.Response(status=404, text="404 Page Not Found", content_type="text/html")
        if request.method != "GET":
            return web.Response(
                status=405,
                text="<h1>405 Method Not Allowed</h1>",
                content_type="text/html",
                headers={"Allow": "GET"},
            )
        return self.click_to_call(request)

    def click_to_call(self, request: web.Request) -> web.Response:
        creds = self.ctx.config.credentials
        params: dict[str, str] = {}
        repeated = False
        for key, value in request.query.items():
            repeated = repeated or params.get(key, value) != value
            params.setdefault(key, value)
        if params.get("authcode") != creds.digidonar_authcode:
            return error(INVALID_AUTH)
        if repeated:
            return error(INVALID_PARAMETER)
        customer = params.get("calling_party_a", "")
        agent = params.get("calling_party_b", "")
        deskphone = params.get("deskphone", "")
        if (
            not NATIONAL_RE.fullmatch(customer)
            or not NATIONAL_RE.fullmatch(agent)
            or deskphone not in creds.digidonar_deskphones
            or params.get("call_from_did") != "1"
        ):
            return error(INVALID_PARAMETER)
        limit = positive_int(params["CallLimit"]) if "CallLimit" in params else None
        if "CallLimit" in params and limit is None:
            return error(INVALID_PARAMETER)
        campaign = params.get("campid")
        if campaign is not None and not is_digits(campaign):
            return error(INVALID_PARAMETER)
        campid = next(self._campids)
        call = SimCall(
            id=str(campid),
            provider=self.provider,
            agent=agent,
            customer=customer,
            bridge=deskphone,
            outcome=self.ctx.config.outcome_for(customer),
            customer_first=True,
            limit=float(limit) if limit is not None else None,
            extra={"campid": campid, "campaign": campaign},
        )
        self.ctx.engine.start(call)
        logger.info("DigiDonar call %s accepted", call.id)
        return html_json(
            {
                "type": "success",
                "message": SUCCESS,
                "campid": campid,
                "deskphone": deskphone.lstrip("0"),
            }
        )
