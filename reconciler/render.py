"""Plans as text (people), JSON (machines) and Markdown (pull-request comments). Pure functions.

The JSON form is a versioned contract (``format_version``); see docs/json-format.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.models import DEFAULT_LABELS, LIST_ITEM_KEYS
from reconciler.plan import Action, Plan

FORMAT_VERSION = "1"
#: GitHub refuses comments longer than this many characters.
GITHUB_COMMENT_LIMIT = 65_536

Style = Callable[[str, str], str]


def _plain(text: str, _style: str) -> str:
    return text


def ansi(text: str, style: str) -> str:
    """Minimal ANSI colouring: green create, yellow update, red delete, bold headings."""
    codes = {"create": "32", "update": "33", "delete": "31", "bold": "1", "dim": "2", "warn": "33", "error": "31"}
    return f"\x1b[{codes[style]}m{text}\x1b[0m"


def show(value: Any) -> str:
    """A value as it reads best in a plan: JSON literals, so '' and null stay visible."""
    return json.dumps(value, ensure_ascii=False)


def _readable_items(path: str, value: Any) -> list[str] | None:
    """Labelled-list items as people write them (``b@x.example (Work)``); None for other fields."""
    name = path.rpartition(".")[2]
    key = LIST_ITEM_KEYS.get(name)
    if key is None or not isinstance(value, list):
        return None
    items = []
    for item in value:
        if isinstance(item, dict) and key in item:
            label = item.get("label")
            items.append(str(item[key]) if label in (None, DEFAULT_LABELS[name]) else f"{item[key]} ({label})")
        else:
            items.append(str(item))
    return items


def show_field(path: str, value: Any) -> str:
    """Like :func:`show`, but labelled lists read as people write them: ``["a@x.example", "b@x.example (Work)"]``."""
    items = _readable_items(path, value)
    return show(value) if items is None else show(items)


def list_delta(path: str, before: Any, after: Any) -> list[str]:
    """For a changed labelled list, the items added and removed (``+ "x"``, ``- "y"``), or that only the order changed.

    DeepDiff pairs the items regardless of order; it runs only here, on the few list fields that
    changed, when a plan is shown to people.
    """
    old, new = _readable_items(path, before), _readable_items(path, after)
    if old is None or new is None or not old or not new:
        return []
    from deepdiff import DeepDiff  # imported on first use: most plans never show a list change

    delta = DeepDiff(old, new, ignore_order=True, report_repetition=True)
    lines = [f"+ {show(v)}" for v in delta.get("iterable_item_added", {}).values()]
    lines += [f"- {show(v)}" for v in delta.get("iterable_item_removed", {}).values()]
    for change in delta.get("repetition_change", {}).values():
        diff = change["new_repeat"] - change["old_repeat"]
        lines.append(f"{'+' if diff > 0 else '-'} {show(change['value'])} ×{abs(diff)}")
    return lines or ["(same items, new order)"]


def summary_line(plan: Plan) -> str:
    """``Plan: 1 to create, 1 to update, 1 to delete (1 gated: pass --allow-delete).``"""
    s = plan.summary()
    line = f"Plan: {s['create']} to create, {s['update']} to update, {s['delete']} to delete"
    gated = len(plan.gated)
    if gated:
        line += f" ({gated} gated: pass --allow-delete)"
    return line + "."


def _heading(action: Action) -> str:
    extra = [action.action]
    if action.sid:
        extra.append(action.sid)
    if action.status and action.action != "create":
        extra.append(f"status {action.status}")
    if action.note:
        extra.append(action.note)
    return f"{action.symbol} {action.sender_id} ({', '.join(extra)})"


# --------------------------------------------------------------------------- text


def render_text(plan: Plan, *, color: bool = False) -> str:
    style: Style = ansi if color else _plain
    lines: list[str] = []
    if plan.actions:
        lines.append("reconciler will perform the following actions:")
        lines.append("")
        for action in plan.actions:
            kind = action.action if action.allowed else "dim"
            lines.append("  " + style(_heading(action), kind))
            for change in action.changes:
                if action.action == "create":
                    lines.append(f"      {style('+', 'create')} {change.path}: {show_field(change.path, change.after)}")
                else:
                    lines.append(
                        f"      {style('~', 'update')} {change.path}: "
                        f"{show_field(change.path, change.before)} → {show_field(change.path, change.after)}"
                    )
                    lines.extend(f"          {item}" for item in list_delta(change.path, change.before, change.after))
        lines.append("")
    if plan.notices:
        lines.append(style("Notices:", "bold"))
        for n in plan.notices:
            lines.append(f"  {style('!', 'warn')} {n.sender_id}: {n.message}")
        lines.append("")
    if plan.problems:
        lines.append(style("Problems (these senders are left as they are):", "bold"))
        for p in plan.problems:
            lines.append(f"  {style('✗', 'error')} {p.sender_id}: {p.message}")
        lines.append("")
    if not plan.actions:
        lines.append(f"No changes. Live senders match the file ({plan.live_count} live senders read).")
    else:
        lines.append(style(summary_line(plan), "bold"))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- json


def action_dict(action: Action) -> dict[str, Any]:
    return {
        "action": action.action,
        "sender_id": action.sender_id,
        "sid": action.sid,
        "allowed": action.allowed,
        "status": action.status,
        "note": action.note,
        "changes": [{"path": c.path, "before": c.before, "after": c.after} for c in action.changes],
    }


def notices_list(plan: Plan) -> list[dict[str, str]]:
    return [{"sender_id": n.sender_id, "kind": n.kind, "message": n.message} for n in plan.notices]


def problems_list(plan: Plan) -> list[dict[str, str]]:
    return [{"sender_id": p.sender_id, "message": p.message} for p in plan.problems]


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
    return json.dumps(plan_dict(plan), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_code(path: str, value: Any) -> str:
    text = show_field(path, value)
    fence = "``" if "`" in text else "`"
    return f"{fence}{_md_cell(text)}{fence}"


def render_markdown(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """Summary first, then a table of actions, then collapsible per-sender details.

    When the whole would exceed ``limit`` characters, details are dropped from the end (and, if
    still too long, table rows), never the summary; a line says how many were left out.
    """
    head = ["### reconciler plan", "", f"**{summary_line(plan)}**" if plan.actions else "**No changes.** Live senders match the file.", ""]
    if plan.problems:
        head.append(f"> [!WARNING]\n> {len(plan.problems)} sender(s) cannot be changed as the file asks:")
        head.extend(f"> - `{p.sender_id}`: {_md_cell(p.message)}" for p in plan.problems)
        head.append("")
    if plan.notices:
        head.append("Notices:")
        head.extend(f"- `{n.sender_id}`: {_md_cell(n.message)}" for n in plan.notices)
        head.append("")

    rows = []
    details = []
    for a in plan.actions:
        what = a.action if a.allowed else f"{a.action}, gated"
        fields = ", ".join(c.path for c in a.changes) or "—"
        rows.append(f"| {a.symbol} | `{a.sender_id}` | {what} | {_md_cell(fields)} |")
        body = [f"<details><summary>{a.symbol} <code>{a.sender_id}</code> ({what})</summary>", ""]
        if a.changes:
            body += ["| field | before | after |", "| --- | --- | --- |"]
            body += [
                f"| `{c.path}` | {_md_code(c.path, c.before) if a.action != 'create' else ''} | {_md_code(c.path, c.after)} |"
                for c in a.changes
            ]
        elif a.action == "delete":
            body.append(f"Deletes `{a.sid}`." + ("" if a.allowed else " Gated: pass `--allow-delete`."))
        body += ["", "</details>", ""]
        details.append("\n".join(body))

    table = ["| | sender | action | fields |", "| --- | --- | --- | --- |", *rows, ""] if rows else []

    def assemble(n_rows: int, n_details: int) -> str:
        parts = list(head)
        if table:
            parts += table[:2] + rows[:n_rows]
            if n_rows < len(rows):
                parts.append(f"| | … {len(rows) - n_rows} more actions not shown | | |")
            parts.append("")
        parts += details[:n_details]
        if n_details < len(details):
            parts.append(f"_Details of {len(details) - n_details} more actions were left out to fit a comment; "
                         "run `reconciler plan` for the full plan._")
        return "\n".join(parts).rstrip() + "\n"

    n_rows, n_details = len(rows), len(details)
    text = assemble(n_rows, n_details)
    # Trim details first (binary search keeps this fast on huge plans), then rows.
    if len(text) > limit:
        lo, hi = 0, n_details
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(assemble(n_rows, mid)) <= limit:
                lo = mid
            else:
                hi = mid - 1
        n_details = lo
        text = assemble(n_rows, n_details)
    if len(text) > limit:
        lo, hi = 0, n_rows
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(assemble(mid, 0)) <= limit:
                lo = mid
            else:
                hi = mid - 1
        text = assemble(lo, 0)
    return text


RENDERERS: dict[str, Callable[[Plan], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
