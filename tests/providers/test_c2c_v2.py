"""C2C v2 over loopback against the simulator: the exact wire form and every answer shape."""

from __future__ import annotations

import io

import pytest

from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallOptions, CallStatus
from dialer.core.errors import AuthenticationRefused, CallRejected, InvalidInput, UnsupportedOption
from dialer.simulator import ProviderSimulator
from tests.providers.conftest import MakeService, provider_requests

KIND = ProviderKind.C2C_V2
# A subscribed account may keep the webhook_id its subscription pushes to: never sent.
SUBSCRIBED_WITH_WEBHOOK = {"webhook_id": "sim-webhook", "reports_by": "subscription"}


async def test_agent_mode_wire_form(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND)
    record = await service.place_call("+91 88671 35000")
    [request] = provider_requests(sim)
    assert request.method == "POST"
    assert request.path == "/api/v2/voice/c2c"
    assert request.query == {}
    assert request.headers["authorization"] == "Bearer sim-c2c-token"
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "bridge": "918068280000",
        "from": "919876543210",  # the agent rings first
        "to": "918867135000",
        "record": "0",
        "mid": record.id,
        "webhook_id": "sim-webhook",
    }
    assert record.status is CallStatus.ACCEPTED
    assert record.provider_ref  # the simulator answers a callId
    call = sim.calls[record.provider_ref]
    assert call.reference == record.id


