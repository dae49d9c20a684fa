"""Kazoo (2600Hz) Crossbar ``clicktocall`` (seed 003 and upstream's current API).

A call goes through a clicktocall object whose ``extension`` (the agent's phone) rings first;
``/connect`` then dials the ``contact`` (the customer). Every answer is an envelope whose
``status`` (``success``, ``error``, ``fatal``) decides, not the HTTP code.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlencode

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallRequest, CallResult
from dialer.core.errors import CallRejected, InvalidInput
from dialer.core.numbers import NumberFormat
from dialer.core.redact import excerpt
from dialer.providers.base import (
    Bridge,
    BridgeKind,
    Capabilities,
    PreparedCall,
    Provider,
    ReportKind,
)

logger = logging.getLogger(__name__)

GREGORIAN_UNIX_OFFSET = 62167219200  # Kazoo timestamps are Gregorian seconds


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
        reports=ReportKind.HISTORY,
        sip_contacts=True,
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._token: str | None = None
        self._auth_lock = asyncio.Lock()
        self._clicktocall_for_agent: dict[str, str] = {}

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
                f"Account '{self.account.name}' has no Kazoo account id: set --kazoo-account"
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
                    "Kazoo user/password login needs the account name: set --kazoo-account-name"
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
            if response.status_code in (401, 403) or _status(envelope) != "success":
                raise self.auth_refused(_envelope_message(envelope), response.status_code)
            token = envelope.get("auth_token") if isinstance(envelope, dict) else None
            if not token:
                raise self.unexpected(response, "a login answer without an auth_token")
            self._token = str(token)
            return self._token

    async def request(
        self, method: str, url: str, *, data: Any = None, places_call: bool = False
    ) -> tuple[dict[str, Any], int]:
        """An authenticated Crossbar request; the token is renewed once on a 401."""
        token = self._token or await self._authenticate()
        body = {"data": data} if data is not None else None
        for attempt in (1, 2):
            response = await self.send(
                method,
                url,
                json_body=body,
                headers={"X-Auth-Token": token, "Accept": "application/json"},
                places_call=places_call,
            )
            if response.status_code == 401 and attempt == 1:
                # An expired token is refused before anything is done, so resending is safe.
                token = await self._authenticate(stale=token)
                continue
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
        self, url: str, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        start_key: str | None = None
        while True:
            query = dict(params or {})
            if start_key is not None:
                query["start_key"] = start_key
            page_url = f"{url}?{urlencode(query)}" if query else url
            envelope, status = await self.request("GET", page_url)
            items = self._check(envelope, status, "list")
            yield [item for item in items or [] if isinstance(item, dict)]
            start_key = envelope.get("next_start_key")
            if not start_key or self.api_version == "v1":
                return

    async def list_clicktocalls(self) -> list[dict[str, Any]]:
        return [item async for page in self._pages(self.url()) for item in page]

    async def get_clicktocall(self, c2c_id: str) -> dict[str, Any]:
        envelope, status = await self.request("GET", self.url(c2c_id))
        return dict(self._check(envelope, status, f"fetch clicktocall {c2c_id}"))

    async def create_clicktocall(self, fields: dict[str, Any]) -> dict[str, Any]:
        envelope, status = await self.request("PUT", self.url(), data=fields)
        return dict(self._check(envelope, status, "create the clicktocall"))

    async def update_clicktocall(self, c2c_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        envelope, status = await self.request("POST", self.url(c2c_id), data=fields)
        return dict(self._check(envelope, status, f"update clicktocall {c2c_id}"))

    async def delete_clicktocall(self, c2c_id: str) -> None:
        envelope, status = await self.request("DELETE", self.url(c2c_id))
        self._check(envelope, status, f"delete clicktocall {c2c_id}")

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
        return [item async for page in self._pages(url, params) for item in page]

    async def list_bridges(self) -> list[Bridge]:
        return [
            Bridge(
                id=str(item.get("id")),
                label=f"{item.get('name', '')} ({item.get('extension', '?')})",
                number=str(item.get("extension")) if item.get("extension") else None,
            )
            for item in await self.list_clicktocalls()
        ]

    async def resolve_clicktocall(self, request: CallRequest) -> str:
        """The clicktocall to connect through: ``--bridge`` (id or name), else the one whose
        extension is the agent's number, else a new ``Dialer <agent>``."""
        if request.bridge:
            items = await self.list_clicktocalls()
            for item in items:
                if request.bridge in (item.get("id"), item.get("name")):
                    return str(item["id"])
            raise InvalidInput(f"Kazoo has no clicktocall with id or name '{request.bridge}'")
        if request.agent is None:
            raise InvalidInput("No agent number: set the account's agent number or pass --agent")
        extension = request.agent.for_wire(self.number_format)
        cached = self._clicktocall_for_agent.get(extension)
        if cached:
            return cached
        for item in await self.list_clicktocalls():
            if str(item.get("extension")) == extension:
                self._clicktocall_for_agent[extension] = str(item["id"])
                return str(item["id"])
        fields: dict[str, Any] = {
            "name": f"Dialer {extension}",
            "extension": extension,
            "auth_required": True,  # never leave an unauthenticated dial-out URL behind
        }
        caller_id = self.account.default_bridge
        if caller_id:
            fields["outbound_callee_id_number"] = caller_id
        created = await self.create_clicktocall(fields)
        c2c_id = str(created.get("id") or "")
        if not c2c_id:
            raise CallRejected(
                "Kazoo created the clicktocall but returned no id", provider=self.kind
            )
        logger.info("Created Kazoo clicktocall %s for extension %s", c2c_id, extension)
        self._clicktocall_for_agent[extension] = c2c_id
        return c2c_id

    # -- calls --------------------------------------------------------------------------

    async def prepare(self, request: CallRequest) -> PreparedCall:
        self.check_request(request)
        c2c_id = await self.resolve_clicktocall(request)
        contact = request.customer.for_wire(self.number_format)
        return PreparedCall(
            request,
            self.sent("POST", self.url(c2c_id, "connect"), {"data": {"contact": contact}}),
            {"clicktocall_id": c2c_id},
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
            message=f"Connecting through clicktocall {c2c_id}",
            raw={"clicktocall_id": c2c_id, **(data if isinstance(data, dict) else {})},
        )

    async def test_connection(self) -> str:
        count = len(await self.list_clicktocalls())
        return f"Kazoo accepted the credentials; the account has {count} clicktocall(s)"


def _status(envelope: Any) -> str:
    return str(envelope.get("status", "")) if isinstance(envelope, dict) else ""


def _envelope_message(envelope: Any) -> str:
    if not isinstance(envelope, dict):
        return "no details"
    message = envelope.get("message")
    data = envelope.get("data")
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        message = f"{message}: {data['message']}" if message else data["message"]
    elif isinstance(data, str) and data:
        message = f"{message}: {data}" if message else data
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
