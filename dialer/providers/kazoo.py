"""Kazoo (2600Hz) Crossbar ``clicktocall`` (seed 003 and upstream's current API).

A call goes through a clicktocall object whose ``extension`` (the agent's phone) rings first;
``/connect`` then dials the ``contact`` (the customer). Every answer is an envelope whose
``status`` (``success``, ``error``, ``fatal``) decides, not the HTTP code.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlencode

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallRequest, CallResult, CallStatus
from dialer.core.errors import AuthenticationRefused, CallRejected, InvalidInput
from dialer.core.numbers import NumberFormat
from dialer.core.redact import excerpt
from dialer.core.reports import ProviderReport, ReportParseError
from dialer.providers.base import (
    Bridge,
    BridgeKind,
    Capabilities,
    PreparedCall,
    Provider,
)
from dialer.providers.spec import (
    AccountField,
    HistoryReports,
    ProviderSpec,
    SecretDeclaration,
    TrackedCall,
)

logger = logging.getLogger(__name__)

GREGORIAN_UNIX_OFFSET = 62167219200  # Kazoo timestamps are Gregorian seconds


# How long a history item waits for the CDR it names before it is taken without one.
CDR_WAIT = 10 * 60

# Crossbar refuses a history range over ``crossbar.maximum_range`` (31 days by default).
HISTORY_MAX_RANGE = 31 * 24 * 3600


def unix_from_gregorian(seconds: int | float) -> float:
    return float(seconds) - GREGORIAN_UNIX_OFFSET


def gregorian_from_unix(seconds: float) -> int:
    return int(seconds) + GREGORIAN_UNIX_OFFSET


class KazooProvider(Provider):
    kind = ProviderKind.KAZOO
    label = "Kazoo"
    capabilities = Capabilities(
        default_number_format=NumberFormat.DIGITS,
        bridge=BridgeKind.CLICKTOCALL,
        bridge_required=False,
        sip_contacts=True,
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._token: str | None = None
        self._auth_lock = asyncio.Lock()
        self._clicktocall_for_agent: dict[str, str] = {}
        self._cdrs: dict[str, dict[str, Any]] = {}
        self._cdrs_refused = False

    # -- addresses ----------------------------------------------------------------------

    @property
    def api_version(self) -> str:
        version = self.account.option("kazoo_api", "v2") or "v2"
        if version not in ("v1", "v2"):
            raise InvalidInput(f"Unknown Kazoo API version '{version}' (use v1 or v2)")
        return version

    @property
    def account_id(self) -> str:
        account_id = self.account.option("kazoo_account")
        if not account_id:
            raise InvalidInput(
                f"Account '{self.account.name}' has no Kazoo account id: set it in the "
                "account's settings (--kazoo-account)"
            )
        return account_id

    def url(self, *parts: str) -> str:
        path = "/".join(["accounts", self.account_id, "clicktocall", *parts])
        return f"{self.base_url}{self.api_version}/{path}"

    # -- authentication -----------------------------------------------------------------

    def _auth_request(self) -> tuple[str, dict[str, Any]]:
        user = self.account.option("kazoo_user")
        if user:
            account_name = self.account.option("kazoo_account_name")
            if not account_name:
                raise InvalidInput(
                    "Kazoo user/password login needs the account name: set it in the "
                    "account's settings (--kazoo-account-name)"
                )
            credentials = hashlib.md5(  # Kazoo's user_auth defines md5
                f"{user.lower()}:{self._secret}".encode(), usedforsecurity=False
            ).hexdigest()
            return "user_auth", {
                "credentials": credentials,
                "account_name": account_name,
                "method": "md5",
            }
        return "api_auth", {"api_key": self._secret}

    async def _authenticate(self, stale: str | None = None) -> str:
        async with self._auth_lock:
            if self._token is not None and self._token != stale:
                return self._token  # another task already renewed it
            endpoint, data = self._auth_request()
            response = await self.send(
                "PUT",
                f"{self.base_url}{self.api_version}/{endpoint}",
                json_body={"data": data},
                places_call=False,
            )
            envelope = self.parse_json(response)
            if response.status_code in (401, 403):
                raise self.auth_refused(_envelope_message(envelope), response.status_code)
            if _status(envelope) != "success" or not 200 <= response.status_code < 300:
                # Not a verdict on the credentials ("no resources", a 400 for a missing
                # account name, an error inside a 200): say what Kazoo said, as it said it.
                raise CallRejected(
                    f"Kazoo could not log in (HTTP {response.status_code}, status "
                    f"{_status(envelope) or 'missing'}): {_envelope_message(envelope)}",
                    provider=self.kind,
                    status_code=response.status_code,
                    provider_message=_envelope_message(envelope),
                )
            token = envelope.get("auth_token") if isinstance(envelope, dict) else None
            if not token:
                raise self.unexpected(response, "a login answer without an auth_token")
            self._token = str(token)
            return self._token

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: Any = None,
        places_call: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[dict[str, Any], int]:
        """An authenticated Crossbar request; the token is renewed once on a 401."""
        token = self._token or await self._authenticate()
        body = {"data": data} if data is not None else None
        for attempt in (1, 2):
            response = await self.send(
                method,
                url,
                json_body=body,
                headers={"X-Auth-Token": token, "Accept": "application/json", **(headers or {})},
                places_call=places_call,
            )
            if response.status_code == 401 and attempt == 1:
                # An expired token is refused before anything is done, so resending is safe.
                token = await self._authenticate(stale=token)
                continue
            if response.status_code in (409, 412):
                # A revision that is no longer the object's (If-Match): cowboy answers 412,
                # often with no body at all; CouchDB's own conflict is a 409.
                return {"status": "error", "error": str(response.status_code)}, 412
            envelope = self.parse_json(response)
            if not isinstance(envelope, dict):
                raise self.unexpected(response, "a JSON answer that is not an envelope")
            if response.status_code == 401:
                raise self.auth_refused(_envelope_message(envelope), 401)
            return envelope, response.status_code
        raise AssertionError("unreachable")  # pragma: no cover

    def _check(self, envelope: dict[str, Any], status_code: int, doing: str) -> Any:
        if _status(envelope) == "success" and 200 <= status_code < 300:
            return envelope.get("data")
        message = _envelope_message(envelope)
        details = _field_errors(envelope.get("data"))
        raise CallRejected(
            f"Kazoo refused to {doing}: {message}"
            + (" (" + "; ".join(f"{k}: {v}" for k, v in details.items()) + ")" if details else ""),
            provider=self.kind,
            status_code=status_code,
            provider_message=message,
            details=details,
        )

    # -- clicktocall objects ------------------------------------------------------------

    async def _pages(
        self, url: str, doing: str, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        start_key: str | None = None
        while True:
            query = dict(params or {})
            if start_key is not None:
                query["start_key"] = start_key
            page_url = f"{url}?{urlencode(query)}" if query else url
            envelope, status = await self.request("GET", page_url)
            items = self._check(envelope, status, doing)
            yield [item for item in items or [] if isinstance(item, dict)]
            start_key = envelope.get("next_start_key")
            if not start_key or self.api_version == "v1":
                return

    async def list_clicktocalls(self) -> list[dict[str, Any]]:
        """Every clicktocall's summary (``id``, ``name``, ``extension``), every page."""
        pages = self._pages(self.url(), "list the clicktocalls")
        return [item async for page in pages for item in page]

    async def get_clicktocall(self, c2c_id: str) -> dict[str, Any]:
        return (await self.read_clicktocall(c2c_id))[0]

    async def read_clicktocall(self, c2c_id: str) -> tuple[dict[str, Any], str | None]:
        """The whole object, and its revision (the envelope's; None where the server gives
        none) for a write that must not overwrite someone else's."""
        envelope, status = await self.request("GET", self.url(c2c_id))
        document = self._check(envelope, status, f"fetch clicktocall {c2c_id}")
        if not isinstance(document, dict):
            raise CallRejected(
                f"Kazoo answered clicktocall {c2c_id} with something that is not an object",
                provider=self.kind,
            )
        revision = envelope.get("revision")
        known = isinstance(revision, str) and revision not in ("", "undefined")
        return dict(document), revision if known else None

    async def find_clicktocall(self, id_or_name: str) -> dict[str, Any]:
        """The clicktocall with this id, else the one with this name (InvalidInput when
        there is none, or when two share the name)."""
        wanted = id_or_name.strip()
        items = await self.list_clicktocalls()
        for item in items:
            if str(item.get("id")) == wanted:
                return item
        named = [item for item in items if str(item.get("name", "")) == wanted]
        if not named:
            folded = wanted.casefold()
            named = [item for item in items if str(item.get("name", "")).casefold() == folded]
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(str(item.get("id")) for item in named)
            raise InvalidInput(
                f"{len(named)} clicktocalls of account '{self.account.name}' are named "
                f"'{wanted}': give the id of the one you mean ({ids})"
            )
        raise InvalidInput(
            f"Account '{self.account.name}' has no Kazoo clicktocall with id or name "
            f"'{wanted}'"
            + (f" (it has {_clicktocalls(len(items))}: use one of those)" if items else "")
        )

    async def create_clicktocall(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create one as given (``add_clicktocall`` checks the fields first)."""
        envelope, status = await self.request("PUT", self.url(), data=fields)
        return dict(self._check(envelope, status, "create the clicktocall"))

    async def add_clicktocall(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A new clicktocall, its properties checked as the document gives them first."""
        from dialer.providers.kazoo_clicktocall import checked

        fields = {k: v for k, v in checked(values, creating=True).items() if v is not None}
        return await self.create_clicktocall(fields)

    async def update_clicktocall(self, c2c_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Replace the object with ``fields`` (Kazoo's POST); ``edit_clicktocall`` keeps
        what was not changed."""
        envelope, status = await self.request("POST", self.url(c2c_id), data=fields)
        return dict(self._check(envelope, status, f"update clicktocall {c2c_id}"))

    async def edit_clicktocall(
        self,
        c2c_id: str,
        changes: Mapping[str, Any],
        *,
        seen: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Apply ``changes`` (None removes a property) and keep everything else.

        Kazoo's POST replaces the whole object, so the object is read, merged and written
        back under the revision read (``If-Match``). ``seen``: the object as the person saw
        it when they began editing; if it has changed on the server since, nothing is
        written and :class:`ClicktocallChanged` says so, rather than undoing someone else's
        edit without a word."""
        from dialer.providers.kazoo_clicktocall import (
            ClicktocallChanged,
            checked,
            editable,
            merged,
        )

        checked(changes, creating=False)
        current, revision = await self.read_clicktocall(c2c_id)
        changed = ClicktocallChanged(
            f"Clicktocall '{current.get('name', c2c_id)}' was changed on the server after "
            "you opened it, so your edit was not saved: open it again to see the change, "
            "then make yours",
            provider=self.kind,
        )
        if seen is not None and editable(seen) != editable(current):
            raise changed
        body = merged(current, changes)
        headers = {"If-Match": f'"{revision}"'} if revision else None
        envelope, status = await self.request("POST", self.url(c2c_id), data=body, headers=headers)
        if status == 412:
            raise changed
        return dict(self._check(envelope, status, f"update clicktocall {c2c_id}"))

    async def delete_clicktocall(self, c2c_id: str) -> None:
        envelope, status = await self.request("DELETE", self.url(c2c_id))
        self._check(envelope, status, f"delete clicktocall {c2c_id}")
        self._clicktocall_for_agent = {
            ext: known for ext, known in self._clicktocall_for_agent.items() if known != c2c_id
        }

    async def history(self, c2c_id: str, *, since: float | None = None) -> list[dict[str, Any]]:
        """All past activations of a clicktocall, every page (``next_start_key``).

        ``since`` (unix seconds) asks only for activations from then on (``created_from``);
        it is moved forward to stay within the range Crossbar accepts. Without it Crossbar
        answers its default range (the last 31 days).
        """
        params: dict[str, str] = {}
        if since is not None:
            earliest = time.time() - HISTORY_MAX_RANGE + 3600  # an hour's margin for skew
            params["created_from"] = str(gregorian_from_unix(max(since, earliest)))
        url = self.url(c2c_id, "history")
        pages = self._pages(url, f"list the history of clicktocall {c2c_id}", params)
        return [item async for page in pages for item in page]

    async def history_page(
        self, c2c_id: str, *, start_key: str | None = None, page_size: int = 50
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a clicktocall's history, newest first, and the key of the next page
        (None on the last; v1 servers do not page and answer everything at once)."""
        query = {"page_size": str(page_size)} if self.api_version == "v2" else {}
        if start_key is not None:
            query["start_key"] = start_key
        url = self.url(c2c_id, "history")
        envelope, status = await self.request("GET", f"{url}?{urlencode(query)}" if query else url)
        items = self._check(envelope, status, f"read the history of clicktocall {c2c_id}")
        following = envelope.get("next_start_key") if self.api_version == "v2" else None
        return [item for item in items or [] if isinstance(item, dict)], (
            str(following) if following else None
        )

    @property
    def cdrs_readable(self) -> bool:
        """False once the server refused this login a CDR."""
        return not self._cdrs_refused

    async def cdr(self, cdr_id: str) -> dict[str, Any] | None:
        """The CDR a history item names (``/cdrs/{id}``), or None when there is none yet or
        the login may not read CDRs (asked once: a refusal is remembered)."""
        if self._cdrs_refused:
            return None
        if cdr_id in self._cdrs:
            return self._cdrs[cdr_id]
        url = f"{self.base_url}{self.api_version}/accounts/{self.account_id}/cdrs/{cdr_id}"
        try:
            envelope, status = await self.request("GET", url)
        except AuthenticationRefused:
            self._cdrs_refused = True  # a token restricted to clicktocall
            return None
        if status in (401, 403):
            self._cdrs_refused = True
            logger.info("Account %s may not read Kazoo CDRs", self.account.name)
            return None
        data = envelope.get("data")
        if _status(envelope) != "success" or not isinstance(data, dict):
            return None  # not written yet (404), or unreadable: the item alone decides
        if len(self._cdrs) >= 1000:
            self._cdrs.pop(next(iter(self._cdrs)))
        self._cdrs[cdr_id] = data
        return data

    async def list_bridges(self) -> list[Bridge]:
        """The account's default first (no bridge: the account's clicktocall to use, else
        the agent's own), then every clicktocall: picking another agent's rings that
        agent's extension, so it is never picked for the agent by being listed first."""
        chosen = self.chosen_clicktocall
        default = Bridge(
            id="",
            label=f"Account's choice: {chosen}" if chosen else "Mine (for my extension)",
        )
        return [
            default,
            *(
                Bridge(
                    id=str(item.get("id")),
                    label=f"{item.get('name', '')} ({item.get('extension', '?')})",
                    number=str(item.get("extension")) if item.get("extension") else None,
                )
                for item in await self.list_clicktocalls()
            ),
        ]

    @property
    def chosen_clicktocall(self) -> str | None:
        """The account's "clicktocall to use" (id or name), if it names one."""
        chosen = (self.account.option("kazoo_clicktocall") or "").strip()
        return chosen or None

    async def resolve_clicktocall(self, request: CallRequest) -> tuple[dict[str, Any], str]:
        """The clicktocall to connect through, and what the call's record should say of it:
        the one asked for (``--bridge``, the picker), else the account's "clicktocall to
        use", else the one whose extension is the agent's number, else a new one for it."""
        wanted = request.bridge or self.chosen_clicktocall
        if wanted:
            item = await self.find_clicktocall(wanted)
            return item, ""
        legacy = self.account.default_bridge  # an account saved before "clicktocall to use"
        if legacy:
            for item in await self.list_clicktocalls():
                if legacy in (item.get("id"), item.get("name")):
                    return item, ""
        if request.agent is None:
            raise InvalidInput(
                f"Account '{self.account.name}' has no agent number and no clicktocall to use: "
                "set one of them in the account, or choose a clicktocall for the call (--agent "
                "or --bridge on the command line)"
            )
        extension = request.agent.for_wire(self.number_format)
        cached = self._clicktocall_for_agent.get(extension)
        if cached:
            return {"id": cached, "extension": extension}, ""
        for item in await self.list_clicktocalls():
            if str(item.get("extension")) == extension:
                self._clicktocall_for_agent[extension] = str(item["id"])
                return item, ""
        fields: dict[str, Any] = {
            "name": f"Dialer {extension}",
            "extension": extension,
            "auth_required": self.account.option("kazoo_auth_required", "yes") != "no",
        }
        created = await self.create_clicktocall(fields)
        c2c_id = str(created.get("id") or "")
        if not c2c_id:
            raise CallRejected(
                "Kazoo created the clicktocall but returned no id", provider=self.kind
            )
        logger.info("Created Kazoo clicktocall %s for extension %s", c2c_id, extension)
        self._clicktocall_for_agent[extension] = c2c_id
        login = "needs a login" if fields["auth_required"] else "needs no login"
        return created, (
            f"Created clicktocall '{fields['name']}' (id {c2c_id}, {login}) for extension "
            f"{extension}. "
        )

    # -- calls --------------------------------------------------------------------------

    async def prepare(self, request: CallRequest) -> PreparedCall:
        self.check_request(request)
        item, created = await self.resolve_clicktocall(request)
        c2c_id = str(item["id"])
        contact = request.customer.for_wire(self.number_format)
        extension = str(item.get("extension") or "") or None
        agent = request.agent.for_wire(self.number_format) if request.agent else None
        return PreparedCall(
            request,
            self.sent("POST", self.url(c2c_id, "connect"), {"data": {"contact": contact}}),
            {"clicktocall_id": c2c_id, "created": created},
            # Another agent's clicktocall rings that agent's extension, not this one's phone.
            first_leg=extension if extension and extension != agent else None,
        )

    async def start(self, call: PreparedCall) -> CallResult:
        c2c_id = call.context["clicktocall_id"]
        url = self.url(c2c_id, "connect")
        contact = call.request.customer.for_wire(self.number_format)
        envelope, status = await self.request(
            "POST", url, data={"contact": contact}, places_call=True
        )
        data = self._check(envelope, status, "connect the call")
        ref = data.get("outbound_call_id") if isinstance(data, dict) else None
        return CallResult(
            provider_ref=str(ref) if ref else None,
            message=f"{call.context.get('created', '')}Connecting through clicktocall {c2c_id}",
            raw={"clicktocall_id": c2c_id, **(data if isinstance(data, dict) else {})},
        )

    async def test_connection(self) -> str:
        items = await self.list_clicktocalls()
        count = len(items)
        chosen = self.chosen_clicktocall
        if chosen and not any(chosen in (item.get("id"), item.get("name")) for item in items):
            # Every call would be refused: better said now than on the first call.
            raise InvalidInput(
                "Kazoo accepted the credentials, but the account has no clicktocall with the "
                f"id or name '{chosen}' (it has {_clicktocalls(count)}): choose another "
                "clicktocall to use, or leave it empty to use the agent's own"
            )
        return f"Kazoo accepted the credentials; the account has {_clicktocalls(count)}"


def _clicktocalls(count: int) -> str:
    """``no clicktocalls``, ``1 clicktocall``, ``3 clicktocalls``."""
    return f"{count or 'no'} clicktocall" + ("" if count == 1 else "s")


def _status(envelope: Any) -> str:
    return str(envelope.get("status", "")) if isinstance(envelope, dict) else ""


def _envelope_message(envelope: Any) -> str:
    if not isinstance(envelope, dict):
        return "no details"
    message = envelope.get("message")
    data = envelope.get("data")
    detail = data.get("message") if isinstance(data, dict) else data
    if isinstance(detail, str) and detail and detail != message:
        # Kazoo often says it twice ("no resources" in both): once is enough.
        message = f"{message}: {detail}" if message else detail
    return excerpt(str(message or envelope.get("error") or "no details"), 200)


def _field_errors(data: Any) -> dict[str, str]:
    """Crossbar validation errors ``{field: {code: {message: ...}}}`` as ``{field: message}``."""
    if not isinstance(data, dict):
        return {}
    errors: dict[str, str] = {}
    for name, codes in data.items():
        if isinstance(codes, dict):
            for code, detail in codes.items():
                text = detail.get("message") if isinstance(detail, dict) else detail
                errors[name] = excerpt(str(text or code), 120)
                break
    return errors


# -- reports --------------------------------------------------------------------------------

# Hangup causes (Q.850 names as FreeSWITCH and Kazoo spell them, and the texts Kazoo's
# clicktocall writes itself) that say more than "failed". Kazoo already counts
# NORMAL_CLEARING, ORIGINATOR_CANCEL and SUCCESS as a ``success`` result.
_KAZOO_CAUSES = {
    "USER_BUSY": CallStatus.BUSY,
    "NO_ANSWER": CallStatus.NO_ANSWER,
    "NO_USER_RESPONSE": CallStatus.NO_ANSWER,
    "ALLOTTED_TIMEOUT": CallStatus.NO_ANSWER,
    "PROGRESS_TIMEOUT": CallStatus.NO_ANSWER,
    "RECOVERY_ON_TIMER_EXPIRE": CallStatus.NO_ANSWER,
    "SUBSCRIBER_ABSENT": CallStatus.NO_ANSWER,
    "TIMED OUT": CallStatus.NO_ANSWER,  # the originate got no answer within its timeout
    "ORIGINATOR_CANCEL": CallStatus.CANCELLED,
    # Q.850 cause codes, in case a deployment reports numbers.
    "17": CallStatus.BUSY,
    "18": CallStatus.NO_ANSWER,
    "19": CallStatus.NO_ANSWER,
    "487": CallStatus.CANCELLED,
}


def kazoo_status(result: str, cause: str) -> CallStatus:
    """The status of a history item: ``success`` completed; an error by its cause."""
    if result.strip().lower() == "success":
        return CallStatus.COMPLETED
    return _KAZOO_CAUSES.get(cause.strip().upper(), CallStatus.FAILED)


def kazoo_history_report(
    item: Mapping[str, Any] | str,
    *,
    account: str | None = None,
    clicktocall_id: str | None = None,
    extension: str | None = None,
    call_id: str | None = None,
) -> ProviderReport:
    """What one ``/clicktocall/{id}/history`` item says.

    ``item`` is the object from the listing (or its JSON text), in either shape Kazoo has
    written: the document's (seed 003: ``contact``, ``timestamp`` in Gregorian seconds,
    ``call_id`` of the leg to the contact, ``cdr_id``) or upstream's richer one (``result``
    ``success``/``error`` and a ``cause``, no ``cdr_id``). An item may carry the CDR it
    names under ``cdr`` (:class:`KazooReports` adds it where the login may read CDRs): the
    call's durations, and its outcome where the item has no ``result``, come from it.
    ``extension`` is the clicktocall's (the agent's phone), ``call_id`` our own reference
    when the caller already knows which call the item is about.
    """
    if isinstance(item, str):
        try:
            item = json.loads(item)
        except ValueError:
            raise ReportParseError("a Kazoo history item that is not JSON") from None
    if not isinstance(item, Mapping):
        raise ReportParseError("a Kazoo history item that is not a JSON object")
    contact = _text(item.get("contact")) if isinstance(item.get("contact"), str | int) else ""
    if not contact:
        raise ReportParseError("a Kazoo history item without a contact")
    result = item.get("result")
    if result is not None and (not isinstance(result, str) or not result.strip()):
        raise ReportParseError("a Kazoo history item whose result is not a word")
    cdr = item.get("cdr") if isinstance(item.get("cdr"), Mapping) else None
    cause = _text(item.get("cause")) or (_text(cdr.get("hangup_cause")) if cdr else "")
    billed = _seconds(cdr, "billing_seconds") if cdr else None
    if isinstance(result, str):
        status = kazoo_status(result, cause)
    elif cdr is not None:
        status = cdr_status(cause, billed)
    else:
        status = CallStatus.NO_REPORT
    started = _unix_time(item.get("timestamp"))
    ended = None
    if cdr is not None:
        ended = _unix_time(cdr.get("timestamp"))
        lasted = _seconds(cdr, "duration_seconds")
        if ended is not None and lasted is not None and started is None:
            started = ended - lasted
    leg = _text(item.get("call_id")) or None
    try:
        body = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        raise ReportParseError("a Kazoo history item that is not plain JSON") from None
    if isinstance(result, str):
        said = cause or result.strip()
    elif cdr is not None:
        said = cause or "the CDR gives no hangup cause"
    else:
        said = "Kazoo's history lists this call but not how it ended (no result, no CDR)"
    return ProviderReport(
        provider=str(ProviderKind.KAZOO),
        source="poll",
        body=body,
        status=status,
        account=account,
        call_id=call_id,
        provider_ref=leg,
        bridge=clicktocall_id,
        agent=extension,
        customer=contact,
        answered=(status is CallStatus.COMPLETED) if status is not CallStatus.NO_REPORT else None,
        started_at=started,
        ended_at=ended,
        reported_at=started,
        talk_seconds=billed,
        billed_seconds=billed,
        cause=said,
    )


def cdr_status(cause: str, billed: int | None) -> CallStatus:
    """A call's outcome from its CDR: answered when any second was billed; otherwise by
    the hangup cause (a NORMAL_CLEARING that billed nothing was never answered)."""
    if billed:
        return CallStatus.COMPLETED
    found = _KAZOO_CAUSES.get(cause.strip().upper())
    if found is not None:
        return found
    if cause.strip().upper() in ("NORMAL_CLEARING", "SUCCESS"):
        return CallStatus.NO_ANSWER
    return CallStatus.FAILED


def _seconds(data: Mapping[str, Any], name: str) -> int | None:
    """A CDR's whole seconds (Kazoo writes them as strings or numbers); None if unreadable."""
    value = data.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 9 else None
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < 10**8 else None


def _text(value: object) -> str:
    if value is None or isinstance(value, bool | dict | list):
        return ""
    try:
        return str(value).strip()
    except ValueError:  # an integer too long to print
        return ""


def kazoo_item_time(item: Mapping[str, Any]) -> float | None:
    """When a history item's clicktocall was activated, as unix time (None if unknown)."""
    return _unix_time(item.get("timestamp"))


_LATEST_UNIX = 10**11  # beyond any real time: the item's timestamp is not one


def _unix_time(value: object) -> float | None:
    """Gregorian seconds as unix time; None when absent or not a plausible time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 15:
            return None
        value = int(text)
    if isinstance(value, int):
        unix = value - GREGORIAN_UNIX_OFFSET
        return float(unix) if 0 <= unix < _LATEST_UNIX else None
    if isinstance(value, float) and math.isfinite(value):
        unix_f = value - GREGORIAN_UNIX_OFFSET
        return unix_f if 0 <= unix_f < _LATEST_UNIX else None
    return None


_CLICKTOCALL_IN_URL = re.compile(r"/clicktocall/([^/?#]+)/connect")


class KazooReports(HistoryReports):
    """Each clicktocall's ``/history``: items of ``contact``, ``timestamp`` (Gregorian
    seconds) and ``call_id`` (the leg to the contact, which connect answered)."""

    async def sources(self, provider: Provider) -> list[tuple[str, str | None]]:
        assert isinstance(provider, KazooProvider)
        found: list[tuple[str, str | None]] = []
        for item in await provider.list_clicktocalls():
            c2c_id = str(item.get("id") or "")
            if c2c_id:
                found.append((c2c_id, str(item["extension"]) if item.get("extension") else None))
        return found

    def source_of(self, call: TrackedCall) -> str | None:
        """The clicktocall a call went through: its id is in the connect URL we sent."""
        url = call.request.get("url")
        found = _CLICKTOCALL_IN_URL.search(url) if isinstance(url, str) else None
        return found.group(1) if found else None

    async def read(
        self, provider: Provider, source: str, *, since: float
    ) -> list[Mapping[str, Any]]:
        """The history's items, each with the CDR it names (``cdr_id``) where the login may
        read CDRs. An item whose CDR is not written yet is held back for a while (the CDR
        comes at hangup): matched without it, the call would be concluded without its
        outcome, and the item read again later would be a second, outside call."""
        assert isinstance(provider, KazooProvider)
        items: list[Mapping[str, Any]] = []
        now = time.time()
        for item in await provider.history(source, since=since):
            cdr_id = _text(item.get("cdr_id"))
            if not cdr_id or isinstance(item.get("cdr"), Mapping):
                items.append(item)
                continue
            cdr = await provider.cdr(cdr_id)
            if cdr is not None:
                items.append({**item, "cdr": cdr})
                continue
            activated = kazoo_item_time(item)
            if provider.cdrs_readable and activated is not None and now - activated < CDR_WAIT:
                continue
            items.append(item)
        return items

    def item_time(self, item: Mapping[str, Any]) -> float | None:
        return kazoo_item_time(item)

    def item_leg(self, item: Mapping[str, Any]) -> str | None:
        leg = item.get("call_id")
        return leg if isinstance(leg, str) and leg else None

    def item_contact(self, item: Mapping[str, Any]) -> str | None:
        contact = item.get("contact")
        if isinstance(contact, str | int) and not isinstance(contact, bool):
            return str(contact)
        return None

    def parse(
        self,
        item: Mapping[str, Any],
        *,
        account: str,
        source: str,
        agent: str | None,
        call_id: str | None,
    ) -> ProviderReport:
        return kazoo_history_report(
            item, account=account, clicktocall_id=source, extension=agent, call_id=call_id
        )


SPEC = ProviderSpec(
    kind=ProviderKind.KAZOO,
    label=KazooProvider.label,
    provider=KazooProvider,
    secret=SecretDeclaration("API key", when_set=(("kazoo_user", "Password"),)),
    fields=(
        AccountField(
            "kazoo_account", "Kazoo account id", "Kazoo: account id", required=True, metavar="ID"
        ),
        AccountField(
            "kazoo_api",
            "Kazoo API version",
            "Kazoo: API version (v2)",
            choices=("v2", "v1"),
            choice_labels=("v2 (current Kazoo)", "v1 (older servers)"),
        ),
        AccountField(
            "kazoo_user",
            "Kazoo user",
            "Kazoo: log in as this user (secret = password)",
            needs="kazoo_account_name",
        ),
        AccountField(
            "kazoo_account_name", "Kazoo account name", "Kazoo: account name for user login"
        ),
        AccountField(
            "kazoo_clicktocall",
            "Clicktocall to use",
            "Kazoo: id or name (default: the agent's own)",
            metavar="ID_OR_NAME",
        ),
        AccountField(
            "kazoo_auth_required",
            "Clicktocalls made here",
            "Kazoo: whether a clicktocall the dialer makes requires a login (yes)",
            choices=("yes", "no"),
            choice_labels=("require a login", "need no login (anyone with the URL can call)"),
        ),
    ),
    # The clicktocall is chosen per account ("clicktocall to use") and per call (the
    # picker, --bridge), and listed from the server: no list of bridges to keep here.
    bridges=None,
    sip_agent=True,
    reports=KazooReports(),
)
