"""The adaptive limiter, driven step by step in one event loop with an injected clock: no timing at all."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Coroutine
from typing import Any

import pytest

from reconciler.limiter import INITIAL_LIMIT, AdaptiveLimiter, Outcome, Permit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


async def ready() -> None:
    """Let every task that can run, run (the loop has no I/O here: a few turns settle it)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def take(limiter: AdaptiveLimiter, n: int) -> list[Permit]:
    return [await limiter.acquire() for _ in range(n)]


def finish(limiter: AdaptiveLimiter, permit: Permit, outcome: Outcome) -> None:
    permit.outcome = outcome
    limiter.release(permit)


def queue(limiter: AdaptiveLimiter, n: int) -> list[asyncio.Task[Permit]]:
    return [asyncio.create_task(limiter.acquire()) for _ in range(n)]


async def granted(tasks: list[asyncio.Task[Permit]]) -> list[Permit]:
    """The permits handed to queued tasks so far, taken out of the list."""
    await ready()
    done = [t for t in tasks if t.done()]
    for t in done:
        tasks.remove(t)
    return [t.result() for t in done]


async def cancel(tasks: list[asyncio.Task[Permit]]) -> None:
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_limits_are_checked() -> None:
    for kwargs in ({"maximum": 0}, {"maximum": 3, "minimum": 4}, {"maximum": 3, "decrease": 1.0},
                   {"maximum": 3, "decrease": 0}, {"maximum": 3, "window": 0}):
        with pytest.raises(ValueError):
            AdaptiveLimiter(**kwargs)


def test_it_starts_low_and_grows_by_one_per_two_successes_until_a_refusal() -> None:
    async def go() -> None:
        clock = Clock()
        assert AdaptiveLimiter(25).limit == INITIAL_LIMIT == 12 and AdaptiveLimiter(5).limit == 5
        limiter = AdaptiveLimiter(25, initial=8, clock=clock)
        permits = await take(limiter, 8)
        waiting = queue(limiter, 40)
        await ready()
        assert limiter.in_flight == 8 and limiter.waiting == 40  # full: the rest queue
        clock.now += 1.5
        for permit in permits[:4]:
            finish(limiter, permit, "ok")
        # Four successes: two more allowed; each slot freed and each added goes to the queue at once.
        assert limiter.limit == 10 and limiter.in_flight == 10
        assert len(await granted(waiting)) == 6
        assert limiter.history == [(0.0, 8), (1.5, 9), (1.5, 10)] and limiter.elapsed == 1.5
        # A refusal of a request sent under 8 cuts from 8, not from the 10 the limit has grown to since.
        finish(limiter, permits[4], "throttled")
        assert limiter.limit == 6
        await cancel(waiting)

    run(go())


def test_a_refusal_cuts_the_limit_once_for_everything_sent_under_it() -> None:
    async def go() -> None:
        clock = Clock()
        limiter = AdaptiveLimiter(25, initial=12, decrease=0.75, clock=clock)
        first = await take(limiter, 12)
        clock.now += 2
        finish(limiter, first[0], "throttled")
        assert limiter.limit == 9  # floor(12 × 0.75)
        for permit in first[1:6]:  # sent before the cut: already answered for
            finish(limiter, permit, "throttled")
        assert limiter.limit == 9
        second = await take(limiter, 3)  # six of the first are still out
        clock.now += 1
        finish(limiter, second[0], "throttled")  # sent under the new limit: it cuts again
        assert limiter.limit == 6
        finish(limiter, first[6], "throttled")  # a late refusal from before both cuts changes nothing
        assert limiter.limit == 6
        assert limiter.history == [(0.0, 12), (2.0, 9), (3.0, 6)]
        for permit in first[7:] + second[1:]:
            finish(limiter, permit, "other")
        assert limiter.in_flight == 0

    run(go())


def test_after_a_refusal_it_grows_by_one_per_window_of_successes() -> None:
    async def go() -> None:
        limiter = AdaptiveLimiter(25, initial=4, window=2)
        permits = await take(limiter, 4)
        waiting = queue(limiter, 100)
        await ready()
        finish(limiter, permits.pop(), "ok")  # half-way to 5 while starting; a refusal starts the count anew
        finish(limiter, permits.pop(), "throttled")
        assert limiter.limit == 3
        for permit in permits:
            finish(limiter, permit, "other")
        out = await granted(waiting)
        assert len(out) == 3
        grown = []
        for _ in range(6 + 8):  # 2 × 3 successes reach 4, then 2 × 4 reach 5
            finish(limiter, out.pop(0), "ok")
            out += await granted(waiting)
            grown.append(limiter.limit)
        assert grown == [3] * 5 + [4] * 8 + [5]
        await cancel(waiting)
        for permit in out:
            finish(limiter, permit, "other")
        assert limiter.in_flight == 0

    run(go())


