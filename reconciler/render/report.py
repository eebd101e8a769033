"""Apply reports, wait results and drift verdicts as text."""

from __future__ import annotations

from reconciler.apply import ApplyReport, Settled
from reconciler.plan import Plan
from reconciler.render.text import summary_line
from reconciler.render.words import outcome_message, status_text

_MARKS = {"done": "✓", "failed": "✗", "not_started": "·", "interrupted": "?"}
_COUNTED = {"failed": "failed", "unconfirmed": "not confirmed by the API", "not_started": "not started",
            "interrupted": "interrupted (outcome unknown)"}


def report_summary(report: ApplyReport) -> str:
    """``Apply complete: 3 done.``, with every count that is not zero."""
    counts = report.summary()
    parts = [f"{counts['done']} done"] + [f"{counts[k]} {w}" for k, w in _COUNTED.items() if counts[k]]
    head = "Apply interrupted" if report.interrupted else "Apply complete" if report.ok else "Apply finished with errors"
    return f"{head}: " + ", ".join(parts) + "."


def render_report(report: ApplyReport) -> str:
    """Each action's outcome, a line each, then the summary."""
    lines = [""]
    for o in report.outcomes:
        mark = "!" if o.result == "done" and o.confirmed is False else _MARKS[o.result]
        status = f" [{o.final_status}]" if o.final_status else ""
        text = str(o.error) if o.error else f"sender {o.sender_id}: {outcome_message(o)}"
        lines.append(f"  {mark} {o.action} {text}{status}")
    if report.confirm_error:
        lines.append(f"  ! could not confirm the outcome from the API: {report.confirm_error}")
    lines.append(report_summary(report))
    return "\n".join(lines) + "\n"


def render_settled(settled: Settled) -> str:
    lines = ["Final statuses:"] + [f"  {sid}: {status_text(s)}" for sid, s in settled.statuses.items()]
    return "\n".join(lines) + "\n"


def timed_out_line(settled: Settled, timeout: float) -> str:
    return f"Error: still in transient states after {timeout:g} s: {', '.join(settled.timed_out)}"


def render_drift(plan: Plan) -> str:
    """One line: what drifted, or that nothing did."""
    if not plan.drifted:
        return f"No drift: live senders match the file ({plan.live_count} live senders read).\n"
    line = summary_line(plan, head="Drift") if plan.has_changes else "Drift:"
    declined = len(plan.declined_renames)
    if declined:
        line = line.rstrip(".") + f"; {declined} display name(s) refused by Meta."
    return f"{line} Senders: {', '.join(plan.drifted_senders())}\n"


#: What the tool says when a person or a signal stops it.
STOPPING = "\nStopping: no new changes start; waiting for those in flight (signal again to abort them)."
STOPPED_WAITING = "\nStopped waiting: the changes below were sent; 'reconciler plan' shows where they stand."
INTERRUPTED_PLANNING = "interrupted while planning: nothing was changed"
NOTHING_TO_APPLY = "Nothing to apply."
