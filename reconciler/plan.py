"""The plan: a sorted, frozen tuple of create / update / delete actions computed from desired and live state.

Pure: no I/O. ``build_plan(desired, live)`` is the whole of planning; "no changes" is an empty plan,
never ``None``. It matches the file's senders with the live ones (by sender id, within the targets, minus
the ignored ones) and asks :mod:`reconciler.diff` what each one needs: an action, a *problem* (a sender the
tool refuses to touch as written, such as a ``waba_id`` change) or only *notices* (what the user should know
but the tool will not act on). Apply performs only allowed actions of a plan without problems for that sender.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args

from reconciler import shapes
from reconciler.diff import (
    Action,
    ActionKind,
    FieldChange,
    Notice,
    NoticeKind,
    Problem,
    ProblemKind,
    plan_create,
    plan_delete,
    plan_update,
    status_notices,
)
from reconciler.errors import SafetyViolation
from reconciler.models import (
    SANDBOX_SENDER_ID,
    TOP_FIELDS,
    Configuration,
    DesiredSender,
    DesiredState,
    LivePools,
    LiveSender,
    Profile,
    Safety,
    Webhook,
)
from reconciler.pools import SERVICE_PATH, leaves_pool, plan_pool, restamped
from reconciler.text import escape_control


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
    targets: tuple[str, ...] = ()

    @property
    def fingerprints(self) -> tuple[tuple[str, str], ...]:
        """sender_id → fingerprint of the live sender its action was planned from ("absent" for a create)."""
        return tuple(sorted({a.sender_id: a.planned_from for a in self.actions}.items()))

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "delete": 0, "pool": 0}
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
    def pool_conflicts(self) -> tuple[Notice, ...]:
        """Senders the file puts in one Messaging Service that several services' pools hold: drift, left alone."""
        return tuple(n for n in self.notices if n.kind == "several_services")

    @property
    def drifted(self) -> bool:
        """Live state differs from the file: any action (gated deletes too), a display name the review refused,
        one that waits for Meta's review of another, or a sender held by several services' pools.

        A rename of the file's own name waiting for Meta's review is not drift.
        """
        return self.has_changes or bool(self.declined_renames) or bool(self.pool_conflicts)

    def drifted_senders(self) -> list[str]:
        noticed = self.declined_renames + self.pool_conflicts
        return sorted({a.sender_id for a in self.actions} | {n.sender_id for n in noticed})

    def safety_violations(self, safety: Safety) -> tuple[SafetyViolation, ...]:
        """Each threshold the plan crosses (empty when it is safe)."""
        total = self.managed_count
        if total == 0 or total < safety.min_senders:
            return ()
        out = []
        for kind, limit in (("update", safety.max_update_percent), ("delete", safety.max_delete_percent)):
            # A sender taken out of its Messaging Service's pool counts as updated (once, with its fields).
            count = len({a.sender_id for a in self.allowed_actions if a.action == kind or (
                kind == "update" and leaves_pool(a))})
            if count and 100.0 * count / total > limit:
                out.append(SafetyViolation(kind, count, total, limit))
        return tuple(out)


# --------------------------------------------------------------------------- planning


