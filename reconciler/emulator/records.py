"""A sender as the store keeps it (a record), and as the API shows it (its representation).

    rec = empty_record()
    render(rec, "http://127.0.0.1:8080")   # a fresh dict, every field of the spec's examples
    head, tail = encode_parts(rec)         # its JSON, split where the base URL goes

A record is a plain dict: the representation's fields (``friendly_name`` too, newer than the spec copy), and an
``_emulator`` dict of bookkeeping (sequence number, scheduled transitions, names Meta declines) that is never
shown. The pending display-name fields are served at the top level, where both SDKs read them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from reconciler.emulator.validation import CONFIG_FIELDS, PROFILE_FIELDS, WEBHOOK_FIELDS
from reconciler.models import SENDERS_PATH

#: What an ONLINE sender reports until a test sets something else.
DEFAULT_PROPERTIES = {"quality_rating": "HIGH", "messaging_limit": "1K Customers/24hr"}
#: Shown only while a display-name change is reported.
PENDING_NAME_FIELDS = ("pending_display_name", "pending_display_name_status", "pending_display_name_status_date")
SECTION_NAMES = ("configuration", "webhook", "profile")


def iso(epoch: float) -> str:
    """ISO 8601 in UTC, seconds precision, as Twilio writes dates."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float | None:
    """Seconds since the epoch of a date :func:`iso` wrote; None for anything else."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return None


def dumps(data: Any) -> str:
    """JSON as the API writes it: compact, UTF-8 text (not ``\\u`` escapes)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def empty_record() -> dict[str, Any]:
    """A record with every field unset."""
    return {
        "sid": None,
        "status": None,
        "sender_id": None,
        "friendly_name": None,
        "configuration": {k: None for k in CONFIG_FIELDS if k != "verification_code"},
        "webhook": {k: None for k in WEBHOOK_FIELDS},
        "profile": {k: None for k in PROFILE_FIELDS},
        "properties": None,
        "offline_reasons": None,
        "compliance": None,
        "_emulator": {"seq": 0, "settle_to": None, "settle_at": None, "approve_at": None, "apply_at": None},
    }


def copy_json(value: Any) -> Any:
    """A copy of a JSON value that is a scalar, a flat dict, or a list of those (cheaper than deepcopy)."""
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    return value


def _as_is(value: Any) -> Any:
    return value


def render(rec: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The API representation of a record (a fresh copy); ``url`` starts with ``base_url``."""
    return _view(rec, base_url, copy_json)


def encode_parts(rec: dict[str, Any]) -> tuple[bytes, bytes]:
    """``dumps(render(rec, base_url)).encode()`` split where the base URL goes, for any base URL.

    ``head + dumps(base_url)[:-1].encode() + tail`` is the whole: JSON writes an object as its
    members in order, and a string character by character, so each can be encoded in parts.
    """
    # A view sharing the record's lists and dicts is enough: it is encoded, then dropped.
    view = _view(rec, "", _as_is)
    keys = list(view)
    at = keys.index("url")
    before = dumps({k: view[k] for k in keys[:at]})
    after = dumps({k: view[k] for k in keys[at + 1 :]})
    path = dumps(f"{SENDERS_PATH}/{rec['sid']}")[1:]  # without its opening quote
    head = before[:-1] + ',"url":'
    tail = path + ("}" if after == "{}" else "," + after[1:])
    return head.encode(), tail.encode()


def _view(rec: dict[str, Any], base_url: str, copy_value: Callable[[Any], Any]) -> dict[str, Any]:
    """The API representation of ``rec``; its nested values pass through ``copy_value``."""
    cfg = rec["configuration"]
    prof = rec["profile"]
    out: dict[str, Any] = {
        "sid": rec["sid"],
        "status": rec["status"],
        "sender_id": rec["sender_id"],
        "friendly_name": rec.get("friendly_name"),
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
        "url": f"{base_url}{SENDERS_PATH}/{rec['sid']}",
    }
    if rec.get("pending_display_name_status") is not None:
        for key in PENDING_NAME_FIELDS:
            out[key] = rec.get(key)
    return out