async def test_flow_mode_flattens_variables(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    await service.place_call(
        "8867135000",
        CallOptions(flow="220", variables={"Name": "Asha", "otp": "12344"}, record=True),
    )
    [request] = provider_requests(sim)
    body = request.json
    assert body["from"] == "918867135000"  # the customer, straight into the flow
    assert body["to"] == "flow:220"
    assert body["variables[Name]"] == "Asha"
    assert body["variables[otp]"] == "12344"
    assert "variables" not in body
    assert body["record"] == "1"


@pytest.mark.parametrize(("seconds", "minutes"), [(30, "1"), (60, "1"), (61, "2"), (600, "10")])
async def test_duration_is_minutes_rounded_up(
    sim: ProviderSimulator, make_service: MakeService, seconds: int, minutes: str
) -> None:
    service = await make_service(KIND)
    await service.place_call("+918867135000", CallOptions(max_seconds=seconds))
    assert provider_requests(sim)[0].json["duration"] == minutes


async def test_attempts_only_when_set(sim: ProviderSimulator, make_service: MakeService) -> None:
    service = await make_service(KIND)
    await service.place_call("+918867135000")
    await service.place_call("+918867135000", CallOptions(attempts=0))
    first, second = provider_requests(sim)
    assert "attempts" not in first.json
    assert second.json["attempts"] == "0"


async def test_too_many_attempts_never_sent(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    with pytest.raises(InvalidInput, match="between 0 and 2"):
        await service.place_call("+918867135000", CallOptions(attempts=3))
    assert provider_requests(sim) == []


async def test_number_format_override(sim: ProviderSimulator, make_service: MakeService) -> None:
    from dialer.core.numbers import NumberFormat

    service = await make_service(KIND, number_format=NumberFormat.E164)
    with pytest.raises(CallRejected):
        await service.place_call("+918867135000")  # the service wants digits without "+"
    assert provider_requests(sim)[0].json["to"] == "+918867135000"


async def test_wrong_token_is_authentication(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND, secret="not-the-token")
    with pytest.raises(AuthenticationRefused) as info:
        await service.place_call("+918867135000")
    assert "not-the-token" not in str(info.value)


async def test_validation_error_carries_the_provider_message(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND, bridges=("910000000000",))
    with pytest.raises(CallRejected) as info:
        await service.place_call("+918867135000")
    assert info.value.status_code == 422
    assert info.value.provider_message
    assert info.value.provider_message in str(info.value)


async def test_missing_flow_variable_is_refused_by_the_provider(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    with pytest.raises(CallRejected, match="otp"):
        await service.place_call(
            "+918867135000", CallOptions(flow="220", variables={"Name": "Asha"})
        )


async def test_missing_bridge_is_refused_before_sending(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND, bridges=())
    with pytest.raises(UnsupportedOption, match="bridge"):
        await service.place_call("+918867135000")
    assert provider_requests(sim) == []


async def test_webhook_report_reaches_the_configured_url(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    import asyncio

    from aiohttp import web

    received: list[dict[str, object]] = []
    got = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        got.set()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sim.config.webhook_urls["sim-webhook"] = f"http://127.0.0.1:{port}/hook"
    try:
        service = await make_service(KIND)
        record = await service.place_call("+918867135000")
        await asyncio.wait_for(got.wait(), 5)
    finally:
        await runner.cleanup()
    [report] = received
    assert report["webhook_id"] == "sim-webhook"
    assert str(report["to"]) == "918867135000"
    assert report["status"] == "COMPLETED"
    assert report.get("mid") == record.id


async def test_listeners_see_placing_then_accepted(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(KIND)
    seen: list[tuple[str, CallStatus]] = []
    service.add_listener(lambda record: seen.append((record.id, record.status)))
    record = await service.place_call("+918867135000")
    assert seen == [(record.id, CallStatus.PLACING), (record.id, CallStatus.ACCEPTED)]
    stored = service.history.get(record.id)
    assert stored is not None
    assert stored.request["fields"]["bridge"] == "918068280000"
    assert "sim-c2c-token" not in str(stored.request)


async def test_test_connection_checks_the_token_without_calling(sim: ProviderSimulator) -> None:
    from dialer.providers import provider_class
    from tests.providers.conftest import sim_account

    account = sim_account(sim, KIND)
    good = provider_class(KIND)(account, "sim-c2c-token")
    bad = provider_class(KIND)(account, "wrong-token")
    try:
        said = await good.test_connection()
        assert said == "C2C v2 accepted the API token (signed in as Simulator)"
        with pytest.raises(AuthenticationRefused, match="Unauthenticated"):
            await bad.test_connection()
    finally:
        await good.aclose()
        await bad.aclose()
    requests = provider_requests(sim)
    assert [(r.method, r.path) for r in requests] == [("GET", "/api/v2/auth/me")] * 2
    assert requests[0].headers["authorization"] == "Bearer sim-c2c-token"
    assert sim.calls == {}


# -- reports by subscription, and the account's time zone --------------------------------------


@pytest.mark.parametrize("options", [{"reports_by": "subscription"}, SUBSCRIBED_WITH_WEBHOOK])
async def test_a_subscribed_account_sends_no_webhook_id(
    sim: ProviderSimulator, make_service: MakeService, options: dict[str, str]
) -> None:
    service = await make_service(KIND, options=options)
    record = await service.place_call("+91 88671 35000")
    [request] = provider_requests(sim)
    assert request.json == {
        "bridge": "918068280000",
        "from": "919876543210",
        "to": "918867135000",
        "record": "0",
        "mid": record.id,
    }
    assert record.status is CallStatus.ACCEPTED
    stored = service.history.get(record.id)
    assert stored is not None and "webhook_id" not in stored.request["fields"]


async def test_reports_by_webhook_id_is_the_default_and_sends_it(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(
        KIND, options={"webhook_id": "sim-webhook", "reports_by": "webhook_id"}
    )
    await service.place_call("+918867135000")
    [request] = provider_requests(sim)
    assert request.json["webhook_id"] == "sim-webhook"


def test_account_add_takes_reports_by_subscription_and_a_time_zone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dialer.cli.main import main
    from dialer.core.accounts import AccountStore
    from dialer.core.paths import AppPaths

    monkeypatch.setattr("sys.stdin", io.StringIO("sim-c2c-token\n"))
    args = ["account", "add", "shop", "--provider", "c2c-v2", "--url", "https://c2c.example/",
            "--reports-by", "subscription", "--time-zone", "Asia/Kolkata"]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    account = AccountStore(AppPaths.default().accounts_file).get("shop")
    assert account.options == {"reports_by": "subscription", "time_zone": "Asia/Kolkata"}


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (
            ["--time-zone", "Asia/Calcuta"],
            "Time zone: 'Asia/Calcuta' is not a time zone name this machine knows; give an "
            "IANA name such as Asia/Kolkata, Europe/London or UTC, or leave it empty for this "
            "machine's zone",
        ),
        (["--time-zone", "../../etc/passwd"], "'../../etc/passwd' is not a time zone name"),
        (["--time-zone", "Asia"], "'Asia' is not a time zone name"),
        (["--reports-by", "push"], "invalid choice: 'push'"),
    ],
)
def test_account_add_refuses_a_bad_time_zone_or_report_choice(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    says: str,
) -> None:
    from dialer.cli.main import main
    from dialer.core.paths import AppPaths

    monkeypatch.setattr("sys.stdin", io.StringIO("sim-c2c-token\n"))
    args = ["account", "add", "shop", "--provider", "c2c-v2", "--url", "https://c2c.example/"]
    code: int | str | None
    try:
        code = main([*args, *flags])
    except SystemExit as exit_:  # argparse refuses a choice itself
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert says in err
    assert not AppPaths.default().accounts_file.exists()
