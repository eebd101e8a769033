"""A run across accounts: the one safety gate, one account under two names, --account and --target per account."""

from __future__ import annotations

import weakref
from dataclasses import replace

import pytest

from reconciler.accounts.reach import Reached
from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.accounts.run import Planner, Run, check_distinct, sids_of
from reconciler.errors import AccountError, UnsafePlanError
from reconciler.models import DesiredState, LivePools, LiveSender, Safety, Service
from reconciler.offline import only
from reconciler.plan import Plan, build_plan
from tests.factories import CREDS, A, B, C, desired, live, sid_of, state

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
    check_distinct([(AccountRef(PARENT), sids_of([live(A)])), (AccountRef(SUB), sids_of([live(B)]))])
    with pytest.raises(AccountError) as caught:
        check_distinct([(AccountRef(PARENT), sids_of([live(A), live(B)])), (AccountRef(SUB), sids_of([live(C), live(B)]))])
    message = str(caught.value)
    assert f"accounts {PARENT} and {SUB} list the same sender ({sid_of(B)})" in message
    assert "nothing was planned" in message


def test_a_sender_without_a_sid_matches_nothing() -> None:
    nameless = live(A).model_copy(update={"sid": ""})
    assert sids_of([nameless]) == ()
    check_distinct([(AccountRef(PARENT), ["", sid_of(A)]), (AccountRef(SUB), [""])])


def test_only_keeps_the_named_accounts_and_refuses_one_no_file_names() -> None:
    states = [DesiredState(senders=(), account=PARENT), DesiredState(senders=(), account=SUB)]
    assert only(states, ()) == states
    assert [s.account for s in only(states, (SUB,))] == [SUB]
    with pytest.raises(AccountError, match="no file names this account"):
        only(states, ("AC" + "2" * 32,))


def planned(targets: tuple[str, ...], *accounts: tuple[DesiredState, list[LiveSender]]) -> Run:
    """A run planned the way a session plans it: each account as it is read, the last one first."""
    sids = [PARENT, SUB, "AC" + "2" * 32][: len(accounts)]
    planner = Planner([s for s, _ in accounts], sids, allow_delete=False, targets=targets, force=False)
    for sid, (_, current) in reversed(list(zip(sids, accounts, strict=True))):
        planner.plan(Reached(AccountRef(sid), CREDS), current)
    return planner.run([Reached(AccountRef(sid), CREDS) for sid in sids])


def test_targets_go_to_the_account_that_holds_them_and_typos_to_the_first() -> None:
    typo = "whatsapp:+19999999999"
    parent, sub = (state(desired(A)), [live(C)]), (state(desired(B)), [live(B)])

    def targets(run: Run) -> list[tuple[str, tuple[str, ...]]]:
        return [(p.account.sid, p.plan.targets) for p in run.accounts]

    assert targets(planned((A, B, typo), parent, sub)) == [(PARENT, (A, typo)), (SUB, (B,))]
    assert targets(planned((B,), parent, sub)) == [(SUB, (B,))]  # never the first account's problem
    assert targets(planned((sid_of(C), B[len("whatsapp:"):]), parent, sub)) == [(PARENT, (C,)), (SUB, (B[9:],))]
    assert targets(planned((), parent, sub)) == [(PARENT, ()), (SUB, ())]
    assert [who.account.sid for who in planned((typo,), parent, sub).reached] == [PARENT]


class Senders(list[LiveSender]):
    """A list of live senders whose going can be watched (a weak reference)."""


@pytest.mark.parametrize("targets", [(), (A, B)])
def test_a_planned_account_keeps_its_plan_and_lets_its_senders_go(targets: tuple[str, ...]) -> None:
    """Once planned, an account's live senders are dropped; with --target only the first account's wait for the end,
    where the targets no account holds become its problems."""
    first, second = Senders([live(A), live(C)]), Senders([])
    watched = weakref.ref(first), weakref.ref(second)
    planner = Planner([state(desired(A)), state(desired(B))], [PARENT, SUB], allow_delete=False, targets=targets,
                      force=False)
    planner.plan(Reached(AccountRef(SUB), CREDS), second)
    planner.plan(Reached(AccountRef(PARENT), CREDS), first)
    del first, second
    assert [ref() is None for ref in watched] == [not targets, True]
    run = planner.run([Reached(AccountRef(PARENT), CREDS), Reached(AccountRef(SUB), CREDS)])
    assert [(p.plan.summary()["delete"], [q.kind for q in p.plan.problems]) for p in run.accounts] == [
        (0 if targets else 1, []), (0, ["name_required"])]
    with pytest.raises(AccountError, match="list the same sender"):
        planned((), (state(), [live(A)]), (state(), [live(A)]))


def test_the_planner_knows_whose_pools_to_read_plans_them_and_places_their_problems() -> None:
    sales = "MG" + "a" * 32
    pools = LivePools.of([Service(sales, "Sales")], {})
    states = [state(desired(A)), state(desired(B, messaging_service="Sales"), desired(C, messaging_service="Nope"))]
    placed: list[str] = []

    def place(plan: Plan, _state: DesiredState) -> Plan:
        placed.extend(p.kind for p in plan.problems)
        return replace(plan, problems=tuple(replace(p, where="here.yaml:3:24") for p in plan.problems))

    planner = Planner(states, [PARENT, SUB], allow_delete=False, targets=(C, A), force=False, place=place)
    assert planner.pooled == frozenset({SUB})  # only the subaccount's files name a service
    planner.plan(Reached(AccountRef(SUB), CREDS), [live(B), live(C)], pools)
    planner.plan(Reached(AccountRef(PARENT), CREDS), [live(A)])
    run = planner.run([Reached(AccountRef(PARENT), CREDS), Reached(AccountRef(SUB), CREDS)])
    sub = run.accounts[1].plan
    assert [(p.sender_id, p.kind, p.where) for p in sub.problems] == [(C, "service_unknown", "here.yaml:3:24")]
    assert placed == ["service_unknown"] and sub.targets == (C,)
    again = Planner(states, [PARENT, SUB], allow_delete=False, targets=(B,), force=False)
    again.plan(Reached(AccountRef(SUB), CREDS), [live(B)], pools)
    again.plan(Reached(AccountRef(PARENT), CREDS), [live(A)])
    [moved] = again.run([Reached(AccountRef(PARENT), CREDS), Reached(AccountRef(SUB), CREDS)]).accounts
    assert [(a.action, a.body) for a in moved.plan.actions] == [("pool", {"remove": None, "add": sales})]
