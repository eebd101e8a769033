"""Plans, drift and apply reports of a run, grouped by account, with totals.

Each account gets a heading (its SID and friendly name) over the plan's own rendering, and a run of
several ends with the totals. The JSON documents have one shape whatever the number of accounts: the totals and
every item at the top, each item naming its ``account``, and one entry per account under ``accounts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.accounts.record import AccountPlan, AccountRef, AccountReport, plan_totals, report_totals
from reconciler.apply import ApplyReport, Settled
from reconciler.plan import Plan
from reconciler.render.documents import FORMAT_VERSION, plan_dict, problems_list, report_dict, settled_dict
from reconciler.render.markdown import (
    GITHUB_COMMENT_LIMIT,
    TITLE,
    render_markdown,
    render_markdown_accounts,
)
from reconciler.render.report import render_drift, render_report, report_summary
from reconciler.render.style import styler
from reconciler.render.text import render_text
from reconciler.render.values import json_document
from reconciler.render.words import plural
from reconciler.text import escape_control, md_code, md_text


def _heading(account: AccountRef) -> str:
    return escape_control(f"Account {account.label}")


def _totals_line(plans: Sequence[AccountPlan], head: str = "Plan") -> str:
    t = plan_totals(plans)
    gated = sum(len(p.plan.gated) for p in plans)
    problems = sum(1 for p in plans if p.plan.problems)
    line = (f"{head} across {len(plans)} accounts: {t['create']} to create, {t['update']} to update, "
            f"{t['delete']} to delete")
    line += f", {plural(t['pool'], 'sender-pool change')}" if t["pool"] else ""
    line += f" ({gated} gated: pass --allow-delete)" if gated else ""
    line += f"; {plural(problems, 'account')} with problems: apply refuses the run" if problems else ""
    return line + "."


def _md_account(account: AccountRef) -> str:
    """``Account `AC…` (Customer A)`` in Markdown."""
    name = f" ({md_text(account.friendly_name)})" if account.friendly_name else ""
    return f"Account {md_code(account.sid)}{name}"


def render_plans_text(plans: Sequence[AccountPlan], *, color: bool = False) -> str:
    style = styler(color)
    parts = [style(_heading(p.account) + ":", "bold") + "\n" + render_text(p.plan, color=color) for p in plans]
    if len(plans) > 1:
        parts.append(style(_totals_line(plans), "bold") + "\n")
    return "\n".join(parts)


def render_plans_markdown(plans: Sequence[AccountPlan], *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    if len(plans) == 1:
        account, plan = plans[0].account, plans[0].plan
        return render_markdown(plan, limit=limit, title=f"{TITLE}\n\n{_md_account(account)}")
    return render_markdown_accounts(_totals_line(plans), [(_md_account(account), plan) for account, plan in _pairs(plans)],
                                    limit=limit)


def _pairs(plans: Sequence[AccountPlan]) -> list[tuple[AccountRef, Plan]]:
    return [(p.account, p.plan) for p in plans]


def _report_pairs(reports: Sequence[AccountReport]) -> list[tuple[AccountRef, ApplyReport]]:
    return [(r.account, r.report) for r in reports]


def _tagged(items: list[dict[str, Any]], account: AccountRef) -> list[dict[str, Any]]:
    return [{**item, "account": account.sid} for item in items]


def plans_dict(plans: Sequence[AccountPlan]) -> dict[str, Any]:
    """The plan document (format_version 1): the run's totals and items, and each account's summary."""
    docs = [(p.account, plan_dict(p.plan)) for p in plans]
    return {
        "format_version": FORMAT_VERSION,
        "summary": plan_totals(plans),
        "applyable": all(doc["applyable"] for _, doc in docs),
        "gated": sum(doc["gated"] for _, doc in docs),
        "live_senders": sum(doc["live_senders"] for _, doc in docs),
        "actions": [a for account, doc in docs for a in _tagged(doc["actions"], account)],
        "notices": [n for account, doc in docs for n in _tagged(doc["notices"], account)],
        "problems": [p for account, doc in docs for p in _tagged(doc["problems"], account)],
        "accounts": [{**account.as_dict(), "summary": doc["summary"], "applyable": doc["applyable"],
                      "gated": doc["gated"], "live_senders": doc["live_senders"]} for account, doc in docs],
    }


def render_plans_json(plans: Sequence[AccountPlan]) -> str:
    return json_document(plans_dict(plans), indent=2)


RENDERERS = {"text": render_plans_text, "json": render_plans_json, "markdown": render_plans_markdown}


def render_drift_all(plans: Sequence[AccountPlan]) -> str:
    """One line per account (just the line, for one account), then how many drifted."""
    if len(plans) == 1:
        return render_drift(plans[0].plan)
    lines = [f"{_heading(p.account)}: {render_drift(p.plan).rstrip()}" for p in plans]
    drifted = sum(1 for p in plans if p.plan.drifted)
    lines.append(f"Drift in {drifted} of {len(plans)} accounts." if drifted else f"No drift in {len(plans)} accounts.")
    return "\n".join(lines) + "\n"


def render_drift_all_json(plans: Sequence[AccountPlan]) -> str:
    per = [{**account.as_dict(), "drift": plan.drifted, "summary": plan.summary(), "gated": len(plan.gated),
            "senders": plan.drifted_senders(), "live_senders": plan.live_count} for account, plan in _pairs(plans)]
    doc = {"format_version": FORMAT_VERSION, "drift": any(p.plan.drifted for p in plans),
           "summary": plan_totals(plans), "gated": sum(p["gated"] for p in per),
           "senders": [s for p in per for s in p["senders"]], "live_senders": sum(p["live_senders"] for p in per),
           "problems": [p for account, plan in _pairs(plans) for p in _tagged(problems_list(plan), account)],
           "accounts": per}
    return json_document(doc)


def render_reports(reports: Sequence[AccountReport], *, color: bool = False) -> str:
    if len(reports) == 1:
        return render_report(reports[0].report, color=color)
    style = styler(color)
    parts = [f"\n{style(_heading(account) + ':', 'bold')}" + render_report(report, color=color).rstrip("\n")
             for account, report in _report_pairs(reports)]
    total = report_totals(reports)
    ok = all(r.report.ok for r in reports)
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in total.items() if n or k == "done")
    parts.append(style(f"Across {plural(len(reports), 'account')}: {counts}" + ("." if ok else "; see above."), "bold"))
    return "\n".join(parts) + "\n"


def render_apply_all_json(plans: Sequence[AccountPlan], reports: Sequence[AccountReport],
                          settled: Settled | None) -> str:
    """``apply --format json``: the plan document, every outcome (each naming its account), the wait."""
    docs = [(r.account, report_dict(r.report)) for r in reports]
    total = report_totals(reports)
    apply_doc = {
        "ok": all(r.report.ok for r in reports),
        "interrupted": any(r.report.interrupted for r in reports),
        "summary": total,
        "summary_line": "; ".join(f"{r.account.label}: {report_summary(r.report)}" for r in reports)
        if len(reports) > 1 else (report_summary(reports[0].report) if reports else "Nothing to apply."),
        "confirm_error": next((doc["confirm_error"] for _, doc in docs if doc["confirm_error"]), None),
        "outcomes": [o for account, doc in docs for o in _tagged(doc["outcomes"], account)],
        "accounts": [{**account.as_dict(), "ok": doc["ok"], "summary": doc["summary"]} for account, doc in docs],
    }
    doc = {"format_version": FORMAT_VERSION, "plan": plans_dict(plans), "apply": apply_doc,
           "wait": None if settled is None else settled_dict(settled)}
    return json_document(doc, indent=2)
