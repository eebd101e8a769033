"""The files loaded on this thread while the network is read on another: the load waits on the CPU, the read on
the network, so side by side a plan costs the longer of the two instead of their sum.

For 10,000 senders, loading takes about 1.5 s of CPU and reading ten pages about a second of waiting. What the
read returns should stay compact (the pages as bytes, say) until the load is done, so the two peaks of memory do
not add up. A failed load (a problem in the files, or Ctrl-C) is reported as if the read had not started: the
read is cancelled, not waited for. A failed read is handed back, not raised: whether it matters is known only
once the files are loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

_L = TypeVar("_L")
_R = TypeVar("_R")


def load_while_reading(load: Callable[[], _L], read: Callable[[], Coroutine[Any, Any, _R]],
                       beside: Callable[[], Callable[[], None]] = lambda: lambda: None) -> tuple[_L, _R | BaseException]:
    """``load()`` here while ``read()`` runs in a thread of its own, in an event loop of its own; the load's result
    and the read's (or the exception that ended it). ``beside`` is called before the thread starts and returns
    what undoes it (the command line shortens the interpreter's switch interval while both run)."""
    outcome: dict[str, Any] = {}
    started = threading.Event()

    async def reading() -> _R:
        outcome["loop"], outcome["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        return await read()

    def run() -> None:
        try:
            outcome["result"] = asyncio.run(reading())
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            started.set()

    restore = beside()
    reader = threading.Thread(target=run, name="reconciler-read")
    try:
        reader.start()
        try:
            loaded = load()
            reader.join()
        except BaseException:  # stop the read rather than wait for its retries
            started.wait()
            loop, task = outcome.get("loop"), outcome.get("task")
            if loop is not None and task is not None:
                with contextlib.suppress(RuntimeError):  # the read has finished and its loop is closed
                    loop.call_soon_threadsafe(task.cancel)
            reader.join()
            raise
    finally:
        restore()
    return loaded, outcome["error"] if "error" in outcome else outcome["result"]
