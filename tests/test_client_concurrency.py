"""The client's adaptive concurrency, against a MockTransport whose answers the test hands out one by one."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler.client import ADAPTIVE_ENV, STATS_FILE_ENV, Credentials, RetryPolicy, SendersClient
from reconciler.errors import ReconcilerError
from reconciler.limiter import INITIAL_LIMIT
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

FAST = RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.01, timeout=30)
CREDS = Credentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_ACCOUNT_SID)
THROTTLED = {"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429",
             "status": 429}


def sid(i: int) -> str:
    return f"XE{i:032x}"


class HeldServer:
    """Each request waits until the test answers it; ``auto`` answers the ones that come later at once."""

    def __init__(self) -> None:
        self.held: list[tuple[httpx.Request, asyncio.Future[httpx.Response]]] = []
        self.in_flight = self.most_in_flight = 0
        self.auto = False

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.auto:
                await asyncio.sleep(0)  # a turn of the loop, as real I/O would give the other requests
                return ok(request)
            answer: asyncio.Future[httpx.Response] = asyncio.get_running_loop().create_future()
            self.held.append((request, answer))
            return await answer
        finally:
            self.in_flight -= 1

    def answer(self, index: int, response: httpx.Response) -> None:
        self.held[index][1].set_result(response)

    def answer_all(self) -> None:
        self.auto = True
        for request, answer in self.held:
            if not answer.done():
                answer.set_result(ok(request))


def ok(request: httpx.Request) -> httpx.Response:
    if request.method == "GET":
        return httpx.Response(200, json={"sid": sid(0), "sender_id": "whatsapp:+15017120000", "status": "ONLINE"})
    return httpx.Response(202, json={"sid": request.url.path.rsplit("/", 1)[-1], "status": "ONLINE"})


def client(server: HeldServer, concurrency: int = 25) -> SendersClient:
    return SendersClient(CREDS, base_url="https://api.test", transport=httpx.MockTransport(server), retry=FAST,
                         concurrency=concurrency)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the loop run until ``condition`` holds; everything here is in one loop, so it settles."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still waiting for {what}")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ADAPTIVE_ENV, raising=False)
    monkeypatch.delenv(STATS_FILE_ENV, raising=False)


def test_a_429_shrinks_the_concurrency_and_reads_wait_behind_the_same_limit() -> None:
    assert INITIAL_LIMIT == 12

    async def go() -> None:
        server = HeldServer()
        async with client(server) as api:
            assert api.stats.limit == INITIAL_LIMIT
            writes = [asyncio.create_task(api.update(sid(i), {"profile": {"about": "x"}})) for i in range(20)]
            read = asyncio.create_task(api.fetch(sid(0)))
            await until(lambda: len(server.held) == INITIAL_LIMIT and api._limiter.waiting == 21 - INITIAL_LIMIT, "a full limit")
            assert server.in_flight == INITIAL_LIMIT  # the read queued with the writes
            server.answer(0, httpx.Response(429, json=THROTTLED))  # no Retry-After, as Twilio
            await until(lambda: api.stats.throttled == 1, "the 429")
            assert api.stats.limit == 9  # 12 × 0.8
            assert server.in_flight == INITIAL_LIMIT - 1  # nothing new is sent past the smaller limit
            server.answer_all()
            results = await asyncio.gather(*writes)
            assert {r["sid"] for r in results} == {sid(i) for i in range(20)}
            assert (await read).sid == sid(0)
            assert server.most_in_flight == INITIAL_LIMIT and api.stats.retries == 1
            assert [limit for _, limit in api.stats.limit_history][:2] == [INITIAL_LIMIT, 9]
            times = [t for t, _ in api.stats.limit_history]
            assert times[0] == 0.0 and times == sorted(times)

    asyncio.run(go())


def test_successes_raise_the_concurrency_up_to_the_configured_one() -> None:
    async def go() -> None:
        server = HeldServer()
        server.auto = True
        async with client(server, concurrency=16) as api:
            await asyncio.gather(*(api.update(sid(i), {"profile": {"about": "x"}}) for i in range(60)))
            assert api.stats.limit == 16 and server.most_in_flight == 16
            assert [limit for _, limit in api.stats.limit_history] == list(range(INITIAL_LIMIT, 17))

    asyncio.run(go())


def test_reconciler_adaptive_0_keeps_the_configured_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADAPTIVE_ENV, "0")

    async def go() -> None:
        server = HeldServer()
        async with client(server) as api:
            writes = [asyncio.create_task(api.update(sid(i), {"profile": {"about": "x"}})) for i in range(30)]
            await until(lambda: len(server.held) == 25, "25 requests in flight")
            server.answer(0, httpx.Response(429, json=THROTTLED))
            await until(lambda: api.stats.throttled == 1, "the 429")
            server.answer_all()
            await asyncio.gather(*writes)
            assert api.stats.limit == 25 and api.stats.limit_history == [(0.0, 25)]

    asyncio.run(go())


@pytest.mark.parametrize(("value", "adaptive"), [("0", False), ("off", False), (" False ", False), ("1", True),
                                                   ("yes", True), ("", True)])
def test_reconciler_adaptive_spellings(monkeypatch: pytest.MonkeyPatch, value: str, adaptive: bool) -> None:
    monkeypatch.setenv(ADAPTIVE_ENV, value)
    api = client(HeldServer())
    assert api.stats.limit == (INITIAL_LIMIT if adaptive else 25)


def test_a_reconciler_adaptive_that_is_no_switch_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADAPTIVE_ENV, "maybe\n\x1b[2J")
    with pytest.raises(ReconcilerError) as caught:
        client(HeldServer())
    assert str(caught.value) == r"RECONCILER_ADAPTIVE must be 0 or 1, not 'maybe\n\x1b[2J'"


def test_the_stats_file_gets_one_json_line_per_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "stats.jsonl"
    monkeypatch.setenv(STATS_FILE_ENV, str(path))

    async def go(n: int) -> None:
        server = HeldServer()
        server.auto = True
        async with client(server, concurrency=4) as api:
            await asyncio.gather(*(api.update(sid(i), {"profile": {"about": "x"}}) for i in range(n)))
        await api.aclose()  # closing twice writes once

    asyncio.run(go(1))
    asyncio.run(go(3))
    text = path.read_text()
    first, second = (json.loads(line) for line in text.splitlines())
    assert first["by_method"] == {"POST": 1} and second["requests"] == 3
    assert second["limit"] == 4 and second["limit_history"] == [[0.0, 4]]
    assert set(first) == {"requests", "retries", "waited", "by_method", "throttled", "limit", "limit_history", "seconds"}
    assert second["seconds"] >= 0
    assert TEST_AUTH_TOKEN not in text


def test_a_stats_file_that_cannot_be_written_is_a_warning_not_a_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(STATS_FILE_ENV, str(tmp_path / "missing" / "stats.jsonl"))

    async def go() -> None:
        async with client(HeldServer()):
            pass

    with caplog.at_level(logging.WARNING, logger="reconciler.http"):
        asyncio.run(go())
    [record] = caplog.records
    assert "cannot write the client's stats to" in record.getMessage() and "\n" not in record.getMessage()
