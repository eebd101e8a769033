"""Unit tests of the HTTP client against httpx.MockTransport (no network at all)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from reconciler.client import Credentials, RetryPolicy, SendersClient, check_base_url
from reconciler.errors import ApiError, CredentialsError
from tests.factories import CREDS, TEST_ACCOUNT_SID, TEST_API_KEY, TEST_API_SECRET, TEST_AUTH_TOKEN
from tests.factories import api_sender as sender

FAST = RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.01, timeout=2)


def run(coro):
    return asyncio.run(coro)


async def _with(handler, fn, policy=FAST, **kw):
    async with SendersClient(CREDS, base_url="https://api.test", transport=httpx.MockTransport(handler), retry=policy, **kw) as api:
        return await fn(api), api


# --------------------------------------------------------------------------- credentials


def test_credentials_prefer_api_key_and_hide_secret():
    env = {"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
           "TWILIO_API_KEY": TEST_API_KEY, "TWILIO_API_SECRET": TEST_API_SECRET}
    creds = Credentials.from_env(env)
    assert creds.username == TEST_API_KEY and creds.secret == TEST_API_SECRET
    assert TEST_API_SECRET not in repr(creds) and TEST_API_SECRET not in str(creds)


def test_credentials_auth_token():
    creds = Credentials.from_env({"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN})
    assert (creds.username, creds.secret) == (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)


@pytest.mark.parametrize(
    "env, names",
    [
        ({}, ["TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"]),
        ({"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID}, ["TWILIO_AUTH_TOKEN"]),
        ({"TWILIO_API_KEY": TEST_API_KEY}, ["TWILIO_API_SECRET"]),
    ],
)
def test_missing_credentials_name_the_variables(env, names):
    with pytest.raises(CredentialsError) as err:
        Credentials.from_env(env)
    for name in names:
        assert name in str(err.value)


@pytest.mark.parametrize("url", ["http://messaging.twilio.com", "http://10.0.0.5:8080", "http://example.test"])
def test_plain_http_refused_off_loopback(url):
    with pytest.raises(CredentialsError, match="use https"):
        check_base_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80", "https://messaging.twilio.com"])
def test_loopback_or_https_allowed(url):
    assert check_base_url(url) == url.rstrip("/")


# --------------------------------------------------------------------------- list + paging


def test_list_follows_next_page_url_and_sends_auth_and_user_agent():
    pages = {0: [sender(i) for i in range(3)], 1: [sender(i) for i in range(3, 5)]}
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params.get("PageToken", "0"))
        nxt = f"https://api.test/v2/Channels/Senders?Channel=whatsapp&PageSize=1000&PageToken={page + 1}" if page == 0 else None
        return httpx.Response(200, json={"senders": pages[page], "meta": {"next_page_url": nxt, "key": "senders"}})

    result, api = run(_with(handler, lambda api: api.list_senders()))
    assert [s.sid for s in result] == [sender(i)["sid"] for i in range(5)]
    assert seen[0].url.params["Channel"] == "whatsapp" and seen[0].url.params["PageSize"] == "1000"
    assert seen[0].headers["User-Agent"].startswith("reconciler/")
    assert seen[0].headers["Authorization"].startswith("Basic ")
    assert api.stats.requests == 2


def test_list_refuses_a_looping_next_page_url():
    def handler(request):
        return httpx.Response(200, json={"senders": [], "meta": {"next_page_url": "https://api.test/v2/Channels/Senders?PageToken=x"}})

    with pytest.raises(ApiError, match="same page twice"):
        run(_with(handler, lambda api: api.list_senders()))


def test_unknown_status_is_kept_as_is():
    def handler(request):
        return httpx.Response(200, json={"senders": [dict(sender(1), status="ONLINE:PENDING_VERIFICATION")], "meta": {}})

    result, _ = run(_with(handler, lambda api: api.list_senders()))
    assert result[0].status == "ONLINE:PENDING_VERIFICATION"


# --------------------------------------------------------------------------- retries


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


def test_retries_429_without_retry_after_and_5xx_then_succeeds():
    handler, calls = _flaky(
        [httpx.Response(429, json={"code": 20429, "message": "Too Many Requests", "status": 429}),
         httpx.Response(503, text="unavailable"),
         httpx.ConnectError("refused")],
        httpx.Response(200, json=sender(7)),
    )
    result, api = run(_with(handler, lambda api: api.fetch("XE" + "0" * 32)))
    assert result.sid == sender(7)["sid"]
    assert calls["n"] == 4 and api.stats.retries == 3


def test_retry_after_header_is_honoured():
    handler, _ = _flaky([httpx.Response(429, headers={"Retry-After": "0.004"}, json={"code": 20429, "status": 429})],
                        httpx.Response(200, json=sender(1)))
    # A jittered backoff with this base would wait up to 10 s: only the header explains 0.004.
    policy = RetryPolicy(attempts=3, backoff=5, max_backoff=10, timeout=2)
    _, api = run(_with(handler, lambda api: api.fetch("XE" + "0" * 32), policy=policy))
    assert api.stats.retries == 1 and api.stats.waited == pytest.approx(0.004)


def test_retries_run_out_into_an_api_error_with_twilio_code():
    body = {"code": 20429, "message": "Too many requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}
    handler, calls = _flaky([], httpx.Response(429, json=body))
    with pytest.raises(ApiError) as err:
        run(_with(handler, lambda api: api.fetch("XE" + "1" * 32)))
    assert calls["n"] == FAST.attempts
    assert (err.value.status, err.value.code, err.value.more_info) == (429, 20429, body["more_info"])
    assert "Twilio 20429" in str(err.value)


def test_client_errors_are_not_retried():
    handler, calls = _flaky([], httpx.Response(400, json={"code": 63100, "message": "Invalid profile.vertical", "status": 400}))
    with pytest.raises(ApiError) as err:
        run(_with(handler, lambda api: api.update("XE" + "2" * 32, {"profile": {"vertical": "x"}})))
    assert calls["n"] == 1 and err.value.code == 63100 and "profile.vertical" in str(err.value)


def test_timeout_becomes_api_error():
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ApiError, match="timed out"):
        run(_with(handler, lambda api: api.delete("XE" + "3" * 32)))


def test_non_json_error_body_still_gives_status():
    handler, _ = _flaky([], httpx.Response(404, text="<html>nope</html>"))
    with pytest.raises(ApiError) as err:
        run(_with(handler, lambda api: api.fetch("XE" + "4" * 32)))
    assert err.value.status == 404 and err.value.code is None


def test_create_sends_json_body():
    got = {}

    def handler(request):
        got["body"] = json.loads(request.content)
        got["type"] = request.headers["Content-Type"]
        return httpx.Response(202, json=dict(sender(9), status="CREATING"))

    run(_with(handler, lambda api: api.create({"sender_id": "whatsapp:+15017122661", "profile": {"name": "Acme"}})))
    assert got["body"]["profile"]["name"] == "Acme" and got["type"] == "application/json"


def test_secrets_never_in_error_text():
    handler, _ = _flaky([], httpx.Response(401, json={"code": 20003, "message": "Authenticate", "status": 401}))
    with pytest.raises(ApiError) as err:
        run(_with(handler, lambda api: api.list_senders()))
    text = str(err.value) + repr(err.value)
    assert TEST_AUTH_TOKEN not in text and err.value.code == 20003
