"""SendersClient.read_pages and senders_from_pages: the same senders as list_senders, one request per page.

The CLI reads pages as bytes while it loads the desired state, and decodes them afterwards.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from reconciler.client import Credentials, RetryPolicy, SendersClient, senders_from_pages
from reconciler.errors import ApiError
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

FAST = RetryPolicy(attempts=2, backoff=0.001, max_backoff=0.01, timeout=2)


def sender(i: int) -> dict:
    return {"sid": f"XE{i:032x}", "sender_id": f"whatsapp:+1501712{i:04d}", "status": "ONLINE", "profile": {"name": f"S{i}"}}


def page(*items: object) -> bytes:
    return json.dumps({"senders": list(items), "meta": {}}).encode()


def _client(handler) -> SendersClient:
    creds = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)
    return SendersClient(creds, base_url="https://api.test", transport=httpx.MockTransport(handler), retry=FAST)


def _two_pages(request: httpx.Request) -> httpx.Response:
    n = int(request.url.params.get("PageToken", "0"))
    nxt = "https://api.test/v2/Channels/Senders?Channel=whatsapp&PageSize=2&PageToken=1" if n == 0 else None
    return httpx.Response(200, json={"senders": [sender(2 * n), sender(2 * n + 1)], "meta": {"next_page_url": nxt}})


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


@pytest.mark.parametrize(("bad", "expected"), [
    pytest.param(dict(sender(5), webhook=["x"]),
                 "sender whatsapp:+15017120005: the API returned a sender this tool cannot read: webhook: "
                 "Input should be a valid dictionary", id="by-sender-id"),
    pytest.param({"sid": "XE" + "5" * 32, "sender_id": 5, "profile": {}},
                 f"the API returned a sender this tool cannot read (sid XE{'5' * 32}): sender_id: Input should be a valid "
                 "string", id="by-sid"),
    pytest.param({"sid": 5, "sender_id": 6},
                 "the API returned a sender this tool cannot read (senders[1] on page 2): sid: Input should be a valid string; "
                 "sender_id: Input should be a valid string", id="by-place"),
    pytest.param("whatsapp:+15017120005", "(senders[1] on page 2): it is a string, not an object", id="not-an-object"),
    pytest.param(dict(sender(5), sender_id="whatsapp:+1\n\x1b[31m", status=3),
                 "sender whatsapp:+1\\n\\x1b[31m: the API returned a sender this tool cannot read: status: "
                 "Input should be a valid string", id="escaped"),
])
def test_a_malformed_sender_is_one_line_naming_the_sender_and_the_field(bad, expected):
    with pytest.raises(ApiError) as caught:
        senders_from_pages([page(sender(1)), page(sender(2), bad)])
    assert str(caught.value).endswith(expected) and str(caught.value).isprintable(), str(caught.value)


def test_a_sender_without_sender_id_or_sid_is_read_and_cannot_be_matched():
    """The spec lets both be null; such a sender is read (the plan reports it and leaves it alone)."""
    got = senders_from_pages([page(sender(1), {"sid": "XE" + "5" * 32, "profile": None}, {"sid": None, "sender_id": None})])
    assert [(s.sid, s.sender_id, s.matchable) for s in got[1:]] == [("XE" + "5" * 32, "", False), ("", "", False)]


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"senders": "x"}', b"{}"])
def test_a_page_that_is_no_list_response_is_an_api_error(raw):
    with pytest.raises(ApiError, match="page 2 of the list"):
        senders_from_pages([page(sender(1)), raw])