def build_plan(
    desired: DesiredState,
    live: Sequence[LiveSender],
    *,
    allow_delete: bool = False,
    targets: Iterable[str] = (),
    pools: LivePools | None = None,
) -> Plan:
    """Compare ``desired`` with ``live`` and return the plan that makes live match the file.

    ``targets`` limits the plan to those sender ids (both sides); a target that matches no
    sender is a problem, so a typo cannot silently plan nothing. ``pools``: the account's Messaging
    Services and their pools, read when the files declare ``messaging_service`` (None: not read, and no
    sender's pool is planned).
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
    if pools is not None:
        draft.pools(wanted, have, pools, desired.service_declarations)
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


_ORDER = {"create": 0, "update": 1, "delete": 2, "pool": 3}


@dataclass
class _Draft:
    """A plan being built: what planning has found so far, in the order found."""

    notices: list[Notice] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    def sender(self, want: DesiredSender, current: LiveSender | None) -> None:
        """A sender of the file: created when it is not live, else updated as far as it differs (or a problem)."""
        if current is None:
            action, problem = plan_create(want)
        else:
            self.notices.extend(status_notices(current))
            action, problem, notices = plan_update(want, current)
            self.notices.extend(notices)
        if problem:
            self.problems.append(problem)
        if action:
            self.actions.append(action)

    def pools(self, wanted: Mapping[str, DesiredSender], have: Mapping[str, LiveSender], pools: LivePools,
              declared: Mapping[str, tuple[str, Any]]) -> None:
        """The Messaging Service of every sender whose file names one (or ``null``): after the senders, since a
        sender the plan creates joins its service only when its create is planned."""
        created = {a.sender_id for a in self.actions if a.action == "create"}
        for sender_id in sorted(wanted):
            place = declared.get(sender_id)
            action, problem, notice = plan_pool(wanted[sender_id], have.get(sender_id), pools,
                                                created=sender_id in created, source=place[0] if place else None)
            self.actions.extend([action] if action else [])
            self.problems.extend([problem] if problem else [])
            self.notices.extend([notice] if notice else [])
        self.actions = restamped(self.actions)

    def delete(self, current: LiveSender, *, allowed: bool) -> None:
        """A live sender that is not in the file: deleted, or only shown when deletes are not ``allowed``."""
        self.actions.append(plan_delete(current, allowed=allowed))

    def plan(self, *, live_count: int, managed_count: int, targets: frozenset[str]) -> Plan:
        """The frozen plan: everything sorted by sender id (actions of a sender in create, update, delete order)."""
        return Plan(
            actions=tuple(sorted(self.actions, key=lambda a: (a.sender_id, _ORDER[a.action]))),
            notices=tuple(sorted(self.notices, key=lambda n: (n.sender_id, n.kind))),
            problems=tuple(sorted(self.problems, key=lambda p: p.sender_id)),
            live_count=live_count,
            managed_count=managed_count,
            targets=tuple(sorted(targets)),
        )


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
             "sids": list(p.sids), "where": p.where}
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
    for i, a in enumerate(data["actions"]):
        _pool_action(a, f"{where + '.' if where else ''}actions[{i}]")
    prints = data["fingerprints"]
    odd = sorted(set(prints) ^ {a["sender_id"] for a in data["actions"]})
    if odd:
        raise ValueError(f"{where + '.' if where else ''}fingerprints: not one per sender of the actions: "
                         f"{escape_control(odd[0])!r} has {'no action' if odd[0] in prints else 'no fingerprint'}")
    return Plan(
        actions=tuple(
            Action(a["action"], a["sender_id"], a["sid"],
                   tuple(FieldChange(c["path"], c["before"], c["after"]) for c in a["changes"]), dict(a["body"]),
                   a["allowed"], a["status"], a["resubmits"], prints[a["sender_id"]])
            for a in data["actions"]
        ),
        notices=tuple(
            Notice(n["sender_id"], n["kind"], status=n["status"], name=n["name"],
                   reasons=tuple((code, message) for code, message in n["reasons"]), wanted=n.get("wanted"))
            for n in data["notices"]
        ),
        problems=tuple(
            Problem(p["sender_id"], p["kind"], path=p["path"], before=p["before"], after=p["after"], sids=tuple(p["sids"]),
                    where=p.get("where"))
            for p in data["problems"]
        ),
        live_count=data["live_count"],
        managed_count=data["managed_count"],
        targets=tuple(data["targets"]),
    )


#: Every field path a change may name: the managed fields of a sender, as :func:`sender_changes` names them, and
#: a pool action's ``messaging_service``.
FIELD_PATHS: frozenset[str] = frozenset(TOP_FIELDS) | {SERVICE_PATH} | {
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
        "where": _TEXT_OR_NULL,
    }, optional=("where",))),
    "live_count": shapes.count(), "managed_count": shapes.count(), "fingerprints": shapes.mapping(_TEXT),
    "targets": shapes.list_of(_TEXT),
})

_SERVICE = shapes.members({"sid": _TEXT, "friendly_name": _TEXT_OR_NULL})


def _service_or_null(value: Any, where: str) -> None:
    if value is not None:
        _SERVICE(value, where)


_POOL = shapes.members({
    "body": shapes.members({"remove": _TEXT_OR_NULL, "add": _TEXT_OR_NULL}),
    "changes": shapes.list_of(shapes.members({"path": shapes.one_of({SERVICE_PATH}, repr(SERVICE_PATH)),
                                              "before": _service_or_null, "after": _service_or_null}), length=1),
})
_NOT_POOL = shapes.members({"changes": shapes.list_of(shapes.members({
    "path": shapes.one_of(FIELD_PATHS - {SERVICE_PATH}, "a field reconciler manages")}))})


def _pool_action(action: Any, where: str) -> None:
    """A pool action's body and change as :mod:`reconciler.pools` writes them; no other action names the service."""
    (_POOL if action["action"] == "pool" else _NOT_POOL)(action, where)
