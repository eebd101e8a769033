"""``reconciler/render/accounts.py``: a run's plans, drift and apply reports grouped by account, with totals.

Beyond tests/test_accounts.py's renderings of two accounts: one account rendered as the plan alone under
its heading, friendly names escaped in Markdown, a run applyable only when every account is, problems
named with their account, and the apply document of no report, of one, and of several.
"""

from __future__ import annotations

import json

from reconciler.accounts.record import AccountPlan, AccountRef, AccountReport
from reconciler.apply import ApplyReport, Outcome, Settled
from reconciler.diff import Action, Problem
from reconciler.errors import ApiError
from reconciler.plan import Plan
from reconciler.render.accounts import (
    RENDERERS,
    plans_dict,
    render_apply_all_json,
    render_drift_all,
    render_drift_all_json,
    render_plans_markdown,
    render_plans_text,
    render_reports,
)
from reconciler.render.markdown import TITLE, render_markdown
from reconciler.render.report import render_drift, render_report
from tests.factories import A, B, C, live

SUB1, SUB2 = "AC" + "1" * 32, "AC" + "2" * 32


def account_plan(sid: str, plan: Plan, name: str | None = None) -> AccountPlan:
    return AccountPlan(AccountRef(sid, name), plan)


def test_every_format_has_a_renderer_of_a_run() -> None:
    assert set(RENDERERS) == {"text", "json", "markdown"}
    plans = [account_plan(SUB1, Plan(actions=(Action("create", A),)))]
    assert json.loads(RENDERERS["json"](plans))["summary"] == {"create": 1, "update": 0, "delete": 0, "pool": 0}


def test_one_account_s_markdown_is_its_plan_under_the_account_escaped() -> None:
    plan = Plan(actions=(Action("create", A),))
    md = render_plans_markdown([account_plan(SUB1, plan, "*Acme* <b>@team")])
    heading = f"Account `{SUB1}` (\\*Acme\\* &lt;b&gt;@\u200bteam)"
    assert md == render_markdown(plan, title=f"{TITLE}\n\n{heading}")
    assert "<b>" not in md and "@team" not in md


def test_the_text_of_several_accounts_totals_the_gated_and_names_the_accounts_with_problems() -> None:
    plans = [account_plan(SUB1, Plan(actions=(Action("delete", A, allowed=False),))),
             account_plan(SUB2, Plan(problems=(Problem(B, "name_required"),)))]
    last = render_plans_text(plans).rstrip().splitlines()[-1]
    assert last == ("Plan across 2 accounts: 0 to create, 0 to update, 1 to delete (1 gated: pass --allow-delete); "
                    "1 account with problems: apply refuses the run.")
    assert "\x1b[1m" in render_plans_text(plans, color=True) and "\x1b[" not in render_plans_text(plans)


def test_a_run_is_applyable_only_when_every_account_is_and_each_item_names_its_account() -> None:
    ok = account_plan(SUB1, Plan(actions=(Action("create", A),), live_count=2))
    blocked = account_plan(SUB2, Plan(actions=(Action("delete", C, allowed=False),), problems=(Problem(B, "name_required"),),
                                      live_count=3))
    doc = plans_dict([ok, blocked])
    assert (doc["applyable"], doc["gated"], doc["live_senders"]) == (False, 1, 5)
    assert doc["problems"] == [{**doc["problems"][0], "sender_id": B, "account": SUB2}]
    assert [(a["sid"], a["applyable"], a["gated"], a["live_senders"]) for a in doc["accounts"]] == [
        (SUB1, True, 0, 2), (SUB2, False, 1, 3)]
    assert plans_dict([ok])["applyable"] is True


def test_one_account_s_drift_is_the_line_alone_and_none_in_several_says_so() -> None:
    plan = Plan(live_count=1)
    assert render_drift_all([account_plan(SUB1, plan)]) == render_drift(plan)
    quiet = render_drift_all([account_plan(SUB1, plan, "Acme\x1b[2J"), account_plan(SUB2, plan)])
    lines = quiet.splitlines()
    assert lines[0].startswith(f"Account {SUB1} (Acme\\x1b[2J): No drift") and lines[-1] == "No drift in 2 accounts."


def test_the_drift_document_tags_problems_with_their_account_and_sums_the_gated() -> None:
    plans = [account_plan(SUB1, Plan(actions=(Action("delete", A, allowed=False),), live_count=4)),
             account_plan(SUB2, Plan(problems=(Problem(B, "name_required"),), live_count=1))]
    doc = json.loads(render_drift_all_json(plans))
    assert (doc["drift"], doc["gated"], doc["live_senders"], doc["senders"]) == (True, 1, 5, [A])
    assert [(p["sender_id"], p["account"]) for p in doc["problems"]] == [(B, SUB2)]
    assert [a["drift"] for a in doc["accounts"]] == [True, False]


def test_one_account_s_report_is_the_report_alone_and_several_add_up_only_what_happened() -> None:
    report = ApplyReport([Outcome("create", A, "done", "created", confirmed=True)])
    assert render_reports([AccountReport(AccountRef(SUB1), report)]) == render_report(report)
    both = render_reports([AccountReport(AccountRef(SUB1, "Acme"), report), AccountReport(AccountRef(SUB2), ApplyReport())])
    assert both.rstrip().splitlines()[-1] == "Across 2 accounts: 1 done."


def test_the_apply_document_of_no_report_one_and_several() -> None:
    plans = [account_plan(SUB1, Plan(actions=(Action("create", A),)))]
    none = json.loads(render_apply_all_json(plans, [], None))["apply"]
    assert (none["ok"], none["summary_line"], none["outcomes"], none["accounts"]) == (True, "Nothing to apply.", [], [])
    lost = ApplyReport([Outcome("create", A, "done", "created", confirmed=True)], confirm_error=ApiError("list failed"))
    one = json.loads(render_apply_all_json(plans, [AccountReport(AccountRef(SUB1), lost)], None))
    assert one["apply"]["summary_line"].startswith("Apply finished with errors") and one["apply"]["ok"] is False
    assert one["apply"]["confirm_error"] == "list failed" and one["wait"] is None
    settled = Settled({A: live(A, status="ONLINE")}, ())
    reports = [AccountReport(AccountRef(SUB1, "Acme"), ApplyReport([Outcome("create", A, "done", "created", confirmed=True)])),
               AccountReport(AccountRef(SUB2), ApplyReport(interrupted=True))]
    several = json.loads(render_apply_all_json(plans, reports, settled))
    line = several["apply"]["summary_line"]
    assert line.startswith(f"{SUB1} (Acme): Apply complete: 1 done.") and line.endswith(f"; {SUB2}: Apply interrupted: 0 done.")
    assert several["apply"]["interrupted"] is True and several["apply"]["ok"] is False
    assert several["wait"]["senders"] == [{"sender_id": A, "status": "ONLINE", "offline_reasons": None}]
