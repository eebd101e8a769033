"""Messaging v1 Services and their pools through the client, against httpx.MockTransport (no network at all)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from reconciler.client import Credentials, RetryPolicy, SendersClient
from reconciler.errors import ApiError
from reconciler.models import LivePools, Service
from reconciler.services import ServicePools, pool_path
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

FAST = RetryPolicy(attempts=3, backoff=0.001, max_backoff=0.01, timeout=5)
CREDS = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)
BASE = "https://messaging.test"
SALES, SUPPORT, OTHER = ("MG" + c * 32 for c in "abc")
XE1, XE2, XE3 = ("XE" + c * 32 for c in "123")

Handler = Callable[[httpx.Request], Any]


def run(handler: Handler, call: Callable[[ServicePools], Any], **kw: Any) -> tuple[Any, SendersClient]:
    async def go() -> tuple[Any, SendersClient]:
        async with SendersClient(CREDS, base_url=BASE, transport=httpx.MockTransport(handler), retry=FAST,
                                 **kw) as client:
            return await call(ServicePools(client, page_size=2)), client

    return asyncio.run(go())


def failure(handler: Handler, call: Callable[[ServicePools], Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        run(handler, call)
    return caught.value


def listing(key: str, rows: list[Any], next_url: str | None = None, **meta: Any) -> httpx.Response:
    return httpx.Response(200, json={key: rows, "meta": {"key": key, "next_page_url": next_url, **meta}})


class V1:
    """Services and pools served two rows a page, each page's next link as Twilio writes it (absolute)."""

    def __init__(self, services: list[dict[str, Any]], pools: dict[str, list[dict[str, Any]]]):
        self.services, self.pools = services, pools
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, page = request.url.path, int(request.url.params.get("Page", "0"))
        rows, key = (self.services, "services") if path == "/v1/Services" else (
            self.pools[path.split("/")[3]], "senders")
        more = len(rows) > 2 * (page + 1)
        return listing(key, rows[2 * page:2 * page + 2], f"{BASE}{path}?PageSize=2&Page={page + 1}" if more else None)


def channel_sender(sid: str | None, service: str = SALES) -> dict[str, Any]:
    return {"sid": sid, "messaging_service_sid": service, "sender": "whatsapp:+15017122661", "sender_type": "WhatsApp"}


def test_every_service_and_pool_is_read_page_by_page() -> None:
    v1 = V1([{"sid": SALES, "friendly_name": "Sales"}, {"sid": SUPPORT, "friendly_name": "Support"},
             {"sid": OTHER, "friendly_name": None}],
            {SALES: [channel_sender(XE1), channel_sender(XE2), channel_sender(None), channel_sender(XE3)],
             SUPPORT: [], OTHER: [channel_sender(XE2, OTHER)]})
    pools, _ = run(v1, lambda p: p.read())
    assert pools == LivePools.of([Service(SALES, "Sales"), Service(SUPPORT, "Support"), Service(OTHER)],
                                 {SALES: [XE1, XE2, XE3], OTHER: [XE2]})
    assert pools.services_of(XE2) == (SALES, OTHER)
    paths = sorted(f"{r.url.path}?{r.url.query.decode()}" for r in v1.requests)
    assert paths == sorted([
        "/v1/Services?PageSize=2", "/v1/Services?PageSize=2&Page=1",
        f"{pool_path(SALES)}?PageSize=2", f"{pool_path(SALES)}?PageSize=2&Page=1",
        f"{pool_path(SUPPORT)}?PageSize=2", f"{pool_path(OTHER)}?PageSize=2"])
    assert all(r.headers["Authorization"].startswith("Basic ") for r in v1.requests)


def test_the_pools_are_read_side_by_side() -> None:
    services = [{"sid": sid, "friendly_name": sid[-1]} for sid in (SALES, SUPPORT, OTHER)]
    arrived: list[str] = []
    all_in = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/Services":
            return listing("services", services)
        arrived.append(request.url.path)
        if len(arrived) == 3:
            all_in.set()
        await all_in.wait()  # answered only once the three pools are asked for at once
        return listing("senders", [])

    pools, client = run(handler, lambda p: p.read(), adaptive=False)
    assert len(pools.services) == 3 and len(arrived) == 3 and client.stats.retries == 0


def test_rows_are_read_where_meta_key_says() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/Services":
            return listing("services", [{"sid": SALES, "friendly_name": "Sales"}])
        return listing("channel_senders", [channel_sender(XE1)])

    pools, _ = run(handler, lambda p: p.read())
    assert pools.services_of(XE1) == (SALES,)


