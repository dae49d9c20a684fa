"""Fake C2C v2 service: ``POST /api/v2/voice/c2c`` (seeds 000/001), and the subscriptions
the document points to instead of a ``webhook_id`` on every call: ``POST|GET
/api/v2/developer/subscriptions`` and ``GET|DELETE /api/v2/developer/subscriptions/{id}``,
with ``{"event": "voice:message:out", "identity": ..., "webhook_id": ...}``.

A call's report is pushed to the webhook its ``webhook_id`` names (with the ``mid`` and
``callId`` it carried), and to the webhook of every subscription in the shape of the
document's example: its table's fields, no ``mid``, no ``callId``. Report times are local
times of ``SimulatorConfig.c2c_time_zone`` (this machine's when None). The identity of a
subscription is kept but filters nothing: the documents say only what ``all`` means.

The backend is a Laravel app, so refusals follow Laravel's shapes: 401
``{"message": "Unauthenticated."}`` and 422 with ``errors: {field: [messages]}``, plus the
platform's own ``status: "ERROR"`` and ``code`` fields.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from dialer.core.accounts import ProviderKind
from dialer.simulator.context import SimContext
from dialer.simulator.engine import leg_seconds
from dialer.simulator.model import CallState, SimCall, SimCredentials
from dialer.simulator.wire import is_digits, json_answer, local_datetime, parse_json

logger = logging.getLogger(__name__)

PREFIX = "/api/v2/"
# Country code plus subscriber number, digits only: a country code never starts with 0.
NUMBER_RE = re.compile(r"[1-9][0-9]{7,14}")
INTEGER_RE = re.compile(r"[+-]?[0-9]+")
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z0-9_]+)\}")
VARIABLE_KEY_RE = re.compile(r"variables\[([^\]]+)\]")
FLOW_PREFIX = "flow:"

_INVALID = object()  # a value of a JSON type Laravel's rules would never accept


def _text(value: object) -> object:
    """A request value as Laravel's validator sees it after TrimStrings and
    ConvertEmptyStringsToNull: a stripped string, None when blank, or _INVALID."""
    if value is None:
        return None
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return _INVALID


def _json_number(value: str) -> int | str:
    # The document's callback example prints numbers unquoted; a leading zero would be lost.
    if is_digits(value) and (value == "0" or not value.startswith("0")):
        return int(value)
    return value


@dataclass
class _Fields:
    """A request that passed validation, values as received (after Laravel's trimming)."""

    bridge: str = ""
    source: str = ""  # "from"
    target: str = ""  # "to"
    flow_id: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    record: bool = False
    duration: int | None = None  # minutes
    attempts: int | None = None
    mid: str | None = None
    webhook_id: str | None = None


class _Validator:
    """Laravel-style validation: every field is checked and every failure reported."""

    NUMBER_RULE = "a number with country code: 8 to 15 digits, no +"

    def __init__(self, body: dict[str, object], creds: SimCredentials, webhooks: set[str]):
        self.body = body
        self.creds = creds
        self.webhooks = webhooks
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def run(self) -> _Fields:
        fields = _Fields()
        fields.bridge = self.required("bridge") or ""
        if fields.bridge and fields.bridge not in self.creds.c2c_bridges:
            self.fail("bridge", "The selected bridge is invalid.")
        fields.source = self.required("from") or ""
        if fields.source and not NUMBER_RE.fullmatch(fields.source):
            self.fail("from", f"The from must be {self.NUMBER_RULE}.")
        fields.target = self.required("to") or ""
        fields.flow_id = self.flow(fields.target)
        if fields.flow_id is not None:
            fields.variables = self.variables(fields.flow_id)
        record = _text(self.body.get("record"))
        if record is not None and record not in ("0", "1"):
            self.fail("record", "The selected record is invalid.")
        fields.record = record == "1"
        fields.duration = self.integer("duration", 1, None)
        fields.attempts = self.integer("attempts", 0, 2)
        fields.mid = self.mid()
        fields.webhook_id = self.webhook_id()
        return fields

    def required(self, name: str) -> str | None:
        value = _text(self.body.get(name))
        if value is None:
            self.fail(name, f"The {name} field is required.")
            return None
        if not isinstance(value, str):
            self.fail(name, f"The {name} must be a string.")
            return None
        return value

    def flow(self, target: str) -> str | None:
        if not target:
            return None
        if not target.startswith(FLOW_PREFIX):
            if not NUMBER_RE.fullmatch(target):
                self.fail("to", f"The to must be {self.NUMBER_RULE} or flow:<id>.")
            return None
        flow_id = target[len(FLOW_PREFIX) :].strip()
        if flow_id not in self.creds.c2c_flows:
            self.fail("to", "The selected flow is invalid.")
            return None
        return flow_id

    def variables(self, flow_id: str) -> dict[str, str]:
        # Only the flattened keys of every example count: the JSON endpoint does not unfold
        # a nested "variables" object the way PHP unfolds form fields.
        variables: dict[str, str] = {}
        for name in dict.fromkeys(PLACEHOLDER_RE.findall(self.creds.c2c_flows[flow_id])):
            key = f"variables[{name}]"
            value = _text(self.body.get(key))
            if value is None:
                self.fail(key, f"The {key} field is required.")
            elif not isinstance(value, str):
                self.fail(key, f"The {key} must be a string.")
            else:
                variables[name] = value
        for key, raw in self.body.items():  # extra variables ride along unchecked
            match = VARIABLE_KEY_RE.fullmatch(key)
            if match and match.group(1) not in variables and isinstance(raw, str | int):
                variables[match.group(1)] = str(raw)
        return variables

    def integer(self, name: str, minimum: int, maximum: int | None) -> int | None:
        value = _text(self.body.get(name))
        if value is None:
            return None
        if not isinstance(value, str) or not INTEGER_RE.fullmatch(value):
            self.fail(name, f"The {name} must be an integer.")
            return None
        number = int(value)
        if number < minimum:
            self.fail(name, f"The {name} must be at least {minimum}.")
            return None
        if maximum is not None and number > maximum:
            self.fail(name, f"The {name} may not be greater than {maximum}.")
            return None
        return number

    def mid(self) -> str | None:
        mid = _text(self.body.get("mid"))
        if mid is None:
            return None
        if not isinstance(mid, str):
            self.fail("mid", "The mid must be a string.")
            return None
        if len(mid) > 255:
            self.fail("mid", "The mid may not be greater than 255 characters.")
            return None
        return mid

    def webhook_id(self) -> str | None:
        webhook_id = _text(self.body.get("webhook_id"))
        if webhook_id is None:
            return None
        if not isinstance(webhook_id, str):
            self.fail("webhook_id", "The webhook id must be a string.")
            return None
        if webhook_id not in self.webhooks:
            self.fail("webhook_id", "The selected webhook id is invalid.")
            return None
        return webhook_id


# The one event a C2C call's report is published as ("acknowledgments after CDR events").
VOICE_EVENT = "voice:message:out"
SUBSCRIPTIONS = "developer/subscriptions"


def _subscription_errors(body: dict[str, object], webhooks: set[str]) -> dict[str, list[str]]:
    """Laravel's validation of a new subscription: every field checked."""
    errors: dict[str, list[str]] = {}
    for name in ("event", "identity", "webhook_id"):
        value = _text(body.get(name))
        label = name.replace("_", " ")
        if value is None:
            errors[name] = [f"The {label} field is required."]
        elif not isinstance(value, str):
            errors[name] = [f"The {label} must be a string."]
        elif name == "event" and value != VOICE_EVENT:
            errors[name] = ["The selected event is invalid."]
        elif name == "webhook_id" and value not in webhooks:
            errors[name] = ["The selected webhook id is invalid."]
    return errors


def validation_error(errors: dict[str, list[str]]) -> web.Response:
    first = next(iter(errors.values()))[0]
    return json_answer({"status": "ERROR", "code": 422, "message": first, "errors": errors}, 422)


class C2CV2Service:
    provider = ProviderKind.C2C_V2

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self._identities: dict[str, str] = {}  # subscription id -> its identity, as sent

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", PREFIX + "{tail:.*}", self.dispatch)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        if tail == "voice/c2c":
            if request.method != "POST":
                return self._method_not_allowed(request, "POST")
            return await self.c2c(request)
        if tail == "auth/me":
            if request.method != "GET":
                return self._method_not_allowed(request, "GET")
            return self.me(request)
        if tail == SUBSCRIPTIONS:
            if request.method not in ("GET", "POST"):
                return self._method_not_allowed(request, "GET, HEAD, POST")
            if not self._authenticated(request):
                return self._unauthenticated()
            if request.method == "GET":
                return self.subscriptions()
            return await self.subscribe(request)
        if tail.startswith(SUBSCRIPTIONS + "/") and "/" not in tail[len(SUBSCRIPTIONS) + 1 :]:
            if request.method not in ("GET", "DELETE"):
                return self._method_not_allowed(request, "GET, HEAD, DELETE")
            if not self._authenticated(request):
                return self._unauthenticated()
            return self.subscription(request.method, tail[len(SUBSCRIPTIONS) + 1 :])
        return _not_found()

    @staticmethod
    def _method_not_allowed(request: web.Request, allowed: str) -> web.Response:
        route = request.path.lstrip("/")
        message = (
            f"The {request.method} method is not supported for route {route}. "
            f"Supported methods: {allowed}."
        )
        return json_answer({"message": message}, 405)

    def _authenticated(self, request: web.Request) -> bool:
        expected = self.ctx.config.credentials.c2c_token
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip() == expected:
            return True
        # The platform documents ?access_token= for clients that cannot send the header.
        return request.query.get("access_token") == expected

    @staticmethod
    def _unauthenticated() -> web.Response:
        return json_answer({"message": "Unauthenticated."}, 401)

    def me(self, request: web.Request) -> web.Response:
        if not self._authenticated(request):
            return self._unauthenticated()
        return json_answer(
            {
                "status": "OK",
                "code": 200,
                "message": "OK",
                "data": {"name": "Simulator", "username": "simulator"},
            }
        )

    # -- subscriptions ----------------------------------------------------------------------

    def subscriptions(self) -> web.Response:
        listed = [
            _subscription(i, w, self._identities.get(i, "all"))
            for i, w in self.ctx.config.c2c_subscriptions.items()
        ]
        return json_answer({"status": "OK", "code": 200, "message": "OK", "data": listed})

    async def subscribe(self, request: web.Request) -> web.Response:
        body = parse_json(await request.read())
        if not isinstance(body, dict):
            return validation_error({"body": ["The request body must be a JSON object."]})
        errors = _subscription_errors(body, self.ctx.config.webhook_ids())
        if errors:
            return validation_error(errors)
        subscription_id = str(uuid.uuid4())
        webhook_id = str(_text(body["webhook_id"]))
        identity = str(_text(body["identity"]))
        self.ctx.config.c2c_subscriptions[subscription_id] = webhook_id
        self._identities[subscription_id] = identity
        logger.info("C2C v2 subscription %s to webhook %s", subscription_id, webhook_id)
        data = _subscription(subscription_id, webhook_id, identity)
        return json_answer(
            {"status": "OK", "code": 200, "message": "Subscription created", "data": data}
        )

    def subscription(self, method: str, subscription_id: str) -> web.Response:
        webhook_id = self.ctx.config.c2c_subscriptions.get(subscription_id)
        if webhook_id is None:
            return _not_found()
        identity = self._identities.get(subscription_id, "all")
        if method == "DELETE":
            del self.ctx.config.c2c_subscriptions[subscription_id]
            self._identities.pop(subscription_id, None)
            return json_answer({"status": "OK", "code": 200, "message": "Subscription deleted"})
        data = _subscription(subscription_id, webhook_id, identity)
        return json_answer({"status": "OK", "code": 200, "message": "OK", "data": data})

    # -- calls ---------------------------------------------------------------------------------

    async def c2c(self, request: web.Request) -> web.Response:
        if not self._authenticated(request):
            return self._unauthenticated()
        body = parse_json(await request.read())
        if not isinstance(body, dict):
            return validation_error({"body": ["The request body must be a JSON object."]})
        validator = _Validator(body, self.ctx.config.credentials, self.ctx.config.webhook_ids())
        fields = validator.run()
        if validator.errors:
            return validation_error(validator.errors)
        call = self._place(fields)
        logger.info("C2C v2 call %s accepted", call.id)
        return json_answer(
            {"status": 200, "message": "Call initiated successfully", "callId": call.id}
        )

    def _place(self, fields: _Fields) -> SimCall:
        flow = fields.flow_id is not None
        customer = fields.source if flow else fields.target
        call = SimCall(
            id=str(uuid.uuid4()),
            provider=self.provider,
            agent=None if flow else fields.source,
            customer=customer,
            bridge=fields.bridge,
            outcome=self.ctx.config.outcome_for(customer),
            flow_id=fields.flow_id,
            variables=fields.variables,
            record=fields.record,
            limit=fields.duration * 60.0 if fields.duration is not None else None,
            reference=fields.mid,
            extra={
                "from": fields.source,
                "to": fields.target,
                "webhook_id": fields.webhook_id,
                "attempts": fields.attempts,
                "duration_minutes": fields.duration,
            },
        )
        self.ctx.engine.start(call, self._publish)
        return call

    async def _publish(self, call: SimCall) -> None:
        """Push the call's report to the webhook it named and to every subscription's (each
        webhook once: a subscription to the webhook the call named adds nothing)."""
        named = call.extra.get("webhook_id")
        pushes = []
        if isinstance(named, str):
            pushes.append(self._push(call, named, self.callback(call)))
        for webhook_id in dict.fromkeys(self.ctx.config.c2c_subscriptions.values()):
            if webhook_id != named:
                pushes.append(
                    self._push(call, webhook_id, self.subscribed_callback(call, webhook_id))
                )
        if not pushes:
            logger.info("call %s named no webhook and nothing is subscribed: no callback", call.id)
        await asyncio.gather(*pushes)

    async def _push(self, call: SimCall, webhook_id: str, payload: dict[str, object]) -> None:
        url = self.ctx.config.webhook_url(webhook_id)
        if url is None:
            logger.info(
                "call %s reports to webhook %s, which has no URL: no callback", call.id, webhook_id
            )
            return
        await self.ctx.push_json(url, payload)

    def subscribed_callback(self, call: SimCall, webhook_id: str) -> dict[str, object]:
        """The report a subscription pushes: the document's example fields only."""
        payload = self.callback(call)
        payload["webhook_id"] = webhook_id
        del payload["callId"]
        payload.pop("mid", None)
        return payload

    def callback(self, call: SimCall) -> dict[str, object]:
        """The report body, in the document's field names and value types."""
        status, status1, status2 = _statuses(call)
        first = leg_seconds(call.first_leg_seconds)
        second = leg_seconds(call.second_leg_seconds)
        flow = call.flow_id is not None
        now = time.time()
        zone = self.ctx.config.c2c_time_zone
        started = call.started_at or now
        ended = call.ended_at or now
        recording = ""
        if call.record and call.state == CallState.COMPLETED.value:
            recording = f"{self.ctx.base_url}_simulator/recordings/{call.id}.wav"
        payload: dict[str, object] = {
            "webhook_id": call.extra.get("webhook_id"),
            "bridge": _json_number(call.bridge or ""),
            "from": _json_number(str(call.extra.get("from", ""))),
            "to": _json_number(str(call.extra.get("to", ""))),
            "source": "C2C",
            "start_at": local_datetime(started, zone),
            "end_at": local_datetime(ended, zone),
            "date": local_datetime(now, zone),
            "unixtime": str(int(now)),
            "duration": str(first),
            # A flow call has one leg: what the customer spent in the flow is what is billed.
            "billing": str(first if flow else second),
            "status": status,
            "status1": status1,
            "status2": status2,
            "recording_url": recording,
            "hangup_by": call.hangup_by or "caller",
            "callId": call.id,
        }
        if call.reference is not None:
            payload["mid"] = call.reference
        return payload


def _not_found() -> web.Response:
    return json_answer({"status": "ERROR", "code": 404, "message": "Not Found"}, 404)


def _subscription(subscription_id: str, webhook_id: str, identity: str) -> dict[str, object]:
    return {
        "id": subscription_id,
        "event": VOICE_EVENT,
        "identity": identity,
        "webhook_id": webhook_id,
    }


def _statuses(call: SimCall) -> tuple[str, str, str]:
    """(status, status1, status2), all from the platform's documented vocabulary.

    A second leg that never existed (the agent missed the call, or a flow call, where the
    IVR is the second party) reports CANCEL when the first leg failed."""
    leg = {
        CallState.NO_ANSWER.value: "NOANSWER",
        CallState.BUSY.value: "BUSY",
        CallState.FAILED.value: "CHANUNAVAIL",
    }
    state = call.state
    agent_missed = not any(s == CallState.AGENT_ANSWERED.value for _, s in call.timeline)
    if call.flow_id is not None:
        if state == CallState.COMPLETED.value:
            # "RECEIVED: received in ivr system but not call forward" is a flow call's success.
            return "RECEIVED", "ANSWER", "RECEIVED"
        return leg[state], leg[state], "CANCEL"
    if state == CallState.COMPLETED.value:
        return "COMPLETED", "RECEIVED", "ANSWER"  # exactly the document's example
    if agent_missed:
        return "MISSED", "NOANSWER", "CANCEL"
    return leg[state], "RECEIVED", leg[state]
