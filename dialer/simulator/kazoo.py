"""Fake Kazoo (2600Hz) Crossbar: authentication and the ``clicktocall`` module (seed 003).

Where the seed (a Kazoo 1.x/2.x page) and upstream's 4.3 code differ, the simulator follows
the code for what a client cannot choose (``auth_required`` defaults to true, create answers
201, timestamps are Gregorian seconds) and the seed for what it documents: ``realm`` is kept,
an object reports its ``history_items``, ``throttle`` caps the calls active through it, and
history items are ``contact``, ``timestamp``, ``call_id``, ``cdr_id``, with the CDR at
``/cdrs/{cdr_id}`` (``SimulatorConfig.kazoo_history_shape = "upstream"`` writes upstream's
``result``/``cause`` items instead). Each object has a revision, given as the envelope's
``revision`` and the ``ETag``; a write with an ``If-Match`` that is not the current revision
is refused with 412, as cowboy does. Both ``/v1/`` and ``/v2/`` are served; only ``/v2/``
paginates, and ``/v1/`` validation errors are strings instead of objects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import itertools
import json
import logging
import math
import re
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web

from dialer.core.accounts import ProviderKind
from dialer.simulator.context import SimContext
from dialer.simulator.model import CallState, SimCall
from dialer.simulator.wire import json_answer, parse_json, positive_int

logger = logging.getLogger(__name__)

VERSION = "4.3.1"
GREGORIAN_OFFSET = 62167219200  # Kazoo counts seconds from year 0, unix from 1970
MAX_HISTORY_RANGE = 31 * 24 * 3600  # crossbar.maximum_range
NO_ROUTE = "NO_ROUTE_DESTINATION"
UNROUTABLE_PREFIXES = ("+", "%2b")  # Kazoo url-encodes "+" and then cannot normalise it

T = TypeVar("T")
Json = dict[str, object]


def gregorian(unix: float) -> int:
    return int(unix) + GREGORIAN_OFFSET


def _encode_key(key: object) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_key(text: str) -> object:
    padded = text + "=" * (-len(text) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        return None


class KazooError(Exception):
    """An error envelope to send; raised from deep inside a handler to keep handlers flat."""

    def __init__(self, status: int, message: str, data: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = data


@dataclass
class _Session:
    account_id: str
    method: str  # cb_api_auth | cb_user_auth, as token_auth reports it


@dataclass
class _History:
    seq: int
    item: Json


@dataclass
class _Request:
    """What a handler needs from one Crossbar request."""

    version: str
    method: str
    parts: list[str]
    query: dict[str, str]
    body: Json
    token: str | None
    session: _Session | None = field(default=None)
    if_match: str | None = None

    @property
    def data(self) -> object:
        return self.body.get("data")

    @property
    def v1(self) -> bool:
        return self.version == "v1"


class KazooService:
    provider = ProviderKind.KAZOO

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.node = secrets.token_hex(11)
        self.sessions: dict[str, _Session] = {}
        self.clicktocalls: dict[str, Json] = {}
        self.revisions: dict[str, int] = {}  # clicktocall id -> how many times written
        self.history: dict[str, list[_History]] = {}
        self.cdrs: dict[str, Json] = {}
        self.active: dict[str, int] = {}  # clicktocall id -> its calls not finished yet
        # Called with the id before a write to a clicktocall is checked: lets a test land
        # another client's write between a client's read and its write.
        self.before_write: Callable[[str], None] | None = None
        self._seq = itertools.count(1)

    @property
    def realm(self) -> str:
        return f"{self.ctx.config.credentials.kazoo_account_name}.sip.invalid"

    def expire_tokens(self) -> None:
        """Forget every token, as if each had sat idle past its hour: the next request 401s."""
        self.sessions.clear()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", r"/{version:v[12]}/{tail:.*}", self.dispatch)

    # -- envelope ---------------------------------------------------------------------------

    def envelope(
        self,
        request: _Request | None,
        data: object,
        status: int = 200,
        *,
        extra: Json | None = None,
        token: str | None = None,
    ) -> web.Response:
        body: Json = {
            "auth_token": token if token is not None else (request.token if request else "") or "",
            "data": data,
            "node": self.node,
            "request_id": uuid.uuid4().hex,
            "revision": "undefined",
            "status": "success",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "version": VERSION,
        }
        if extra:
            body.update(extra)
        answer = json_answer(body, status)
        if body["revision"] != "undefined":
            answer.headers["ETag"] = f'"{body["revision"]}"'
        return answer

    def error(self, request: _Request | None, exc: KazooError) -> web.Response:
        return self.envelope(
            request,
            exc.data,
            exc.status,
            extra={"status": "error", "error": str(exc.status), "message": exc.message},
        )

    @staticmethod
    def invalid_credentials() -> KazooError:
        return KazooError(401, "invalid_credentials", {"message": "invalid credentials"})

    @staticmethod
    def bad_identifier(identifier: str) -> KazooError:
        return KazooError(404, "bad_identifier", {"message": "bad identifier", "cause": identifier})

    @staticmethod
    def contact_missing(request: _Request) -> KazooError:
        message = "The contact extension for this click to call has not been set"
        return KazooService.field_errors(
            request, {"contact": {"required": {"message": message}}}, "validation error"
        )

    @staticmethod
    def not_found() -> KazooError:
        return KazooError(404, "faulty request", {"message": "faulty request"})

    @staticmethod
    def method_not_allowed() -> KazooError:
        return KazooError(405, "method_not_allowed", {"message": "method not allowed"})

    @staticmethod
    def field_errors(
        request: _Request, errors: dict[str, dict[str, Json]], message: str
    ) -> KazooError:
        if request.v1:
            # Kazoo's v1 API flattens each error to its message text.
            flat: Json = {
                name: {code: detail.get("message") for code, detail in codes.items()}
                for name, codes in errors.items()
            }
            return KazooError(400, message, flat)
        return KazooError(400, message, errors)

    # -- dispatch ---------------------------------------------------------------------------

    async def dispatch(self, http: web.Request) -> web.StreamResponse:
        request: _Request | None = None
        try:
            request = await self._parse(http)
            return self._route(request)
        except KazooError as exc:
            return self.error(request, exc)

    async def _parse(self, http: web.Request) -> _Request:
        raw = await http.read()
        body: Json = {}
        if raw.strip():
            parsed = parse_json(raw)
            if not isinstance(parsed, dict):
                raise KazooError(
                    400,
                    "invalid request body",
                    {
                        "json": {
                            "invalid": {
                                "message": "failed to decode the request body as a JSON object"
                            }
                        }
                    },
                )
            body = parsed
        query = {key: value for key, value in http.query.items()}
        method = http.method
        if method == "POST":
            # Crossbar's verb tunnelling, for clients that can only POST.
            verb = query.get("verb") or body.get("verb")
            if isinstance(verb, str) and verb:
                method = verb.upper()
        token = http.headers.get("X-Auth-Token") or query.get("auth_token")
        if not token and isinstance(body.get("auth_token"), str):
            token = str(body["auth_token"])
        parts = [part for part in http.match_info["tail"].split("/") if part]
        if_match = http.headers.get("If-Match")
        return _Request(
            http.match_info["version"],
            method,
            parts,
            query,
            body,
            token or None,
            if_match=if_match.strip().strip('"') if if_match else None,
        )

    def _route(self, request: _Request) -> web.Response:
        parts = request.parts
        if parts == ["api_auth"]:
            return self._only(request, "PUT", self.api_auth)
        if parts == ["user_auth"]:
            return self._only(request, "PUT", self.user_auth)
        if parts == ["token_auth"]:
            if request.method not in ("GET", "DELETE"):
                raise self.method_not_allowed()
            return self.token_auth(request)
        if len(parts) >= 3 and parts[0] == "accounts" and parts[2] == "clicktocall":
            return self.clicktocall(request, parts[1], parts[3:])
        if len(parts) == 4 and parts[0] == "accounts" and parts[2] == "cdrs":
            return self.cdr(request, parts[1], parts[3])
        raise self.not_found()

    def _only(
        self, request: _Request, method: str, handler: Callable[[_Request], web.Response]
    ) -> web.Response:
        if request.method != method:
            raise self.method_not_allowed()
        return handler(request)

    # -- authentication ---------------------------------------------------------------------

    def _login(self, request: _Request, method: str) -> web.Response:
        creds = self.ctx.config.credentials
        token = secrets.token_urlsafe(32)
        self.sessions[token] = _Session(creds.kazoo_account_id, method)
        data: Json = {
            "account_id": creds.kazoo_account_id,
            "account_name": creds.kazoo_account_name,
            "apps": [],
            "is_reseller": False,
            "language": "en-US",
            "owner_id": uuid.uuid5(uuid.NAMESPACE_URL, creds.kazoo_user).hex,
            "reseller_id": uuid.uuid5(uuid.NAMESPACE_URL, "sim-reseller").hex,
        }
        logger.info("Kazoo %s login accepted", method)
        return self.envelope(request, data, 201, token=token)

    def api_auth(self, request: _Request) -> web.Response:
        data = request.data if isinstance(request.data, dict) else {}
        api_key = data.get("api_key")
        if not isinstance(api_key, str) or not api_key:
            raise self.field_errors(
                request,
                {"api_key": {"required": {"message": "Field is required but missing"}}},
                "validation failed",
            )
        if not secrets.compare_digest(api_key, self.ctx.config.credentials.kazoo_api_key):
            raise self.invalid_credentials()
        return self._login(request, "cb_api_auth")

    def user_auth(self, request: _Request) -> web.Response:
        creds = self.ctx.config.credentials
        data = request.data if isinstance(request.data, dict) else {}
        given = data.get("credentials")
        if not isinstance(given, str) or not given:
            raise self.field_errors(
                request,
                {"credentials": {"required": {"message": "Field is required but missing"}}},
                "validation failed",
            )
        method = str(data.get("method") or "md5").lower()
        secret = f"{creds.kazoo_user.lower()}:{creds.kazoo_password}".encode()
        if method == "md5":
            expected = hashlib.md5(secret, usedforsecurity=False).hexdigest()
        elif method == "sha":
            expected = hashlib.sha1(secret, usedforsecurity=False).hexdigest()
        else:
            raise self.field_errors(
                request,
                {"method": {"enum": {"message": "Value not found in enumerated list of values"}}},
                "validation failed",
            )
        account_name = data.get("account_name")
        if (
            not isinstance(account_name, str)
            or account_name.lower() != creds.kazoo_account_name.lower()
            or not secrets.compare_digest(given.lower(), expected)
        ):
            raise self.invalid_credentials()
        return self._login(request, "cb_user_auth")

    def token_auth(self, request: _Request) -> web.Response:
        session = self.sessions.get(request.token or "")
        if session is None:
            raise self.invalid_credentials()
        if request.method == "DELETE":
            self.sessions.pop(request.token or "", None)
            return self.envelope(request, {})
        creds = self.ctx.config.credentials
        return self.envelope(
            request,
            {
                "account_id": session.account_id,
                "account_name": creds.kazoo_account_name,
                "id": request.token,
                "method": session.method,
            },
        )

    def _authenticate(self, request: _Request) -> _Session:
        session = self.sessions.get(request.token or "")
        if session is None:
            raise self.invalid_credentials()
        request.session = session
        return session

    # -- clicktocall ------------------------------------------------------------------------

    def clicktocall(self, request: _Request, account_id: str, rest: list[str]) -> web.Response:
        if len(rest) == 2 and rest[1] == "connect":
            # An auth_required=false clicktocall may be activated without any token.
            doc = self.clicktocalls.get(rest[0])
            public = (
                account_id == self.ctx.config.credentials.kazoo_account_id
                and doc is not None
                and doc.get("auth_required") is False
            )
            if not public:
                self._check_account(request, account_id)
            if request.method not in ("GET", "POST"):
                raise self.method_not_allowed()
            return self.connect(request, self._doc(rest[0]))
        self._check_account(request, account_id)
        if not rest:
            if request.method == "GET":
                return self.list(request)
            if request.method == "PUT":
                return self.create(request)
            raise self.method_not_allowed()
        if len(rest) == 1:
            doc = self._doc(rest[0])
            if request.method not in ("GET", "POST", "PATCH", "DELETE"):
                raise self.method_not_allowed()
            if request.method != "GET" and self.before_write is not None:
                self.before_write(rest[0])
                doc = self._doc(rest[0])
            revision = self._revision(rest[0])
            if request.method != "GET" and request.if_match not in (None, "*", revision):
                raise KazooError(412, "precondition failed", {"message": "precondition failed"})
            if request.method == "GET":
                return self._answer_doc(request, doc)
            if request.method == "DELETE":
                del self.clicktocalls[rest[0]]
                self.revisions.pop(rest[0], None)
                return self.envelope(request, doc)
            return self.update(request, doc, merge=request.method == "PATCH")
        if len(rest) == 2 and rest[1] == "history":
            doc = self._doc(rest[0])
            if request.method != "GET":
                raise self.method_not_allowed()
            return self.list_history(request, str(doc["id"]))
        raise self.not_found()

    def _check_account(self, request: _Request, account_id: str) -> None:
        session = self._authenticate(request)
        if account_id != session.account_id:
            raise self.bad_identifier(account_id)

    def write_as_someone_else(self, c2c_id: str, changes: Json) -> None:
        """Change a clicktocall as another client would (a new revision)."""
        self.clicktocalls[c2c_id] = {**self._doc(c2c_id), **changes}
        self.revisions[c2c_id] = self.revisions.get(c2c_id, 1) + 1

    def _revision(self, c2c_id: str) -> str:
        """CouchDB's form: the number of writes and a digest of what was written."""
        count = self.revisions.get(c2c_id, 1)
        digest = hashlib.md5(  # a revision tag, not security
            json.dumps(self.clicktocalls.get(c2c_id), sort_keys=True).encode(),
            usedforsecurity=False,
        ).hexdigest()
        return f"{count}-{digest}"

    def _answer_doc(self, request: _Request, doc: Json, status: int = 200) -> web.Response:
        c2c_id = str(doc["id"])
        shown = {**doc, "history_items": len(self.history.get(c2c_id, []))}
        return self.envelope(request, shown, status, extra={"revision": self._revision(c2c_id)})

    def _doc(self, c2c_id: str) -> Json:
        doc = self.clicktocalls.get(c2c_id)
        if doc is None:
            raise self.bad_identifier(c2c_id)
        return doc

    def list(self, request: _Request) -> web.Response:
        docs = sorted(self.clicktocalls.values(), key=lambda doc: str(doc["id"]))
        summaries = [
            {
                "id": doc["id"],
                "name": doc.get("name"),
                "extension": doc.get("extension"),
                **({"realm": doc["realm"]} if "realm" in doc else {}),
            }
            for doc in docs
        ]
        return self._paged(
            request, summaries, lambda item: str(item["id"]), "c2c", descending=False
        )

    def create(self, request: _Request) -> web.Response:
        fields = self._validated(request, request.data)
        c2c_id = uuid.uuid4().hex
        doc: Json = {"auth_required": True, "custom_application_vars": {}, **fields, "id": c2c_id}
        self.clicktocalls[c2c_id] = doc
        self.revisions[c2c_id] = 1
        self.history.setdefault(c2c_id, [])
        logger.info("Kazoo clicktocall %s created", c2c_id)
        return self._answer_doc(request, doc, 201)

    def update(self, request: _Request, doc: Json, *, merge: bool) -> web.Response:
        data = request.data
        if merge:
            if not isinstance(data, dict):
                data = {}
            # PATCH merges, and a null removes the key.
            merged = {k: v for k, v in doc.items() if k != "id"}
            for key, value in data.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            data = merged
        fields = self._validated(request, data)
        new: Json = {
            "auth_required": True,
            "custom_application_vars": {},
            **fields,
            "id": doc["id"],
        }
        c2c_id = str(doc["id"])
        self.clicktocalls[c2c_id] = new
        self.revisions[c2c_id] = self.revisions.get(c2c_id, 1) + 1
        return self._answer_doc(request, new)

    def _validated(self, request: _Request, data: object) -> Json:
        """The clicktocall schema (upstream 4.3): name and extension required."""
        fields: Json = dict(data) if isinstance(data, dict) else {}
        fields.pop("id", None)
        fields.pop("history_items", None)  # "Modifiable: no": counted, never stored
        errors: dict[str, dict[str, Json]] = {}

        def fail(name: str, code: str, message: str, **more: object) -> None:
            errors.setdefault(name, {})[code] = {"message": message, **more}

        def string(name: str) -> None:
            if name in fields and not isinstance(fields[name], str):
                fail(name, "type", "Value did not match type(s): string", target="string")

        for name in ("name", "extension"):
            if name not in fields:
                fail(name, "required", "Field is required but missing")
        for name in (
            "name",
            "extension",
            "caller_id_number",
            "outbound_callee_id_name",
            "outbound_callee_id_number",
            "presence_id",
            "ringback",
            "realm",
        ):
            string(name)
        realm = fields.get("realm")
        if isinstance(realm, str) and not _is_realm(realm):
            fail("realm", "format", "Value is not a valid FQDN or IP address", target="fqdn")
        given_name = fields.get("name")
        if isinstance(given_name, str):
            if len(given_name) < 1:
                fail("name", "minLength", "String must be at least 1 characters", target=1)
            elif len(given_name) > 128:
                fail("name", "maxLength", "String must not be more than 128 characters", target=128)
        if "auth_required" in fields and not isinstance(fields["auth_required"], bool):
            fail("auth_required", "type", "Value did not match type(s): boolean", target="boolean")
        for name in ("throttle", "timeout"):
            value = fields.get(name)
            if name in fields and (not isinstance(value, int) or isinstance(value, bool)):
                fail(name, "type", "Value did not match type(s): integer", target="integer")
        if "dial_first" in fields and fields["dial_first"] not in ("extension", "contact"):
            fail(
                "dial_first",
                "enum",
                "Value not found in enumerated list of values",
                target=["extension", "contact"],
            )
        whitelist = fields.get("whitelist")
        if "whitelist" in fields and (
            not isinstance(whitelist, list)
            or not all(isinstance(item, str) and item for item in whitelist)
        ):
            fail("whitelist", "type", "Value did not match type(s): array of non-empty strings")
        cavs = fields.get("custom_application_vars")
        if "custom_application_vars" in fields and (
            not isinstance(cavs, dict) or not all(isinstance(v, str) for v in cavs.values())
        ):
            fail(
                "custom_application_vars", "type", "Value did not match type(s): object of strings"
            )
        if errors:
            raise self.field_errors(request, errors, "validation failed")
        return fields

    # -- connect ----------------------------------------------------------------------------

    def connect(self, request: _Request, doc: Json) -> web.Response:
        data = request.data if isinstance(request.data, dict) else {}
        contact_value = data.get("contact")
        if contact_value is None:
            contact_value = request.query.get("contact")
        if contact_value is None:
            contact_value = request.body.get("contact")
        contact = "" if contact_value is None else str(contact_value)
        if not contact:
            raise self.contact_missing(request)
        whitelist = doc.get("whitelist")
        if isinstance(whitelist, list) and whitelist and not _whitelisted(contact, whitelist):
            raise KazooError(400, "Contact doesn't match whitelist", contact)

        c2c_id = str(doc["id"])
        throttle = doc.get("throttle")
        if isinstance(throttle, int) and throttle > 0 and self.active.get(c2c_id, 0) >= throttle:
            raise KazooError(
                429,
                "too many requests",
                {"message": f"this click-to-call allows {throttle} active request(s)"},
            )
        extension = str(doc.get("extension", ""))
        call_id = f"c2c-{c2c_id}-{secrets.token_hex(8)}"
        unroutable = contact.lower().startswith(UNROUTABLE_PREFIXES)
        call = SimCall(
            id=call_id,
            provider=self.provider,
            agent=extension,
            customer=contact,
            bridge=c2c_id,
            outcome=self.ctx.config.outcome_for(contact),
            cause=NO_ROUTE if unroutable else None,
            extra={"clicktocall_id": c2c_id, "api_version": request.version},
        )
        self.active[c2c_id] = self.active.get(c2c_id, 0) + 1
        self.ctx.engine.start(call, self._record_history)
        logger.info("Kazoo clicktocall %s connected as %s", c2c_id, call_id)
        return self.envelope(request, self._originate(doc, contact, call_id, data))

    def _originate(self, doc: Json, contact: str, call_id: str, data: Json) -> Json:
        """What Kazoo's non-blocking connect answers: the originate request it queued."""
        c2c_id = str(doc["id"])
        extension = str(doc.get("extension", ""))
        realm = self.realm
        cavs: Json = {}
        for source in (doc.get("custom_application_vars"), data.get("custom_application_vars")):
            if isinstance(source, dict):
                cavs.update(source)
        cavs["contact"] = contact
        return {
            "application_data": {"route": contact},
            "application_name": "transfer",
            "continue_on_fail": True,
            "custom_application_vars": cavs,
            "custom_channel_vars": {
                "account_id": self.ctx.config.credentials.kazoo_account_id,
                "authorizing_id": c2c_id,
                "authorizing_type": "clicktocall",
                "auto_answer_loopback": True,
                "from_uri": f"{extension}@{realm}",
                "inherit_codec": False,
                "loopback_request_uri": f"{contact}@{realm}",
                "request_uri": f"{contact}@{realm}",
                "retain_cid": True,
            },
            "dial_endpoint_method": "single",
            "endpoints": [
                {
                    "invite_format": "loopback",
                    "route": extension,
                    "to_did": extension,
                    "to_realm": realm,
                }
            ],
            "export_custom_channel_vars": [
                "Account-ID",
                "Authorizing-ID",
                "Authorizing-Type",
                "Loopback-Request-URI",
                "From-URI",
                "Request-URI",
            ],
            "ignore_early_media": True,
            "loopback_bowout": "false",
            "outbound_call_id": call_id,
            "outbound_callee_id_name": doc.get("outbound_callee_id_name", extension),
            "outbound_callee_id_number": doc.get("outbound_callee_id_number", extension),
            "outbound_caller_id_name": doc.get("name"),
            "outbound_caller_id_number": contact,
            "simplify_loopback": "false",
            "start_control_process": "false",
            "timeout": doc.get("timeout", 30),
        }

    async def _record_history(self, call: SimCall) -> None:
        c2c_id = str(call.extra.get("clicktocall_id"))
        self.active[c2c_id] = max(self.active.get(c2c_id, 1) - 1, 0)
        activated = call.timeline[0][0] if call.timeline else time.time()
        item: Json = {
            "timestamp": gregorian(call.started_at or activated),
            "contact": call.customer,
            "call_id": call.id,
        }
        if self.ctx.config.kazoo_history_shape == "upstream":
            if call.state == CallState.COMPLETED.value:
                item["result"] = "success"
            else:
                item["result"] = "error"
                item["cause"] = call.cause or "UNSPECIFIED"
        else:
            # The document's item: the outcome is in the CDR it names.
            ended = call.ended_at or time.time()
            cdr_id = f"{time.strftime('%Y%m', time.gmtime(ended))}-{call.id}"
            item["cdr_id"] = cdr_id
            self.cdrs[cdr_id] = self._cdr_of(call, cdr_id, activated, ended)
        self.history.setdefault(c2c_id, []).append(_History(next(self._seq), item))

    def _cdr_of(self, call: SimCall, cdr_id: str, activated: float, ended: float) -> Json:
        """The CDR of the leg to the contact, in Crossbar's ``/cdrs/{id}`` form."""
        # Whole seconds begun, as a switch bills: an answered call bills at least one.
        billed = math.ceil(call.second_leg_seconds)
        causes = {
            CallState.COMPLETED.value: "NORMAL_CLEARING",
            CallState.BUSY.value: "USER_BUSY",
            CallState.NO_ANSWER.value: "NO_ANSWER",
        }
        return {
            "id": cdr_id,
            "call_id": call.id,
            "callee_id_number": call.customer,
            "caller_id_number": call.agent,
            "direction": "outbound",
            "duration_seconds": str(max(round(ended - activated), billed)),
            "billing_seconds": str(billed),
            "ringing_seconds": str(max(round(ended - activated) - billed, 0)),
            "hangup_cause": call.cause or causes.get(call.state, "UNSPECIFIED"),
            "timestamp": gregorian(ended),
        }

    def cdr(self, request: _Request, account_id: str, cdr_id: str) -> web.Response:
        self._check_account(request, account_id)
        if request.method != "GET":
            raise self.method_not_allowed()
        if not self.ctx.config.kazoo_cdrs_readable:
            raise KazooError(403, "forbidden", {"message": "access denied"})
        found = self.cdrs.get(cdr_id)
        if found is None:
            raise self.bad_identifier(cdr_id)
        return self.envelope(request, found)

    # -- history and pagination -------------------------------------------------------------

    def list_history(self, request: _Request, c2c_id: str) -> web.Response:
        entries = sorted(self.history.get(c2c_id, []), key=lambda entry: entry.seq, reverse=True)
        created_from = self._gregorian_param(request, "created_from")
        created_to = self._gregorian_param(request, "created_to")
        if created_from is not None or created_to is not None:
            upper = created_to if created_to is not None else gregorian(time.time())
            lower = created_from if created_from is not None else upper - MAX_HISTORY_RANGE
            if upper - lower > MAX_HISTORY_RANGE:
                raise self.field_errors(
                    request,
                    {
                        "created_from": {
                            "date_range": {
                                "message": f"created_from is more than {MAX_HISTORY_RANGE} "
                                "seconds from created_to",
                                "value": lower,
                            }
                        }
                    },
                    "validation error",
                )
            entries = [e for e in entries if lower <= int(str(e.item["timestamp"])) <= upper]
        return self._paged(
            request, entries, lambda entry: entry.seq, "history", descending=True, unwrap=True
        )

    def _gregorian_param(self, request: _Request, name: str) -> int | None:
        text = request.query.get(name)
        if text is None:
            return None
        if not re.fullmatch(r"[0-9]+", text):
            raise self.field_errors(
                request,
                {name: {"type": {"message": "Value did not match type(s): integer"}}},
                "validation error",
            )
        return int(text)

    def _paged(
        self,
        request: _Request,
        items: Sequence[T],
        key_of: Callable[[T], str | int],
        kind: str,
        *,
        descending: bool,
        unwrap: bool = False,
    ) -> web.Response:
        def out(selected: Sequence[T]) -> list[object]:
            if unwrap:
                return [entry.item for entry in selected if isinstance(entry, _History)]
            return list(selected)

        if request.v1 or request.query.get("paginate") == "false":
            return self.envelope(request, out(items))
        page_size = self.ctx.config.kazoo_page_size
        if "page_size" in request.query:
            requested = positive_int(request.query["page_size"])
            if requested is None:
                raise self.field_errors(
                    request,
                    {
                        "page_size": {
                            "minimum": {"message": "Value must be at least 1", "target": 1}
                        }
                    },
                    "validation error",
                )
            page_size = requested
        start_index = 0
        if "start_key" in request.query:
            decoded = _decode_key(request.query["start_key"])
            if not (isinstance(decoded, list) and len(decoded) == 2 and decoded[0] == kind):
                raise self.field_errors(
                    request,
                    {"start_key": {"type": {"message": "Value is not a valid start key"}}},
                    "validation error",
                )
            start_index = len(items)
            for index, item in enumerate(items):
                # A view restarts at the first key at or past the start key, even if the
                # item that carried it has since been deleted.
                if _at_or_past(key_of(item), decoded[1], descending=descending):
                    start_index = index
                    break
        page = items[start_index : start_index + page_size]
        extra: Json = {"page_size": len(page)}
        if page:
            extra["start_key"] = _encode_key([kind, key_of(page[0])])
        following = start_index + page_size
        if following < len(items):
            extra["next_start_key"] = _encode_key([kind, key_of(items[following])])
        return self.envelope(request, out(page), extra=extra)


def _at_or_past(key: str | int, start: object, *, descending: bool) -> bool:
    if isinstance(key, int) and isinstance(start, int) and not isinstance(start, bool):
        return key <= start if descending else key >= start
    if isinstance(key, str) and isinstance(start, str):
        return key <= start if descending else key >= start
    return False


def _is_realm(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    labels = text.rstrip(".").split(".")
    label = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
    return len(labels) >= 2 and all(label.fullmatch(part) for part in labels)


def _whitelisted(contact: str, patterns: list[object]) -> bool:
    for pattern in patterns:
        try:
            if isinstance(pattern, str) and re.search(pattern, contact):
                return True
        except re.error:
            continue
    return False
