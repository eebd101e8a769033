"""Pure tests of the plan: desired and live senders in, a frozen plan of actions, problems and notices out."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import pytest

from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.accounts.run import Run
from reconciler.diff import NoticeKind, Problem
from reconciler.errors import UnsafePlanError
from reconciler.models import LiveSender, Safety
from reconciler.plan import FIELD_PATHS, Plan, build_plan, plan_from_data, plan_to_data
from reconciler.render.words import action_note, notice_message, problem_message
from tests.factories import SANDBOX, A, B, C, D, desired, live, sid_of, state


def test_create_update_delete_and_gating() -> None:
    wanted = state(desired(A, profile={"name": "Acme", "about": "new"}), desired(B, profile={"name": "Beta"}))
    current = [live(A, profile={"name": "Acme", "about": "old"}), live(C, profile={"name": "Gone"})]
    plan = build_plan(wanted, current)
    assert [(a.action, a.sender_id, a.allowed) for a in plan.actions] == [
        ("update", A, True), ("create", B, True), ("delete", C, False)]
    assert plan.summary() == {"create": 1, "update": 1, "delete": 1, "pool": 0}
    assert plan.actions[0].body == {"profile": {"about": "new"}}
    assert plan.actions[1].body == {"sender_id": B, "profile": {"name": "Beta"}}
    assert not plan.gated[0].allowed and plan.has_changes
    allowed = build_plan(wanted, current, allow_delete=True)
    assert all(a.allowed for a in allowed.actions)


def test_no_changes_is_an_empty_plan() -> None:
    plan = build_plan(state(desired(A, profile={"about": "x"})), [live(A, profile={"about": "x"})])
    assert plan.actions == () and not plan.has_changes and not plan.applyable


def test_ignored_and_sandbox_senders_are_never_deleted() -> None:
    plan = build_plan(state(ignore=[D]), [live(D), live(SANDBOX)], allow_delete=True)
    assert plan.actions == ()


@pytest.mark.parametrize("allow_delete", [False, True])
def test_a_protected_sender_the_files_no_longer_declare_is_a_problem_never_a_delete(allow_delete: bool) -> None:
    plan = build_plan(state(protect={A: "senders.yaml:7:5"}), [live(A), live(B)], allow_delete=allow_delete)
    assert [(a.action, a.sender_id) for a in plan.actions] == [("delete", B)]
    assert plan.problems == (Problem(A, "protected", after="senders.yaml:7:5"),) and not plan.applyable
    assert problem_message(plan.problems[0]).startswith("protected at senders.yaml:7:5, so never deleted")


def test_a_protected_sender_that_is_declared_or_not_live_plans_as_usual() -> None:
    plan = build_plan(state(desired(A, profile={"about": "x"}), protect={A: "s.yaml:3:5", B: "s.yaml:4:5"}),
                      [live(A, profile={"about": "y"})], allow_delete=True)
    assert [(a.action, a.sender_id) for a in plan.actions] == [("update", A)] and plan.problems == ()


def test_a_protected_sender_outside_the_targets_is_left_out_like_the_others() -> None:
    plan = build_plan(state(protect={A: "s.yaml:3:5"}), [live(A), live(B)], allow_delete=True, targets=[B])
    assert [(a.action, a.sender_id) for a in plan.actions] == [("delete", B)] and plan.problems == ()


def test_waba_id_change_is_a_problem_not_an_action() -> None:
    d = desired(A, configuration={"waba_id": "222"}, profile={"about": "new"})
    plan = build_plan(state(d), [live(A, configuration={"waba_id": "111"}, profile={"about": "old"})])
    assert plan.actions == ()
    assert "configuration.waba_id cannot change" in problem_message(plan.problems[0])


def test_create_without_name_is_a_problem() -> None:
    plan = build_plan(state(desired(A, profile={"about": "x"})), [])
    assert plan.actions == () and "profile.name is required" in problem_message(plan.problems[0])


@pytest.mark.parametrize("status", ["PENDING_REVIEW", "APPROVED"])
def test_rename_in_review_is_pending_not_sent(status: str) -> None:
    d = desired(A, profile={"name": "New Name"})
    current = live(A, profile={"name": "Old"}, pending_display_name="New Name", pending_display_name_status=status)
    plan = build_plan(state(d), [current])
    assert plan.actions == ()
    assert plan.notices[0].kind == "rename_pending" and status in notice_message(plan.notices[0])


@pytest.mark.parametrize("status", ["PIN_MISMATCH", "REGISTRATION_FAILED", "EXPIRED"])
def test_rename_retryable_failure_is_resubmitted(status: str) -> None:
    d = desired(A, profile={"name": "New Name"})
    current = live(A, profile={"name": "Old"}, pending_display_name="New Name", pending_display_name_status=status)
    (action,) = build_plan(state(d), [current]).actions
    assert action.body == {"profile": {"name": "New Name"}}
    assert status in str(action_note(action))


def test_declined_rename_is_shown_and_not_resubmitted() -> None:
    d = desired(A, profile={"name": "New Name"})
    current = live(A, profile={"name": "Old"}, pending_display_name="New Name", pending_display_name_status="DECLINED")
    plan = build_plan(state(d), [current])
    assert plan.actions == () and "DECLINED" in notice_message(plan.notices[0])


def test_a_different_name_than_the_one_in_review_waits_and_is_drift() -> None:
    d = desired(A, profile={"name": "Third", "about": "hi"})
    current = live(A, profile={"name": "Old"}, pending_display_name="Second", pending_display_name_status="PENDING_REVIEW")
    plan = build_plan(state(d), [current])
    (action,) = plan.actions
    assert action.body == {"profile": {"about": "hi"}}  # nothing is sent for the name: Meta would refuse it (63128)
    (notice,) = plan.notices
    assert (notice.kind, notice.name, notice.wanted) == ("rename_blocked", "Second", "Third")
    assert notice_message(notice).startswith("display name 'Third' waits for Meta's review of 'Second'")
    only_name = build_plan(state(desired(A, profile={"name": "Third"})), [current])
    assert not only_name.actions and only_name.drifted and only_name.drifted_senders() == [A]
    assert plan_from_data(plan_to_data(only_name)) == only_name


def test_a_different_name_after_the_review_ended_is_sent() -> None:
    for status in ("APPROVED", "DECLINED", "COMPLETED", "EXPIRED"):
        current = live(A, profile={"name": "Old"}, pending_display_name="Second", pending_display_name_status=status)
        (action,) = build_plan(state(desired(A, profile={"name": "Third"})), [current]).actions
        assert action.body == {"profile": {"name": "Third"}}, status


def test_a_live_sender_without_sender_id_or_sid_is_reported_and_never_deleted() -> None:
    nameless = LiveSender.model_validate({"sid": "XE" + "0" * 32, "sender_id": None, "profile": None})
    sidless = LiveSender.model_validate({"sid": None, "sender_id": B})
    plan = build_plan(state(desired(A, profile={"name": "a"})), [nameless, sidless, live(A, profile={"name": "a"})],
                      allow_delete=True)
    assert not plan.actions and not plan.drifted
    assert sorted((n.sender_id, n.kind, n.name) for n in plan.notices) == [
        ("XE" + "0" * 32, "unmatched_live", "sender_id"), (B, "unmatched_live", "sid")]
    assert "left alone (never deleted)" in notice_message(plan.notices[0])


def test_friendly_name_is_diffed_and_sent_at_the_top_level() -> None:
    d = desired(A, friendly_name="Front desk", profile={"name": "a"})
    (action,) = build_plan(state(d), [live(A, profile={"name": "a"}, friendly_name="Old desk")]).actions
    assert action.body == {"friendly_name": "Front desk"}
    assert [(c.path, c.before, c.after) for c in action.changes] == [("friendly_name", "Old desk", "Front desk")]
    assert not build_plan(state(d), [live(A, profile={"name": "a"}, friendly_name="Front desk")]).actions
    (create,) = build_plan(state(d), []).actions
    assert create.body == {"sender_id": A, "friendly_name": "Front desk", "profile": {"name": "a"}}


def test_status_notices() -> None:
    plan = build_plan(
        state(desired(A), desired(B), desired(C)),
        [live(A, status="PENDING_VERIFICATION"), live(B, status="CREATING"),
         live(C, status="OFFLINE", offline_reasons=[{"code": "410", "message": "Number deregistered"}])],
    )
    kinds = {n.sender_id: n for n in plan.notices}
    assert "reconciler verify" in notice_message(kinds[A])
    assert "CREATING" in notice_message(kinds[B])
    assert "410: Number deregistered" in notice_message(kinds[C])


def test_target_limits_both_sides_and_unknown_target_is_a_problem() -> None:
    wanted = state(desired(A, profile={"name": "a"}), desired(B, profile={"name": "b"}))
    plan = build_plan(wanted, [live(C)], targets=[A, D])
    assert [a.sender_id for a in plan.actions] == [A]
    assert plan.problems[0].sender_id == D


def test_a_target_names_a_live_sender_by_its_sid_and_a_number_without_the_prefix_gets_a_suggestion() -> None:
    wanted = state(desired(A, profile={"name": "a"}), desired(B, profile={"name": "b"}))
    current = [live(A, profile={"name": "old"}), live(B, profile={"name": "old"})]
    plan = build_plan(wanted, current, targets=iter([sid_of(A)]))
    assert [a.sender_id for a in plan.actions] == [A] and plan.targets == (A,) and not plan.problems
    plan = build_plan(wanted, current, targets=[A.removeprefix("whatsapp:"), "+15550000000"])
    assert plan.actions == ()
    assert [(p.kind, p.sender_id, p.after) for p in plan.problems] == [
        ("target_unmatched", "+15017122661", A), ("target_unmatched", "+15550000000", None)]


def test_a_sender_id_listed_twice_live_is_a_problem_and_neither_sender_is_touched() -> None:
    twice = [live(A, sid="XE" + "1" * 32, profile={"name": "x"}), live(A, sid="XE" + "2" * 32, profile={"name": "y"})]
    plan = build_plan(state(desired(A, profile={"name": "a"})), [*twice, live(B)], allow_delete=True)
    assert [(a.action, a.sender_id) for a in plan.actions] == [("delete", B)]
    assert [(p.kind, p.sender_id, p.sids) for p in plan.problems] == [
        ("listed_twice", A, ("XE" + "1" * 32, "XE" + "2" * 32))]


def test_safety_weighs_every_managed_live_sender_whatever_the_targets() -> None:
    current = [live(A), live(B), live(C), live(D), live(SANDBOX)]
    plan = build_plan(state(ignore=[D]), current, allow_delete=True, targets=[A])
    assert [a.sender_id for a in plan.actions] == [A]
    assert (plan.live_count, plan.managed_count) == (5, 3)


def _gate(plan: Plan, safety: Safety, *, forced: bool = False) -> None:
    """The one safety check a plan goes through, whether it is shown, saved or applied."""
    Run((AccountPlan(AccountRef("AC" + "0" * 32), plan, safety, forced),)).check_safety()


def test_safety_thresholds() -> None:
    current = [live(f"whatsapp:+150171226{i:02d}") for i in range(10, 22)]
    plan = build_plan(state(), current, allow_delete=True)
    assert [str(v) for v in plan.safety_violations(Safety())] == ["would delete 12 of 12 senders (100 % > 30 %)"]
    with pytest.raises(UnsafePlanError, match=r"would delete 12 of 12 senders \(100 % > 30 %\)"):
        _gate(plan, Safety())
    _gate(plan, Safety(), forced=True)
    _gate(plan, Safety(min_senders=13))  # too few senders for the thresholds to apply
    _gate(plan, Safety(max_delete_percent=100))


def test_gated_deletes_do_not_count_against_safety() -> None:
    current = [live(f"whatsapp:+150171226{i:02d}") for i in range(10, 22)]
    plan = build_plan(state(), current)
    assert plan.safety_violations(Safety()) == ()
    _gate(plan, Safety())


def test_core_imports_no_http_library() -> None:
    code = "import sys, reconciler.diff, reconciler.plan, reconciler.render; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _every_kind_of_plan():
    wanted = state(desired(A, profile={"name": "Acme", "about": "new", "emails": ["a@x.example"]}),
                   desired(B, profile={"name": "Beta"}), desired(D, configuration={"waba_id": "2"}))
    current = [live(A, profile={"name": "Acme", "about": "old"}), live(C, profile={"name": "Gone"}),
               live(D, configuration={"waba_id": "1"}, status="OFFLINE",
                    offline_reasons=[{"code": "63051", "message": "gone"}])]
    return build_plan(wanted, current, targets=[A, B, C, D, "whatsapp:+15550000000"])


def test_a_plan_read_back_is_the_plan_written() -> None:
    plan = _every_kind_of_plan()
    assert plan.actions and plan.notices and plan.problems
    back = plan_from_data(plan_to_data(plan))
    assert back == plan
    assert back.fingerprints == plan.fingerprints and [a.planned_from for a in back.actions] == [
        a.planned_from for a in plan.actions]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("targets"), "accounts[0].targets: missing"),
        (lambda d: d["actions"][0].update(sender_id=None), "accounts[0].actions[0].sender_id: expected a string, not null"),
        (lambda d: d["actions"][0].update(action="drop"),
         "accounts[0].actions[0].action: 'drop' is not one of create, update, delete, pool"),
        (lambda d: d["actions"][0].update(body=[]), "accounts[0].actions[0].body: expected an object, not a list"),
        (lambda d: d["actions"][0]["changes"][0].update(path="profile.nope"),
         "accounts[0].actions[0].changes[0].path: 'profile.nope' is not a field reconciler manages"),
        (lambda d: d["actions"][0].update(allowed=1), "accounts[0].actions[0].allowed: expected true or false, not the number 1"),
        (lambda d: d["notices"][0].update(kind="x" * 99),
         f"accounts[0].notices[0].kind: '{'x' * 38}… is not one of {', '.join(get_args(NoticeKind))}"),
        (lambda d: d["notices"][0].update(reasons=[[1, 2, 3]]),
         "accounts[0].notices[0].reasons[0]: expected a list of 2, not a list"),
        (lambda d: d["problems"][0].update(sids=[None]), "accounts[0].problems[0].sids[0]: expected a string, not null"),
        (lambda d: d.update(live_count=True), "accounts[0].live_count: expected a whole number, 0 or more, not true"),
        (lambda d: d.update(managed_count=-1),
         "accounts[0].managed_count: expected a whole number, 0 or more, not the number -1"),
        (lambda d: d.update(fingerprints={"\x1b": 2}), "accounts[0].fingerprints['\\x1b']: expected a string, not the number 2"),
        (lambda d: d["fingerprints"].update({"whatsapp:+0": "absent"}),
         "accounts[0].fingerprints: not one per sender of the actions: 'whatsapp:+0' has no action"),
        (lambda d: d["fingerprints"].pop(min(d["fingerprints"])),
         "accounts[0].fingerprints: not one per sender of the actions: "
         f"{min(plan_to_data(_every_kind_of_plan())['fingerprints'])!r} has no fingerprint"),
    ],
)
def test_a_plan_read_back_is_refused_at_the_first_value_it_would_not_have_written(edit, message) -> None:
    data = plan_to_data(_every_kind_of_plan())
    edit(data)
    with pytest.raises(ValueError) as caught:
        plan_from_data(data, "accounts[0]")
    assert str(caught.value) == message


def test_every_field_a_change_can_name_is_a_field_path() -> None:
    every = desired(A, friendly_name="x", configuration={"waba_id": "1", "verification_method": "sms",
                                                          "voice_application_sid": "AP" + "0" * 32},
                    webhook={"callback_url": "https://x.example", "callback_method": "POST"},
                    profile={"name": "Acme", "about": "a", "emails": ["a@x.example"], "websites": ["https://x.example"]})
    assert set(every.managed_fields()) <= FIELD_PATHS
    assert {"friendly_name", "profile.about", "configuration.waba_id", "webhook.fallback_url"} <= FIELD_PATHS
