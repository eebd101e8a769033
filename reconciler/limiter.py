"""An adaptive limit on requests in flight: additive increase, multiplicative decrease (AIMD).

Twilio refuses requests past an account's concurrency limit with 429 / 20429 and no ``Retry-After``,
and the limit is not published. :class:`AdaptiveLimiter` finds it the way TCP finds a link's capacity:

- it starts at ``initial`` (:data:`INITIAL_LIMIT`) and, until the first refusal, grows by one for every two successes
  (half again per round trip), so an account without a low limit soon gets ``maximum``;
- a refusal multiplies the limit the refused request was sent under by ``decrease`` (0.8: 9 becomes 7;
  never below ``minimum``). Refusals of requests sent before that cut were caused by the old limit and
  change nothing more;
- after that, every ``window`` × limit successes (``window`` round trips' worth) add one, up to
  ``maximum``. Successes only count while the limit holds requests back: a limit nobody reaches is not
  evidence the account allows more.

A cut of a fifth and three round trips per step keep the limit near the account's, with about one
refusal per 50 successes once found. Against an account allowing 8, a cut of a quarter and a step every
two round trips wrote 1.2× slower than a fixed 8; halving would sit below 8 longer still
(bench/concurrency.py, docs/performance.md).

Permits are handed out first come, first served. ``history`` records ``(seconds since the limiter was
made, limit)`` at the start and at every change. ``observer``, when given, hears each answered request as it is
released: its kind (the permit's, say the HTTP method), its seconds from grant to release, and whether it was
refused (a run's window of accounts in flight listens to every account's client). Imports nothing of
reconciler's and no HTTP library.

>>> limiter = AdaptiveLimiter(25)
>>> async with limiter.slot() as permit:      # doctest: +SKIP
...     response = await send()
...     permit.outcome = "throttled" if response.status_code == 429 else "ok"
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

__all__ = ["INITIAL_LIMIT", "AdaptiveLimiter", "Observer", "Outcome", "Permit"]

#: Where an adaptive limit starts (or ``maximum``, if lower). An account that allows 8 meets the same
#: 4 refusals as with a start at 8, whose first round grows the limit to 12; one without a low limit
#: reaches 25 a round trip sooner.
INITIAL_LIMIT = 12

Outcome = Literal["ok", "throttled", "other"]
#: ``(kind, seconds, throttled)`` of an answered request.
Observer = Callable[[str, float, bool], None]


@dataclass(eq=False)
class Permit:
    """One request's right to be in flight. Set ``outcome`` before releasing it: ``"ok"`` (a success),
    ``"throttled"`` (429) or ``"other"`` (anything else, which tells nothing about the limit)."""

    epoch: int
    limit: int  # the limit when the permit was granted
    outcome: Outcome = "other"
    granted: float = 0.0  # when, on the limiter's clock
    kind: str = ""  # what the request was, for the observer


class AdaptiveLimiter:
    """At most ``limit`` permits out at once; the limit adapts to ``"ok"`` and ``"throttled"`` outcomes.

    ``adaptive=False``: a fixed limit of ``maximum``, as a semaphore. ``clock`` (seconds, monotonic)
    only dates ``history``.
    """

    def __init__(
        self,
        maximum: int,
        *,
        initial: int | None = None,
        minimum: int = 1,
        decrease: float = 0.8,
        window: int = 3,
        adaptive: bool = True,
        clock: Callable[[], float] = time.monotonic,
        observer: Observer | None = None,
    ):
        if maximum < 1 or not 1 <= minimum <= maximum:
            raise ValueError(f"need 1 <= minimum <= maximum, not {minimum} and {maximum}")
        if not 0 < decrease < 1:
            raise ValueError(f"decrease must be between 0 and 1, not {decrease}")
        if window < 1:
            raise ValueError(f"window must be at least 1, not {window}")
        start = (min(maximum, INITIAL_LIMIT) if initial is None else initial) if adaptive else maximum
        self.maximum, self.minimum, self.decrease, self.window = maximum, minimum, decrease, window
        self.adaptive = adaptive
        self.observer = observer
        self._limit = min(max(start, minimum), maximum)
        self._clock = clock
        self._started = clock()
        self.history: list[tuple[float, int]] = [(0.0, self._limit)]
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[Permit]] = deque()
        self._epoch = 0  # decreases so far
        self._starting = adaptive  # no refusal yet: grow fast
        self._successes = 0  # counted towards the next increase

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def elapsed(self) -> float:
        """Seconds since the limiter was made, on the clock of ``history``."""
        return self._clock() - self._started

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.done())

    async def acquire(self) -> Permit:
        """A permit, once fewer than ``limit`` are out and everyone who asked before has one."""
        if not self._waiters and self._in_flight < self._limit:
            self._in_flight += 1
            return self._permit()
        waiter: asyncio.Future[Permit] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # granted as it was cancelled: pass it on
                self._in_flight -= 1
                self._grant()
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self, permit: Permit) -> None:
        """Give ``permit`` back; its ``outcome`` adapts the limit."""
        self._in_flight -= 1
        if self.observer is not None and permit.outcome != "other":
            self.observer(permit.kind, self._clock() - permit.granted, permit.outcome == "throttled")
        if self.adaptive:
            if permit.outcome == "throttled":
                self._throttled(permit)
            elif permit.outcome == "ok":
                self._succeeded()
        self._grant()

    @asynccontextmanager
    async def slot(self, kind: str = "") -> AsyncIterator[Permit]:
        """``acquire`` … ``release``, whatever happens in between; ``kind`` is told to the observer."""
        permit = await self.acquire()
        permit.kind = kind
        try:
            yield permit
        finally:
            self.release(permit)

    # ---- adapting

    def _throttled(self, permit: Permit) -> None:
        if permit.epoch != self._epoch:  # sent under a limit already decreased
            return
        self._epoch += 1
        self._starting = False
        self._successes = 0
        self._set(max(self.minimum, math.floor(permit.limit * self.decrease)))

    def _succeeded(self) -> None:
        # released already: in_flight + 1 was out. Growth needs a limit that held something back.
        if self._limit >= self.maximum or not (self._waiters or self._in_flight + 1 >= self._limit):
            return
        self._successes += 1
        if self._successes >= (2 if self._starting else self.window * self._limit):
            self._successes = 0
            self._set(self._limit + 1)

    def _set(self, limit: int) -> None:
        if limit != self._limit:
            self._limit = limit
            self.history.append((self.elapsed, limit))

    # ---- handing out

    def _permit(self) -> Permit:
        return Permit(self._epoch, self._limit, granted=self._clock())

    def _grant(self) -> None:
        while self._waiters and self._in_flight < self._limit:
            waiter = self._waiters.popleft()
            if waiter.done():  # cancelled while queued
                continue
            self._in_flight += 1
            waiter.set_result(self._permit())
