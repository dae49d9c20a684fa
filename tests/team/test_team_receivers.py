"""Receivers that scale out: several webhook receivers on one team database, each as the
team's receiver identity. A report delivered to two of them is stored once; a receiver
answers 200 only once the report is committed in PostgreSQL, so one killed with SIGKILL
under load loses nothing it acknowledged; every receiver prints the same URL."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dialer.core.accounts import AccountStore, StaticAccounts
from dialer.core.calls import CallStatus
from dialer.core.paths import AppPaths
from dialer.core.secrets import MemorySecretStore
from dialer.core.team import TeamMembership, TeamRole, save_membership
from dialer.history import postgres_admin as admin
from dialer.history.postgres_store import PostgresHistory
from dialer.webhooks.receiver import WebhookReceiver
from dialer.webhooks.settings import WebhookSettings, save_settings
from tests.history.test_sqlite_store import call
from tests.postgres import TeamDatabase
from tests.webhooks.conftest import PLACED_AT, c2c_account, callback
from tests.webhooks.file_keyring import FileKeyring
from tests.webhooks.test_kill import REPO, deliver_until_killed, environment, free_port

TOKEN = "team-path-token-for-the-receiver-tests"


@pytest.fixture
def team(team_database: TeamDatabase) -> TeamDatabase:
    admin.setup(team_database.admin_dsn)
    admin.add_person(team_database.admin_dsn, team_database.person("alice"), TeamRole.AGENT, "pw")
    admin.add_person(team_database.admin_dsn, team_database.person("rex"), TeamRole.RECEIVER, "pw")
    return team_database


@pytest.fixture
async def receivers(team: TeamDatabase) -> AsyncIterator[list[WebhookReceiver]]:
    """Two receivers, each on a store of its own, as on two machines."""
    started = []
    stores = []
    for _ in range(2):
        store = PostgresHistory(team.dsn(), user=team.person("rex"), role=TeamRole.RECEIVER)
        stores.append(store)
        receiver = WebhookReceiver(
            store,
            StaticAccounts([c2c_account("shop", "hook-shop")]),
            MemorySecretStore(),
            path_token=TOKEN,
            host="127.0.0.1",
            port=0,
        )
        await receiver.start()
        started.append(receiver)
    yield started
    for receiver in started:
        await receiver.stop()
    for store in stores:
        store.close()


def _url(receiver: WebhookReceiver) -> str:
    return f"http://127.0.0.1:{receiver.port_bound}/c2c/{TOKEN}"


async def test_a_report_delivered_to_two_receivers_is_stored_once(
    team: TeamDatabase, receivers: list[WebhookReceiver]
) -> None:
    alice = PostgresHistory(team.dsn(), user=team.person("alice"), role=TeamRole.AGENT)
    try:
        await alice.insert(call("c1", account="shop", status=CallStatus.ACCEPTED,
                                customer="+918867135000", agent="+919891952000",
                                created_at=PLACED_AT))  # fmt: skip
    finally:
        alice.close()
    body = callback(callId="c1")
    async with httpx.AsyncClient() as client:
        answers = await asyncio.gather(
            *(client.post(_url(receivers[n % 2]), json=body) for n in range(20))
        )
    assert {a.status_code for a in answers} == {200}
    with team.connect(team.admin) as conn:
        assert conn.execute("SELECT count(*) FROM dialer.reports").fetchone() == (1,)
        assert conn.execute("SELECT id, status, talk_seconds FROM dialer.calls").fetchall() == [
            ("c1", "completed", 16)
        ]


async def test_reports_spread_over_two_receivers_are_all_stored(
    team: TeamDatabase, receivers: list[WebhookReceiver]
) -> None:
    bodies = [callback(callId=f"r{n}", to=f"9188671{n:05d}") for n in range(200)]
    async with httpx.AsyncClient() as client:
        answers = await asyncio.gather(
            *(client.post(_url(receivers[n % 2]), json=b) for n, b in enumerate(bodies))
        )
    assert {a.status_code for a in answers} == {200}
    with team.connect(team.admin) as conn:
        refs = {r[0] for r in conn.execute("SELECT provider_ref FROM dialer.calls")}
        placed_by = {r[0] for r in conn.execute("SELECT placed_by FROM dialer.calls")}
    assert refs == {f"r{n}" for n in range(200)}
    assert placed_by == {None}  # calls placed outside the app name nobody


def _receiver_profile(home: Path, team: TeamDatabase, port: int) -> AppPaths:
    paths = AppPaths.under(home).ensure()
    AccountStore(paths.accounts_file).add(c2c_account("shop", "hook-shop"))
    save_membership(
        paths.config_dir,
        TeamMembership(dsn=team.dsn(), user=team.person("rex"), role=TeamRole.RECEIVER),
    )
    save_settings(paths, WebhookSettings(port=port, public_url="https://hooks.example.com"))
    return paths


def _url_of(env: dict[str, str]) -> str:
    printed = subprocess.run(
        [sys.executable, "-m", "dialer", "webhooks", "url"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    return printed.stdout.strip()


def test_every_receiver_of_the_team_prints_the_same_url_and_a_killed_one_loses_nothing(
    team: TeamDatabase, tmp_path: Path
) -> None:
    keyring_file = tmp_path / "keyring.json"
    FileKeyring(keyring_file).set_password("dialer", "placeholder", "x")
    port = free_port()
    homes = [tmp_path / "receiver-1", tmp_path / "receiver-2"]
    for home in homes:
        _receiver_profile(home, team, port)
    urls = {_url_of(environment(home, keyring_file)) for home in homes}
    assert len(urls) == 1
    (url,) = urls
    token = url.rsplit("/", 1)[1]
    with team.connect(team.admin) as conn:
        (stored_token,) = conn.execute(
            "SELECT value FROM dialer.receiver_secrets WHERE key = 'webhook_path'"
        ).fetchone()
    assert url == f"https://hooks.example.com/c2c/{stored_token}"

    env = environment(homes[0], keyring_file)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dialer", "webhooks", "serve"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    assert "listening on" in banner, banner + (proc.stderr.read() if proc.stderr else "")
    assert "team history" in proc.stdout.readline()
    local = f"http://127.0.0.1:{port}/c2c/{token}"
    try:
        outcomes = asyncio.run(deliver_until_killed(local, proc))
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    acknowledged = {call_id for call_id, status in outcomes.items() if status == 200}
    assert {status for status in outcomes.values()} <= {200, None}
    with team.connect(team.admin) as conn:
        refs = [r[0] for r in conn.execute("SELECT provider_ref FROM dialer.calls")]
        bodies = [json.loads(r[0]) for r in conn.execute("SELECT body FROM dialer.reports")]
    assert acknowledged <= set(refs)  # nothing answered 200 was lost
    assert set(refs) <= set(outcomes)
    assert len(refs) == len(set(refs)) == len(bodies)
    # The team's path token reached no file of the receiver's profile, its log included.
    for home in homes:
        for path in home.rglob("*"):
            if path.is_file():
                assert token.encode() not in path.read_bytes(), path
