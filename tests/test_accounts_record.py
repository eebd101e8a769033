"""The one record of an account's plan: its label, its safety, its name as read now, totals across accounts."""

from __future__ import annotations

from reconciler.accounts.record import AccountPlan, AccountRef, AccountReport, plan_totals, report_totals
from reconciler.apply import ApplyReport
from reconciler.models import DesiredSender, Safety
from reconciler.plan import build_plan
from tests.factories import A, B, desired, live, state

SID = "AC" + "b" * 32


def test_an_account_is_labelled_by_its_sid_and_name() -> None:
    assert AccountRef(SID).label == SID
    assert AccountRef(SID, "Acme").label == f"{SID} (Acme)"
    assert AccountRef(SID, "Acme").as_dict() == {"sid": SID, "friendly_name": "Acme"}


def test_a_plan_takes_the_name_read_now_and_keeps_the_old_one_when_none_was_read() -> None:
    plan = AccountPlan(AccountRef(SID, "Old"), build_plan(state(), []))
    assert plan.named("New").account == AccountRef(SID, "New")
    assert plan.named(None) is plan and plan.named("Old") is plan
    assert plan.forcing(False) == plan and plan.forcing(True).forced


def test_violations_are_said_for_the_account_when_asked() -> None:
    plan = AccountPlan(AccountRef(SID), build_plan(state(), [live(A), live(B)], allow_delete=True),
                       Safety(max_delete_percent=0, min_senders=0))
    (bare,) = plan.safety_violations()
    (labelled,) = plan.safety_violations(labelled=True)
    assert bare.account is None and labelled.account == SID


def test_totals_add_up_every_account() -> None:
    one = AccountPlan(AccountRef(SID), build_plan(state(named(A)), []))
    two = AccountPlan(AccountRef("AC" + "c" * 32), build_plan(state(named(A), named(B)), []))
    assert plan_totals([one, two]) == {"create": 3, "update": 0, "delete": 0, "pool": 0}
    assert plan_totals([]) == {"create": 0, "update": 0, "delete": 0, "pool": 0}
    assert report_totals([AccountReport(AccountRef(SID), ApplyReport())]) == ApplyReport().summary()


def named(sender_id: str) -> DesiredSender:
    return desired(sender_id, profile={"name": "Shop"})
