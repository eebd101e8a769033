"""Unit tests of the HTTP client against httpx.MockTransport (no network at all)."""

from __future__ import annotations

import asyncio
import json
import logging
import math

import httpx
import pytest

from reconciler.client import MAX_PAGES, Credentials, RetryPolicy, SendersClient
from reconciler.errors import ApiError
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

FAST = RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.01, timeout=2)
CREDS = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)
SID = "XE" + "0" * 32
NEW = {"sender_id": "whatsapp:+15017122661", "profile": {"name": "Acme"}}


def sender(i: int) -> dict:
    return {"sid": f"XE{i:032x}", "sender_id": f"whatsapp:+1501712{i:04d}", "status": "ONLINE", "profile": {"name": f"S{i}"}}


def run(coro):
    return asyncio.run(coro)


async def _with(handler, fn, policy=FAST, **kw):
    transport = httpx.MockTransport(handler)
    async with SendersClient(CREDS, base_url="https://api.test", transport=transport, retry=policy, **kw) as api:
        return await fn(api), api


def _failure(handler, fn, policy=FAST, **kw) -> ApiError:
    with pytest.raises(ApiError) as caught:
        run(_with(handler, fn, policy, **kw))
    return caught.value


def _flaky(failures: list[httpx.Response | Exception], final: httpx.Response):
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        if failures:
            item = failures.pop(0)
            if isinstance(item, Exception):
                raise item
            return item
        return final

    return handler, calls


