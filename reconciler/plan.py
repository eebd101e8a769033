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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar, get_args

from reconciler import shapes
from reconciler.diff import IMMUTABLE_FIELDS, FieldChange, desired_view, nest, sender_changes
from reconciler.errors import SafetyViolation
from reconciler.models import (
    DISPLAY_NAME_BLOCKING,
    DISPLAY_NAME_FAILED,
    DISPLAY_NAME_IN_REVIEW,
    DISPLAY_NAME_RETRYABLE,
    SANDBOX_SENDER_ID,
    TOP_FIELDS,
    TRANSIENT_STATUSES,
    Configuration,
    DesiredSender,
    DesiredState,
    LiveSender,
    Profile,
    Safety,
    Webhook,
)

ActionKind = Literal["create", "update", "delete"]
NoticeKind = Literal[
    "status", "verification", "offline", "rename_pending", "rename_failed", "rename_blocked", "unmatched_live",
]
ProblemKind = Literal["listed_twice", "target_unmatched", "name_required", "immutable_field", "protected"]


@dataclass(frozen=True)
class Action:
    """One thing apply would do to one sender.

    ``body`` is exactly what would be sent (create or partial update body); ``allowed`` is false for
    a delete the caller did not allow: it is shown, never performed. ``resubmits`` names the display-name
    review status after which an update sends the same name again.
    """

    action: ActionKind
    sender_id: str
    sid: str | None = None
    changes: tuple[FieldChange, ...] = ()
    body: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    allowed: bool = True
    status: str | None = None
    resubmits: str | None = None

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "delete": "-"}[self.action]


@dataclass(frozen=True)
class Notice:
    """Something about a sender worth knowing that needs no action from apply.

    ``status`` is the sender's status (kinds ``status``, ``offline``) or its display name's review status
    (``rename_*``, with ``name`` the name under review); ``reasons`` are Twilio's offline reasons as
    ``(code, message)`` pairs. ``rename_blocked``: the file's name ``wanted`` waits for Meta's review of
    ``name``, and nothing is sent for it. ``unmatched_live``: a live sender without a ``sender_id`` or a
    ``sid`` (``sender_id`` then holds whichever it has, ``name`` the other's absence): left alone.
    """

    sender_id: str
    kind: NoticeKind
    status: str | None = None
    name: str | None = None
    reasons: tuple[tuple[Any, Any], ...] = ()
    wanted: str | None = None


@dataclass(frozen=True)
class Problem:
    """A sender the tool will not change as the file asks; apply skips it and exits 1.

    ``listed_twice`` names the two ``sids``; ``immutable_field`` the ``path`` and its ``before``/``after``;
    ``target_unmatched`` may carry in ``after`` the sender id the target probably meant; ``protected`` (a live
    sender the files protect but no longer declare: never deleted) carries there where they protect it.
    """

    sender_id: str
    kind: ProblemKind
    path: str | None = None
    before: Any = None
    after: Any = None
    sids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...] = ()
    notices: tuple[Notice, ...] = ()
    problems: tuple[Problem, ...] = ()
    #: How many live senders the account has (all of them, whatever the targets).
    live_count: int = 0
    #: How many of them the files could change (all but ignored ones and the sandbox, whatever the targets):
    #: what the safety thresholds weigh a plan against.
    managed_count: int = 0
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

    @property
    def declined_renames(self) -> tuple[Notice, ...]:
        """Display names the review refused, and names that wait for another's review: drift, though no
        action can fix them now."""
        return tuple(n for n in self.notices if n.kind in ("rename_failed", "rename_blocked"))

    @property
    def drifted(self) -> bool:
        """Live state differs from the file: any action (gated deletes too), a display name the review refused,
        or one that waits for Meta's review of another.

        A rename of the file's own name waiting for Meta's review is not drift.
        """
        return self.has_changes or bool(self.declined_renames)

    def drifted_senders(self) -> list[str]:
        return sorted({a.sender_id for a in self.actions} | {n.sender_id for n in self.declined_renames})

    def safety_violations(self, safety: Safety) -> tuple[SafetyViolation, ...]:
        """Each threshold the plan crosses (empty when it is safe)."""
        total = self.managed_count
        if total == 0 or total < safety.min_senders:
            return ()
        out = []
        for kind, limit in (("update", safety.max_update_percent), ("delete", safety.max_delete_percent)):
            count = sum(1 for a in self.allowed_actions if a.action == kind)
            if count and 100.0 * count / total > limit:
                out.append(SafetyViolation(kind, count, total, limit))
        return tuple(out)


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
        "friendly_name": live.friendly_name,
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
    have, twice, unmatched = _live_by_id(live)
    # The safety thresholds weigh a plan against every live sender the files could change, whatever the targets.
    managed_count = sum(1 for sender_id in have if _managed(sender_id, desired.ignore))
    draft = _Draft(notices=unmatched)
    wanted = dict(desired.by_id())
    for sender_id, sids in twice.items():  # which one is meant is unknown: neither is touched
        draft.problems.append(Problem(sender_id, "listed_twice", sids=tuple(sids)))
        wanted.pop(sender_id, None)
        del have[sender_id]

    target_set = _target_set(targets, have)
    if target_set:
        draft.problems.extend(_unmatched_targets(target_set, wanted, have))
        wanted, have = _only(wanted, target_set), _only(have, target_set)

    for sender_id in sorted(wanted):
        draft.sender(wanted[sender_id], have.get(sender_id))
    for sender_id in sorted(have.keys() - wanted.keys()):
        if sender_id in desired.protect:  # whatever deletes are allowed or forced
            draft.problems.append(Problem(sender_id, "protected", after=desired.protect[sender_id]))
        elif _managed(sender_id, desired.ignore):
            draft.delete(have[sender_id], allowed=allow_delete)
    return draft.plan(live_count=len(live), managed_count=managed_count, targets=target_set)


