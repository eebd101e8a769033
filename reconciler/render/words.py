"""The sentences of reconciler: what the core returns as data, worded for people.

Pure functions. The text, Markdown and JSON renderings all word a notice, a problem or an outcome
through here, so the three never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from reconciler.errors import ApiError, ConfigError, ReconcilerError, SafetyViolation, UnsafePlanError
from reconciler.models import (
    CODE_NAME_DECLINED,
    CODE_NAME_IN_PROGRESS,
    DISPLAY_NAME_IN_REVIEW,
    DISPLAY_NAME_RETRYABLE,
    LiveSender,
)
from reconciler.render.values import show_service
from reconciler.text import escape_control

if TYPE_CHECKING:
    from reconciler.apply import Outcome
    from reconciler.diff import Action, Notice, Problem
    from reconciler.models import DesiredState
    from reconciler.plan import Plan


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 sender``, ``2 senders``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def action_note(action: Action) -> str | None:
    """What the heading of an action adds in parentheses, beyond its kind, SID and status."""
    if not action.allowed:
        return "gated: pass --allow-delete"
    if action.action == "pool":
        return pool_note(action)
    if action.resubmits:
        return f"re-submits the display name after {action.resubmits}"
    if action.action == "update" and any(c.path == "profile.name" for c in action.changes):
        return "Meta reviews the new display name; the live name changes once it is approved"
    return None


def pool_note(action: Action) -> str | None:
    """A pool action's note: a sender left in no service is said plainly, and a created one joins after its create."""
    if not action.body.get("add"):
        return "leaves its Messaging Service and will be in none: nothing can be sent from it through a service"
    if action.sid is None:
        return "joins once the sender is created"
    return None


def _service_words(outcome: Outcome) -> tuple[str, str]:
    """The services a pool outcome's change names: the one left and the one joined (``none`` for none)."""
    change = outcome.change
    return (show_service(change.before), show_service(change.after)) if change else ("none", "none")


def pool_message(outcome: Outcome) -> str:
    """What a pool action did, or why it did not."""
    left, joined = _service_words(outcome)
    if outcome.detail == "no_sender":
        return f"not sent: the sender was not created, so it could not join {joined}; a re-run adds it"
    if outcome.detail == "already_pooled":
        return f"already in {joined}" if joined != "none" else f"already out of {left}"
    if joined == "none":
        return f"left {left}; the sender is in no Messaging Service now"
    return f"moved from {left} to {joined}" if left != "none" else f"joined {joined}"


def offline_text(reasons: tuple[tuple[object, object], ...]) -> str:
    """``OFFLINE (410: Number deregistered; ...)``, with Twilio's reasons when it gives any."""
    listed = "; ".join(f"{code}: {message}" for code, message in reasons)
    return "OFFLINE" + (f" ({listed})" if listed else "")


def verify_hint(sender_id: str) -> str:
    return f"reconciler verify {sender_id} --code CODE"


def notice_message(notice: Notice) -> str:
    name, status = notice.name, notice.status
    if notice.kind == "verification":
        return f"waiting for its verification code: {verify_hint(notice.sender_id)}"
    if notice.kind == "offline":
        return offline_text(notice.reasons)
    if notice.kind == "status":
        return f"status {status}: the API is still working on this sender"
    if notice.kind == "unmatched_live":
        return (f"the API lists a sender without a {name}: it cannot be matched to the file nor changed, "
                "so it is left alone (never deleted)")
    if notice.kind == "several_services":
        return (f"the pools of several Messaging Services hold this sender ({name}): which one to keep is not "
                "guessed, so its pools are left alone; take it out of all but one")
    if notice.kind == "rename_blocked":
        return (f"display name {notice.wanted!r} waits for Meta's review of {name!r} ({status}): Meta reviews one "
                "change at a time, so nothing is sent for it; plan again once that review ends")
    if status in DISPLAY_NAME_IN_REVIEW:
        return f"display name {name!r} is {status} by Meta; nothing to send"
    if status in DISPLAY_NAME_RETRYABLE:
        return f"display name {name!r} is {status}; re-submitting retries the review"
    return (f"display name {name!r} was {status} by Meta; choose another name (the API gives Meta's reason only "
            "when a name is submitted, not when a sender is read)")


def problem_message(problem: Problem) -> str:
    if problem.kind == "listed_twice":
        return f"the API lists this sender twice ({', '.join(problem.sids)})"
    if problem.kind == "target_unmatched":
        hint = f"; did you mean {problem.after}?" if problem.after else ""
        return f"--target matches no sender in the file or the account{hint}"
    if problem.kind == "name_required":
        return "cannot create: profile.name is required by the API to register a sender"
    if problem.kind in ("service_unknown", "service_ambiguous"):
        return service_problem(problem)
    if problem.kind == "protected":
        return (f"protected at {problem.after}, so never deleted (not even with --allow-delete and --force), but no file "
                "declares it: declare it again, or lift its protection in a change of its own")
    return (
        f"{problem.path} cannot change ({problem.before!r} → {problem.after!r}): "
        "a sender stays in its WhatsApp Business Account; nothing was planned for this sender"
    )


