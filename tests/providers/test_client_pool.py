"""The account's HTTP clients: one normally, several small pools under a burst."""

from __future__ import annotations

import httpx

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
