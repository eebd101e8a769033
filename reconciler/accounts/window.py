"""How many accounts a run works on at once: a window that grows while the machine and the API keep up.

    window = Window(ceiling=descriptor_ceiling(per_account=2), cap=None)
    results = await gather_paced(accounts, work, window)      # work's clients report to window.answered

Twilio limits requests in flight per account, and each account's client finds its own limit
(:mod:`reconciler.limiter`); what bounds the number of *accounts* in flight is this process: its file
descriptors (a connection each), its CPU (an event loop that falls behind answers late) and, should Twilio
have one, a limit above the accounts. The window decides from the answers the accounts' requests get:

- it starts at :data:`INITIAL` accounts and, until the first sign of strain, grows by one for every answer
  that came back on time (doubling each round of answers, like TCP's slow start); after that, by one for
  every ``limit`` answers on time (one a round: additive increase);
- an answer is *on time* when the smoothed latency of its kind of request (GET, POST, ...: an exponential
  average, 1/8 of each new answer) is within :data:`TOLERANCE` × the lowest latency of that kind seen in
  the run, plus :data:`SLACK`: a loaded CPU, or an API that queues, shows as answers that take longer than
  the network alone made them;
- a 429, or an answer late by that rule, cuts the limit by a fifth (never below :data:`MINIMUM`), once per
  round: the answers to requests sent before the cut say nothing about the new limit, and once they are in,
  the averages start again from the lowest latencies;
- it never exceeds ``ceiling`` (:func:`descriptor_ceiling`: the soft limit on open files, less a reserve,
  divided by the connections an account may hold) nor ``cap`` (``--account-concurrency``, when given).

Nothing here reads a clock: the latencies come with the events, so tests feed it events and check its
decisions. ``history`` records ``(answers so far, limit)`` at the start and at every change.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from reconciler.errors import AccountError, ReconcilerError

__all__ = ["INITIAL", "MINIMUM", "RESERVE", "Window", "descriptor_ceiling", "gather_paced"]

_T = TypeVar("_T")
_U = TypeVar("_U")

#: Where the window starts: the fixed number of accounts at once before it adapted.
INITIAL = 20
#: The fewest accounts in flight a strained run falls back to (fewer only when capped lower).
MINIMUM = 4
#: How late an answer may be against the fastest of its kind, and a margin for answers in a millisecond
#: (loopback), whose jitter is bigger than themselves.
TOLERANCE = 2.0
SLACK = 0.005
DECREASE = 0.8
#: File descriptors kept for everything but the accounts' connections: standard streams, the event loop's,
#: the files read and written, the parent's own clients (up to 25 connections each).
RESERVE = 100
#: Where ``RLIMIT_NOFILE`` cannot be read (Windows): the accounts' connections at most.
UNKNOWN_LIMIT = 512


def descriptor_ceiling(per_account: int, *, limit: int | None = None, reserve: int = RESERVE) -> int:
    """The accounts that fit in the file descriptors this process may open, each holding ``per_account``
    connections at most: (``limit``, or the soft ``RLIMIT_NOFILE``, − ``reserve``) ÷ ``per_account``; at least 1."""
    if limit is None:
        limit = _open_files_limit()
    return max(1, (limit - reserve) // max(per_account, 1))


def _open_files_limit() -> int:
    try:
        import resource
    except ImportError:  # not on this system
        return UNKNOWN_LIMIT + RESERVE
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY and soft > 0 else 1 << 20


@dataclass
class _Latency:
    floor: float
    smoothed: float


class Window:
    """The accounts allowed in flight (``limit``), adapted to the answers of their requests (see the module)."""

    def __init__(self, *, ceiling: int, cap: int | None = None, initial: int = INITIAL):
        self.ceiling = max(1, min(ceiling, cap) if cap is not None else ceiling)
        self.floor = min(MINIMUM, self.ceiling)
        self.limit = max(self.floor, min(initial, self.ceiling))
        self.answers = 0
        self.history: list[tuple[int, int]] = [(0, self.limit)]
        self._starting = True  # no strain seen yet: grow fast
        self._good = 0  # answers on time towards the next step
        self._hold = 0  # answers still to come from before the last cut
        self._latency: dict[str, _Latency] = {}

    @property
    def peak(self) -> int:
        return max(limit for _, limit in self.history)

    def answered(self, kind: str, seconds: float, throttled: bool = False) -> None:
        """A request of an account in flight was answered after ``seconds`` (a 429 when ``throttled``)."""
        self.answers += 1
        late = throttled or self._late(kind, seconds)
        if self._hold:
            self._hold -= 1
            if not self._hold:  # the round sent before the cut is in: judge the next one on its own answers
                for seen in self._latency.values():
                    seen.smoothed = seen.floor
            return
        if late:
            self._starting = False
            self._good = 0
            self._hold = self.limit - 1  # the others in flight when it came back
            self._set(max(self.floor, int(self.limit * DECREASE)))
            return
        self._good += 1
        if self._good >= (1 if self._starting else self.limit):
            self._good = 0
            self._set(self.limit + 1)

    def _late(self, kind: str, seconds: float) -> bool:
        seen = self._latency.get(kind)
        if seen is None:
            self._latency[kind] = _Latency(seconds, seconds)
            return False
        seen.floor = min(seen.floor, seconds)
        seen.smoothed += (seconds - seen.smoothed) / 8
        return seen.smoothed > TOLERANCE * seen.floor + SLACK

    def _set(self, limit: int) -> None:
        limit = min(max(limit, self.floor), self.ceiling)
        if limit != self.limit:
            self.limit = limit
            self.history.append((self.answers, limit))


async def gather_paced(items: Sequence[_T], work: Callable[[_T], Awaitable[_U]], window: Window | int) -> list[_U]:
    """``work`` on every item, at most ``window.limit`` at once (a number: that many), results in order.

    An item's work starts when one ends and the window has room: the items wait as items, not as tasks. The
    first failure (in the items' order) is raised once every started item has finished: one account's failure
    does not cut the others short. Cancelled, it cancels the work in flight and starts no more.
    """
    pace = window if isinstance(window, Window) else Window(ceiling=max(window, 1), initial=max(window, 1))
    results: dict[int, _U] = {}
    failures: dict[int, BaseException] = {}
    running: set[asyncio.Future[_U]] = set()
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    following = 0

    def launch() -> None:
        nonlocal following
        while following < len(items) and len(running) < pace.limit and not done.done():
            task = asyncio.ensure_future(work(items[following]))
            task.add_done_callback(functools.partial(finished, following))
            running.add(task)
            following += 1
        if not running and not done.done():
            done.set_result(None)

    def finished(index: int, task: asyncio.Future[_U]) -> None:
        running.discard(task)
        if task.cancelled():
            failures[index] = asyncio.CancelledError()
        elif (error := task.exception()) is not None:
            failures[index] = error
        else:
            results[index] = task.result()
        launch()

    launch()
    try:
        await asyncio.shield(done)
    except asyncio.CancelledError:
        done.cancel()
        for task in list(running):
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    if failures:
        ordered = [failures[i] for i in sorted(failures)]
        cancelled = [f for f in ordered if isinstance(f, asyncio.CancelledError)]
        raise cancelled[0] if cancelled else _combined(ordered)
    return [results[i] for i in range(len(items))]


def _combined(failures: list[BaseException]) -> BaseException:
    if len(failures) == 1 or not all(isinstance(f, ReconcilerError) for f in failures):
        return failures[0]
    return AccountError("; ".join(str(f) for f in failures))
