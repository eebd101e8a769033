"""The JSON documents of ``plan``, ``apply`` and ``drift``: a versioned contract (docs/json-format.md)."""

from __future__ import annotations

from typing import Any

from reconciler.apply import ApplyReport, Outcome, Settled
from reconciler.diff import Action
from reconciler.errors import ApiError, ReconcilerError
from reconciler.plan import Plan
from reconciler.render.report import report_summary
from reconciler.render.values import json_document
from reconciler.render.words import action_note, notice_message, outcome_message, problem_message

FORMAT_VERSION = "1"


def action_dict(action: Action) -> dict[str, Any]:
    return {
        "action": action.action,
        "sender_id": action.sender_id,
        "sid": action.sid,
        "allowed": action.allowed,
        "status": action.status,
        "note": action_note(action),
        "changes": [{"path": c.path, "before": c.before, "after": c.after} for c in action.changes],
    }


def notices_list(plan: Plan) -> list[dict[str, str]]:
    return [{"sender_id": n.sender_id, "kind": n.kind, "message": notice_message(n)} for n in plan.notices]


def problems_list(plan: Plan) -> list[dict[str, str]]:
    return [{"sender_id": p.sender_id, "message": problem_message(p)} for p in plan.problems]


def plan_dict(plan: Plan) -> dict[str, Any]:
    """The JSON contract (format_version 1). Unchanged senders are not listed."""
    return {
        "format_version": FORMAT_VERSION,
        "summary": plan.summary(),
        "applyable": plan.applyable,
        "gated": len(plan.gated),
        "live_senders": plan.live_count,
        "actions": [action_dict(a) for a in plan.actions],
        "notices": notices_list(plan),
        "problems": problems_list(plan),
    }


def render_json(plan: Plan) -> str:
    return json_document(plan_dict(plan), indent=2)


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    err = outcome.error
    return {
        "action": outcome.action,
        "sender_id": outcome.sender_id,
        "sid": outcome.sid,
        "result": outcome.result,
        "confirmed": outcome.confirmed,
        "final_status": outcome.final_status,
        "message": outcome_message(outcome),
        "error": None
        if err is None
        else {"status": err.status, "code": err.code, "message": err.message, "more_info": err.more_info},
    }


def report_dict(report: ApplyReport) -> dict[str, Any]:
    """The apply report in the JSON contract (``apply --format json``)."""
    return {
        "ok": report.ok,
        "interrupted": report.interrupted,
        "summary": report.summary(),
        "summary_line": report_summary(report),
        "confirm_error": None if report.confirm_error is None else str(report.confirm_error),
        "outcomes": [outcome_dict(o) for o in report.outcomes],
    }


def settled_dict(settled: Settled) -> dict[str, Any]:
    return {
        "timed_out": list(settled.timed_out),
        "senders": [
            {"sender_id": sid, "status": s.status if s else None, "offline_reasons": s.offline_reasons if s else None}
            for sid, s in settled.statuses.items()
        ],
    }


def render_apply_json(plan: Plan, report: ApplyReport | None, settled: Settled | None) -> str:
    """``apply --format json``: the plan, each action's outcome (none when nothing was applied), the wait."""
    doc = {"format_version": FORMAT_VERSION, "plan": plan_dict(plan), "apply": report_dict(report or ApplyReport()),
           "wait": None if settled is None else settled_dict(settled)}
    return json_document(doc, indent=2)


def render_drift_json(plan: Plan) -> str:
    doc = {"format_version": FORMAT_VERSION, "drift": plan.drifted, "summary": plan.summary(),
           "gated": len(plan.gated), "senders": plan.drifted_senders(), "live_senders": plan.live_count,
           "problems": problems_list(plan)}
    return json_document(doc)



def render_error_json(error: ReconcilerError) -> str:
    """An error as the JSON document a ``--format json`` run leaves on stdout instead of its usual one."""
    code = error.code if isinstance(error, ApiError) else None
    status = error.status if isinstance(error, ApiError) else None
    doc = {"format_version": FORMAT_VERSION,
           "error": {"kind": type(error).__name__, "message": str(error), "status": status, "code": code}}
    return json_document(doc)
