"""The emulator's senders: one account's records, in creation order, optionally saved to a file.

    store = SenderStore(state_file="senders-state.json", transition_delay=2, clock=time.time)
    sender = store.create({"sender_id": "whatsapp:+15017122661", "profile": {"name": "Acme"}})
    senders, next_after, previous_after, start = store.page(None, 20)

No HTTP here. Every public method takes the store's lock, so the HTTP handlers (on the server's
event loop) and test hooks (on any thread) can share one store. Reads settle what time has made due
(see :mod:`reconciler.emulator.lifecycle`) against ``clock``, which a test may move by hand.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.emulator import lifecycle, records
from reconciler.emulator.records import (
    DEFAULT_PROPERTIES,
    SECTION_NAMES,
    dumps,
    empty_record,
    encode_parts,
)
from reconciler.emulator.validation import (
    CODE_VALIDATION,
    SID_PATTERN,
    ApiProblem,
    invalid,
    not_found,
    validate_body,
)
from reconciler.fs import atomic_write

STATE_VERSION = 1

#: One page: ``(senders, next_after, previous_after, index_of_first)`` (see :meth:`SenderStore.page`).
Page = tuple[list[dict[str, Any]], int | None, int | None, int]


class SenderStore:
    """All senders of one emulated account, in creation order."""

    def __init__(
        self,
        *,
        state_file: str | os.PathLike[str] | None = None,
        transition_delay: float = 0.0,
        review_delay: float | None = None,
        clock: Callable[[], float] = time.time,
        on_save: Callable[[SenderStore], None] | None = None,
        on_delete: Callable[[str], None] | None = None,
    ):
        self.state_file = Path(state_file) if state_file else None
        #: Called after every change instead of writing ``state_file``: the server's state file holds
        #: every account's store (see :meth:`state_json`).
        self.on_save = on_save
        #: Called with a deleted sender's SID, after the store's lock is let go (its services take their own).
        self.on_delete = on_delete
        self.transition_delay = transition_delay
        self.review_delay = review_delay
        self.clock = clock
        self._base_url = "http://127.0.0.1"
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, Any]] = {}  # sid -> record, insertion = creation order
        self._by_sender_id: dict[str, str] = {}
        self._seq = 0
        # Each record's API representation as encoded JSON, by sid, for list pages: the bytes before
        # the base URL in its "url" and the bytes after it, so that the base URL (unknown until the
        # server starts, and changed by public_url) is not part of it. Every change to a record,
        # including those settling makes as time passes, drops its entry; the next page that includes
        # it encodes it again.
        self._encoded: dict[str, tuple[bytes, bytes]] = {}
        # The records in creation order and their sequence numbers, for finding a page's start by
        # bisection. None: to be rebuilt from _records (after a delete, a load, or a test hook setting
        # _emulator, which holds the sequence number).
        self._order: list[dict[str, Any]] | None = None
        self._order_seqs: list[int] = []
        self._order_sorted = True
        if self.state_file and self.state_file.exists():
            self._load()

    @property
    def base_url(self) -> str:
        """The base of the ``url`` in each sender."""
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value  # not in the cached encodings (see _encoded)

    def render(self, rec: dict[str, Any]) -> dict[str, Any]:
        """The API representation of a record (a fresh copy)."""
        return records.render(rec, self._base_url)

    # ------------------------------------------------------------------ bookkeeping

    def _changed(self, rec: dict[str, Any]) -> None:
        """Forget the encoded representation of ``rec``: call after every change to it."""
        self._encoded.pop(rec["sid"], None)

    def _settle(self, rec: dict[str, Any], now: float) -> None:
        if lifecycle.settle(rec, now):
            self._changed(rec)

    def _encode(self, rec: dict[str, Any]) -> tuple[bytes, bytes]:
        """:func:`~reconciler.emulator.records.encode_parts` of ``rec``, from the cache if it is there."""
        parts = self._encoded.get(rec["sid"])
        if parts is None:
            parts = self._encoded[rec["sid"]] = encode_parts(rec)
        return parts

    def _index(self) -> tuple[list[dict[str, Any]], list[int], bool]:
        """The records in creation order, their sequence numbers, and whether those ascend."""
        if self._order is None:
            self._order = list(self._records.values())
            self._order_seqs = [r["_emulator"]["seq"] for r in self._order]
            self._order_sorted = all(a < b for a, b in itertools.pairwise(self._order_seqs))
        return self._order, self._order_seqs, self._order_sorted

    # ------------------------------------------------------------------ persistence

    def _load(self) -> None:
        """Read the state file; raises ValueError (or OSError) naming what is wrong."""
        assert self.state_file is not None
        self.load_state(json.loads(self.state_file.read_text(encoding="utf-8")))

    def load_state(self, data: Any) -> None:
        """Add the senders of ``{"next_seq": N, "senders": [...]}`` (a state file's, or one account's in
        the server's); before the store is shared."""
        if not isinstance(data, dict) or not isinstance(data.get("senders", []), list):
            raise ValueError('expected {"version": 1, "senders": [...]}')
        self._encoded.clear()
        self._order = None
        for i, raw in enumerate(data.get("senders", [])):
            if not isinstance(raw, dict) or not isinstance(raw.get("sid"), str) or not raw.get("sender_id"):
                raise ValueError(f"senders[{i}] needs at least 'sid' and 'sender_id'")
            rec = empty_record()
            for key, value in raw.items():
                if key in (*SECTION_NAMES, "_emulator") and isinstance(value, dict):
                    rec[key].update(value)
                else:
                    rec[key] = value
            self._records[rec["sid"]] = rec
            self._by_sender_id[rec["sender_id"]] = rec["sid"]
        self._seq = max([data.get("next_seq", 0)] + [r["_emulator"]["seq"] + 1 for r in self._records.values()])

    def _save(self) -> None:
        """Write the state file, atomically (a reader never sees half of it)."""
        if self.on_save is not None:
            self.on_save(self)
            return
        if not self.state_file:
            return
        data = {"version": STATE_VERSION, "next_seq": self._seq, "senders": list(self._records.values())}
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.state_file, json.dumps(data, indent=1) + "\n")

    def state_json(self) -> str:
        """``{"next_seq": N, "senders": [...]}`` as JSON text: what :meth:`load_state` reads back."""
        with self._lock:
            return json.dumps({"next_seq": self._seq, "senders": list(self._records.values())}, indent=1)

    # ------------------------------------------------------------------ operations

    def _get(self, sid: str, now: float) -> dict[str, Any]:
        rec = self._records.get(sid)
        if rec is None:
            raise not_found(sid)
        self._settle(rec, now)
        return rec

    def _new_record(self, fields: dict[str, dict[str, Any]], sender_id: str, friendly_name: Any) -> dict[str, Any]:
        if sender_id in self._by_sender_id:
            raise ApiProblem(409, CODE_VALIDATION, "sender_id provided already exists")
        rec = empty_record()
        rec["sid"] = "XE" + uuid.uuid4().hex
        rec["sender_id"] = sender_id
        for section in SECTION_NAMES:
            for key, value in fields[section].items():
                if key != "verification_code":
                    rec[section][key] = value
        if friendly_name is not None:
            rec["friendly_name"] = friendly_name
        rec["_emulator"]["seq"] = self._seq
        self._seq += 1
        return rec

    def _insert(self, rec: dict[str, Any]) -> None:
        self._records[rec["sid"]] = rec
        self._by_sender_id[rec["sender_id"]] = rec["sid"]
        if self._order is not None:
            self._order.append(rec)
            seqs = self._order_seqs
            seq = rec["_emulator"]["seq"]
            if seqs and seq <= seqs[-1]:
                self._order_sorted = False
            seqs.append(seq)

    def create(self, body: Any) -> dict[str, Any]:
        fields = validate_body(body, create=True)
        with self._lock:
            now = self.clock()
            rec = self._new_record(fields, body["sender_id"], body.get("friendly_name"))
            rec["status"] = "CREATING"
            verify = fields["configuration"].get("verification_method")
            lifecycle.schedule(rec, now, "PENDING_VERIFICATION" if verify else "ONLINE", self.transition_delay)
            self._insert(rec)
            self._save()
            return self.render(rec)

    def fetch(self, sid: str) -> dict[str, Any]:
        with self._lock:
            return self.render(self._get(sid, self.clock()))

    def update(self, sid: str, body: Any) -> dict[str, Any]:
        with self._lock:
            now = self.clock()
            rec = self._get(sid, now)
            if isinstance(body, dict) and "sender_id" in body:
                if body["sender_id"] != rec["sender_id"]:
                    raise invalid("sender_id cannot be changed")
                body = {k: v for k, v in body.items() if k != "sender_id"}
            fields = validate_body(body, create=False)
            self._check_update(rec, fields)
            new, display_name_status = self._updated(rec, body, fields, now)
            rec.clear()
            rec.update(new)
            self._changed(rec)
            self._save()
            out = self.render(rec)
            if display_name_status is not None:
                out["display_name_status"] = display_name_status
            return out

    @staticmethod
    def _check_update(rec: dict[str, Any], fields: dict[str, dict[str, Any]]) -> None:
        """Refuse what a valid body may still not do to this sender."""
        cfg = fields["configuration"]
        current_waba = rec["configuration"].get("waba_id")
        if "waba_id" in cfg and cfg["waba_id"] != current_waba and current_waba is not None:
            raise invalid("configuration.waba_id cannot be changed")
        if cfg.get("verification_code") is not None and rec["status"] != "PENDING_VERIFICATION":
            raise invalid(
                f"configuration.verification_code can only be sent while the sender is PENDING_VERIFICATION "
                f"(it is {rec['status']})"
            )

    def _updated(
        self, rec: dict[str, Any], body: dict[str, Any], fields: dict[str, dict[str, Any]], now: float
    ) -> tuple[dict[str, Any], str | None]:
        """A copy of ``rec`` with the update applied, and the ``display_name_status`` to report."""
        name = fields["profile"].get("name")
        only_name = set(body) == {"profile"} and set(body["profile"]) == {"name"}
        # Work on a copy so a refused display name leaves the record as it was.
        new = copy.deepcopy(rec)
        display_name_status = None
        if name is not None:
            try:
                display_name_status = lifecycle.submit_name(new, name, now, self.review_delay)
            except ApiProblem:
                if only_name:
                    raise
                display_name_status = "error"
                new = copy.deepcopy(rec)
        for section in SECTION_NAMES:
            for key, value in fields[section].items():
                if key not in ("verification_code", "name"):
                    new[section][key] = value
        if "friendly_name" in body:
            new["friendly_name"] = body["friendly_name"]
        if fields["configuration"].get("verification_code") is not None:
            new["status"] = "VERIFYING"
            lifecycle.schedule(new, now, "ONLINE", self.transition_delay)
        elif new["status"] in ("ONLINE", "ONLINE:UPDATING"):
            new["status"] = "ONLINE:UPDATING"
            lifecycle.schedule(new, now, "ONLINE", self.transition_delay)
        return new, display_name_status

    def delete(self, sid: str) -> None:
        with self._lock:
            rec = self._records.get(sid)
            if rec is None:
                raise not_found(sid)
            del self._records[sid]
            self._by_sender_id.pop(rec["sender_id"], None)
            self._changed(rec)
            self._order = None
            self._save()
        if self.on_delete is not None:
            self.on_delete(sid)

    # ------------------------------------------------------------------ paging

    def _page(self, start_after: int | None, page_size: int) -> Page:
        """The records of a page, settled, with ``page``'s other values. Call with the lock held."""
        now = self.clock()
        records, seqs, ascending = self._index()
        start = 0
        if start_after is not None:
            if ascending:
                start = bisect.bisect_right(seqs, start_after)
            else:  # a state file written out of order: its order still rules
                start = next((i for i, seq in enumerate(seqs) if seq > start_after), len(records))
        chunk = records[start : start + page_size]
        for rec in chunk:
            self._settle(rec, now)
        next_after = seqs[start + page_size - 1] if start + page_size < len(records) else None
        previous_after: int | None = None
        if start > 0:
            prev_start = max(0, start - page_size)
            previous_after = -1 if prev_start == 0 else seqs[prev_start - 1]
        return chunk, next_after, previous_after, start

    def page(self, start_after: int | None, page_size: int) -> Page:
        """One page in creation order after sequence number ``start_after``.

        Returns ``(senders, next_after, previous_after, index_of_first)``; ``next_after`` is None on the
        last page, ``previous_after`` is -1 when the previous page is the first and None on the first page.
        """
        with self._lock:
            chunk, next_after, previous_after, start = self._page(start_after, page_size)
            return [self.render(rec) for rec in chunk], next_after, previous_after, start

    def page_json(self, start_after: int | None, page_size: int) -> tuple[bytes, int | None, int | None, int]:
        """:meth:`page` with the senders as one encoded JSON array, ``dumps(senders).encode()``.

        Built from each record's cached encoding, so a page costs about the copying of its bytes.
        """
        with self._lock:
            chunk, next_after, previous_after, start = self._page(start_after, page_size)
            base = dumps(self.base_url)[:-1].encode()  # without its closing quote
            parts: list[bytes] = []
            for rec in chunk:
                head, tail = self._encode(rec)
                parts += (b",", head, base, tail)
            if parts:
                parts[0] = b"["  # the first sender's comma
            else:
                parts.append(b"[")
            parts.append(b"]")
            return b"".join(parts), next_after, previous_after, start

    # ------------------------------------------------------------------ test hooks

    def add(self, body: dict[str, Any], status: str = "ONLINE", **extra: Any) -> dict[str, Any]:
        """Seed one sender as if it existed already; it keeps ``status`` until something changes it."""
        try:
            fields = validate_body(body, create=True)
        except ApiProblem as exc:
            raise ValueError(exc.message) from None
        with self._lock:
            try:
                rec = self._new_record(fields, body["sender_id"], body.get("friendly_name"))
            except ApiProblem as exc:
                raise ValueError(f"{body['sender_id']}: {exc.message}") from None
            rec["status"] = status
            if status == "ONLINE":
                rec["properties"] = dict(DEFAULT_PROPERTIES)
            self._apply_extra(rec, extra)
            self._insert(rec)
            self._save()
            self._encode(rec)  # seeded senders are usually listed next: encode them now, not on the first page
            return self.render(rec)

    def _apply_extra(self, rec: dict[str, Any], fields: dict[str, Any]) -> None:
        if "sid" in fields:
            sid = fields.pop("sid")
            if not SID_PATTERN.match(sid):
                raise ValueError(f"sid {sid!r} must be 'XE' followed by 32 hex digits")
            if sid != rec["sid"] and sid in self._records:
                raise ValueError(f"sid {sid} exists already")
            rec["sid"] = sid
        lifecycle.override(rec, fields, self.clock())

    def set_state(self, sid: str, /, **fields: Any) -> dict[str, Any]:
        """Set fields of sender ``sid`` as they are (``status``, ``properties``, ``sid`` ...); KeyError if unknown."""
        with self._lock:
            rec = self._records.get(sid)
            if rec is None:
                raise KeyError(sid)
            self._settle(rec, self.clock())
            self._changed(rec)
            old_sid = rec["sid"]
            self._apply_extra(rec, dict(fields))
            if rec["sid"] != old_sid:
                self._records = {(rec["sid"] if k == old_sid else k): v for k, v in self._records.items()}
                self._by_sender_id[rec["sender_id"]] = rec["sid"]
            if "_emulator" in fields:
                self._order = None
            self._save()
            return self.render(rec)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            now = self.clock()
            out = []
            for rec in self._records.values():
                self._settle(rec, now)
                out.append(self.render(rec))
            return out

    def get(self, sid: str) -> dict[str, Any] | None:
        with self._lock:
            rec = self._records.get(sid)
            if rec is None:
                return None
            self._settle(rec, self.clock())
            return self.render(rec)
