"""A run across accounts: which account each plan and each apply report is about, and their totals.

A run covers one account (the credentials' own, as before) or several: the parent and subaccounts the
files name with ``account:``. Each account is planned and applied on its own; these types keep each
result with its account so every rendering can say where a change is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from reconciler.apply import ApplyReport
from reconciler.plan import Plan


@dataclass(frozen=True)
class AccountRef:
    """An account as a run knows it: its SID (None: the credentials' own, SID not given) and friendly name."""

    sid: str | None
    friendly_name: str | None = None

    @property
    def label(self) -> str:
        """``AC… (Customer A)``, or the SID alone, or what it is when its SID is not known."""
        if self.sid is None:
            return "the credentials' account"
        return f"{self.sid} ({self.friendly_name})" if self.friendly_name else self.sid

    def as_dict(self) -> dict[str, Any]:
        return {"sid": self.sid, "friendly_name": self.friendly_name}


class AccountPlan(NamedTuple):
    account: AccountRef
    plan: Plan


class AccountReport(NamedTuple):
    account: AccountRef
    report: ApplyReport


def plan_totals(plans: Sequence[AccountPlan]) -> dict[str, int]:
    """The plans' summaries added up."""
    return _added((plan.summary() for _, plan in plans), {"create": 0, "update": 0, "delete": 0})


def report_totals(reports: Sequence[AccountReport]) -> dict[str, int]:
    """The apply reports' summaries added up."""
    return _added(report.summary() for _, report in reports)


def _added(summaries: Iterable[dict[str, int]], start: dict[str, int] | None = None) -> dict[str, int]:
    total = dict(start or {})
    for summary in summaries:
        for kind, count in summary.items():
            total[kind] = total.get(kind, 0) + count
    return total
