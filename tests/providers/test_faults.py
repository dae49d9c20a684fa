"""Every odd answer becomes one typed, readable error, and a call is never sent twice."""

from __future__ import annotations

import pytest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallStatus
from dialer.core.errors import (
    CallRejected,
    DialerError,
    ProviderUnreachable,
    UnexpectedAnswer,
)
from dialer.history import HistoryQuery
from dialer.simulator import Fault, ProviderSimulator
from tests.providers.conftest import ALL_KINDS, MakeService, provider_requests

# What each fault must become, per provider. v1 treats any body that is not a call id as the
# provider's refusal (its error texts are undocumented), so HTML and broken JSON are refusals.
EXPECTED: dict[str, dict[ProviderKind, type[DialerError]]] = {
    "server_error": dict.fromkeys(ALL_KINDS, ProviderUnreachable),
    "timeout": dict.fromkeys(ALL_KINDS, ProviderUnreachable),
    "reset": dict.fromkeys(ALL_KINDS, ProviderUnreachable),
    "html": {
        **dict.fromkeys(ALL_KINDS, UnexpectedAnswer),
        ProviderKind.CLICK2CALL_V1: CallRejected,
    },
    "malformed_json": {
        **dict.fromkeys(ALL_KINDS, UnexpectedAnswer),
        ProviderKind.CLICK2CALL_V1: CallRejected,
    },
    "failure_in_200": dict.fromkeys(ALL_KINDS, CallRejected),
}

FAULTS = {
    "server_error": Fault.server_error(503),
    "timeout": Fault.timeout(5),
    "reset": Fault.reset(),
    "html": Fault.html(200),
    "malformed_json": Fault.malformed_json(),
    "failure_in_200": Fault.failure_in_200("Insufficient balance"),
}


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_fault_on_the_call_request(
    sim: ProviderSimulator, make_service: MakeService, kind: ProviderKind, fault: str
) -> None:
    service = await make_service(kind, read_timeout=0.5)
    await service.place_call("+918867135000")  # warm up: Kazoo logs in and finds its clicktocall
    sim.clear_requests()
    sim.inject(FAULTS[fault], provider=kind)
    with pytest.raises(DialerError) as info:
        await service.place_call("+918867135000")
    error = info.value
    assert type(error) is EXPECTED[fault][kind], str(error)
    assert error.exit_code == (4 if isinstance(error, ProviderUnreachable) else 3)
    text = str(error)
    assert "\n" not in text
    assert "Traceback" not in text
    for secret in ("sim-c2c-token", "sim-pin", "sim-kazoo-api-key", "sim-digidonar-authcode"):
        assert secret not in text
    # Exactly one request reached the provider: nothing was retried after it may have landed.
    assert len(provider_requests(sim)) == 1
    failed = service.history.page(HistoryQuery(), limit=1)[0]
    assert failed.status is CallStatus.FAILED
    assert failed.error == text


async def test_failure_in_200_carries_the_providers_words(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(ProviderKind.C2C_V2)
    sim.inject(Fault.failure_in_200("Insufficient balance"), provider=ProviderKind.C2C_V2)
    with pytest.raises(CallRejected, match="Insufficient balance"):
        await service.place_call("+918867135000")


async def test_latency_is_just_slow(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(ProviderKind.C2C_V2)
    sim.inject(Fault.latency(0.2), provider=ProviderKind.C2C_V2)
    record = await service.place_call("+918867135000")
    assert record.status is CallStatus.ACCEPTED


async def test_refused_connection_is_unreachable_and_retried_once(
    make_service: MakeService,
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = await make_service(ProviderKind.C2C_V2, url=f"http://127.0.0.1:{port}/api/v2/")
    with pytest.raises(ProviderUnreachable, match="connection refused"):
        await service.place_call("+918867135000")


async def test_timeout_message_warns_the_call_may_exist(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(ProviderKind.DIGIDONAR, read_timeout=0.3)
    sim.inject(Fault.timeout(5), provider=ProviderKind.DIGIDONAR)
    with pytest.raises(ProviderUnreachable, match="may or may not have been placed"):
        await service.place_call("+918867135000")
    assert len(provider_requests(sim)) == 1