def _live_by_id(live: Iterable[LiveSender]) -> tuple[dict[str, LiveSender], dict[str, list[str]], list[Notice]]:
    """The live senders by sender id; the SIDs of each sender id listed more than once; a notice for each
    sender that cannot be matched."""
    have: dict[str, LiveSender] = {}
    twice: dict[str, list[str]] = {}
    unmatched: list[Notice] = []
    for sender in live:
        if not sender.matchable:  # nothing to match it by, or nothing to act on it with: never deleted
            unmatched.append(Notice(sender.sender_id or sender.sid, "unmatched_live",
                                    name="sender_id" if not sender.sender_id else "sid"))
        elif sender.sender_id in have:
            twice.setdefault(sender.sender_id, [have[sender.sender_id].sid]).append(sender.sid)
        else:
            have[sender.sender_id] = sender
    return have, twice, unmatched


def _managed(sender_id: str, ignore: frozenset[str]) -> bool:
    """Whether the files could change a live sender: neither ignored nor the sandbox."""
    return sender_id not in ignore and sender_id != SANDBOX_SENDER_ID


def _target_set(targets: Iterable[str], have: Mapping[str, LiveSender]) -> frozenset[str]:
    """The sender ids the plan is limited to (none: not limited). A live sender's SID names it too."""
    given = tuple(targets)
    if not given:
        return frozenset()
    by_sid = {s.sid: s.sender_id for s in have.values()}
    return frozenset(by_sid.get(t, t) for t in given)


def _unmatched_targets(
    target_set: frozenset[str], wanted: Mapping[str, DesiredSender], have: Mapping[str, LiveSender]
) -> list[Problem]:
    """A problem for each target that names no sender on either side, with the sender id it probably meant."""
    problems = []
    for target in sorted(target_set - wanted.keys() - have.keys()):
        meant = "whatsapp:" + target
        problems.append(Problem(target, "target_unmatched", after=meant if meant in wanted or meant in have else None))
    return problems


_T = TypeVar("_T")


def _only(senders: Mapping[str, _T], sender_ids: frozenset[str]) -> dict[str, _T]:
    return {k: v for k, v in senders.items() if k in sender_ids}


_ORDER = {"create": 0, "update": 1, "delete": 2}


