"""A run: one plan per account, the proven credentials of each, and the checks made on the whole of it.

    run = Run(tuple(plans), tuple(reached))
    run.check_safety()        # the one safety gate: plan, saved plans and apply all pass through it
    check_distinct(sids)      # two accounts that list the same senders are one account under two names
    planner = Planner(states, sids, allow_delete=False, targets=(), force=False)
    planner.plan(who, live)   # as each account's senders are read; then planner.run(reached)

:class:`Run` is what ``Session.plan`` and ``Session.load_saved_plan`` return and ``Session.apply`` takes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.accounts.reach import Reached
from reconciler.accounts.record import AccountPlan, AccountRef, AccountReport
from reconciler.apply import Outcome, Settled
from reconciler.errors import AccountError, SafetyViolation, UnsafePlanError
from reconciler.interrupts import Interrupts
from reconciler.models import DesiredState, LivePools, LiveSender
from reconciler.plan import Plan, build_plan


@dataclass(frozen=True)
class Run:
    """The plans of a run, one per account, and the proven credentials that reach each (none for a plan
    read offline, to show)."""

    accounts: tuple[AccountPlan, ...]
    reached: tuple[Reached, ...] = field(repr=False, default=())

    @property
    def plans(self) -> tuple[AccountPlan, ...]:
        return self.accounts

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
        return tuple(v for p in self.accounts for v in p.safety_violations(labelled=self.several))

    def check_safety(self, *, saved: bool | None = None) -> tuple[SafetyViolation, ...]:
        """The one safety gate: :class:`UnsafePlanError` when any account's plan crosses its thresholds and
        was not forced; else the thresholds crossed under ``--force`` (empty when none), for the caller to say.

        ``saved``: for a plan being saved, that the refusal left no file (the error says so)."""
        violations = self.safety_violations()
        if violations and not self.forced:
            raise UnsafePlanError(violations, saved=saved)
        return violations


def sids_of(live: Iterable[LiveSender]) -> tuple[str, ...]:
    """The SIDs of an account's live senders: what :func:`check_distinct` needs of them."""
    return tuple(sender.sid for sender in live if sender.sid)


def check_distinct(lives: Sequence[tuple[AccountRef, Iterable[str]]]) -> None:
    """:class:`AccountError` when two accounts of a run list the same sender (``lives``: each account with the SIDs
    of its live senders, :func:`sids_of`): a sender's SID is unique, so their credentials reach one account, and
    planning each would delete the other's senders. Nothing is planned."""
    seen: dict[str, AccountRef] = {}
    for account, sids in lives:
        for sid in sids:
            if not sid:
                continue
            first = seen.setdefault(sid, account)
            if first.sid != account.sid:
                raise AccountError(
                    f"accounts {first.sid} and {account.sid} list the same sender ({sid}): the credentials "
                    "given for them reach one account, so they cannot be planned apart; nothing was planned. Check "
                    "which account each credential belongs to (docs/accounts.md)")


def _held(targets: tuple[str, ...], state: DesiredState, live: Sequence[LiveSender]) -> set[str]:
    here = {s.sender_id for s in state.senders} | {s.sender_id for s in live} | {s.sid for s in live}
    return {t for t in targets if t in here or "whatsapp:" + t in here}


@dataclass
class _Planned:
    """What is kept of an account once planned: its plan (None: no ``--target`` is here), the SIDs of its live
    senders, the targets it holds."""

    plan: AccountPlan | None
    sids: tuple[str, ...]
    held: set[str]


