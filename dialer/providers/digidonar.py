"""DigiDonar reverse click-to-call (seed 004): the customer's phone rings first.

The document lists ``campid`` and ``deskphone`` a second time as "form parameters" of the
same GET. They are sent in the query string with the rest: a GET's body has no meaning in
HTTP (proxies may drop it), and the PHP server behind these pages fills ``$_POST`` for POST
requests only, so a form body on a GET would never be read. ``deskphone`` is sent once, as
the desk phone chosen for the call: the query's and the form's are the same name, and a
server reads one value per name.

Errors come back as HTTP 200 with ``Content-Type: text/html`` and a JSON body such as
``{"type": "error", "message": "Invalid Auth Code!"}``, so the JSON ``type`` field decides,
whatever the status line and content type say.
"""

from __future__ import annotations

import logging

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallRequest, CallResult, campaign_id_problem
from dialer.core.errors import CallRejected
from dialer.core.numbers import NumberFormat
from dialer.core.redact import excerpt
from dialer.providers.base import BridgeKind, Capabilities, PreparedCall, Provider
from dialer.providers.spec import (
    AccountField,
    NoReports,
    ProviderSpec,
    SecretDeclaration,
)

logger = logging.getLogger(__name__)


class DigiDonarProvider(Provider):
    kind = ProviderKind.DIGIDONAR
    label = "DigiDonar"
    capabilities = Capabilities(
        default_number_format=NumberFormat.NATIONAL,
        bridge=BridgeKind.DID,
        bridge_required=True,
        max_length=True,
        campaign=True,
        customer_rings_first=True,
    )

    def params(self, request: CallRequest) -> dict[str, str]:
        assert request.agent is not None
        fmt = self.number_format
        params = {
            "calling_party_a": request.customer.for_wire(fmt),  # rung first
            "calling_party_b": request.agent.for_wire(fmt),  # the member/agent
            "deskphone": request.bridge or "",
            "authcode": self._secret,
            "call_from_did": "1",
        }
        if request.max_seconds is not None:
            params["CallLimit"] = str(request.max_seconds)
        campid = request.campid or self.account.option("campid")
        if campid:
            params["campid"] = campid
        return params

    @property
    def call_url(self) -> str:
        return f"{self.base_url}click_to_call_v3"

    async def prepare(self, request: CallRequest) -> PreparedCall:
        self.check_request(request)
        return PreparedCall(request, self.sent("GET", self.call_url, self.params(request)))

    async def start(self, call: PreparedCall) -> CallResult:
        url, params = self.call_url, self.params(call.request)
        response = await self.send("GET", url, params=params, places_call=True)
        data = self.parse_json(response)
        if not isinstance(data, dict) or "type" not in data:
            raise self.unexpected(response, "an answer without a 'type' field")
        message = excerpt(str(data.get("message") or ""), 200)
        kind = str(data["type"]).lower()
        if kind == "success":
            campid = data.get("campid")
            message = message or "Call initiated"
            # The desk phone the call went out from, as the server writes it ("1204..." for
            # the "0120..." sent; live CallerDesk names it "callerid"): kept in the call's
            # message, which the history, the window and --json all show.
            deskphone = data.get("deskphone", data.get("callerid"))
            if isinstance(deskphone, (str, int)) and not isinstance(deskphone, bool):
                message += f" (desk phone {excerpt(str(deskphone), 40)})"
            return CallResult(
                provider_ref=str(campid) if campid is not None else None,
                message=message,
                raw=data,
            )
        if "auth" in message.lower():
            raise self.auth_refused(message, response.status_code)
        raise CallRejected(
            f"{self.label} refused the call: {message or 'no reason given'}",
            provider=self.kind,
            status_code=response.status_code,
            provider_message=message,
        )


def _campaign_field_problem(value: str) -> str | None:
    """The account's campaign id, checked as a call's is (said after the field's label)."""
    if campaign_id_problem(value) is None:
        return None
    return f"it must be a whole number, for example 9995 (not '{value[:20]}')"


SPEC = ProviderSpec(
    kind=ProviderKind.DIGIDONAR,
    label=DigiDonarProvider.label,
    provider=DigiDonarProvider,
    secret=SecretDeclaration("Authcode"),
    fields=(
        AccountField(
            "campid",
            "Campaign id",
            "every call's campaign, e.g. 9995",
            metavar="ID",
            check=_campaign_field_problem,
        ),
    ),
    bridges="Desk phones",
    reports=NoReports(
        "DigiDonar does not report call outcomes: whether this call was answered is not known"
    ),
)