@dataclass
class _Draft:
    """A plan being built: what planning has found so far, in the order found."""

    notices: list[Notice] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    prints: dict[str, str] = field(default_factory=dict)  # sender_id → fingerprint of what its action was planned from

    def sender(self, want: DesiredSender, current: LiveSender | None) -> None:
        """A sender of the file: created when it is not live, else updated as far as it differs (or a problem)."""
        if current is None:
            action, problem = plan_create(want)
        else:
            self.notices.extend(_status_notices(current))
            action, problem, notices = plan_update(want, current)
            self.notices.extend(notices)
        if problem:
            self.problems.append(problem)
        if action:
            self.act(action, current)

    def delete(self, current: LiveSender, *, allowed: bool) -> None:
        """A live sender that is not in the file: deleted, or only shown when deletes are not ``allowed``."""
        self.act(Action("delete", current.sender_id, sid=current.sid, allowed=allowed, status=current.status), current)

    def act(self, action: Action, current: LiveSender | None) -> None:
        self.actions.append(action)
        self.prints[action.sender_id] = fingerprint(current)

    def plan(self, *, live_count: int, managed_count: int, targets: frozenset[str]) -> Plan:
        """The frozen plan: everything sorted by sender id (actions of a sender in create, update, delete order)."""
        return Plan(
            actions=tuple(sorted(self.actions, key=lambda a: (a.sender_id, _ORDER[a.action]))),
            notices=tuple(sorted(self.notices, key=lambda n: (n.sender_id, n.kind))),
            problems=tuple(sorted(self.problems, key=lambda p: p.sender_id)),
            live_count=live_count,
            managed_count=managed_count,
            fingerprints=tuple(sorted(self.prints.items())),
            targets=tuple(sorted(targets)),
        )


def plan_create(want: DesiredSender) -> tuple[Action | None, Problem | None]:
    fields = desired_view(want)
    if not fields.get("profile.name"):
        return None, Problem(want.sender_id, "name_required")
    body: dict[str, Any] = {"sender_id": want.sender_id, **nest(fields)}
    changes = tuple(FieldChange(path, None, value) for path, value in fields.items())
    return Action("create", want.sender_id, changes=changes, body=body), None


def plan_update(
    want: DesiredSender, current: LiveSender
) -> tuple[Action | None, Problem | None, list[Notice]]:
    notices: list[Notice] = []
    changes: list[FieldChange] = []
    resubmits = None
    for change in sender_changes(want, current):
        if change.path in IMMUTABLE_FIELDS and change.before != "":
            problem = Problem(want.sender_id, "immutable_field", path=change.path, before=change.before, after=change.after)
            return None, problem, notices
        if change.path == "profile.name":
            keep, rename_notice, resubmits = _rename(change, current)
            if rename_notice:
                notices.append(rename_notice)
            if not keep:
                continue
        changes.append(change)
    if not changes:
        return None, None, notices
    body = nest({c.path: c.after for c in changes})
    return (
        Action("update", want.sender_id, sid=current.sid, changes=tuple(changes), body=body, status=current.status,
               resubmits=resubmits),
        None,
        notices,
    )


def _rename(change: FieldChange, current: LiveSender) -> tuple[bool, Notice | None, str | None]:
    """Decide a ``profile.name`` change in the light of Meta's display-name review.

    Returns (send the change?, a notice, the review status the change re-submits after).
    """
    pending, status = current.pending_display_name, current.pending_display_name_status
    if status == DISPLAY_NAME_BLOCKING and pending and pending != change.after:
        # Meta reviews one change at a time: another name is refused (409 / 63128) until this review ends.
        return False, Notice(current.sender_id, "rename_blocked", status=status, name=pending, wanted=change.after), None
    if pending != change.after or not status:
        return True, None, None
    notice = Notice(current.sender_id, "rename_pending", status=status, name=pending)
    if status in DISPLAY_NAME_IN_REVIEW:
        return False, notice, None
    if status in DISPLAY_NAME_RETRYABLE:
        return True, replace(notice, kind="rename_failed"), status
    if status in DISPLAY_NAME_FAILED:  # DECLINED: sending the same name again cannot succeed
        return False, replace(notice, kind="rename_failed"), None
    return True, None, None  # COMPLETED or a status this tool does not know: plan the change as usual


def offline_reasons(sender: LiveSender) -> tuple[tuple[Any, Any], ...]:
    """Twilio's offline reasons as ``(code, message)`` pairs."""
    return tuple((r.get("code"), r.get("message")) for r in (sender.offline_reasons or []) if isinstance(r, dict))


def _status_notices(current: LiveSender) -> list[Notice]:
    sid, status = current.sender_id, current.status
    if status == "PENDING_VERIFICATION":
        return [Notice(sid, "verification", status=status)]
    if status == "OFFLINE":
        return [Notice(sid, "offline", status=status, reasons=offline_reasons(current))]
    if status in TRANSIENT_STATUSES:
        return [Notice(sid, "status", status=status)]
    return []


# --------------------------------------------------------------------------- (de)serialisation


