"""How a sender's status and its display-name review move on as time passes.

Transitions are evaluated lazily: a record keeps, in ``rec["_emulator"]``, the time its next status
is due and when a display name under review is approved and applied; :func:`settle` applies what is
due whenever the store reads the record. Every function works on one record and takes ``now``.

    schedule(rec, now, "ONLINE", delay=10)    # CREATING now, ONLINE from now + 10
    settle(rec, now + 10)                     # True: the record changed
"""

from __future__ import annotations

import copy
from typing import Any

from reconciler.emulator.records import DEFAULT_PROPERTIES, PENDING_NAME_FIELDS, SECTION_NAMES, iso, parse_iso
from reconciler.emulator.validation import declined, in_progress

COMPLETED_REPORTED_FOR = 14 * 24 * 3600  # seconds a COMPLETED display-name change stays visible
#: The test hook (and seed key) that names the display names Meta declines for a sender, with Meta's reason.
DECLINES = "meta_declines"
#: The reason given for a declined name that no test named.
UNNAMED_REASON = "the display name does not meet Meta's display name guidelines"


def schedule(rec: dict[str, Any], now: float, to: str, delay: float) -> None:
    """Let the status become ``to`` once ``delay`` seconds have passed."""
    rec["_emulator"]["settle_to"] = to
    rec["_emulator"]["settle_at"] = now + delay


def settle(rec: dict[str, Any], now: float) -> bool:
    """Apply every transition whose time has come; return whether the record changed."""
    meta = rec["_emulator"]
    changed = False
    if meta["settle_to"] is not None and now >= meta["settle_at"]:
        changed = True
        rec["status"] = meta["settle_to"]
        meta["settle_to"] = meta["settle_at"] = None
        if rec["status"] == "ONLINE" and rec["properties"] is None:
            rec["properties"] = dict(DEFAULT_PROPERTIES)
    status = rec.get("pending_display_name_status")
    if status == "PENDING_REVIEW" and meta["approve_at"] is not None and now >= meta["approve_at"]:
        changed = True
        set_name_status(rec, "APPROVED", meta["approve_at"])
        meta["approve_at"] = None
        status = "APPROVED"
    if status == "APPROVED" and meta["apply_at"] is not None and now >= meta["apply_at"]:
        changed = True
        rec["profile"]["name"] = rec["pending_display_name"]
        set_name_status(rec, "COMPLETED", meta["apply_at"])
        meta["apply_at"] = None
        status = "COMPLETED"
    if status == "COMPLETED":
        when = parse_iso(rec.get("pending_display_name_status_date") or "")
        if when is not None and now - when > COMPLETED_REPORTED_FOR:
            changed = True
            for key in PENDING_NAME_FIELDS:
                rec.pop(key, None)
    return changed


def set_name_status(rec: dict[str, Any], status: str, when: float) -> None:
    rec["pending_display_name_status"] = status
    rec["pending_display_name_status_date"] = iso(when)


def submit_name(rec: dict[str, Any], name: str, now: float, review_delay: float | None) -> str:
    """Apply a ``profile.name`` from an update; return ``display_name_status``.

    ``review_delay``: seconds until Meta approves (at half) and the name is applied; None: never.
    Raises :class:`~reconciler.emulator.validation.ApiProblem`: 409 / 63128 for another name while one is in
    review, 400 / 63124 (with Meta's reason) for a name Meta declined or declines (:data:`DECLINES`).
    """
    pending = rec.get("pending_display_name")
    status = rec.get("pending_display_name_status")
    reasons = rec["_emulator"].get(DECLINES) or {}
    if pending == name and status == "PENDING_REVIEW":
        return "pending_review"
    if pending == name and status == "APPROVED":
        return "updating"  # already approved: straight to re-registration
    if name == rec["profile"]["name"]:
        return "no_change"  # nothing goes to Meta, so no second change either
    if status == "PENDING_REVIEW":  # Meta reviews one change per number at a time
        raise in_progress()
    if pending == name and status == "DECLINED":
        raise declined(name, reasons.get(name, UNNAMED_REASON))
    if name in reasons:
        raise declined(name, reasons[name])
    # A new name, or a retry after PIN_MISMATCH / REGISTRATION_FAILED / EXPIRED: (back) into review.
    rec["pending_display_name"] = name
    set_name_status(rec, "PENDING_REVIEW", now)
    meta = rec["_emulator"]
    if review_delay is None:
        meta["approve_at"] = meta["apply_at"] = None
    else:
        # Meta approves halfway through; the name is applied (COMPLETED) once review_delay has passed.
        meta["approve_at"] = now + review_delay / 2
        meta["apply_at"] = now + review_delay
    return "updating"


def override(rec: dict[str, Any], fields: dict[str, Any], now: float) -> None:
    """Set ``fields`` (``status``, ``offline_reasons``, ``pending_display_name*``, sections ...) as they are.

    Setting ``status`` cancels a scheduled transition; setting ``pending_display_name_status``
    cancels a scheduled review (``COMPLETED`` applies the pending name). ``meta_declines`` (:data:`DECLINES`),
    ``{name: reason}``, names the display names Meta declines for this sender. Raises ValueError for
    ``sender_id``, which never changes.
    """
    meta = rec["_emulator"]
    if "status" in fields:
        meta["settle_to"] = meta["settle_at"] = None
    if "pending_display_name_status" in fields:
        meta["approve_at"] = meta["apply_at"] = None
    for key, value in fields.items():
        if key == DECLINES:
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in [*value, *value.values()]):
                raise ValueError(f"{DECLINES} must map display names to Meta's reasons")
            meta[DECLINES] = dict(value)
        elif key in SECTION_NAMES and isinstance(value, dict):
            rec[key].update(copy.deepcopy(value))
        elif key == "sender_id":
            raise ValueError("sender_id cannot be changed")
        else:
            rec[key] = copy.deepcopy(value)
    if rec.get("pending_display_name_status") is None:
        for key in PENDING_NAME_FIELDS:
            rec.pop(key, None)
    else:
        if "pending_display_name_status" in fields and "pending_display_name_status_date" not in fields:
            rec["pending_display_name_status_date"] = iso(now)
        rec.setdefault("pending_display_name", rec["profile"]["name"])
        rec.setdefault("pending_display_name_status_date", iso(now))
        if fields.get("pending_display_name_status") == "COMPLETED":
            rec["profile"]["name"] = rec["pending_display_name"]
