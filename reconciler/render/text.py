"""The plan as text, for people at a terminal or reading a CI log (Terraform's layout)."""

from __future__ import annotations

from reconciler.diff import Action
from reconciler.plan import Plan
from reconciler.render.style import styler
from reconciler.render.values import list_delta, show_field
from reconciler.render.words import action_note, notice_message, plural, problem_message
from reconciler.text import escape_control


def summary_line(plan: Plan, head: str = "Plan") -> str:
    """``Plan: 1 to create, 1 to update, 1 to delete (1 gated: pass --allow-delete).``"""
    s = plan.summary()
    line = f"{head}: {s['create']} to create, {s['update']} to update, {s['delete']} to delete"
    line += f", {plural(s['pool'], 'sender-pool change')}" if s["pool"] else ""
    gated = len(plan.gated)
    if gated:
        line += f" ({gated} gated: pass --allow-delete)"
    return line + "."


def heading(action: Action) -> str:
    extra: list[str] = [action.action]
    if action.sid:
        extra.append(action.sid)
    if action.status and action.action != "create":
        extra.append(f"status {action.status}")
    note = action_note(action)
    if note:
        extra.append(note)
    return escape_control(f"{action.symbol} {action.sender_id} ({', '.join(extra)})")


def render_text(plan: Plan, *, color: bool = False) -> str:
    style = styler(color)
    lines: list[str] = []
    if plan.actions:
        lines.append("reconciler will perform the following actions:")
        lines.append("")
        for action in plan.actions:
            kind = action.action if action.allowed else "dim"
            lines.append("  " + style(heading(action), kind))
            for change in action.changes:
                path = escape_control(change.path)  # one of ours, unless a saved plan was edited
                if action.action == "create":
                    lines.append(f"      {style('+', 'create')} {path}: {show_field(change.path, change.after)}")
                else:
                    lines.append(
                        f"      {style('~', 'update')} {path}: "
                        f"{show_field(change.path, change.before)} → {show_field(change.path, change.after)}"
                    )
                    lines.extend(f"          {item}" for item in list_delta(change.path, change.before, change.after))
        lines.append("")
    if plan.notices:
        lines.append(style("Notices:", "bold"))
        for n in plan.notices:
            lines.append(f"  {style('!', 'warn')} {escape_control(f'{n.sender_id}: {notice_message(n)}')}")
        lines.append("")
    if plan.problems:
        lines.append(style("Problems (these senders are left as they are):", "bold"))
        for p in plan.problems:
            lines.append(f"  {style('✗', 'error')} {escape_control(f'{p.sender_id}: {problem_message(p)}')}")
        lines.append("")
    lines.append(style(closing_line(plan), "bold") if plan.actions or plan.problems else closing_line(plan))
    return "\n".join(lines) + "\n"


def closing_line(plan: Plan) -> str:
    """The plan's last line: what it would do, and never "no changes" when a sender could not be planned."""
    if plan.problems:
        refused = f"apply refuses it: {blocked_count(plan)} (see Problems)."
        if plan.actions:
            return f"{summary_line(plan)} But {refused}"
        return f"No changes planned, but {refused.replace('apply refuses it: ', '')}"
    if plan.actions:
        return summary_line(plan)
    return f"No changes. Live senders match the file ({plural(plan.live_count, 'live sender')} read)."


def blocked_count(plan: Plan) -> str:
    count = len({p.sender_id for p in plan.problems})
    return f"{plural(count, 'sender')} {'has a problem' if count == 1 else 'have problems'}"
