"""The words of ``drift --notify``: the one message sent when drift or an error is found, and the warnings
about a notification that could not be sent.

    message = drift_message(plans)          # None when nothing drifted and no sender has a problem
    message = error_message(error)
    message.title, message.body, message.failure

Plain text, every value from an account or a file escaped. The message names every account that drifted
or has problems (up to :data:`ACCOUNTS_LISTED`) with its counts, then the first changes
(:data:`CHANGES_LISTED`), and says how many it left out: a chat message, not a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.accounts.record import AccountPlan
from reconciler.errors import ReconcilerError
from reconciler.plan import Plan
from reconciler.render.words import error_lines, notice_message, plural, problem_message
from reconciler.text import clip, escape_control

#: Accounts named at most, and changes listed at most, in one message.
ACCOUNTS_LISTED = 20
CHANGES_LISTED = 10
#: Lines of an error at most (a broken file may have hundreds of problems).
ERROR_LINES = 20
TITLE = "reconciler drift"


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    #: An error or a problem, rather than drift alone (a notification service may colour it so).
    failure: bool = False


def drift_message(plans: Sequence[AccountPlan]) -> Message | None:
    """What ``drift`` found, when it found drift or a problem; None when live matches the files."""
    concerned = [p for p in plans if p.plan.drifted or p.plan.problems]
    if not concerned:
        return None
    drifted = sum(1 for p in plans if p.plan.drifted)
    troubled = sum(1 for p in plans if p.plan.problems)
    found = []
    if drifted:
        found.append(f"drift in {drifted} of {plural(len(plans), 'account')}")
    if troubled:
        found.append(f"{plural(troubled, 'account')} with senders that could not be compared")
    lines = [escape_control(f"Account {p.account.label}: {_counts(p.plan)}") for p in concerned[:ACCOUNTS_LISTED]]
    if len(concerned) > ACCOUNTS_LISTED:
        lines.append(f"… and {plural(len(concerned) - ACCOUNTS_LISTED, 'more account')}.")
    changes = [line for p in concerned for line in _changes(p, several=len(plans) > 1)]
    lines += ["", "First changes:" if len(changes) > CHANGES_LISTED else "Changes:", *changes[:CHANGES_LISTED]]
    if len(changes) > CHANGES_LISTED:
        lines.append(f"… and {len(changes) - CHANGES_LISTED} more ('reconciler drift --format json' lists them all).")
    said = "; ".join(found)
    return Message(f"{TITLE}: {said}", f"{said[0].upper()}{said[1:]}.\n\n" + "\n".join(lines) + "\n",
                   failure=bool(troubled))


def _counts(plan: Plan) -> str:
    """``1 to create, 2 to update, 1 to delete (1 gated); 1 display name declined; 1 sender with a problem``."""
    s = plan.summary()
    parts = [f"{s['create']} to create, {s['update']} to update, {s['delete']} to delete"
             + (f", {plural(s['pool'], 'sender-pool change')}" if s["pool"] else "")
             + (f" ({len(plan.gated)} gated)" if plan.gated else "")]
    if plan.declined_renames:
        parts.append(f"{plural(len(plan.declined_renames), 'display name')} declined or waiting for another's review")
    if plan.problems:
        parts.append(f"{plural(len({p.sender_id for p in plan.problems}), 'sender')} with a problem")
    return "; ".join(parts) + "."


def _changes(planned: AccountPlan, *, several: bool) -> list[str]:
    """One line per change, rename declined and problem of an account, in the plan's order."""
    where = f" (account {planned.account.sid})" if several else ""
    plan = planned.plan
    lines = []
    for action in plan.actions:
        what = ": " + ", ".join(c.path for c in action.changes) if action.action in ("update", "pool") else ""
        gated = " (gated)" if not action.allowed else ""
        lines.append(f"  {action.symbol} {action.sender_id}{where}{what}{gated}")
    lines += [f"  ! {n.sender_id}{where}: {notice_message(n)}" for n in plan.declined_renames + plan.pool_conflicts]
    lines += [f"  ✗ {p.sender_id}{where}: {problem_message(p)}" for p in plan.problems]
    return [clip(escape_control(line), 300) for line in lines]


def error_message(error: ReconcilerError) -> Message:
    """A run that ended in an error: no drift could be told, and the error says why."""
    lines = error_lines(error)
    if len(lines) > ERROR_LINES:  # the first, a count of those left out, and the closing line
        kept = ERROR_LINES - 2
        lines = [*lines[:kept], f"… and {len(lines) - kept - 1} more lines.", lines[-1]]
    return Message(f"{TITLE}: error, drift could not be checked",
                   "The drift check failed, so whether live senders match the files is not known:\n\n"
                   + "\n".join(lines) + "\n", failure=True)


def send_failed(service: str) -> str:
    """The warning about one notification URL (as :func:`reconciler.notify.shown` shows it) that failed."""
    return (f"Warning: the notification to {service} could not be sent (refused, or not reached); the exit code "
            "is what the check found")
