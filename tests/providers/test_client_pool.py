"""The account's HTTP clients: one normally, several small pools under a burst."""

from __future__ import annotations

import httpx
import pytest

from dialer.providers.base import ClientPool


async def test_one_client_until_it_is_busy_then_more() -> None:
    made: list[httpx.AsyncClient] = []

    def factory() -> httpx.AsyncClient:
        made.append(httpx.AsyncClient())
        return made[-1]

    pool = ClientPool(factory, per_client=2, max_clients=3)
    with pool.lease() as first:
        pass
    with pool.lease() as again:
        assert again is first  # idle: reused
    with pool.lease() as a, pool.lease() as b, pool.lease() as c:
        assert a is b is first
        assert c is not first  # the first holds its two
        with pool.lease() as d, pool.lease() as e, pool.lease() as f, pool.lease() as g:
            assert len(made) == 3  # capped: the least busy is shared beyond per_client
            assert {id(x) for x in (d, e, f, g)} <= {id(m) for m in made}
    await pool.aclose()
    assert all(client.is_closed for client in made)


async def test_every_client_shares_the_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a context loads the OS's certificates (5-20 ms): a burst that leases new
    clients must not build one each on the window's loop."""
    import truststore

    from dialer.app.demo import DEMO_AGENT
    from dialer.core.accounts import Account, ProviderKind
    from dialer.providers import base

    built: list[object] = []
    real = truststore.SSLContext

    def counted(*args: object) -> object:
        built.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(truststore, "SSLContext", counted)
    base._ssl_context.cache_clear()
    account = Account(
        name="a", provider=ProviderKind.C2C_V2, url="https://c2c.invalid/api/v2/", agent=DEMO_AGENT
    )
    clients = [base.make_client(account) for _ in range(3)]
    assert len(built) == 1
    for client in clients:
        await client.aclose()
    base._ssl_context.cache_clear()  # the next user builds a real one
