"""``reconciler import``: live senders brought under management in an existing desired-state file.

    imported = import_senders(session, "senders.yaml", ["whatsapp:+15017122662"])

Each sender is written as ``export`` writes it (:func:`reconciler.export.export_sender`, the file's
``defaults:`` taken into account), at the end of the file's ``senders:``, and nothing already in the file
changes (:class:`reconciler.config.edit.SendersText`). The file's account is the one its ``account:``
names, else the credentials' own, as for ``plan``: one file has one account. Every sender is checked
before anything is written; the file is written once, atomically, and only when the new text is valid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.config import MAX_FILE_BYTES, STDIO, load_text
from reconciler.config.edit import Entry, SendersText
from reconciler.config.reader import InputError, decode
from reconciler.errors import ConfigError, ConfigIssue, Location, ReconcilerError
from reconciler.export import Skipped, export_sender, note
from reconciler.fs import atomic_write, read_regular
from reconciler.models import SANDBOX_SENDER_ID, DesiredSender, LiveSender
from reconciler.plan import build_plan
from reconciler.session import Session
from reconciler.text import escape_control

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Imported:
    """What ``import`` wrote: the senders added to ``path``, the live values written as comments, and the
    fields the next plan would still change for a sender (a ``defaults:`` value the file cannot override)."""

    path: str
    sender_ids: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    remaining: tuple[tuple[str, tuple[str, ...]], ...] = ()


class ImportRefused(ReconcilerError):
    """A sender cannot be imported (declared already, not live, ...); nothing was written."""


def import_senders(session: Session, path: str, wanted: Sequence[str],
                   environ: Mapping[str, str] | None = None) -> Imported:
    """Add the live senders ``wanted`` (sender ids or ``XE…`` SIDs) to the file at ``path``; see the module."""
    raw, text = _read(path)
    env = os.environ if environ is None else environ
    default_account = session.parent.sid
    model, state = load_text(text, path, env, default_account)
    editor = SendersText(text, path)
    declared, ignored = editor.declared(), editor.ignored()
    ids = list(dict.fromkeys(wanted))
    refusals = [r for r in (_refusal(i, declared, ignored, state.by_id(), state.ignore, path) for i in ids) if r]
    if refusals:  # what the file alone refuses, before any request
        raise ImportRefused("nothing was imported: " + "; ".join(refusals))
    live = session.read_live(None if state.account in (None, default_account) else state.account)
    senders: dict[str, LiveSender] = {}  # by sender id: an id and its SID are one sender
    for given, sender in _live_senders(ids, live, state.account or default_account).items():
        if isinstance(sender, str):
            refusals.append(sender)
            continue
        refused = _refusal(sender.sender_id, declared, ignored, state.by_id(), state.ignore, path) or _unfit(sender)
        if refused:  # given by its SID: the file is checked again now that its id is known
            refusals.append(refused if given == sender.sender_id else f"{given} is {refused}")
        senders[sender.sender_id] = sender
    if refusals:
        raise ImportRefused("nothing was imported: " + "; ".join(dict.fromkeys(refusals)))
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for sender in senders.values():
        entry, left_out = export_sender(sender, model.defaults)
        entries.append((entry, [escape_control(note(s)) for s in left_out if s.value is not None]))
        skipped.extend(left_out)
    new_text = editor.with_senders(entries)
    _, new_state = load_text(new_text, path, env, default_account)  # never a file that does not load
    imported = tuple(senders)
    plan = build_plan(new_state, live, targets=imported)
    remaining = tuple((a.sender_id, tuple(c.path for c in a.changes)) for a in plan.actions)
    atomic_write(path, ("\ufeff" if raw.startswith(_BOM) else "") + new_text)
    return Imported(path, imported, tuple(skipped), remaining)


def _read(path: str) -> tuple[bytes, str]:
    """The file's bytes and text; one file that exists (import adds to a file, it does not make one)."""
    if path == STDIO:
        raise ImportRefused("import writes the senders into the file it reads: give its path, not -")
    if Path(path).is_dir():
        raise ImportRefused(f"{path}: a directory; import adds senders to one file of it: name the file")
    try:
        raw = read_regular(path, limit=MAX_FILE_BYTES)
    except FileNotFoundError:
        raise ImportRefused(f"{path}: no such file; import adds senders to an existing file "
                            "('reconciler export -o FILE' writes a new one)") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ImportRefused(f"{path}: cannot read the file ({reason})") from None
    try:
        return raw, decode(raw)
    except InputError as exc:
        raise ConfigError(ConfigIssue(Location(path, exc.line, exc.column), exc.message)) from None


def _refusal(sender_id: str, declared: Mapping[str, Location], ignored: Mapping[str, Location],
             senders: Mapping[str, DesiredSender], ignore: frozenset[str], path: str) -> str | None:
    """Why the file refuses ``sender_id`` (None: it does not)."""
    if sender_id in senders or sender_id in declared:
        return f"sender {sender_id}: already declared at {declared.get(sender_id, path)}"
    if sender_id in ignore or sender_id in ignored:
        return (f"sender {sender_id}: listed under ignore at {ignored.get(sender_id, path)}; take it out of ignore: "
                "to manage it")
    if sender_id == SANDBOX_SENDER_ID:
        return f"sender {sender_id}: this is Twilio's shared WhatsApp sandbox number; it cannot be managed"
    return None


def _unfit(sender: LiveSender) -> str | None:
    """Why a live sender cannot be declared at all (None: it can)."""
    try:
        DesiredSender.model_validate({"sender_id": sender.sender_id})
    except ValueError:
        return (f"sender {sender.sender_id}: its id is not 'whatsapp:' followed by an E.164 number, so no file can "
                "declare it (list it under ignore: to leave it alone)")
    return None


def _live_senders(ids: Sequence[str], live: Sequence[LiveSender], account: str | None) -> dict[str, LiveSender | str]:
    """Each id given → its live sender (by sender id, or by ``XE…`` SID), or why there is none."""
    by_id = {s.sender_id: s for s in live if s.sender_id}
    by_sid = {s.sid: s for s in live if s.sid}
    out: dict[str, LiveSender | str] = {}
    for given in ids:
        sender = by_id.get(given) or by_sid.get(given)
        if sender is not None:
            out[given] = sender
            continue
        meant = "whatsapp:" + given
        hint = f"; did you mean {meant}?" if meant in by_id else ""
        out[given] = f"sender {given}: not a live sender of account {account or 'of the credentials'}{hint}"
    return out
