"""SendersClient.read_pages and senders_from_pages: the same senders as list_senders, one request per page.

The CLI reads pages as bytes while it loads the desired state, and decodes them afterwards.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from reconciler.client import RetryPolicy, SendersClient, senders_from_pages
from reconciler.errors import ApiError
from tests.factories import CREDS
from tests.factories import api_sender as sender

FAST = RetryPolicy(attempts=2, backoff=0.001, max_backoff=0.01, timeout=2)


def _client(handler) -> SendersClient:
    return SendersClient(CREDS, base_url="https://api.test", transport=httpx.MockTransport(handler), retry=FAST)


def _two_pages(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params.get("PageToken", "0"))
    nxt = "https://api.test/v2/Channels/Senders?Channel=whatsapp&PageSize=2&PageToken=1" if page == 0 else None
    return httpx.Response(200, json={"senders": [sender(2 * page), sender(2 * page + 1)], "meta": {"next_page_url": nxt}})


def test_pages_decode_to_the_senders_list_senders_returns():
    async def go():
        async with _client(_two_pages) as api:
            pages = await api.read_pages()
            requests = api.stats.requests
            return pages, requests, await api.list_senders()

    pages, requests, listed = asyncio.run(go())
    assert requests == 2 and all(isinstance(p, bytes) for p in pages)
    assert senders_from_pages(pages) == listed
    assert [s.sender_id for s in listed] == [sender(i)["sender_id"] for i in range(4)]


def test_a_page_without_senders_is_an_api_error():
    async def go():
        async with _client(lambda request: httpx.Response(200, json={"meta": {}})) as api:
            return await api.read_pages()

    with pytest.raises(ApiError, match="no 'senders' array"):
        asyncio.run(go())


def test_a_sender_that_cannot_be_read_is_an_api_error():
    with pytest.raises(ApiError, match="cannot read"):
        senders_from_pages([b'{"senders": [{"sid": 1}]}'])
