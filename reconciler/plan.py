"""The plan: a sorted, frozen tuple of create / update / delete actions computed from desired and live state.

Pure: no I/O. ``build_plan(desired, live)`` is the whole of planning; "no changes" is an empty plan,
never ``None``. Besides actions a plan carries *notices* (what the user should know but the tool will not
act on: a rename in Meta's review, a sender waiting for its OTP) and *problems* (senders the tool refuses
to touch as written, such as a ``waba_id`` change). Apply performs only allowed actions of a plan without
problems for that sender.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.diff import IMMUTABLE_FIELDS, FieldChange, desired_view, nest, sender_changes
from reconciler.errors import UnsafePlanError
from reconciler.models import (
    DISPLAY_NAME_FAILED,
    DISPLAY_NAME_IN_REVIEW,
    DISPLAY_NAME_RETRYABLE,
    SANDBOX_SENDER_ID,
    TRANSIENT_STATUSES,
    DesiredSender,
    DesiredState,
    LiveSender,
    Safety,
)

ActionKind = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class Action:
    """One thing apply would do to one sender.

    ``body`` is exactly what would be sent (create or partial update body); ``allowed`` is false for
    a delete without ``--allow-delete``: it is shown, never performed.
    """

    action: ActionKind
    sender_id: str
    sid: str | None = None
    changes: tuple[FieldChange, ...] = ()
    body: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    allowed: bool = True
    status: str | None = None
    note: str | None = None

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "delete": "-"}[self.action]


@dataclass(frozen=True)
class Notice:
    """Something about a sender worth knowing that needs no action from apply."""

    sender_id: str
    kind: str  # "status", "verification", "offline", "rename_pending", "rename_failed"
    message: str


@dataclass(frozen=True)
class Problem:
    """A sender the tool will not change as the file asks; apply skips it and exits 1."""

    sender_id: str
    message: str


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...] = ()
    notices: tuple[Notice, ...] = ()
    problems: tuple[Problem, ...] = ()
    #: How many live senders the plan was computed against (after --target), for the safety thresholds.
    live_count: int = 0
    #: sender_id → fingerprint of the live sender the action was planned from ("absent" for a create).
    fingerprints: tuple[tuple[str, str], ...] = ()
    targets: tuple[str, ...] = ()

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "delete": 0}
        for a in self.actions:
            counts[a.action] += 1
        return counts

    @property
    def gated(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if not a.allowed)

    @property
    def allowed_actions(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.allowed)

    @property
    def has_changes(self) -> bool:
        """Any action at all, gated deletes included: this is drift."""
        return bool(self.actions)

    @property
    def applyable(self) -> bool:
        """Apply would change something and nothing in the plan is refused."""
        return bool(self.allowed_actions) and not self.problems

    def check_safety(self, safety: Safety, *, force: bool = False) -> None:
        """Raise :class:`UnsafePlanError` when the plan touches more of the live senders than allowed."""
        if force:
            return
        messages = safety_violations(self, safety)
        if messages:
            raise UnsafePlanError("; ".join(messages) + "; pass --force to proceed anyway")


def safety_violations(plan: Plan, safety: Safety) -> list[str]:
    """Human sentences for each threshold the plan crosses (empty when it is safe)."""
    total = plan.live_count
    if total == 0 or total < safety.min_senders:
        return []
    out = []
    for kind, limit in (("update", safety.max_update_percent), ("delete", safety.max_delete_percent)):
        count = sum(1 for a in plan.allowed_actions if a.action == kind)
        percent = 100.0 * count / total
        if count and percent > limit:
            out.append(f"would {kind} {count} of {total} senders ({percent:.0f} % > {limit:g} %)")
    return out


# --------------------------------------------------------------------------- fingerprints


def fingerprint(live: LiveSender | None) -> str:
    """A digest of what a plan depends on in a live sender: its identity and every writable field.

    Status and quality properties are left out: a sender settling from ONLINE:UPDATING to ONLINE
    does not make a plan stale.
    """
    if live is None:
        return "absent"
    view = {
        "sid": live.sid,
        "sender_id": live.sender_id,
        "configuration": {k: v for k, v in (live.configuration or {}).items() if k != "verification_code"},
        "webhook": live.webhook or {},
        "profile": live.profile or {},
        "pending_display_name": live.pending_display_name,
        "pending_display_name_status": live.pending_display_name_status,
    }
    blob = json.dumps(view, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------- planning


def build_plan(
    desired: DesiredState,
    live: Sequence[LiveSender],
    *,
    allow_delete: bool = False,
    targets: Iterable[str] = (),
) -> Plan:
    """Compare ``desired`` with ``live`` and return the plan that makes live match the file.

    ``targets`` limits the plan to those sender ids (both sides); a target that matches no
    sender is a problem, so a typo cannot silently plan nothing.
    """
    wanted = desired.by_id()
    problems: list[Problem] = []
    notices: list[Notice] = []
    actions: list[Action] = []
    prints: dict[str, str] = {}

    have: dict[str, LiveSender] = {}
    for sender in live:
        if sender.sender_id in have:
            problems.append(Problem(sender.sender_id, f"the API lists this sender twice ({have[sender.sender_id].sid}, {sender.sid})"))
            continue
        have[sender.sender_id] = sender

    target_set = frozenset(targets)
    if target_set:
        for t in sorted(target_set - wanted.keys() - have.keys()):
            problems.append(Problem(t, "--target matches no sender in the file or the account"))
        wanted = {k: v for k, v in wanted.items() if k in target_set}
        have = {k: v for k, v in have.items() if k in target_set}

    for sender_id in sorted(wanted):
        want = wanted[sender_id]
        current = have.get(sender_id)
        if current is None:
            action, problem = plan_create(want)
        else:
            notices.extend(_status_notices(current))
            action, problem, more = plan_update(want, current)
            notices.extend(more)
        if problem:
            problems.append(problem)
        if action:
            actions.append(action)
            prints[sender_id] = fingerprint(current)

    for sender_id in sorted(have.keys() - wanted.keys()):
        current = have[sender_id]
        if sender_id in desired.ignore or sender_id == SANDBOX_SENDER_ID:
            continue
        actions.append(
            Action(
                "delete",
                sender_id,
                sid=current.sid,
                allowed=allow_delete,
                status=current.status,
                note=None if allow_delete else "gated: pass --allow-delete",
            )
        )
        prints[sender_id] = fingerprint(current)

    order = {"create": 0, "update": 1, "delete": 2}
    actions.sort(key=lambda a: (a.sender_id, order[a.action]))
    return Plan(
        actions=tuple(actions),
        notices=tuple(sorted(notices, key=lambda n: (n.sender_id, n.kind))),
        problems=tuple(sorted(problems, key=lambda p: p.sender_id)),
        live_count=len(have),
        fingerprints=tuple(sorted(prints.items())),
        targets=tuple(sorted(target_set)),
    )


def plan_create(want: DesiredSender) -> tuple[Action | None, Problem | None]:
    fields = desired_view(want)
    if not fields.get("profile.name"):
        return None, Problem(want.sender_id, "cannot create: profile.name is required by the API to register a sender")
    body: dict[str, Any] = {"sender_id": want.sender_id, **nest(fields)}
    changes = tuple(FieldChange(path, None, value) for path, value in fields.items())
    return Action("create", want.sender_id, changes=changes, body=body), None


def plan_update(
    want: DesiredSender, current: LiveSender
) -> tuple[Action | None, Problem | None, list[Notice]]:
    notices: list[Notice] = []
    changes: list[FieldChange] = []
    note = None
    for change in sender_changes(want, current):
        if change.path in IMMUTABLE_FIELDS and change.before != "":
            return (
                None,
                Problem(
                    want.sender_id,
                    f"{change.path} cannot change ({change.before!r} → {change.after!r}): "
                    "a sender stays in its WhatsApp Business Account; nothing was planned for this sender",
                ),
                notices,
            )
        if change.path == "profile.name":
            keep, rename_notice, note = _rename(change, current)
            if rename_notice:
                notices.append(rename_notice)
            if not keep:
                continue
        changes.append(change)
    if not changes:
        return None, None, notices
    body = nest({c.path: c.after for c in changes})
    return (
        Action("update", want.sender_id, sid=current.sid, changes=tuple(changes), body=body, status=current.status, note=note),
        None,
        notices,
    )


def _rename(change: FieldChange, current: LiveSender) -> tuple[bool, Notice | None, str | None]:
    """Decide a ``profile.name`` change in the light of Meta's display-name review.

    Returns (send the change?, a notice, a note for the action).
    """
    pending, status = current.pending_display_name, current.pending_display_name_status
    if pending != change.after or not status:
        return True, None, None
    sid = current.sender_id
    if status in DISPLAY_NAME_IN_REVIEW:
        return False, Notice(sid, "rename_pending", f"display name {pending!r} is {status} by Meta; nothing to send"), None
    if status in DISPLAY_NAME_RETRYABLE:
        return (
            True,
            Notice(sid, "rename_failed", f"display name {pending!r} is {status}; re-submitting retries the review"),
            f"re-submits the display name after {status}",
        )
    if status in DISPLAY_NAME_FAILED:  # DECLINED: sending the same name again cannot succeed
        return (
            False,
            Notice(sid, "rename_failed", f"display name {pending!r} was {status} by Meta; choose another name"),
            None,
        )
    return True, None, None  # COMPLETED or a status this tool does not know: plan the change as usual


def offline_description(sender: LiveSender) -> str:
    """``OFFLINE (410: Number deregistered; ...)``, with Twilio's reasons when it gives any."""
    reasons = "; ".join(
        f"{r.get('code')}: {r.get('message')}" for r in (sender.offline_reasons or []) if isinstance(r, dict)
    )
    return "OFFLINE" + (f" ({reasons})" if reasons else "")


def _status_notices(current: LiveSender) -> list[Notice]:
    sid, status = current.sender_id, current.status
    if status == "PENDING_VERIFICATION":
        return [Notice(sid, "verification", f"waiting for its verification code: reconciler verify {sid} --code CODE")]
    if status == "OFFLINE":
        return [Notice(sid, "offline", offline_description(current))]
    if status in TRANSIENT_STATUSES:
        return [Notice(sid, "status", f"status {status}: the API is still working on this sender")]
    return []
