"""Saved plans: ``reconciler plan --out FILE`` writes one, ``reconciler apply FILE`` applies exactly it.

A saved plan holds the actions with the exact bodies to send, and a fingerprint of every live sender
they were computed from. It holds no credentials and no verification codes. It is signed with
HMAC-SHA256 so an edited file is refused: the key is ``RECONCILER_PLAN_KEY`` when set, otherwise one
derived from the API secret in use (so plan and apply must use the same credentials, or share a key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler import __version__
from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.defaults import STDIN_NAME, STDIO
from reconciler.diff import fingerprint
from reconciler.errors import PlanFileError, ReconcilerError, StalePlanError
from reconciler.fs import read_regular, read_stdin
from reconciler.models import ACCOUNT_SID, LivePools, LiveSender, Safety
from reconciler.plan import plan_from_data, plan_to_data

KIND = "reconciler-plan"
#: 2: notices and problems as data (kind and values), no longer as sentences.
#: 3: one entry per account, each with its SID, so a plan cannot be applied to another account.
VERSION = "3"
PLAN_KEY_ENV = "RECONCILER_PLAN_KEY"
#: A saved plan larger than this is refused unread (10,000 actions take about 10 MB).
MAX_PLAN_BYTES = 64 * 1024 * 1024


def signing_key(secret: str, environ: Mapping[str, str] | None = None) -> bytes:
    """The HMAC key: ``RECONCILER_PLAN_KEY`` if set, else derived one-way from the API secret."""
    env = os.environ if environ is None else environ
    own = env.get(PLAN_KEY_ENV)
    material = own if own else secret
    return hashlib.sha256(b"reconciler saved plan v1\0" + material.encode()).digest()


def _canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def dump_plan(accounts: Sequence[AccountPlan], *, base_url: str, key: bytes, forced: bool) -> str:
    """The saved-plan document, signed."""
    payload = {
        "kind": KIND,
        "format_version": VERSION,
        "reconciler_version": __version__,
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "base_url": base_url,
        "forced": forced,
        # Per account: every action with the exact body apply will send, and the fingerprints it was planned from.
        "accounts": [
            {"sid": a.account.sid, "friendly_name": a.account.friendly_name, "sources": list(a.sources),
             "safety": a.safety.model_dump(), **plan_to_data(a.plan)}
            for a in accounts
        ],
    }
    signature = hmac.new(key, _canonical(payload), hashlib.sha256).hexdigest()
    return json.dumps({**payload, "signature": "hmac-sha256:" + signature}, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class SavedPlan:
    """A verified saved plan."""

    #: Each account's plan, ``forced`` when the plan was saved under ``--force``.
    accounts: tuple[AccountPlan, ...]
    base_url: str
    forced: bool
    created_at: str
    path: str


def load_plan(path: str | Path, *, key: bytes | None) -> SavedPlan:
    """Read and verify a saved plan; :class:`PlanFileError` if it is unreadable, edited or foreign.

    ``key=None`` reads it without checking the signature (``reconciler show`` without a key): never for apply.
    ``-`` reads it from standard input, named ``<stdin>`` in messages.
    """
    name = STDIN_NAME if _stdin(path) else str(path)
    doc = _document(path, name)
    _verify(doc, key, name)
    try:
        return _saved(doc, name)
    except ValueError as exc:
        raise PlanFileError(f"{name}: the saved plan is incomplete or malformed: {exc}") from None


def _stdin(path: str | Path) -> bool:
    """``-`` (the string, not a path to a file named so): standard input."""
    return isinstance(path, str) and path == STDIO


def _document(path: str | Path, name: str) -> dict[str, Any]:
    """The file's JSON object, of this kind and format; its signature not checked yet."""
    try:
        raw = read_stdin(limit=MAX_PLAN_BYTES) if _stdin(path) else read_regular(path, limit=MAX_PLAN_BYTES)
    except FileNotFoundError:
        raise PlanFileError(f"{name}: no such plan file") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PlanFileError(f"{name}: cannot read the plan file ({reason})") from None
    if not raw.strip() and _stdin(path):
        raise PlanFileError(f"{name}: standard input is empty; pipe a saved plan into it "
                            "(reconciler plan --out - ... | reconciler apply -)")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        hint = ""
        if name.endswith((".yaml", ".yml")):
            hint = f"; to plan and apply a desired-state file, give it with -f: reconciler apply -f {name}"
        raise PlanFileError(f"{name}: not a saved plan ({type(exc).__name__}: {exc}){hint}") from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise PlanFileError(f"{name}: not a reconciler saved plan")
    if doc.get("format_version") != VERSION:
        raise PlanFileError(f"{name}: plan format {doc.get('format_version')!r} is not supported (this is {VERSION})")
    return doc