def _pages(next_url, items=lambda n: [sender(n)], **meta):
    """A handler answering page n (``PageToken=n``, 0 first) with ``items(n)`` and a link to ``next_url(n)``."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        n = int(request.url.params.get("PageToken", "0"))
        return httpx.Response(200, json={"senders": items(n), "meta": {"next_page_url": next_url(n), **meta}})

    return handler, seen


def _link(n: int) -> str:
    return f"https://api.test/v2/Channels/Senders?PageToken={n + 1}"


# --------------------------------------------------------------------------- list + paging


def test_list_follows_next_page_url_and_sends_auth_and_user_agent():
    handler, seen = _pages(lambda n: _link(n) if n == 0 else None, lambda n: [sender(i) for i in range(3 * n, 3 * n + 3)])
    result, api = run(_with(handler, lambda api: api.list_senders()))
    assert [s.sid for s in result] == [sender(i)["sid"] for i in range(6)]
    assert seen[0].url.params["Channel"] == "whatsapp" and seen[0].url.params["PageSize"] == "1000"
    assert seen[0].headers["User-Agent"].startswith("whatsapp-senders-reconciler/")
    assert seen[0].headers["Authorization"].startswith("Basic ")
    assert api.stats.requests == 2


def test_list_refuses_a_looping_next_page_url():
    handler, seen = _pages(lambda n: "https://api.test/v2/Channels/Senders?PageToken=1")
    err = _failure(handler, lambda api: api.list_senders())
    assert "same page twice" in str(err) and "PageToken=1" in str(err) and len(seen) == 2


def test_an_empty_page_that_links_to_another_is_refused():
    handler, seen = _pages(_link, lambda n: [])
    err = _failure(handler, lambda api: api.list_senders())
    assert "empty page that links to a next page" in str(err) and len(seen) == 1


def test_an_empty_last_page_is_fine():
    handler, _ = _pages(lambda n: None, lambda n: [])
    assert run(_with(handler, lambda api: api.list_senders()))[0] == []


def test_without_a_count_the_list_stops_at_the_hard_cap():
    handler, seen = _pages(_link)
    err = _failure(handler, lambda api: api.read_pages(), max_pages=3)
    assert "past 3 pages, the most this client reads" in str(err) and len(seen) == 3
    assert "PageToken=3" in str(err)  # the link it did not follow
    assert MAX_PAGES == 10_000


@pytest.mark.parametrize(("total", "size", "allowed"), [(2, 1, 4), (5, 2, 5), (0, 1000, 2), (2500, None, 5)])
def test_with_a_count_the_list_stops_past_the_pages_it_fills(total, size, allowed):
    meta = {"total": total} if size is None else {"total": total, "page_size": size}
    handler, seen = _pages(_link, **meta)
    err = _failure(handler, lambda api: api.list_senders())
    expected = math.ceil(total / (size or 1000)) + 2
    assert expected == allowed and len(seen) == allowed, str(err)
    assert f"past {allowed} pages, which {total} senders" in str(err)


def test_a_list_within_its_count_is_read_to_the_end():
    handler, seen = _pages(lambda n: _link(n) if n < 2 else None, total=3, page_size=1)
    result, _ = run(_with(handler, lambda api: api.list_senders()))
    assert len(result) == 3 == len(seen)


@pytest.mark.parametrize("total", [True, "3", -1, 1.5])
def test_a_count_that_is_no_count_leaves_the_hard_cap(total):
    handler, seen = _pages(_link, total=total, page_size=1)
    err = _failure(handler, lambda api: api.list_senders(), max_pages=5)
    assert "the most this client reads" in str(err) and len(seen) == 5


@pytest.mark.parametrize(("body", "expected"), [
    ({"senders": [], "meta": "x"}, "'meta' that is a string"),
    ({"senders": [], "meta": [1]}, "'meta' that is a list"),
    ({"senders": [], "meta": {"next_page_url": 7}}, "next_page_url that is a number"),
    ({"senders": [], "meta": {"next_page_url": ["u"]}}, "next_page_url that is a list"),
    ({"senders": [], "meta": {"next_page_url": True}}, "next_page_url that is true"),
    ({"senders": {}}, "no 'senders' array"),
    ("senders", "the list response is a string, not an object"),
    ({"senders": [1]}, "(senders[0] on page 1): it is a number, not an object"),
])
def test_a_mistyped_list_is_one_api_error(body, expected):
    err = _failure(lambda request: httpx.Response(200, json=body), lambda api: api.list_senders())
    assert expected in str(err) and "\n" not in str(err)


def test_a_malformed_live_sender_is_one_line_naming_it_and_the_fields():
    bad = dict(sender(2), profile="Acme", offline_reasons={"x": 1})
    handler, _ = _pages(lambda n: None, lambda n: [sender(1), bad])
    err = _failure(handler, lambda api: api.list_senders())
    assert str(err) == ("sender whatsapp:+15017120002: the API returned a sender this tool cannot read: "
                        "profile: Input should be a valid dictionary; offline_reasons: Input should be a valid list")
    assert err.sender_id == "whatsapp:+15017120002"


def test_a_response_in_the_shape_of_a_production_one_is_read_whole():
    """Empty sections, string codes, unknown fields and statuses, and the nulls the spec allows pass through."""
    production = {
        "sid": "XE" + "a" * 32, "status": "ONLINE:PENDING_VERIFICATION", "sender_id": "whatsapp:+15017122661",
        "configuration": {"waba_id": "12345678912345"}, "webhook": {}, "properties": {},
        "profile": {"name": "Acme", "vertical": "Other"},
        "offline_reasons": [{"code": "410", "message": "Number deregistered"}, None,
                            {"code": "63051", "message": "Meta invitation not accepted", "more_info": None}],
        "compliance": None, "unknown_top_level": {"x": 1}, "url": "https://api.test/v2/Channels/Senders/XE",
    }
    others = [dict(sender(2), profile=None, webhook=None, configuration=None), dict(sender(3), sender_id=None),
              dict(sender(4), sid=None)]
    handler, _ = _pages(lambda n: None, lambda n: [production, *others])
    got, _ = run(_with(handler, lambda api: api.list_senders()))
    assert [s.status for s in got][:1] == ["ONLINE:PENDING_VERIFICATION"]
    assert [r["code"] for r in got[0].offline_reasons or []] == ["410", "63051"]
    assert got[0].webhook == {} and got[0].properties == {} and got[0].model_extra == {
        "compliance": None, "unknown_top_level": {"x": 1}}
    assert got[1].profile is None and [s.matchable for s in got] == [True, True, False, False]


def test_unknown_status_is_kept_as_is():
    def handler(request):
        return httpx.Response(200, json={"senders": [dict(sender(1), status="ONLINE:PENDING_VERIFICATION")], "meta": {}})

    result, _ = run(_with(handler, lambda api: api.list_senders()))
    assert result[0].status == "ONLINE:PENDING_VERIFICATION"


def test_fetch_of_something_that_is_no_sender_is_an_api_error():
    err = _failure(lambda request: httpx.Response(200, json=["ok"]), lambda api: api.fetch(SID))
    assert "it is a list, not an object" in str(err) and not err.outcome_unknown


# --------------------------------------------------------------------------- retries


def test_retries_429_without_retry_after_and_5xx_then_succeeds():
    handler, calls = _flaky(
        [httpx.Response(429, json={"code": 20429, "message": "Too Many Requests", "status": 429}),
         httpx.Response(503, text="unavailable"),
         httpx.ConnectError("refused")],
        httpx.Response(200, json=sender(7)),
    )
    result, api = run(_with(handler, lambda api: api.fetch(SID)))
    assert result.sid == sender(7)["sid"]
    assert calls["n"] == 4 and api.stats.retries == 3


def test_retry_after_header_is_honoured():
    handler, _ = _flaky([httpx.Response(429, headers={"Retry-After": "0.004"}, json={"code": 20429, "status": 429})],
                        httpx.Response(200, json=sender(1)))
    # A jittered backoff with this base would wait up to 10 s: only the header explains 0.004.
    policy = RetryPolicy(attempts=3, backoff=5, max_backoff=10, timeout=2)
    _, api = run(_with(handler, lambda api: api.fetch(SID), policy=policy))
    assert api.stats.retries == 1 and api.stats.waited == pytest.approx(0.004)


@pytest.mark.parametrize("value", ["nan", "-5", "Wed, 21 Oct 2015 07:28:00 GMT", "inf"])
def test_a_retry_after_that_is_no_number_of_seconds_is_not_followed(value):
    handler, _ = _flaky([httpx.Response(429, headers={"Retry-After": value}, json={"code": 20429, "status": 429})],
                        httpx.Response(200, json=sender(1)))
    _, api = run(_with(handler, lambda api: api.fetch(SID)))
    assert api.stats.retries == 1 and 0 <= api.stats.waited <= FAST.max_backoff


def test_retries_run_out_into_an_api_error_with_twilio_code():
    body = {"code": 20429, "message": "Too many requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}
    handler, calls = _flaky([], httpx.Response(429, json=body))
    err = _failure(handler, lambda api: api.fetch("XE" + "1" * 32))
    assert calls["n"] == FAST.attempts
    assert (err.status, err.code, err.more_info) == (429, 20429, body["more_info"])
    assert "Twilio 20429" in str(err)


def test_client_errors_are_not_retried():
    handler, calls = _flaky([], httpx.Response(400, json={"code": 63100, "message": "Invalid profile.vertical", "status": 400}))
    err = _failure(handler, lambda api: api.update("XE" + "2" * 32, {"profile": {"vertical": "x"}}))
    assert calls["n"] == 1 and err.code == 63100 and "profile.vertical" in str(err)


def test_non_json_error_body_still_gives_status():
    handler, _ = _flaky([], httpx.Response(404, text="<html>nope</html>"))
    err = _failure(handler, lambda api: api.fetch("XE" + "4" * 32))
    assert err.status == 404 and err.code is None


@pytest.mark.parametrize(("response", "expected"), [
    (httpx.Response(200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"}),
     "unreadable answer: DecodingError"),
    (httpx.Response(200, content=b"[" * 100_000), "a body that is not JSON"),
    (httpx.Response(200, content=b"\xff\xfe{}"), "a body that is not JSON"),
    (httpx.Response(200, text="<html>ok</html>"), "a body that is not JSON"),
    (httpx.Response(200), "the API answered with an empty body"),
    (httpx.Response(204), "the API answered with an empty body"),
])
def test_an_unreadable_answer_is_one_api_error_and_not_retried(response, expected):
    handler, calls = _flaky([], response)
    err = _failure(handler, lambda api: api.list_senders())
    assert expected in str(err) and calls["n"] == 1


def test_a_next_page_url_httpx_refuses_is_an_api_error_and_nothing_is_sent():
    handler, seen = _pages(lambda n: "https://api.test/v2/Channels/Senders?PageToken=\x1b[2J" if n == 0 else None)
    err = _failure(handler, lambda api: api.list_senders())
    assert "the URL cannot be requested" in str(err) and "PageToken=\\x1b[2J" in str(err)
    assert len(seen) == 1


def test_create_sends_json_body_and_returns_the_sender():
    got = {}

    def handler(request):
        got["body"] = json.loads(request.content)
        got["type"] = request.headers["Content-Type"]
        return httpx.Response(202, json=dict(sender(9), status="CREATING"))

    created, _ = run(_with(handler, lambda api: api.create(NEW)))
    assert got["body"]["profile"]["name"] == "Acme" and got["type"] == "application/json"
    assert created["sid"] == sender(9)["sid"]


@pytest.mark.parametrize("response", [httpx.Response(204), httpx.Response(200), httpx.Response(200, text="gone")])
def test_delete_takes_any_2xx_whatever_its_body(response):
    assert run(_with(lambda request: response, lambda api: api.delete(SID)))[0] is None


# --------------------------------------------------------------------------- a deadline per attempt


class _Endless(httpx.AsyncByteStream):
    """A body that starts and never ends: each chunk would come in time, the last never does."""

    async def __aiter__(self):
        yield b'{"senders": ['
        await asyncio.Event().wait()


@pytest.mark.parametrize("stall", ["headers", "body"])
def test_each_attempt_has_a_deadline_however_the_answer_stalls(stall):
    calls = {"n": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if stall == "headers":
            await asyncio.Event().wait()
        return httpx.Response(200, stream=_Endless())

    policy = RetryPolicy(attempts=3, backoff=0, timeout=0.05)
    err = _failure(handler, lambda api: api.list_senders(), policy=policy)
    assert "timed out: no complete answer within 0.05s" in str(err) and calls["n"] == 3


def test_a_connection_that_timed_out_is_not_reused():
    answers = iter(["stall", "ok"])
    opened = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if next(answers) == "stall":
            await asyncio.Event().wait()
        return httpx.Response(200, json=sender(1))

    async def go(api: SendersClient):
        real_open = api._open
        api._open = lambda: opened.append(1) or real_open()  # type: ignore[method-assign]
        return await api.fetch(SID)

    result, _ = run(_with(handler, go, policy=RetryPolicy(attempts=2, backoff=0, timeout=0.05), concurrency=1))
    assert result.sid == sender(1)["sid"] and len(opened) == 2


# --------------------------------------------------------------------------- outcome of writes


def _stalled(request):
    raise httpx.ReadTimeout("slow", request=request)


WRITES = {
    "create": lambda api: api.create(NEW),
    "update": lambda api: api.update(SID, {"profile": {"about": "x"}}),
    "delete": lambda api: api.delete(SID),
}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize(("failure", "unknown"), [
    pytest.param(_stalled, True, id="read-timeout"),
    pytest.param(httpx.RemoteProtocolError("Server disconnected"), True, id="dropped"),
    pytest.param(httpx.ReadError("reset"), True, id="reset"),
    pytest.param(httpx.Response(500, json={"code": 20500, "message": "Internal", "status": 500}), True, id="500"),
    pytest.param(httpx.Response(503, text="busy"), True, id="503"),
    pytest.param(httpx.Response(302, headers={"Location": "https://elsewhere.test/"}), True, id="302"),
    pytest.param(httpx.ConnectError("refused"), False, id="not-connected"),
    pytest.param(httpx.ConnectTimeout("no route"), False, id="connect-timeout"),
    pytest.param(httpx.Response(429, json={"code": 20429, "message": "Too Many Requests", "status": 429}), False, id="429"),
    pytest.param(httpx.Response(400, json={"code": 63100, "message": "Invalid", "status": 400}), False, id="400"),
    pytest.param(httpx.Response(404, json={"code": 20404, "message": "Not found", "status": 404}), False, id="404"),
])
def test_a_write_that_may_have_been_applied_says_so(write, failure, unknown):
    def handler(request):
        if callable(failure):
            return failure(request)
        if isinstance(failure, Exception):
            raise failure
        return failure

    err = _failure(handler, WRITES[write], policy=RetryPolicy(attempts=2, backoff=0, timeout=2))
    assert err.outcome_unknown is unknown, err
    assert err.with_context(sender_id="whatsapp:+15017122661").outcome_unknown is unknown


@pytest.mark.parametrize("failure", [_stalled, httpx.ConnectError("refused")])
def test_a_read_has_no_outcome_to_be_unknown(failure):
    def handler(request):
        if callable(failure):
            return failure(request)
        raise failure

    assert _failure(handler, lambda api: api.list_senders()).outcome_unknown is False


@pytest.mark.parametrize("write", ["create", "update"])
@pytest.mark.parametrize(("response", "expected"), [
    pytest.param(httpx.Response(200, json=["ok"]), "answered with a list, not a sender", id="list"),
    pytest.param(httpx.Response(200, json="ok"), "answered with a string, not a sender", id="string"),
    pytest.param(httpx.Response(200, content=b"null"), "answered with null, not a sender", id="null"),
    pytest.param(httpx.Response(202, json=7), "answered with a number, not a sender", id="number"),
    pytest.param(httpx.Response(202), "answered with an empty body", id="empty"),
    pytest.param(httpx.Response(204), "answered with an empty body", id="204"),
    pytest.param(httpx.Response(200, text="<html>OK</html>"), "a body that is not JSON", id="html"),
])
def test_a_write_answered_2xx_with_no_sender_is_an_api_error_of_unknown_outcome(write, response, expected):
    handler, calls = _flaky([], response)
    err = _failure(handler, WRITES[write])
    assert expected in str(err) and "may have been applied" in str(err)
    assert err.outcome_unknown and err.status == response.status_code and calls["n"] == 1


def test_a_refusal_after_an_attempt_that_may_have_been_applied_stays_unknown():
    """The first create timed out but was committed; its retry meets the sender it made (409)."""
    handler, calls = _flaky([httpx.ReadTimeout("slow")],
                            httpx.Response(409, json={"code": 63032, "message": "Sender already exists", "status": 409}))
    err = _failure(handler, WRITES["create"])
    assert calls["n"] == 2 and err.status == 409 and err.outcome_unknown


def test_a_refusal_after_a_connection_that_never_opened_is_definite():
    handler, _ = _flaky([httpx.ConnectError("refused")], httpx.Response(400, json={"code": 63100, "status": 400}))
    assert _failure(handler, WRITES["create"]).outcome_unknown is False



@pytest.mark.parametrize(("failures", "final", "later"), [
    pytest.param([], httpx.ReadTimeout("slow"), True, id="read-timeout"),
    pytest.param([httpx.ReadTimeout("slow")], httpx.Response(409, json={"code": 63032, "status": 409}), True,
                 id="refused-after-a-timeout"),
    pytest.param([], httpx.ConnectTimeout("no route"), False, id="never-sent"),
    pytest.param([], httpx.Response(500, json={"code": 20500, "status": 500}), False, id="answered-500"),
])
def test_only_a_write_that_timed_out_may_land_later(failures, final, later):
    """The server may still be working on a write it received and did not answer in time: apply reads the list
    before it says such a write was not applied, and never trusts that read alone."""
    def handler(request):
        if failures:
            raise failures.pop(0)
        if isinstance(final, Exception):
            raise final
        return final

    err = _failure(handler, WRITES["create"], policy=RetryPolicy(attempts=2, backoff=0, timeout=2))
    assert err.may_land_later is later, err


def test_a_transport_failure_says_how_often_it_was_tried_and_a_refusal_does_not():
    def refused(request):
        raise httpx.ConnectError("refused")

    err = _failure(refused, lambda api: api.list_senders(), policy=RetryPolicy(attempts=3, backoff=0, timeout=2))
    assert err.message.endswith("(after 3 attempts)") and str(err).count("after 3 attempts") == 1
    handler, calls = _flaky([httpx.Response(503)], httpx.Response(404, json={"code": 20404, "message": "gone"}))
    err = _failure(handler, lambda api: api.fetch(SID))
    assert calls["n"] == 2 and err.message == "gone"


def test_what_the_client_raises_is_a_finished_api_error():
    """The client's own retry marker stays inside it, and the error it raises cannot be edited by a caller."""
    handler, _ = _flaky([], httpx.Response(503, headers={"Retry-After": "0"}))
    err = _failure(handler, lambda api: api.list_senders(), policy=RetryPolicy(attempts=2, backoff=0, timeout=2))
    assert type(err) is ApiError and err.status == 503
    with pytest.raises(AttributeError):
        err.sender_id = "whatsapp:+15017122661"  # type: ignore[misc]