def service_problem(problem: Problem) -> str:
    """A ``messaging_service`` that names no service of the account, or several."""
    where = f" ({problem.where})" if problem.where else ""
    if problem.kind == "service_ambiguous":
        return (f"messaging_service {problem.after!r}{where}: {len(problem.sids)} Messaging Services of the account "
                f"have this name ({', '.join(problem.sids)}); write the SID of the one meant")
    return f"messaging_service {problem.after!r}{where}: no Messaging Service of the account has this SID or name"


def blocked_message(plan: Plan) -> str:
    """Why apply refuses a plan with problems, and the two ways on."""
    ids = sorted({p.sender_id for p in plan.problems})
    return (f"nothing was applied: the plan has problems with {plural(len(ids), 'sender')} ({', '.join(ids)}); "
            "fix them in the files, or leave them out with --target to apply the others")


def problem_lines(plan: Plan, account: str | None = None) -> list[str]:
    """The plan's problems as the error lines that close a command; ``account``: the account's label, in a
    run of several."""
    where = f"account {account}: " if account else ""
    return [escape_control(f"Error: {where}sender {p.sender_id}: {problem_message(p)}") for p in plan.problems]


def status_text(sender: LiveSender | None) -> str:
    """A sender's status after apply --wait, with what to do about it when something is owed."""
    if sender is None:
        return "not found"
    if sender.status == "PENDING_VERIFICATION":
        return f"PENDING_VERIFICATION: verify it with: {verify_hint(sender.sender_id)}"
    if sender.status == "OFFLINE":
        from reconciler.diff import offline_reasons  # not at the top: `validate` words its verdict without the planner

        return offline_text(offline_reasons(sender))
    return str(sender.status)


def outcome_message(outcome: Outcome) -> str:
    """What happened to one action, as the apply report says it."""
    detail, err = outcome.detail, outcome.error
    if err is not None and detail == "refused":
        text = _refusal(err)
    elif err is not None and detail in ("lost", "unread"):
        if outcome.result == "not_applied":
            verdict = "and the API's list does not show the change: not applied; a re-run retries it"
        else:
            verdict = "outcome unknown: 'reconciler plan' shows where it stands"
        if detail == "lost":
            text = f"the API's answer was lost ({_tagged(err)}); {verdict}"
        else:
            text = (f"the API says this sender exists already (HTTP 409), but it could not be compared with the file "
                    f"({_tagged(err)}); {verdict}")
    elif err is not None and detail == "unsent":
        text = f"not sent ({_tagged(err)}): not applied; a re-run retries it"
    elif outcome.action == "pool" and detail in ("pooled", "already_pooled", "no_sender"):
        text = pool_message(outcome)
    elif detail == "updated":
        text = f"updated {plural(outcome.fields, 'field')}"
        if outcome.renamed:
            text += "; the new display name goes to Meta's review, and the live name changes once it is approved"
    else:
        text = _DETAILS[detail]
    if outcome.result == "done" and outcome.confirmed is False and outcome.action == "pool":
        text += "; but the services' pools do not show it so"
    elif outcome.result == "done" and outcome.confirmed is False:
        still = "still listed" if outcome.action == "delete" else "not there or still different"
        text += f"; but the API's list shows the sender {still}"
    return text


def _tagged(error: ApiError) -> str:
    """``HTTP 500 / Twilio 20500: Internal Server Error``: an error's status and code, then its message."""
    tag = "" if error.status is None else f"HTTP {error.status}" + (f" / Twilio {error.code}" if error.code else "") + ": "
    return tag + error.message


def is_name_refusal(error: ApiError) -> bool:
    """Whether the API refused a display name with one of Meta's codes (worded apart by :func:`outcome_message`)."""
    return error.code in (CODE_NAME_DECLINED, CODE_NAME_IN_PROGRESS)


def _refusal(error: ApiError) -> str:
    """The API's refusal, with what Twilio's codes for display names mean."""
    if error.code == CODE_NAME_DECLINED:
        return f"Meta declined the display name (Twilio {error.code}; Meta's reason as the API gives it: {error.message})"
    if error.code == CODE_NAME_IN_PROGRESS:
        return (f"a display-name change is already in Meta's review (Twilio {error.code}: {error.message}); "
                "plan again once it ends")
    return error.message