def test_add_sends_the_sender_sid_form_encoded() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=channel_sender(XE1))

    run(handler, lambda p: p.add(SALES, XE1))
    [request] = seen
    assert (request.method, request.url.path) == ("POST", f"/v1/Services/{SALES}/ChannelSenders")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"Sid": [XE1]}


def test_remove_deletes_the_row_of_the_pool() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    run(handler, lambda p: p.remove(SUPPORT, XE2))
    assert [(r.method, r.url.path) for r in seen] == [("DELETE", f"/v1/Services/{SUPPORT}/ChannelSenders/{XE2}")]


def test_sids_from_elsewhere_cannot_leave_the_pool_s_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(204)

    run(handler, lambda p: p.remove(SUPPORT, "../../Services/x"))
    assert seen == [f"/v1/Services/{SUPPORT}/ChannelSenders/..%2F..%2FServices%2Fx"]


@pytest.mark.parametrize(("status", "code"), [(409, 21712), (409, 21710), (404, 20404)])
def test_a_refusal_carries_twilio_s_code_and_is_no_lost_answer(status: int, code: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"code": code, "message": "no", "status": status})

    error = failure(handler, lambda p: p.add(SALES, XE1))
    assert (error.status, error.code, error.outcome_unknown) == (status, code, False)


def test_a_lost_answer_to_an_add_may_have_landed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"code": 20500, "message": "Internal Server Error"})

    error = failure(handler, lambda p: p.add(SALES, XE1))
    assert error.status == 500 and error.outcome_unknown


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (listing("services", [], "https://elsewhere.test/v1/Services?Page=1"),
         "next_page_url points away from https://messaging.test"),
        (listing("services", [], f"{BASE}/v1/Services?Page=1"), "an empty page that links to a next page"),
        (httpx.Response(200, json=[]), "the list response is a list, not an object"),
        (httpx.Response(200, json={"services": {}}), "has no 'services' array"),
        (httpx.Response(200, json={"services": [], "meta": "x"}), "has a 'meta' that is a string"),
        (httpx.Response(200, json={"services": [], "meta": {"next_page_url": 5}}), "meta.next_page_url that is a number"),
        (listing("services", [{"sid": "../x", "friendly_name": "Sales"}]),
         "a Messaging Service whose sid is not MG followed by 32 hex digits: ../x"),
        (listing("services", ["MG"]), "a Messaging Service that is a string, not an object"),
    ],
)
def test_a_list_that_cannot_be_trusted_is_an_error(answer: httpx.Response, words: str) -> None:
    error = failure(lambda request: answer, lambda p: p.services())
    assert words in str(error)


def test_a_list_that_loops_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return listing("services", [{"sid": SALES}], f"{BASE}/v1/Services?PageSize=2")

    assert "the same page twice" in str(failure(handler, lambda p: p.services()))


def test_a_list_without_end_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("Page", "0"))
        return listing("services", [{"sid": SALES}], f"{BASE}/v1/Services?Page={page + 1}")

    async def go() -> Any:
        async with SendersClient(CREDS, base_url=BASE, transport=httpx.MockTransport(handler), retry=FAST) as client:
            return await ServicePools(client, max_pages=5).services()

    with pytest.raises(ApiError, match="past 5 pages"):
        asyncio.run(go())


def test_one_pool_that_cannot_be_read_fails_the_read_and_stops_the_others() -> None:
    services = [{"sid": sid} for sid in (SALES, SUPPORT, OTHER)]
    cancelled: list[str] = []
    hold = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/Services":
            return listing("services", services)
        if SALES in request.url.path:
            return httpx.Response(403, json={"code": 20003, "message": "Authenticate"})
        try:
            await hold.wait()  # never set: only the failure ends these reads
        except asyncio.CancelledError:
            cancelled.append(request.url.path)
            raise
        return listing("senders", [])

    error = failure(handler, lambda p: p.read())
    assert (error.status, error.code) == (403, 20003)
    assert sorted(cancelled) == sorted([pool_path(SUPPORT), pool_path(OTHER)])


def test_the_secret_never_reaches_a_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=json.dumps({"code": 1, "message": f"bad {TEST_AUTH_TOKEN}"}))

    assert TEST_AUTH_TOKEN not in str(failure(handler, lambda p: p.add(SALES, XE1)))
