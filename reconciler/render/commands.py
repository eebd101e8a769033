"""What a command prints, whole: standard output and the lines on standard error, from the command's result.

    out = plan_output(result.plans, "text", color=True, forced=result.forced, out="plan.json", saved=True)
    out.stdout        # the plan
    out.stderr        # warnings under --force, problems, where the plan was saved

The CLI echoes it: one call to render a command, so the words of a command live together.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.accounts.record import AccountPlan, AccountReport
from reconciler.apply import Settled
from reconciler.defaults import STDIO
from reconciler.errors import SafetyViolation
from reconciler.export import Skipped
from reconciler.render.accounts import (
    RENDERERS,
    render_apply_all_json,
    render_drift_all,
    render_drift_all_json,
    render_plans_text,
)
from reconciler.render.report import NOTHING_TO_APPLY, STOPPED_WAITING, render_settled, timed_out_line
from reconciler.render.words import blocked_message, export_warning, forced_lines, plural, problem_lines
from reconciler.text import escape_control


@dataclass(frozen=True)
class Output:
    """A command's output: ``stdout`` as it is written, ``stderr`` one line each, and the error that ends it."""

    stdout: str
    stderr: tuple[str, ...] = ()
    error: str | None = None


def problems(plans: Sequence[AccountPlan]) -> list[str]:
    """Every plan's problems as error lines, each naming its account in a run of several."""
    several = len(plans) > 1
    return [line for p in plans for line in problem_lines(p.plan, p.account.label if several else None)]


def plan_output(plans: Sequence[AccountPlan], fmt: str, *, color: bool = False,
                forced: Iterable[SafetyViolation] = (), out: str | None = None, saved: bool = False) -> Output:
    """``reconciler plan``: the plan in ``fmt``, then what was forced, the problems, and where it was saved."""
    lines = [*forced_lines(forced), *problems(plans)]
    if out and any(p.plan.problems for p in plans):
        lines.append(f"Error: the plan has problems, so it was not saved to {out}")
    elif out == STDIO and saved:
        lines.append("Wrote the saved plan to standard output; apply it with: ... | reconciler apply -")
    elif out and saved:
        lines.append(escape_control(f"Saved the plan to {out}; apply it with: reconciler apply {_argument(out)}"))
    return Output(_plans(plans, fmt, color), tuple(lines))


def _argument(path: str) -> str:
    """A path as a shell takes it back as one argument that is not an option: quoted, ``./`` before a leading ``-``."""
    return shlex.quote("./" + path if path.startswith("-") else path)


def _plans(plans: Sequence[AccountPlan], fmt: str, color: bool) -> str:
    """The plans as ``plan`` prints them in ``fmt``."""
    return render_plans_text(plans, color=color) if fmt == "text" else RENDERERS[fmt](plans)


def drift_output(plans: Sequence[AccountPlan], fmt: str) -> Output:
    """``reconciler drift``: one line per account (or the JSON document), then the problems."""
    lines = tuple(problems(plans))
    return Output(render_drift_all_json(plans) if fmt == "json" else render_drift_all(plans), lines)


def apply_output(plans: Sequence[AccountPlan], reports: Sequence[AccountReport], fmt: str, *, blocked: bool = False,
                 settled: Settled | None = None, wait_stopped: bool = False, timeout: float = 0) -> Output:
    """``reconciler apply`` after the writes (their report was shown as they ended): the JSON document, or the
    wait's statuses; a plan blocked by problems names them and why nothing was applied."""
    if blocked:
        return Output("", tuple(problems(plans)), "; ".join(blocked_message(p.plan) for p in plans if p.plan.problems))
    lines = [STOPPED_WAITING] if wait_stopped else []
    if settled is not None and settled.timed_out:
        lines.append(timed_out_line(settled, timeout))
    if fmt == "json":
        return Output(render_apply_all_json(plans, reports, settled), tuple(lines))
    if not any(p.plan.allowed_actions for p in plans):
        return Output(NOTHING_TO_APPLY + "\n", tuple(lines))
    return Output(render_settled(settled) if settled is not None else "", tuple(lines))


def show_output(plans: Sequence[AccountPlan], fmt: str, key_source: str | None, *, color: bool = False) -> Output:
    """``reconciler show``: the plan as ``plan`` printed it, and whether its signature was verified."""
    if key_source is None:
        said = ("Note: the signature was not verified: no key (set RECONCILER_PLAN_KEY, or the credentials that "
                "signed the plan); 'reconciler apply' verifies it before any change")
    else:
        said = f"Signature verified with the key from {key_source}."
    return Output(_plans(plans, fmt, color), (said,))


def export_output(text: str, count: int, skipped: Sequence[Skipped], path: str | None) -> Output:
    """``reconciler export``: the file on stdout unless it was written to ``path``; what could not be written."""
    lines = [export_warning(s.sender_id, s.path, s.reason, written=s.value is not None, ignored=s.ignored)
             for s in skipped]
    if path and path != STDIO:
        return Output("", (*lines, f"Wrote {plural(count, 'sender')} to {escape_control(path)}"))
    return Output(text, tuple(lines))


def import_output(path: str, sender_ids: Sequence[str], skipped: Sequence[Skipped],
                  remaining: Sequence[tuple[str, Sequence[str]]]) -> Output:
    """``reconciler import``: what was added to which file; the values written as comments, and what the next plan
    would still change (a ``defaults:`` value the file cannot override for a sender), on stderr."""
    lines = [export_warning(s.sender_id, s.path, s.reason, written=s.value is not None, ignored=s.ignored)
             for s in skipped]
    lines += [escape_control(f"Warning: sender {sender_id}: the next plan still updates {', '.join(paths)}: the "
                             "file's defaults: set a value for it that this sender does not have, and the file cannot "
                             "write it empty") for sender_id, paths in remaining]
    said = escape_control(f"Imported {plural(len(sender_ids), 'sender')} into {path}: {', '.join(sender_ids)}")
    return Output(said + "\n", tuple(lines))
