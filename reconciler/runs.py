"""A run's data: one plan per account, the credentials that reached each, and the CI matrix of the accounts.

:class:`Run` is what ``Session.plan`` and ``Session.load_saved_plan`` return and ``Session.apply``
takes; :class:`Interrupts` carries stop and abort requests into an apply.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from reconciler.accounts import AccountPlan, AccountRef
from reconciler.errors import AccountError, SafetyViolation, UnsafePlanError
from reconciler.models import DesiredState, LiveSender, Safety
from reconciler.plan import Plan
from reconciler.reach import Reached

#: The credentials' own account, its SID not given.
OWN_ACCOUNT = AccountRef(None)


@dataclass(frozen=True)
class Planned:
    """An account's plan and what applying it is held to: the safety thresholds, and whether they were overridden."""

    plan: Plan
    safety: Safety
    forced: bool = False
    sources: tuple[str, ...] = ()
    account: AccountRef = OWN_ACCOUNT


@dataclass(frozen=True)
class Run:
    """The plans of a run, one per account, and the credentials that reached each."""

    accounts: tuple[Planned, ...]
    reached: tuple[Reached, ...] = field(repr=False, default=())

    @property
    def plans(self) -> list[AccountPlan]:
        return [AccountPlan(p.account, p.plan) for p in self.accounts]

    @property
    def several(self) -> bool:
        return len(self.accounts) > 1

    @property
    def problems(self) -> bool:
        return any(p.plan.problems for p in self.accounts)

    @property
    def has_changes(self) -> bool:
        return any(p.plan.has_changes for p in self.accounts)

    @property
    def drifted(self) -> bool:
        return any(p.plan.drifted for p in self.accounts)

    @property
    def allowed_actions(self) -> int:
        return sum(len(p.plan.allowed_actions) for p in self.accounts)

    @property
    def forced(self) -> bool:
        return any(p.forced for p in self.accounts)

    def safety_violations(self) -> tuple[SafetyViolation, ...]:
        """Every threshold crossed, each account weighed against its own senders and its own ``safety:``."""
        return tuple(replace(v, account=p.account.label) if self.several else v
                     for p in self.accounts for v in p.plan.safety_violations(p.safety))

    def check_safety(self) -> None:
        """:class:`UnsafePlanError` when any account's plan crosses its thresholds without ``--force``."""
        violations = self.safety_violations()
        if violations and not self.forced:
            raise UnsafePlanError(violations)


def only(states: list[DesiredState], accounts: Sequence[str]) -> list[DesiredState]:
    """The states of the accounts ``--account`` names; an account no file names is an error."""
    if not accounts:
        return states
    named = {s.account for s in states}
    missing = [a for a in accounts if a not in named]
    if missing:
        raise AccountError(f"--account {', '.join(missing)}: no file names this account "
                           f"(the files name: {', '.join(str(a) for a in named if a) or 'none'})")
    return [s for s in states if s.account in accounts]


def local_targets(targets: tuple[str, ...], state: DesiredState, live: Sequence[LiveSender], *,
                   first: bool) -> tuple[str, ...]:
    """The ``--target`` ids this account holds; the first account also keeps those no account holds (so a
    typo is still reported as a problem, not silently dropped)."""
    if not targets:
        return ()
    here = {s.sender_id for s in state.senders} | {s.sender_id for s in live} | {s.sid for s in live}
    here |= {t for t in targets if "whatsapp:" + t in here}
    return tuple(t for t in targets if t in here or first)


class Interrupts:
    """Stop and abort requests for an apply in progress; ``request()`` is safe to call from a signal handler.

    The first request stops new writes (in-flight ones finish), the second aborts those in flight.
    """

    def __init__(self, on_stop: Callable[[], None] | None = None):
        self.on_stop = on_stop
        self.stopped = False
        self.aborted = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._abort: asyncio.Event | None = None

    def request(self) -> None:
        if not self.stopped:
            self.stopped = True
            if self.on_stop is not None:
                self.on_stop()
            self._set(self._stop)
        else:
            self.aborted = True
            self._set(self._abort)

    def _set(self, event: asyncio.Event | None) -> None:
        if self._loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing is left to stop
                self._loop.call_soon_threadsafe(event.set)

    def _bind(self) -> tuple[asyncio.Event, asyncio.Event]:
        """The events apply watches, bound to the running loop and set already for earlier requests."""
        self._loop = asyncio.get_running_loop()
        self._stop, self._abort = asyncio.Event(), asyncio.Event()
        if self.stopped:
            self._stop.set()
        if self.aborted:
            self._abort.set()
        return self._stop, self._abort
