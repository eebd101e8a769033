"""The plan as Markdown, for a pull-request comment: summary first, details folded, within GitHub's limit."""

from __future__ import annotations

import html
import re
from typing import Any

from reconciler.plan import Plan
from reconciler.render.text import closing_line, summary_line
from reconciler.render.values import show_field
from reconciler.render.words import notice_message, plural, problem_message
from reconciler.text import escape_control

#: GitHub refuses comments longer than this many characters.
GITHUB_COMMENT_LIMIT = 65_536


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]!|~#:])")  # what can start markup mid-line


def md_text(text: str) -> str:
    """Text that renders as itself: no link, image, emphasis, HTML, table cell break or ``@`` mention."""
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(escape_control(text), quote=False))
    return escaped.replace("@", "@\u200b")  # a zero-width space: GitHub makes no mention of it


def md_code(text: str) -> str:
    """A code span that no backtick inside can close, safe in a table cell."""
    text = escape_control(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _html(text: str) -> str:
    return html.escape(escape_control(text))


def _md_value(path: str, value: Any) -> str:
    return md_code(show_field(path, value))


def render_markdown(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """Summary first, then a table of actions, then collapsible per-sender details.

    When the whole would exceed ``limit`` characters, details are dropped from the end (and, if
    still too long, table rows), never the summary; a line says how many were left out.
    """
    verdict = closing_line(plan) if plan.problems else summary_line(plan)
    head = ["### reconciler plan", "",
            f"**{verdict}**" if plan.actions or plan.problems else "**No changes.** Live senders match the file.", ""]
    if plan.problems:
        head.append(f"> [!WARNING]\n> {plural(len(plan.problems), 'sender')} cannot be changed as the file asks:")
        head.extend(f"> - {md_code(p.sender_id)}: {md_text(problem_message(p))}" for p in plan.problems)
        head.append("")
    if plan.notices:
        head.append("Notices:")
        head.extend(f"- {md_code(n.sender_id)}: {md_text(notice_message(n))}" for n in plan.notices)
        head.append("")

    rows = []
    details = []
    for a in plan.actions:
        what = a.action if a.allowed else f"{a.action}, gated"
        fields = ", ".join(c.path for c in a.changes) or "—"
        rows.append(f"| {a.symbol} | {md_code(a.sender_id)} | {what} | {fields} |")  # our own field names
        body = [f"<details><summary>{a.symbol} <code>{_html(a.sender_id)}</code> ({what})</summary>", ""]
        if a.changes:
            body += ["| field | before | after |", "| --- | --- | --- |"]
            body += [
                f"| {md_code(c.path)} | {_md_value(c.path, c.before) if a.action != 'create' else ''} | "
                f"{_md_value(c.path, c.after)} |"
                for c in a.changes
            ]
        elif a.action == "delete":
            body.append(f"Deletes {md_code(a.sid or '')}." + ("" if a.allowed else " Gated: pass `--allow-delete`."))
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
