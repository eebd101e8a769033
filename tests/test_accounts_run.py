"""A run across accounts: the one safety gate, one account under two names, --account and --target per account."""

from __future__ import annotations

import pytest

from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.accounts.run import Run, check_distinct, targets_per_account
from reconciler.errors import AccountError, UnsafePlanError
from reconciler.models import DesiredState, Safety
from reconciler.offline import only
from reconciler.plan import build_plan
from tests.factories import A, B, C, desired, live, sid_of, state

PARENT, SUB = "AC" + "a" * 32, "AC" + "1" * 32
STRICT = Safety(max_delete_percent=10, min_senders=0)


def deleting(account: str, *, forced: bool = False) -> AccountPlan:
    """A plan that deletes two of three live senders: over a 10 % threshold."""
    plan = build_plan(state(desired(A)), [live(A), live(B), live(C)], allow_delete=True)
    return AccountPlan(AccountRef(account), plan, STRICT, forced)


def test_the_gate_refuses_a_plan_over_its_thresholds_naming_the_account_in_a_run_of_several() -> None:
    calm = AccountPlan(AccountRef(PARENT), build_plan(state(desired(A)), [live(A)]), STRICT)
    with pytest.raises(UnsafePlanError) as caught:
        Run((calm, deleting(SUB))).check_safety(saved=False)
    assert str(caught.value) == f"account {SUB}: would delete 2 of 3 senders (67 % > 10 %)"
    assert caught.value.saved is False
    with pytest.raises(UnsafePlanError, match=r"^would delete 2 of 3"):
        Run((deleting(SUB),)).check_safety()


def test_the_gate_lets_a_forced_plan_through_and_returns_what_it_forced() -> None:
    (violation,) = Run((deleting(SUB, forced=True),)).check_safety()
    assert (violation.kind, violation.count, violation.total) == ("delete", 2, 3)
    assert Run((deleting(SUB).forcing(True),)).forced


def test_two_accounts_listing_one_sender_are_one_account_and_nothing_is_planned() -> None:
    check_distinct([(AccountRef(PARENT), [live(A)]), (AccountRef(SUB), [live(B)])])
    with pytest.raises(AccountError) as caught:
        check_distinct([(AccountRef(PARENT), [live(A), live(B)]), (AccountRef(SUB), [live(C), live(B)])])
    message = str(caught.value)
    assert f"accounts {PARENT} and {SUB} list the same sender ({sid_of(B)})" in message
    assert "nothing was planned" in message


def test_a_sender_without_a_sid_matches_nothing() -> None:
    nameless = live(A).model_copy(update={"sid": ""})
    check_distinct([(AccountRef(PARENT), [nameless]), (AccountRef(SUB), [nameless])])


def test_only_keeps_the_named_accounts_and_refuses_one_no_file_names() -> None:
    states = [DesiredState(senders=(), account=PARENT), DesiredState(senders=(), account=SUB)]
    assert only(states, ()) == states
    assert [s.account for s in only(states, (SUB,))] == [SUB]
    with pytest.raises(AccountError, match="no file names this account"):
        only(states, ("AC" + "2" * 32,))


def test_targets_go_to_the_account_that_holds_them_and_typos_to_the_first() -> None:
    typo = "whatsapp:+19999999999"
    parent, sub = (state(desired(A)), [live(C)]), (state(desired(B)), [live(B)])
    assert targets_per_account((A, B, typo), [parent, sub]) == [(A, typo), (B,)]
    assert targets_per_account((B,), [parent, sub]) == [(), (B,)]  # never the first account's problem
    assert targets_per_account((sid_of(C), B[len("whatsapp:"):]), [parent, sub]) == [(sid_of(C),), (B[9:],)]
    assert targets_per_account((), [parent, sub]) == [(), ()]
