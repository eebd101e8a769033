"""``reconciler/overlap.py``: the files loaded on one thread while the network is read on another."""

from __future__ import annotations

import asyncio
import threading

import pytest

from reconciler.overlap import load_while_reading


def test_the_load_and_the_read_run_side_by_side_and_both_results_come_back() -> None:
    read_started = threading.Event()
    load_may_end = threading.Event()
    seen: list[str] = []

    async def read() -> str:
        read_started.set()
        await asyncio.get_running_loop().run_in_executor(None, load_may_end.wait)
        return "pages"

    def load() -> str:
        assert read_started.wait(timeout=60), "the read never started"  # the read runs while the load does
        seen.append(threading.current_thread().name)
        load_may_end.set()
        return "states"

    undone: list[bool] = []
    result = load_while_reading(load, read, lambda: lambda: undone.append(True))
    assert result == ("states", "pages")
    assert seen == [threading.main_thread().name] and undone == [True]


def test_a_failed_read_is_handed_back_not_raised() -> None:
    async def read() -> str:
        raise ConnectionError("refused")

    loaded, outcome = load_while_reading(lambda: "states", read)
    assert loaded == "states" and isinstance(outcome, ConnectionError)


def test_a_failed_load_cancels_the_read_instead_of_waiting_for_it() -> None:
    cancelled = threading.Event()

    async def read() -> str:
        try:
            await asyncio.Event().wait()  # never set: only a cancel ends this read
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "unreachable"

    def load() -> str:
        raise ValueError("senders.yaml:3:5: bad")

    undone: list[bool] = []
    with pytest.raises(ValueError, match="bad"):
        load_while_reading(load, read, lambda: lambda: undone.append(True))
    assert cancelled.is_set() and undone == [True]
