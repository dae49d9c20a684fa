"""A fifth provider registered from the tests folder alone shows in the accounts dialog and
in ``dialer account add``, and its calls are tracked to their outcome by the generic tracker
(through its declaration: nothing in dialer/ names it)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dialer import providers
from dialer.app.service import CallService
from dialer.cli.main import main
from dialer.core.accounts import Account, AccountStore, StaticAccounts
from dialer.core.calls import CallStatus
from dialer.core.paths import AppPaths
from dialer.core.secrets import MemorySecretStore
from dialer.history.factory import open_history
from dialer.history.store import final_record
from dialer.history.tracking import CallTracker, TrackingTimings
from tests.plugins.fifth_provider import KIND, SPEC, RingRelayServer, ring_relay_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def registered() -> Iterator[None]:
    providers.register(SPEC)
    yield
    providers.unregister(KIND)


@pytest.fixture
async def relay() -> AsyncIterator[RingRelayServer]:
    async with ring_relay_server() as server:
        yield server


def test_nothing_in_the_app_names_the_fifth_provider() -> None:
    named = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "dialer").rglob("*.py")
        if KIND in path.read_text() or "line_id" in path.read_text()
    ]
    assert named == []


@pytest.mark.usefixtures("registered")
def test_account_add_offers_its_kind_and_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["account", "add", "--help"]) == 0
    text = capsys.readouterr().out
    assert KIND in text
    assert "--line-id" in text
    assert "Ring Relay: the line to call from" in text


@pytest.mark.usefixtures("registered")
def test_account_add_stores_it_and_checks_its_required_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], dialer_home: Path
) -> None:
    import io
    import sys

    base = ["account", "add", "relay", "--provider", KIND, "--url", "http://127.0.0.1:9/"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("relay-key\n"))
    assert main([*base, "--agent", "+919876543210"]) == 2
    assert f"A {KIND} account needs --line-id (Relay line)" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("relay-key\n"))
    assert main([*base, "--line-id", "L7", "--agent", "+919876543210"]) == 0
    [account] = AccountStore(AppPaths.default().accounts_file).list()
    assert (account.provider, account.options) == (KIND, {"line_id": "L7"})
    monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))
    assert main([*base[:2], "other", *base[3:], "--line-id", "L", "--uid", "u"]) == 2
    assert (
        f"--uid is a click2call-v1 setting, but this is a {KIND} account: leave it out"
        in capsys.readouterr().err
    )


@pytest.mark.usefixtures("registered")
async def test_its_calls_are_tracked_to_their_outcome(
    relay: RingRelayServer, tmp_path: Path
) -> None:
    account = Account(
        name="relay",
        provider=KIND,
        url=relay.url,
        region="IN",
        agent="+91 98765 43210",
        options={"line_id": "L7"},
    )
    paths = AppPaths.under(tmp_path / "profile")
    paths.ensure()
    history = open_history(paths)
    service = CallService(
        StaticAccounts([account]), MemorySecretStore({account.secret_key: relay.key}), history
    )
    timings = dataclasses.replace(
        TrackingTimings(), first_poll=0.01, max_interval=0.05, confirm_delay=0.01
    )
    tracker = CallTracker(history, service, timings=timings)
    tracker.start()
    try:
        placed = await service.place_call("+91 88671 35000")
        assert relay.placed == [
            {"agent": "+919876543210", "customer": "+918867135000", "line": "L7"}
        ]
        done = await final_record(history, placed.id, timeout=30)
    finally:
        await tracker.aclose()
        await service.aclose()
        history.close()
    assert done.status is CallStatus.COMPLETED
    assert done.talk_seconds == relay.talk_seconds
    # Two reads agreeing on the ended state, after the ringing ones.
    assert relay.reads[placed.provider_ref or ""] >= relay.polls_until_ended + 2


@pytest.mark.gui
@pytest.mark.usefixtures("registered")
async def test_the_accounts_dialog_offers_it_with_its_settings(qtbot: object) -> None:
    from PySide6.QtWidgets import QWidget

    from dialer.app.profile import open_user_profile
    from dialer.ui.accounts_dialog import AccountForm, FieldError, account_from_fields

    profile = open_user_profile(AppPaths.default())
    parent = QWidget()
    try:
        form = AccountForm(profile, None, parent)
        form.show()
        index = form.provider_box.findData(KIND)
        assert index >= 0 and form.provider_box.itemText(index) == "Ring Relay"
        form.provider_box.setCurrentIndex(index)
        line = form.option_edits["line_id"]
        assert form.form.isRowVisible(line)
        assert form.secret_label.text() == "Relay key"
        assert not form.form.isRowVisible(form.option_edits["uid"])
        form.name_edit.setText("relay")
        form.url_edit.setText("https://relay.example/")
        fields = form.fields()
        with pytest.raises(FieldError, match="A Ring Relay account needs its Relay line"):
            account_from_fields(fields)
        line.setText("L7")
        assert account_from_fields(form.fields()).options == {"line_id": "L7"}
        form.close()
    finally:
        parent.deleteLater()
        await profile.aclose()