class Planner:
    """Each account planned as soon as its live senders are read, then reduced to what the run keeps: its plan
    and its live senders' SIDs. Its live senders and its desired state are dropped then, so a run across many
    accounts holds the live senders of those in flight only, not of all of them.

    ``--target`` ids go to the accounts that hold them (in their files or live, by sender id or SID); those no
    account holds go to the first, so a typo is still reported as a problem, not silently dropped. That is
    known only once every account is read, so with targets the first account's live senders are kept to the end.
    """

    def __init__(self, states: Sequence[DesiredState], accounts: Sequence[str], *, allow_delete: bool,
                 targets: tuple[str, ...], force: bool, place: Callable[[Plan, DesiredState], Plan] | None = None):
        self._states: list[DesiredState | None] = list(states)
        self._index = {sid: i for i, sid in enumerate(accounts)}
        self._allow_delete, self._targets, self._force = allow_delete, targets, force
        self._planned: dict[int, _Planned] = {}
        self._first: Sequence[LiveSender] = ()
        self._first_pools: LivePools | None = None
        #: The accounts whose files declare a Messaging Service: their pools are read with their senders.
        self.pooled = frozenset(sid for sid, state in zip(accounts, states, strict=True) if state.declares_services)
        #: What a plan's problems learn from the files once it is made (where a service is named, say).
        self._place = place or (lambda plan, _state: plan)

    def plan(self, who: Reached, live: Sequence[LiveSender], pools: LivePools | None = None) -> None:
        """Plan ``who``'s account against its live senders, and its pools when read (called as each account is read)."""
        index = self._index[who.account.sid]
        state = self._states[index]
        assert state is not None, "an account is planned once"
        held = _held(self._targets, state, live) if self._targets else set()
        self._planned[index] = _Planned(self._planned_with(who, state, live, held, pools), sids_of(live), held)
        if index == 0 and self._targets:
            self._first, self._first_pools = live, pools
        else:
            self._states[index] = None

    def run(self, reached: Sequence[Reached]) -> Run:
        """The run, once every account is planned: :class:`AccountError` when two of them are one account."""
        check_distinct([(who.account, self._planned[i].sids) for i, who in enumerate(reached)])
        anywhere = set().union(*(p.held for p in self._planned.values()))
        nowhere = {t for t in self._targets if t not in anywhere}
        if nowhere and reached:
            first, state = self._planned[0], self._states[0]
            assert state is not None
            first.plan = self._planned_with(reached[0], state, self._first, first.held | nowhere, self._first_pools)
        kept = [(p.plan, who) for p, who in zip((self._planned[i] for i in range(len(reached))), reached, strict=True)
                if p.plan is not None]
        return Run(tuple(plan for plan, _ in kept), tuple(who for _, who in kept))

    def _planned_with(self, who: Reached, state: DesiredState, live: Sequence[LiveSender], held: set[str],
                      pools: LivePools | None = None) -> AccountPlan | None:
        local = tuple(t for t in self._targets if t in held)
        if self._targets and not local:
            return None
        plan = build_plan(state, live, allow_delete=self._allow_delete, targets=local, pools=pools)
        return AccountPlan(who.account, self._place(plan, state), state.safety, self._force, state.sources)


@dataclass(frozen=True)
class PlanResult:
    """What ``reconciler plan`` did: the run, the thresholds crossed under ``--force``, the gate's refusal
    (nothing saved), whether the plan was saved, and the saved plan's text when it goes to standard output."""

    run: Run
    forced: tuple[SafetyViolation, ...] = ()
    refused: UnsafePlanError | None = None
    saved: bool = False
    document: str | None = None


class ApplyFront(Protocol):
    """What faces a person (or a CI log) during an apply: the confirmation, the writes watched, each outcome."""

    def confirm(self) -> None: ...
    def writing(self, interrupts: Interrupts) -> AbstractContextManager[None]: ...
    def stopping(self) -> None: ...
    def landed(self, outcome: Outcome) -> None: ...
    def written(self, reports: Sequence[AccountReport]) -> None: ...
    def waiting(self, statuses: dict[str, LiveSender | None], moving: tuple[str, ...], elapsed: float) -> None: ...


@dataclass(frozen=True)
class ApplyResult:
    """What ``reconciler apply`` did: each account's report (none when ``blocked`` by problems), the wait's
    statuses (None when it was not asked for, or stopped)."""

    run: Run
    reports: tuple[AccountReport, ...] = ()
    settled: Settled | None = None
    wait_stopped: bool = False
    blocked: bool = False

    @property
    def ok(self) -> bool:
        return (not self.blocked and all(r.report.ok for r in self.reports) and not self.wait_stopped
                and (self.settled is None or not self.settled.timed_out))
