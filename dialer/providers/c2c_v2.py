"""C2C v2: ``POST {base}voice/c2c`` with a Bearer token and a JSON body (seeds 000/001).

The HTTP status and the ``status`` inside the body are separate signals: a call is accepted
only when both say so.

Reports are pushed to a webhook: either the account's ``webhook_id`` travels with every call,
or the account is subscribed to them once at the provider ("create subscription", option
``reports_by = subscription``) and no ``webhook_id`` is sent. The report's times are local
times of the platform, read in the account's ``time_zone`` (default: this machine's).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallMode, CallRequest, CallResult
from dialer.core.errors import CallRejected
from dialer.core.numbers import NumberFormat
from dialer.core.redact import excerpt
from dialer.core.times import zone_problem
from dialer.providers.base import BridgeKind, Capabilities, PreparedCall, Provider
from dialer.providers.spec import (
    AccountField,
    ProviderSpec,
    SecretDeclaration,
    WebhookReports,
    header_secret_check,
)

logger = logging.getLogger(__name__)

_SUCCESS = (200, "200", "OK", "ok")


class C2CV2Provider(Provider):
    kind = ProviderKind.C2C_V2
    label = "C2C v2"
    capabilities = Capabilities(
        default_number_format=NumberFormat.DIGITS,
        bridge=BridgeKind.DID,
        bridge_required=True,
        flows=True,
        record=True,
        max_length=True,
        attempts=True,
    )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._secret}", "Accept": "application/json"}

    def body(self, request: CallRequest) -> dict[str, str]:
        """The JSON body, in the field order and string forms of the document's examples."""
        fmt = self.number_format
        body: dict[str, str] = {"bridge": request.bridge or ""}
        if request.mode is CallMode.FLOW:
            assert request.flow is not None
            body["from"] = request.customer.for_wire(fmt)
            body["to"] = f"flow:{request.flow.flow_id}"
            # The table says "Array", but every example (and the server) uses flat keys.
            for key, value in request.flow.variables.items():
                body[f"variables[{key}]"] = value
        else:
            assert request.agent is not None
            body["from"] = request.agent.for_wire(fmt)
            body["to"] = request.customer.for_wire(fmt)
        body["record"] = "1" if request.record else "0"
        body["mid"] = request.reference
        if request.max_minutes is not None:
            body["duration"] = str(request.max_minutes)
        if request.attempts is not None:
            body["attempts"] = str(request.attempts)
        webhook_id = self.account.option("webhook_id")
        # A subscribed account's reports come by its subscription: sending the webhook_id
        # too would ask for each report twice.
        if webhook_id and not subscribed(self.account.options):
            body["webhook_id"] = webhook_id
        return body

    @property
    def call_url(self) -> str:
        return f"{self.base_url}voice/c2c"

    async def prepare(self, request: CallRequest) -> PreparedCall:
        self.check_request(request)
        return PreparedCall(request, self.sent("POST", self.call_url, self.body(request)))

    async def start(self, call: PreparedCall) -> CallResult:
        url, body = self.call_url, self.body(call.request)
        response = await self.send(
            "POST", url, json_body=body, headers=self._headers(), places_call=True
        )
        if response.status_code in (401, 403):
            raise self.auth_refused(
                _message(self.json_or_none(response)) or f"HTTP {response.status_code}",
                response.status_code,
            )
        data = self.parse_json(response)
        if not isinstance(data, dict):
            raise self.unexpected(response, "a JSON answer that is not an object")
        message = _message(data)
        if response.is_success and data.get("status") in _SUCCESS:
            call_id = data.get("callId")
            return CallResult(
                provider_ref=str(call_id) if call_id else None,
                message=message or "Call initiated",
                raw=data,
            )
        if "status" not in data and "message" not in data:
            raise self.unexpected(response, "an answer with neither status nor message")
        raise CallRejected(
            f"{self.label} refused the call: {message or 'no reason given'}" + _field_errors(data),
            provider=self.kind,
            status_code=response.status_code,
            provider_message=message,
        )

    async def test_connection(self) -> str:
        """Ask who the token belongs to (``GET {base}auth/me``); nothing is dialled."""
        response = await self.send(
            "GET", f"{self.base_url}auth/me", headers=self._headers(), places_call=False
        )
        if response.status_code in (401, 403):
            raise self.auth_refused(
                _message(self.json_or_none(response)) or f"HTTP {response.status_code}",
                response.status_code,
            )
        data = self.parse_json(response)
        if not response.is_success or not isinstance(data, dict):
            raise self.unexpected(response, "an unreadable answer to the credentials check")
        user = data.get("data")
        name = (user.get("name") or user.get("username")) if isinstance(user, dict) else None
        who = f" (signed in as {excerpt(str(name), 80)})" if name else ""
        return f"{self.label} accepted the API token{who}"


