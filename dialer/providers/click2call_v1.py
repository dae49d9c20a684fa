"""Click2Call v1: the legacy PHP API (seed 002) with plain-text answers.

``click2call.php`` answers a bare numeric call id on success; anything else is the server's
(undocumented) error text. The document allows GET and POST: we POST a form so the PIN stays
out of URLs, proxy logs and browser histories.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallRequest, CallResult, CallStatus
from dialer.core.errors import CallRejected, InvalidInput
from dialer.core.numbers import NumberFormat
from dialer.core.redact import excerpt
from dialer.core.reports import ProviderReport, ReportParseError
from dialer.providers.base import BridgeKind, Capabilities, PreparedCall, Provider
from dialer.providers.spec import (
    AccountField,
    PolledRead,
    PolledReports,
    ProviderSpec,
    SecretDeclaration,
    TrackedCall,
)

logger = logging.getLogger(__name__)

_CALL_ID = re.compile(r"\d+")
SOURCE = "poll"  # how the history names a report the tracker fetched
_AUTH_WORDS = re.compile(r"(?i)\b(uid|pin|auth|login|unauthori[sz]ed|credential)")


@dataclass(frozen=True, slots=True)
class V1Report:
    """One line of ``report-click2call.php``: ``id,dur1,dur2,credit``."""

    id: str
    first_leg_seconds: int
    second_leg_seconds: int
    credit: str
    # The body as received (stripped): the history keeps provider reports verbatim.
    text: str = field(default="", compare=False)

    @property
    def answered(self) -> bool:
        # The document: "In case any number is not answered/busy/invalid ... duration will be 0".
        return self.first_leg_seconds > 0 and self.second_leg_seconds > 0


def parse_v1_report(text: str) -> V1Report | None:
    """Parse a report body, with or without a header line and spaces; None if it has no row.

    Raises ValueError for a body that is neither empty nor a report.
    """
    rows = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    for row in rows:
        cells = [cell.strip() for cell in row.split(",")]
        if len(cells) != 4:
            continue
        if not (cells[1].isdigit() and cells[2].isdigit()):
            continue  # the header line: "Unique_ID, Duration of Number 1, ..."
        return V1Report(cells[0], int(cells[1]), int(cells[2]), cells[3], text=text.strip())
    if not rows:
        return None
    raise ValueError(excerpt(text))


class Click2CallV1Provider(Provider):
    kind = ProviderKind.CLICK2CALL_V1
    label = "Click2Call v1"
    capabilities = Capabilities(
        default_number_format=NumberFormat.DIGITS,
        bridge=BridgeKind.NONE,
        bridge_required=False,
        max_length=True,
        holdfile=True,
    )

    def _credentials(self) -> dict[str, str]:
        uid = self.account.option("uid")
        if not uid:
            raise InvalidInput(
                f"Account '{self.account.name}' has no uid: set it in the account's settings "
                "(--uid)"
            )
        return {"uid": uid, "pin": self._secret}

    def form(self, request: CallRequest) -> dict[str, str]:
        assert request.agent is not None
        fmt = self.number_format
        form = self._credentials()
        form["number1"] = request.agent.for_wire(fmt)
        form["number2"] = request.customer.for_wire(fmt)
        holdfile = request.holdfile or self.account.option("holdfile")
        if holdfile:
            form["holdfile"] = holdfile
        if request.max_seconds is not None:
            form["duration"] = str(request.max_seconds)
        form["uniqueid"] = request.reference
        return form

    @property
    def call_url(self) -> str:
        return f"{self.base_url}click2call.php"

    async def prepare(self, request: CallRequest) -> PreparedCall:
        self.check_request(request)
        return PreparedCall(request, self.sent("POST", self.call_url, self.form(request)))

    async def start(self, call: PreparedCall) -> CallResult:
        url, form = self.call_url, self.form(call.request)
        response = await self.send("POST", url, form=form, places_call=True)
        text = response.text.strip()
        if response.is_success and _CALL_ID.fullmatch(text):
            return CallResult(provider_ref=text, message="Call placed", raw={"body": text})
        if response.status_code in (401, 403) or (text and _AUTH_WORDS.search(text)):
            raise self.auth_refused(excerpt(text) or f"HTTP {response.status_code}")
        if not text:
            raise self.unexpected(response, "an empty answer instead of a call id")
        # The document names no error texts: whatever is not a call id is the refusal.
        raise CallRejected(
            f"{self.label} refused the call: {excerpt(text)}",
            provider=self.kind,
            status_code=response.status_code,
            provider_message=excerpt(text),
        )

    async def report(
        self, *, call_id: str | None = None, unique_id: str | None = None
    ) -> V1Report | None:
        """Look up a call's report by the provider's call id or by our ``uniqueid``.

        None while the server has no row yet. The PIN rides in the query string here because
        the document gives only a GET form for reports; it is masked in every log line.
        """
        if (call_id is None) == (unique_id is None):
            raise ValueError("pass exactly one of call_id or unique_id")
        params = self._credentials()
        if call_id is not None:
            params["id"] = call_id
        else:
            params["uniqueid"] = unique_id or ""
        response = await self.send(
            "GET", f"{self.base_url}report-click2call.php", params=params, places_call=False
        )
        text = response.text.strip()
        if text.lower().startswith("no record"):
            return None
        if _AUTH_WORDS.search(text) and "," not in text:
            raise self.auth_refused(excerpt(text))
        try:
            return parse_v1_report(text)
        except ValueError:
            raise self.unexpected(response, "a report that is not id,dur1,dur2,credit") from None

    async def test_connection(self) -> str:
        await self.report(call_id="0")
        return f"{self.label} accepted the uid and PIN"


# -- reports --------------------------------------------------------------------------------


def v1_report(
    report: V1Report,
    *,
    account: str | None = None,
    call_id: str | None = None,
    provider_ref: str | None = None,
    reported_at: float | None = None,
) -> ProviderReport:
    """What a ``report-click2call.php`` row says about a call whose durations are final.

    The document (seed 002): "In case any number is not answered/busy/invalid/not reachable
    then duration will be 0". A conversation happened when the second number's leg has a
    duration; the first leg may have one without it (the agent answered, the customer did
    not). Whether a row is final is the tracker's decision, not this function's.
    """
    first, second = report.first_leg_seconds, report.second_leg_seconds
    if first < 0 or second < 0:
        raise ReportParseError(f"negative duration in a Click2Call v1 report: {first},{second}")
    answered = second > 0
    return ProviderReport(
        provider=str(ProviderKind.CLICK2CALL_V1),
        source=SOURCE,
        body=report.text or f"{report.id},{first},{second},{report.credit}",
        status=CallStatus.COMPLETED if answered else CallStatus.NO_ANSWER,
        account=account,
        call_id=call_id,
        provider_ref=provider_ref,
        answered=answered,
        reported_at=reported_at,
        agent_seconds=first,
        talk_seconds=second,
        charge=_credit(report.credit),
    )


def parse_v1_report_text(
    text: str,
    *,
    account: str | None = None,
    call_id: str | None = None,
    provider_ref: str | None = None,
    reported_at: float | None = None,
) -> ProviderReport | None:
    """A report body as received; None when it has no row yet."""
    try:
        row = parse_v1_report(text)
    except ValueError:
        raise ReportParseError("not a Click2Call v1 report (id,dur1,dur2,credit)") from None
    if row is None:
        return None
    return v1_report(
        row, account=account, call_id=call_id, provider_ref=provider_ref, reported_at=reported_at
    )


def _credit(text: str) -> float | None:
    """The credit used, when it is a number; the body keeps it as sent either way."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class Click2CallV1Reports(PolledReports):
    """``report-click2call.php`` read by the provider's call id (by our ``uniqueid`` when the
    call never got one). A row of zero durations ("not answered/busy/invalid/not reachable",
    seed 002) is not conclusive: a server may write it when the call starts and fill in the
    durations when it ends, so it counts only once the call cannot still be running."""

    async def read(self, provider: Provider, call: TrackedCall) -> PolledRead | None:
        assert isinstance(provider, Click2CallV1Provider)
        if call.provider_ref:
            row = await provider.report(call_id=call.provider_ref)
        else:  # the call was interrupted before the provider's id was stored
            row = await provider.report(unique_id=call.id)
        if row is None:
            return None
        report = v1_report(
            row,
            account=call.account,
            call_id=call.id,
            provider_ref=call.provider_ref,
            reported_at=time.time(),
        )
        key = (row.id, row.first_leg_seconds, row.second_leg_seconds, row.credit)
        conclusive = row.first_leg_seconds > 0 or row.second_leg_seconds > 0
        return PolledRead(report, key, conclusive)

    def longest_call(self, call: TrackedCall) -> float | None:
        fields = call.request.get("fields")
        cap = fields.get("duration") if isinstance(fields, Mapping) else None
        try:
            limit = float(cap) if cap is not None else None
        except (TypeError, ValueError):
            return None
        return limit if limit is not None and limit > 0 else None


SPEC = ProviderSpec(
    kind=ProviderKind.CLICK2CALL_V1,
    label=Click2CallV1Provider.label,
    provider=Click2CallV1Provider,
    secret=SecretDeclaration("API PIN"),
    fields=(
        AccountField("uid", "uid", "Click2Call v1: the API uid", required=True),
        AccountField("holdfile", "Hold file", "Click2Call v1: default sound file id"),
    ),
    reports=Click2CallV1Reports(),
)
