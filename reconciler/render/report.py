"""Apply reports, wait results and drift verdicts as text."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.apply import ApplyReport, Outcome, Settled
from reconciler.plan import Plan
from reconciler.render.style import Style, plain, styler
from reconciler.render.text import blocked_count, summary_line
from reconciler.render.words import is_name_refusal, outcome_message, plural, status_text
from reconciler.text import escape_control

_MARKS = {"done": "✓", "failed": "✗", "unknown": "?", "not_applied": "✗", "not_started": "·", "interrupted": "?"}
_COUNTED = {"failed": "failed", "unconfirmed": "not confirmed by the API", "unknown": "outcome unknown",
            "not_applied": "not applied", "not_started": "not started",
            "interrupted": "interrupted (outcome unknown)"}


def report_summary(report: ApplyReport) -> str:
    """``Apply complete: 3 done.``, with every count that is not zero."""
    head = "Apply interrupted" if report.interrupted else "Apply complete" if report.ok else "Apply finished with errors"
    return f"{head}: {_counts(report.summary())}."


def _counts(counts: dict[str, int]) -> str:
    """``3 done, 1 outcome unknown``: done, then every other count that is not zero."""
    return ", ".join([f"{counts['done']} done"] + [f"{counts[k]} {w}" for k, w in _COUNTED.items() if counts[k]])


#: Not-started actions listed one by one at most; the rest are counted.
NOT_STARTED_LISTED = 10
#: The order of the report: what needs a look first.
_ORDER = {"failed": 0, "not_applied": 1, "unknown": 2, "interrupted": 3, "unconfirmed": 4, "done": 5, "not_started": 6}
_COLOURS = {"failed": "error", "not_applied": "error", "unknown": "warn", "interrupted": "warn", "unconfirmed": "warn",
            "done": "create", "not_started": "dim"}


def _group(outcome: Outcome) -> str:
    return "unconfirmed" if outcome.result == "done" and outcome.confirmed is False else outcome.result


def outcome_line(outcome: Outcome, style: Style = plain) -> str:
    group = _group(outcome)
    mark = "!" if group == "unconfirmed" else _MARKS[outcome.result]
    status = f" [{outcome.final_status}]" if outcome.final_status else ""
    refused = outcome.error is not None and outcome.detail == "refused" and not is_name_refusal(outcome.error)
    text = str(outcome.error) if refused else f"sender {outcome.sender_id}: {outcome_message(outcome)}"
    return f"  {style(mark, _COLOURS[group])} {outcome.action} {escape_control(text + status)}"


def render_report(report: ApplyReport, *, color: bool = False) -> str:
    """Each action's outcome, failures first, a line each (long not-started lists counted), then the summary."""
    style = styler(color)
    lines = [""]
    ordered = sorted(report.outcomes, key=lambda o: _ORDER[_group(o)])
    not_started = [o for o in ordered if o.result == "not_started"]
    for o in ordered:
        if o.result != "not_started":
            lines.append(outcome_line(o, style))
    for o in not_started[:NOT_STARTED_LISTED]:
        lines.append(outcome_line(o, style))
    if len(not_started) > NOT_STARTED_LISTED:
        rest = len(not_started) - NOT_STARTED_LISTED
        lines.append(f"  {style('·', 'dim')} … and {rest} more not started (apply --format json lists every outcome)")
    if report.confirm_error:
        lines.append(f"  ! could not confirm the outcome from the API: {report.confirm_error}")
    lines.append(style(report_summary(report), "bold"))
    return "\n".join(lines) + "\n"


def render_settled(settled: Settled) -> str:
    lines = ["Final statuses:"] + [escape_control(f"  {sid}: {status_text(s)}") for sid, s in settled.statuses.items()]
    return "\n".join(lines) + "\n"


def timed_out_line(settled: Settled, timeout: float) -> str:
    return f"Error: still in transient states after {timeout:g} s: {', '.join(settled.timed_out)}"


#: Senders named on drift's line at most; ``--format json`` lists them all.
DRIFT_NAMED = 20


def render_drift(plan: Plan) -> str:
    """One line: what drifted, or that nothing did; never "no drift" about senders that were not compared."""
    problems = f"{blocked_count(plan)} and could not be compared (see the errors below)" if plan.problems else ""
    if not plan.drifted:
        if problems:
            return f"No drift among the senders compared, but {problems}.\n"
        return f"No drift: live senders match the file ({plural(plan.live_count, 'live sender')} read).\n"
    line = summary_line(plan, head="Drift") if plan.has_changes else "Drift:"
    refused = sum(1 for n in plan.declined_renames if n.kind == "rename_failed")
    waiting = len(plan.declined_renames) - refused
    notes = [f"{plural(refused, 'display name')} refused by Meta"] if refused else []
    notes += [f"{plural(waiting, 'display name')} waiting for Meta's review of another"] if waiting else []
    notes += [f"{plural(len(plan.pool_conflicts), 'sender')} in several Messaging Services"] if plan.pool_conflicts else []
    if notes:  # after the counts, or alone after "Drift:"
        line = (line.rstrip(".") + "; " if plan.has_changes else "Drift: ") + "; ".join(notes) + "."
    senders = plan.drifted_senders()
    named = ", ".join(senders[:DRIFT_NAMED])
    if len(senders) > DRIFT_NAMED:
        named += f" and {len(senders) - DRIFT_NAMED} more (--format json lists them all)"
    also = f". Also, {problems}." if problems else ""
    return escape_control(f"{line} Senders: {named}{also}") + "\n"


#: What the tool says when a person or a signal stops it. "Nothing was changed" only where no write was sent.
STOPPING = "Stopping: no new changes start; waiting for those in flight (signal again to abort them)."
STOPPED_WAITING = "\nStopped waiting: the changes above were sent; 'reconciler plan' shows where they stand."
INTERRUPTED_PLANNING = "interrupted while planning: nothing was changed"
INTERRUPTED_READING = "interrupted while reading: nothing was changed"
INTERRUPTED = "interrupted: nothing was changed"
#: Between the prompt and the writes' own signal handling, or between that and the report: a write may be out.
INTERRUPTED_WRITING = ("interrupted while the changes were being sent: their outcome is unknown; "
                       "'reconciler plan' shows where the senders stand")
CANCELLED = "apply cancelled: nothing was changed"
NOTHING_TO_APPLY = "Nothing to apply."


def interrupted_after_writes(reports: Iterable[ApplyReport]) -> str:
    """An interrupt once the writes are over (the report was being printed, or waited on): what they did, summed
    over the accounts, since the report may be cut short; "nothing was changed" only when no write was sent."""
    totals: dict[str, int] = {}
    for report in reports:
        for key, count in report.summary().items():
            totals[key] = totals.get(key, 0) + count
    if sum(totals.values()) == totals.get("not_started", 0):
        return INTERRUPTED
    return (f"interrupted after the writes ({_counts(totals)}); the report may be cut short: "
            "'reconciler plan' shows where the senders stand")


def interrupted_verifying(sender_id: str) -> str:
    """An interrupt while ``verify``'s code was on its way: the API may or may not have taken it."""
    return (f"interrupted while the verification code was being submitted: its outcome is unknown; "
            f"'reconciler plan' shows whether {escape_control(sender_id)} still waits for a code")
