"""Every word and document a person or a machine reads: plans, apply reports, wait results, drift, errors.

Pure functions over the core's data; nothing here does I/O.

    render_text(plan, color=True)       # for people
    render_json(plan)                   # for machines (docs/json-format.md)
    render_markdown(plan)               # for pull-request comments
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

    RENDERERS: dict[str, Callable[[Plan], str]]

# The names below are loaded on first use: ``reconciler validate`` needs two sentences of ``words``,
# not the JSON documents, the apply reports (and asyncio, through apply) or the Markdown.
_WHERE: dict[str, str] = {
    "FORMAT_VERSION": "documents",
    "GITHUB_COMMENT_LIMIT": "markdown",
    "error_lines": "words",
    "list_delta": "values",
    "notice_message": "words",
    "plan_dict": "documents",
    "problem_message": "words",
    "render_apply_json": "documents",
    "render_drift": "report",
    "render_drift_json": "documents",
    "render_error_json": "documents",
    "render_json": "documents",
    "render_markdown": "markdown",
    "render_report": "report",
    "render_settled": "report",
    "render_text": "text",
    "report_summary": "report",
    "show": "values",
    "show_field": "values",
    "summary_line": "text",
    "wants_color": "style",
}


def __getattr__(name: str) -> Any:
    if name == "RENDERERS":
        value: Any = {"text": __getattr__("render_text"), "json": __getattr__("render_json"),
                      "markdown": __getattr__("render_markdown")}
    elif name in _WHERE:
        value = getattr(importlib.import_module(f"reconciler.render.{_WHERE[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


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
