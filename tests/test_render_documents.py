"""The JSON documents of plan, apply and drift: the versioned contract of docs/json-format.md."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.apply import ApplyReport, Outcome, Settled
from reconciler.errors import ApiError, ConfigError, ConfigIssue, Location
from reconciler.plan import build_plan
from reconciler.render.documents import (
    FORMAT_VERSION,
    render_apply_json,
    render_drift_json,
    render_error_json,
    render_json,
)
from reconciler.render.words import outcome_message
from tests.factories import A, B, C, desired, live, sid_of, state

DOC = (Path(__file__).parent.parent / "docs" / "json-format.md").read_text(encoding="utf-8")
ACTION_FIELDS = {"action", "sender_id", "sid", "allowed", "status", "note", "changes"}
OUTCOME_FIELDS = {"action", "sender_id", "sid", "result", "confirmed", "final_status", "message", "error"}


def plan():
    wanted = state(desired(A, profile={"name": "Acme", "about": "new"}), desired(B, profile={"name": "Beta"}))
    return build_plan(wanted, [live(A, profile={"name": "Acme", "about": "old"}), live(C)])


def test_the_plan_document_has_the_fields_the_contract_names():
    doc = json.loads(render_json(plan()))
    assert set(doc) == {"format_version", "summary", "applyable", "gated", "live_senders", "actions", "notices",
                        "problems"}
    assert (doc["format_version"], doc["summary"], doc["applyable"], doc["gated"], doc["live_senders"]) == (
        FORMAT_VERSION, {"create": 1, "update": 1, "delete": 1, "pool": 0}, True, 1, 2)
    assert all(set(a) == ACTION_FIELDS for a in doc["actions"])
    update, create, delete = doc["actions"]
    assert update["changes"] == [{"path": "profile.about", "before": "old", "after": "new"}]
    assert (create["sid"], create["status"], delete["allowed"]) == (None, None, False)
    assert delete["note"] and delete["changes"] == []


def test_the_apply_document_carries_each_outcome_and_the_error_as_twilio_gave_it():
    lost = ApiError("Internal Server Error", status=500, code=20500, more_info="https://www.twilio.com/docs/errors/20500",
                    outcome_unknown=True).with_context(sender_id=B, account="AC" + "1" * 32)
    outcomes = [Outcome("update", A, "done", "updated", sid=sid_of(A), fields=1, confirmed=True, final_status="ONLINE"),
                Outcome("create", B, "not_applied", "lost", error=lost, confirmed=False)]
    settled = Settled({A: live(A), B: None}, timed_out=(B,))
    doc = json.loads(render_apply_json(plan(), ApplyReport(outcomes), settled))
    assert set(doc) == {"format_version", "plan", "apply", "wait"} and doc["plan"] == json.loads(render_json(plan()))
    assert set(doc["apply"]) == {"ok", "interrupted", "summary", "summary_line", "confirm_error", "outcomes"}
    done, failed = doc["apply"]["outcomes"]
    assert set(done) == set(failed) == OUTCOME_FIELDS
    assert (done["result"], done["confirmed"], done["final_status"], done["error"]) == ("done", True, "ONLINE", None)
    assert failed["message"] == outcome_message(outcomes[1])
    # the error's own words, without the sender and account its copy was given: those are fields of their own
    assert failed["error"] == {"status": 500, "code": 20500, "message": "Internal Server Error",
                               "more_info": "https://www.twilio.com/docs/errors/20500"}
    assert doc["wait"] == {"timed_out": [B], "senders": [
        {"sender_id": A, "status": "ONLINE", "offline_reasons": None},
        {"sender_id": B, "status": None, "offline_reasons": None}]}


def test_an_apply_that_did_not_run_has_an_empty_report_and_no_wait():
    doc = json.loads(render_apply_json(plan(), None, None))
    assert doc["apply"]["outcomes"] == [] and doc["apply"]["ok"] is True and doc["wait"] is None


def test_the_drift_document_is_one_line():
    text = render_drift_json(plan())
    assert text.count("\n") == 1
    doc = json.loads(text)
    assert (doc["drift"], doc["senders"], doc["gated"], doc["live_senders"]) == (True, [A, B, C], 1, 2)


def test_the_error_document_is_the_one_the_contract_shows():
    error = ApiError("Authenticate", status=401, code=20003, method="GET", url="/v2/Channels/Senders")
    shown = render_error_json(error)
    assert shown.strip() in DOC
    other = json.loads(render_error_json(ConfigError(ConfigIssue(Location("senders.yaml", 2, 3), "bad"))))
    assert other["error"] == {"kind": "ConfigError", "message": "senders.yaml:2:3: bad", "status": None, "code": None}
