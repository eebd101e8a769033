"""Connections kept between requests and between the clients of a run's accounts (httpx.MockTransport, no network)."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from reconciler.client import Credentials, RetryPolicy, SendersClient
from reconciler.connections import Connections

URL = "https://api.test"
POLICY = RetryPolicy(attempts=1, timeout=5)
A = Credentials("AC" + "a" * 32, "token-of-a", "AC" + "a" * 32)
B = Credentials("AC" + "b" * 32, "token-of-b", "AC" + "b" * 32)


def page(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"senders": [], "meta": {"next_page_url": None}},
                          headers={"Set-Cookie": f"lb={request.headers['Authorization'][-6:]}; Path=/"})


def basic(credentials: Credentials) -> str:
    return "Basic " + base64.b64encode(f"{credentials.username}:{credentials.secret}".encode()).decode()


def test_two_accounts_share_connections_each_request_carrying_its_own_credentials_and_no_cookie() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return page(request)

    async def go() -> int:
        pool = Connections(URL, timeout=POLICY.timeout, transport=httpx.MockTransport(handler))
        for credentials in (A, B, A):
            async with SendersClient(credentials, base_url=URL, retry=POLICY, transport=pool.transport,
                                     connections=pool) as api:
                await api.list_senders()
        opened = pool.opened
        await pool.aclose()
        return opened

    assert asyncio.run(go()) == 1  # one connection served all three clients
    assert [r.headers["Authorization"] for r in seen] == [basic(A), basic(B), basic(A)]
    assert all("cookie" not in r.headers for r in seen)


def test_a_client_s_own_connections_close_with_it_and_shared_ones_with_their_pool() -> None:
    async def go() -> tuple[bool, bool]:
        pool = Connections(URL, timeout=POLICY.timeout, transport=httpx.MockTransport(page))
        async with SendersClient(A, base_url=URL, retry=POLICY, transport=pool.transport, connections=pool) as api:
            await api.list_senders()
        connection = pool.take()  # the one the client gave back
        still_open = pool.opened == 1 and not connection.is_closed
        await pool.aclose()
        return still_open, connection.is_closed

    assert asyncio.run(go()) == (True, True)


def test_a_connection_whose_request_failed_midway_is_dropped() -> None:
    async def go() -> tuple[bool, bool, int]:
        pool = Connections(URL, timeout=POLICY.timeout, transport=httpx.MockTransport(page))
        connection = pool.take()
        await pool.drop(connection)
        pool.give(connection)  # given back after being dropped: not kept
        taken = pool.take()
        await pool.aclose()
        return connection.is_closed, taken is connection, pool.opened

    assert asyncio.run(go()) == (True, False, 0)


def test_connections_elsewhere_are_refused() -> None:
    pool = Connections(URL, timeout=POLICY.timeout)
    with pytest.raises(ValueError, match="lead elsewhere"):
        SendersClient(A, base_url="https://other.test", retry=POLICY, connections=pool)
    with pytest.raises(ValueError, match="lead elsewhere"):
        SendersClient(A, base_url=URL, retry=RetryPolicy(timeout=1), connections=pool)
