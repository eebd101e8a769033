"""Pure tests of pool planning: a sender's ``messaging_service`` against the pools its account's services hold."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.diff import fingerprint
from reconciler.models import DesiredState, LivePools, Safety, Service
from reconciler.plan import build_plan, plan_from_data, plan_to_data
from reconciler.pools import leaves_pool, service_label, service_value
from tests.factories import A, B, C, desired, live, sid_of, state

SALES, SUPPORT, OTHER = ("MG" + c * 32 for c in "abc")
SERVICES = (Service(SALES, "Sales"), Service(SUPPORT, "Support line"), Service(OTHER))


def pools(**members: list[str]) -> LivePools:
    """The three services, ``SALES=[A]`` putting sender A (by its SID) in Sales' pool."""
    named = {"SALES": SALES, "SUPPORT": SUPPORT, "OTHER": OTHER}
    return LivePools.of(SERVICES, {named[k]: [sid_of(s) for s in v] for k, v in members.items()})


def pool_actions(plan: Any) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [(a.sender_id, a.sid, a.body) for a in plan.actions if a.action == "pool"]


def test_a_sender_moves_from_one_service_to_another() -> None:
    plan = build_plan(state(desired(A, messaging_service="Sales")), [live(A)], pools=pools(SUPPORT=[A]))
    [action] = plan.actions
    assert (action.action, action.sid, action.symbol, action.status) == ("pool", sid_of(A), "~", "ONLINE")
    assert action.body == {"remove": SUPPORT, "add": SALES}
    [change] = action.changes
    assert (change.path, change.before, change.after) == (
        "messaging_service", {"sid": SUPPORT, "friendly_name": "Support line"}, {"sid": SALES, "friendly_name": "Sales"})
    assert plan.summary() == {"create": 0, "update": 0, "delete": 0, "pool": 1}
    assert plan.applyable and plan.drifted and plan.drifted_senders() == [A]


def test_a_sender_joins_leaves_or_stays() -> None:
    wanted = state(desired(A, messaging_service=SALES), desired(B, messaging_service=None),
                   desired(C, messaging_service="Sales"))
    plan = build_plan(wanted, [live(A), live(B), live(C)], pools=pools(SALES=[C], OTHER=[B]))
    assert pool_actions(plan) == [(A, sid_of(A), {"remove": None, "add": SALES}),
                                  (B, sid_of(B), {"remove": OTHER, "add": None})]
    assert plan.actions[1].changes[0].after is None


def test_a_sender_that_does_not_name_a_service_is_never_looked_at() -> None:
    plan = build_plan(state(desired(A, profile={"about": "x"})), [live(A, profile={"about": "x"})],
                      pools=pools(SALES=[A], SUPPORT=[A]))
    assert plan.actions == () and plan.notices == () and not plan.drifted


def test_without_pools_read_nothing_about_services_is_planned() -> None:
    plan = build_plan(state(desired(A, messaging_service="Sales")), [live(A)])
    assert plan.actions == () and plan.problems == ()


def test_a_create_plans_both_steps() -> None:
    plan = build_plan(state(desired(A, profile={"name": "Acme"}, messaging_service="Support line")), [], pools=pools())
    assert [(a.action, a.sid, a.planned_from) for a in plan.actions] == [("create", None, "absent"),
                                                                        ("pool", None, "absent")]
    assert plan.actions[1].body == {"remove": None, "add": SUPPORT}
    assert plan.summary() == {"create": 1, "update": 0, "delete": 0, "pool": 1}


def test_a_create_in_no_service_or_refused_plans_no_pool_step() -> None:
    wanted = state(desired(A, profile={"name": "Acme"}, messaging_service=None),
                   desired(B, profile={"about": "no name"}, messaging_service="Sales"))
    plan = build_plan(wanted, [], pools=pools())
    assert [(a.action, a.sender_id) for a in plan.actions] == [("create", A)]
    assert [p.kind for p in plan.problems] == ["name_required"]


@pytest.mark.parametrize(("named", "kind", "sids"), [("Nope", "service_unknown", ()),
                                                     ("MG" + "d" * 32, "service_unknown", ()),
                                                     ("Sales", "service_ambiguous", (SALES, OTHER))])
def test_a_service_found_not_once_is_a_problem_that_points_at_the_file(named: str, kind: str,
                                                                      sids: tuple[str, ...]) -> None:
    twice = LivePools.of((Service(SALES, "Sales"), Service(OTHER, "Sales")), {})
    wanted = DesiredState(senders=(desired(A, messaging_service=named),),
                          service_declarations={A: ("team.yaml", ("senders", 0, "messaging_service"))})
    plan = build_plan(wanted, [live(A)], pools=twice)
    assert plan.actions == ()
    [problem] = plan.problems
    assert (problem.sender_id, problem.kind, problem.path, problem.after, problem.sids, problem.where) == (
        A, kind, "messaging_service", named, sids, "team.yaml")


def test_a_sender_in_several_pools_is_a_notice_and_drift_never_a_guess() -> None:
    plan = build_plan(state(desired(A, messaging_service="Sales")), [live(A)], pools=pools(SALES=[A], SUPPORT=[A]))
    assert plan.actions == () and not plan.applyable
    [notice] = plan.notices
    assert (notice.kind, notice.name) == ("several_services", f"{SALES} (Sales), {SUPPORT} (Support line)")
    assert plan.drifted and plan.drifted_senders() == [A] and plan.pool_conflicts == (notice,)


