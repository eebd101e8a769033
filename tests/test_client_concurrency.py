"""The client's adaptive concurrency, against a MockTransport whose answers the test hands out one by one, and the
options that set it (and the stats file) at the command line's edge."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from reconciler.client import Credentials, RetryPolicy, SendersClient
from reconciler.limiter import INITIAL_LIMIT
from reconciler.options import ADAPTIVE_ENV, STATS_FILE_ENV, api_options
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, run_cli

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


def client(server: HeldServer, concurrency: int = 25, *, adaptive: bool = True, stats_file: str | None = None,
           ) -> SendersClient:
    return SendersClient(CREDS, base_url="https://api.test", transport=httpx.MockTransport(server), retry=FAST,
                         concurrency=concurrency, adaptive=adaptive, stats_file=stats_file)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the loop run until ``condition`` holds; everything here is in one loop, so it settles."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still waiting for {what}")


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


def test_a_fixed_concurrency_stays_the_configured_one() -> None:
    async def go() -> None:
        server = HeldServer()
        async with client(server, adaptive=False) as api:
            writes = [asyncio.create_task(api.update(sid(i), {"profile": {"about": "x"}})) for i in range(30)]
            await until(lambda: len(server.held) == 25, "25 requests in flight")
            server.answer(0, httpx.Response(429, json=THROTTLED))
            await until(lambda: api.stats.throttled == 1, "the 429")
            server.answer_all()
            await asyncio.gather(*writes)
            assert api.stats.limit == 25 and api.stats.limit_history == [(0.0, 25)]

    asyncio.run(go())


def test_the_client_reads_no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Its settings come as arguments, read once at the command line's edge (reconciler.options)."""
    monkeypatch.setenv(ADAPTIVE_ENV, "0")
    monkeypatch.setenv(STATS_FILE_ENV, str(tmp_path / "stats.jsonl"))

    async def go() -> None:
        async with client(HeldServer()) as api:
            assert api.stats.limit == INITIAL_LIMIT

    asyncio.run(go())
    assert not (tmp_path / "stats.jsonl").exists()


def test_the_stats_file_gets_one_json_line_per_client(tmp_path: Path) -> None:
    path = tmp_path / "stats.jsonl"

    async def go(n: int) -> None:
        server = HeldServer()
        server.auto = True
        async with client(server, concurrency=4, stats_file=str(path)) as api:
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
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def go() -> None:
        async with client(HeldServer(), stats_file=str(tmp_path / "missing" / "stats.jsonl")):
            pass

    with caplog.at_level(logging.WARNING, logger="reconciler.http"):
        asyncio.run(go())
    [record] = caplog.records
    assert "cannot write the client's stats to" in record.getMessage() and "\n" not in record.getMessage()


# --------------------------------------------------------------------------- the options that set them


@click.command()
@api_options
def _settings_of(**options: object) -> None:
    click.echo(json.dumps({"adaptive": options["adaptive"], "stats_file": options["stats_file"]}))


@pytest.mark.parametrize(("value", "adaptive"), [("0", False), ("off", False), (" False ", False), ("1", True),
                                                   ("yes", True), ("", True), (None, True)])
def test_reconciler_adaptive_spellings(value: str | None, adaptive: bool) -> None:
    result = CliRunner().invoke(_settings_of, [], env={ADAPTIVE_ENV: value, STATS_FILE_ENV: None})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"adaptive": adaptive, "stats_file": None}


def test_the_environment_reaches_the_client_through_the_options(emulator, emulator_env, tmp_path: Path) -> None:
    stats, f = tmp_path / "stats.jsonl", tmp_path / "senders.yaml"
    f.write_text('senders:\n  - sender_id: "whatsapp:+15017122661"\n    profile: {name: Acme}\n')
    env = {**emulator_env, ADAPTIVE_ENV: "0", STATS_FILE_ENV: str(stats)}
    result = run_cli("apply", "-f", str(f), "--auto-approve", "--concurrency", "30", env=env)
    assert result.returncode == 0, result.output
    # One line per client (the plan's read, the writes): the writes' limit is --concurrency from the
    # start, where an adaptive one would start at INITIAL_LIMIT.
    [writes] = [line for line in map(json.loads, stats.read_text().splitlines()) if "POST" in line["by_method"]]
    assert writes["limit_history"] == [[0.0, 30]] and INITIAL_LIMIT < 30


def test_a_reconciler_adaptive_that_is_no_switch_is_one_refusal_naming_it(emulator_env, tmp_path: Path) -> None:
    result = run_cli("plan", "-f", str(tmp_path / "senders.yaml"), env={**emulator_env, ADAPTIVE_ENV: "maybe\n\x1b[2J"})
    assert result.returncode == 1 and "Traceback" not in result.output
    assert r"'maybe\n\x1b[2J' is not a valid boolean" in result.stderr and "\x1b" not in result.stderr
    assert f"the environment variable {ADAPTIVE_ENV}" in result.stderr
