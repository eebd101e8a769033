"""The emulator's senders: validation, the status lifecycle, display-name review, persistence.

No HTTP here. Every public method takes the store's lock, so the HTTP handlers (on the server's
event loop) and test hooks (on any thread) can share one store. Transitions are evaluated lazily:
each record keeps the time its next status is due, and every read compares it with the clock.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import json
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reconciler.models import DEFAULT_LABELS, LIST_ITEM_KEYS, VERTICALS

STATE_VERSION = 1
MORE_INFO = "https://www.twilio.com/docs/errors/{code}"
LIST_PATH = "/v2/Channels/Senders"

#: Error codes (docs/emulator.md lists them).
CODE_NOT_FOUND = 20404
CODE_INVALID_PARAMETER = 20001
CODE_VALIDATION = 63100
CODE_INVALID_WABA = 63101
#: A re-submitted display name that Meta already declined. Twilio documents no code for it; we reuse
#: the Senders API's validation code so clients treat it like any refused input.
CODE_NAME_DECLINED = CODE_VALIDATION

COMPLETED_REPORTED_FOR = 14 * 24 * 3600  # seconds a COMPLETED display-name change stays visible

_SENDER_ID = re.compile(r"^whatsapp:\+[1-9][0-9]{5,14}$")
_SID = re.compile(r"^XE[0-9a-fA-F]{32}$")
_VOICE_APP_SID = re.compile(r"^AP[0-9a-fA-F]{32}$")
_WABA_ID = re.compile(r"^[0-9]{1,32}$")
_OTP = re.compile(r"^[0-9]{4,10}$")
_PHONE = re.compile(r"^\+[1-9][0-9]{5,14}$")

CONFIG_FIELDS = ("waba_id", "verification_method", "verification_code", "voice_application_sid", "account_type")
WEBHOOK_FIELDS = (
    "callback_url",
    "callback_method",
    "fallback_url",
    "fallback_method",
    "status_callback_url",
    "status_callback_method",
)
PROFILE_FIELDS = (
    "name",
    "about",
    "address",
    "description",
    "logo_url",
    "banner_url",
    "privacy_url",
    "terms_of_service_url",
    "accent_color",
    "vertical",
    "websites",
    "emails",
    "phone_numbers",
)
#: Accepted because the official SDK models them, but not part of the WhatsApp spec: stored, not echoed.
SDK_ONLY_PROFILE_FIELDS = ("use_case",)
SDK_ONLY_TOP_FIELDS = ("friendly_name",)
LIST_FIELDS = tuple(LIST_ITEM_KEYS)  # emails, websites, phone_numbers
MAX_WEBSITES = 2

ENUMS: dict[str, tuple[str, ...]] = {
    "configuration.verification_method": ("sms", "voice"),
    "configuration.account_type": ("ISV", "ISVSubAccount", ""),
    "webhook.callback_method": ("POST", "PUT"),
    "webhook.fallback_method": ("POST", "PUT"),
    "webhook.status_callback_method": ("GET", "POST", "PUT"),
    "profile.vertical": VERTICALS,
}

SPEC_STATUSES = (
    "CREATING",
    "ONLINE",
    "OFFLINE",
    "PENDING_VERIFICATION",
    "VERIFYING",
    "ONLINE:UPDATING",
    "TWILIO_REVIEW",
    "DRAFT",
    "STUBBED",
)
NAME_STATUSES = (
    "PENDING_REVIEW",
    "APPROVED",
    "DECLINED",
    "PIN_MISMATCH",
    "REGISTRATION_FAILED",
    "EXPIRED",
    "COMPLETED",
)
NAME_RETRYABLE = frozenset({"PIN_MISMATCH", "REGISTRATION_FAILED", "EXPIRED"})
PENDING_NAME_FIELDS = ("pending_display_name", "pending_display_name_status", "pending_display_name_status_date")

DEFAULT_PROPERTIES = {"quality_rating": "HIGH", "messaging_limit": "1K Customers/24hr"}


class ApiProblem(Exception):
    """A request the API refuses: becomes ``{code, message, more_info, status}``."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }


def invalid(message: str, code: int = CODE_VALIDATION) -> ApiProblem:
    return ApiProblem(400, code, message)


