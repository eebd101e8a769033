"""Fault injection: added latency, 429s, 5xx, connections dropped after a commit, slow responses, and a
limit on requests in flight at once.

Every request admitted under the concurrency limit draws the same four numbers from one seeded
generator, whatever the rates are, so the same sequence of requests meets the same faults under the
same seed. The concurrency limit involves no chance: it refuses what is over it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    """What to inject. All rates are probabilities from 0 to 1.

    >>> Faults(seed=1, rate_429=0.1, retry_after=2).rate_429   # 10% of requests get 429 with ``Retry-After: 2``
    0.1
    >>> Faults(latency=0.05, max_in_flight=8).max_in_flight    # the 9th request at once gets 429
    8
    """

    seed: int = 0
    #: Seconds added to every request.
    latency: float = 0.0
    #: Share of requests refused with 429 / 20429 before they are processed.
    rate_429: float = 0.0
    #: None: 429 without ``Retry-After`` (Twilio promises none); a number: that header, in seconds.
    retry_after: float | None = None
    #: Share of requests answered 500 / 20500 before they are processed.
    rate_5xx: float = 0.0
    #: Share of writes (create, update, delete) committed, then answered by closing the connection.
    rate_drop_after_commit: float = 0.0
    #: Share of requests delayed by ``slow_seconds`` before they are processed.
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    #: Only writes (create, update, delete) meet 429s, 5xx and slow responses; reads always pass.
    #: The random sequence is drawn for every request all the same, so a seed keeps its meaning.
    writes_only: bool = False
    #: None: no limit. A number L: a request that arrives while L are in flight (received, not yet
    #: answered, latency included) is refused with 429 / 20429 and no ``Retry-After``, as Twilio refuses
    #: requests past an account's concurrency limit. Reads count and are refused too, ``writes_only``
    #: or not: the limit is the account's. A refused request is not in flight and draws no faults.
    max_in_flight: int | None = None

    def __post_init__(self) -> None:
        for name in ("rate_429", "rate_5xx", "rate_drop_after_commit", "slow_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        for name in ("latency", "slow_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after cannot be negative")
        if self.max_in_flight is not None and self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, not {self.max_in_flight}")


@dataclass(frozen=True)
class Decision:
    """The faults one request meets."""

    throttle: bool = False
    server_error: bool = False
    drop_after_commit: bool = False
    slow: bool = False


class FaultInjector:
    """Draws a :class:`Decision` per request from a generator seeded with ``faults.seed``."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self._rng = random.Random(faults.seed)

    def decide(self, write: bool = True) -> Decision:
        """The faults of the next request; ``write``: whether it is a create, update or delete."""
        f = self.faults
        r429, r5xx, rdrop, rslow = (self._rng.random() for _ in range(4))
        if f.writes_only and not write:
            return Decision()
        return Decision(
            throttle=r429 < f.rate_429,
            server_error=r5xx < f.rate_5xx,
            drop_after_commit=rdrop < f.rate_drop_after_commit,
            slow=rslow < f.slow_rate,
        )
