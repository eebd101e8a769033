"""A run: one plan per account, the proven credentials of each, and the checks made on the whole of it.

    run = Run(tuple(plans), tuple(reached))
    run.check_safety()        # the one safety gate: plan, saved plans and apply all pass through it
    check_distinct(lives)     # two accounts that list the same senders are one account under two names

:class:`Run` is what ``Session.plan`` and ``Session.load_saved_plan`` return and ``Session.apply`` takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.accounts.reach import Reached
from reconciler.accounts.record import AccountPlan, AccountRef, AccountReport
from reconciler.apply import Outcome, Settled
from reconciler.errors import AccountError, SafetyViolation, UnsafePlanError
from reconciler.interrupts import Interrupts
from reconciler.models import DesiredState, LiveSender


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


def check_distinct(lives: Sequence[tuple[AccountRef, Sequence[LiveSender]]]) -> None:
    """:class:`AccountError` when two accounts of a run list the same sender: a sender's SID is unique, so their
    credentials reach one account, and planning each would delete the other's senders. Nothing is planned."""
    seen: dict[str, AccountRef] = {}
    for account, live in lives:
        for sender in live:
            if not sender.sid:
                continue
            first = seen.setdefault(sender.sid, account)
            if first.sid != account.sid:
                raise AccountError(
                    f"accounts {first.sid} and {account.sid} list the same sender ({sender.sid}): the credentials "
                    "given for them reach one account, so they cannot be planned apart; nothing was planned. Check "
                    "which account each credential belongs to (docs/accounts.md)")


def targets_per_account(targets: tuple[str, ...], accounts: Sequence[tuple[DesiredState, Sequence[LiveSender]]],
                        ) -> list[tuple[str, ...]]:
    """The ``--target`` ids each account holds (in its file or live, by sender id or SID); those no account
    holds go to the first, so a typo is still reported as a problem, not silently dropped."""
    held = [_held(targets, state, live) for state, live in accounts]
    anywhere = set().union(*held) if held else set()
    return [tuple(t for t in targets if t in here or (i == 0 and t not in anywhere)) for i, here in enumerate(held)]


def _held(targets: tuple[str, ...], state: DesiredState, live: Sequence[LiveSender]) -> set[str]:
    here = {s.sender_id for s in state.senders} | {s.sender_id for s in live} | {s.sid for s in live}
    return {t for t in targets if t in here or "whatsapp:" + t in here}


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