def test_pools_follow_the_targets() -> None:
    wanted = state(desired(A, messaging_service="Sales"), desired(B, messaging_service="Sales"))
    plan = build_plan(wanted, [live(A), live(B)], pools=pools(), targets=[B])
    assert pool_actions(plan) == [(B, sid_of(B), {"remove": None, "add": SALES})]


def test_leaving_a_pool_counts_toward_the_safety_threshold_like_an_update() -> None:
    senders = [live(f"whatsapp:+150171226{i:02d}") for i in range(10)]
    leaving = [desired(s.sender_id, messaging_service=None) for s in senders[:4]]
    joining = [desired(s.sender_id, messaging_service="Sales") for s in senders[4:]]
    current = pools(SUPPORT=[s.sender_id for s in senders[:4]])
    plan = build_plan(state(*leaving, *joining), senders, pools=current)
    assert [leaves_pool(a) for a in plan.actions] == [True] * 4 + [False] * 6
    [violation] = plan.safety_violations(Safety(max_update_percent=30))
    assert (violation.kind, violation.count, violation.total) == ("update", 4, 10)
    assert plan.safety_violations(Safety(max_update_percent=40)) == ()


def test_a_sender_updated_and_moved_counts_once() -> None:
    senders = [live(f"whatsapp:+150171226{i:02d}", profile={"about": "old"}) for i in range(10)]
    wanted = [desired(s.sender_id, profile={"about": "new"}, messaging_service=None) for s in senders[:4]]
    plan = build_plan(state(*wanted), senders, pools=pools(SUPPORT=[s.sender_id for s in senders[:4]]))
    assert [v.count for v in plan.safety_violations(Safety())] == [4]


def test_every_action_of_a_moved_sender_is_planned_from_its_fields_and_its_pools() -> None:
    current = live(A, profile={"about": "old"})
    plan = build_plan(state(desired(A, profile={"about": "new"}, messaging_service="Sales")), [current],
                      pools=pools(SUPPORT=[A]))
    update, move = plan.actions
    assert (update.action, move.action) == ("update", "pool")
    assert update.planned_from == move.planned_from == fingerprint(current, (SUPPORT,)) != fingerprint(current)
    assert dict(plan.fingerprints) == {A: fingerprint(current, (SUPPORT,))}
    unmoved = build_plan(state(desired(A, profile={"about": "new"})), [current], pools=pools(SUPPORT=[A]))
    assert unmoved.actions[0].planned_from == fingerprint(current)


def test_a_fingerprint_with_pools_changes_with_them() -> None:
    current = live(A)
    assert fingerprint(current, (SALES,)) != fingerprint(current, (SUPPORT,)) != fingerprint(current, ())
    assert fingerprint(current, (SALES, SUPPORT)) == fingerprint(current, (SUPPORT, SALES))


def test_services_are_labelled_with_their_names() -> None:
    assert service_label(Service(SALES, "Sales")) == f"{SALES} (Sales)"
    assert service_label(Service(OTHER)) == OTHER and service_label(None) == "none"
    assert service_value(None) is None and service_value(Service(OTHER)) == {"sid": OTHER, "friendly_name": None}


# --------------------------------------------------------------------------- saved plans


def _pool_plan() -> Any:
    wanted = DesiredState(
        senders=(desired(A, messaging_service="Sales", profile={"about": "new"}),
                 desired(B, profile={"name": "Beta"}, messaging_service="Support line"),
                 desired(C, messaging_service="Nope")),
        service_declarations={C: ("senders.yaml", ("senders", 2, "messaging_service"))})
    return build_plan(wanted, [live(A, profile={"about": "old"}), live(C)], pools=pools(SUPPORT=[A], OTHER=[C]))


def test_a_plan_with_pool_actions_reads_back_as_written() -> None:
    plan = _pool_plan()
    assert {a.action for a in plan.actions} == {"update", "create", "pool"} and plan.problems
    back = plan_from_data(plan_to_data(plan))
    assert back == plan and [a.planned_from for a in back.actions] == [a.planned_from for a in plan.actions]
    assert back.problems[0].where == "senders.yaml"


def _pool_index(data: dict[str, Any]) -> int:
    return next(i for i, a in enumerate(data["actions"]) if a["action"] == "pool")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a: a["body"].update(add=5), "body.add: expected a string or null, not the number 5"),
        (lambda a: a["body"].pop("remove"), "body.remove: missing"),
        (lambda a: a["changes"].append(a["changes"][0]), "changes: expected a list of 1, not a list"),
        (lambda a: a["changes"][0].update(path="profile.about"),
         "changes[0].path: 'profile.about' is not 'messaging_service'"),
        (lambda a: a["changes"][0].update(after={"sid": SALES}), "changes[0].after.friendly_name: missing"),
        (lambda a: a["changes"][0].update(before="\x1b[2J"), "changes[0].before: expected an object, not the string"),
    ],
)
def test_a_forged_pool_action_is_refused_at_its_place(edit: Any, message: str) -> None:
    data = plan_to_data(_pool_plan())
    index = _pool_index(data)
    edit(data["actions"][index])
    with pytest.raises(ValueError) as caught:
        plan_from_data(data, "accounts[0]")
    assert str(caught.value).startswith(f"accounts[0].actions[{index}].{message}")


def test_no_other_action_may_name_the_service() -> None:
    data = plan_to_data(_pool_plan())
    data["actions"][0]["changes"][0]["path"] = "messaging_service"
    with pytest.raises(ValueError, match=r"actions\[0\]\.changes\[0\]\.path: 'messaging_service' is not a field"):
        plan_from_data(data)
