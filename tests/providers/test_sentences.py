"""Sentences built from the providers' declarations (their labels, settings' labels, what
their bridges and secrets are called) read right for every provider, in the window's words
and in the command line's."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.app.service import open_provider
from dialer.core.accounts import ProviderKind
from dialer.core.calls import CallOptions
from dialer.core.errors import CallRejected, ConfigError, InvalidInput, UnsupportedOption
from dialer.core.secrets import MemorySecretStore
from dialer.providers import provider_spec
from dialer.providers.kazoo import KazooProvider
from dialer.providers.spec import (
    AccountField,
    OptionError,
    ProviderSpec,
    WebhookReports,
    secret_problem,
)
from dialer.simulator import Fault, ProviderSimulator
from tests.providers.conftest import MakeService, provider_requests, sim_account

CUSTOMER = "+918867135000"


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        (
            ProviderKind.DIGIDONAR,
            "DigiDonar needs a desk phone to call from: add one to the account (or pass "
            "--bridge on the command line)",
        ),
        (
            ProviderKind.C2C_V2,
            "C2C v2 needs a bridge DID to call from: add one to the account (or pass --bridge "
            "on the command line)",
        ),
    ],
)
async def test_a_call_without_a_bridge_names_it_as_the_provider_does(
    sim: ProviderSimulator, make_service: MakeService, kind: ProviderKind, sentence: str
) -> None:
    service = await make_service(kind, bridges=())
    sim.clear_requests()
    with pytest.raises(UnsupportedOption) as info:
        await service.place_call(CUSTOMER)
    assert str(info.value) == sentence
    assert provider_requests(sim) == []


@pytest.mark.parametrize(
    ("kind", "options", "sentence"),
    [
        (
            ProviderKind.C2C_V2,
            CallOptions(holdfile="hold.wav"),
            "C2C v2 does not support a hold file",
        ),
        (ProviderKind.C2C_V2, CallOptions(campid="9995"), "C2C v2 does not support a campaign id"),
        (ProviderKind.KAZOO, CallOptions(record=True), "Kazoo does not support call recording"),
        (
            ProviderKind.KAZOO,
            CallOptions(max_seconds=60),
            "Kazoo does not support a maximum call length",
        ),
        (
            ProviderKind.DIGIDONAR,
            CallOptions(attempts=2),
            "DigiDonar does not support redial attempts",
        ),
    ],
)
async def test_an_option_the_provider_lacks_is_refused_in_plain_words(
    sim: ProviderSimulator,
    make_service: MakeService,
    kind: ProviderKind,
    options: CallOptions,
    sentence: str,
) -> None:
    service = await make_service(kind)
    sim.clear_requests()
    with pytest.raises(UnsupportedOption) as info:
        await service.place_call(CUSTOMER, options)
    assert str(info.value) == sentence
    assert provider_requests(sim) == []


@pytest.mark.parametrize(
    ("kind", "key", "flags", "sentence"),
    [
        (
            ProviderKind.C2C_V2,
            "reports_by",
            True,
            "--reports-by must be webhook_id or subscription",
        ),
        (
            ProviderKind.C2C_V2,
            "reports_by",
            False,
            "Choose 'webhook_id sent with each call' or 'by subscription (no webhook_id sent)' "
            "for 'Call reports'",
        ),
        (
            ProviderKind.KAZOO,
            "kazoo_auth_required",
            True,
            "--kazoo-auth-required must be yes or no",
        ),
        (
            ProviderKind.KAZOO,
            "kazoo_auth_required",
            False,
            "Choose 'require a login' or 'need no login (anyone with the URL can call)' for "
            "'Clicktocalls made here'",
        ),
    ],
)
def test_a_setting_outside_its_choices_names_the_flag_or_the_forms_choices(
    kind: ProviderKind, key: str, flags: bool, sentence: str
) -> None:
    options = {"kazoo_account": "a1", key: "maybe"}
    with pytest.raises(OptionError) as info:
        provider_spec(kind).check_options(options, flags=flags)
    assert (info.value.key, str(info.value)) == (key, sentence)


def test_three_choices_are_listed_with_commas() -> None:
    spec = ProviderSpec(
        kind="relay",
        label="Ring Relay",
        provider=KazooProvider,
        secret=provider_spec(ProviderKind.KAZOO).secret,
        reports=provider_spec(ProviderKind.KAZOO).reports,
        fields=(AccountField("mode", "Mode", choices=("a", "b", "c")),),
    )
    with pytest.raises(OptionError, match=r"^--mode must be a, b or c$"):
        spec.check_options({"mode": "d"}, flags=True)
    with pytest.raises(OptionError, match=r"^Choose 'a', 'b' or 'c' for 'Mode'$"):
        spec.check_options({"mode": "d"}, flags=False)


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        (
            provider_spec(ProviderKind.KAZOO).fields,
            "'Kazoo user' needs 'Kazoo account name' as well: fill in both",
        ),
        (
            (AccountField("line", "Relay line", needs="pin"), AccountField("pin", "Line PIN")),
            "'Relay line' needs 'Line PIN' as well: fill in both",
        ),
    ],
)
def test_a_setting_that_needs_another_names_both_as_the_form_does(
    fields: tuple[AccountField, ...], sentence: str
) -> None:
    kazoo = provider_spec(ProviderKind.KAZOO)
    spec = ProviderSpec(
        kind="relay",
        label="Ring Relay",
        provider=KazooProvider,
        secret=kazoo.secret,
        reports=kazoo.reports,
        fields=fields,
    )
    options = {"kazoo_account": "a1", "kazoo_user": "agent", "line": "L1"}
    with pytest.raises(OptionError) as info:
        spec.check_options(options, flags=False)
    assert str(info.value) == sentence


@pytest.mark.parametrize(
    ("value", "label", "sentence"),
    [
        (
            "tok 1234",
            "API token",
            "The API token has a space in it (character 4), and a real one never does: copy "
            "it again exactly as the provider shows it",
        ),
        (
            "s3crét",
            "Webhook secret",
            "The webhook secret has a character outside ASCII in it (character 5), and a real "
            "one never does: copy it again exactly as the provider shows it",
        ),
    ],
)
def test_a_header_secret_with_a_space_or_non_ascii_says_what_to_do(
    value: str, label: str, sentence: str
) -> None:
    assert secret_problem(value, label, in_header=True) == sentence


@pytest.mark.parametrize(
    ("kind", "options", "what"),
    [
        (ProviderKind.C2C_V2, {}, "API token"),
        (ProviderKind.CLICK2CALL_V1, {}, "API PIN"),
        (ProviderKind.KAZOO, {"kazoo_user": "agent", "kazoo_account_name": "acme"}, "password"),
    ],
)
async def test_an_account_without_its_stored_secret_is_told_by_the_secrets_name(
    sim: ProviderSimulator, kind: ProviderKind, options: dict[str, str], what: str
) -> None:
    demo = sim_account(sim, kind)
    account = sim_account(sim, kind, options={**demo.options, **options})
    with pytest.raises(ConfigError) as info:
        await open_provider(account, MemorySecretStore({}))
    assert str(info.value) == (
        f"No {what} is stored for account '{account.name}': type it in the account's "
        "settings (or remove the account and add it again)"
    )


@pytest.mark.parametrize(
    ("kind", "secret", "problem"),
    [
        (ProviderKind.C2C_V2, " tok-1234", "the API token has spaces or a line break around it"),
        (ProviderKind.CLICK2CALL_V1, "pin-1\n", "the API PIN has spaces or a line break around it"),
    ],
)
async def test_a_stored_secret_that_cannot_be_sent_is_one_sentence_with_the_fix(
    sim: ProviderSimulator, kind: ProviderKind, secret: str, problem: str
) -> None:
    account = sim_account(sim, kind)
    with pytest.raises(ConfigError) as info:
        await open_provider(account, MemorySecretStore({account.secret_key: secret}))
    assert str(info.value) == (
        f"Account '{account.name}' has a problem: {problem}: give it without them. Type it "
        "again in the account's settings (or remove the account and add it again)"
    )


async def test_kazoo_says_what_it_refused_to_list(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(ProviderKind.KAZOO)
    provider = await service.provider_for(service.accounts.get())
    assert isinstance(provider, KazooProvider)
    made = await provider.create_clicktocall({"name": "Desk", "extension": "1001"})
    sim.inject(Fault.failure_in_200("no resources"))
    with pytest.raises(CallRejected, match=r"^Kazoo refused to list the clicktocalls: no "):
        await provider.list_clicktocalls()
    sim.inject(Fault.failure_in_200("no resources"))
    with pytest.raises(CallRejected) as info:
        await provider.history(made["id"])
    assert str(info.value).startswith(
        f"Kazoo refused to list the history of clicktocall {made['id']}: no resources"
    )


@pytest.mark.parametrize("count", [0, 2])
async def test_kazoo_counts_the_accounts_clicktocalls_in_words(
    sim: ProviderSimulator, make_service: MakeService, count: int
) -> None:
    service = await make_service(ProviderKind.KAZOO)
    provider: Any = await service.provider_for(service.accounts.get())
    for number in range(count):
        await provider.create_clicktocall({"name": f"Desk {number}", "extension": f"100{number}"})
    said = {0: "no clicktocalls", 2: "2 clicktocalls"}[count]
    assert await provider.test_connection() == (
        f"Kazoo accepted the credentials; the account has {said}"
    )


@pytest.mark.parametrize(
    ("kind", "key", "sentence"),
    [
        (
            ProviderKind.KAZOO,
            "kazoo_account",
            "has no Kazoo account id: set it in the account's settings (--kazoo-account)",
        ),
        (
            ProviderKind.CLICK2CALL_V1,
            "uid",
            "has no uid: set it in the account's settings (--uid)",
        ),
    ],
)
async def test_a_missing_account_setting_is_set_in_the_settings_or_by_its_flag(
    sim: ProviderSimulator, make_service: MakeService, kind: ProviderKind, key: str, sentence: str
) -> None:
    demo = sim_account(sim, kind)
    options = {k: v for k, v in demo.options.items() if k != key}
    service = await make_service(kind, options=options)
    sim.clear_requests()
    with pytest.raises(InvalidInput) as info:
        await service.place_call(CUSTOMER)
    assert str(info.value) == f"Account '{demo.name}' {sentence}"
    assert provider_requests(sim) == []


async def test_kazoo_names_how_many_clicktocalls_there_are_when_none_matches(
    sim: ProviderSimulator, make_service: MakeService
) -> None:
    service = await make_service(ProviderKind.KAZOO)
    provider: Any = await service.provider_for(service.accounts.get())
    for number in range(2):
        await provider.create_clicktocall({"name": f"Desk {number}", "extension": f"100{number}"})
    with pytest.raises(InvalidInput) as info:
        await provider.find_clicktocall("Gone")
    assert str(info.value) == (
        f"Account '{provider.account.name}' has no Kazoo clicktocall with id or name 'Gone' "
        "(it has 2 clicktocalls: use one of those)"
    )


def test_a_c2c_v2_account_that_gets_no_reports_is_told_by_the_forms_names() -> None:
    reports = provider_spec(ProviderKind.C2C_V2).reports
    assert isinstance(reports, WebhookReports)
    assert reports.missing_for({}) == (
        "No outcome will arrive: the account has no webhook id and does not take reports by "
        "subscription. Set its webhook id and register the receiver's URL in the C2C v2 panel, "
        "or subscribe the account to call reports there and set its call reports to 'by "
        "subscription'"
    )