def _message(data: dict[str, Any] | None) -> str:
    if not data:
        return ""
    message = data.get("message")
    return excerpt(str(message), 200) if message else ""


def _field_errors(data: dict[str, Any]) -> str:
    """Laravel-style ``errors: {field: [messages]}`` as ' (field: message; ...)'."""
    errors = data.get("errors")
    if not isinstance(errors, dict) or not errors:
        return ""
    message = str(data.get("message", ""))
    parts = []
    for name, messages in errors.items():
        text = str(messages[0] if isinstance(messages, list) and messages else messages)
        if text not in message:  # Laravel often repeats the first error as the message
            parts.append(f"{name}: {excerpt(text, 80)}")
    return " (" + "; ".join(parts) + ")" if parts else ""


# How an account asks for its call reports: the account option and its two values.
REPORTS_BY = "reports_by"
BY_WEBHOOK_ID = "webhook_id"  # the webhook_id travels with every call (the default)
BY_SUBSCRIPTION = "subscription"  # a subscription made once ("create subscription")


def subscribed(options: Mapping[str, str]) -> bool:
    """Whether an account with these settings gets its reports by subscription."""
    return options.get(REPORTS_BY) == BY_SUBSCRIPTION


SPEC = ProviderSpec(
    kind=ProviderKind.C2C_V2,
    label=C2CV2Provider.label,
    provider=C2CV2Provider,
    secret=SecretDeclaration("API token", in_header=True),  # "Authorization: Bearer <token>"
    fields=(
        AccountField("webhook_id", "Webhook id", "C2C v2: webhook for call reports"),
        AccountField(
            REPORTS_BY,
            "Call reports",
            "C2C v2: how call reports are asked for: webhook_id (sent with each call, the "
            "default) or subscription (one made once in the provider's panel: no webhook_id "
            "is sent)",
            choices=(BY_WEBHOOK_ID, BY_SUBSCRIPTION),
            choice_labels=(
                "webhook_id sent with each call",
                "by subscription (no webhook_id sent)",
            ),
        ),
        AccountField(
            "time_zone",
            "Time zone",
            "C2C v2: e.g. Asia/Kolkata (default: local)",
            metavar="ZONE",
            check=zone_problem,
        ),
        AccountField(
            "webhook_secret",
            "Webhook secret",
            "optional: the secret set on the webhook in the panel",
            secret=True,
            keyring_name="webhook",
            check=header_secret_check("Webhook secret"),  # the reports' Bearer header
        ),
    ),
    bridges="Bridge DIDs",
    # Outcomes arrive at the webhook receiver (dialer/webhooks/).
    reports=WebhookReports(
        option="webhook_id",
        # Named as the form names the settings ("Webhook id", "Call reports").
        missing="No outcome will arrive: the account has no webhook id and does not take "
        "reports by subscription. Set its webhook id and register the receiver's URL in the "
        "C2C v2 panel, or subscribe the account to call reports there and set its call "
        "reports to 'by subscription'",
        subscribed=(REPORTS_BY, BY_SUBSCRIPTION),
    ),
)