def test_by_default_a_refusal_cuts_a_fifth_and_three_rounds_of_successes_add_one() -> None:
    async def go() -> None:
        limiter = AdaptiveLimiter(25, initial=9)
        permits = await take(limiter, 9)
        waiting = queue(limiter, 100)
        finish(limiter, permits.pop(), "throttled")
        assert limiter.limit == 7  # floor(9 × 0.8)
        for permit in permits:
            finish(limiter, permit, "other")
        out = await granted(waiting)
        for n in range(1, 3 * 7 + 1):
            finish(limiter, out.pop(0), "ok")
            out += await granted(waiting)
            assert limiter.limit == (8 if n == 21 else 7)
        await cancel(waiting)
        for permit in out:
            finish(limiter, permit, "other")

    run(go())


def test_a_limit_that_holds_nothing_back_does_not_grow() -> None:
    async def go() -> None:
        limiter = AdaptiveLimiter(25)
        for _ in range(50):  # one request at a time, as a list read is: the limit is never reached
            finish(limiter, await limiter.acquire(), "ok")
        assert limiter.limit == INITIAL_LIMIT and limiter.history == [(0.0, INITIAL_LIMIT)]

    run(go())


def test_the_limit_stays_between_minimum_and_maximum() -> None:
    async def go() -> None:
        low = AdaptiveLimiter(10, initial=1)
        finish(low, await low.acquire(), "throttled")
        finish(low, await low.acquire(), "throttled")
        assert low.limit == 1
        high = AdaptiveLimiter(3, initial=2)
        permits = await take(high, 2)
        waiting = queue(high, 20)
        for _ in range(20):
            if permits:
                finish(high, permits.pop(), "ok")
            permits += await granted(waiting)
            assert high.in_flight <= high.limit <= 3
        assert high.limit == 3 and high.history[-1][1] == 3
        for permit in permits:
            finish(high, permit, "other")

    run(go())


def test_a_fixed_limit_is_a_semaphore_that_ignores_outcomes() -> None:
    async def go() -> None:
        limiter = AdaptiveLimiter(5, adaptive=False)
        assert limiter.limit == 5
        permits = await take(limiter, 5)
        waiting = queue(limiter, 3)
        await ready()
        assert limiter.waiting == 3
        finish(limiter, permits.pop(), "throttled")
        finish(limiter, permits.pop(), "ok")
        assert len(await granted(waiting)) == 2 and limiter.limit == 5 and limiter.history == [(0.0, 5)]
        await cancel(waiting)

    run(go())


def test_permits_go_in_order_and_a_cut_holds_new_ones_back() -> None:
    async def go() -> None:
        limiter = AdaptiveLimiter(25, initial=2)
        a, b = await take(limiter, 2)
        waiting = queue(limiter, 3)
        first, second, third = waiting
        await ready()
        finish(limiter, a, "throttled")  # the limit drops to 1 while one permit is still out
        assert limiter.limit == 1 and await granted(waiting) == []
        finish(limiter, b, "other")
        assert [p.limit for p in await granted(waiting)] == [1] and first.done() and not second.done()
        finish(limiter, first.result(), "other")
        await ready()
        assert second.done() and not third.done()
        await cancel([third])
        finish(limiter, second.result(), "other")
        assert limiter.in_flight == 0 and limiter.waiting == 0

    run(go())


def test_a_cancelled_waiter_leaves_the_queue_and_a_permit_granted_as_it_was_cancelled_is_passed_on() -> None:
    async def go() -> None:
        limiter = AdaptiveLimiter(25, initial=1)
        permit = await limiter.acquire()
        gone, late, next_one, last = queue(limiter, 4)
        await ready()
        assert limiter.waiting == 4
        gone.cancel()  # cancelled, and still queued until it runs again
        limiter.release(permit)  # skips ``gone``: granted to ``late``, which is cancelled before it resumes
        late.cancel()
        await ready()
        assert gone.cancelled() and limiter.waiting == 1
        assert late.cancelled() and next_one.done() and limiter.in_flight == 1
        limiter.release(next_one.result())
        limiter.release(await last)
        assert limiter.in_flight == 0 and limiter.waiting == 0

    run(go())


def test_a_slot_is_released_whatever_happens_inside() -> None:
    async def go() -> None:
        limiter = AdaptiveLimiter(4, initial=4)
        with pytest.raises(RuntimeError):
            async with limiter.slot() as permit:
                permit.outcome = "throttled"
                raise RuntimeError("boom")
        assert limiter.in_flight == 0 and limiter.limit == 3

    run(go())


def test_the_limiter_imports_nothing_of_ours_and_no_http_library() -> None:
    code = "import sys, reconciler.limiter; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert not {"httpx", "httpcore", "aiohttp", "tenacity"} & loaded
    assert {m for m in loaded if m.startswith("reconciler.")} == {"reconciler.limiter"}


def test_the_observer_hears_each_answer_its_kind_its_time_in_flight_and_whether_it_was_refused() -> None:
    clock, heard = Clock(), []
    limiter = AdaptiveLimiter(5, clock=clock, observer=lambda *answer: heard.append(answer))

    async def go() -> None:
        async with limiter.slot("GET") as first:
            clock.now += 0.25
            first.outcome = "ok"
        async with limiter.slot("POST") as second:
            clock.now += 1.5
            second.outcome = "throttled"
        async with limiter.slot("GET"):  # no answer (a timeout, a dropped connection): nothing heard
            clock.now += 30

    run(go())
    assert heard == [("GET", 0.25, False), ("POST", 1.5, True)]