def plan_to_data(plan: Plan) -> dict[str, Any]:
    """The whole plan as plain JSON values, exact bodies included: what a saved plan stores.

    Independent of every rendering, so the saved-plan format changes only when the plan does.
    """
    return {
        "live_count": plan.live_count,
        "managed_count": plan.managed_count,
        "targets": list(plan.targets),
        "actions": [
            {
                "action": a.action, "sender_id": a.sender_id, "sid": a.sid, "allowed": a.allowed, "status": a.status,
                "resubmits": a.resubmits, "body": a.body,
                "changes": [{"path": c.path, "before": c.before, "after": c.after} for c in a.changes],
            }
            for a in plan.actions
        ],
        "notices": [
            {"sender_id": n.sender_id, "kind": n.kind, "status": n.status, "name": n.name,
             "reasons": [list(r) for r in n.reasons], "wanted": n.wanted}
            for n in plan.notices
        ],
        "problems": [
            {"sender_id": p.sender_id, "kind": p.kind, "path": p.path, "before": p.before, "after": p.after,
             "sids": list(p.sids)}
            for p in plan.problems
        ],
        "fingerprints": dict(plan.fingerprints),
    }


def plan_from_data(data: Any, where: str = "") -> Plan:
    """The inverse of :func:`plan_to_data`, strict: ``ValueError`` on anything it would not have written.

    A saved plan may be read without its signature checked (``reconciler show`` without a key), so every
    value is checked for the type the renderings expect, and each change for a field reconciler manages;
    the message starts with the value's place, under ``where`` (``accounts[0].actions[2].sid: ...``).
    """
    _SAVED_PLAN(data, where)
    return Plan(
        actions=tuple(
            Action(a["action"], a["sender_id"], a["sid"],
                   tuple(FieldChange(c["path"], c["before"], c["after"]) for c in a["changes"]), dict(a["body"]),
                   a["allowed"], a["status"], a["resubmits"])
            for a in data["actions"]
        ),
        notices=tuple(
            Notice(n["sender_id"], n["kind"], status=n["status"], name=n["name"],
                   reasons=tuple((code, message) for code, message in n["reasons"]), wanted=n.get("wanted"))
            for n in data["notices"]
        ),
        problems=tuple(
            Problem(p["sender_id"], p["kind"], path=p["path"], before=p["before"], after=p["after"], sids=tuple(p["sids"]))
            for p in data["problems"]
        ),
        live_count=data["live_count"],
        managed_count=data["managed_count"],
        fingerprints=tuple(sorted(data["fingerprints"].items())),
        targets=tuple(data["targets"]),
    )


#: Every field path a change may name: the managed fields of a sender, as :func:`sender_changes` names them.
FIELD_PATHS: frozenset[str] = frozenset(TOP_FIELDS) | {
    f"{section}.{name}" for section, model in (("configuration", Configuration), ("webhook", Webhook),
                                              ("profile", Profile)) for name in model.model_fields
}


def _kinds(kinds: tuple[str, ...]) -> shapes.Shape:
    return shapes.one_of(kinds, f"one of {', '.join(kinds)}")


_TEXT, _TEXT_OR_NULL, _FIELD = shapes.text(), shapes.text(null=True), shapes.one_of(FIELD_PATHS, "a field reconciler manages")
_SAVED_PLAN = shapes.members({
    "actions": shapes.list_of(shapes.members({
        "action": _kinds(get_args(ActionKind)), "sender_id": _TEXT, "sid": _TEXT_OR_NULL, "body": shapes.mapping(),
        "changes": shapes.list_of(shapes.members({"path": _FIELD, "before": shapes.anything, "after": shapes.anything})),
        "allowed": shapes.flag(), "status": _TEXT_OR_NULL, "resubmits": _TEXT_OR_NULL,
    })),
    "notices": shapes.list_of(shapes.members({
        "sender_id": _TEXT, "kind": _kinds(get_args(NoticeKind)), "status": _TEXT_OR_NULL, "name": _TEXT_OR_NULL,
        "reasons": shapes.list_of(shapes.list_of(shapes.anything, length=2)), "wanted": _TEXT_OR_NULL,
    }, optional=("wanted",))),
    "problems": shapes.list_of(shapes.members({
        "sender_id": _TEXT, "kind": _kinds(get_args(ProblemKind)), "before": shapes.anything, "after": shapes.anything,
        "path": shapes.one_of(FIELD_PATHS, "a field reconciler manages", null=True), "sids": shapes.list_of(_TEXT),
    })),
    "live_count": shapes.count(), "managed_count": shapes.count(), "fingerprints": shapes.mapping(_TEXT),
    "targets": shapes.list_of(_TEXT),
})