def _verify(doc: dict[str, Any], key: bytes | None, name: str) -> None:
    """Take the signature out of ``doc`` and check it (with a key at hand)."""
    signature = doc.pop("signature", None)
    expected = "hmac-sha256:" + hmac.new(key or b"", _canonical(doc), hashlib.sha256).hexdigest()
    if key is not None and (not isinstance(signature, str) or not hmac.compare_digest(signature, expected)):
        raise PlanFileError(
            f"{name}: the plan's signature does not match: it was edited after it was written, or written "
            f"with other credentials (set {PLAN_KEY_ENV} to the same value for plan and apply to sign with a key of your own)"
        )


def _saved(doc: dict[str, Any], name: str) -> SavedPlan:
    """The plan the document holds, every value checked; ValueError naming the first that is wrong."""
    entries = doc.get("accounts")
    if not isinstance(entries, list) or not entries:
        raise ValueError("accounts: expected a list of one entry per account")
    base_url, forced, created_at = doc.get("base_url"), doc.get("forced"), doc.get("created_at")
    if not isinstance(base_url, str) or not isinstance(forced, bool) or not isinstance(created_at, str):
        raise ValueError("base_url, forced, created_at: expected a string, true or false, and a string")
    accounts = tuple(_account_from_data(entry, f"accounts[{i}]", forced) for i, entry in enumerate(entries))
    if len({a.account.sid for a in accounts}) < len(accounts):
        raise ValueError("accounts: it names an account twice")
    return SavedPlan(accounts, base_url=base_url, forced=forced, created_at=created_at, path=name)


def _account_from_data(entry: Any, where: str, forced: bool) -> AccountPlan:
    """One account's entry, every value of the type :func:`dump_plan` writes: the file may not have been verified."""
    plan = plan_from_data(entry, where)  # refuses an entry that is not an object, too
    friendly_name, sources = entry.get("friendly_name"), entry.get("sources", [])
    if friendly_name is not None and not isinstance(friendly_name, str):
        raise ValueError(f"{where}.friendly_name: expected a string or null")
    if not isinstance(sources, list) or not all(isinstance(source, str) for source in sources):
        raise ValueError(f"{where}.sources: expected a list of file names")
    try:
        safety = Safety.model_validate(entry.get("safety"))
    except ValidationError as exc:
        wrong = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'safety'}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{where}.safety: {wrong}") from None
    return AccountPlan(AccountRef(_sid(entry.get("sid"), f"{where}.sid"), friendly_name), plan, safety, forced,
                       tuple(sources))


def _sid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ACCOUNT_SID.match(value):
        raise ValueError(f"{where}: {value!r:.40} is not an account SID")
    return value


def check_fresh(saved: SavedPlan, account: AccountPlan, live: Sequence[LiveSender],
                pools: LivePools | None = None) -> None:
    """Refuse, naming the senders, when any sender the plan touches changed live since it was made: its fields, or
    the Messaging Services whose pools hold it when the plan moves it (``pools``: read for such a plan)."""
    by_id = {s.sender_id: s for s in live}
    moved = {a.sender_id for a in account.plan.actions if a.action == "pool" and a.sid is not None}
    stale = []
    for sender_id, expected in account.plan.fingerprints:
        now = by_id.get(sender_id)
        held = (pools or LivePools()).services_of(now.sid) if now is not None and sender_id in moved else None
        if fingerprint(now, held) == expected:
            continue
        if expected == "absent":
            stale.append(f"{sender_id} (planned create, but it exists now)")
        elif now is None:
            stale.append(f"{sender_id} (deleted since the plan)")
        else:
            stale.append(f"{sender_id} (changed since the plan)")
    if stale:
        where = f" (account {account.account.sid})" if len(saved.accounts) > 1 else ""
        raise StalePlanError(
            f"the saved plan {saved.path} is stale{where}; nothing was changed. Live senders differ from when it was "
            f"made ({saved.created_at}): " + ", ".join(stale) + ". Run plan again."
        )


def check_protected(saved: SavedPlan, account: AccountPlan, protected_now: Callable[[], Mapping[str, str]]) -> None:
    """Refuse a saved plan that deletes a sender its files protect now (``protect:`` added after the plan was made).

    ``protected_now`` reads the ``protect:`` lists of the plan's files as they are (sender id → where), and is
    called only when the plan deletes something. Files that cannot be read refuse the plan too: a delete is
    not undone, so it waits for a protection that can be checked.
    """
    deletes = [a.sender_id for a in account.plan.allowed_actions if a.action == "delete"]
    if not deletes:
        return
    try:
        protect = protected_now()
    except ReconcilerError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PlanFileError(f"{saved.path}: the plan deletes senders, and the files it was made from "
                            f"({', '.join(account.sources)}) cannot be read to check that none is protected now: "
                            f"{first}; nothing was changed") from None
    hit = [f"{sender_id} (protected at {protect[sender_id]})" for sender_id in deletes if sender_id in protect]
    if hit:
        where = f" (account {account.account.sid})" if len(saved.accounts) > 1 else ""
        raise StalePlanError(f"the saved plan {saved.path} deletes senders the files protect now{where}; nothing was "
                             "changed: " + ", ".join(hit) + ". Run plan again.")
