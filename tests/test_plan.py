"""Pure tests of diff and plan: plain values in, plain values out."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reconciler.diff import FieldChange, normalise, sender_changes
from reconciler.errors import UnsafePlanError
from reconciler.models import DesiredSender, DesiredState, LiveSender, Safety
from reconciler.plan import build_plan, fingerprint

A, B, C, D = (f"whatsapp:+1501712266{i}" for i in range(1, 5))
SANDBOX = "whatsapp:+14155238886"


def want(sender_id=A, **sections) -> DesiredSender:
    return DesiredSender(sender_id=sender_id, **sections)


def live(sender_id=A, sid=None, status="ONLINE", **fields) -> LiveSender:
    sid = sid or "XE" + sender_id[-4:].rjust(32, "0")
    return LiveSender(sid=sid, sender_id=sender_id, status=status, **fields)


def state(*senders, ignore=(), safety=Safety()) -> DesiredState:
    return DesiredState(senders=tuple(senders), ignore=frozenset(ignore), safety=safety)


# --------------------------------------------------------------------------- diff


def test_labels_only_difference_is_no_change():
    d = want(profile={"emails": ["a@example.com"], "websites": ["https://a.example"]})
    l = live(profile={"emails": [{"email": "a@example.com", "label": "Email"}],
                      "websites": [{"website": "https://a.example", "label": "Website"}]})
    assert sender_changes(d, l) == []


def test_custom_label_differs():
    d = want(profile={"emails": [{"email": "a@example.com", "label": "Work"}]})
    l = live(profile={"emails": [{"email": "a@example.com", "label": "Email"}]})
    (change,) = sender_changes(d, l)
    assert change.path == "profile.emails"
    assert change.after == [{"email": "a@example.com", "label": "Work"}]


def test_unmanaged_fields_are_never_compared():
    d = want(profile={"about": "Hi"})
    l = live(profile={"about": "Hi", "description": "anything", "name": "Other"}, webhook={"callback_url": "https://x.example"})
    assert sender_changes(d, l) == []


def test_empty_string_equals_null_live_value():
    d = want(webhook={"fallback_url": ""})
    assert sender_changes(d, live(webhook={"fallback_url": None})) == []
    assert sender_changes(d, live(webhook=None)) == []
    (change,) = sender_changes(d, live(webhook={"fallback_url": "https://f.example"}))
    assert change == FieldChange("webhook.fallback_url", "https://f.example", "")


def test_normalise_fills_labels_and_nulls():
    assert normalise("profile.websites", None) == []
    assert normalise("profile.websites", ["https://a.example"]) == [{"website": "https://a.example", "label": "Website"}]
    assert normalise("profile.about", None) == ""


# --------------------------------------------------------------------------- plan


def test_create_update_delete_and_gating():
    desired = state(want(A, profile={"name": "Acme", "about": "new"}), want(B, profile={"name": "Beta"}))
    current = [live(A, profile={"name": "Acme", "about": "old"}), live(C, profile={"name": "Gone"})]
    plan = build_plan(desired, current)
    assert [(a.action, a.sender_id, a.allowed) for a in plan.actions] == [
        ("update", A, True), ("create", B, True), ("delete", C, False)]
    assert plan.summary() == {"create": 1, "update": 1, "delete": 1}
    assert plan.actions[0].body == {"profile": {"about": "new"}}
    assert plan.actions[1].body == {"sender_id": B, "profile": {"name": "Beta"}}
    assert not plan.gated[0].allowed and plan.has_changes
    allowed = build_plan(desired, current, allow_delete=True)
    assert all(a.allowed for a in allowed.actions)


def test_no_changes_is_an_empty_plan():
    plan = build_plan(state(want(A, profile={"about": "x"})), [live(A, profile={"about": "x"})])
    assert plan.actions == () and not plan.has_changes and not plan.applyable


def test_ignored_and_sandbox_senders_are_never_deleted():
    plan = build_plan(state(ignore=[D]), [live(D), live(SANDBOX)], allow_delete=True)
    assert plan.actions == ()


def test_waba_id_change_is_a_problem_not_an_action():
    d = want(A, configuration={"waba_id": "222"}, profile={"about": "new"})
    plan = build_plan(state(d), [live(A, configuration={"waba_id": "111"}, profile={"about": "old"})])
    assert plan.actions == ()
    assert "configuration.waba_id cannot change" in plan.problems[0].message


def test_create_without_name_is_a_problem():
    plan = build_plan(state(want(A, profile={"about": "x"})), [])
    assert plan.actions == () and "profile.name is required" in plan.problems[0].message


@pytest.mark.parametrize("status", ["PENDING_REVIEW", "APPROVED"])
def test_rename_in_review_is_pending_not_sent(status):
    d = want(A, profile={"name": "New Name"})
    l = live(A, profile={"name": "Old"}, pending_display_name="New Name", pending_display_name_status=status)
    plan = build_plan(state(d), [l])
    assert plan.actions == ()
    assert plan.notices[0].kind == "rename_pending" and status in plan.notices[0].message


@pytest.mark.parametrize("status", ["PIN_MISMATCH", "REGISTRATION_FAILED", "EXPIRED"])
def test_rename_retryable_failure_is_resubmitted(status):
    d = want(A, profile={"name": "New Name"})
    l = live(A, profile={"name": "Old"}, pending_display_name="New Name", pending_display_name_status=status)
    (action,) = build_plan(state(d), [l]).actions
    assert action.body == {"profile": {"name": "New Name"}} and status in action.note


def test_declined_rename_is_shown_and_not_resubmitted():
    d = want(A, profile={"name": "New Name"})
    l = live(A, profile={"name": "Old"}, pending_display_name="New Name", pending_display_name_status="DECLINED")
    plan = build_plan(state(d), [l])
    assert plan.actions == () and "DECLINED" in plan.notices[0].message


def test_a_different_name_than_the_one_in_review_is_sent():
    d = want(A, profile={"name": "Third"})
    l = live(A, profile={"name": "Old"}, pending_display_name="Second", pending_display_name_status="PENDING_REVIEW")
    (action,) = build_plan(state(d), [l]).actions
    assert action.body == {"profile": {"name": "Third"}}


def test_status_notices():
    plan = build_plan(
        state(want(A), want(B), want(C)),
        [live(A, status="PENDING_VERIFICATION"), live(B, status="CREATING"),
         live(C, status="OFFLINE", offline_reasons=[{"code": "410", "message": "Number deregistered"}])],
    )
    kinds = {n.sender_id: n for n in plan.notices}
    assert "reconciler verify" in kinds[A].message
    assert "CREATING" in kinds[B].message
    assert "410: Number deregistered" in kinds[C].message


def test_target_limits_both_sides_and_unknown_target_is_a_problem():
    desired = state(want(A, profile={"name": "a"}), want(B, profile={"name": "b"}))
    plan = build_plan(desired, [live(C)], targets=[A, D])
    assert [a.sender_id for a in plan.actions] == [A]
    assert plan.problems[0].sender_id == D


def test_safety_thresholds():
    current = [live(f"whatsapp:+150171226{i:02d}") for i in range(10, 22)]
    plan = build_plan(state(), current, allow_delete=True)
    with pytest.raises(UnsafePlanError, match=r"would delete 12 of 12 senders \(100 % > 30 %\)"):
        plan.check_safety(Safety())
    plan.check_safety(Safety(), force=True)
    plan.check_safety(Safety(min_senders=13))  # too few senders for the thresholds to apply
    plan.check_safety(Safety(max_delete_percent=100))


def test_gated_deletes_do_not_count_against_safety():
    current = [live(f"whatsapp:+150171226{i:02d}") for i in range(10, 22)]
    build_plan(state(), current).check_safety(Safety())


def test_fingerprint_ignores_status_but_not_fields():
    a = live(A, profile={"about": "x"})
    assert fingerprint(a) == fingerprint(live(A, status="ONLINE:UPDATING", profile={"about": "x"}))
    assert fingerprint(a) != fingerprint(live(A, profile={"about": "y"}))
    assert fingerprint(None) == "absent"


def test_core_imports_no_http_library():
    code = "import sys, reconciler.diff, reconciler.plan, reconciler.render; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