def not_found(sid: str) -> ApiProblem:
    return ApiProblem(404, CODE_NOT_FOUND, f"The requested resource /v2/Channels/Senders/{sid} was not found")


def iso(epoch: float) -> str:
    """ISO 8601 in UTC, seconds precision, as Twilio writes dates."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(data: Any) -> str:
    """JSON as the API writes it: compact, UTF-8 text (not ``\\u`` escapes)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def parse_iso(value: str) -> float | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return None


# --------------------------------------------------------------------------- body validation


def _check_string(path: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise invalid(f"Invalid value for {path}: must be a string")
    if value is not None and path in ENUMS and value not in ENUMS[path]:
        allowed = ", ".join(repr(v) for v in ENUMS[path])
        raise invalid(f"Invalid value for {path}: {value!r} is not one of {allowed}")


def _check_section(name: str, block: Any, fields: tuple[str, ...], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise invalid(f"Invalid value for {name}: must be an object")
    for key in block:
        if key not in fields and key not in extra:
            raise invalid(f"Unknown field {name}.{key}")
    return block


def _normalise_list(path: str, field: str, value: Any) -> list[dict[str, str]] | None:
    """A list of plain strings or labelled objects → labelled objects with the default label filled in."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise invalid(f"Invalid value for {path}: must be a list")
    key = LIST_ITEM_KEYS[field]
    default = DEFAULT_LABELS[field]
    out = []
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        if isinstance(item, str):
            item = {key: item}
        if not isinstance(item, dict):
            raise invalid(f"Invalid value for {where}: must be a string or an object with {key!r} and 'label'")
        for k in item:
            if k not in (key, "label"):
                raise invalid(f"Unknown field {where}.{k}")
        text = item.get(key)
        if not isinstance(text, str) or not text:
            raise invalid(f"Invalid value for {where}.{key}: must be a non-empty string")
        label = item.get("label")
        if label is None:
            label = default
        if not isinstance(label, str):
            raise invalid(f"Invalid value for {where}.label: must be a string")
        if field == "emails" and "@" not in text:
            raise invalid(f"Invalid value for {where}.email: {text!r} is not an email address")
        if field == "websites" and not text.startswith(("http://", "https://")):
            raise invalid(f"Invalid value for {where}.website: {text!r} is not an http(s) URL")
        if field == "phone_numbers" and not _PHONE.match(text):
            raise invalid(f"Invalid value for {where}.phone_number: {text!r} is not an E.164 number")
        out.append({key: text, "label": label})
    if field == "websites" and len(out) > MAX_WEBSITES:
        raise invalid(f"Invalid value for {path}: at most {MAX_WEBSITES} websites are allowed")
    return out


def validate_body(body: Any, *, create: bool) -> dict[str, dict[str, Any]]:
    """Check a create or update body; return ``{section: {field: value}}`` of what it sets.

    Lists come back normalised. Raises :class:`ApiProblem` naming the first offending field.
    """
    if not isinstance(body, dict):
        raise invalid("Invalid request body: must be a JSON object")
    top = ("sender_id", "configuration", "webhook", "profile")
    for key in body:
        if key not in top and key not in SDK_ONLY_TOP_FIELDS:
            raise invalid(f"Unknown field {key}")
    if "friendly_name" in body:
        _check_string("friendly_name", body["friendly_name"])
    out: dict[str, dict[str, Any]] = {"configuration": {}, "webhook": {}, "profile": {}}
    for name, fields, extra in (
        ("configuration", CONFIG_FIELDS, ()),
        ("webhook", WEBHOOK_FIELDS, ()),
        ("profile", PROFILE_FIELDS, SDK_ONLY_PROFILE_FIELDS),
    ):
        block = _check_section(name, body.get(name), fields, extra)
        for key, value in block.items():
            path = f"{name}.{key}"
            if name == "profile" and key in LIST_FIELDS:
                out[name][key] = _normalise_list(path, key, value)
            else:
                _check_string(path, value)
                out[name][key] = value
    cfg = out["configuration"]
    if cfg.get("waba_id") and not _WABA_ID.match(cfg["waba_id"]):
        raise invalid(
            f"Invalid value for configuration.waba_id: {cfg['waba_id']!r} is not a WABA ID", CODE_INVALID_WABA
        )
    vas = cfg.get("voice_application_sid")
    if vas and not _VOICE_APP_SID.match(vas):
        raise invalid(f"Invalid value for configuration.voice_application_sid: {vas!r} is not an AP SID")
    if "verification_code" in cfg and cfg["verification_code"] is not None:
        if create:
            raise invalid("configuration.verification_code can only be sent in an update, once the sender is created")
        if not _OTP.match(cfg["verification_code"]):
            raise invalid("Invalid value for configuration.verification_code: must be 4 to 10 digits")
    prof = out["profile"]
    if prof.get("name") is not None and not prof["name"].strip():
        raise invalid("Invalid value for profile.name: must be a non-empty string")
    if create:
        sender_id = body.get("sender_id")
        if sender_id is None:
            raise invalid("Missing required field sender_id")
        if not isinstance(sender_id, str) or not _SENDER_ID.match(sender_id):
            raise invalid(f"Invalid value for sender_id: {sender_id!r} must be 'whatsapp:' followed by an E.164 number")
        if not prof.get("name"):
            raise invalid("Missing required field profile.name")
    return out


# --------------------------------------------------------------------------- the store


def _copy(value: Any) -> Any:
    """A copy of a JSON value that is a scalar, a flat dict, or a list of those (cheaper than deepcopy)."""
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _as_is(value: Any) -> Any:
    return value


def _empty_record() -> dict[str, Any]:
    return {
        "sid": None,
        "status": None,
        "sender_id": None,
        "configuration": {k: None for k in CONFIG_FIELDS if k != "verification_code"},
        "webhook": {k: None for k in WEBHOOK_FIELDS},
        "profile": {k: None for k in PROFILE_FIELDS},
        "properties": None,
        "offline_reasons": None,
        "compliance": None,
        "_emulator": {"seq": 0, "settle_to": None, "settle_at": None, "approve_at": None, "apply_at": None},
    }


class SenderStore:
    """All senders of the one emulated account, in creation order."""

    def __init__(
        self,
        *,
        state_file: str | os.PathLike[str] | None = None,
        transition_delay: float = 0.0,
        review_delay: float | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.state_file = Path(state_file) if state_file else None
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
        # including those _settle makes as time passes, drops its entry; the next page that includes
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

    def _changed(self, rec: dict[str, Any]) -> None:
        """Forget the encoded representation of ``rec``: call after every change to it."""
        self._encoded.pop(rec["sid"], None)

    def _index(self) -> tuple[list[dict[str, Any]], list[int], bool]:
        """The records in creation order, their sequence numbers, and whether those ascend."""
        if self._order is None:
            self._order = list(self._records.values())
            self._order_seqs = [r["_emulator"]["seq"] for r in self._order]
            seqs = self._order_seqs
            self._order_sorted = all(a < b for a, b in zip(seqs, seqs[1:]))
        return self._order, self._order_seqs, self._order_sorted

    # ------------------------------------------------------------------ persistence

    def _load(self) -> None:
        """Read the state file; raises ValueError (or OSError) naming what is wrong."""
        assert self.state_file is not None
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("senders", []), list):
            raise ValueError('expected {"version": 1, "senders": [...]}')
        self._encoded.clear()
        self._order = None
        for i, raw in enumerate(data.get("senders", [])):
            if not isinstance(raw, dict) or not isinstance(raw.get("sid"), str) or not raw.get("sender_id"):
                raise ValueError(f"senders[{i}] needs at least 'sid' and 'sender_id'")
            rec = _empty_record()
            for key, value in raw.items():
                if key in ("configuration", "webhook", "profile", "_emulator") and isinstance(value, dict):
                    rec[key].update(value)
                else:
                    rec[key] = value
            self._records[rec["sid"]] = rec
            self._by_sender_id[rec["sender_id"]] = rec["sid"]
        self._seq = max([data.get("next_seq", 0)] + [r["_emulator"]["seq"] + 1 for r in self._records.values()])

    def _save(self) -> None:
        """Write the state file atomically: a temporary file in the same folder, then ``os.replace``."""
        if not self.state_file:
            return
        data = {"version": STATE_VERSION, "next_seq": self._seq, "senders": list(self._records.values())}
        folder = self.state_file.parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.state_file.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=False)
                fh.write("\n")
            os.replace(tmp, self.state_file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # ------------------------------------------------------------------ lifecycle

    def _schedule(self, rec: dict[str, Any], now: float, to: str) -> None:
        rec["_emulator"]["settle_to"] = to
        rec["_emulator"]["settle_at"] = now + self.transition_delay

    def _settle(self, rec: dict[str, Any], now: float) -> None:
        """Apply every transition whose time has come."""
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
            self._set_name_status(rec, "APPROVED", meta["approve_at"])
            meta["approve_at"] = None
            status = "APPROVED"
        if status == "APPROVED" and meta["apply_at"] is not None and now >= meta["apply_at"]:
            changed = True
            rec["profile"]["name"] = rec["pending_display_name"]
            self._set_name_status(rec, "COMPLETED", meta["apply_at"])
            meta["apply_at"] = None
            status = "COMPLETED"
        if status == "COMPLETED":
            when = parse_iso(rec.get("pending_display_name_status_date") or "")
            if when is not None and now - when > COMPLETED_REPORTED_FOR:
                changed = True
                for key in PENDING_NAME_FIELDS:
                    rec.pop(key, None)
        if changed:
            self._changed(rec)

    @staticmethod
    def _set_name_status(rec: dict[str, Any], status: str, when: float) -> None:
        rec["pending_display_name_status"] = status
        rec["pending_display_name_status_date"] = iso(when)

    def _submit_name(self, rec: dict[str, Any], name: str, now: float) -> str:
        """Apply a ``profile.name`` from an update; return ``display_name_status``."""
        pending = rec.get("pending_display_name")
        status = rec.get("pending_display_name_status")
        if pending == name and status == "PENDING_REVIEW":
            return "pending_review"
        if pending == name and status == "APPROVED":
            return "updating"  # already approved: straight to re-registration
        if name == rec["profile"]["name"]:
            return "no_change"
        if pending == name and status == "DECLINED":
            raise invalid(
                f"The display name {name!r} was declined by Meta; submit a different name", CODE_NAME_DECLINED
            )
        # A new name, or a retry after PIN_MISMATCH / REGISTRATION_FAILED / EXPIRED: (back) into review.
        rec["pending_display_name"] = name
        self._set_name_status(rec, "PENDING_REVIEW", now)
        meta = rec["_emulator"]
        if self.review_delay is None:
            meta["approve_at"] = meta["apply_at"] = None
        else:
            # Meta approves halfway through; the name is applied (COMPLETED) once review_delay has passed.
            meta["approve_at"] = now + self.review_delay / 2
            meta["apply_at"] = now + self.review_delay
        return "updating"

    # ------------------------------------------------------------------ rendering

    def render(self, rec: dict[str, Any]) -> dict[str, Any]:
        """The API representation of a record (a fresh copy)."""
        return self._view(rec, _copy)

    def _encode(self, rec: dict[str, Any]) -> tuple[bytes, bytes]:
        """``dumps(render(rec)).encode()`` split where the base URL goes, from the cache if it is there.

        ``head + dumps(base_url)[:-1].encode() + tail`` is the whole: JSON writes an object as its
        members in order, and a string character by character, so each can be encoded in parts.
        """
        parts = self._encoded.get(rec["sid"])
        if parts is None:
            # A view sharing the record's lists and dicts is enough: it is encoded, then dropped.
            view = self._view(rec, _as_is)
            keys = list(view)
            at = keys.index("url")
            before = dumps({k: view[k] for k in keys[:at]})
            after = dumps({k: view[k] for k in keys[at + 1 :]})
            path = dumps(f"{LIST_PATH}/{rec['sid']}")[1:]  # without its opening quote
            head = before[:-1] + ',"url":'
            tail = path + ("}" if after == "{}" else "," + after[1:])
            parts = self._encoded[rec["sid"]] = (head.encode(), tail.encode())
        return parts

    def _view(self, rec: dict[str, Any], copy_value: Callable[[Any], Any]) -> dict[str, Any]:
        """The API representation of ``rec``; its nested values pass through ``copy_value``."""
        cfg = rec["configuration"]
        prof = rec["profile"]
        out: dict[str, Any] = {
            "sid": rec["sid"],
            "status": rec["status"],
            "sender_id": rec["sender_id"],
            "configuration": {
                "waba_id": cfg.get("waba_id"),
                "verification_method": cfg.get("verification_method"),
                "verification_code": None,
                "voice_application_sid": cfg.get("voice_application_sid"),
                "account_type": cfg.get("account_type"),
            },
            "webhook": {k: rec["webhook"].get(k) for k in WEBHOOK_FIELDS},
            "profile": {k: copy_value(prof.get(k)) for k in PROFILE_FIELDS},
            "compliance": None,
            "properties": copy_value(rec.get("properties")),
            "offline_reasons": copy_value(rec.get("offline_reasons")),
            "url": f"{self.base_url}{LIST_PATH}/{rec['sid']}",
        }
        if rec.get("pending_display_name_status") is not None:
            for key in PENDING_NAME_FIELDS:
                out[key] = rec.get(key)
        return out

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
        rec = _empty_record()
        rec["sid"] = "XE" + uuid.uuid4().hex
        rec["sender_id"] = sender_id
        for section in ("configuration", "webhook", "profile"):
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
            self._schedule(rec, now, "PENDING_VERIFICATION" if verify else "ONLINE")
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
            cfg, prof = fields["configuration"], fields["profile"]
            waba = cfg.get("waba_id")
            current_waba = rec["configuration"].get("waba_id")
            if "waba_id" in cfg and waba != current_waba and current_waba is not None:
                raise invalid("configuration.waba_id cannot be changed")
            code = cfg.get("verification_code")
            if code is not None and rec["status"] != "PENDING_VERIFICATION":
                raise invalid(
                    f"configuration.verification_code can only be sent while the sender is PENDING_VERIFICATION "
                    f"(it is {rec['status']})"
                )
            name = prof.get("name")
            only_name = set(body) == {"profile"} and set(body["profile"]) == {"name"}
            # Work on a copy so a refused display name leaves the record as it was.
            new = copy.deepcopy(rec)
            display_name_status = None
            if name is not None:
                try:
                    display_name_status = self._submit_name(new, name, now)
                except ApiProblem:
                    if only_name:
                        raise
                    display_name_status = "error"
                    new = copy.deepcopy(rec)
            for section in ("configuration", "webhook", "profile"):
                for key, value in fields[section].items():
                    if key in ("verification_code", "name"):
                        continue
                    new[section][key] = value
            if "friendly_name" in body:
                new["friendly_name"] = body["friendly_name"]
            if code is not None:
                new["status"] = "VERIFYING"
                self._schedule(new, now, "ONLINE")
            elif new["status"] in ("ONLINE", "ONLINE:UPDATING"):
                new["status"] = "ONLINE:UPDATING"
                self._schedule(new, now, "ONLINE")
            rec.clear()
            rec.update(new)
            self._changed(rec)
            self._save()
            out = self.render(rec)
            if display_name_status is not None:
                out["display_name_status"] = display_name_status
            return out

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

    def _page(self, start_after: int | None, page_size: int) -> tuple[list[dict[str, Any]], int | None, int | None, int]:
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

    def page(self, start_after: int | None, page_size: int) -> tuple[list[dict[str, Any]], int | None, int | None, int]:
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
            parts = []
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
        now = self.clock()
        if "sid" in fields:
            sid = fields.pop("sid")
            if not _SID.match(sid):
                raise ValueError(f"sid {sid!r} must be 'XE' followed by 32 hex digits")
            if sid != rec["sid"] and sid in self._records:
                raise ValueError(f"sid {sid} exists already")
            rec["sid"] = sid
        if "status" in fields:
            rec["_emulator"]["settle_to"] = rec["_emulator"]["settle_at"] = None
        if "pending_display_name_status" in fields:
            rec["_emulator"]["approve_at"] = rec["_emulator"]["apply_at"] = None
        for key, value in fields.items():
            if key in ("configuration", "webhook", "profile") and isinstance(value, dict):
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

    def set_state(self, sid: str, **fields: Any) -> dict[str, Any]:
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
