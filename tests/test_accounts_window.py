"""The window of accounts in flight, fed events (no clock, no timing), and the paced gathering of accounts' work."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.accounts.window import INITIAL, MINIMUM, RESERVE, Window, descriptor_ceiling, gather_paced
from reconciler.errors import AccountError

NET = 0.05  # seconds: what the network alone makes an answer take


def fed(window: Window, answers: int, seconds: float = NET, kind: str = "GET", throttled: bool = False) -> Window:
    for _ in range(answers):
        window.answered(kind, seconds, throttled)
    return window


def test_it_starts_at_twenty_and_doubles_a_round_while_answers_keep_their_latency() -> None:
    window = Window(ceiling=10_000)
    assert window.limit == INITIAL == 20
    assert fed(window, 20).limit == 40  # one more for each answer on time: a round of 20 answers doubles it
    assert fed(window, 40).limit == 80
    assert window.history[:3] == [(0, 20), (1, 21), (2, 22)]


def test_late_answers_cut_it_by_a_fifth_once_a_round_then_it_grows_by_one_a_round() -> None:
    window = fed(Window(ceiling=10_000), 80)
    assert window.limit == 100
    fed(window, 1, NET * 40)  # the smoothed latency jumps past twice the network's: the machine falls behind
    assert window.limit == 80
    fed(window, 99, NET * 40)  # the 99 others sent before the cut (under 100) change nothing more
    assert window.limit == 80
    fed(window, 80)  # then one more for a round of 80 answers on time
    assert window.limit == 81
    fed(window, 3, NET * 4)  # four times the network: the average rises an eighth of the way each time
    assert window.limit == 81
    fed(window, 1, NET * 4)  # and past twice the fastest at the fourth: cut again
    assert window.limit == 64


def test_a_429_cuts_it_and_ends_the_fast_start() -> None:
    window = fed(Window(ceiling=10_000), 10)
    assert window.limit == 30
    fed(window, 1, throttled=True)
    assert window.limit == 24
    fed(window, 29 + 23)  # the 29 others sent before the cut: held; then a round of 24 answers adds one
    assert window.limit == 24
    fed(window, 1)
    assert window.limit == 25


def test_each_kind_of_request_is_weighed_against_its_own_latency() -> None:
    """Writes take longer than reads at Twilio; a write is not late for taking longer than the fastest read."""
    window = fed(fed(Window(ceiling=10_000), 5, kind="GET"), 5, 10 * NET, kind="POST")
    assert window.limit == 30 and len(window.history) == 11


def test_a_millisecond_of_jitter_on_loopback_is_not_lateness() -> None:
    window = fed(Window(ceiling=10_000), 1, 0.0005)
    fed(window, 30, 0.004)  # eight times the fastest, within the slack of 5 ms
    assert window.limit == 51


def test_it_stays_within_its_ceiling_its_cap_and_its_minimum() -> None:
    assert fed(Window(ceiling=30), 100).limit == 30
    capped = Window(ceiling=10_000, cap=7)
    assert capped.limit == 7 and fed(capped, 100).limit == 7
    strained = Window(ceiling=10_000)
    for _ in range(50):
        fed(strained, strained.limit, throttled=True)
    assert strained.limit == MINIMUM
    assert Window(ceiling=10_000, cap=1).limit == 1 == fed(Window(ceiling=1), 10, throttled=True).limit


@pytest.mark.parametrize(("soft", "per_account", "expected"), [
    (1024, 1, 1024 - RESERVE), (1024, 25, (1024 - RESERVE) // 25), (65536, 25, (65536 - RESERVE) // 25),
    (RESERVE, 1, 1),  # no room: one account at a time, never none
])
def test_the_ceiling_is_the_open_files_left_over_the_connections_of_an_account(soft: int, per_account: int,
                                                                               expected: int) -> None:
    assert descriptor_ceiling(per_account, limit=soft) == expected


def test_the_ceiling_reads_this_process_s_limit() -> None:
    resource = pytest.importorskip("resource")
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert descriptor_ceiling(1) == max(1, soft - RESERVE)


def test_paced_work_keeps_within_the_window_and_the_results_in_order() -> None:
    window = Window(ceiling=3, initial=3)
    running, most = 0, 0

    async def work(item: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        for _ in range(item % 3 + 1):
            await asyncio.sleep(0)
        running -= 1
        return item * 10

    assert asyncio.run(gather_paced(list(range(10)), work, window)) == [i * 10 for i in range(10)]
    assert most == 3


def test_the_window_s_growth_lets_more_accounts_in_as_their_answers_come() -> None:
    window = Window(ceiling=100, initial=1)
    started: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        window.answered("GET", NET)  # one answer on time: one more account may start
        await asyncio.sleep(0)
        return item

    asyncio.run(gather_paced(list(range(6)), work, window))
    assert window.limit > 1 and started == list(range(6))


def test_every_item_finishes_before_the_first_failure_is_raised_and_failures_are_combined() -> None:
    done: list[int] = []

    async def work(item: int) -> int:
        await asyncio.sleep(0)
        if item in (1, 3):
            raise AccountError(f"account {item}: out of reach")
        done.append(item)
        return item

    with pytest.raises(AccountError) as caught:
        asyncio.run(gather_paced(list(range(5)), work, 2))
    assert str(caught.value) == "account 1: out of reach; account 3: out of reach"
    assert sorted(done) == [0, 2, 4]


def test_cancelled_it_cancels_the_work_in_flight_and_starts_no_more() -> None:
    started: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        await asyncio.Event().wait()
        return item

    async def go() -> None:
        task = asyncio.ensure_future(gather_paced(list(range(10)), work, 2))
        for _ in range(5):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert started == [0, 1]


def test_nothing_to_do_is_done_at_once() -> None:
    async def work(item: int) -> int:
        raise AssertionError("no item")

    assert asyncio.run(gather_paced([], work, Window(ceiling=5))) == []
