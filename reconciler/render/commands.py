"""What a command prints, whole: standard output and the lines on standard error, from the command's result.

    out = plan_output(result.plans, "text", color=True, forced=result.forced, out="plan.json", saved=True)
    out.stdout        # the plan
    out.stderr        # warnings under --force, problems, where the plan was saved

The CLI echoes it: one call to render a command, so the words of a command live together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.accounts.record import AccountPlan
from reconciler.errors import SafetyViolation
from reconciler.render.accounts import RENDERERS, render_drift_all, render_drift_all_json, render_plans_text
from reconciler.render.words import forced_lines, problem_lines


@dataclass(frozen=True)
class Output:
    """A command's output: ``stdout`` as it is written, ``stderr`` one line each."""

    stdout: str
    stderr: tuple[str, ...] = ()


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
    elif out and saved:
        lines.append(f"Saved the plan to {out}; apply it with: reconciler apply {out}")
    stdout = render_plans_text(plans, color=color) if fmt == "text" else RENDERERS[fmt](plans)
    return Output(stdout, tuple(lines))


def drift_output(plans: Sequence[AccountPlan], fmt: str) -> Output:
    """``reconciler drift``: one line per account (or the JSON document), then the problems."""
    lines = tuple(problems(plans))
    return Output(render_drift_all_json(plans) if fmt == "json" else render_drift_all(plans), lines)
