"""What a run knows of an account, and the one record of an account's plan.

    plan = AccountPlan(AccountRef("AC…", "Customer A"), build_plan(state, live), state.safety)
    plan.safety_violations()          # each threshold crossed, said for the account
    plan_totals([plan, other])        # {"create": 3, "update": 1, "delete": 0}

:class:`AccountPlan` is what planning returns, what a saved plan holds, what apply takes and what every
renderer reads: one frozen record, never converted into another. An account is its SID, proven to match
the credentials before anything is planned (:mod:`reconciler.accounts.reach`). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.apply import ApplyReport
from reconciler.errors import SafetyViolation
from reconciler.models import Safety
from reconciler.plan import Plan


@dataclass(frozen=True)
class AccountRef:
    """An account as a run knows it: its SID and, when it could be read, its friendly name."""

    sid: str
    friendly_name: str | None = None

    @property
    def label(self) -> str:
        """``AC… (Customer A)``, or the SID alone."""
        return f"{self.sid} ({self.friendly_name})" if self.friendly_name else self.sid

    def as_dict(self) -> dict[str, Any]:
        return {"sid": self.sid, "friendly_name": self.friendly_name}


@dataclass(frozen=True)
class AccountPlan:
    """An account's plan and what applying it is held to: the safety thresholds, whether they were overridden,
    and the files it came from."""

    account: AccountRef
    plan: Plan
    safety: Safety = field(default_factory=Safety)
    forced: bool = False
    sources: tuple[str, ...] = ()

    def safety_violations(self, *, labelled: bool = False) -> tuple[SafetyViolation, ...]:
        """Every threshold this plan crosses, weighed against the account's own senders and ``safety:``;
        ``labelled``: each names the account (in a run of several)."""
        found = self.plan.safety_violations(self.safety)
        return tuple(replace(v, account=self.account.label) for v in found) if labelled else found

    def forcing(self, forced: bool) -> AccountPlan:
        return replace(self, forced=self.forced or forced)

    def named(self, friendly_name: str | None) -> AccountPlan:
        """The same plan, with the account's friendly name as it reads now (kept when none could be read)."""
        if not friendly_name or friendly_name == self.account.friendly_name:
            return self
        return replace(self, account=AccountRef(self.account.sid, friendly_name))


@dataclass(frozen=True)
class AccountReport:
    """What applying an account's plan did."""

    account: AccountRef
    report: ApplyReport


def plan_totals(plans: Sequence[AccountPlan]) -> dict[str, int]:
    """The plans' summaries added up."""
    return _added((p.plan.summary() for p in plans), {"create": 0, "update": 0, "delete": 0, "pool": 0})


def report_totals(reports: Sequence[AccountReport]) -> dict[str, int]:
    """The apply reports' summaries added up."""
    return _added(r.report.summary() for r in reports)


def _added(summaries: Iterable[dict[str, int]], start: dict[str, int] | None = None) -> dict[str, int]:
    total = dict(start or {})
    for summary in summaries:
        for kind, count in summary.items():
            total[kind] = total.get(kind, 0) + count
    return total
