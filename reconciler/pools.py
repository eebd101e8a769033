"""One sender's Messaging Service: what the file's ``messaging_service:`` asks of its sender pool. Pure, no I/O.

A sender whose file writes ``messaging_service`` (a service's SID or friendly name, or ``null`` for none) is
compared with the pools the account's services hold (:class:`~reconciler.models.LivePools`); a sender that
does not is never looked at. What differs is a ``pool`` action of its own: leave the service it is in, join
the one the file names, or both (``body``: ``{"remove": MG… or None, "add": MG… or None}``). Its one change,
``messaging_service``, goes from the service it is in to the one it joins, each ``{"sid", "friendly_name"}``
or None. A sender the plan creates joins its service once it exists (``sid`` None: apply takes the SID the
create returns). A name that matches no service, or several, is a problem; a sender held by several pools
is a notice, and its pools are left alone.

    action, problem, notice = plan_pool(want, current, pools, created=False, source="senders.yaml")
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.diff import Action, FieldChange, Notice, Problem, ProblemKind, fingerprint
from reconciler.models import DesiredSender, LivePools, LiveSender, Service

#: The path of a pool action's one change.
SERVICE_PATH = "messaging_service"


def plan_pool(
    want: DesiredSender, current: LiveSender | None, pools: LivePools, *, created: bool, source: str | None = None,
) -> tuple[Action | None, Problem | None, Notice | None]:
    """What the file's ``messaging_service`` asks for ``want``: nothing, a pool action, a problem or a notice.

    ``current`` None: the sender is not live; ``created``: the plan creates it (else it gets no pool action
    either: a create the plan refuses has nothing to join). ``source``: the file that names the service,
    for a problem to point at.
    """
    if not want.manages_service or (current is None and not created):
        return None, None, None
    target: Service | None = None
    if want.messaging_service is not None:
        found = pools.matching(want.messaging_service)
        if len(found) != 1:
            kind: ProblemKind = "service_unknown" if not found else "service_ambiguous"
            return None, Problem(want.sender_id, kind, path=SERVICE_PATH, after=want.messaging_service,
                                 sids=tuple(s.sid for s in found), where=source), None
        target = found[0]
    held = pools.services_of(current.sid) if current is not None else ()
    if len(held) > 1:  # against what Twilio documents for numbers: which pool to keep is not guessed
        named = ", ".join(service_label(pools.service(sid)) for sid in held)
        return None, None, Notice(want.sender_id, "several_services", name=named)
    before = pools.service(held[0]) if held else None
    if (before.sid if before else None) == (target.sid if target else None):
        return None, None, None
    change = FieldChange(SERVICE_PATH, service_value(before), service_value(target))
    body = {"remove": before.sid if before else None, "add": target.sid if target else None}
    if current is None:
        return Action("pool", want.sender_id, changes=(change,), body=body), None, None
    return Action("pool", want.sender_id, sid=current.sid, changes=(change,), body=body, status=current.status,
                  planned_from=fingerprint(current, held)), None, None


def service_value(service: Service | None) -> dict[str, Any] | None:
    """A service as a pool change shows it: ``{"sid": "MG…", "friendly_name": "Sales"}``, or None for none."""
    return None if service is None else {"sid": service.sid, "friendly_name": service.friendly_name}


def service_label(service: Service | None) -> str:
    """``MG… (Sales)``, the SID alone when the service has no name, ``none`` for no service."""
    if service is None:
        return "none"
    return f"{service.sid} ({service.friendly_name})" if service.friendly_name else service.sid


def leaves_pool(action: Action) -> bool:
    """Whether a pool action takes the sender out of a service: weighed against the safety thresholds like an
    update."""
    return action.action == "pool" and bool(action.body.get("remove"))


def restamped(actions: list[Action]) -> list[Action]:
    """Every action of a sender with a pool action planned from the same state: its fields and its pools. A saved
    plan holds one fingerprint per sender, and a pool change depends on the pools as an update on the fields."""
    prints = {a.sender_id: a.planned_from for a in actions if a.action == "pool" and a.sid is not None}
    if not prints:
        return actions
    return [replace(a, planned_from=prints[a.sender_id]) if a.sender_id in prints else a for a in actions]