_DETAILS = {
    "created": "created",
    "adopted_updated": "existed already; updated to match the file",
    "adopted_same": "existed already and matches the file",
    "deleted": "deleted",
    "already_deleted": "already deleted",
    "already_same": "already matches the file (the API's list shows it)",
    "refused": "refused by the API",
    "lost": "the API's answer was lost",
    "unread": "the API says this sender exists already, but it could not be compared with the file",
    "unsent": "not sent: not applied; a re-run retries it",
    "settled": "applied (the answer was lost; the API's list shows the change)",
    "stopped": "not started: apply was stopped",
    "in_flight": "interrupted while in flight: the API may or may not have applied it",
    "pooled": "its Messaging Service changed as planned",
    "already_pooled": "already in the Messaging Service planned",
    "no_sender": "not sent: the sender was not created; a re-run adds it",
}


def export_warning(sender_id: str, path: str, reason: str, *, written: bool, ignored: bool) -> str:
    """What export says about a live value (or sender) it could not write as a managed field.

    ``written``: the value is in the file as a comment; ``ignored``: the sender is listed under ``ignore:``.
    """
    who = f"sender {sender_id}" if sender_id else "a sender with no sender_id"
    if ignored:
        what = "the file cannot manage this sender: listed under ignore:, so plan leaves it alone"
    elif written:
        what = "not managed, written as a comment under the sender"
    elif not sender_id:
        what = "left out; plan reports such a sender and leaves it alone"
    else:
        what = "the file can neither manage this sender nor list it under ignore:; plan shows it as a delete candidate"
    return escape_control(f"Warning: {who}: {path}: {what} ({reason})")


def unsafe_message(error: UnsafePlanError) -> str:
    text = str(error)
    if error.saved is False:
        return text + "; pass --force to plan and apply it anyway (no plan file was written)"
    return text + "; pass --force to proceed anyway"


def forced_lines(violations: Iterable[SafetyViolation]) -> list[str]:
    """Warnings for thresholds crossed under ``--force``."""
    return [f"Warning: {v} (allowed by --force)" for v in violations]


def error_lines(error: ReconcilerError) -> list[str]:
    """The lines that report an error of ours, on stderr, closing a command; each on one line, escaped: a
    message may quote a file name, a plan file or an API's words."""
    return [escape_control(line) for line in _error_lines(error)]


def _error_lines(error: ReconcilerError) -> list[str]:
    if isinstance(error, ConfigError):
        # One a line, PATH:LINE:COL first, so editors and CI can jump to each.
        return [str(issue) for issue in error.issues] + [
            f"Error: {plural(len(error.issues), 'problem')} in "
            f"{plural(len({i.location.path for i in error.issues}), 'desired-state file')}; nothing was read or changed"
        ]
    if isinstance(error, UnsafePlanError):
        return [f"Error: {unsafe_message(error)}"]
    if isinstance(error, ApiError) and error.credential_vars:
        names = " and ".join(error.credential_vars)
        return [f"Error: {error}",
                f"Hint: the API refused the credentials from {names}: check that they are current and belong to "
                "the account this base URL serves (TWILIO_API_KEY and TWILIO_API_SECRET, when set, take precedence "
                "over the auth token)"]
    return [f"Error: {error}"]


def config_error_lines(error: ConfigError) -> list[str]:
    """``reconciler validate``'s verdict on invalid files: every issue, then the count."""
    count = len(error.issues)
    return [escape_control(str(issue)) for issue in error.issues] + [f"{plural(count, 'error')}: invalid"]


def usage_hints(message: str, envvar: str | None = None) -> list[str]:
    """A line of help after a usage error, for the mistakes people make most.

    ``envvar`` names the environment variable a refused value came from.
    """
    if envvar:
        return [f"Hint: the value came from the environment variable {envvar}"]
    extra = re.search(r"unexpected extra arguments? \(([^)]*)\)", message)
    if extra:
        first = extra.group(1).split()[0]
        if first.endswith((".yaml", ".yml")) or "/" in first:
            return [f"Hint: desired-state files are given with -f: -f {first}"]
    return []


def valid_lines(states: Sequence[DesiredState]) -> list[str]:
    """``reconciler validate`` on valid files: a line per account."""
    lines = []
    for state in states:
        names = ", ".join(state.sources) if len(state.sources) <= 3 else f"{len(state.sources)} files"
        where = f" (account {state.account or 'of the credentials'})" if len(states) > 1 else ""
        protected = f", {len(state.protect)} protected" if state.protect else ""
        lines.append(escape_control(f"{names}{where}: {plural(len(state.senders), 'sender')}, "
                                    f"{len(state.ignore)} ignored{protected}: valid"))
    return lines
