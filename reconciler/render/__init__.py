"""Every word and document a person or a machine reads: plans, apply reports, wait results, drift, errors.

Pure functions over the core's data; nothing here does I/O.

    render_text(plan, color=True)       # for people
    render_json(plan)                   # for machines (docs/json-format.md)
    render_markdown(plan)               # for pull-request comments
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.plan import Plan
from reconciler.render.documents import (
    FORMAT_VERSION,
    plan_dict,
    render_apply_json,
    render_drift_json,
    render_error_json,
    render_json,
)
from reconciler.render.markdown import GITHUB_COMMENT_LIMIT, render_markdown
from reconciler.render.report import render_drift, render_report, render_settled, report_summary
from reconciler.render.style import wants_color
from reconciler.render.text import render_text, summary_line
from reconciler.render.values import list_delta, show, show_field
from reconciler.render.words import error_lines, notice_message, problem_message

RENDERERS: dict[str, Callable[[Plan], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}

__all__ = [
    "FORMAT_VERSION",
    "GITHUB_COMMENT_LIMIT",
    "RENDERERS",
    "error_lines",
    "list_delta",
    "notice_message",
    "plan_dict",
    "problem_message",
    "render_apply_json",
    "render_drift",
    "render_drift_json",
    "render_error_json",
    "render_json",
    "render_markdown",
    "render_report",
    "render_settled",
    "render_text",
    "report_summary",
    "show",
    "show_field",
    "summary_line",
    "wants_color",
]