# --------------------------------------------------------------------------- the API's words, escaped


HOSTILE = "line one\nline two\r\x1b[2J\x1b]0;title\x07\u202eevil\x9b"


def test_twilio_s_message_and_more_info_are_escaped_to_one_line():
    body = {"code": 20001, "message": HOSTILE, "more_info": "https://x.test/\n\x1b[1m", "status": 400}
    err = _failure(lambda request: httpx.Response(400, json=body), lambda api: api.fetch(SID))
    assert err.message == "line one\\nline two\\r\\x1b[2J\\x1b]0;title\\x07\\u202eevil\\x9b"
    assert err.more_info == "https://x.test/\\n\\x1b[1m"
    assert str(err).isprintable()


def test_a_huge_message_is_clipped():
    body = {"code": 20001, "message": "x" * 100_000, "status": 400}
    err = _failure(lambda request: httpx.Response(400, json=body), lambda api: api.fetch(SID))
    assert len(err.message) == 300 and err.message.endswith("…")


def test_verbose_log_lines_escape_what_the_api_sent(caplog):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        next_url = None if seen[1:] else "/v2/Channels/Senders?PageToken=1\u202e\x9b"
        return httpx.Response(200, json={"senders": [sender(len(seen))], "meta": {"next_page_url": next_url}})

    with caplog.at_level(logging.DEBUG, logger="reconciler.http"):
        run(_with(handler, lambda api: api.list_senders()))
    lines = [r.getMessage() for r in caplog.records if r.name == "reconciler.http"]
    assert lines[1] == "GET /v2/Channels/Senders?PageToken=1\\u202e\\x9b -> 200", lines
    assert all(line.isprintable() for line in lines) and len(seen) == 2


def test_the_retry_log_line_is_escaped(caplog):
    handler, _ = _flaky([httpx.Response(503, json={"code": 20500, "message": HOSTILE, "status": 503})],
                        httpx.Response(200, json=sender(1)))
    with caplog.at_level(logging.DEBUG, logger="reconciler.http"):
        run(_with(handler, lambda api: api.fetch(SID)))
    retried = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying after:")]
    assert len(retried) == 1 and "line one\\nline two" in retried[0] and retried[0].isprintable()


def test_secrets_never_in_error_text():
    handler, _ = _flaky([], httpx.Response(401, json={"code": 20003, "message": "Authenticate", "status": 401}))
    err = _failure(handler, lambda api: api.list_senders())
    text = str(err) + repr(err)
    assert TEST_AUTH_TOKEN not in text and err.code == 20003
