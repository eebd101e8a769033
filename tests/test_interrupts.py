"""Stop, then abort: requests from a signal handler reach the event loop that writes, even made before it ran."""

from __future__ import annotations

import asyncio

from reconciler.interrupts import Interrupts


def test_the_first_request_stops_the_second_aborts_and_on_stop_is_told_once() -> None:
    told: list[str] = []
    interrupts = Interrupts(on_stop=lambda: told.append("stop"))
    interrupts.request()
    assert (interrupts.stopped, interrupts.aborted, told) == (True, False, ["stop"])
    interrupts.request()
    interrupts.request()
    assert (interrupts.stopped, interrupts.aborted, told) == (True, True, ["stop"])


def test_requests_made_before_the_loop_ran_are_seen_by_its_events() -> None:
    interrupts = Interrupts()
    interrupts.request()

    async def bound() -> tuple[bool, bool]:
        stop, abort = interrupts.bind()
        return stop.is_set(), abort.is_set()

    assert asyncio.run(bound()) == (True, False)


def test_a_request_from_another_thread_sets_the_running_loops_event() -> None:
    interrupts = Interrupts()

    async def waits() -> bool:
        stop, _ = interrupts.bind()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, interrupts.request)  # as a signal handler would, off the loop
        await asyncio.wait_for(stop.wait(), timeout=60)  # a guard only: set by the request above
        return stop.is_set()

    assert asyncio.run(waits())


def test_a_request_after_the_loop_closed_is_harmless() -> None:
    interrupts = Interrupts()

    async def bind() -> None:
        interrupts.bind()

    asyncio.run(bind())
    interrupts.request()
    interrupts.request()
    assert interrupts.aborted
